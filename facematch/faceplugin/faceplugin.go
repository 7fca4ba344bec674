// Package faceplugin is FaceGate's all-ONNX face front end: it finds faces
// with the detector fr_detect.onnx and places 68 landmarks on each with
// fr_landmark.onnx, both from the npm package faceplugin-face-recognition-js
// 0.0.1 (MIT; installed by scripts/faceplugin-models.sh), run by OpenCV's
// dnn module through gocv.
//
// It replaces dlib's HOG detector and Debian's 68-point shape predictor
// (whose iBUG 300-W training data forbids commercial use) in front of an
// embedding network: a Detector is a facematch/arcface Landmarker, and it
// hands arcface the decoded image so that a photo is decoded once.
//
// Detection: the whole image is resized to 320×240 (as the package does),
// fed as R,G,B with (v − 127)/128, and the network's 4,420 prior boxes,
// already decoded to corners in [0, 1], are kept above Config.MinScore and
// thinned by non-maximum suppression. Each kept box is made square (side =
// its height, centred) as the package does before landmarking.
//
// Landmarks: the square box is cropped, resized to 64×64 grey, fed as v/256,
// and the 136 outputs are (x, y) pairs relative to the box, in the iBUG
// 300-W 68-point order dlib uses.
//
// Every pixel buffer the package makes (decoded image, resized copies,
// network inputs) is zeroed before it is released. Nothing is written.
package faceplugin

import (
	"errors"
	"fmt"
	"image"
	"math"
	"path/filepath"
	"runtime"
	"sort"
	"sync"

	"gocv.io/x/gocv"

	"github.com/facegate/facegate/facematch"
	"github.com/facegate/facegate/internal/modelfile"
)

// The network files and their sha256, as scripts/faceplugin-models.sh
// installs them from the pinned npm tarball.
const (
	DetectFile     = "fr_detect.onnx"
	DetectSHA256   = "6c0256ccd3164f844736a401faf936ec2930764a87ae39442180887d0c5c8854"
	LandmarkFile   = "fr_landmark.onnx"
	LandmarkSHA256 = "f10b0ba1d2a8a099adefede1ebf3733e44fe370715e7303dbeb7f59c02142258"
)

// ModelFiles lists the files Open needs in the model directory.
var ModelFiles = []string{DetectFile, LandmarkFile}

const (
	detW, detH = 320, 240 // detector input
	priors     = 4420     // detector output rows
	lmSide     = 64       // landmark input
	lmPoints   = 68
)

// DefaultMinScore is the default Config.MinScore: the face probability a
// detector box needs. The package's own 0.65 let one false box through on
// the 41 colour photos (a patch of background in biden/2.jpg, which the
// gate then refuses as "more than one face"); from 0.85 a real face of a
// group photo is lost. TestScoreThreshold recomputes it: the smallest
// threshold at which every portrait (as it is and in a 640×480 camera
// frame) shows one face and every group photo its count; one of the 1,054
// LFW photos loses its face there (docs/faceplugin.md, "Front end").
const DefaultMinScore = 0.8

// DefaultNMS is the default Config.NMS: boxes overlapping a stronger one by
// more than this intersection over union are dropped.
const DefaultNMS = 0.4

// DefaultMaxPixels is the default Config.MaxPixels:
// facematch.DefaultMaxPixels (24 megapixels).
const DefaultMaxPixels = facematch.DefaultMaxPixels

// ErrTooLarge is wrapped (with facematch.ErrDecode) by the error of Extract
// for an image larger than Config.MaxPixels; it is facematch.ErrTooLarge.
var ErrTooLarge = facematch.ErrTooLarge

// ErrModelFile is wrapped by the error of Open when a network file is not
// the pinned one (wrong sha256) or OpenCV cannot load it.
var ErrModelFile = errors.New("faceplugin: bad network file")

// Config sets up a Detector. The zero value is usable.
type Config struct {
	// Workers is the number of images processed at once, each with its own
	// copy of the two networks (about 2.4 MB of weights). Zero means
	// runtime.NumCPU().
	Workers int
	// MaxPixels is the largest image (width × height) Extract decodes; a
	// larger one is refused from its header. Zero means DefaultMaxPixels.
	MaxPixels int
	// MinScore is the face probability a box needs. Zero means
	// DefaultMinScore.
	MinScore float32
	// NMS is the overlap (IoU) above which the weaker of two boxes is
	// dropped. Zero means DefaultNMS.
	NMS float32
}

// nets is one worker's pair of networks: gocv.Net is not safe for
// concurrent use.
type nets struct {
	det, lm gocv.Net
}

// Detector finds faces and their 68 landmarks. It is safe for concurrent
// use; Config.Workers images are processed at once.
type Detector struct {
	cfg Config

	// mu is held for reading by every call and for writing by Close, which
	// so waits until no network is in use.
	mu     sync.RWMutex
	closed bool
	pool   chan *nets
	all    []*nets
}

// Open loads cfg.Workers copies of the detector and landmark networks from
// the model directory dir, after checking each file's sha256.
func Open(dir string, cfg Config) (*Detector, error) {
	if cfg.Workers < 0 || cfg.MaxPixels < 0 || cfg.MinScore < 0 || cfg.MinScore >= 1 || cfg.NMS < 0 || cfg.NMS > 1 {
		return nil, fmt.Errorf("faceplugin: bad Config %+v", cfg)
	}
	if cfg.Workers == 0 {
		cfg.Workers = runtime.NumCPU()
	}
	if cfg.MaxPixels == 0 {
		cfg.MaxPixels = DefaultMaxPixels
	}
	if cfg.MinScore == 0 {
		cfg.MinScore = DefaultMinScore
	}
	if cfg.NMS == 0 {
		cfg.NMS = DefaultNMS
	}
	det := filepath.Join(dir, DetectFile)
	lm := filepath.Join(dir, LandmarkFile)
	// The checksums also guarantee files OpenCV 4.6 imports: one it cannot
	// parse would abort the process inside gocv (a C++ exception).
	for _, f := range [][2]string{{det, DetectSHA256}, {lm, LandmarkSHA256}} {
		if err := modelfile.Check(f[0], f[1], ErrModelFile); err != nil {
			return nil, fmt.Errorf("faceplugin: %w", err)
		}
	}
	d := &Detector{cfg: cfg, pool: make(chan *nets, cfg.Workers)}
	for range cfg.Workers {
		n := &nets{det: gocv.ReadNetFromONNX(det), lm: gocv.ReadNetFromONNX(lm)}
		d.all = append(d.all, n)
		if n.det.Empty() || n.lm.Empty() {
			d.release()
			return nil, fmt.Errorf("%w: OpenCV cannot load %s or %s", ErrModelFile, det, lm)
		}
		d.pool <- n
	}
	return d, nil
}

// Workers returns the number of images processed at once.
func (d *Detector) Workers() int { return d.cfg.Workers }

// Extract returns every face in the encoded image data (JPEG or PNG), with
// its Box and 68 Landmarks and no Descriptor, strongest detection first.
// Data that Go cannot parse as a JPEG or PNG header, or that declares more
// than Config.MaxPixels pixels, gives an error wrapping facematch.ErrDecode
// before any pixel is decoded. No face gives an empty slice.
func (d *Detector) Extract(data []byte) ([]facematch.Face, error) {
	img, err := d.Decode(data)
	if err != nil {
		return nil, err
	}
	defer Wipe(&img)
	return d.Find(img)
}

// Decode decodes the JPEG or PNG data into an 8-bit BGR Mat (grey images
// get three equal channels), after checking its header against
// Config.MaxPixels. The EXIF orientation is ignored, as dlib ignores it, so
// that every backend sees the same pixels. The caller releases the Mat with
// Wipe.
func (d *Detector) Decode(data []byte) (gocv.Mat, error) {
	if d.isClosed() {
		return gocv.Mat{}, facematch.ErrClosed
	}
	return Decode(data, d.cfg.MaxPixels)
}

// Decode is Detector.Decode with an explicit pixel limit.
func Decode(data []byte, maxPixels int) (gocv.Mat, error) {
	if err := facematch.CheckSize(data, maxPixels); err != nil {
		return gocv.Mat{}, fmt.Errorf("faceplugin: %w", err)
	}
	m, err := gocv.IMDecode(data, gocv.IMReadColor|gocv.IMReadIgnoreOrientation)
	if err != nil || m.Empty() {
		Wipe(&m)
		return gocv.Mat{}, fmt.Errorf("faceplugin: %w: OpenCV cannot decode the image", facematch.ErrDecode)
	}
	return m, nil
}

// ExtractImage is Extract for a decoded image whose bounds start at (0, 0).
func (d *Detector) ExtractImage(img image.Image) ([]facematch.Face, error) {
	if d.isClosed() {
		return nil, facematch.ErrClosed
	}
	m, err := ToMat(img)
	if err != nil {
		return nil, err
	}
	defer Wipe(&m)
	return d.Find(m)
}

// ToMat copies a decoded Go image into an 8-bit BGR Mat. The caller
// releases it with Wipe.
func ToMat(img image.Image) (gocv.Mat, error) {
	if img == nil || img.Bounds().Empty() {
		return gocv.Mat{}, fmt.Errorf("faceplugin: %w: empty image", facematch.ErrDecode)
	}
	b := img.Bounds()
	if b.Min != (image.Point{}) {
		return gocv.Mat{}, fmt.Errorf("faceplugin: image bounds %v do not start at (0,0)", b)
	}
	if rgba, ok := img.(*image.RGBA); ok && rgba.Stride != 4*b.Dx() {
		// gocv reads Pix as if rows were contiguous: copy a sub-image.
		c := image.NewRGBA(image.Rect(0, 0, b.Dx(), b.Dy()))
		defer clear(c.Pix)
		for y := 0; y < b.Dy(); y++ {
			copy(c.Pix[y*c.Stride:(y+1)*c.Stride], rgba.Pix[y*rgba.Stride:])
		}
		img = c
	}
	m, err := gocv.ImageToMatRGB(img) // 8-bit BGR despite the name
	if err != nil {
		return gocv.Mat{}, fmt.Errorf("faceplugin: %w: %v", facematch.ErrDecode, err)
	}
	return m, nil
}

// Find returns every face in the 8-bit BGR image img, strongest first. img
// is not modified.
func (d *Detector) Find(img gocv.Mat) ([]facematch.Face, error) {
	d.mu.RLock()
	defer d.mu.RUnlock()
	if d.closed {
		return nil, facematch.ErrClosed
	}
	if img.Empty() || img.Type() != gocv.MatTypeCV8UC3 {
		return nil, fmt.Errorf("faceplugin: %w: want a non-empty 8-bit BGR image", facematch.ErrDecode)
	}
	n := <-d.pool
	defer func() { d.pool <- n }()
	boxes, err := d.detect(n.det, img)
	if err != nil {
		return nil, err
	}
	faces := make([]facematch.Face, 0, len(boxes))
	for _, b := range boxes {
		lm, err := landmarks(n.lm, img, b.r)
		if err != nil {
			return nil, err
		}
		faces = append(faces, facematch.Face{Box: b.r, Landmarks: lm})
	}
	return faces, nil
}

// scored is a detector box in input-normalized corners with its score.
type scored struct {
	x1, y1, x2, y2, score float32
}

// detection is a square face box in image coordinates with its score.
type detection struct {
	r     image.Rectangle
	score float32
}

// detect returns the square face boxes of img in image coordinates,
// strongest first. NMS keeps a box unless a stronger kept box overlaps
// it, so the boxes kept at a higher MinScore are exactly those kept here
// that score at least as much (TestScoreThreshold relies on it).
func (d *Detector) detect(net gocv.Net, img gocv.Mat) ([]detection, error) {
	blob := gocv.BlobFromImage(img, 1.0/128, image.Pt(detW, detH), gocv.NewScalar(127, 127, 127, 0), true, false)
	defer Wipe(&blob)
	net.SetInput(blob, "input")
	outs := net.ForwardLayers([]string{"scores", "boxes"})
	defer func() {
		for i := range outs {
			outs[i].Close()
		}
	}()
	if len(outs) != 2 {
		return nil, fmt.Errorf("faceplugin: detector gave %d outputs, want 2", len(outs))
	}
	scores, err := outs[0].DataPtrFloat32()
	if err != nil {
		return nil, fmt.Errorf("faceplugin: detector scores: %w", err)
	}
	corners, err := outs[1].DataPtrFloat32()
	if err != nil {
		return nil, fmt.Errorf("faceplugin: detector boxes: %w", err)
	}
	if len(scores) != 2*priors || len(corners) != 4*priors {
		return nil, fmt.Errorf("faceplugin: detector gave %d scores and %d box values, want %d and %d", len(scores), len(corners), 2*priors, 4*priors)
	}
	var cand []scored
	for i := range priors {
		s := scores[2*i+1]
		if !(s >= d.cfg.MinScore) {
			continue
		}
		c := corners[4*i : 4*i+4]
		if !(c[2] > c[0] && c[3] > c[1]) {
			continue // degenerate or NaN
		}
		cand = append(cand, scored{c[0], c[1], c[2], c[3], s})
	}
	kept := nms(cand, d.cfg.NMS)
	w, h := float64(img.Cols()), float64(img.Rows())
	out := make([]detection, 0, len(kept))
	for _, b := range kept {
		r := square(float64(b.x1)*w, float64(b.y1)*h, float64(b.x2)*w, float64(b.y2)*h, w, h)
		if r.Dx() >= 2 && r.Dy() >= 2 {
			out = append(out, detection{r, b.score})
		}
	}
	return out, nil
}

// nms keeps the strongest boxes, dropping every box whose intersection
// over union with a stronger kept one exceeds thresh.
func nms(c []scored, thresh float32) []scored {
	sort.SliceStable(c, func(i, j int) bool { return c[i].score > c[j].score })
	var kept []scored
	for _, b := range c {
		ok := true
		for _, k := range kept {
			if iou(b, k) > thresh {
				ok = false
				break
			}
		}
		if ok {
			kept = append(kept, b)
		}
	}
	return kept
}

func iou(a, b scored) float32 {
	ix := min(a.x2, b.x2) - max(a.x1, b.x1)
	iy := min(a.y2, b.y2) - max(a.y1, b.y1)
	if ix <= 0 || iy <= 0 {
		return 0
	}
	inter := ix * iy
	union := (a.x2-a.x1)*(a.y2-a.y1) + (b.x2-b.x1)*(b.y2-b.y1) - inter
	return inter / union
}

// square returns the square of side y2 − y1 centred on the box, clipped to
// the w×h image, as the package prepares boxes for its landmark network.
func square(x1, y1, x2, y2, w, h float64) image.Rectangle {
	side := y2 - y1
	cx, cy := (x1+x2)/2, (y1+y2)/2
	r := image.Rect(int(math.Round(cx-side/2)), int(math.Round(cy-side/2)), int(math.Round(cx+side/2)), int(math.Round(cy+side/2)))
	return r.Intersect(image.Rect(0, 0, int(w), int(h)))
}

// landmarks returns the 68 points of the face in box.
func landmarks(net gocv.Net, img gocv.Mat, box image.Rectangle) ([]image.Point, error) {
	region := img.Region(box)
	grey := gocv.NewMat()
	gocv.CvtColor(region, &grey, gocv.ColorBGRToGray)
	region.Close() // a view into img: nothing of its own to zero
	defer Wipe(&grey)
	blob := gocv.BlobFromImage(grey, 1.0/256, image.Pt(lmSide, lmSide), gocv.NewScalar(0, 0, 0, 0), false, false)
	defer Wipe(&blob)
	net.SetInput(blob, "input")
	out := net.Forward("")
	v, err := out.DataPtrFloat32()
	pts := append([]float32(nil), v...)
	out.Close()
	if err != nil {
		return nil, fmt.Errorf("faceplugin: landmark output: %w", err)
	}
	if len(pts) != 2*lmPoints {
		return nil, fmt.Errorf("faceplugin: landmark network gave %d values, want %d", len(pts), 2*lmPoints)
	}
	w, h := float64(box.Dx()), float64(box.Dy())
	lm := make([]image.Point, lmPoints)
	for i := range lm {
		x, y := float64(pts[2*i]), float64(pts[2*i+1])
		if math.IsNaN(x) || math.IsNaN(y) || math.IsInf(x, 0) || math.IsInf(y, 0) {
			return nil, fmt.Errorf("faceplugin: %w: landmark %d", facematch.ErrNotFinite, i)
		}
		lm[i] = image.Pt(box.Min.X+int(math.Round(x*w)), box.Min.Y+int(math.Round(y*h)))
	}
	return lm, nil
}

// Wipe zeroes the pixels of a Mat the caller made (a decoded image, a copy,
// a network input) and releases it. Never call it on a Region: that would
// zero the image it views.
func Wipe(m *gocv.Mat) {
	if m.Ptr() != nil && !m.Empty() {
		m.SetTo(gocv.Scalar{})
	}
	if m.Ptr() != nil {
		m.Close()
	}
}

func (d *Detector) isClosed() bool {
	d.mu.RLock()
	defer d.mu.RUnlock()
	return d.closed
}

// Close releases the networks, waiting for calls in progress. Later calls
// return facematch.ErrClosed.
func (d *Detector) Close() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closed {
		return facematch.ErrClosed
	}
	d.closed = true
	return d.release()
}

func (d *Detector) release() error {
	var errs []error
	for _, n := range d.all {
		errs = append(errs, n.det.Close(), n.lm.Close())
	}
	d.all = nil
	return errors.Join(errs...)
}
