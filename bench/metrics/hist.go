package metrics

import (
	"errors"
	"fmt"
	"math"
	"slices"
)

// ErrBins is returned for a histogram with no bins or an empty range.
var ErrBins = errors.New("metrics: histogram needs at least one bin and lo < hi")

// Histogram counts scores in equal-width bins over [Lo, Hi).
type Histogram struct {
	// Lo and Hi bound the binned range; bin i covers [Lo+i·w, Lo+(i+1)·w).
	Lo float64 `json:"lo"`
	Hi float64 `json:"hi"`
	// Counts holds the number of scores in each bin. A score equal to Hi is
	// counted in the last bin.
	Counts []int `json:"counts"`
	// Below and Above count scores outside [Lo, Hi].
	Below int `json:"below"`
	Above int `json:"above"`
	// Total is the number of scores, including those outside the range.
	Total int `json:"total"`
}

// NewHistogram bins values into bins equal-width bins over [lo, hi].
func NewHistogram(values []float32, lo, hi float64, bins int) (Histogram, error) {
	if bins < 1 || !(lo < hi) {
		return Histogram{}, ErrBins
	}
	h := Histogram{Lo: lo, Hi: hi, Counts: make([]int, bins), Total: len(values)}
	w := (hi - lo) / float64(bins)
	for _, v := range values {
		x := float64(v)
		switch {
		case math.IsNaN(x):
			return Histogram{}, ErrNotFinite
		case x < lo:
			h.Below++
		case x > hi:
			h.Above++
		default:
			i := min(int((x-lo)/w), bins-1)
			h.Counts[i]++
		}
	}
	return h, nil
}

// Width returns the width of one bin.
func (h Histogram) Width() float64 { return (h.Hi - h.Lo) / float64(len(h.Counts)) }

// Fractions returns each bin's count divided by Total (zeros when Total is 0).
func (h Histogram) Fractions() []float64 {
	out := make([]float64, len(h.Counts))
	if h.Total == 0 {
		return out
	}
	for i, c := range h.Counts {
		out[i] = float64(c) / float64(h.Total)
	}
	return out
}

// Summary holds the order statistics of a list of scores.
type Summary struct {
	N      int     `json:"n"`
	Min    float64 `json:"min"`
	Mean   float64 `json:"mean"`
	Median float64 `json:"median"`
	Max    float64 `json:"max"`
}

// Summarize returns the count, minimum, mean, median and maximum of values
// (all zero for an empty list).
func Summarize(values []float32) Summary {
	if len(values) == 0 {
		return Summary{}
	}
	s := slices.Clone(values)
	slices.Sort(s)
	var sum float64
	for _, v := range s {
		sum += float64(v)
	}
	med := float64(s[len(s)/2])
	if len(s)%2 == 0 {
		med = (float64(s[len(s)/2-1]) + float64(s[len(s)/2])) / 2
	}
	return Summary{N: len(s), Min: float64(s[0]), Mean: sum / float64(len(s)), Median: med, Max: float64(s[len(s)-1])}
}

// ErrDimension is returned when two vectors of different lengths are compared.
var ErrDimension = errors.New("metrics: vectors of different lengths")

// ErrZeroVector is returned for the cosine distance of an all-zero vector.
var ErrZeroVector = errors.New("metrics: cosine distance of a zero vector")

// L2 returns the Euclidean distance of a and b, computed in float64. It is
// the benchmark's own reference, independent of the gallery's kernels.
func L2(a, b []float32) (float32, error) {
	if len(a) != len(b) {
		return 0, fmt.Errorf("%w: %d and %d", ErrDimension, len(a), len(b))
	}
	var s float64
	for i := range a {
		d := float64(a[i]) - float64(b[i])
		s += d * d
	}
	return float32(math.Sqrt(s)), nil
}

// CosineDistance returns 1 − the cosine similarity of a and b, in [0, 2],
// computed in float64.
func CosineDistance(a, b []float32) (float32, error) {
	if len(a) != len(b) {
		return 0, fmt.Errorf("%w: %d and %d", ErrDimension, len(a), len(b))
	}
	var dot, na, nb float64
	for i := range a {
		dot += float64(a[i]) * float64(b[i])
		na += float64(a[i]) * float64(a[i])
		nb += float64(b[i]) * float64(b[i])
	}
	if na == 0 || nb == 0 {
		return 0, ErrZeroVector
	}
	return float32(1 - dot/math.Sqrt(na*nb)), nil
}

// Percentile returns the p-th percentile (0 ≤ p ≤ 100) of sorted values by
// the nearest-rank method; 0 for an empty list.
func Percentile(sorted []float64, p float64) float64 {
	if len(sorted) == 0 {
		return 0
	}
	k := int(math.Ceil(p / 100 * float64(len(sorted))))
	k = max(1, min(k, len(sorted)))
	return sorted[k-1]
}
