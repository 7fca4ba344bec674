// Package eyestate tells open eyes from closed ones in a single frame with
// fr_eye.onnx of the npm package faceplugin-face-recognition-js 0.0.1 (MIT;
// installed by scripts/faceplugin-models.sh), run by OpenCV's dnn module
// through gocv. It is the pixel-based alternative to the eye-aspect ratio
// of the landmarks (facematch/liveness EAR); docs/pad.md compares the two.
//
// Preparation as the package's lib/fr_eye.js does it: each eye's square
// box is centred on the mean of its four lid landmarks (37, 38, 40, 41 and
// 43, 44, 46, 47 of the 68, counted from 0 as 36–47), its side 1.6× the
// distance between the eye's corners; the crop is resized to 24×24, made
// grey and scaled to v/255. The package reads an RGBA canvas as if it were
// BGR before the grey conversion, so its grey weighs red 0.114 and blue
// 0.299; Closed does the same. Its output is two logits; which one means
// "closed" is not documented and was measured (ClosedClass).
//
// The package keeps no pixels: every crop is zeroed before release.
package eyestate

import (
	"errors"
	"fmt"
	"image"
	"math"
	"path/filepath"
	"sync"

	"gocv.io/x/gocv"

	"github.com/facegate/facegate/facematch"
	"github.com/facegate/facegate/facematch/faceplugin"
	"github.com/facegate/facegate/internal/modelfile"
)

// File and SHA256 name the network in the model directory.
const (
	File   = "fr_eye.onnx"
	SHA256 = "1afcea006abc1ccac3c517022abde0aa092bed74ff3c9fe6878483ef9e6e38de"
)

// ClosedClass is the output whose softmax probability is "eye closed":
// measured on the bona fide photos of ../shared/testdata (faces/, lfw/ and
// pad/ bona fide, where almost every eye is open), output 1 is the
// majority class, so output 0 means closed (docs/pad.md).
const ClosedClass = 0

// size is the side of the network's square grey input.
const size = 24

// padding is how many times the eye's corner-to-corner width the crop's
// side is.
const padding = 1.6

// ErrModelFile is wrapped by the error of Open when fr_eye.onnx is not the
// pinned file or OpenCV cannot load it.
var ErrModelFile = errors.New("eyestate: bad network file")

// ErrEye is returned when an eye's box is empty or outside the image, or
// the landmarks are not 68 points.
var ErrEye = errors.New("eyestate: eye outside the image")

// Net is an opened eye-state network. It is safe for concurrent use; the
// network runs one eye at a time.
type Net struct {
	mu     sync.Mutex
	net    gocv.Net
	closed bool
}

// Open loads fr_eye.onnx from the model directory dir after checking its
// sha256.
func Open(dir string) (*Net, error) {
	path := filepath.Join(dir, File)
	if err := modelfile.Check(path, SHA256, ErrModelFile); err != nil {
		return nil, fmt.Errorf("eyestate: %w", err)
	}
	net := gocv.ReadNetFromONNX(path)
	if net.Empty() {
		return nil, fmt.Errorf("%w: OpenCV cannot load %s", ErrModelFile, path)
	}
	return &Net{net: net}, nil
}

// Box returns the square crop lib/fr_eye.js takes for one eye (0 the
// subject's right eye, landmarks 36–41; 1 the left, 42–47) of 68
// landmarks in a w×h image: centred on the four lid points, side 1.6× the
// corner-to-corner width, its corner moved inside the image and its side
// cut to fit.
func Box(lm []image.Point, eye, w, h int) (image.Rectangle, error) {
	if len(lm) != 68 || eye < 0 || eye > 1 {
		return image.Rectangle{}, fmt.Errorf("%w: %d landmarks, eye %d", ErrEye, len(lm), eye)
	}
	f := 36 + 6*eye
	cx := (lm[f+1].X + lm[f+2].X + lm[f+4].X + lm[f+5].X) / 4
	cy := (lm[f+1].Y + lm[f+2].Y + lm[f+4].Y + lm[f+5].Y) / 4
	side := int(float64(lm[f+3].X-lm[f].X) * padding)
	// the package's parseInt(c - side/2): the half side is not rounded
	x, y := max(int(float64(cx)-float64(side)/2), 0), max(int(float64(cy)-float64(side)/2), 0)
	if x+side >= w {
		side = w - x - 1
	}
	if y+side >= h {
		side = h - y - 1
	}
	if side < 2 {
		return image.Rectangle{}, fmt.Errorf("%w: eye %d box side %d at (%d, %d) in a %d×%d image", ErrEye, eye, side, x, y, w, h)
	}
	return image.Rect(x, y, x+side, y+side), nil
}

// Closed returns the probability that each eye (0 right, 1 left, as Box)
// is closed, for the face with 68 landmarks lm in the 8-bit BGR image img.
func (n *Net) Closed(img gocv.Mat, lm []image.Point) ([2]float64, error) {
	var p [2]float64
	if img.Empty() || img.Type() != gocv.MatTypeCV8UC3 {
		return p, fmt.Errorf("eyestate: %w: want a non-empty 8-bit BGR image", facematch.ErrDecode)
	}
	for eye := range 2 {
		r, err := Box(lm, eye, img.Cols(), img.Rows())
		if err != nil {
			return p, err
		}
		if p[eye], err = n.closedProb(img, r); err != nil {
			return p, err
		}
	}
	return p, nil
}

func (n *Net) closedProb(img gocv.Mat, r image.Rectangle) (float64, error) {
	roi := img.Region(r)
	chip := gocv.NewMat()
	gocv.Resize(roi, &chip, image.Pt(size, size), 0, 0, gocv.InterpolationLinear)
	roi.Close() // a view: never wiped, it would zero img
	defer faceplugin.Wipe(&chip)
	grey := gocv.NewMat()
	defer faceplugin.Wipe(&grey)
	gocv.CvtColor(chip, &grey, gocv.ColorRGBToGray) // the package's weights (see the package doc)
	blob := gocv.BlobFromImage(grey, 1.0/255, image.Pt(size, size), gocv.NewScalar(0, 0, 0, 0), false, false)
	defer faceplugin.Wipe(&blob)
	n.mu.Lock()
	if n.closed {
		n.mu.Unlock()
		return 0, facematch.ErrClosed
	}
	n.net.SetInput(blob, "")
	out := n.net.Forward("")
	v, err := out.DataPtrFloat32()
	logits := append([]float32(nil), v...)
	out.Close()
	n.mu.Unlock()
	if err != nil {
		return 0, fmt.Errorf("eyestate: network output: %w", err)
	}
	if len(logits) != 2 {
		return 0, fmt.Errorf("eyestate: network gave %d values, want 2", len(logits))
	}
	a, b := float64(logits[ClosedClass]), float64(logits[1-ClosedClass])
	p := 1 / (1 + math.Exp(b-a)) // softmax of two
	if math.IsNaN(p) {
		return 0, fmt.Errorf("eyestate: %w", facematch.ErrNotFinite)
	}
	return p, nil
}

// Close releases the network. Calls after Close return facematch.ErrClosed.
func (n *Net) Close() error {
	n.mu.Lock()
	defer n.mu.Unlock()
	if !n.closed {
		n.closed = true
		n.net.Close()
	}
	return nil
}
