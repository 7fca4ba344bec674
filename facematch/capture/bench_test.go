package capture

import (
	"image"
	"math/rand/v2"
	"testing"
	"time"

	"gocv.io/x/gocv"

	"github.com/facegate/facegate/facematch"
	"github.com/facegate/facegate/facematch/liveness"
	"github.com/facegate/facegate/facematch/liveness/synth"
	"github.com/facegate/facegate/facematch/quality"
)

// frame640 returns a shared photo letterboxed into an exact 640×480 frame.
func frame640(b *testing.B, path string) gocv.Mat {
	m := loadFrame(b, path)
	canvas := gocv.NewMatWithSize(FrameH, FrameW, gocv.MatTypeCV8UC3)
	r := image.Rect((FrameW-m.Cols())/2, (FrameH-m.Rows())/2, (FrameW-m.Cols())/2+m.Cols(), (FrameH-m.Rows())/2+m.Rows())
	dst := canvas.Region(r)
	m.CopyTo(&dst)
	dst.Close()
	wipeMat(&m)
	return canvas
}

// BenchmarkFrame measures, per 640×480 frame and in the same run, what a
// gate spends on extraction (Image + dlib ExtractImage: detection,
// landmarks, descriptor) and on the capture checks (Measure + the
// verification gate + DefaultMotion and DefaultBlink over the last 30
// frames, re-run on every frame). It reports both in ms/frame and
// checks/extract, their ratio.
func BenchmarkFrame(b *testing.B) {
	e := extractor(b)
	var path string
	for _, p := range photos(b) {
		if p.identity == "obama" {
			path = p.path
			break
		}
	}
	frame := frame640(b, path)
	defer wipeMat(&frame)
	img, _ := Image(frame)
	faces, err := e.ExtractImage(img)
	Wipe(img)
	if err != nil || len(faces) != 1 {
		b.Fatalf("setup: %d faces, %v", len(faces), err)
	}
	h, err := synth.Lift(faces[0].Landmarks)
	if err != nil {
		b.Fatal(err)
	}
	window := synth.BonaFide(h, synth.Params{Frames: 30, FPS: 15, Sway: 2, BlinkAt: 10, BlinkFrames: 3, Noise: 0.4}, rand.New(rand.NewPCG(1, 1)))
	live := liveness.All{liveness.DefaultMotion, liveness.DefaultBlink}
	var tExtract, tQuality, tLive time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		t0 := time.Now()
		img, err := Image(frame)
		if err != nil {
			b.Fatal(err)
		}
		fs, err := e.ExtractImage(img)
		Wipe(img)
		if err != nil {
			b.Fatal(err)
		}
		t1 := time.Now()
		q, err := Measure(frame, fs)
		if err != nil {
			b.Fatal(err)
		}
		_ = quality.Verification.Check(q)
		t2 := time.Now()
		// Slide the window: the newest frame's landmarks replace the oldest.
		copy(window, window[1:])
		window[len(window)-1] = liveness.Frame{Time: window[len(window)-2].Time + time.Second/15, Landmarks: fs[0].Landmarks}
		if _, err := live.Check(window); err != nil {
			b.Fatal(err)
		}
		t3 := time.Now()
		tExtract += t1.Sub(t0)
		tQuality += t2.Sub(t1)
		tLive += t3.Sub(t2)
	}
	n := float64(b.N)
	ms := func(d time.Duration) float64 { return float64(d) / n / 1e6 }
	b.ReportMetric(ms(tExtract), "extract-ms/frame")
	b.ReportMetric(ms(tQuality), "quality-ms/frame")
	b.ReportMetric(ms(tLive), "liveness-ms/frame")
	b.ReportMetric(float64(tQuality+tLive)/float64(tExtract), "checks/extract")
	_ = facematch.ErrNoFace
}
