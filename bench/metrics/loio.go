package metrics

import (
	"cmp"
	"errors"
	"fmt"
	"math"
	"slices"

	"github.com/facegate/facegate/facematch"
)

// ScoredPair is the distance between a face of identity A and a face of
// identity B; A == B makes it a genuine pair, anything else an impostor pair.
type ScoredPair[ID cmp.Ordered] struct {
	A, B     ID
	Distance float32
}

// Genuine reports whether p joins two faces of the same identity.
func (p ScoredPair[ID]) Genuine() bool { return p.A == p.B }

// FoldPolicy says how a leave-one-identity-out fold calibrates when it holds
// too few impostor pairs to resolve the target false accept rate.
type FoldPolicy uint8

const (
	// CalibrateAlways calibrates every fold for the target FAR however few
	// its impostor pairs. On ~100 pairs a 1 % target lets the closest
	// impostor through, and held-out impostors then cross the threshold:
	// the naive variant, kept to show that effect.
	CalibrateAlways FoldPolicy = iota
	// ZeroFalseAcceptsWhenSmall calibrates a fold with fewer than
	// 3/target impostor pairs for zero false accepts instead (rule of
	// three: with n impostor pairs and no false accept, the 95 % upper
	// bound on the FAR is 3/n, so fewer than 3/target pairs cannot support
	// any false accept at the target).
	ZeroFalseAcceptsWhenSmall
)

// String names the policy as the reports do.
func (p FoldPolicy) String() string {
	switch p {
	case CalibrateAlways:
		return "naive"
	case ZeroFalseAcceptsWhenSmall:
		return "sample-aware"
	}
	return fmt.Sprintf("FoldPolicy(%d)", uint8(p))
}

// FalseAccept is an impostor pair a leave-one-identity-out fold accepted.
type FalseAccept[ID cmp.Ordered] struct {
	Pair ScoredPair[ID]
	// Fold is the identity whose fold decided the pair and Threshold the
	// threshold that fold calibrated.
	Fold      ID
	Threshold float32
}

// LOIO is the pooled outcome of a leave-one-identity-out cross-validation.
type LOIO[ID cmp.Ordered] struct {
	// TargetFAR is the false accept rate every fold calibrated for and
	// Policy how folds with few impostor pairs did so.
	TargetFAR float64
	Policy    FoldPolicy
	// Folds is the number of identities that decided at least one pair;
	// ZeroFalseAcceptFolds how many of them calibrated for zero false
	// accepts under ZeroFalseAcceptsWhenSmall.
	Folds                int
	ZeroFalseAcceptFolds int
	// MinHeldIn is the fewest impostor pairs any fold calibrated on: a
	// target FAR below 1/MinHeldIn was not resolvable in every fold.
	MinHeldIn int
	// MinThreshold and MaxThreshold span the folds' thresholds.
	MinThreshold, MaxThreshold float32
	// Genuine pairs decided and accepted, impostor pairs decided and accepted.
	Genuine, GenuineAccepted   int
	Impostor, ImpostorAccepted int
	// FalseAccepts lists every accepted impostor pair.
	FalseAccepts []FalseAccept[ID]
}

// TAR returns GenuineAccepted/Genuine.
func (r LOIO[ID]) TAR() float64 { return float64(r.GenuineAccepted) / float64(r.Genuine) }

// FAR returns ImpostorAccepted/Impostor.
func (r LOIO[ID]) FAR() float64 { return float64(r.ImpostorAccepted) / float64(r.Impostor) }

// ErrLOIO is returned by LeaveOneIdentityOut when its pairs cannot give both
// rates: no genuine or no impostor pair decided.
var ErrLOIO = errors.New("metrics: leave-one-identity-out needs genuine and impostor pairs")

// LeaveOneIdentityOut cross-validates facematch.Calibrate over identities, so
// that no threshold is judged on the pairs it was fitted to. For each
// identity i (in increasing order) a threshold is calibrated for targetFAR
// on the pairs that involve neither face of i, and decides the pairs
// assigned to i. Each pair is decided exactly once: a genuine pair of i in
// i's fold, and an impostor pair of identities a < b in a's fold, whose
// calibration set excludes every pair of a and therefore that pair too. The
// decisions of all folds are pooled. policy says how folds with few
// impostor pairs calibrate. A fold with held-out pairs but no genuine or no
// impostor pair left to calibrate on is an error wrapping
// facematch.ErrBadSamples, as Calibrate's. The input is not modified.
//
// Each fold's threshold is facematch.Calibrate(genuine, impostor,
// foldFAR).Threshold of the fold's calibration pairs (TestFoldThreshold
// checks it against Calibrate on every fold), found without a sort per
// fold: the impostor distances are sorted once, and a fold walks them from
// the lowest, skipping its own pairs, to the one its target lets through
// first. On 555,000 pairs and 341 identities that is milliseconds instead
// of minutes.
func LeaveOneIdentityOut[ID cmp.Ordered](pairs []ScoredPair[ID], targetFAR float64, policy FoldPolicy) (LOIO[ID], error) {
	if !(targetFAR > 0 && targetFAR < 1) {
		return LOIO[ID]{}, ErrTarget
	}
	var imps []ScoredPair[ID]
	genOf, impOf := map[ID]int{}, map[ID]int{}
	held := map[ID][]ScoredPair[ID]{}
	for _, p := range pairs {
		if math.IsNaN(float64(p.Distance)) || math.IsInf(float64(p.Distance), 0) {
			return LOIO[ID]{}, ErrNotFinite
		}
		if p.Distance < 0 {
			return LOIO[ID]{}, fmt.Errorf("%w: negative distance %v", facematch.ErrBadSamples, p.Distance)
		}
		id := min(p.A, p.B)
		held[id] = append(held[id], p)
		if p.Genuine() {
			genOf[p.A]++
			continue
		}
		imps = append(imps, p)
		impOf[p.A]++
		impOf[p.B]++
	}
	slices.SortStableFunc(imps, func(p, q ScoredPair[ID]) int { return cmp.Compare(p.Distance, q.Distance) })
	nGen := len(pairs) - len(imps)
	ids := make([]ID, 0, len(held))
	for id := range held {
		ids = append(ids, id)
	}
	slices.Sort(ids)

	r := LOIO[ID]{TargetFAR: targetFAR, Policy: policy}
	for _, id := range ids {
		gen, m := nGen-genOf[id], len(imps)-impOf[id]
		if gen == 0 || m == 0 {
			return LOIO[ID]{}, fmt.Errorf("metrics: fold of identity %v: %w: %d genuine and %d impostor distances, need at least one of each", id, facematch.ErrBadSamples, gen, m)
		}
		foldFAR := targetFAR
		if policy == ZeroFalseAcceptsWhenSmall && float64(m)*targetFAR < 3 {
			foldFAR = 0
			r.ZeroFalseAcceptFolds++
		}
		// As facematch.Calibrate: a is the largest number of false
		// accepts with a/m ≤ foldFAR, and the threshold falls just under
		// the (a+1)-th lowest impostor distance (a < m since foldFAR < 1).
		a := allowedFalseAccepts(m, foldFAR)
		var t float32
		for _, p := range imps {
			if p.A == id || p.B == id {
				continue
			}
			if a == 0 {
				t = math.Nextafter32(p.Distance, float32(math.Inf(-1)))
				break
			}
			a--
		}
		if r.Folds == 0 {
			r.MinThreshold, r.MaxThreshold, r.MinHeldIn = t, t, m
		}
		r.MinThreshold, r.MaxThreshold = min(r.MinThreshold, t), max(r.MaxThreshold, t)
		r.MinHeldIn = min(r.MinHeldIn, m)
		r.Folds++
		for _, p := range held[id] {
			ok := p.Distance <= t
			if p.Genuine() {
				r.Genuine++
				if ok {
					r.GenuineAccepted++
				}
				continue
			}
			r.Impostor++
			if ok {
				r.ImpostorAccepted++
				r.FalseAccepts = append(r.FalseAccepts, FalseAccept[ID]{Pair: p, Fold: id, Threshold: t})
			}
		}
	}
	if r.Genuine == 0 || r.Impostor == 0 {
		return LOIO[ID]{}, fmt.Errorf("%w: %d genuine and %d impostor pairs decided", ErrLOIO, r.Genuine, r.Impostor)
	}
	return r, nil
}

// allowedFalseAccepts returns facematch.Calibrate's count of false accepts a
// target allows among m impostor pairs: the largest a with a/m ≤ far,
// compared as the same float64 ratio Calibrate reports.
func allowedFalseAccepts(m int, far float64) int {
	a := int(math.Floor(far * float64(m)))
	for a > 0 && float64(a)/float64(m) > far {
		a--
	}
	for a < m && float64(a+1)/float64(m) <= far {
		a++
	}
	return a
}
