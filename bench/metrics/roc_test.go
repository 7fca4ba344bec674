package metrics

import (
	"errors"
	"math"
	"testing"
)

func near(a, b float64) bool { return math.Abs(a-b) < 1e-6 }

func TestROCHandComputed(t *testing.T) {
	gen := []float32{0.3, 0.1, 0.6, 0.2}
	imp := []float32{0.9, 0.4, 0.8, 0.5, 0.7}
	c, err := ROC(gen, imp)
	if err != nil {
		t.Fatal(err)
	}
	// Accept d ≤ t; hand-tabulated (threshold, TAR, FAR).
	want := []struct{ thr, tar, far float64 }{
		{0.1, 0.25, 0}, {0.2, 0.5, 0}, {0.3, 0.75, 0},
		{0.4, 0.75, 0.2}, {0.5, 0.75, 0.4}, {0.6, 1, 0.4},
		{0.7, 1, 0.6}, {0.8, 1, 0.8}, {0.9, 1, 1},
	}
	if len(c.Points) != len(want)+1 {
		t.Fatalf("got %d points, want %d", len(c.Points), len(want)+1)
	}
	if p := c.Points[0]; p.TAR != 0 || p.FAR != 0 || !(p.Threshold < 0.1) {
		t.Errorf("first point %+v, want an accept-nothing point below 0.1", p)
	}
	for i, w := range want {
		p := c.Points[i+1]
		if !near(p.Threshold, w.thr) || !near(p.TAR, w.tar) || !near(p.FAR, w.far) {
			t.Errorf("point %d = %+v, want thr %v TAR %v FAR %v", i+1, p, w.thr, w.tar, w.far)
		}
	}
	if c.Genuine != 4 || c.Impostor != 5 {
		t.Errorf("counts %d/%d, want 4/5", c.Genuine, c.Impostor)
	}
	// The inputs are untouched.
	if gen[0] != 0.3 || imp[0] != 0.9 {
		t.Error("ROC sorted its inputs in place")
	}

	// FRR−FAR: 0.05 at t=0.4, −0.15 at t=0.5 → a = 0.25, EER = 0.2+0.25·0.2.
	e, err := c.EqualErrorRate()
	if err != nil {
		t.Fatal(err)
	}
	if !near(e.Rate, 0.25) || !near(e.Threshold, 0.425) {
		t.Errorf("EER = %+v, want rate 0.25 at 0.425", e)
	}
}

func TestEERTiesAndSeparation(t *testing.T) {
	tests := []struct {
		name     string
		gen, imp []float32
		rate     float64
		thr      float64
	}{
		// One step from (FAR 0, FRR 1) to (0.5, 0): FRR−FAR goes 1 → −0.5,
		// crossing at a = 2/3, rate 1/3.
		{"all tied", []float32{0.5, 0.5}, []float32{0.5, 0.9}, 1.0 / 3, 0.5},
		// Separated: FRR reaches 0 while FAR is still 0.
		{"separated", []float32{0.1, 0.2}, []float32{0.8, 0.9}, 0, 0.2},
		// Fully inverted: every impostor is closer than every genuine pair.
		{"inverted", []float32{0.8, 0.9}, []float32{0.1, 0.2}, 1, 0.2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := ROC(tt.gen, tt.imp)
			if err != nil {
				t.Fatal(err)
			}
			e, err := c.EqualErrorRate()
			if err != nil {
				t.Fatal(err)
			}
			if !near(e.Rate, tt.rate) || !near(e.Threshold, tt.thr) {
				t.Errorf("EER = %+v, want rate %v at %v", e, tt.rate, tt.thr)
			}
		})
	}
}

func TestTARAtFAR(t *testing.T) {
	c, err := ROC([]float32{0.3, 0.1, 0.6, 0.2}, []float32{0.9, 0.4, 0.8, 0.5, 0.7})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		target           float64
		thr, tar, far    float64
		gAcc, iAcc, need int
		enough           bool
	}{
		{0.2, 0.4, 0.75, 0.2, 3, 1, 5, true}, // FAR exactly on target is allowed
		{0.19, 0.3, 0.75, 0, 3, 0, 6, false}, // just under: back to the last FAR-0 point
		{0.5, 0.6, 1, 0.4, 4, 2, 2, true},    // highest threshold with FAR ≤ 0.5
		{0.999, 0.8, 1, 0.8, 4, 4, 2, true},  // everything below the last impostor
	}
	for _, tt := range tests {
		a, err := c.TARAtFAR(tt.target)
		if err != nil {
			t.Fatal(err)
		}
		if !near(a.Threshold, tt.thr) || !near(a.TAR, tt.tar) || !near(a.FAR, tt.far) ||
			a.GenuineAccepted != tt.gAcc || a.ImpostorAccepted != tt.iAcc ||
			a.MinImpostor != tt.need || a.Enough != tt.enough || a.Genuine != 4 || a.Impostor != 5 {
			t.Errorf("TARAtFAR(%v) = %+v, want thr %v TAR %v FAR %v acc %d/%d need %d enough %v",
				tt.target, a, tt.thr, tt.tar, tt.far, tt.gAcc, tt.iAcc, tt.need, tt.enough)
		}
	}

	// A target below the first impostor's FAR keeps only the FAR-0 points;
	// when the closest pair is an impostor that is the accept-nothing point.
	c2, _ := ROC([]float32{0.5, 0.6}, []float32{0.1, 0.9})
	a, err := c2.TARAtFAR(0.01)
	if err != nil {
		t.Fatal(err)
	}
	if a.TAR != 0 || a.FAR != 0 || !(a.Threshold < 0.1) || a.Enough {
		t.Errorf("TARAtFAR(0.01) = %+v, want TAR 0 below threshold 0.1, not enough pairs", a)
	}

	for _, bad := range []float64{0, 1, -0.1, 2, math.NaN()} {
		if _, err := c.TARAtFAR(bad); !errors.Is(err, ErrTarget) {
			t.Errorf("TARAtFAR(%v) error %v, want ErrTarget", bad, err)
		}
	}
}

func TestMinImpostorPairs(t *testing.T) {
	for far, want := range map[float64]int{0.01: 100, 0.001: 1000, 0.0001: 10000, 0.3: 4, 0.5: 2} {
		if got := MinImpostorPairs(far); got != want {
			t.Errorf("MinImpostorPairs(%v) = %d, want %d", far, got, want)
		}
	}
}

func TestEmptyAndInvalid(t *testing.T) {
	if _, err := ROC(nil, []float32{1}); !errors.Is(err, ErrNoGenuine) {
		t.Errorf("no genuine: %v", err)
	}
	if _, err := ROC([]float32{1}, nil); !errors.Is(err, ErrNoImpostor) {
		t.Errorf("no impostor: %v", err)
	}
	nan := float32(math.NaN())
	if _, err := ROC([]float32{nan}, []float32{1}); !errors.Is(err, ErrNotFinite) {
		t.Errorf("NaN genuine: %v", err)
	}
	if _, err := ROC([]float32{1}, []float32{float32(math.Inf(1))}); !errors.Is(err, ErrNotFinite) {
		t.Errorf("Inf impostor: %v", err)
	}
	var c Curve
	if _, err := c.EqualErrorRate(); !errors.Is(err, ErrNoGenuine) {
		t.Errorf("zero curve EER: %v", err)
	}
	if _, err := c.TARAtFAR(0.01); !errors.Is(err, ErrNoGenuine) {
		t.Errorf("zero curve TAR: %v", err)
	}
}

func TestProbit(t *testing.T) {
	for p, want := range map[float64]float64{0.5: 0, 0.8413447460685429: 1, 0.022750131948179195: -2} {
		if got := Probit(p); math.Abs(got-want) > 1e-9 {
			t.Errorf("Probit(%v) = %v, want %v", p, got, want)
		}
	}
}

func TestThin(t *testing.T) {
	gen := make([]float32, 5000)
	imp := make([]float32, 5000)
	for i := range gen {
		gen[i] = float32(i) / 5000
		imp[i] = 0.5 + float32(i)/5000
	}
	c, _ := ROC(gen, imp)
	th := c.Thin(100)
	// 100 TAR steps plus 100 per decade of FAR (1/5000 … 1: 3.7 decades).
	if len(th.Points) > 100+370+2 || len(th.Points) < 100 {
		t.Errorf("thinned to %d points, want 100-472", len(th.Points))
	}
	if th.Points[0] != c.Points[0] || th.Points[len(th.Points)-1] != c.Points[len(c.Points)-1] {
		t.Error("thinning dropped an end point")
	}
	e1, _ := c.EqualErrorRate()
	e2, _ := th.EqualErrorRate()
	if math.Abs(e1.Rate-e2.Rate) > 0.01 {
		t.Errorf("EER moved from %v to %v by thinning", e1.Rate, e2.Rate)
	}
	small := Curve{Genuine: 1, Impostor: 1, Points: []Point{{}, {FAR: 1, TAR: 1}}}
	if got := small.Thin(100); len(got.Points) != 2 {
		t.Errorf("short curve changed: %+v", got)
	}
}

func TestAt(t *testing.T) {
	c, _ := ROC([]float32{0.3, 0.1, 0.6, 0.2}, []float32{0.9, 0.4, 0.8, 0.5, 0.7})
	tests := []struct {
		t          float64
		gAcc, iAcc int
	}{{0, 0, 0}, {0.1, 1, 0}, {0.35, 3, 0}, {0.4, 3, 1}, {0.65, 4, 2}, {5, 4, 5}}
	for _, tt := range tests {
		p := c.At(tt.t)
		if p.GenuineAccepted != tt.gAcc || p.ImpostorAccepted != tt.iAcc || p.Threshold != tt.t {
			t.Errorf("At(%v) = %+v, want %d genuine and %d impostor accepted", tt.t, p, tt.gAcc, tt.iAcc)
		}
	}
	if p := (Curve{}).At(0.5); p.TAR != 0 || p.FAR != 0 {
		t.Errorf("empty curve At = %+v", p)
	}
}
