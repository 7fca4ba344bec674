package quality_test

import (
	"errors"
	"fmt"
	"image"
	"math"
	"testing"

	"github.com/facegate/facegate/facematch/liveness/synth"
	"github.com/facegate/facegate/facematch/quality"
)

func TestEstimatePoseRecoversSyntheticPose(t *testing.T) {
	h, err := synth.Lift(synth.MeanFace)
	if err != nil {
		t.Fatal(err)
	}
	base, err := quality.EstimatePose(synth.MeanFace)
	if err != nil {
		t.Fatal(err)
	}
	if math.Abs(base.Yaw) > 3 || math.Abs(base.Roll) > 1 || math.Abs(base.Pitch) > 8 {
		t.Errorf("mean face: %v, want near frontal", base)
	}
	tests := []struct{ yaw, pitch, roll float64 }{
		{0, 0, 0}, {15, 0, 0}, {-15, 0, 0}, {30, 0, 0}, {-30, 0, 0},
		{0, 15, 0}, {0, -15, 0}, {0, 0, 10}, {0, 0, -20}, {10, -10, 5},
	}
	for _, tc := range tests {
		t.Run(fmt.Sprintf("y%vp%vr%v", tc.yaw, tc.pitch, tc.roll), func(t *testing.T) {
			lm := h.Project(synth.Pose{Yaw: tc.yaw, Pitch: tc.pitch, Roll: tc.roll})
			p, err := quality.EstimatePose(lm)
			if err != nil {
				t.Fatal(err)
			}
			// Pose changes are recovered relative to the mean face's own
			// estimate; the generic model and the synthetic depths differ,
			// hence the tolerance.
			dy, dp, dr := p.Yaw-base.Yaw, p.Pitch-base.Pitch, p.Roll-base.Roll
			if math.Abs(dy-tc.yaw) > 0.25*math.Abs(tc.yaw)+2 ||
				math.Abs(dp-tc.pitch) > 0.3*math.Abs(tc.pitch)+2 ||
				math.Abs(dr-tc.roll) > 1.5 {
				t.Errorf("estimated change yaw %.1f pitch %.1f roll %.1f, want %v %v %v", dy, dp, dr, tc.yaw, tc.pitch, tc.roll)
			}
		})
	}
}

func TestInterOcularAndEAR(t *testing.T) {
	iod, err := quality.InterOcular(synth.MeanFace)
	if err != nil {
		t.Fatal(err)
	}
	if math.Abs(iod-80) > 1 {
		t.Errorf("InterOcular(MeanFace) = %.2f, want 80 (its construction)", iod)
	}
	l, r, err := quality.EyeAspectRatio(synth.MeanFace)
	if err != nil {
		t.Fatal(err)
	}
	if l < 0.2 || l > 0.4 || r < 0.2 || r > 0.4 {
		t.Errorf("EAR of open mean eyes = %.3f, %.3f, want 0.2-0.4", l, r)
	}
	h, _ := synth.Lift(synth.MeanFace)
	cl, cr, err := quality.EyeAspectRatio(h.Project(synth.Pose{Blink: 1}))
	if err != nil {
		t.Fatal(err)
	}
	if cl > 0.05 || cr > 0.05 {
		t.Errorf("EAR of shut eyes = %.3f, %.3f, want under 0.05", cl, cr)
	}
}

func TestBadLandmarks(t *testing.T) {
	flat := make([]image.Point, 68) // every point at the origin
	tests := []struct {
		name string
		lm   []image.Point
	}{
		{"nil", nil},
		{"five points", make([]image.Point, 5)},
		{"69 points", make([]image.Point, 69)},
		{"all coincide", flat},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := quality.EstimatePose(tc.lm); !errors.Is(err, quality.ErrLandmarks) {
				t.Errorf("EstimatePose: err %v, want ErrLandmarks", err)
			}
			if _, _, err := quality.EyeAspectRatio(tc.lm); !errors.Is(err, quality.ErrLandmarks) {
				t.Errorf("EyeAspectRatio: err %v, want ErrLandmarks", err)
			}
			var m quality.Measurement
			if err := m.Geometry(tc.lm); !errors.Is(err, quality.ErrLandmarks) {
				t.Errorf("Geometry: err %v, want ErrLandmarks", err)
			}
		})
	}
}

// good is a measurement that passes both gates.
var good = quality.Measurement{Faces: 1, InterOcular: 60, Sharpness: 200, Brightness: 130}

func TestCheckReasons(t *testing.T) {
	with := func(f func(*quality.Measurement)) quality.Measurement { m := good; f(&m); return m }
	tests := []struct {
		name string
		m    quality.Measurement
		cfg  quality.Config
		want []quality.Reason
	}{
		{"good enroll", good, quality.Enrollment, nil},
		{"good verify", good, quality.Verification, nil},
		{"no face", quality.Measurement{}, quality.Enrollment, []quality.Reason{quality.NoFace}},
		{"two faces", with(func(m *quality.Measurement) { m.Faces = 2; m.Brightness = 0 }), quality.Enrollment, []quality.Reason{quality.MultipleFaces}},
		{"small", with(func(m *quality.Measurement) { m.InterOcular = 30 }), quality.Enrollment, []quality.Reason{quality.TooSmall}},
		{"small ok for verify", with(func(m *quality.Measurement) { m.InterOcular = 30 }), quality.Verification, nil},
		{"yaw", with(func(m *quality.Measurement) { m.Pose.Yaw = -30 }), quality.Enrollment, []quality.Reason{quality.PoseOff}},
		{"pitch", with(func(m *quality.Measurement) { m.Pose.Pitch = 40 }), quality.Verification, []quality.Reason{quality.PoseOff}},
		{"roll", with(func(m *quality.Measurement) { m.Pose.Roll = 20 }), quality.Enrollment, []quality.Reason{quality.PoseOff}},
		{"dark", with(func(m *quality.Measurement) { m.Brightness = 30 }), quality.Verification, []quality.Reason{quality.TooDark}},
		{"clipped black", with(func(m *quality.Measurement) { m.Dark = 0.5 }), quality.Enrollment, []quality.Reason{quality.TooDark}},
		{"bright", with(func(m *quality.Measurement) { m.Brightness = 240 }), quality.Enrollment, []quality.Reason{quality.TooBright}},
		{"clipped white", with(func(m *quality.Measurement) { m.Bright = 0.4 }), quality.Verification, []quality.Reason{quality.TooBright}},
		{"blurred", with(func(m *quality.Measurement) { m.Sharpness = 10 }), quality.Verification, []quality.Reason{quality.Blurred}},
		{"several", with(func(m *quality.Measurement) { m.InterOcular = 10; m.Sharpness = 1; m.Brightness = 20 }), quality.Verification,
			[]quality.Reason{quality.TooSmall, quality.TooDark, quality.Blurred}},
		{"zero config accepts", with(func(m *quality.Measurement) { m.InterOcular = 1; m.Sharpness = 0 }), quality.Config{}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.cfg.Check(tc.m)
			if tc.want == nil {
				if err != nil {
					t.Fatalf("Check = %v, want nil", err)
				}
				return
			}
			var rej *quality.Rejection
			if !errors.As(err, &rej) {
				t.Fatalf("Check = %v, want *Rejection", err)
			}
			if fmt.Sprint(rej.Reasons) != fmt.Sprint(tc.want) {
				t.Errorf("reasons %v, want %v", rej.Reasons, tc.want)
			}
			for _, r := range tc.want {
				if !errors.Is(err, r) {
					t.Errorf("errors.Is(err, %v) = false", r)
				}
			}
			if rej.Message() != tc.want[0].Message() || rej.Message() == "" {
				t.Errorf("Message() = %q, want %q", rej.Message(), tc.want[0].Message())
			}
		})
	}
}

func TestReasonText(t *testing.T) {
	want := map[quality.Reason]string{
		quality.NoFace: "look at the camera", quality.MultipleFaces: "only one person please",
		quality.TooSmall: "move closer", quality.PoseOff: "look at the camera",
		quality.TooDark: "too dark", quality.TooBright: "too bright", quality.Blurred: "hold still",
	}
	for r, msg := range want {
		if r.Message() != msg {
			t.Errorf("%v.Message() = %q, want %q", r, r.Message(), msg)
		}
		if r.String() == "" || r.Error() != "quality: "+r.String() {
			t.Errorf("%d: String %q Error %q", r, r.String(), r.Error())
		}
	}
	if bad := quality.Reason(200); bad.Message() != "" || bad.String() != "quality.Reason(200)" {
		t.Errorf("invalid reason: %q %q", bad.Message(), bad.String())
	}
}

func ExampleConfig_Check() {
	m := quality.Measurement{Faces: 1, InterOcular: 20, Sharpness: 150, Brightness: 25}
	err := quality.Verification.Check(m)
	var rej *quality.Rejection
	if errors.As(err, &rej) {
		fmt.Println(rej.Message())
		fmt.Println(errors.Is(err, quality.TooDark))
	}
	// Output:
	// move closer
	// true
}

func ExampleEstimatePose() {
	h, _ := synth.Lift(synth.MeanFace)
	p, _ := quality.EstimatePose(h.Project(synth.Pose{Roll: 12}))
	fmt.Printf("roll %.0f°\n", p.Roll)
	// Output:
	// roll 12°
}
