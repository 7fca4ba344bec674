// Package probe turns a camera frame or an encoded photo into a checked
// face probe, the input of every face decision: decode once, find the face
// and its 68 landmarks, measure its quality (facematch/quality), score it
// with the passive presentation-attack check (facematch/antispoof), and
// compute its descriptor. It also holds the library's one registry of face
// backends (a front end × an embedder) and the liveness rule that turns a
// sequence of probes into the gate's liveness verdict (Sequence).
//
// Every pixel buffer the package makes (the decoded photo, the image
// handed to the front end) is zeroed before it is released.
package probe

import (
	"errors"
	"fmt"
	"strings"

	"github.com/facegate/facegate/facematch"
	"github.com/facegate/facegate/facematch/antispoof"
	"github.com/facegate/facegate/facematch/arcface"
	"github.com/facegate/facegate/facematch/capture"
	"github.com/facegate/facegate/facematch/quality"
)

// Probe is one face found in a photo or frame with what the checks
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
	// Passive is the passive check's bona fide score in [0, 1], or -1 when
	// the pipeline has no passive check.
	Passive float64
}

// Pipeline makes probes with a backend, a quality gate and an optional
// passive check.
type Pipeline struct {
	// Backend finds faces and computes descriptors. Required.
	Backend *Backend
	// Quality is the quality gate (quality.Enrollment, quality.Verification).
	Quality quality.Config
	// Passive is the passive presentation-attack check; nil skips it.
	Passive *antispoof.Net
}

// Photo extracts the single face of an encoded photo (JPEG or PNG): the
// photo is decoded once, in memory, and its pixels are zeroed before they
// are released. Errors: facematch.ErrDecode for undecodable data, a
// *quality.Rejection (which matches quality.NoFace, quality.MultipleFaces,
// quality.Blurred, ...), and those of the backend.
func (p *Pipeline) Photo(data []byte) (Probe, error) {
	if p.Backend == nil {
		return Probe{}, errors.New("probe: pipeline has no backend")
	}
	frame, err := p.Backend.decode(data)
	if err != nil {
		return Probe{}, err
	}
	defer frame.Close() // zeroes the pixels
	return p.Frame(frame)
}

// Frame is Photo for a camera frame (8-bit BGR). The frame is not
// modified; the caller closes it.
func (p *Pipeline) Frame(frame *capture.Frame) (Probe, error) {
	if p.Backend == nil {
		return Probe{}, errors.New("probe: pipeline has no backend")
	}
	faces, err := p.Backend.find(frame)
	if err != nil {
		return Probe{}, err
	}
	m, err := capture.Measure(frame.Mat, faces)
	if err != nil {
		return Probe{Measurement: m}, err
	}
	if err := p.Quality.Check(m); err != nil {
		return Probe{Measurement: m}, err
	}
	f, err := facematch.One(faces)
	if err != nil {
		return Probe{Measurement: m}, err
	}
	pr := Probe{Face: f, Measurement: m, Score: score(m, p.Quality), Passive: -1}
	if p.Passive != nil {
		if pr.Passive, err = p.Passive.Score(frame.Mat, f.Box); err != nil {
			clear(f.Descriptor)
			return Probe{Measurement: m}, err
		}
	}
	return pr, nil
}

// decode decodes a photo as the backend's front end does: a front end that
// decodes itself (faceplugin: pixel limit, EXIF orientation ignored as
// dlib ignores it) does it; otherwise capture.Decode.
func (b *Backend) decode(data []byte) (*capture.Frame, error) {
	if b.mat == nil {
		return capture.Decode(data)
	}
	m, err := b.mat.Decode(data)
	if err != nil {
		return nil, err
	}
	return &capture.Frame{Mat: m}, nil
}

// Faces returns the faces of the frame with their boxes and 68 landmarks,
// for the checks that need no descriptor (the passive check, eye state):
// a front end that finds faces in a Mat (faceplugin) computes none; other
// backends (dlib) return their faces with descriptors, which the caller
// should clear.
func (b *Backend) Faces(frame *capture.Frame) ([]facematch.Face, error) {
	if b.mat != nil {
		return b.mat.Find(frame.Mat)
	}
	return b.find(frame)
}

// find returns the faces of the frame with descriptors. An ArcFace-class
// backend takes the frame's pixels as they are (with a front end that
// reads them too, such as faceplugin, nothing is converted); dlib gets a
// Go image, which it encodes for go-face, zeroed afterwards.
func (b *Backend) find(frame *capture.Frame) ([]facematch.Face, error) {
	a, isArc := b.Extractor.(*arcface.Extractor)
	if isArc && b.mat != nil {
		return a.FindAndEmbed(frame.Mat, nil)
	}
	img, err := capture.Image(frame.Mat)
	if err != nil {
		return nil, err
	}
	defer capture.Wipe(img)
	if isArc {
		return a.FindAndEmbed(frame.Mat, img)
	}
	return b.ExtractImage(img)
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
