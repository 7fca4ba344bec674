package report

import (
	"fmt"
	"path/filepath"

	"github.com/facegate/facegate/bench/metrics"
)

// Pad holds the ISO/IEC 30107-3 figures of a passive presentation-attack
// check on a labelled set of bona fide and attack photos.
type Pad struct {
	// Set is the PAD photo directory (with its MANIFEST.tsv).
	Set string `json:"set"`
	// Network is the passive network's ID (facematch/antispoof Spec.ID).
	Network string `json:"network"`
	// Files are the network's files with their checksums.
	Files []File `json:"files,omitempty"`
	// Threshold is the operating point: a bona fide score at or over it
	// passes.
	Threshold float64 `json:"threshold"`
	// Target is the goal APCER at the goal BPCER (both 5 %).
	Target float64 `json:"target"`
	// APCERAtBPCER is the lowest print+replay APCER at BPCER ≤ Target, and
	// ThresholdAtTarget the bona fide score threshold that gives it.
	APCERAtBPCER      float64 `json:"apcer_at_bpcer"`
	ThresholdAtTarget float64 `json:"threshold_at_target"`
	// SourceAUC is each source's own separation of bona fide and attacks.
	SourceAUC []PadAUC `json:"source_auc,omitempty"`
	// Variants compares the network's preparations (channel order × the
	// output taken as bona fide) on print+replay.
	Variants []PadVariant `json:"variants"`
	// Cells are the error counts at Threshold per source and kind.
	Cells []PadCell `json:"cells"`
	// Lines are the DET curves (bona fide vs print+replay, print, replay);
	// FAR reads as APCER and FRR as BPCER.
	Lines []Line `json:"lines"`
	// PassiveMS and DescriptorMS summarize per-image times in ms: the
	// passive network (crop, resize, forward) and the backend's front end
	// (detection and landmarks, and the descriptor for a backend that
	// cannot skip it), measured in the same run. The cost against the
	// whole probe is facematch/probe BenchmarkCheckCost.
	PassiveMS    metrics.Summary `json:"passive_ms"`
	DescriptorMS metrics.Summary `json:"descriptor_ms"`
}

// PadAUC is one source's area under the ROC (bona fide vs its attacks).
type PadAUC struct {
	Source   string  `json:"source"`
	BonaFide int     `json:"bona_fide"`
	Attacks  int     `json:"attacks"`
	AUC      float64 `json:"auc"`
}

// PadVariant is one preparation of the network measured on print+replay.
type PadVariant struct {
	Order        string  `json:"order"`
	Class        int     `json:"class"`
	Output       string  `json:"output,omitempty"`
	AUC          float64 `json:"auc"`
	EER          float64 `json:"eer"`
	APCERAtBPCER float64 `json:"apcer_at_bpcer"`
	Chosen       bool    `json:"chosen"`
}

// PadCell is one source's figures for one kind of presentation.
type PadCell struct {
	// Source is the source repository, a bona fide-only directory, or "all".
	Source string `json:"source"`
	// Kind is "bona fide" or an attack type (print, replay, mask, unknown).
	Kind string `json:"kind"`
	// Images were read; NoFace of them gave no face; Scored were judged.
	Images int `json:"images"`
	NoFace int `json:"no_face"`
	Scored int `json:"scored"`
	// Errors are attacks passed (APCER) or bona fide faces rejected
	// (BPCER); Rate is Errors/Scored.
	Errors int     `json:"errors"`
	Rate   float64 `json:"rate"`
}

func padMarkdown(p func(string, ...any), d *Pad) {
	p("## Presentation-attack detection\n\n")
	p("Set `%s`; network `%s`; operating point: bona fide score ≥ %.3g.\n\n", d.Set, d.Network, d.Threshold)
	if len(d.Files) > 0 {
		p("| file | bytes | sha256 |\n|---|---|---|\n")
		for _, f := range d.Files {
			p("| %s | %d | `%s` |\n", f.Name, f.Bytes, f.SHA256)
		}
		p("\n")
	}
	p("**Print+replay APCER at BPCER ≤ %s: %s** (goal ≤ %s), at a bona fide score threshold of %.4f.\n\n", pct(d.Target), pct(d.APCERAtBPCER), pct(d.Target), d.ThresholdAtTarget)
	p("### Preparation (print+replay, faces found)\n\n| channel order | bona fide output | AUC | EER | APCER @ BPCER ≤ 5 %% | used |\n|---|---|---|---|---|---|\n")
	for _, v := range d.Variants {
		used := ""
		if v.Chosen {
			used = "yes"
		}
		out := fmt.Sprint(v.Class)
		if v.Output != "" {
			out = v.Output
		}
		p("| %s | %s | %.3f | %s | %s | %s |\n", v.Order, out, v.AUC, pct(v.EER), pct(v.APCERAtBPCER), used)
	}
	if len(d.SourceAUC) > 0 {
		p("\n### Separation within each source (faces found; masks left out)\n\n| source | bona fide | attacks | AUC |\n|---|---|---|---|\n")
		for _, a := range d.SourceAUC {
			p("| %s | %d | %d | %.3f |\n", a.Source, a.BonaFide, a.Attacks, a.AUC)
		}
	}
	p("\n### At the operating point, per source\n\n")
	p("APCER for attack rows, BPCER for bona fide rows.\n\n| source | kind | images | no face | judged | errors | rate |\n|---|---|---|---|---|---|---|\n")
	for _, c := range d.Cells {
		name := "APCER"
		if c.Kind == "bona fide" {
			name = "BPCER"
		}
		rate := "—"
		if c.Scored > 0 {
			rate = name + " " + pct(c.Rate)
		}
		p("| %s | %s | %d | %d | %d | %d | %s |\n", c.Source, c.Kind, c.Images, c.NoFace, c.Scored, c.Errors, rate)
	}
	p("\n### Curves\n\n| attacks | EER | APCER at the threshold | BPCER at the threshold |\n|---|---|---|---|\n")
	for _, l := range d.Lines {
		if l.Problem != "" {
			p("| %s | %s | | |\n", l.Name, l.Problem)
			continue
		}
		eer := "—"
		if l.EER != nil {
			eer = pct(l.EER.Rate)
		}
		at := l.AtThreshold
		p("| %s | %s | %s (%d of %d) | %s (%d of %d) |\n", l.Name, eer, pct(at.FAR), at.ImpostorAccepted, l.Curve.Impostor,
			pct(at.FRR()), l.Curve.Genuine-at.GenuineAccepted, l.Curve.Genuine)
	}
	if d.PassiveMS.N == 0 {
		p("\n")
		return
	}
	p("\n### Cost per image (same run)\n\n| step | n | median ms | mean ms | max ms |\n|---|---|---|---|---|\n")
	for _, r := range []struct {
		name string
		s    metrics.Summary
	}{{"passive check (crop, resize, network)", d.PassiveMS}, {"front end (detection + landmarks; no descriptor when the backend can skip it)", d.DescriptorMS}} {
		p("| %s | %d | %.1f | %.1f | %.1f |\n", r.name, r.s.N, r.s.Median, r.s.Mean, r.s.Max)
	}
	p("\n")
}

func padPlots(dir string, d *Pad) ([]string, error) {
	var lines []Line
	for _, l := range d.Lines {
		if l.Curve != nil && len(l.Curve.Points) > 0 {
			lines = append(lines, l)
		}
	}
	if len(lines) == 0 {
		return nil, nil
	}
	if err := detPlotLabeled(filepath.Join(dir, "det.png"), lines, "DET of the passive check (normal-deviate axes)", "APCER", "BPCER"); err != nil {
		return nil, err
	}
	return []string{"det.png"}, nil
}
