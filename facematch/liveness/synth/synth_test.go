package synth_test

import (
	"image"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/facegate/facegate/facematch/liveness/synth"
	"github.com/facegate/facegate/facematch/quality"
)

func TestProjectAtRestGivesTheFace(t *testing.T) {
	h, err := synth.Lift(synth.MeanFace)
	if err != nil {
		t.Fatal(err)
	}
	got := h.Project(synth.Pose{})
	for i, p := range got {
		d := p.Sub(synth.MeanFace[i])
		if d.X*d.X+d.Y*d.Y > 1 { // rounding only
			t.Errorf("point %d: %v, want %v", i, p, synth.MeanFace[i])
		}
	}
	moved := h.Project(synth.Pose{DX: 10, DY: -5})
	if moved[30].Sub(got[30]) != image.Pt(10, -5) {
		t.Errorf("translation moved the nose tip by %v", moved[30].Sub(got[30]))
	}
}

func TestBlinkAndTurn(t *testing.T) {
	h, _ := synth.Lift(synth.MeanFace)
	open, _, _ := quality.EyeAspectRatio(h.Project(synth.Pose{}))
	half, _, _ := quality.EyeAspectRatio(h.Project(synth.Pose{Blink: 0.5}))
	if math.Abs(half-open/2) > 0.05 {
		t.Errorf("half blink EAR %.3f, want about %.3f", half, open/2)
	}
	// Turning toward the image's right moves the nose tip right of the
	// eyes' midpoint.
	lm := h.Project(synth.Pose{Yaw: 20})
	mid := (lm[39].X + lm[42].X) / 2
	if lm[30].X <= mid {
		t.Errorf("yaw +20°: nose tip x %d not right of the eyes' midpoint %d", lm[30].X, mid)
	}
}

func TestBonaFide(t *testing.T) {
	h, _ := synth.Lift(synth.MeanFace)
	p := synth.Params{Frames: 30, FPS: 15, Sway: 3, Drift: 2, BlinkAt: 10, BlinkFrames: 3, Noise: 0.5}
	a := synth.BonaFide(h, p, rand.New(rand.NewPCG(1, 2)))
	b := synth.BonaFide(h, p, rand.New(rand.NewPCG(1, 2)))
	if len(a) != 30 {
		t.Fatalf("%d frames", len(a))
	}
	for i := range a {
		if a[i].Time != b[i].Time || len(a[i].Landmarks) != 68 {
			t.Fatalf("frame %d differs between equal seeds or has %d points", i, len(a[i].Landmarks))
		}
		for j := range a[i].Landmarks {
			if a[i].Landmarks[j] != b[i].Landmarks[j] {
				t.Fatalf("same seed, different landmarks at frame %d", i)
			}
		}
		if i > 0 && a[i].Time <= a[i-1].Time {
			t.Fatalf("time does not increase at frame %d", i)
		}
	}
	e10, _, _ := quality.EyeAspectRatio(a[10].Landmarks)
	e5, _, _ := quality.EyeAspectRatio(a[5].Landmarks)
	if e10 > e5/2 {
		t.Errorf("blink frame EAR %.3f not under half the open %.3f", e10, e5)
	}
}

func TestLiftErrors(t *testing.T) {
	if _, err := synth.Lift(synth.MeanFace[:10]); err == nil {
		t.Error("Lift of 10 points succeeded")
	}
	if _, err := synth.Lift(make([]image.Point, 68)); err == nil {
		t.Error("Lift of a collapsed face succeeded")
	}
}
