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

// TestThreshold recomputes every Spec's Threshold from the shared face set:
// the largest multiple of 0.001 at which at most 1 % of the different-person
// pairs (both groups and across them) match.
func TestThreshold(t *testing.T) {
	samples, dl := faceSet(t)
	for _, s := range Specs {
		t.Run(s.Name, func(t *testing.T) {
			desc := descriptors(t, samples, dl, s)
			var imp []float32
			for i := range samples {
				for j := i + 1; j < len(samples); j++ {
					if samples[i].identity != samples[j].identity {
						imp = append(imp, facematch.CosineDistance(desc[i], desc[j]))
					}
				}
			}
			got := thresholdAtFAR(imp, 0.01)
			t.Logf("%s: threshold %.3f from %d impostor pairs", s.Name, got, len(imp))
			if got != s.Threshold {
				t.Errorf("%s: measured threshold %.3f, Spec says %.3f", s.Name, got, s.Threshold)
			}
		})
	}
}
