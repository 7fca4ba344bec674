package capture

import (
	"errors"
	"image"
	"image/color"
	"path/filepath"
	"testing"

	"gocv.io/x/gocv"

	"github.com/facegate/facegate/facematch"
	"github.com/facegate/facegate/facematch/quality"
	"github.com/facegate/facegate/internal/testenv"
)

// rolled turns the frame about its centre so that the head's roll grows
// by deg degrees away from zero (in-plane head tilt).
func rolled(deg float64) func(gocv.Mat, quality.Measurement) gocv.Mat {
	return func(src gocv.Mat, q quality.Measurement) gocv.Mat {
		// OpenCV's positive angle turns the image counter-clockwise, which
		// lowers the roll of Pose (clockwise positive).
		angle := -deg
		if q.Pose.Roll < 0 {
			angle = deg
		}
		m := gocv.GetRotationMatrix2D(image.Pt(src.Cols()/2, src.Rows()/2), angle, 1)
		defer m.Close()
		dst := gocv.NewMat()
		gocv.WarpAffineWithParams(src, &dst, m, image.Pt(src.Cols(), src.Rows()), gocv.InterpolationLinear, gocv.BorderReplicate, color.RGBA{})
		return dst
	}
}

// faceBlur blurs the frame with a Gaussian of σ = IOD/k pixels: the same
// blur relative to the face, whatever its size.
func faceBlur(k float64) func(gocv.Mat, quality.Measurement) gocv.Mat {
	return func(src gocv.Mat, q quality.Measurement) gocv.Mat { return blurred(q.InterOcular/k)(src, 0) }
}

// iodOnly adapts a degradation that needs only the inter-ocular distance.
func iodOnly(f func(gocv.Mat, float64) gocv.Mat) func(gocv.Mat, quality.Measurement) gocv.Mat {
	return func(src gocv.Mat, q quality.Measurement) gocv.Mat { return f(src, q.InterOcular) }
}

// cropped keeps only the frame's bottom fifth: the face is cut away.
func cropped(src gocv.Mat, _ quality.Measurement) gocv.Mat {
	r := src.Region(image.Rect(0, src.Rows()*4/5, src.Cols(), src.Rows()))
	defer r.Close()
	return r.Clone()
}

// TestQualityReasons degrades good shared photos in memory and checks that
// the gate names the right reason for each: blur, darkening, brightening,
// downscaling, rotation (roll), cropping the face away, and group photos.
func TestQualityReasons(t *testing.T) {
	e := extractor(t)
	// Base photos: those that pass the enrollment gate with an
	// inter-ocular distance of at least 60 px (so that downscaling to
	// 26 px stays a clear "too small", not a lost face).
	var bases []string
	for _, p := range photos(t) {
		m := loadFrame(t, p.path)
		q, err := Measure(m, extract(t, e, m))
		wipeMat(&m)
		if err == nil && q.InterOcular >= 60 && quality.Enrollment.Check(q) == nil {
			bases = append(bases, p.path)
		}
	}
	if len(bases) < 3 {
		t.Fatalf("only %d base photos pass enrollment at ≥ 60 px", len(bases))
	}
	if len(bases) > 6 {
		bases = bases[:6]
	}
	tests := []struct {
		name    string
		degrade func(gocv.Mat, quality.Measurement) gocv.Mat
		cfg     quality.Config
		want    quality.Reason
	}{
		{"blur σ IOD/15", faceBlur(15), quality.Verification, quality.Blurred},
		{"blur σ IOD/30", faceBlur(30), quality.Enrollment, quality.Blurred},
		{"dark ×0.2", iodOnly(scaled(0.2)), quality.Verification, quality.TooDark},
		{"dark ×0.4", iodOnly(scaled(0.4)), quality.Enrollment, quality.TooDark},
		{"bright ×3", iodOnly(scaled(3)), quality.Verification, quality.TooBright},
		{"bright ×2.2", iodOnly(scaled(2.2)), quality.Enrollment, quality.TooBright},
		{"downscaled to 26 px", iodOnly(shrunk(26)), quality.Enrollment, quality.TooSmall},
		{"roll +32°", rolled(32), quality.Verification, quality.PoseOff},
		{"roll +22°", rolled(22), quality.Enrollment, quality.PoseOff},
		{"face cropped away", cropped, quality.Verification, quality.NoFace},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			// A degradation strong enough to lose the face (the
			// detector finds none) gives NoFace, also a correct request
			// to the person; one such base is tolerated, more mean the
			// degradation no longer tests its reason.
			lost := 0
			for _, path := range bases {
				m := loadFrame(t, path)
				q0, err := Measure(m, extract(t, e, m))
				if err != nil {
					t.Fatal(err)
				}
				d := tc.degrade(m, q0)
				wipeMat(&m)
				q, err := Measure(d, extract(t, e, d))
				wipeMat(&d)
				if err != nil {
					t.Fatalf("%s: %v", path, err)
				}
				if q.Faces == 0 && tc.want != quality.NoFace {
					lost++
					t.Logf("%s: the degraded frame shows no face", filepath.Base(filepath.Dir(path)))
					if lost > 1 {
						t.Errorf("%d of %d base photos lose their face", lost, len(bases))
					}
					continue
				}
				err = tc.cfg.Check(q)
				var rej *quality.Rejection
				if !errors.Is(err, tc.want) || !errors.As(err, &rej) {
					t.Errorf("%s: Check = %v, want reason %v (%+v)", filepath.Base(filepath.Dir(path)), err, tc.want, q)
					continue
				}
				if rej.Message() == "" {
					t.Errorf("%s: empty screen message", path)
				}
			}
		})
	}
}

func TestGroupPhotosGiveMultipleFaces(t *testing.T) {
	e := extractor(t)
	dir := testenv.Group(t)
	for _, name := range []string{"two_people.jpg", "obama_and_biden.jpg", "pristin.jpg"} {
		t.Run(name, func(t *testing.T) {
			m := gocv.IMRead(filepath.Join(dir, name), gocv.IMReadColor)
			if m.Empty() {
				t.Fatalf("cannot read %s", name)
			}
			// Group photos keep more pixels (1280×960) so that every face
			// stays detectable.
			m = fit(m, 2*FrameW, 2*FrameH)
			defer wipeMat(&m)
			faces := extract(t, e, m)
			q, err := Measure(m, faces)
			if err != nil {
				t.Fatal(err)
			}
			err = quality.Verification.Check(q)
			if !errors.Is(err, quality.MultipleFaces) {
				t.Fatalf("%d faces: Check = %v, want MultipleFaces", len(faces), err)
			}
			var rej *quality.Rejection
			if errors.As(err, &rej) && (len(rej.Reasons) != 1 || rej.Message() != "only one person please") {
				t.Errorf("reasons %v, message %q", rej.Reasons, rej.Message())
			}
		})
	}
}

func TestMeasureErrors(t *testing.T) {
	frame := gocv.NewMatWithSize(480, 640, gocv.MatTypeCV8UC3)
	defer frame.Close()
	lm := make([]image.Point, 68)
	for i := range lm {
		lm[i] = image.Pt(300+i%10*5, 200+i/10*5)
	}
	tests := []struct {
		name  string
		frame gocv.Mat
		faces []facematch.Face
	}{
		{"box outside the frame", frame, []facematch.Face{{Box: image.Rect(700, 500, 800, 600), Landmarks: lm}}},
		{"five landmarks", frame, []facematch.Face{{Box: image.Rect(10, 10, 100, 100), Landmarks: lm[:5]}}},
		{"empty frame", gocv.NewMat(), []facematch.Face{{Box: image.Rect(10, 10, 100, 100), Landmarks: lm}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := Measure(tc.frame, tc.faces); err == nil {
				t.Error("Measure succeeded")
			}
		})
	}
	if _, err := Sharpness(gocv.NewMat(), image.Rect(0, 0, 10, 10)); !errors.Is(err, ErrEmpty) {
		t.Errorf("Sharpness of an empty frame: %v, want ErrEmpty", err)
	}
	if q, err := Measure(frame, nil); err != nil || q.Faces != 0 {
		t.Errorf("no faces: %+v, %v", q, err)
	}
}

// TestPixelMeasures checks sharpness and exposure on synthetic frames
// whose answer is known.
func TestPixelMeasures(t *testing.T) {
	box := image.Rect(100, 100, 300, 300)
	flat := gocv.NewMatWithSizeFromScalar(gocv.NewScalar(128, 128, 128, 0), 480, 640, gocv.MatTypeCV8UC3)
	defer flat.Close()
	if s, err := Sharpness(flat, box); err != nil || s != 0 {
		t.Errorf("flat grey: sharpness %v, %v; want 0", s, err)
	}
	ex, err := MeasureExposure(flat, box)
	if err != nil || ex.Mean != 128 || ex.Dark != 0 || ex.Bright != 0 {
		t.Errorf("flat grey: %+v, %v", ex, err)
	}
	// A checkerboard is sharp; blurred, it is much less so.
	cb := gocv.NewMatWithSize(480, 640, gocv.MatTypeCV8UC3)
	defer cb.Close()
	for y := 0; y < 480; y++ {
		for x := 0; x < 640; x++ {
			if (x/8+y/8)%2 == 0 {
				cb.SetUCharAt(y, x*3, 255)
				cb.SetUCharAt(y, x*3+1, 255)
				cb.SetUCharAt(y, x*3+2, 255)
			}
		}
	}
	sharp, _ := Sharpness(cb, box)
	soft := blurred(3)(cb, 0)
	defer soft.Close()
	blur, _ := Sharpness(soft, box)
	if !(sharp > 10*blur) || blur <= 0 {
		t.Errorf("checkerboard sharpness %.1f, blurred %.1f: want sharp > 10× blurred", sharp, blur)
	}
	ex, _ = MeasureExposure(cb, box)
	if ex.Dark < 0.3 || ex.Bright < 0.3 || ex.Mean < 100 || ex.Mean > 155 {
		t.Errorf("checkerboard exposure %+v: want about half clipped each way", ex)
	}
}
