package metrics

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
)

// ErrTail is returned by FitNormalTail for a fit it cannot make: fewer than
// three tail scores, or tail scores that are all equal.
var ErrTail = errors.New("metrics: cannot fit the impostor tail")

// NormalTail is a normal fit to the lower tail of impostor distances, for
// false accept rates far below what the pairs can count. It is an
// extrapolation: it assumes the distances below the K-th lowest keep
// falling off like a normal distribution whose quantiles match the K lowest
// ones.
//
// The fit is a least-squares line through the normal probability plot of
// the K lowest of N distances: the i-th lowest distance d(i) against the
// standard normal quantile z(i) = Probit((i − ½)/N), d ≈ Mu + Sigma·z. Only
// the tail enters the line, so a body that is not normal does not bend it.
type NormalTail struct {
	// N is the number of impostor distances, K how many of the lowest the
	// line was fitted to.
	N int `json:"n"`
	K int `json:"k"`
	// Mu and Sigma are the intercept and slope of the line.
	Mu    float64 `json:"mu"`
	Sigma float64 `json:"sigma"`
	// R2 is the line's coefficient of determination on the K points.
	R2 float64 `json:"r2"`
	// Lowest is the lowest distance and KthLowest the K-th lowest, where the
	// counted tail ends.
	Lowest    float64 `json:"lowest"`
	KthLowest float64 `json:"kth_lowest"`
}

// FitNormalTail fits a NormalTail to the k lowest of the impostor distances.
func FitNormalTail(impostor []float32, k int) (NormalTail, error) {
	s, err := sorted(impostor)
	if err != nil {
		return NormalTail{}, err
	}
	return fitSortedTail(s, len(s), k)
}

// fitSortedTail fits the line to low, the lowest k (at least) of n
// distances in increasing order.
func fitSortedTail(low []float32, n, k int) (NormalTail, error) {
	if k < 3 || len(low) < k {
		return NormalTail{}, fmt.Errorf("%w: %d tail scores of %d, need at least 3", ErrTail, k, len(low))
	}
	var sz, sd, szz, szd, sdd float64
	for i := range k {
		z := Probit((float64(i) + 0.5) / float64(n))
		d := float64(low[i])
		sz += z
		sd += d
		szz += z * z
		szd += z * d
		sdd += d * d
	}
	fk := float64(k)
	vz := szz - sz*sz/fk
	vd := sdd - sd*sd/fk
	cov := szd - sz*sd/fk
	if vd <= 0 || vz <= 0 {
		return NormalTail{}, fmt.Errorf("%w: the %d lowest scores are all equal", ErrTail, k)
	}
	sigma := cov / vz
	return NormalTail{
		N: n, K: k,
		Mu:        (sd - sigma*sz) / fk,
		Sigma:     sigma,
		R2:        cov * cov / (vz * vd),
		Lowest:    float64(low[0]),
		KthLowest: float64(low[k-1]),
	}, nil
}

// Threshold returns the distance at which the fitted false accept rate is
// far: Mu + Sigma·Probit(far).
func (f NormalTail) Threshold(far float64) float64 { return f.Mu + f.Sigma*Probit(far) }

// FAR returns the fitted false accept rate at distance threshold t.
func (f NormalTail) FAR(t float64) float64 {
	return 0.5 * math.Erfc(-(t-f.Mu)/(f.Sigma*math.Sqrt2))
}

// TailInterval is the spread of an extrapolated threshold over bootstrap
// resamples.
type TailInterval struct {
	// Rounds is the number of resamples, Lo and Hi the 5th and 95th
	// percentiles of the threshold over them.
	Rounds int     `json:"rounds"`
	Lo     float64 `json:"lo"`
	Hi     float64 `json:"hi"`
}

// BootstrapTail refits the k-lowest normal tail on rounds resamples of the
// impostor distances (drawn with replacement, PCG seeded by seed) and
// returns the 5th–95th percentile range of the threshold for far. It treats
// the distances as independent, which pairs sharing a face are not, so the
// range is a lower bound on the real uncertainty.
func BootstrapTail(impostor []float32, k int, far float64, rounds int, seed uint64) (TailInterval, error) {
	s, err := sorted(impostor)
	if err != nil {
		return TailInterval{}, err
	}
	n := len(s)
	if rounds < 1 {
		return TailInterval{}, fmt.Errorf("metrics: %d bootstrap rounds", rounds)
	}
	if _, err := fitSortedTail(s, n, k); err != nil {
		return TailInterval{}, err
	}
	r := rand.New(rand.NewPCG(seed, 0x7a11))
	// Draws are indices into the sorted distances, so a resample's order
	// statistics are its sorted indices' values. Only indices under cut
	// can be among the k lowest unless fewer than k fell there.
	cut := min(n, 4*k)
	idx := make([]int, 0, 2*cut)
	low := make([]float32, 0, k)
	var ts []float64
	for try := 0; len(ts) < rounds && try < 10*rounds; try++ {
		idx = idx[:0]
		for range n {
			if i := r.IntN(n); i < cut {
				idx = append(idx, i)
			}
		}
		if len(idx) < k {
			continue // vanishingly rare for cut = 4k; redraw
		}
		slices.Sort(idx)
		low = low[:0]
		for _, i := range idx[:k] {
			low = append(low, s[i])
		}
		f, err := fitSortedTail(low, n, k)
		if err != nil {
			continue // a resample of a few repeated values
		}
		ts = append(ts, f.Threshold(far))
	}
	if len(ts) == 0 {
		return TailInterval{}, fmt.Errorf("%w: no resample could be fitted", ErrTail)
	}
	slices.Sort(ts)
	q := func(p float64) float64 { return ts[min(len(ts)-1, int(p*float64(len(ts))))] }
	return TailInterval{Rounds: len(ts), Lo: q(0.05), Hi: q(0.95)}, nil
}

// TailK returns the number of lowest impostor distances the reports fit the
// tail to: a twentieth of n, at least 30 (or n) and at most 2000.
func TailK(n int) int { return min(n, max(30, min(n/20, 2000))) }
