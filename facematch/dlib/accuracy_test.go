package dlib_test

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"testing"

	"github.com/facegate/facegate/bench/metrics"
	"github.com/facegate/facegate/facematch"
)

// pairRates tallies accepted pairs at one threshold.
type pairRates struct {
	same, sameAccepted int
	diff, diffAccepted int
	sameMax, diffMin   float64
}

func (r *pairRates) add(sameID bool, d, threshold float64) {
	if sameID {
		r.same++
		if d <= threshold {
			r.sameAccepted++
		}
		r.sameMax = max(r.sameMax, d)
		return
	}
	if r.diff == 0 || d < r.diffMin {
		r.diffMin = d
	}
	r.diff++
	if d <= threshold {
		r.diffAccepted++
	}
}

func (r *pairRates) tar() float64 { return float64(r.sameAccepted) / float64(r.same) }
func (r *pairRates) far() float64 { return float64(r.diffAccepted) / float64(r.diff) }

func (r *pairRates) String() string {
	return fmt.Sprintf("same-person accepted %d/%d (%.1f %%, max distance %.3f); different-person accepted %d/%d (%.2f %%, min distance %.3f)",
		r.sameAccepted, r.same, 100*r.tar(), r.sameMax, r.diffAccepted, r.diff, 100*r.far(), r.diffMin)
}

// largest returns the face with the largest box.
func largest(faces []facematch.Face) facematch.Face {
	best := faces[0]
	for _, f := range faces[1:] {
		if f.Box.Dx()*f.Box.Dy() > best.Box.Dx()*best.Box.Dy() {
			best = f
		}
	}
	return best
}

// TestAccuracy compares every pair of photos of ../shared/testdata/faces,
// per group of GROUPS.tsv.
//
// The goal of issue 2, for the "other" group: the model accepts at least 95 %
// of same-person pairs while accepting at most 1 % of different-person pairs.
// No single threshold serves both groups: the default Threshold is derived
// for FAR ≤ 1 % on East-Asian faces (see Threshold), and at it the "other"
// group keeps its FAR ≤ 1 % (asserted) but accepts only about a third of
// genuine pairs (logged, and stated in the README). So the goal is checked
// for a threshold calibrated on the group, and, so that the threshold is
// never scored on the pairs it was fitted to, by leave-one-identity-out
// cross-validation (see leaveOneIdentityOut): for each identity, the
// threshold is calibrated (facematch.Calibrate, target FAR 1 %, or zero
// false accepts where the fold has too few impostor pairs to resolve 1 %)
// on the group's pairs that do not involve it and decides that identity's
// pairs;
// the pooled decisions must reach TAR ≥ 95 % and FAR ≤ 1 % for "other"
// (asserted) and are logged for "east-asian". The in-sample operating point
// of each group's whole ROC is logged beside it for comparison. Every rate of
// the East-Asian group and of cross-group impostors is logged, not asserted:
// dlib's model is known to be weak there, and the test reports it rather
// than hiding it.
func TestAccuracy(t *testing.T) {
	e := shared(t)
	photos := labelledPhotos(t)
	th := float64(e.Model().Threshold)

	type embedded struct {
		photo
		desc []float32
	}
	// Extract concurrently, as many photos at once as the pool has
	// recognizers; results keep the photos' order.
	type result struct {
		faces []facematch.Face
		err   error
	}
	results := make([]result, len(photos))
	var wg sync.WaitGroup
	next := make(chan int)
	for range e.Workers() {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				data, err := os.ReadFile(photos[i].path)
				if err == nil {
					results[i].faces, err = e.Extract(data)
				}
				results[i].err = err
			}
		}()
	}
	for i := range photos {
		next <- i
	}
	close(next)
	wg.Wait()

	var embs []embedded
	for i, p := range photos {
		faces, err := results[i].faces, results[i].err
		if err != nil {
			t.Errorf("%s: %v", p.path, err)
			continue
		}
		if len(faces) == 0 {
			t.Errorf("%s: no face found", p.path)
			continue
		}
		if len(faces) > 1 {
			t.Logf("%s: %d faces, using the largest", p.path, len(faces))
		}
		embs = append(embs, embedded{p, largest(faces).Descriptor})
	}

	groups := map[string]*pairRates{}
	dists := map[string]*[2][]float64{} // group -> same, different distances
	cross := &pairRates{}
	at06 := map[string]*pairRates{}
	pairs := map[string][]metrics.ScoredPair[string]{} // group -> its within-group pairs
	for i := range embs {
		for j := i + 1; j < len(embs); j++ {
			a, b := embs[i], embs[j]
			d := euclidean(a.desc, b.desc)
			sameID := a.identity == b.identity
			if a.group != b.group {
				cross.add(sameID, d, th)
				continue
			}
			if groups[a.group] == nil {
				groups[a.group], at06[a.group] = &pairRates{}, &pairRates{}
			}
			groups[a.group].add(sameID, d, th)
			pairs[a.group] = append(pairs[a.group], metrics.ScoredPair[string]{A: a.identity, B: b.identity, Distance: float32(d)})
			if dists[a.group] == nil {
				dists[a.group] = &[2][]float64{}
			}
			if sameID {
				dists[a.group][0] = append(dists[a.group][0], d)
			} else {
				dists[a.group][1] = append(dists[a.group][1], d)
			}
			at06[a.group].add(sameID, d, 0.6)
			if sameID && d > th {
				t.Logf("rejected same-person pair at %.3f: %s %s", d, filepath.Base(filepath.Dir(a.path))+"/"+filepath.Base(a.path), filepath.Base(b.path))
			}
		}
	}
	names := make([]string, 0, len(groups))
	for g := range groups {
		names = append(names, g)
	}
	sort.Strings(names)
	for _, g := range names {
		r := groups[g]
		t.Logf("group %-10s at threshold %.3f: %v", g, th, r)
		t.Logf("group %-10s at 0.6 (for comparison): %v", g, at06[g])
		same, diff := dists[g][0], dists[g][1]
		sort.Float64s(same)
		sort.Float64s(diff)
		if len(same) > 0 && len(diff) > 0 {
			// Smallest threshold accepting >= 95 % of same-person pairs and
			// largest accepting <= 1 % of different-person pairs.
			lo := same[(len(same)*95+99)/100-1]
			hi := diff[len(diff)/100]
			t.Logf("group %-10s: >= 95 %% same-person accepted from %.3f; <= 1 %% different-person accepted below %.3f", g, lo, hi)
		}
	}
	t.Logf("cross-group (east-asian vs other) at threshold %.3f: different-person accepted %d/%d (%.2f %%, min distance %.3f)",
		th, cross.diffAccepted, cross.diff, 100*cross.far(), cross.diffMin)

	other := groups["other"]
	if other == nil || other.same == 0 || other.diff == 0 {
		t.Fatal(`no same-person or different-person pairs in group "other"`)
	}
	if other.far() > 0.01 {
		t.Errorf(`group "other": %.2f %% of different-person pairs accepted at the default threshold %.3f, goal <= 1 %%`, 100*other.far(), th)
	}
	for _, g := range []string{"other", "east-asian"} {
		if dists[g] == nil {
			continue
		}
		c, err := facematch.Calibrate(float32s(dists[g][0]), float32s(dists[g][1]), 0.01)
		if err != nil {
			t.Fatalf("group %q: %v", g, err)
		}
		t.Logf("group %-10s in-sample operating point for FAR <= 1 %% (fitted on the pairs it scores, for comparison): %v", g, c)
		naive, err := leaveOneIdentityOut(pairs[g], 0.01, false)
		if err != nil {
			t.Fatalf("group %q: leave-one-identity-out: %v", g, err)
		}
		t.Logf("group %-10s leave-one-identity-out, every fold calibrated for FAR 1 %% however few its pairs (reported, not asserted): thresholds %.3f..%.3f: %v", g, naive.minThreshold, naive.maxThreshold, &naive.pairRates)
		loo, err := leaveOneIdentityOut(pairs[g], 0.01, true)
		if err != nil {
			t.Fatalf("group %q: leave-one-identity-out: %v", g, err)
		}
		t.Logf("group %-10s leave-one-identity-out, sample-aware calibration (asserted for other): thresholds %.3f..%.3f over %d folds: %v", g, loo.minThreshold, loo.maxThreshold, loo.folds, &loo.pairRates)
		for _, fa := range loo.falseAccepts {
			t.Logf("group %-10s leave-one-identity-out accepted different-person pair %s", g, fa)
		}
		if g == "other" {
			if loo.tar() < 0.95 {
				t.Errorf(`group "other": leave-one-identity-out TAR is %.1f %% (%d/%d same-person pairs accepted), goal >= 95 %%`, 100*loo.tar(), loo.sameAccepted, loo.same)
			}
			if loo.far() > 0.01 {
				t.Errorf(`group "other": leave-one-identity-out FAR is %.2f %% (%d/%d different-person pairs accepted), goal <= 1 %%`, 100*loo.far(), loo.diffAccepted, loo.diff)
			}
		}
	}
	if groups["east-asian"] == nil {
		t.Error(`no pairs in group "east-asian"`)
	}
}

func float32s(v []float64) []float32 {
	out := make([]float32, len(v))
	for i, x := range v {
		out[i] = float32(x)
	}
	return out
}

// looResult adapts the pooled outcome of metrics.LeaveOneIdentityOut to the
// pairRates the test logs.
type looResult struct {
	pairRates
	folds                      int
	minThreshold, maxThreshold float64
	// falseAccepts describes each accepted different-person pair.
	falseAccepts []string
}

// leaveOneIdentityOut runs metrics.LeaveOneIdentityOut on a group's pairs:
// thresholds calibrated (facematch.Calibrate) for targetFAR on the pairs
// not involving an identity decide that identity's pairs. With sampleAware,
// a fold too small to resolve targetFAR calibrates for zero false accepts:
// on ~100 pairs a 1 % target lets the closest impostor through, which
// held-out impostors then cross (measured: pooled FAR 4.5 % on "other"
// without it).
func leaveOneIdentityOut(pairs []metrics.ScoredPair[string], targetFAR float64, sampleAware bool) (looResult, error) {
	policy := metrics.CalibrateAlways
	if sampleAware {
		policy = metrics.ZeroFalseAcceptsWhenSmall
	}
	l, err := metrics.LeaveOneIdentityOut(pairs, targetFAR, policy)
	if err != nil {
		return looResult{}, err
	}
	r := looResult{folds: l.Folds, minThreshold: float64(l.MinThreshold), maxThreshold: float64(l.MaxThreshold)}
	r.same, r.sameAccepted, r.diff, r.diffAccepted = l.Genuine, l.GenuineAccepted, l.Impostor, l.ImpostorAccepted
	for _, p := range pairs {
		if p.Genuine() {
			r.sameMax = max(r.sameMax, float64(p.Distance))
		} else if r.diffMin == 0 || float64(p.Distance) < r.diffMin {
			r.diffMin = float64(p.Distance)
		}
	}
	for _, fa := range l.FalseAccepts {
		r.falseAccepts = append(r.falseAccepts, fmt.Sprintf("%s vs %s at %.3f (fold %s threshold %.3f)", fa.Pair.A, fa.Pair.B, fa.Pair.Distance, fa.Fold, fa.Threshold))
	}
	return r, nil
}
