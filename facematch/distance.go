package facematch

import (
	"fmt"
	"math"
)

// EuclideanDistance returns the L2 distance between a and b. It panics if
// the lengths differ; use Model.Distance to compare descriptors of unknown
// provenance. It compares one pair in a plain loop accumulating in float64;
// facematch/gallery scans many templates with SIMD kernels.
func EuclideanDistance(a, b []float32) float32 {
	mustSameLen(a, b)
	var s float64
	for i, x := range a {
		d := float64(x) - float64(b[i])
		s += d * d
	}
	return float32(math.Sqrt(s))
}

// CosineDistance returns 1 − cos(a, b), in [0, 2]. It is 1 when either
// vector is all zeros. It panics if the lengths differ.
func CosineDistance(a, b []float32) float32 {
	mustSameLen(a, b)
	var ab, aa, bb float64
	for i, x := range a {
		y := float64(b[i])
		ab += float64(x) * y
		aa += float64(x) * float64(x)
		bb += y * y
	}
	if aa == 0 || bb == 0 {
		return 1
	}
	c := ab / math.Sqrt(aa*bb)
	return float32(1 - math.Max(-1, math.Min(1, c)))
}

// Distance returns the distance between a and b under metric m:
// EuclideanDistance or CosineDistance. It panics if the lengths differ or m
// is not a known metric.
func (m Metric) Distance(a, b []float32) float32 {
	switch m {
	case Euclidean:
		return EuclideanDistance(a, b)
	case Cosine:
		return CosineDistance(a, b)
	}
	panic(fmt.Sprintf("facematch: unknown metric %d", m))
}

// Distance returns the distance between two descriptors of model m under
// its metric. It returns an error wrapping ErrDimension when either vector
// is not m.Dim long and ErrNotFinite when either holds a NaN or an infinity.
func (m Model) Distance(a, b []float32) (float32, error) {
	if err := m.check(a); err != nil {
		return 0, err
	}
	if err := m.check(b); err != nil {
		return 0, err
	}
	return m.Metric.Distance(a, b), nil
}

// check validates v as a descriptor of model m.
func (m Model) check(v []float32) error {
	if len(v) != m.Dim {
		return fmt.Errorf("%w: %d components, model %q has %d", ErrDimension, len(v), m.ID, m.Dim)
	}
	for i, x := range v {
		if !finite(x) {
			return fmt.Errorf("%w: component %d is %v", ErrNotFinite, i, x)
		}
	}
	return nil
}

func mustSameLen(a, b []float32) {
	if len(a) != len(b) {
		panic(fmt.Sprintf("facematch: comparing vectors of lengths %d and %d", len(a), len(b)))
	}
}

func finite(x float32) bool { return !math.IsNaN(float64(x)) && !math.IsInf(float64(x), 0) }
