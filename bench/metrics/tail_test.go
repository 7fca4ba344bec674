package metrics

import (
	"errors"
	"math"
	"math/rand/v2"
	"testing"
)

func normalScores(n int, mu, sigma float64, seed uint64) []float32 {
	r := rand.New(rand.NewPCG(seed, 2))
	out := make([]float32, n)
	for i := range out {
		out[i] = float32(mu + sigma*r.NormFloat64())
	}
	return out
}

func TestFitNormalTail(t *testing.T) {
	// Normal impostor distances: the fitted tail must find the law they
	// were drawn from, and its 1e-6 threshold the true quantile.
	imp := normalScores(200_000, 1, 0.1, 1)
	k := TailK(len(imp))
	if k != 2000 {
		t.Fatalf("TailK(200000) = %d, want 2000", k)
	}
	f, err := FitNormalTail(imp, k)
	if err != nil {
		t.Fatal(err)
	}
	want := 1 + 0.1*Probit(1e-6) // 0.5246
	if got := f.Threshold(1e-6); math.Abs(got-want) > 0.01 {
		t.Errorf("threshold at 1e-6 %.4f, want %.4f ± 0.01 (fit %+v)", got, want, f)
	}
	if f.R2 < 0.99 || f.N != 200_000 || f.K != 2000 || f.Lowest > f.KthLowest {
		t.Errorf("fit %+v", f)
	}
	if p := f.FAR(f.Threshold(1e-6)); math.Abs(p-1e-6)/1e-6 > 1e-6 {
		t.Errorf("FAR(Threshold(1e-6)) = %g", p)
	}
	ci, err := BootstrapTail(imp, k, 1e-6, 50, 7)
	if err != nil {
		t.Fatal(err)
	}
	if !(ci.Lo < ci.Hi && ci.Lo < want+0.01 && ci.Hi > want-0.01) || ci.Rounds != 50 {
		t.Errorf("bootstrap %+v does not cover %.4f", ci, want)
	}
	ci2, err := BootstrapTail(imp, k, 1e-6, 50, 7)
	if err != nil || ci2 != ci {
		t.Errorf("bootstrap not reproducible: %+v vs %+v (%v)", ci, ci2, err)
	}

	// A heavier lower tail (a few close impostors, as look-alikes give)
	// pulls the fitted threshold down from the body's.
	heavy := append(normalScores(200_000, 1, 0.1, 3), normalScores(2000, 0.6, 0.1, 4)...)
	fh, err := FitNormalTail(heavy, TailK(len(heavy)))
	if err != nil {
		t.Fatal(err)
	}
	if fh.Threshold(1e-6) > want-0.05 {
		t.Errorf("heavy tail threshold %.4f, want well under %.4f", fh.Threshold(1e-6), want)
	}
}

func TestFitNormalTailErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		imp  []float32
		k    int
		want error
	}{
		{"k 2", []float32{1, 2, 3}, 2, ErrTail},
		{"k over n", []float32{1, 2, 3}, 4, ErrTail},
		{"all equal", []float32{1, 1, 1, 1}, 4, ErrTail},
		{"NaN", []float32{1, float32(math.NaN()), 3}, 3, ErrNotFinite},
	} {
		if _, err := FitNormalTail(tc.imp, tc.k); !errors.Is(err, tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, err, tc.want)
		}
		if _, err := BootstrapTail(tc.imp, tc.k, 1e-6, 3, 1); !errors.Is(err, tc.want) {
			t.Errorf("bootstrap %s: %v, want %v", tc.name, err, tc.want)
		}
	}
	if got := TailK(10); got != 10 {
		t.Errorf("TailK(10) = %d", got)
	}
	if got := TailK(1000); got != 50 {
		t.Errorf("TailK(1000) = %d", got)
	}
}
