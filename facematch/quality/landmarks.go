package quality

import (
	"errors"
	"fmt"
	"image"
	"math"
)

// NumLandmarks is the number of landmarks of the iBUG 300-W markup that
// every function of this package expects (dlib's 68-point shape predictor).
const NumLandmarks = 68

// ErrLandmarks is matched (errors.Is) by a *LandmarkError.
var ErrLandmarks = errors.New("quality: landmarks are not 68 iBUG points")

// LandmarkError reports a landmark set that cannot be measured.
type LandmarkError struct {
	// N is the number of points received.
	N int
	// Reason says what is wrong with them when the count is right.
	Reason string
}

func (e *LandmarkError) Error() string {
	if e.Reason != "" {
		return fmt.Sprintf("quality: %d landmarks: %s", e.N, e.Reason)
	}
	return fmt.Sprintf("quality: %d landmarks, want %d (iBUG 300-W markup)", e.N, NumLandmarks)
}

// Is reports whether target is ErrLandmarks.
func (e *LandmarkError) Is(target error) bool { return target == ErrLandmarks }

func checkLandmarks(lm []image.Point) error {
	if len(lm) != NumLandmarks {
		return &LandmarkError{N: len(lm)}
	}
	return nil
}

// Index ranges of the iBUG 300-W 68-point markup. "Left" and "right" are
// as seen in the image: the first eye (36-41) is the one on the image's
// left, which is the subject's right eye.
const (
	firstEyeLeft  = 36 // 36..41
	firstEyeRight = 42 // 42..47
	noseTip       = 30
	chin          = 8
)

// eyeCentre returns the mean of the six points of the eye starting at first.
func eyeCentre(lm []image.Point, first int) (x, y float64) {
	for i := first; i < first+6; i++ {
		x += float64(lm[i].X)
		y += float64(lm[i].Y)
	}
	return x / 6, y / 6
}

// InterOcular returns the distance in pixels between the centres of the two
// eyes (each the mean of its six landmarks). It is the face-size measure of
// the quality gate: unlike a detector's box it means the same for every
// detector.
func InterOcular(lm []image.Point) (float64, error) {
	if err := checkLandmarks(lm); err != nil {
		return 0, err
	}
	lx, ly := eyeCentre(lm, firstEyeLeft)
	rx, ry := eyeCentre(lm, firstEyeRight)
	return math.Hypot(rx-lx, ry-ly), nil
}

// EyeAspectRatio returns the eye-aspect ratio (Soukupová and Čech, 2016) of
// the eye in the image's left (landmarks 36-41) and right (42-47):
// (|p2-p6| + |p3-p5|) / (2 |p1-p4|). An open eye measures about 0.25-0.35, a
// closed one under about 0.15; the ratio does not depend on face size.
func EyeAspectRatio(lm []image.Point) (left, right float64, err error) {
	if err := checkLandmarks(lm); err != nil {
		return 0, 0, err
	}
	left, err = ear(lm[firstEyeLeft : firstEyeLeft+6])
	if err != nil {
		return 0, 0, err
	}
	right, err = ear(lm[firstEyeRight : firstEyeRight+6])
	if err != nil {
		return 0, 0, err
	}
	return left, right, nil
}

func ear(p []image.Point) (float64, error) {
	d := func(a, b image.Point) float64 {
		return math.Hypot(float64(a.X-b.X), float64(a.Y-b.Y))
	}
	w := d(p[0], p[3])
	if w == 0 {
		return 0, &LandmarkError{N: NumLandmarks, Reason: "eye corners coincide"}
	}
	return (d(p[1], p[5]) + d(p[2], p[4])) / (2 * w), nil
}

// Pose is a head orientation in degrees. Zero is a face looking straight
// into the camera with its eyes level.
type Pose struct {
	// Yaw is the turn about the vertical axis; positive when the face turns
	// toward the image's right.
	Yaw float64
	// Pitch is the nod about the horizontal axis; positive when the face
	// tilts down (chin toward the chest).
	Pitch float64
	// Roll is the in-plane tilt; positive when the eye line turns clockwise
	// in the image (image y grows downward).
	Roll float64
}

// String formats the pose as "yaw=… pitch=… roll=…" in whole degrees.
func (p Pose) String() string {
	return fmt.Sprintf("yaw=%.0f° pitch=%.0f° roll=%.0f°", p.Yaw, p.Pitch, p.Roll)
}

// model3D is a generic head for pose estimation: for a subset of the 68
// landmarks, its position in units of the inter-ocular distance, with x to
// the image's right, y down and z away from the camera, origin at the nose
// tip. The numbers are rough adult proportions (eye corners ±0.7/±0.24,
// eyes 0.55 above and 0.5 behind the nose tip, mouth corners ±0.4, chin 1.1
// below the tip); EstimatePose's accuracy on real faces is measured in
// docs/capture.md rather than promised by this table.
var model3D = []struct {
	i       int
	x, y, z float64
}{
	{0, -1.10, -0.40, 1.30}, // jaw start, by the ear
	{4, -0.95, 0.55, 0.95},
	{8, 0, 1.10, 0.40}, // chin
	{12, 0.95, 0.55, 0.95},
	{16, 1.10, -0.40, 1.30}, // jaw end
	{27, 0, -0.55, 0.45},    // nose bridge top
	{30, 0, 0, 0},           // nose tip
	{31, -0.20, 0.12, 0.30},
	{33, 0, 0.15, 0.12},
	{35, 0.20, 0.12, 0.30},
	{36, -0.70, -0.55, 0.65}, // outer corner, image-left eye
	{39, -0.24, -0.55, 0.50}, // inner corner
	{42, 0.24, -0.55, 0.50},
	{45, 0.70, -0.55, 0.65},
	{48, -0.40, 0.50, 0.45}, // mouth corners
	{54, 0.40, 0.50, 0.45},
	{51, 0, 0.38, 0.25}, // upper lip
	{57, 0, 0.65, 0.32}, // lower lip
}

// EstimatePose estimates yaw, pitch and roll from 68 landmarks by fitting a
// scaled-orthographic projection of a generic 3D head (model3D) by least
// squares and reading the Euler angles of its rotation (R = Rz(roll) ·
// Ry(yaw) · Rx(pitch)). Accuracy is a few degrees near frontal; a
// subject's own face shape biases pitch most, which is why the gate's pose
// limits were measured on real photos.
func EstimatePose(lm []image.Point) (Pose, error) {
	if err := checkLandmarks(lm); err != nil {
		return Pose{}, err
	}
	n := float64(len(model3D))
	// Centre both point sets.
	var mx, my, mz, ix, iy float64
	for _, m := range model3D {
		mx += m.x
		my += m.y
		mz += m.z
		ix += float64(lm[m.i].X)
		iy += float64(lm[m.i].Y)
	}
	mx, my, mz, ix, iy = mx/n, my/n, mz/n, ix/n, iy/n
	// Least squares for the 2×3 matrix A with u ≈ A·X: A = (U^T X)(X^T X)^-1.
	var xtx [3][3]float64
	var utx [2][3]float64
	for _, m := range model3D {
		X := [3]float64{m.x - mx, m.y - my, m.z - mz}
		u := [2]float64{float64(lm[m.i].X) - ix, float64(lm[m.i].Y) - iy}
		for r := 0; r < 3; r++ {
			for c := 0; c < 3; c++ {
				xtx[r][c] += X[r] * X[c]
			}
			utx[0][r] += u[0] * X[r]
			utx[1][r] += u[1] * X[r]
		}
	}
	inv, ok := inverse3(xtx)
	if !ok {
		return Pose{}, &LandmarkError{N: NumLandmarks, Reason: "degenerate model fit"}
	}
	var a [2][3]float64
	for r := 0; r < 2; r++ {
		for c := 0; c < 3; c++ {
			for k := 0; k < 3; k++ {
				a[r][c] += utx[r][k] * inv[k][c]
			}
		}
	}
	r1, r2 := vec3(a[0]), vec3(a[1])
	n1, n2 := r1.norm(), r2.norm()
	if n1 == 0 || n2 == 0 {
		return Pose{}, &LandmarkError{N: NumLandmarks, Reason: "landmarks collapse to a line or point"}
	}
	r1, r2 = r1.scale(1/n1), r2.scale(1/n2)
	// Symmetric orthogonalisation of the two rows.
	c := r1.dot(r2)
	r1, r2 = r1.sub(r2.scale(c/2)), r2.sub(r1.scale(c/2))
	r1, r2 = r1.scale(1/r1.norm()), r2.scale(1/r2.norm())
	r3 := r1.cross(r2)
	// R rows r1, r2, r3. With R = Rz(γ)·Ry(β)·Rx(α):
	// R[2][0] = -sin β, R[2][1] = cos β sin α, R[2][2] = cos β cos α,
	// R[1][0] = sin γ cos β, R[0][0] = cos γ cos β.
	deg := 180 / math.Pi
	yaw := math.Asin(clamp(-r3[0], -1, 1)) * deg
	pitch := math.Atan2(r3[1], r3[2]) * deg
	roll := math.Atan2(r2[0], r1[0]) * deg
	// A positive rotation about y moves the nose tip (which sits at the
	// model's front, -z) toward -x: report the turn toward the image's right
	// as positive yaw. A positive rotation about x moves the nose tip down
	// (+y), which is a downward nod: positive pitch as it is.
	return Pose{Yaw: -yaw, Pitch: pitch, Roll: roll}, nil
}

type vec3 [3]float64

func (v vec3) dot(w vec3) float64   { return v[0]*w[0] + v[1]*w[1] + v[2]*w[2] }
func (v vec3) norm() float64        { return math.Sqrt(v.dot(v)) }
func (v vec3) scale(s float64) vec3 { return vec3{v[0] * s, v[1] * s, v[2] * s} }
func (v vec3) sub(w vec3) vec3      { return vec3{v[0] - w[0], v[1] - w[1], v[2] - w[2]} }
func (v vec3) cross(w vec3) vec3 {
	return vec3{v[1]*w[2] - v[2]*w[1], v[2]*w[0] - v[0]*w[2], v[0]*w[1] - v[1]*w[0]}
}

func clamp(v, lo, hi float64) float64 { return math.Max(lo, math.Min(hi, v)) }

func inverse3(m [3][3]float64) ([3][3]float64, bool) {
	det := m[0][0]*(m[1][1]*m[2][2]-m[1][2]*m[2][1]) -
		m[0][1]*(m[1][0]*m[2][2]-m[1][2]*m[2][0]) +
		m[0][2]*(m[1][0]*m[2][1]-m[1][1]*m[2][0])
	if math.Abs(det) < 1e-12 {
		return [3][3]float64{}, false
	}
	var r [3][3]float64
	r[0][0] = (m[1][1]*m[2][2] - m[1][2]*m[2][1]) / det
	r[0][1] = (m[0][2]*m[2][1] - m[0][1]*m[2][2]) / det
	r[0][2] = (m[0][1]*m[1][2] - m[0][2]*m[1][1]) / det
	r[1][0] = (m[1][2]*m[2][0] - m[1][0]*m[2][2]) / det
	r[1][1] = (m[0][0]*m[2][2] - m[0][2]*m[2][0]) / det
	r[1][2] = (m[0][2]*m[1][0] - m[0][0]*m[1][2]) / det
	r[2][0] = (m[1][0]*m[2][1] - m[1][1]*m[2][0]) / det
	r[2][1] = (m[0][1]*m[2][0] - m[0][0]*m[2][1]) / det
	r[2][2] = (m[0][0]*m[1][1] - m[0][1]*m[1][0]) / det
	return r, true
}
