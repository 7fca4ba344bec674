// Package synth builds synthetic 68-point landmark sequences for testing
// and measuring liveness checks: a face's landmarks lifted to 3D with a
// generic depth per landmark, then turned, moved, blinked, projected and
// perturbed with detector noise, frame by frame.
//
// Synthetic sequences are what this project has instead of bona fide
// video. They test the logic of the checks and give a bona fide error rate
// under stated assumptions (the depth table, the motion amplitudes, the
// noise level); they do not measure what real people in front of a real
// camera do. docs/capture.md says which numbers come from here.
package synth

import (
	"fmt"
	"image"
	"math"
	"math/rand/v2"
	"time"

	"github.com/facegate/facegate/facematch/liveness"
	"github.com/facegate/facegate/facematch/quality"
)

// depth is a generic depth of each of the 68 landmarks behind the nose tip,
// in inter-ocular distances (rough adult proportions: the jaw's ends by the
// ears about 1.3 IOD back, the eyes about 0.5-0.65, the mouth 0.25-0.5).
var depth = [quality.NumLandmarks]float64{
	// jaw 0-16: filled by init
	27: 0.45, 28: 0.30, 29: 0.15, 30: 0,
	31: 0.32, 32: 0.20, 33: 0.14, 34: 0.20, 35: 0.32,
	36: 0.65, 37: 0.50, 38: 0.50, 39: 0.52, 40: 0.52, 41: 0.52,
	42: 0.52, 43: 0.50, 44: 0.50, 45: 0.65, 46: 0.52, 47: 0.52,
	48: 0.50, 49: 0.33, 50: 0.27, 51: 0.25, 52: 0.27, 53: 0.33,
	54: 0.50, 55: 0.38, 56: 0.32, 57: 0.30, 58: 0.32, 59: 0.38,
	60: 0.50, 61: 0.33, 62: 0.30, 63: 0.33, 64: 0.50, 65: 0.36, 66: 0.33, 67: 0.36,
}

func init() {
	for i := 0; i <= 16; i++ {
		th := float64(i-8) / 8 * math.Pi / 2
		depth[i] = 0.35 + 0.95*(1-math.Cos(th))
	}
	for i := 17; i <= 21; i++ { // image-left brow, outer to inner
		depth[i] = 0.75 - 0.3*float64(i-17)/4
	}
	for i := 22; i <= 26; i++ { // image-right brow, inner to outer
		depth[i] = 0.45 + 0.3*float64(i-22)/4
	}
}

// Head is a face's landmarks in 3D, in pixels, centred on their centroid.
type Head struct {
	p      [quality.NumLandmarks][3]float64
	centre [2]float64
	iod    float64
}

// Lift makes a Head from one frame's 68 landmarks, giving each the
// generic depth of its index scaled by the face's inter-ocular distance and
// taking the landmarks as seen in perspective from Distance, so that
// Project(Pose{}) returns them.
func Lift(lm []image.Point) (Head, error) {
	iod, err := quality.InterOcular(lm)
	if err != nil {
		return Head{}, err
	}
	if iod < 1 {
		return Head{}, fmt.Errorf("synth: inter-ocular distance %.2f px is too small", iod)
	}
	var h Head
	h.iod = iod
	for _, q := range lm {
		h.centre[0] += float64(q.X) / quality.NumLandmarks
		h.centre[1] += float64(q.Y) / quality.NumLandmarks
	}
	var mz float64
	for i, q := range lm {
		h.p[i] = [3]float64{float64(q.X) - h.centre[0], float64(q.Y) - h.centre[1], depth[i] * iod}
		mz += depth[i] * iod / quality.NumLandmarks
	}
	// The landmarks are a perspective image from Distance: undo the
	// projection so that Project at rest gives them back.
	d := Distance * iod
	for i := range h.p {
		h.p[i][2] -= mz
		f := (d + h.p[i][2]) / d
		h.p[i][0] *= f
		h.p[i][1] *= f
	}
	return h, nil
}

// Pose places a Head in one frame.
type Pose struct {
	// Yaw, Pitch and Roll turn the head, in degrees.
	Yaw, Pitch, Roll float64
	// DX and DY move it, in pixels.
	DX, DY float64
	// Blink closes the eyelids: 0 open, 1 shut.
	Blink float64
}

// Distance is the camera distance used by Project, in inter-ocular
// distances: about 60 cm from an adult face (IOD about 63 mm).
const Distance = 9.5

// Project returns the head's 68 landmarks in pose, seen in perspective
// from Distance, rounded to whole pixels as a detector reports them.
func (h Head) Project(pose Pose) []image.Point {
	return round(h.project(pose), nil, 0)
}

// round rounds the points, first adding Gaussian noise of standard
// deviation sigma pixels drawn from rng when sigma > 0.
func round(p [][2]float64, rng *rand.Rand, sigma float64) []image.Point {
	out := make([]image.Point, len(p))
	for i, q := range p {
		if sigma > 0 {
			q[0] += rng.NormFloat64() * sigma
			q[1] += rng.NormFloat64() * sigma
		}
		out[i] = image.Pt(int(math.Round(q[0])), int(math.Round(q[1])))
	}
	return out
}

func (h Head) project(pose Pose) [][2]float64 {
	const rad = math.Pi / 180
	cy, sy := math.Cos(pose.Yaw*rad), math.Sin(pose.Yaw*rad)
	cp, sp := math.Cos(pose.Pitch*rad), math.Sin(pose.Pitch*rad)
	cr, sr := math.Cos(pose.Roll*rad), math.Sin(pose.Roll*rad)
	pts := h.p
	if pose.Blink > 0 {
		closeEye(&pts, 36, pose.Blink)
		closeEye(&pts, 42, pose.Blink)
	}
	out := make([][2]float64, quality.NumLandmarks)
	d := Distance * h.iod
	for i, p := range pts {
		x, y, z := p[0], p[1], p[2]
		// Pitch about x (positive: nose down), yaw about y (positive: nose
		// to the image's right), roll about z.
		y, z = cp*y-sp*z, sp*y+cp*z
		x, z = cy*x-sy*z, sy*x+cy*z
		x, y = cr*x-sr*y, sr*x+cr*y
		f := d / (d + z)
		out[i] = [2]float64{h.centre[0] + pose.DX + x*f, h.centre[1] + pose.DY + y*f}
	}
	return out
}

// closeEye moves the lids of the eye starting at first (points first+1,
// first+2 upper, first+4, first+5 lower) toward the line between its
// corners by the fraction c.
func closeEye(p *[quality.NumLandmarks][3]float64, first int, c float64) {
	a, b := p[first], p[first+3]
	for _, i := range []int{first + 1, first + 2, first + 4, first + 5} {
		t := (p[i][0] - a[0]) / (b[0] - a[0])
		mid := a[1] + t*(b[1]-a[1])
		p[i][1] += c * (mid - p[i][1])
	}
}

// Params describes a synthetic bona fide sequence.
type Params struct {
	// Frames is the sequence length and FPS its frame rate.
	Frames int
	FPS    float64
	// Sway is the amplitude in degrees of the head's slow yaw and pitch
	// oscillations (0.2-0.5 Hz, random phases); roll sways by a third of it.
	Sway float64
	// Drift is the amplitude in pixels of the head's slow translation.
	Drift float64
	// BlinkAt is the frame at which a blink starts, or -1 for none;
	// BlinkFrames is how many frames the eyes are shut (closure 0.85).
	BlinkAt, BlinkFrames int
	// Noise is the standard deviation in pixels of the detector noise added
	// to each coordinate before rounding.
	Noise float64
}

// BonaFide returns a synthetic live sequence of h under p, drawn with rng.
func BonaFide(h Head, p Params, rng *rand.Rand) []liveness.Frame {
	fy, fp := 0.2+0.3*rng.Float64(), 0.2+0.3*rng.Float64()
	py, pp, pr := rng.Float64()*2*math.Pi, rng.Float64()*2*math.Pi, rng.Float64()*2*math.Pi
	dx, dy := rng.Float64()*2*math.Pi, rng.Float64()*2*math.Pi
	frames := make([]liveness.Frame, p.Frames)
	for i := range frames {
		t := float64(i) / p.FPS
		pose := Pose{
			Yaw:   p.Sway * math.Sin(2*math.Pi*fy*t+py),
			Pitch: p.Sway * math.Sin(2*math.Pi*fp*t+pp),
			Roll:  p.Sway / 3 * math.Sin(2*math.Pi*0.3*t+pr),
			DX:    p.Drift * math.Sin(2*math.Pi*0.25*t+dx),
			DY:    p.Drift * math.Sin(2*math.Pi*0.2*t+dy),
		}
		if p.BlinkAt >= 0 && i >= p.BlinkAt && i < p.BlinkAt+p.BlinkFrames {
			pose.Blink = 0.85
		}
		frames[i] = liveness.Frame{
			Time:      time.Duration(t * float64(time.Second)),
			Landmarks: round(h.project(pose), rng, p.Noise),
		}
	}
	return frames
}
