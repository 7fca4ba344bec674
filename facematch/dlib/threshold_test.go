package dlib_test

import (
	"math"
	"sort"
	"testing"

	"github.com/facegate/facegate/facematch/dlib"
	"github.com/facegate/facegate/internal/idols/idolstest"
)

// idolDescriptors reads go-face's reference descriptors (original dlib
// model) from ../shared/testdata/dlib-reference/idols.json.
func idolDescriptors(t testing.TB) (descs [][]float32, ids []string) {
	t.Helper()
	for _, f := range idolstest.Load(t, dlib.Dim).Faces {
		descs = append(descs, f.Descriptor)
		ids = append(ids, f.Identity)
	}
	return descs, ids
}

// rate returns the fraction of the sorted distances at or under t.
func rate(sorted []float64, t float64) float64 {
	return float64(sort.SearchFloat64s(sorted, math.Nextafter(t, math.Inf(1)))) / float64(len(sorted))
}

// TestThresholdDerivation recomputes dlib.Threshold by its documented method:
// the largest multiple of 0.001 at which at most ThresholdTargetFAR of the
// different-person pairs of idols.json lie at or under it.
func TestThresholdDerivation(t *testing.T) {
	descs, ids := idolDescriptors(t)
	var same, diff []float64
	for i := range descs {
		for j := i + 1; j < len(descs); j++ {
			d := euclidean(descs[i], descs[j])
			if ids[i] == ids[j] {
				same = append(same, d)
			} else {
				diff = append(diff, d)
			}
		}
	}
	sort.Float64s(same)
	sort.Float64s(diff)
	t.Logf("idols.json: %d descriptors, %d same-person and %d different-person pairs", len(descs), len(same), len(diff))
	if len(same) == 0 || len(diff) == 0 {
		t.Fatal("no pairs")
	}

	derived := 0.0
	for k := 1; k <= 2000; k++ {
		th := float64(k) / 1000
		if rate(diff, th) > dlib.ThresholdTargetFAR {
			break
		}
		derived = th
	}
	t.Logf("derived threshold %.3f: different-person accepted %.3f %%, same-person accepted %.1f %%",
		derived, 100*rate(diff, derived), 100*rate(same, derived))
	for _, th := range []float64{0.4, 0.5, 0.6} {
		t.Logf("  at %.1f: different-person accepted %.1f %%, same-person accepted %.1f %%",
			th, 100*rate(diff, th), 100*rate(same, th))
	}
	if math.Abs(derived-dlib.Threshold) > 1e-9 {
		t.Errorf("dlib.Threshold = %v, the documented derivation gives %.3f", dlib.Threshold, derived)
	}
	if far := rate(diff, dlib.Threshold); far > dlib.ThresholdTargetFAR {
		t.Errorf("at dlib.Threshold %v, %.4f of different-person pairs are accepted, target %v",
			dlib.Threshold, far, dlib.ThresholdTargetFAR)
	}
}
