package facematch

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"sort"
)

// ErrBadSamples is returned by Calibrate and Evaluate for unusable input: no genuine or
// no impostor distances, a distance that is negative, NaN or infinite, or a
// target false-accept rate outside [0, 1].
var ErrBadSamples = errors.New("facematch: unusable calibration samples")

// A Calibration is a match threshold together with the error rates it gives
// on a set of genuine (same-person) and impostor (different-person) pair
// distances. A pair matches when its distance is at or under Threshold.
type Calibration struct {
	// Threshold is the match threshold.
	Threshold float32
	// TargetFAR is the false-accept rate Threshold was chosen for (0 when
	// the Calibration comes from Evaluate).
	TargetFAR float64
	// FAR is the fraction of impostor pairs at or under Threshold.
	FAR float64
	// TAR is the fraction of genuine pairs at or under Threshold.
	TAR float64
	// FalseAccepts is the number of impostor pairs at or under Threshold.
	FalseAccepts int
	// TrueAccepts is the number of genuine pairs at or under Threshold.
	TrueAccepts int
	// NGenuine and NImpostor are the sample sizes.
	NGenuine, NImpostor int
}

// String formats c as, for example,
// "threshold 0.3597: FAR 1.000% (8206/820641), TAR 32.12% (1803/5614)".
func (c Calibration) String() string {
	return fmt.Sprintf("threshold %.4f: FAR %.3f%% (%d/%d), TAR %.2f%% (%d/%d)",
		c.Threshold, 100*c.FAR, c.FalseAccepts, c.NImpostor, 100*c.TAR, c.TrueAccepts, c.NGenuine)
}

// Calibrate returns the largest threshold whose false-accept rate on the
// impostor distances is at most targetFAR, and the true-accept rate it gives
// on the genuine distances. Ties are handled exactly: when several impostor
// pairs share the distance at which the target would be crossed, the
// threshold falls just under that distance, so FAR never exceeds the target.
// The threshold lies immediately under the first rejected impostor distance
// (the supremum of the safe thresholds); thresholds set for deployment come
// from samples large enough that the next impostor distance is not far away.
// The inputs are not modified.
func Calibrate(genuine, impostor []float32, targetFAR float64) (Calibration, error) {
	if err := checkSamples(genuine, impostor); err != nil {
		return Calibration{}, err
	}
	if math.IsNaN(targetFAR) || targetFAR < 0 || targetFAR > 1 {
		return Calibration{}, fmt.Errorf("%w: target FAR %v is outside [0, 1]", ErrBadSamples, targetFAR)
	}
	imp := slices.Clone(impostor)
	slices.Sort(imp)
	m := len(imp)
	// a = the largest number of false accepts with a/m <= targetFAR,
	// found by comparing the same ratio that FAR reports.
	a := int(math.Floor(targetFAR * float64(m)))
	for a > 0 && float64(a)/float64(m) > targetFAR {
		a--
	}
	for a < m && float64(a+1)/float64(m) <= targetFAR {
		a++
	}
	var t float32
	if a >= m {
		t = max(imp[m-1], slices.Max(genuine))
	} else {
		t = math.Nextafter32(imp[a], float32(math.Inf(-1)))
	}
	c := evaluate(genuine, imp, t)
	c.TargetFAR = targetFAR
	return c, nil
}

// Evaluate returns the error rates of threshold t on the genuine and
// impostor distances. It returns an error wrapping ErrBadSamples for the
// samples Calibrate refuses.
func Evaluate(genuine, impostor []float32, t float32) (Calibration, error) {
	if err := checkSamples(genuine, impostor); err != nil {
		return Calibration{}, err
	}
	return evaluate(genuine, impostor, t), nil
}

func evaluate(genuine, impostor []float32, t float32) Calibration {
	c := Calibration{Threshold: t, NGenuine: len(genuine), NImpostor: len(impostor)}
	c.TrueAccepts = countAtMost(genuine, t)
	c.FalseAccepts = countAtMost(impostor, t)
	c.TAR = float64(c.TrueAccepts) / float64(c.NGenuine)
	c.FAR = float64(c.FalseAccepts) / float64(c.NImpostor)
	return c
}

func countAtMost(d []float32, t float32) int {
	if slices.IsSorted(d) {
		return sort.Search(len(d), func(i int) bool { return d[i] > t })
	}
	n := 0
	for _, x := range d {
		if x <= t {
			n++
		}
	}
	return n
}

func checkSamples(genuine, impostor []float32) error {
	if len(genuine) == 0 || len(impostor) == 0 {
		return fmt.Errorf("%w: %d genuine and %d impostor distances, need at least one of each", ErrBadSamples, len(genuine), len(impostor))
	}
	for _, s := range [2][]float32{genuine, impostor} {
		for i, x := range s {
			if !finite(x) || x < 0 {
				return fmt.Errorf("%w: distance %d is %v", ErrBadSamples, i, x)
			}
		}
	}
	return nil
}
