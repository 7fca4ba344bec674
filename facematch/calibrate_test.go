package facematch

import (
	"errors"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

func TestCalibrate(t *testing.T) {
	ten := []float32{0.5, 0.6, 0.7, 0.8, 0.9, 1.0, 1.1, 1.2, 1.3, 1.4}
	tests := []struct {
		name         string
		genuine      []float32
		impostor     []float32
		target       float64
		falseAccepts int
		trueAccepts  int
		below        float32 // the threshold is the largest float32 under this (0: see atLeast)
		atLeast      float32 // when below is 0: the threshold is >= this
	}{
		{"10% of ten", []float32{0.1, 0.2, 0.3, 0.4, 0.65}, ten, 0.10, 1, 4, 0.6, 0},
		{"9.99% of ten rounds down", []float32{0.1, 0.55}, ten, 0.0999, 0, 1, 0.5, 0},
		{"zero FAR", []float32{0.1, 0.5, 0.55}, ten, 0, 0, 1, 0.5, 0},
		{"all accepted", []float32{0.1, 2.5}, ten, 1, 10, 2, 0, 2.5},
		// Three impostors tie at 0.5: a threshold at 0.5 would accept
		// 4/5 = 80 %, so for any target under 80 % it must stay under 0.5.
		{"ties stay out", []float32{0.2, 0.45, 0.5}, []float32{0.3, 0.5, 0.5, 0.5, 0.9}, 0.6, 1, 2, 0.5, 0},
		{"ties fit", []float32{0.2, 0.45, 0.5}, []float32{0.3, 0.5, 0.5, 0.5, 0.9}, 0.8, 4, 3, 0.9, 0},
		{"all impostors tie", []float32{0.2}, []float32{0.4, 0.4, 0.4}, 0.5, 0, 1, 0.4, 0},
		// 0.29 * 100 is 28.999999999999996 in float64; 29/100 <= 0.29 still holds.
		{"float rounding of target*n", []float32{0.1}, hundred(), 0.29, 29, 1, float32(30) / 100, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g0, i0 := slices.Clone(tt.genuine), slices.Clone(tt.impostor)
			c, err := Calibrate(tt.genuine, tt.impostor, tt.target)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(g0, tt.genuine) || !slices.Equal(i0, tt.impostor) {
				t.Fatal("Calibrate modified its input")
			}
			t.Log(c)
			if c.FalseAccepts != tt.falseAccepts || c.TrueAccepts != tt.trueAccepts {
				t.Errorf("accepts: %d false, %d true; want %d, %d", c.FalseAccepts, c.TrueAccepts, tt.falseAccepts, tt.trueAccepts)
			}
			if c.FAR > tt.target {
				t.Errorf("FAR %v over target %v", c.FAR, tt.target)
			}
			if tt.below != 0 {
				if want := math.Nextafter32(tt.below, 0); c.Threshold != want {
					t.Errorf("threshold %v, want %v", c.Threshold, want)
				}
			} else if c.Threshold < tt.atLeast {
				t.Errorf("threshold %v, want >= %v", c.Threshold, tt.atLeast)
			}
			if c.NGenuine != len(tt.genuine) || c.NImpostor != len(tt.impostor) || c.TargetFAR != tt.target {
				t.Errorf("counts %d/%d target %v", c.NGenuine, c.NImpostor, c.TargetFAR)
			}
		})
	}
}

func hundred() []float32 {
	d := make([]float32, 100)
	for i := range d {
		d[i] = float32(i+1) / 100
	}
	// Shuffle: Calibrate must not rely on sorted input.
	rand.New(rand.NewPCG(1, 1)).Shuffle(len(d), func(i, j int) { d[i], d[j] = d[j], d[i] })
	return d
}

// TestCalibrateMaximal checks on random samples with many ties that the
// threshold keeps FAR within the target and that the next impostor
// distance above it would break the target.
func TestCalibrateMaximal(t *testing.T) {
	rng := rand.New(rand.NewPCG(2, 2))
	for range 200 {
		n := 1 + rng.IntN(300)
		imp := make([]float32, n)
		for i := range imp {
			imp[i] = float32(rng.IntN(20)) / 20 // many ties
		}
		gen := []float32{float32(rng.IntN(20)) / 20}
		target := rng.Float64() * 0.3
		c, err := Calibrate(gen, imp, target)
		if err != nil {
			t.Fatal(err)
		}
		if c.FAR > target {
			t.Fatalf("FAR %v > target %v", c.FAR, target)
		}
		var above float32 = float32(math.Inf(1))
		for _, x := range imp {
			if x > c.Threshold {
				above = min(above, x)
			}
		}
		if !math.IsInf(float64(above), 1) {
			if e, _ := Evaluate(gen, imp, above); e.FAR <= target {
				t.Fatalf("threshold %v not maximal: %v has FAR %v <= %v", c.Threshold, above, e.FAR, target)
			}
		}
	}
}

func TestCalibrateBadInput(t *testing.T) {
	ok := []float32{0.5}
	tests := []struct {
		name     string
		gen, imp []float32
		target   float64
	}{
		{"no genuine", nil, ok, 0.1},
		{"no impostor", ok, []float32{}, 0.1},
		{"NaN", []float32{float32(math.NaN())}, ok, 0.1},
		{"Inf", ok, []float32{float32(math.Inf(-1))}, 0.1},
		{"negative", ok, []float32{-0.1}, 0.1},
		{"target < 0", ok, ok, -0.01},
		{"target > 1", ok, ok, 1.5},
		{"target NaN", ok, ok, math.NaN()},
	}
	for _, tt := range tests {
		if _, err := Calibrate(tt.gen, tt.imp, tt.target); !errors.Is(err, ErrBadSamples) {
			t.Errorf("%s: %v, want ErrBadSamples", tt.name, err)
		}
		if tt.target >= 0 && tt.target <= 1 {
			if _, err := Evaluate(tt.gen, tt.imp, 0.5); !errors.Is(err, ErrBadSamples) {
				t.Errorf("Evaluate %s: %v, want ErrBadSamples", tt.name, err)
			}
		}
	}
}
