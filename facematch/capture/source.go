// Package capture turns a camera, a video file or a directory of images into
// frames for FaceGate's extractor, and measures what only pixels tell about a
// face: sharpness and exposure.
//
// Frames stay in memory. A Source never writes a file; a Frame's pixel
// buffer is zeroed before it is released (Frame.Close), and Image copies a
// frame into a Go image that Wipe zeroes once the extractor is done with it.
// Measure combines the pixel measures with the landmark measures of
// facematch/quality into one quality.Measurement for the gate.
//
// capture is one of the module's cgo packages: it uses OpenCV 4.6 through
// gocv.io/x/gocv.
package capture

import (
	"errors"
	"fmt"
	"image"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"gocv.io/x/gocv"
)

var (
	// ErrOpen is returned (wrapped) when a camera, video or directory cannot
	// be opened.
	ErrOpen = errors.New("capture: cannot open source")
	// ErrRead is returned (wrapped) when an open camera delivers no frame.
	ErrRead = errors.New("capture: cannot read frame")
	// ErrClosed is returned by a Source used after Close.
	ErrClosed = errors.New("capture: source is closed")
	// ErrEmpty is returned for an empty or closed frame.
	ErrEmpty = errors.New("capture: empty frame")
)

// A Frame is one captured picture. It owns Mat until Close.
type Frame struct {
	// Mat holds the pixels: 8-bit BGR, 3 channels.
	Mat gocv.Mat
	// Index counts the frames of the source from 0.
	Index int
	// Time is when the frame was taken relative to the source's first
	// frame: wall-clock time for a camera, the stream position for a video,
	// Index × the directory's interval for images.
	Time time.Duration
}

// Close zeroes the frame's pixels and releases them. It may be called more
// than once.
func (f *Frame) Close() error {
	wipeMat(&f.Mat)
	return nil
}

// wipeMat overwrites m's pixels with zeros and releases it.
func wipeMat(m *gocv.Mat) {
	if m.Ptr() == nil {
		return
	}
	if !m.Empty() {
		m.SetTo(gocv.NewScalar(0, 0, 0, 0))
	}
	m.Close()
	*m = gocv.Mat{}
}

// A Source delivers frames one at a time. It is not safe for concurrent use.
type Source interface {
	// Next returns the next frame, which the caller must Close. It returns
	// io.EOF after the last frame of a file or directory.
	Next() (*Frame, error)
	// Close releases the source. Next after Close returns ErrClosed.
	Close() error
}

// Camera reads frames from a video device (a V4L2 camera on Linux).
type Camera struct {
	vc    *gocv.VideoCapture
	index int
	start time.Time
	n     int
}

// OpenCamera opens the camera with the given device index (0 is
// /dev/video0). It returns an error wrapping ErrOpen when there is no such
// camera.
func OpenCamera(device int) (*Camera, error) {
	if device < 0 {
		return nil, fmt.Errorf("%w: camera index %d is negative", ErrOpen, device)
	}
	vc, err := gocv.VideoCaptureDevice(device)
	if err != nil || !vc.IsOpened() {
		if vc != nil {
			vc.Close()
		}
		return nil, fmt.Errorf("%w: camera %d", ErrOpen, device)
	}
	return &Camera{vc: vc, index: device}, nil
}

// Next grabs a frame. A camera that delivers nothing gives an error wrapping
// ErrRead.
func (c *Camera) Next() (*Frame, error) {
	if c.vc == nil {
		return nil, ErrClosed
	}
	m := gocv.NewMat()
	if !c.vc.Read(&m) || m.Empty() {
		wipeMat(&m)
		return nil, fmt.Errorf("%w: camera %d", ErrRead, c.index)
	}
	now := time.Now()
	if c.n == 0 {
		c.start = now
	}
	f := &Frame{Mat: m, Index: c.n, Time: now.Sub(c.start)}
	c.n++
	return f, nil
}

// Close releases the camera.
func (c *Camera) Close() error {
	if c.vc != nil {
		c.vc.Close()
		c.vc = nil
	}
	return nil
}

// Video reads the frames of a video file (any format OpenCV's FFMPEG
// backend decodes).
type Video struct {
	vc   *gocv.VideoCapture
	path string
	n    int
}

// OpenVideo opens the video file at path. It returns an error wrapping
// ErrOpen when the file is missing or cannot be decoded.
func OpenVideo(path string) (*Video, error) {
	if _, err := os.Stat(path); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrOpen, err)
	}
	vc, err := gocv.VideoCaptureFile(path)
	if err != nil || !vc.IsOpened() {
		if vc != nil {
			vc.Close()
		}
		return nil, fmt.Errorf("%w: video %s cannot be decoded", ErrOpen, path)
	}
	return &Video{vc: vc, path: path}, nil
}

// Next returns the next frame, or io.EOF after the last.
func (v *Video) Next() (*Frame, error) {
	if v.vc == nil {
		return nil, ErrClosed
	}
	m := gocv.NewMat()
	if !v.vc.Read(&m) || m.Empty() {
		wipeMat(&m)
		return nil, io.EOF
	}
	ms := v.vc.Get(gocv.VideoCapturePosMsec)
	f := &Frame{Mat: m, Index: v.n, Time: time.Duration(ms * float64(time.Millisecond))}
	v.n++
	return f, nil
}

// Close releases the video.
func (v *Video) Close() error {
	if v.vc != nil {
		v.vc.Close()
		v.vc = nil
	}
	return nil
}

// Dir reads the images of a directory (.jpg, .jpeg, .png, any case) in
// name order, as frames Interval apart.
type Dir struct {
	// Interval is the time between two frames, 1/15 s by default.
	Interval time.Duration
	files    []string
	n        int
	closed   bool
}

// DefaultInterval is a Dir's frame interval: 15 frames per second.
const DefaultInterval = time.Second / 15

// OpenDir lists the images of the directory at path. It returns an error
// wrapping ErrOpen when the directory cannot be read or holds no image.
func OpenDir(path string) (*Dir, error) {
	entries, err := os.ReadDir(path)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrOpen, err)
	}
	var files []string
	for _, e := range entries {
		if e.IsDir() {
			continue
		}
		switch strings.ToLower(filepath.Ext(e.Name())) {
		case ".jpg", ".jpeg", ".png":
			files = append(files, filepath.Join(path, e.Name()))
		}
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("%w: no .jpg or .png image in %s", ErrOpen, path)
	}
	sort.Strings(files)
	return &Dir{Interval: DefaultInterval, files: files}, nil
}

// Files returns the image paths in frame order.
func (d *Dir) Files() []string { return append([]string(nil), d.files...) }

// Next decodes the next image, or returns io.EOF after the last. An image
// OpenCV cannot decode gives an error wrapping ErrEmpty that names the file;
// the next call moves on to the following image.
func (d *Dir) Next() (*Frame, error) {
	if d.closed {
		return nil, ErrClosed
	}
	if d.n >= len(d.files) {
		return nil, io.EOF
	}
	i := d.n
	d.n++
	m := gocv.IMRead(d.files[i], gocv.IMReadColor)
	if m.Empty() {
		wipeMat(&m)
		return nil, fmt.Errorf("%w: %s cannot be decoded", ErrEmpty, d.files[i])
	}
	return &Frame{Mat: m, Index: i, Time: time.Duration(i) * d.Interval}, nil
}

// Close ends the listing.
func (d *Dir) Close() error {
	d.closed = true
	return nil
}

// Image copies a BGR (or grey) frame into a new *image.RGBA for an
// extractor. The intermediate OpenCV buffer is zeroed before release; call
// Wipe on the result when done with it.
func Image(m gocv.Mat) (*image.RGBA, error) {
	if m.Ptr() == nil || m.Empty() {
		return nil, ErrEmpty
	}
	var code gocv.ColorConversionCode
	switch m.Type() {
	case gocv.MatTypeCV8UC3:
		code = gocv.ColorBGRToRGBA
	case gocv.MatTypeCV8UC1:
		code = gocv.ColorGrayToBGRA // grey to 4 equal channels; alpha 255
	case gocv.MatTypeCV8UC4:
		code = gocv.ColorBGRAToRGBA
	default:
		return nil, fmt.Errorf("capture: frame type %v, want 8-bit grey, BGR or BGRA", m.Type())
	}
	rgba := gocv.NewMat()
	defer wipeMat(&rgba)
	gocv.CvtColor(m, &rgba, code)
	data, err := rgba.DataPtrUint8()
	if err != nil {
		return nil, fmt.Errorf("capture: %w", err)
	}
	img := image.NewRGBA(image.Rect(0, 0, m.Cols(), m.Rows()))
	copy(img.Pix, data)
	for i := 3; i < len(img.Pix); i += 4 {
		img.Pix[i] = 0xff
	}
	return img, nil
}

// Wipe zeroes the pixels of img (an *image.RGBA, *image.NRGBA, *image.Gray
// or *image.YCbCr) so that a face does not linger in freed memory. It
// reports whether it knew the image type.
func Wipe(img image.Image) bool {
	switch m := img.(type) {
	case *image.RGBA:
		clear(m.Pix)
	case *image.NRGBA:
		clear(m.Pix)
	case *image.Gray:
		clear(m.Pix)
	case *image.YCbCr:
		clear(m.Y)
		clear(m.Cb)
		clear(m.Cr)
	default:
		return false
	}
	return true
}
