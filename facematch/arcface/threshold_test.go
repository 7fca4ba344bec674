package arcface

import (
	"math"
	"testing"

	"github.com/facegate/facegate/facematch"
)

// thresholdAtFAR returns the largest multiple of 0.001 at which at most far
// of the impostor distances are at or under it.
func thresholdAtFAR(impostor []float32, far float64) float32 {
	allowed := int(math.Floor(far * float64(len(impostor))))
	best := float32(0)
	for k := 0; k <= 2000; k++ {
		t := float32(k) / 1000
		n := 0
		for _, d := range impostor {
			if d <= t {
				n++
			}
		}
		if n > allowed {
			break
		}
		best = t
	}
	return best
}

// TestThreshold recomputes the Threshold of every network TestMeasure
// measures (measure_test.go) from the shared face set:
// the largest multiple of 0.001 at which at most 1 % of the different-person
// pairs match within each group (GROUPS.tsv) and over all pairs — the
// smallest of the three. A threshold set on all pairs pooled lets the group
// the network separates worst (East-Asian, for every network here) go over
// 1 %: that is the group the gate must bound, as dlib's threshold is bound
// on East-Asian impostors (facematch/dlib.Threshold).
func TestThreshold(t *testing.T) {
	samples, dl := faceSet(t)
	for _, s := range measured {
		t.Run(s.Name, func(t *testing.T) {
			desc := descriptors(t, samples, dl, s)
			imp := map[string][]float32{}
			for i := range samples {
				for j := i + 1; j < len(samples); j++ {
					if samples[i].identity == samples[j].identity {
						continue
					}
					d := facematch.CosineDistance(desc[i], desc[j])
					imp["all"] = append(imp["all"], d)
					if g := samples[i].group; g == samples[j].group {
						imp[g] = append(imp[g], d)
					}
				}
			}
			got := float32(math.Inf(1))
			for _, g := range []string{"east-asian", "other", "all"} {
				tg := thresholdAtFAR(imp[g], 0.01)
				t.Logf("%s: %s: threshold %.3f from %d impostor pairs", s.Name, g, tg, len(imp[g]))
				if len(imp[g]) < 100 {
					t.Fatalf("%s: only %d %s impostor pairs, too few to bound FAR at 1 %%", s.Name, len(imp[g]), g)
				}
				got = min(got, tg)
			}
			if got != s.Threshold {
				t.Errorf("%s: measured threshold %.3f, Spec says %.3f", s.Name, got, s.Threshold)
			}
		})
	}
}
