package report

import (
	"fmt"
	"path/filepath"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"

	"github.com/facegate/facegate/bench/metrics"
)

// Identification holds the open-set 1:N figures of a labelled photo set:
// one photo per identity enrolled as the gallery, every other photo probed
// against it with no claimed identity, as a gate decides.
type Identification struct {
	// Set, GroupsFile, Photos, Faces, Identities, Workers, ExtractSeconds,
	// Skipped, Largest and ByLargest are as in Accuracy.
	Set            string  `json:"set"`
	GroupsFile     string  `json:"groups_file,omitempty"`
	Photos         int     `json:"photos"`
	Faces          int     `json:"faces"`
	Identities     int     `json:"identities"`
	Workers        int     `json:"workers"`
	ExtractSeconds float64 `json:"extract_seconds"`
	Skipped        []Skip  `json:"skipped"`
	Largest        bool    `json:"largest,omitempty"`
	ByLargest      []Skip  `json:"by_largest,omitempty"`
	// Threshold is the decision threshold (the model's default).
	Threshold float64 `json:"threshold"`
	// Seed draws the galleries smaller than their population; Trials is
	// how many are drawn per size.
	Seed   uint64 `json:"seed"`
	Trials int    `json:"trials"`
	// Rows holds FNIR and FPIR per gallery population, size and probe group.
	Rows []IdentRow `json:"rows"`
	// Tails extrapolates the threshold a very low per-pair FAR would take.
	Tails []TailLine `json:"tails,omitempty"`
	// Curves are FNIR against FPIR over thresholds with every identity of a
	// population enrolled.
	Curves []IdentCurve `json:"curves,omitempty"`
}

// IdentRow is the open-set outcome of one gallery population, gallery size
// and probe group, pooled over the trials.
type IdentRow struct {
	// Gallery names the identities enrolled galleries are drawn from: "all"
	// (every group) or a group.
	Gallery string `json:"gallery"`
	// Probes is the group of the probes counted: "all" or a group.
	Probes string `json:"probes"`
	// Size is the number of identities enrolled, Requested the --sizes
	// entry it came from (0: all).
	Size      int `json:"size"`
	Requested int `json:"requested"`
	Trials    int `json:"trials"`
	// Mated probes are photos of enrolled identities other than the
	// enrolled one: MatedMissed found nobody, MatedWrong found someone else
	// first. FNIR = (MatedMissed + MatedWrong) / Mated.
	Mated       int     `json:"mated"`
	MatedMissed int     `json:"mated_missed"`
	MatedWrong  int     `json:"mated_wrong"`
	FNIR        float64 `json:"fnir"`
	// NonMated probes are photos of identities not enrolled;
	// NonMatedMatched were matched to somebody. FPIR = NonMatedMatched / NonMated.
	NonMated        int     `json:"non_mated"`
	NonMatedMatched int     `json:"non_mated_matched"`
	FPIR            float64 `json:"fpir"`
	// The range of each rate over the trials.
	FNIRMin float64 `json:"fnir_min"`
	FNIRMax float64 `json:"fnir_max"`
	FPIRMin float64 `json:"fpir_min"`
	FPIRMax float64 `json:"fpir_max"`
	// Note says how the non-mated probes were formed when every identity
	// is enrolled.
	Note string `json:"note,omitempty"`
}

// TailLine is the threshold a per-pair false accept rate too low to count
// would take, extrapolated from a normal fit to the impostor tail
// (metrics.FitNormalTail), and what it costs.
type TailLine struct {
	// Name is the population whose pairs were used.
	Name string `json:"name"`
	// Genuine and Impostor count the population's pairs.
	Genuine  int `json:"genuine"`
	Impostor int `json:"impostor"`
	// TargetFAR is the per-pair FAR extrapolated to; Residents the gallery
	// size whose FPIR ≈ 1 − (1 − TargetFAR)^Residents it keeps near 0.1 %.
	TargetFAR float64 `json:"target_far"`
	Residents int     `json:"residents"`
	// Fit is the tail fit, Threshold its distance at TargetFAR and
	// Interval the bootstrap range of it; HalfK and DoubleK are the
	// thresholds fitted to half and twice as many lowest distances.
	Fit       metrics.NormalTail   `json:"fit"`
	Threshold float64              `json:"threshold"`
	Interval  metrics.TailInterval `json:"interval"`
	HalfK     float64              `json:"half_k"`
	DoubleK   float64              `json:"double_k"`
	// GenuineRejected genuine pairs lie over Threshold: FRR.
	GenuineRejected int     `json:"genuine_rejected"`
	FRR             float64 `json:"frr"`
	// FNIR is the 1:N miss rate at Threshold with every identity of the
	// population enrolled (MatedMissed of Mated probes missed or wrong).
	Mated       int     `json:"mated"`
	MatedMissed int     `json:"mated_missed"`
	FNIR        float64 `json:"fnir"`
	// DefaultFAR is the fitted per-pair FAR at the default threshold and
	// DefaultFPIR the FPIR it implies with Residents enrolled.
	DefaultFAR  float64 `json:"default_far"`
	DefaultFPIR float64 `json:"default_fpir"`
	// Problem says why the figures are missing, if they are.
	Problem string `json:"problem,omitempty"`
}

// IdentCurve is FNIR against FPIR over thresholds for one population with
// every identity enrolled.
type IdentCurve struct {
	Name   string       `json:"name"`
	Points []IdentPoint `json:"points"`
}

// IdentPoint is one threshold's FNIR and FPIR.
type IdentPoint struct {
	Threshold float64 `json:"threshold"`
	FNIR      float64 `json:"fnir"`
	FPIR      float64 `json:"fpir"`
}

func largestMarkdown(p func(string, ...any), largest bool, by []Skip) {
	if !largest {
		return
	}
	p("With `--largest`, a photo with several faces uses its largest instead of being skipped: %d photos were decided that way", len(by))
	if len(by) > 0 {
		p(" (listed in `results.json`, `by_largest`)")
	}
	p(".\n\n")
}

func rateCount(rate float64, k, n int) string {
	if n == 0 {
		return "— (no probes)"
	}
	return fmt.Sprintf("%s (%d / %d)", pct(rate), k, n)
}

func identificationMarkdown(p func(string, ...any), id *Identification) {
	p("## Photo set\n\n")
	p("`%s`", id.Set)
	if id.GroupsFile != "" {
		p(", groups from `%s`", id.GroupsFile)
	}
	p(": %d photos read, %d faces used (%d identities), %d skipped. Extraction with %d workers took %.1f s.\n\n", id.Photos, id.Faces, id.Identities, len(id.Skipped), id.Workers, id.ExtractSeconds)
	largestMarkdown(p, id.Largest, id.ByLargest)

	p("## Open-set identification at the default threshold %.4f\n\n", id.Threshold)
	p("Each gallery enrolls one photo per identity (the first in sorted order that gave a face) in a `gallery.Gallery`; probes are searched with `Identify` (no claimed identity). ")
	p("**FNIR**: a photo of an enrolled identity (other than the enrolled one) is not found, or found as someone else first. ")
	p("**FPIR**: a photo of an identity not enrolled is matched to somebody. ")
	p("Galleries smaller than their population are %d seeded random draws (seed %d); counts are pooled over the draws (the rate is their mean weighted by probes) and the range is over draws. ", id.Trials, id.Seed)
	p("With every identity of a population enrolled there is nobody left to be a stranger, so FPIR is measured by leaving each identity out of the gallery in turn (a gallery of N − 1) and probing with all its photos. ")
	p("*Gallery* names the identities enrolled (all groups mixed, or one group alone); *probes* the group of the probe photos counted.\n\n")
	p("| gallery | size | draws | probes | FNIR (missed + wrong / mated) | wrong | FNIR range | FPIR (matched / non-mated) | FPIR range |\n|---|---|---|---|---|---|---|---|---|\n")
	for _, r := range id.Rows {
		size := fmt.Sprintf("%d", r.Size)
		if r.Requested == 0 {
			size += " (all)"
		}
		fr, pr := "—", "—"
		if r.Trials > 1 {
			fr = fmt.Sprintf("%s–%s", pct(r.FNIRMin), pct(r.FNIRMax))
			pr = fmt.Sprintf("%s–%s", pct(r.FPIRMin), pct(r.FPIRMax))
		}
		p("| %s | %s | %d | %s | %s | %d | %s | %s | %s |\n", r.Gallery, size, r.Trials, r.Probes,
			rateCount(r.FNIR, r.MatedMissed+r.MatedWrong, r.Mated), r.MatedWrong, fr,
			rateCount(r.FPIR, r.NonMatedMatched, r.NonMated), pr)
	}
	p("\n")

	if len(id.Tails) > 0 {
		t0 := id.Tails[0]
		p("## Threshold for a per-pair FAR of %g (extrapolated)\n\n", t0.TargetFAR)
		p("A gate with %d residents and no claimed identity compares each stranger with all of them: FPIR ≈ 1 − (1 − FAR)^%d, so FPIR < 0.1 %% needs a per-pair FAR near %g. ", t0.Residents, t0.Residents, t0.TargetFAR)
		p("No set here has enough impostor pairs to count that rate, so **the threshold below is an extrapolation, not a measurement**: a normal distribution is fitted to the lower tail of the impostor distances — a least-squares line through the k lowest distances on the normal probability plot (distance against Probit((i − ½)/n)) — and read at %g. ", t0.TargetFAR)
		p("Its uncertainty is shown three ways: the 5–95 %% range over bootstrap resamples of the impostor distances (which treats pairs as independent although pairs share faces, so it understates), and the thresholds fitted to k/2 and 2k lowest distances (a tail that is not normal moves them apart). ")
		p("The FRR is then measured on the genuine pairs and the FNIR on the 1:N probes (every identity enrolled) at that threshold. ")
		p("The last column is the fitted FAR at the default threshold and the FPIR it would give with %d residents.\n\n", t0.Residents)
		p("| population | impostor pairs | k | lowest impostor | fit μ, σ (R²) | threshold @ FAR %g | bootstrap 5–95 %% | k/2, 2k | FRR of genuine pairs | 1:N FNIR (all enrolled) | default threshold: fitted FAR → FPIR @ %d |\n|---|---|---|---|---|---|---|---|---|---|---|\n", t0.TargetFAR, t0.Residents)
		for _, t := range id.Tails {
			if t.Problem != "" {
				p("| %s | %d | — | — | — | %s | — | — | — | — | — |\n", t.Name, t.Impostor, t.Problem)
				continue
			}
			p("| %s | %d | %d | %.4f | %.4f, %.4f (%.3f) | **%.4f** | %.4f–%.4f | %.4f, %.4f | %s | %s | %.2g → %s |\n",
				t.Name, t.Impostor, t.Fit.K, t.Fit.Lowest, t.Fit.Mu, t.Fit.Sigma, t.Fit.R2, t.Threshold,
				t.Interval.Lo, t.Interval.Hi, t.HalfK, t.DoubleK,
				rateCount(t.FRR, t.GenuineRejected, t.Genuine), rateCount(t.FNIR, t.MatedMissed, t.Mated),
				t.DefaultFAR, pct(t.DefaultFPIR))
		}
		p("\n")
	}
	if len(id.Skipped) > 0 {
		p("## Skipped photos\n\n| photo | reason |\n|---|---|\n")
		for _, s := range id.Skipped {
			p("| %s | %s |\n", s.Path, s.Reason)
		}
		p("\n")
	}
}

// identificationPlots draws FNIR against FPIR over thresholds, one line per
// curve, on the normal-deviate axes of a DET plot.
func identificationPlots(dir string, id *Identification) ([]string, error) {
	if len(id.Curves) == 0 {
		return nil, nil
	}
	const lo = 1e-4
	p := plot.New()
	p.Title.Text = "Open-set 1:N: FNIR vs FPIR over thresholds (every identity enrolled)"
	p.X.Label.Text = "FPIR (0 drawn at the left edge)"
	p.Y.Label.Text = "FNIR (0 drawn at the bottom edge)"
	p.X.Scale, p.Y.Scale = probitScale{}, probitScale{}
	p.X.Tick.Marker, p.Y.Tick.Marker = rateTicks{}, rateTicks{}
	p.X.Min, p.X.Max = lo, detMax
	p.Y.Min, p.Y.Max = lo, detMax
	p.Add(plotter.NewGrid())
	for i, c := range id.Curves {
		xy := make(plotter.XYs, 0, len(c.Points))
		for _, pt := range c.Points {
			x, y := min(max(pt.FPIR, lo), detMax), min(max(pt.FNIR, lo), detMax)
			if n := len(xy); n > 0 && xy[n-1].X == x && xy[n-1].Y == y {
				continue
			}
			xy = append(xy, plotter.XY{X: x, Y: y})
		}
		if len(xy) < 2 {
			continue
		}
		if err := addLine(p, i, c.Name, xy); err != nil {
			return nil, err
		}
	}
	p.Legend.Left = true
	p.Legend.Top = false
	if err := p.Save(plotWidth, plotHeight, filepath.Join(dir, "fnir-fpir.png")); err != nil {
		return nil, err
	}
	return []string{"fnir-fpir.png"}, nil
}
