package site

import (
	"errors"
	"fmt"
	"strings"

	"github.com/facegate/facegate/facematch"
	"github.com/facegate/facegate/facematch/capture"
	"github.com/facegate/facegate/facematch/quality"
)

// Probe is one face found in a photo or frame with what the quality gate
// measured.
type Probe struct {
	// Face is the face with its landmarks and descriptor.
	Face facematch.Face
	// Measurement is what the quality gate measured.
	Measurement quality.Measurement
	// Score is a rough quality score in [0, 1] recorded with a template:
	// how far sharpness and face size are above the gate's minimums, each
	// counted full at twice the minimum.
	Score float32
}

// PhotoProbe extracts the single face of an encoded photo (JPEG or PNG)
// and checks it against the quality gate q. The photo is decoded in memory
// only; its pixel buffer is zeroed before it is released. Errors: those of
// the extractor (facematch.ErrDecode), and a *quality.Rejection (which
// matches quality.NoFace, quality.MultipleFaces, quality.Blurred, ...).
func (b *Backend) PhotoProbe(data []byte, q quality.Config) (Probe, error) {
	faces, err := b.Extract(data)
	if err != nil {
		return Probe{}, err
	}
	frame, err := capture.Decode(data)
	if err != nil {
		return Probe{}, err
	}
	defer frame.Close() // zeroes the pixels
	return check(frame, faces, q)
}

// FrameProbe is PhotoProbe for a camera frame (8-bit BGR). The frame is
// not modified; the caller closes it.
func (b *Backend) FrameProbe(frame *capture.Frame, q quality.Config) (Probe, error) {
	img, err := capture.Image(frame.Mat)
	if err != nil {
		return Probe{}, err
	}
	faces, err := b.ExtractImage(img)
	capture.Wipe(img)
	if err != nil {
		return Probe{}, err
	}
	return check(frame, faces, q)
}

func check(frame *capture.Frame, faces []facematch.Face, q quality.Config) (Probe, error) {
	m, err := capture.Measure(frame.Mat, faces)
	if err != nil {
		return Probe{Measurement: m}, err
	}
	if err := q.Check(m); err != nil {
		return Probe{Measurement: m}, err
	}
	f, err := facematch.One(faces)
	if err != nil {
		return Probe{Measurement: m}, err
	}
	return Probe{Face: f, Measurement: m, Score: score(m, q)}, nil
}

func score(m quality.Measurement, q quality.Config) float32 {
	part := func(v, lim float64) float64 {
		if lim <= 0 {
			return 1
		}
		return max(0, min(1, v/(2*lim)))
	}
	return float32(part(m.Sharpness, q.MinSharpness) * part(m.InterOcular, q.MinInterOcular))
}

// Explain returns err with the measurements behind a quality rejection
// appended (pose angles, inter-ocular distance, sharpness, brightness), so
// an operator sees how far off a photo is; other errors are returned as
// they are.
func Explain(err error) error {
	var rej *quality.Rejection
	if !errors.As(err, &rej) {
		return err
	}
	m := rej.Measurement
	var parts []string
	for _, r := range rej.Reasons {
		switch r {
		case quality.PoseOff:
			parts = append(parts, m.Pose.String())
		case quality.TooSmall:
			parts = append(parts, fmt.Sprintf("inter-ocular %.0f px", m.InterOcular))
		case quality.Blurred:
			parts = append(parts, fmt.Sprintf("sharpness %.0f", m.Sharpness))
		case quality.TooDark, quality.TooBright:
			parts = append(parts, fmt.Sprintf("brightness %.0f, clipped %.0f%%/%.0f%%", m.Brightness, 100*m.Dark, 100*m.Bright))
		case quality.MultipleFaces:
			parts = append(parts, fmt.Sprintf("%d faces", m.Faces))
		}
	}
	if len(parts) == 0 {
		return err
	}
	return fmt.Errorf("%w (%s)", err, strings.Join(parts, "; "))
}
