package metrics

import (
	"errors"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/facegate/facegate/facematch"
)

// synthPairs returns every pair of faces of ids identities with perID faces
// each: genuine distances drawn from [gLo, gHi), impostor ones from [iLo, iHi).
func synthPairs(ids, perID int, gLo, gHi, iLo, iHi float32, seed uint64) []ScoredPair[int] {
	r := rand.New(rand.NewPCG(seed, 1))
	var out []ScoredPair[int]
	n := ids * perID
	for a := range n {
		for b := a + 1; b < n; b++ {
			p := ScoredPair[int]{A: a / perID, B: b / perID}
			if p.Genuine() {
				p.Distance = gLo + (gHi-gLo)*r.Float32()
			} else {
				p.Distance = iLo + (iHi-iLo)*r.Float32()
			}
			out = append(out, p)
		}
	}
	return out
}

func TestLeaveOneIdentityOutSeparated(t *testing.T) {
	pairs := synthPairs(20, 3, 0, 0.3, 0.6, 1, 1)
	for _, policy := range []FoldPolicy{CalibrateAlways, ZeroFalseAcceptsWhenSmall} {
		r, err := LeaveOneIdentityOut(pairs, 0.01, policy)
		if err != nil {
			t.Fatal(err)
		}
		// Every pair is decided exactly once.
		if r.Genuine+r.Impostor != len(pairs) {
			t.Errorf("%v: decided %d+%d pairs of %d", policy, r.Genuine, r.Impostor, len(pairs))
		}
		// Genuine pairs all lie under every impostor; held-out impostor
		// pairs cross thresholds set for 1 % at about that rate.
		if r.Genuine != 20*3 || r.TAR() != 1 || r.FAR() < 0.005 || r.FAR() > 0.02 || len(r.FalseAccepts) != r.ImpostorAccepted {
			t.Errorf("%v: TAR %d/%d FAR %d/%d, want every genuine pair and about 1 %% of impostor pairs accepted", policy, r.GenuineAccepted, r.Genuine, r.ImpostorAccepted, r.Impostor)
		}
		if r.ZeroFalseAcceptFolds != 0 {
			t.Errorf("%v: %d zero-false-accept folds, want none (every fold holds over 300 impostor pairs)", policy, r.ZeroFalseAcceptFolds)
		}
		// Identity 19 decides only its own genuine pairs; every identity is a fold.
		if r.Folds != 20 {
			t.Errorf("%v: %d folds, want 20", policy, r.Folds)
		}
		// The fold of identity 0 holds the fewest impostor pairs: those of 19 identities, 3 faces each, minus genuine.
		if want := (19*3)*(19*3-1)/2 - 19*3; r.MinHeldIn != want {
			t.Errorf("%v: MinHeldIn %d, want %d", policy, r.MinHeldIn, want)
		}
		if !(r.MinThreshold >= 0.6 && r.MaxThreshold < 1) {
			t.Errorf("%v: thresholds %v..%v, want inside the impostor range [0.6, 1)", policy, r.MinThreshold, r.MaxThreshold)
		}
	}
}

// TestLeaveOneIdentityOutHeldOut checks that a fold never sees the pairs it
// decides: one impostor pair (identities 0 and 1) lies among the genuine
// distances, so any threshold fitted with it in view for zero false accepts
// would sit under it, while the fold of identity 0 never sees it and
// accepts it.
func TestLeaveOneIdentityOutHeldOut(t *testing.T) {
	pairs := synthPairs(6, 2, 0, 0.3, 0.6, 1, 2)
	for i, p := range pairs {
		if p.A == 0 && p.B == 1 {
			pairs[i].Distance = 0.1
			break
		}
	}
	before := slices.Clone(pairs)
	// Few impostor pairs: sample-aware folds calibrate for zero false accepts.
	r, err := LeaveOneIdentityOut(pairs, 0.01, ZeroFalseAcceptsWhenSmall)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(before, pairs) {
		t.Fatal("LeaveOneIdentityOut modified its input")
	}
	if r.ZeroFalseAcceptFolds != r.Folds {
		t.Errorf("%d of %d folds calibrated for zero false accepts, want all (under 300 impostor pairs each)", r.ZeroFalseAcceptFolds, r.Folds)
	}
	// The planted pair is accepted by fold 0, which never saw it; any
	// other false accept is an ordinary impostor pair (≥ 0.6) that fell
	// under its fold's lowest calibration impostor.
	var planted int
	for _, fa := range r.FalseAccepts {
		if fa.Pair.Distance < 0.6 {
			planted++
			if fa.Pair.A != 0 || fa.Pair.B != 1 || fa.Fold != 0 {
				t.Errorf("false accept %+v, want the pair 0-1 decided by fold 0", fa)
			}
		}
	}
	if planted != 1 {
		t.Errorf("planted pair accepted %d times, want once: %+v", planted, r.FalseAccepts)
	}
	// Folds other than 0 and 1 see the planted pair and must put their
	// threshold under it for zero false accepts, rejecting genuine pairs
	// above 0.1: the pooled TAR falls below 1.
	if r.MinThreshold >= 0.1 || r.TAR() == 1 {
		t.Errorf("min threshold %v, TAR %v: folds that see the planted pair must calibrate under it", r.MinThreshold, r.TAR())
	}
}

// TestLeaveOneIdentityOutPolicy shows the two policies apart on folds too
// small for the target, and checks a fold's threshold against a direct
// facematch.Calibrate call.
func TestLeaveOneIdentityOutPolicy(t *testing.T) {
	// Overlapping distributions, 10 identities × 2 faces: every fold
	// calibrates on 144 impostor pairs, where 1 % allows one false accept
	// but fewer than the 300 the rule of three asks for.
	pairs := synthPairs(10, 2, 0.2, 0.7, 0.5, 1, 3)
	naive, err := LeaveOneIdentityOut(pairs, 0.01, CalibrateAlways)
	if err != nil {
		t.Fatal(err)
	}
	aware, err := LeaveOneIdentityOut(pairs, 0.01, ZeroFalseAcceptsWhenSmall)
	if err != nil {
		t.Fatal(err)
	}
	if naive.MinHeldIn != 144 {
		t.Fatalf("MinHeldIn %d, want 144", naive.MinHeldIn)
	}
	if naive.ZeroFalseAcceptFolds != 0 || aware.ZeroFalseAcceptFolds != aware.Folds {
		t.Errorf("zero-false-accept folds: naive %d, sample-aware %d of %d", naive.ZeroFalseAcceptFolds, aware.ZeroFalseAcceptFolds, aware.Folds)
	}
	// Fold by fold the naive threshold lets one more impostor through.
	if naive.MinThreshold <= aware.MinThreshold || naive.MaxThreshold <= aware.MaxThreshold ||
		naive.ImpostorAccepted < aware.ImpostorAccepted || naive.GenuineAccepted < aware.GenuineAccepted {
		t.Errorf("naive %+v is not looser than sample-aware %+v", naive, aware)
	}
	// The fold of identity 3 uses facematch.Calibrate's threshold on the
	// pairs that do not involve 3, and decides the pairs whose lower
	// identity is 3.
	var gen, imp []float32
	for _, p := range pairs {
		if p.A == 3 || p.B == 3 {
			continue
		}
		if p.Genuine() {
			gen = append(gen, p.Distance)
		} else {
			imp = append(imp, p.Distance)
		}
	}
	c, err := facematch.Calibrate(gen, imp, 0.01)
	if err != nil {
		t.Fatal(err)
	}
	var want, got int
	for _, p := range pairs {
		if min(p.A, p.B) == 3 && !p.Genuine() && p.Distance <= c.Threshold {
			want++
		}
	}
	for _, fa := range naive.FalseAccepts {
		if fa.Fold == 3 {
			got++
			if fa.Threshold != c.Threshold {
				t.Errorf("fold 3 threshold %v, facematch.Calibrate gives %v", fa.Threshold, c.Threshold)
			}
		}
	}
	if got != want {
		t.Errorf("fold 3 accepted %d impostor pairs, want %d", got, want)
	}
}

func TestLeaveOneIdentityOutStrings(t *testing.T) {
	pairs := []ScoredPair[string]{
		{"ann", "ann", 0.1}, {"bob", "bob", 0.2}, {"cy", "cy", 0.15},
		{"ann", "bob", 0.9}, {"ann", "cy", 0.8}, {"bob", "cy", 0.7},
		{"ann", "ann", 0.3}, {"bob", "cy", 0.95},
	}
	r, err := LeaveOneIdentityOut(pairs, 0.5, CalibrateAlways)
	if err != nil {
		t.Fatal(err)
	}
	// Fold ann calibrates on bob and cy's pairs (0.2, 0.15 | 0.7, 0.95):
	// a 50 % target lets 0.7 through and stops under 0.95, so ann's
	// impostor pairs at 0.9 and 0.8 are accepted.
	// Fold bob calibrates on ann and cy's pairs (0.1, 0.15, 0.3 | 0.8):
	// one impostor pair, 50 % allows none: threshold under 0.8, and bob-cy
	// at 0.7 is accepted, 0.95 not. Fold cy holds only its genuine pair.
	if r.Folds != 3 || r.Genuine != 4 || r.GenuineAccepted != 4 || r.Impostor != 4 || r.ImpostorAccepted != 3 {
		t.Errorf("got %+v", r)
	}
	if r.FalseAccepts[0].Fold != "ann" || r.FalseAccepts[2].Fold != "bob" {
		t.Errorf("false accepts %+v", r.FalseAccepts)
	}
}

func TestLeaveOneIdentityOutErrors(t *testing.T) {
	good := synthPairs(4, 2, 0, 0.3, 0.6, 1, 4)
	nan := slices.Clone(good)
	nan[0].Distance = float32(math.NaN())
	onlyGenuine := []ScoredPair[int]{{1, 1, 0.1}, {2, 2, 0.2}}
	// Identity 0's impostor pairs are all with 1, whose fold then has no
	// impostor pair to calibrate on.
	lonely := []ScoredPair[int]{{0, 0, 0.1}, {0, 1, 0.9}, {1, 1, 0.2}}
	for _, tc := range []struct {
		name   string
		pairs  []ScoredPair[int]
		target float64
		want   error
	}{
		{"target 0", good, 0, ErrTarget},
		{"target 1", good, 1, ErrTarget},
		{"NaN", nan, 0.01, ErrNotFinite},
		{"only genuine", onlyGenuine, 0.01, facematch.ErrBadSamples},
		{"empty", nil, 0.01, ErrLOIO},
		{"fold without impostors", lonely, 0.01, facematch.ErrBadSamples},
	} {
		if _, err := LeaveOneIdentityOut(tc.pairs, tc.target, CalibrateAlways); !errors.Is(err, tc.want) {
			t.Errorf("%s: error %v, want %v", tc.name, err, tc.want)
		}
	}
}

// TestFoldThreshold checks every fold's threshold against
// facematch.Calibrate on the fold's calibration pairs, for both policies and
// several targets, including folds where ties straddle the cut.
func TestFoldThreshold(t *testing.T) {
	pairs := synthPairs(12, 3, 0.1, 0.7, 0.4, 1, 5)
	for i := range pairs {
		// Coarse distances make ties common.
		pairs[i].Distance = float32(math.Round(float64(pairs[i].Distance)*40) / 40)
	}
	for _, far := range []float64{0.001, 0.01, 0.037, 0.2, 0.5} {
		for _, policy := range []FoldPolicy{CalibrateAlways, ZeroFalseAcceptsWhenSmall} {
			r, err := LeaveOneIdentityOut(pairs, far, policy)
			if err != nil {
				t.Fatal(err)
			}
			// Re-derive each fold's decisions from Calibrate.
			var gen, imp, dec int
			for id := range 12 {
				var g, im []float32
				for _, p := range pairs {
					if p.A == id || p.B == id {
						continue
					}
					if p.Genuine() {
						g = append(g, p.Distance)
					} else {
						im = append(im, p.Distance)
					}
				}
				foldFAR := far
				if policy == ZeroFalseAcceptsWhenSmall && float64(len(im))*far < 3 {
					foldFAR = 0
				}
				c, err := facematch.Calibrate(g, im, foldFAR)
				if err != nil {
					t.Fatal(err)
				}
				for _, p := range pairs {
					if min(p.A, p.B) != id || p.Distance > c.Threshold {
						continue
					}
					if p.Genuine() {
						gen++
					} else {
						imp++
					}
				}
				for _, fa := range r.FalseAccepts {
					if fa.Fold == id {
						dec++
						if fa.Threshold != c.Threshold {
							t.Errorf("far %g %v fold %d: threshold %v, Calibrate %v", far, policy, id, fa.Threshold, c.Threshold)
						}
					}
				}
			}
			if gen != r.GenuineAccepted || imp != r.ImpostorAccepted || dec != imp {
				t.Errorf("far %g %v: accepted %d genuine, %d impostor; Calibrate's thresholds accept %d, %d", far, policy, r.GenuineAccepted, r.ImpostorAccepted, gen, imp)
			}
		}
	}
}

func TestAllowedFalseAccepts(t *testing.T) {
	for m := 1; m <= 3000; m++ {
		for _, far := range []float64{0, 0.001, 0.01, 0.03, 0.1, 0.3, 0.999} {
			imp := make([]float32, m)
			for i := range imp {
				imp[i] = float32(i + 1)
			}
			if m%97 != 0 && m > 50 {
				continue // every m up to 50, then a sample
			}
			c, err := facematch.Calibrate([]float32{0}, imp, far)
			if err != nil {
				t.Fatal(err)
			}
			if a := allowedFalseAccepts(m, far); a != c.FalseAccepts {
				t.Errorf("m %d far %g: %d false accepts allowed, Calibrate allows %d", m, far, a, c.FalseAccepts)
			}
		}
	}
}
