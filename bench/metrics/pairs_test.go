package metrics

import (
	"errors"
	"math"
	"slices"
	"testing"
)

// labels builds a set of n faces: identity i/perID, group by identity parity
// when grouped.
func labels(n, perID int, grouped bool) Labels {
	l := Labels{Identity: make([]int, n)}
	if grouped {
		l.Group = make([]int, n)
	}
	for i := range n {
		l.Identity[i] = i / perID
		if grouped {
			l.Group[i] = (i / perID) % 2
		}
	}
	return l
}

func bruteImpostors(l Labels, scope int) []Pair {
	var out []Pair
	for a := range l.Identity {
		for b := a + 1; b < len(l.Identity); b++ {
			if l.impostorIn(scope, a, b) {
				out = append(out, Pair{int32(a), int32(b)})
			}
		}
	}
	return out
}

func collect(s Sample) []Pair {
	var out []Pair
	s.ForEach(func(a, b int) { out = append(out, Pair{int32(a), int32(b)}) })
	return out
}

func TestImpostorCountMatchesEnumeration(t *testing.T) {
	l := Labels{Identity: []int{0, 0, 1, 2, 2, 2, 3, 4}, Group: []int{0, 0, 1, 0, 0, 0, 1, 1}}
	for _, scope := range []int{AllGroups, CrossGroup, 0, 1, 7} {
		want := int64(len(bruteImpostors(l, scope)))
		if got := l.ImpostorCount(scope); got != want {
			t.Errorf("ImpostorCount(%d) = %d, want %d", scope, got, want)
		}
	}
	// Hand count: 8 faces → 28 pairs; same identity 1+3 = 4 → 24 impostors.
	if got := l.ImpostorCount(AllGroups); got != 24 {
		t.Errorf("ImpostorCount(all) = %d, want 24", got)
	}
}

func TestImpostorsEnumeratesWhenAffordable(t *testing.T) {
	l := labels(12, 3, true)
	for _, scope := range []int{AllGroups, CrossGroup, 0, 1} {
		s, err := l.Impostors(scope, 1000, 1)
		if err != nil {
			t.Fatal(err)
		}
		if s.Sampled() {
			t.Errorf("scope %d: sampled %d of %d pairs under a cap of 1000", scope, s.Len(), s.Total)
		}
		if got, want := collect(s), bruteImpostors(l, scope); !slices.Equal(got, want) {
			t.Errorf("scope %d: pairs %v, want %v", scope, got, want)
		}
	}
}

func TestImpostorsSampleDeterministic(t *testing.T) {
	l := labels(300, 3, true)
	for _, scope := range []int{AllGroups, CrossGroup, 0, 1} {
		a, err := l.Impostors(scope, 500, 42)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := l.Impostors(scope, 500, 42)
		c, _ := l.Impostors(scope, 500, 43)
		if !a.Sampled() || a.Len() != 500 || a.Total <= 500 {
			t.Fatalf("scope %d: sample of %d from %d, sampled=%v; want 500 sampled", scope, a.Len(), a.Total, a.Sampled())
		}
		if !slices.Equal(a.Pairs, b.Pairs) {
			t.Errorf("scope %d: same seed gave different pairs", scope)
		}
		if slices.Equal(a.Pairs, c.Pairs) {
			t.Errorf("scope %d: seeds 42 and 43 gave the same pairs", scope)
		}
		if !slices.IsSortedFunc(a.Pairs, comparePairs) {
			t.Errorf("scope %d: pairs not sorted", scope)
		}
		for i, p := range a.Pairs {
			if i > 0 && p == a.Pairs[i-1] {
				t.Errorf("scope %d: duplicate pair %v", scope, p)
			}
			if p.A >= p.B || !l.impostorIn(scope, int(p.A), int(p.B)) {
				t.Errorf("scope %d: pair %v is not an impostor pair of the scope", scope, p)
			}
		}
	}
}

func TestImpostorsNearlyAll(t *testing.T) {
	// A cap just under the total forces the top-up loop to find the last pairs.
	l := labels(40, 2, false)
	total := l.ImpostorCount(AllGroups)
	s, err := l.Impostors(AllGroups, int(total-1), 7)
	if err != nil {
		t.Fatal(err)
	}
	if s.Len() != total-1 {
		t.Errorf("got %d pairs, want %d", s.Len(), total-1)
	}
}

func TestLabelsValidate(t *testing.T) {
	bad := []Labels{
		{Identity: []int{0, 1}, Group: []int{0}},
		{Identity: []int{0, 0}, Group: []int{0, 1}},
		{Identity: []int{0, 1}, Group: []int{0, -1}},
	}
	for _, l := range bad {
		if _, err := l.Impostors(AllGroups, 10, 1); !errors.Is(err, ErrLabels) {
			t.Errorf("Impostors(%+v) error %v, want ErrLabels", l, err)
		}
	}
	if _, err := labels(4, 2, false).Impostors(AllGroups, -1, 1); err == nil {
		t.Error("negative cap accepted")
	}
}

func TestGenuinePairs(t *testing.T) {
	l := Labels{Identity: []int{5, 3, 5, 3, 5, 9}, Group: []int{0, 1, 0, 1, 0, 1}}
	var got []Pair
	n := l.GenuinePairs(AllGroups, func(a, b int) { got = append(got, Pair{int32(a), int32(b)}) })
	want := []Pair{{0, 2}, {0, 4}, {1, 3}, {2, 4}}
	if n != 4 || !slices.Equal(got, want) {
		t.Errorf("GenuinePairs(all) = %d %v, want 4 %v", n, got, want)
	}
	got = nil
	l.GenuinePairs(1, func(a, b int) { got = append(got, Pair{int32(a), int32(b)}) })
	if !slices.Equal(got, []Pair{{1, 3}}) {
		t.Errorf("GenuinePairs(1) = %v, want [{1 3}]", got)
	}
	if n := (Labels{}).GenuinePairs(AllGroups, func(a, b int) { t.Error("called on empty labels") }); n != 0 {
		t.Errorf("empty labels: %d pairs", n)
	}
}

func TestHistogram(t *testing.T) {
	h, err := NewHistogram([]float32{-1, 0, 0.1, 0.25, 0.5, 0.99, 1, 2}, 0, 1, 4)
	if err != nil {
		t.Fatal(err)
	}
	// Bins [0,.25) [.25,.5) [.5,.75) [.75,1]: 0 and 0.1; 0.25; 0.5; 0.99 and 1.
	if !slices.Equal(h.Counts, []int{2, 1, 1, 2}) || h.Below != 1 || h.Above != 1 || h.Total != 8 {
		t.Errorf("histogram %+v", h)
	}
	if f := h.Fractions(); f[0] != 0.25 {
		t.Errorf("fractions %v", f)
	}
	if _, err := NewHistogram(nil, 1, 1, 3); !errors.Is(err, ErrBins) {
		t.Errorf("empty range: %v", err)
	}
	if _, err := NewHistogram(nil, 0, 1, 0); !errors.Is(err, ErrBins) {
		t.Errorf("no bins: %v", err)
	}
	if _, err := NewHistogram([]float32{float32(math.NaN())}, 0, 1, 2); !errors.Is(err, ErrNotFinite) {
		t.Errorf("NaN: %v", err)
	}
	e, _ := NewHistogram(nil, 0, 1, 2)
	if e.Total != 0 || !slices.Equal(e.Fractions(), []float64{0, 0}) {
		t.Errorf("empty histogram %+v", e)
	}
}

func TestSummarizeAndPercentile(t *testing.T) {
	s := Summarize([]float32{4, 1, 3, 2})
	if s != (Summary{N: 4, Min: 1, Mean: 2.5, Median: 2.5, Max: 4}) {
		t.Errorf("Summarize = %+v", s)
	}
	if (Summarize(nil) != Summary{}) {
		t.Error("Summarize(nil) not zero")
	}
	v := []float64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}
	for p, want := range map[float64]float64{50: 5, 95: 10, 99: 10, 10: 1, 0: 1, 100: 10} {
		if got := Percentile(v, p); got != want {
			t.Errorf("Percentile(%v) = %v, want %v", p, got, want)
		}
	}
	if Percentile(nil, 50) != 0 {
		t.Error("Percentile(nil) not 0")
	}
}

func TestDistance(t *testing.T) {
	a, b := []float32{3, 0}, []float32{0, 4}
	if d, _ := L2(a, b); d != 5 {
		t.Errorf("L2 = %v, want 5", d)
	}
	if d, _ := CosineDistance(a, b); d != 1 {
		t.Errorf("cosine = %v, want 1", d)
	}
	if d, _ := CosineDistance(a, []float32{-6, 0}); d != 2 {
		t.Errorf("cosine opposite = %v, want 2", d)
	}
	if d, _ := CosineDistance(a, []float32{6, 0}); d != 0 {
		t.Errorf("cosine same direction = %v, want 0", d)
	}
	for _, f := range []func(a, b []float32) (float32, error){L2, CosineDistance} {
		if _, err := f(a, []float32{1}); !errors.Is(err, ErrDimension) {
			t.Errorf("dimension: %v", err)
		}
	}
	if _, err := CosineDistance(a, []float32{0, 0}); !errors.Is(err, ErrZeroVector) {
		t.Errorf("zero vector: %v", err)
	}
}
