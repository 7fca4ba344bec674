package capture

import (
	"fmt"
	"image"

	"gocv.io/x/gocv"

	"github.com/facegate/facegate/facematch"
	"github.com/facegate/facegate/facematch/quality"
)

// FaceSide is the side in pixels of the square the face region is
// resampled to before it is measured, so that sharpness means the same for
// a near and a far face.
const FaceSide = 128

// DarkLevel and BrightLevel are the grey levels at or beyond which a pixel
// counts as clipped black or clipped white.
const (
	DarkLevel   = 8
	BrightLevel = 247
)

// Exposure describes the grey levels of a face region.
type Exposure struct {
	// Mean is the mean grey level, 0-255.
	Mean float64
	// Dark is the fraction of pixels at or under DarkLevel.
	Dark float64
	// Bright is the fraction of pixels at or over BrightLevel.
	Bright float64
}

// faceGray returns the FaceSide×FaceSide grey image of box in frame. The
// caller wipes it.
func faceGray(frame gocv.Mat, box image.Rectangle) (gocv.Mat, error) {
	if frame.Ptr() == nil || frame.Empty() {
		return gocv.Mat{}, ErrEmpty
	}
	r := box.Intersect(image.Rect(0, 0, frame.Cols(), frame.Rows()))
	if r.Dx() < 2 || r.Dy() < 2 {
		return gocv.Mat{}, fmt.Errorf("capture: face box %v lies outside the %dx%d frame", box, frame.Cols(), frame.Rows())
	}
	region := frame.Region(r)
	defer region.Close() // a view into frame: nothing of its own to zero
	grey := gocv.NewMat()
	switch frame.Channels() {
	case 1:
		region.CopyTo(&grey)
	case 3:
		gocv.CvtColor(region, &grey, gocv.ColorBGRToGray)
	case 4:
		gocv.CvtColor(region, &grey, gocv.ColorBGRAToGray)
	default:
		wipeMat(&grey)
		return gocv.Mat{}, fmt.Errorf("capture: frame has %d channels, want 1, 3 or 4", frame.Channels())
	}
	interp := gocv.InterpolationArea
	if r.Dx() < FaceSide {
		interp = gocv.InterpolationLinear
	}
	out := gocv.NewMat()
	gocv.Resize(grey, &out, image.Pt(FaceSide, FaceSide), 0, 0, interp)
	wipeMat(&grey)
	return out, nil
}

func sharpness(grey gocv.Mat) float64 {
	lap := gocv.NewMat()
	defer wipeMat(&lap)
	gocv.Laplacian(grey, &lap, gocv.MatTypeCV64F, 1, 1, 0, gocv.BorderDefault)
	mean, std := gocv.NewMat(), gocv.NewMat()
	defer mean.Close()
	defer std.Close()
	gocv.MeanStdDev(lap, &mean, &std)
	s := std.GetDoubleAt(0, 0)
	return s * s
}

func exposure(grey gocv.Mat) (Exposure, error) {
	px, err := grey.DataPtrUint8()
	if err != nil {
		return Exposure{}, fmt.Errorf("capture: %w", err)
	}
	var sum, dark, bright int
	for _, v := range px {
		sum += int(v)
		if v <= DarkLevel {
			dark++
		} else if v >= BrightLevel {
			bright++
		}
	}
	n := float64(len(px))
	return Exposure{Mean: float64(sum) / n, Dark: float64(dark) / n, Bright: float64(bright) / n}, nil
}

// Sharpness returns the variance of the Laplacian (3×3 aperture) of the
// face region box of frame, resampled to FaceSide×FaceSide grey. Higher is
// sharper; see quality.Config.MinSharpness for measured values.
func Sharpness(frame gocv.Mat, box image.Rectangle) (float64, error) {
	g, err := faceGray(frame, box)
	if err != nil {
		return 0, err
	}
	defer wipeMat(&g)
	return sharpness(g), nil
}

// MeasureExposure returns the grey-level statistics of the face region box
// of frame, resampled to FaceSide×FaceSide.
func MeasureExposure(frame gocv.Mat, box image.Rectangle) (Exposure, error) {
	g, err := faceGray(frame, box)
	if err != nil {
		return Exposure{}, err
	}
	defer wipeMat(&g)
	return exposure(g)
}

// Measure returns the quality measurement of frame given the faces an
// extractor found in it. With exactly one face it fills every field: the
// landmark measures through quality.Measurement.Geometry and the pixel
// measures on the face's box. Otherwise only Faces is set, and the gate
// rejects the frame for its face count.
func Measure(frame gocv.Mat, faces []facematch.Face) (quality.Measurement, error) {
	m := quality.Measurement{Faces: len(faces)}
	if len(faces) != 1 {
		return m, nil
	}
	f := faces[0]
	if err := m.Geometry(f.Landmarks); err != nil {
		return m, err
	}
	g, err := faceGray(frame, f.Box)
	if err != nil {
		return m, err
	}
	defer wipeMat(&g)
	m.Sharpness = sharpness(g)
	e, err := exposure(g)
	if err != nil {
		return m, err
	}
	m.Brightness, m.Dark, m.Bright = e.Mean, e.Dark, e.Bright
	return m, nil
}
