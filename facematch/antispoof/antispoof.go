// Package antispoof is FaceGate's passive presentation-attack detection:
// a single-frame network that tells a live face in front of the camera
// (bona fide) from a printed photo or a screen held to it (an attack), run
// by OpenCV's dnn module through gocv.
//
// The network is fr_liveness.onnx of the npm package
// faceplugin-face-recognition-js 0.0.1 (MIT; installed by
// scripts/faceplugin-models.sh), a MiniFASNet-style classifier with three
// outputs. Its input is the face's box widened 2.7× about its centre (less
// where the image ends, and shifted to stay inside it), resized to 128×128,
// raw 0–255 values. Which channel order the network wants and which of the
// three classes means "bona fide" are not documented; Spec records what
// was measured (docs/pad.md, `go run ./bench pad`).
//
// The package keeps no pixels: the crop and the network's input are zeroed
// before they are released.
package antispoof

import (
	"errors"
	"fmt"
	"image"
	"math"
	"path/filepath"
	"sync"

	"gocv.io/x/gocv"

	"github.com/facegate/facegate/facematch"
	"github.com/facegate/facegate/internal/modelfile"
)

// ErrModelFile is wrapped by the error of Open when the network file is
// not the one the Spec names (wrong sha256) or OpenCV cannot load it.
var ErrModelFile = errors.New("antispoof: bad network file")

// ErrFace is returned for a face box that is empty or outside the image.
var ErrFace = errors.New("antispoof: face box outside the image")

// Spec describes a passive presentation-attack network and its input.
type Spec struct {
	// Name names the network in reports and model IDs.
	Name string
	// File is the ONNX file in the model directory.
	File string
	// SHA256 is the hex sha256 of File.
	SHA256 string
	// Size is the side of the square input.
	Size int
	// Widen is how many times the face box is widened (about its centre)
	// before cropping.
	Widen float64
	// BGR feeds the channels in B, G, R order instead of R, G, B.
	BGR bool
	// Mean and Scale map an 8-bit value v to the input (v − Mean)·Scale.
	Mean, Scale float64
	// Classes is the number of network outputs (softmax-ed).
	Classes int
	// BonaFide is the output whose probability is the bona fide score.
	BonaFide int
	// Threshold is the default operating point: a face whose bona fide
	// score is at least Threshold passes.
	Threshold float64
}

// FRLiveness is fr_liveness.onnx of faceplugin-face-recognition-js 0.0.1.
// The package's own code (lib/fr_liveness.js) widens the box 2.7×, feeds
// R, G, B (OpenCV.js reads a canvas as RGBA) and takes the softmax of
// output 0 as its score. Measured by `go run ./bench pad` on
// ../shared/testdata/pad (bench/results/pad, docs/pad.md), B, G, R with
// output 0 as bona fide separates best (AUC 0.71 on print+replay where
// dlib found a face; R, G, B gives 0.39 with output 0 and at best 0.62).
//
// Threshold is the ISO/IEC 30107-3 operating point of the goal,
// BPCER ≤ 5 % on the pad/ bona fide photos, read off the same run (so it
// is in-sample): the largest bona fide score threshold with BPCER ≤ 5 %,
// 0.0011. There the network passes 79 % of print and replay attacks: it
// rejects only the attacks it is most sure of, and the active challenge
// (facematch/liveness) carries the gate's defence. At the network's own
// 0.5 the figures are APCER 26 % and BPCER 36 % on pad/ (4.9 % on faces/,
// 6.9 % on lfw/).
var FRLiveness = Spec{
	Name: "fr_liveness", File: "fr_liveness.onnx",
	SHA256: "afa783b7e902fdfcf323a7240cac2a1c580c25314ea4161129dc1b0d100dc32d",
	Size:   128, Widen: 2.7, BGR: true, Mean: 0, Scale: 1, Classes: 3, BonaFide: 0,
	Threshold: 0.0011,
}

// Specs lists the passive networks FaceGate knows.
var Specs = []Spec{FRLiveness}

// ID names the network and its preparation, for reports and audit logs.
func (s Spec) ID() string {
	h := s.SHA256
	if len(h) > 12 {
		h = h[:12]
	}
	order := "rgb"
	if s.BGR {
		order = "bgr"
	}
	return fmt.Sprintf("antispoof/%s/onnx-%s/in%d-%s-widen%g-class%d", s.Name, h, s.Size, order, s.Widen, s.BonaFide)
}

// Net is an opened passive check. It is safe for concurrent use; the
// network runs one face at a time.
type Net struct {
	spec Spec

	mu     sync.Mutex
	net    gocv.Net
	closed bool
}

// Open loads spec's network from the model directory dir after checking
// its sha256.
func Open(dir string, spec Spec) (*Net, error) {
	if spec.Size <= 0 || spec.Classes < 2 || spec.BonaFide < 0 || spec.BonaFide >= spec.Classes || !(spec.Widen >= 1) || !(spec.Scale > 0) {
		return nil, fmt.Errorf("antispoof: spec %q: size %d, classes %d, bona fide class %d, widen %g, scale %g", spec.Name, spec.Size, spec.Classes, spec.BonaFide, spec.Widen, spec.Scale)
	}
	path := filepath.Join(dir, spec.File)
	if err := modelfile.Check(path, spec.SHA256, ErrModelFile); err != nil {
		return nil, fmt.Errorf("antispoof: %w", err)
	}
	net := gocv.ReadNetFromONNX(path)
	if net.Empty() {
		return nil, fmt.Errorf("%w: OpenCV cannot load %s", ErrModelFile, path)
	}
	return &Net{spec: spec, net: net}, nil
}

// Spec returns the network's Spec.
func (n *Net) Spec() Spec { return n.spec }

// Crop returns the rectangle of img (w×h pixels) the network sees for a
// face box: box widened Widen× about its centre, at most to the image's
// size, shifted to lie inside the image.
func Crop(box image.Rectangle, w, h int, widen float64) (image.Rectangle, error) {
	bw, bh := float64(box.Dx()), float64(box.Dy())
	if bw < 1 || bh < 1 || w < 2 || h < 2 || !box.Overlaps(image.Rect(0, 0, w, h)) {
		return image.Rectangle{}, fmt.Errorf("%w: box %v in a %d×%d image", ErrFace, box, w, h)
	}
	scale := math.Min(math.Min(float64(h-1)/bh, float64(w-1)/bw), widen)
	nw, nh := bw*scale, bh*scale
	cx, cy := float64(box.Min.X)+bw/2, float64(box.Min.Y)+bh/2
	x0, y0, x1, y1 := cx-nw/2, cy-nh/2, cx+nw/2, cy+nh/2
	if x0 < 0 {
		x1, x0 = x1-x0, 0
	}
	if y0 < 0 {
		y1, y0 = y1-y0, 0
	}
	if x1 > float64(w-1) {
		x0, x1 = x0-(x1-float64(w-1)), float64(w-1)
	}
	if y1 > float64(h-1) {
		y0, y1 = y0-(y1-float64(h-1)), float64(h-1)
	}
	r := image.Rect(int(math.Max(x0, 0)), int(math.Max(y0, 0)), int(x1), int(y1)).Intersect(image.Rect(0, 0, w, h))
	if r.Dx() < 1 || r.Dy() < 1 {
		return image.Rectangle{}, fmt.Errorf("%w: box %v in a %d×%d image", ErrFace, box, w, h)
	}
	return r, nil
}

// Probabilities returns the network's softmax output for the face in box
// of the 8-bit BGR image img.
func (n *Net) Probabilities(img gocv.Mat, box image.Rectangle) ([]float64, error) {
	if img.Empty() || img.Type() != gocv.MatTypeCV8UC3 {
		return nil, fmt.Errorf("antispoof: %w: want a non-empty 8-bit BGR image", facematch.ErrDecode)
	}
	r, err := Crop(box, img.Cols(), img.Rows(), n.spec.Widen)
	if err != nil {
		return nil, err
	}
	roi := img.Region(r)
	chip := gocv.NewMat()
	gocv.Resize(roi, &chip, image.Pt(n.spec.Size, n.spec.Size), 0, 0, gocv.InterpolationLinear)
	roi.Close() // a view: never wiped, it would zero img
	defer wipe(&chip)
	s := n.spec
	blob := gocv.BlobFromImage(chip, s.Scale, image.Pt(s.Size, s.Size), gocv.NewScalar(s.Mean, s.Mean, s.Mean, 0), !s.BGR, false)
	defer wipe(&blob)
	n.mu.Lock()
	if n.closed {
		n.mu.Unlock()
		return nil, facematch.ErrClosed
	}
	n.net.SetInput(blob, "")
	out := n.net.Forward("")
	v, err := out.DataPtrFloat32()
	logits := append([]float32(nil), v...)
	out.Close()
	n.mu.Unlock()
	if err != nil {
		return nil, fmt.Errorf("antispoof: network output: %w", err)
	}
	if len(logits) != s.Classes {
		return nil, fmt.Errorf("antispoof: network gave %d values, want %d", len(logits), s.Classes)
	}
	return softmax(logits)
}

// Score returns the bona fide probability of the face in box of the 8-bit
// BGR image img: near 1 for a live face, near 0 for an attack.
func (n *Net) Score(img gocv.Mat, box image.Rectangle) (float64, error) {
	p, err := n.Probabilities(img, box)
	if err != nil {
		return 0, err
	}
	return p[n.spec.BonaFide], nil
}

func softmax(z []float32) ([]float64, error) {
	m := math.Inf(-1)
	for _, v := range z {
		m = math.Max(m, float64(v))
	}
	p := make([]float64, len(z))
	var sum float64
	for i, v := range z {
		p[i] = math.Exp(float64(v) - m)
		sum += p[i]
	}
	if !(sum > 0) || math.IsInf(sum, 0) {
		return nil, fmt.Errorf("antispoof: %w", facematch.ErrNotFinite)
	}
	for i := range p {
		p[i] /= sum
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

// wipe zeroes a Mat that owns its pixels and releases it.
func wipe(m *gocv.Mat) {
	if !m.Empty() {
		m.SetTo(gocv.Scalar{})
	}
	m.Close()
}
