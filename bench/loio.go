package main

import (
	"strings"

	"github.com/facegate/facegate/bench/metrics"
	"github.com/facegate/facegate/bench/report"
)

// loioTargets are the false accept rates the leave-one-identity-out figures
// are given at.
var loioTargets = []float64{0.01, 0.001}

// loioLines cross-validates the thresholds of a population whose pairs
// (identity numbers and distances) are given: for every target of
// loioTargets, sample-aware and naive (see metrics.LeaveOneIdentityOut).
func loioLines(name string, pairs []metrics.ScoredPair[int]) []report.LOIOLine {
	var out []report.LOIOLine
	for _, far := range loioTargets {
		for _, policy := range []metrics.FoldPolicy{metrics.ZeroFalseAcceptsWhenSmall, metrics.CalibrateAlways} {
			l := report.LOIOLine{Name: name, TargetFAR: far, Policy: policy.String()}
			r, err := metrics.LeaveOneIdentityOut(pairs, far, policy)
			if err != nil {
				l.Problem = strings.TrimPrefix(err.Error(), "metrics: ")
				out = append(out, l)
				continue
			}
			l.Folds, l.ZeroFalseAcceptFolds, l.MinHeldIn = r.Folds, r.ZeroFalseAcceptFolds, r.MinHeldIn
			l.Enough = r.MinHeldIn >= metrics.MinImpostorPairs(far)
			l.MinThreshold, l.MaxThreshold = float64(r.MinThreshold), float64(r.MaxThreshold)
			l.Genuine, l.GenuineAccepted, l.Impostor, l.ImpostorAccepted = r.Genuine, r.GenuineAccepted, r.Impostor, r.ImpostorAccepted
			l.TAR, l.FAR = r.TAR(), r.FAR()
			out = append(out, l)
		}
	}
	return out
}

// scored is the pair of faces a and b with distance d, by identity.
func scored(l metrics.Labels, a, b int, d float32) metrics.ScoredPair[int] {
	return metrics.ScoredPair[int]{A: l.Identity[a], B: l.Identity[b], Distance: d}
}
