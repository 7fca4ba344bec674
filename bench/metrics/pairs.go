package metrics

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
)

// Scope values name impostor populations that are not a single group.
const (
	// AllGroups selects every impostor pair, whatever the groups of its faces.
	AllGroups = -1
	// CrossGroup selects the impostor pairs whose two faces are in different groups.
	CrossGroup = -2
)

// ErrLabels is returned when a Labels value is inconsistent.
var ErrLabels = errors.New("metrics: inconsistent labels")

// Labels names the identity and group of every face of a benchmark set.
// Faces are numbered by their index in Identity.
type Labels struct {
	// Identity[i] is the identity of face i; equal numbers mean the same person.
	Identity []int
	// Group[i] is the group (≥ 0) of face i. Nil puts every face in group 0.
	// All faces of one identity must be in the same group.
	Group []int
}

// Pair is two faces of a set, A < B.
type Pair struct {
	A, B int32
}

func (l Labels) group(i int) int {
	if l.Group == nil {
		return 0
	}
	return l.Group[i]
}

// Validate reports an error wrapping ErrLabels when Group has the wrong length,
// holds a negative group, or puts one identity in two groups.
func (l Labels) Validate() error {
	if len(l.Identity) > 1<<31-1 {
		return fmt.Errorf("%w: %d faces, at most 2^31-1", ErrLabels, len(l.Identity))
	}
	if l.Group == nil {
		return nil
	}
	if len(l.Group) != len(l.Identity) {
		return fmt.Errorf("%w: %d groups for %d faces", ErrLabels, len(l.Group), len(l.Identity))
	}
	seen := map[int]int{}
	for i, id := range l.Identity {
		g := l.Group[i]
		if g < 0 {
			return fmt.Errorf("%w: face %d has negative group %d", ErrLabels, i, g)
		}
		if prev, ok := seen[id]; ok && prev != g {
			return fmt.Errorf("%w: identity %d is in groups %d and %d", ErrLabels, id, prev, g)
		}
		seen[id] = g
	}
	return nil
}

// GenuinePairs calls f for every pair of faces of the same identity, in
// increasing (A, B) order, and returns how many there were. With group ≥ 0
// only identities of that group count; AllGroups (or CrossGroup, which has no
// genuine pairs of its own and is compared against all of them) selects every one.
func (l Labels) GenuinePairs(group int, f func(a, b int)) int {
	byID := map[int][]int{}
	var order []int
	for i, id := range l.Identity {
		if group >= 0 && l.group(i) != group {
			continue
		}
		if _, ok := byID[id]; !ok {
			order = append(order, id)
		}
		byID[id] = append(byID[id], i)
	}
	var pairs []Pair
	for _, id := range order {
		faces := byID[id]
		for x := range faces {
			for y := x + 1; y < len(faces); y++ {
				pairs = append(pairs, Pair{int32(faces[x]), int32(faces[y])})
			}
		}
	}
	slices.SortFunc(pairs, comparePairs)
	for _, p := range pairs {
		f(int(p.A), int(p.B))
	}
	return len(pairs)
}

func comparePairs(p, q Pair) int {
	if p.A != q.A {
		return int(p.A - q.A)
	}
	return int(p.B - q.B)
}

// ImpostorCount returns the number of impostor pairs (faces of different
// identities) in scope: a group ≥ 0 (both faces in it), AllGroups or CrossGroup.
func (l Labels) ImpostorCount(scope int) int64 {
	perGroup := map[int]int64{}
	perID := map[int]int64{}
	idGroup := map[int]int{}
	for i, id := range l.Identity {
		perGroup[l.group(i)]++
		perID[id]++
		idGroup[id] = l.group(i)
	}
	c2 := func(n int64) int64 { return n * (n - 1) / 2 }
	n := int64(len(l.Identity))
	var sameID, sameGroup int64
	for id, k := range perID {
		if scope < 0 || idGroup[id] == scope {
			sameID += c2(k)
		}
	}
	for _, k := range perGroup {
		sameGroup += c2(k)
	}
	switch {
	case scope == AllGroups:
		return c2(n) - sameID
	case scope == CrossGroup:
		return c2(n) - sameGroup
	case scope >= 0:
		return c2(perGroup[scope]) - sameID
	}
	return 0
}

// Sample is a set of impostor pairs: all of a scope's pairs, or a seeded
// uniform sample of them without repetition.
type Sample struct {
	// Scope is the group, AllGroups or CrossGroup the pairs were drawn from.
	Scope int
	// Total is the number of impostor pairs in the scope.
	Total int64
	// Pairs holds the sampled pairs sorted by (A, B); nil when the sample is
	// every pair of the scope (Total ≤ max), which are enumerated on demand
	// instead of stored.
	Pairs []Pair
	// Seed is the seed the sample was drawn with.
	Seed uint64

	labels Labels
}

// Len returns the number of pairs in s.
func (s Sample) Len() int64 {
	if s.Pairs == nil {
		return s.Total
	}
	return int64(len(s.Pairs))
}

// Sampled reports whether s is a strict subset of its scope's pairs.
func (s Sample) Sampled() bool { return s.Pairs != nil }

// ForEach calls f for every pair of s in increasing (A, B) order.
func (s Sample) ForEach(f func(a, b int)) {
	if s.Pairs != nil {
		for _, p := range s.Pairs {
			f(int(p.A), int(p.B))
		}
		return
	}
	if s.Total == 0 {
		return
	}
	l := s.labels
	for a := range l.Identity {
		for b := a + 1; b < len(l.Identity); b++ {
			if l.impostorIn(s.Scope, a, b) {
				f(a, b)
			}
		}
	}
}

func (l Labels) impostorIn(scope, a, b int) bool {
	if l.Identity[a] == l.Identity[b] {
		return false
	}
	ga, gb := l.group(a), l.group(b)
	switch {
	case scope == AllGroups:
		return true
	case scope == CrossGroup:
		return ga != gb
	}
	return ga == scope && gb == scope
}

// Impostors returns the impostor pairs of scope (a group ≥ 0, AllGroups or
// CrossGroup): all of them when there are at most max, else max distinct pairs
// drawn uniformly with a PCG generator seeded by seed and scope. The same
// labels, scope, max and seed always give the same pairs.
func (l Labels) Impostors(scope, max int, seed uint64) (Sample, error) {
	if err := l.Validate(); err != nil {
		return Sample{}, err
	}
	if max < 0 {
		return Sample{}, fmt.Errorf("metrics: negative impostor pair limit %d", max)
	}
	s := Sample{Scope: scope, Total: l.ImpostorCount(scope), Seed: seed, labels: l}
	if s.Total <= int64(max) {
		return s, nil
	}
	// Faces a pair's ends are drawn from: a group's faces, or all of them.
	var pool []int32
	for i := range l.Identity {
		if scope < 0 || l.group(i) == scope {
			pool = append(pool, int32(i))
		}
	}
	r := rand.New(rand.NewPCG(seed, uint64(int64(scope))^0x9e3779b97f4a7c15))
	// Pairs are drawn as keys A<<32 | B, which sort in (A, B) order.
	keys := make([]uint64, 0, max)
	for len(keys) < max {
		for need := max - len(keys); need > 0; {
			a := pool[r.IntN(len(pool))]
			b := pool[r.IntN(len(pool))]
			if a == b || !l.impostorIn(scope, int(a), int(b)) {
				continue
			}
			if a > b {
				a, b = b, a
			}
			keys = append(keys, uint64(a)<<32|uint64(b))
			need--
		}
		slices.Sort(keys)
		keys = slices.Compact(keys)
	}
	pairs := make([]Pair, len(keys))
	for i, k := range keys {
		pairs[i] = Pair{int32(k >> 32), int32(uint32(k))}
	}
	s.Pairs = pairs
	return s, nil
}
