package report

import "github.com/facegate/facegate/bench/metrics"

// LOIOLine is the leave-one-identity-out outcome of one population at one
// target FAR (see metrics.LeaveOneIdentityOut): for each identity a
// threshold calibrated at the target on the pairs not involving it decides
// that identity's pairs, and the decisions are pooled.
type LOIOLine struct {
	// Name is the population, as in Line.Name.
	Name string `json:"name"`
	// TargetFAR is the rate each fold calibrated for; Policy ("naive" or
	// "sample-aware") how folds too small for it calibrated.
	TargetFAR float64 `json:"target_far"`
	Policy    string  `json:"policy"`
	// Folds is the number of identities that decided pairs,
	// ZeroFalseAcceptFolds those calibrated for zero false accepts.
	Folds                int `json:"folds"`
	ZeroFalseAcceptFolds int `json:"zero_false_accept_folds"`
	// MinHeldIn is the fewest impostor pairs a fold calibrated on; Enough
	// reports whether it reaches ⌈1/TargetFAR⌉, below which the target is
	// not resolvable and no figure is reported.
	MinHeldIn int  `json:"min_held_in"`
	Enough    bool `json:"enough"`
	// MinThreshold and MaxThreshold span the folds' thresholds.
	MinThreshold float64 `json:"min_threshold"`
	MaxThreshold float64 `json:"max_threshold"`
	// The pooled decisions.
	Genuine          int     `json:"genuine"`
	GenuineAccepted  int     `json:"genuine_accepted"`
	Impostor         int     `json:"impostor"`
	ImpostorAccepted int     `json:"impostor_accepted"`
	TAR              float64 `json:"tar"`
	FAR              float64 `json:"far"`
	// Problem says why the figures are missing, if they are.
	Problem string `json:"problem,omitempty"`
}

func loioMarkdown(p func(string, ...any), lines []LOIOLine) {
	if len(lines) == 0 {
		return
	}
	p("## Leave-one-identity-out\n\n")
	p("For each identity a threshold is calibrated (facematch.Calibrate) at the target FAR on the population's pairs that do not involve it, and decides that identity's genuine pairs and its impostor pairs with identities sorted after it; the decisions of all folds are pooled, so no threshold is judged on the pairs it was fitted to. ")
	p("*Sample-aware* folds holding fewer than 3/target impostor pairs calibrate for zero false accepts (rule of three); *naive* folds calibrate for the target however few their pairs. ")
	p("A target is reported only where every fold held at least ⌈1/target⌉ impostor pairs. A naive row is shown only where it differs from the sample-aware one above it (`results.json` has both).\n\n")
	p("| population | target FAR | folds | policy | fewest held-in impostor pairs | fold thresholds | TAR | FAR |\n|---|---|---|---|---|---|---|---|\n")
	for i, l := range lines {
		if i > 0 && l.Policy == "naive" && sameFigures(lines[i-1], l) {
			continue
		}
		p("| %s | %s | %d | %s", l.Name, farLabel(l.TargetFAR), l.Folds, l.Policy)
		if l.Policy == "sample-aware" && l.ZeroFalseAcceptFolds > 0 {
			p(" (%d zero-FA folds)", l.ZeroFalseAcceptFolds)
		}
		p(" | %d |", l.MinHeldIn)
		switch {
		case l.Problem != "":
			p(" — | %s | — |\n", l.Problem)
		case !l.Enough:
			p(" — | not enough pairs (%d < %d held-in impostor) | — |\n", l.MinHeldIn, metrics.MinImpostorPairs(l.TargetFAR))
		default:
			p(" %.4f–%.4f | %s (%d / %d) | %s (%d / %d) |\n", l.MinThreshold, l.MaxThreshold,
				pct(l.TAR), l.GenuineAccepted, l.Genuine, pct(l.FAR), l.ImpostorAccepted, l.Impostor)
		}
	}
	p("\n")
}

// sameFigures reports whether two lines of one population and target
// decided the same way.
func sameFigures(a, b LOIOLine) bool {
	return a.Name == b.Name && a.TargetFAR == b.TargetFAR && a.Problem == b.Problem &&
		a.MinThreshold == b.MinThreshold && a.MaxThreshold == b.MaxThreshold &&
		a.GenuineAccepted == b.GenuineAccepted && a.ImpostorAccepted == b.ImpostorAccepted
}
