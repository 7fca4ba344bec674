package liveness_test

import (
	"errors"
	"fmt"
	"image"
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/facegate/facegate/facematch/liveness"
	"github.com/facegate/facegate/facematch/liveness/synth"
)

func head(t testing.TB) synth.Head {
	t.Helper()
	h, err := synth.Lift(synth.MeanFace)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// live is a 3 s, 15 fps synthetic bona fide sequence of a person asked to
// turn their head a little (8° sway), 2 px drift, 0.5 px detector noise,
// one 200 ms blink at 1 s.
var live = synth.Params{Frames: 45, FPS: 15, Sway: 8, Drift: 2, BlinkAt: 15, BlinkFrames: 3, Noise: 0.5}

func with(p synth.Params, f func(*synth.Params)) synth.Params { f(&p); return p }

// still repeats lm n times, 1/15 s apart.
func still(lm []image.Point, n int) []liveness.Frame {
	fs := make([]liveness.Frame, n)
	for i := range fs {
		fs[i] = liveness.Frame{Time: time.Duration(i) * time.Second / 15, Landmarks: lm}
	}
	return fs
}

func TestBlink(t *testing.T) {
	h := head(t)
	rng := rand.New(rand.NewPCG(1, 2))
	tests := []struct {
		name   string
		frames []liveness.Frame
		b      liveness.Blink
		want   bool
	}{
		{"one blink", synth.BonaFide(h, live, rng), liveness.DefaultBlink, true},
		{"one-frame blink", synth.BonaFide(h, with(live, func(p *synth.Params) { p.BlinkFrames = 1 }), rng), liveness.DefaultBlink, true},
		{"no blink", synth.BonaFide(h, with(live, func(p *synth.Params) { p.BlinkAt = -1 }), rng), liveness.DefaultBlink, false},
		{"eyes shut 800 ms", synth.BonaFide(h, with(live, func(p *synth.Params) { p.BlinkFrames = 12 }), rng), liveness.DefaultBlink, false},
		{"eyes always shut", synth.BonaFide(h, with(live, func(p *synth.Params) { p.BlinkAt, p.BlinkFrames = 0, 45 }), rng), liveness.DefaultBlink, false},
		{"blink after the window", synth.BonaFide(h, with(live, func(p *synth.Params) { p.Frames, p.BlinkAt = 120, 90 }), rng), liveness.DefaultBlink, false},
		{"still photo", still(synth.MeanFace, 45), liveness.DefaultBlink, false},
		{"one blink, two asked", synth.BonaFide(h, live, rng), with2(liveness.DefaultBlink), false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r, err := tc.b.Check(tc.frames)
			if err != nil {
				t.Fatal(err)
			}
			if r.Live != tc.want || len(r.Evidence) != 1 || r.Evidence[0].Check != "blink" {
				t.Errorf("Live = %v, want %v; %+v", r.Live, tc.want, r.Evidence)
			}
			if r.Live != (r.Score >= 1) {
				t.Errorf("Live %v with score %.2f", r.Live, r.Score)
			}
		})
	}
}

func with2(b liveness.Blink) liveness.Blink { b.MinBlinks = 2; return b }

// TestBlinkRates measures the blink challenge on 500 synthetic sequences
// with a blink and 500 without, at 1 px landmark noise: it must find
// ≥ 99 % of the blinks and invent a blink in ≤ 1 % of the others.
func TestBlinkRates(t *testing.T) {
	h := head(t)
	rng := rand.New(rand.NewPCG(3, 4))
	const n = 500
	var found, invented int
	for i := 0; i < n; i++ {
		p := live
		p.Sway, p.Noise = 2, 1
		p.BlinkAt = 5 + rng.IntN(35)
		p.BlinkFrames = 1 + rng.IntN(5) // 67-333 ms
		if r, _ := liveness.DefaultBlink.Check(synth.BonaFide(h, p, rng)); r.Live {
			found++
		}
		p.BlinkAt = -1
		if r, _ := liveness.DefaultBlink.Check(synth.BonaFide(h, p, rng)); r.Live {
			invented++
		}
	}
	t.Logf("synthetic: blinks found %d/%d, blinks invented %d/%d", found, n, invented, n)
	if found < n*99/100 || invented > n/100 {
		t.Errorf("found %d/%d blinks (want ≥ 99 %%), invented %d/%d (want ≤ 1 %%)", found, n, invented, n)
	}
}

// planar maps lm by a fixed projective transform (a photo tilted toward
// the camera), rounding to pixels.
func planar(lm []image.Point, tilt float64, shift image.Point) []image.Point {
	out := make([]image.Point, len(lm))
	for i, p := range lm {
		x, y := float64(p.X)-320, float64(p.Y)-240
		w := 1 + tilt*x/640
		out[i] = image.Pt(int(math.Round((1.02*x+0.03*y)/w+320))+shift.X, int(math.Round((0.98*y-0.02*x)/w+240))+shift.Y)
	}
	return out
}

func TestMotion(t *testing.T) {
	h := head(t)
	rng := rand.New(rand.NewPCG(5, 6))
	var tilted []liveness.Frame
	for i := 0; i < 15; i++ {
		tilted = append(tilted, liveness.Frame{
			Time:      time.Duration(i) * 66 * time.Millisecond,
			Landmarks: planar(synth.MeanFace, 0.1*math.Sin(float64(i)), image.Pt(i%3, -i%4)),
		})
	}
	tests := []struct {
		name   string
		frames []liveness.Frame
		want   bool
	}{
		{"repeated frame", still(synth.MeanFace, 15), false},
		{"photo moved and tilted", tilted, false},
		{"live sway and blink", synth.BonaFide(h, live, rng), true},
		{"live turn, no blink", synth.BonaFide(h, with(live, func(p *synth.Params) { p.BlinkAt = -1 }), rng), true},
		{"held still", synth.BonaFide(h, with(live, func(p *synth.Params) { p.Sway, p.Drift, p.Noise = 0, 0, 0.3 }), rng), false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r, err := liveness.DefaultMotion.Check(tc.frames)
			if err != nil {
				t.Fatal(err)
			}
			if r.Live != tc.want {
				t.Errorf("Live = %v, want %v; %+v", r.Live, tc.want, r.Evidence)
			}
		})
	}
}

func TestPlanarResidual(t *testing.T) {
	a := synth.MeanFace
	if r := liveness.PlanarResidual(a, a); r > 1e-6 {
		t.Errorf("identical sets: residual %g, want 0", r)
	}
	if r := liveness.PlanarResidual(a, planar(a, 0.2, image.Pt(7, -3))); r > 0.6 {
		t.Errorf("projective image of the set: residual %.3f px, want rounding noise (< 0.6)", r)
	}
	b := append([]image.Point(nil), a...)
	b[30] = b[30].Add(image.Pt(12, 0)) // the nose tip alone moves
	if r := liveness.PlanarResidual(a, b); r < 1 {
		t.Errorf("non-rigid change: residual %.3f px, want > 1", r)
	}
	for _, bad := range [][2][]image.Point{{a, a[:60]}, {a[:4], a[:4]}, {nil, nil}} {
		if r := liveness.PlanarResidual(bad[0], bad[1]); !math.IsNaN(r) {
			t.Errorf("lengths %d/%d: %g, want NaN", len(bad[0]), len(bad[1]), r)
		}
	}
}

func TestBadFrames(t *testing.T) {
	ok := still(synth.MeanFace, 10)
	short := append(still(synth.MeanFace, 9), liveness.Frame{Time: time.Second, Landmarks: synth.MeanFace[:5]})
	backwards := still(synth.MeanFace, 10)
	backwards[5].Time = 0
	flat := make([]image.Point, 68)
	tests := []struct {
		name   string
		frames []liveness.Frame
	}{
		{"no frames", nil},
		{"two frames", ok[:2]},
		{"five landmarks", short},
		{"time goes back", backwards},
		{"collapsed face", still(flat, 10)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			for _, l := range []liveness.Liveness{liveness.DefaultBlink, liveness.DefaultMotion, liveness.All{liveness.DefaultMotion, liveness.DefaultBlink}} {
				if _, err := l.Check(tc.frames); !errors.Is(err, liveness.ErrFrames) {
					t.Errorf("%T: err %v, want ErrFrames", l, err)
				}
			}
		})
	}
}

func TestAll(t *testing.T) {
	h := head(t)
	rng := rand.New(rand.NewPCG(7, 8))
	all := liveness.All{liveness.DefaultMotion, liveness.DefaultBlink}
	r, err := all.Check(synth.BonaFide(h, live, rng))
	if err != nil || !r.Live || len(r.Evidence) != 2 || r.Score < 1 {
		t.Errorf("live sequence: %+v, %v", r, err)
	}
	r, err = all.Check(synth.BonaFide(h, with(live, func(p *synth.Params) { p.BlinkAt = -1 }), rng))
	if err != nil || r.Live || r.Score >= 1 || !r.Evidence[0].Pass || r.Evidence[1].Pass {
		t.Errorf("moving, not blinking: %+v, %v", r, err)
	}
	if r, _ := (liveness.All{}).Check(still(synth.MeanFace, 5)); r.Live {
		t.Error("empty All passed")
	}
}

func FuzzPlanarResidual(f *testing.F) {
	f.Add(int64(1), 3.0)
	f.Fuzz(func(t *testing.T, seed int64, scale float64) {
		rng := rand.New(rand.NewPCG(uint64(seed), 9))
		a := make([]image.Point, 68)
		b := make([]image.Point, 68)
		s := int(math.Min(math.Abs(scale), 1e6)) + 1
		for i := range a {
			a[i] = image.Pt(rng.IntN(s), rng.IntN(s))
			b[i] = image.Pt(rng.IntN(s), rng.IntN(s))
		}
		r := liveness.PlanarResidual(a, b)
		if r < 0 || math.IsInf(r, 0) {
			t.Fatalf("residual %g", r)
		}
		// b taken as an exact integer similarity of a (a scale of 1 to
		// 4, a quarter turn or none, a shift): a plane homography maps a
		// onto it, so the residual must be about zero (not NaN: the fit's
		// ridge keeps even one repeated point solvable). r alone, a square
		// root, can never be negative.
		k := 1 + rng.IntN(4)
		turn := rng.IntN(2) == 1
		shift := image.Pt(rng.IntN(2*s+1)-s, rng.IntN(2*s+1)-s)
		for i, p := range a {
			if turn {
				p = image.Pt(-p.Y, p.X)
			}
			b[i] = p.Mul(k).Add(shift)
		}
		if r := liveness.PlanarResidual(a, b); !(r <= 1e-6*float64(k*s)) {
			t.Fatalf("residual %g for a similarity (scale %d, turn %v, shift %v) of points on a %d-pixel grid", r, k, turn, shift, s)
		}
	})
}

func ExampleAll() {
	h, _ := synth.Lift(synth.MeanFace)
	rng := rand.New(rand.NewPCG(1, 1))
	// A person asked to blink and turn their head slightly, seen for 3 s.
	frames := synth.BonaFide(h, synth.Params{Frames: 45, FPS: 15, Sway: 8, BlinkAt: 20, BlinkFrames: 3, Noise: 0.5}, rng)
	r, _ := liveness.All{liveness.DefaultMotion, liveness.DefaultBlink}.Check(frames)
	fmt.Println("live:", r.Live)

	photo := make([]liveness.Frame, 45)
	for i := range photo {
		photo[i] = liveness.Frame{Time: time.Duration(i) * time.Second / 15, Landmarks: synth.MeanFace}
	}
	r, _ = liveness.All{liveness.DefaultMotion, liveness.DefaultBlink}.Check(photo)
	fmt.Println("photo:", r.Live, r.Score)
	// Output:
	// live: true
	// photo: false 0
}

// FuzzCheck feeds arbitrary landmark sequences to every check: each must
// return a result or an ErrFrames error, never panic or give a NaN score,
// and be Live exactly when its score is at least 1.
func FuzzCheck(f *testing.F) {
	f.Add([]byte{1, 2, 3}, uint8(10))
	f.Add(make([]byte, 68*2*10), uint8(10))
	f.Fuzz(func(t *testing.T, data []byte, n uint8) {
		frames := make([]liveness.Frame, int(n%40))
		k := 0
		for i := range frames {
			lm := make([]image.Point, 68)
			for j := range lm {
				var x, y int
				if k+1 < len(data) {
					x, y = int(data[k]), int(data[k+1])
					k += 2
				}
				lm[j] = image.Pt(x, y)
			}
			frames[i] = liveness.Frame{Time: time.Duration(i) * time.Millisecond, Landmarks: lm}
		}
		for _, l := range []liveness.Liveness{liveness.DefaultBlink, liveness.DefaultMotion} {
			r, err := l.Check(frames)
			if err != nil {
				if !errors.Is(err, liveness.ErrFrames) {
					t.Fatalf("%T: error %v does not match ErrFrames", l, err)
				}
				continue
			}
			if math.IsNaN(r.Score) {
				t.Fatalf("%T: NaN score", l)
			}
			// Result's contract: Score is at least 1 exactly when Live.
			if r.Score < 0 || r.Live != (r.Score >= 1) {
				t.Fatalf("%T: Live %v with score %g", l, r.Live, r.Score)
			}
		}
	})
}

func TestPassive(t *testing.T) {
	frames := func(scores ...float64) []liveness.Frame {
		f := make([]liveness.Frame, len(scores))
		for i, s := range scores {
			f[i] = liveness.Frame{Time: time.Duration(i) * time.Millisecond, Passive: s}
		}
		return f
	}
	p := liveness.Passive{MinScore: 0.5}
	for _, tc := range []struct {
		name   string
		scores []float64
		live   bool
	}{
		{"all live", []float64{0.9, 0.8, 0.95}, true},
		{"one bad frame", []float64{0.9, 0.1, 0.95}, true},
		{"mostly attack", []float64{0.9, 0.1, 0.2}, false},
		{"even count median", []float64{0.4, 0.6}, true},
		{"unscored frames count as attacks", []float64{0, 0, 0.99}, false},
	} {
		r, err := p.Check(frames(tc.scores...))
		if err != nil || r.Live != tc.live || len(r.Evidence) != 1 || r.Evidence[0].Check != "passive" {
			t.Errorf("%s: %+v, %v; want live=%v", tc.name, r, err, tc.live)
		}
	}
	for _, bad := range [][]float64{{}, {0.5, 1.5}, {-0.1}} {
		if _, err := p.Check(frames(bad...)); !errors.Is(err, liveness.ErrFrames) {
			t.Errorf("%v: %v, want ErrFrames", bad, err)
		}
	}
}
