package report

import (
	"fmt"
	"strings"

	"github.com/facegate/facegate/bench/metrics"
)

func markdown(b *strings.Builder, r *Report, plots []string) {
	p := func(format string, a ...any) { fmt.Fprintf(b, format, a...) }
	p("# FaceGate %s benchmark\n\n", r.Kind)
	p("Run %s with `%s`.\n\n", r.Machine.Date.Format("2006-01-02 15:04 UTC"), r.Command)

	p("## Model\n\n")
	p("| model ID | dimension | metric | default threshold |\n|---|---|---|---|\n")
	p("| `%s` | %d | %s | %.4g |\n\n", r.Model.ID, r.Model.Dim, r.Model.Metric, r.Model.Threshold)
	if r.Model.Source != "" {
		p("Source: %s\n\n", r.Model.Source)
	}
	if len(r.Model.Files) > 0 {
		p("| file | bytes | sha256 |\n|---|---|---|\n")
		for _, f := range r.Model.Files {
			p("| %s | %d | `%s` |\n", f.Name, f.Bytes, f.SHA256)
		}
		p("\n")
	}
	if r.Model.ThresholdPolicy != "" {
		p("Threshold policy: %s\n\n", r.Model.ThresholdPolicy)
	}

	p("## Machine\n\n")
	p("| CPU | logical CPUs | OS/arch | kernel | Go | load average at start | at end |\n|---|---|---|---|---|---|---|\n")
	p("| %s | %d | %s/%s | %s | %s | %s | %s |\n\n", r.Machine.CPU, r.Machine.Cores, r.Machine.GOOS, r.Machine.GOARCH, r.Machine.Kernel, r.Machine.GoVersion, r.Machine.LoadStart, r.Machine.LoadEnd)

	if a := r.Accuracy; a != nil {
		accuracyMarkdown(p, a)
	}
	if s := r.Speed; s != nil {
		speedMarkdown(p, s)
	}
	if id := r.Identification; id != nil {
		identificationMarkdown(p, id)
	}
	if d := r.Pad; d != nil {
		padMarkdown(p, d)
	}
	if len(plots) > 0 {
		p("## Plots\n\n")
		for _, name := range plots {
			p("![%s](%s)\n\n", strings.TrimSuffix(name, ".png"), name)
		}
	}
	if len(r.Notes) > 0 {
		p("## Notes\n\n")
		for _, n := range r.Notes {
			p("- %s\n", n)
		}
		p("\n")
	}
	p("Every figure above is also in `results.json`.\n")
}

func pct(x float64) string { return fmt.Sprintf("%.2f %%", 100*x) }

// farLabel prints a target FAR such as 0.001 as "0.1 %".
func farLabel(x float64) string {
	return strings.TrimRight(strings.TrimRight(fmt.Sprintf("%.4f", 100*x), "0"), ".") + " %"
}

// tarCell is a summary-table cell for one TAR@FAR figure.
func tarCell(f metrics.AtFAR) string {
	if !f.Enough {
		return fmt.Sprintf("not enough pairs (%d < %d impostor)", f.Impostor, f.MinImpostor)
	}
	return fmt.Sprintf("%s @ %.4f", pct(f.TAR), f.Threshold)
}

func accuracyMarkdown(p func(string, ...any), a *Accuracy) {
	p("## Photo set\n\n")
	p("`%s`", a.Set)
	if a.GroupsFile != "" {
		p(", groups from `%s`", a.GroupsFile)
	}
	used := "with exactly one face used, of"
	if a.Largest {
		used = "used, one face each (the largest where there were several), of"
	}
	p(": %d photos read, %d %s %d identities, %d skipped. ", a.Photos, a.Faces, used, a.Identities, len(a.Skipped))
	p("Extraction with %d workers took %.1f s.\n\n", a.Workers, a.ExtractSeconds)
	largestMarkdown(p, a.Largest, a.ByLargest)
	p("Pairs: every genuine pair (same identity); every impostor pair while a population has at most %d, else a uniform sample of %d drawn with seed %d (the same seed gives the same pairs). ", a.MaxImpostors, a.MaxImpostors, a.Seed)
	p("A pair is accepted when its distance is at or under the threshold. ")
	p("TAR@FAR takes the highest threshold whose measured FAR is at most the target; a target needs at least ⌈1/FAR⌉ impostor pairs (10,000 for 0.01 %%) before one false accept can even be observed, and is reported as \"not enough pairs\" below that. ")
	p("The EER is interpolated linearly between the two operating points where FAR − FRR changes sign.\n\n")

	p("## Summary\n\n")
	var targets []float64
	for _, l := range a.Lines {
		if len(l.AtFAR) > len(targets) {
			targets = targets[:0]
			for _, f := range l.AtFAR {
				targets = append(targets, f.Target)
			}
		}
	}
	p("| population | identities | faces | genuine pairs | impostor pairs | EER (threshold) |")
	for _, t := range targets {
		p(" TAR @ FAR=%s (threshold) |", farLabel(t))
	}
	p(" at default threshold: TAR / FAR |\n|---|---|---|---|---|---|")
	for range targets {
		p("---|")
	}
	p("---|\n")
	for _, l := range a.Lines {
		imp := fmt.Sprintf("%d", l.Impostor.N)
		if l.Sampled {
			imp = fmt.Sprintf("%d sampled of %d", l.Impostor.N, l.ImpostorTotal)
		}
		eer := "—"
		if l.EER != nil {
			eer = fmt.Sprintf("%s (%.4f)", pct(l.EER.Rate), l.EER.Threshold)
		}
		p("| %s | %d | %d | %d | %s | %s |", l.Name, l.Identities, l.Faces, l.Genuine.N, imp, eer)
		for i := range targets {
			if i < len(l.AtFAR) {
				p(" %s |", tarCell(l.AtFAR[i]))
			} else {
				p(" — |")
			}
		}
		if l.AtThreshold != nil {
			p(" %s / %s |\n", pct(l.AtThreshold.TAR), pct(l.AtThreshold.FAR))
		} else {
			p(" — |\n")
		}
	}
	p("\n")
	listed := false
	for _, l := range a.Lines {
		for _, s := range []string{l.Note, l.Problem} {
			if s != "" {
				p("- %s: %s\n", l.Name, s)
				listed = true
			}
		}
	}
	if listed {
		p("\n")
	}

	loioMarkdown(p, a.LOIO)

	p("## Details per population\n\n")
	for _, l := range a.Lines {
		p("### %s\n\n", l.Name)
		p("| pairs | n | min | mean | median | max |\n|---|---|---|---|---|---|\n")
		for _, s := range []struct {
			name string
			s    metrics.Summary
		}{{"genuine", l.Genuine}, {"impostor", l.Impostor}} {
			p("| %s | %d | %.4f | %.4f | %.4f | %.4f |\n", s.name, s.s.N, s.s.Min, s.s.Mean, s.s.Median, s.s.Max)
		}
		p("\n")
		if len(l.AtFAR) > 0 {
			p("| target FAR | threshold | TAR | FAR | genuine accepted | impostor accepted | impostor pairs needed | meaningful |\n|---|---|---|---|---|---|---|---|\n")
			for _, f := range l.AtFAR {
				ok := "yes"
				if !f.Enough {
					ok = "no: not enough pairs"
				}
				p("| %s | %.4f | %s | %s | %d / %d | %d / %d | %d | %s |\n", farLabel(f.Target), f.Threshold, pct(f.TAR), pct(f.FAR),
					f.GenuineAccepted, f.Genuine, f.ImpostorAccepted, f.Impostor, f.MinImpostor, ok)
			}
			p("\n")
		}
		if t := l.AtThreshold; t != nil {
			p("At the default threshold %.4f: %d / %d genuine pairs accepted (TAR %s), %d / %d impostor pairs accepted (FAR %s).\n\n",
				t.Threshold, t.GenuineAccepted, l.Genuine.N, pct(t.TAR), t.ImpostorAccepted, l.Impostor.N, pct(t.FAR))
		}
	}

	if len(a.Skipped) > 0 {
		p("## Skipped photos\n\n| photo | reason |\n|---|---|\n")
		for _, s := range a.Skipped {
			p("| %s | %s |\n", s.Path, s.Reason)
		}
		p("\n")
	}
}

func speedMarkdown(p func(string, ...any), s *Speed) {
	if len(s.Ratios) > 0 {
		p("## Headline ratios (same run)\n\n| ratio | value |\n|---|---|\n")
		for _, r := range s.Ratios {
			p("| %s | %.3f |\n", r.Name, r.Value)
		}
		p("\n")
	}
	if len(s.Latency) > 0 {
		p("## Extraction latency\n\nEach call decodes an in-memory JPEG of `%s` resized to the frame size, detects, aligns and embeds every face.\n\n", s.Photo)
		p("| engine | frame | workers | calls | faces/call | p50 ms | p95 ms | p99 ms | calls/s |\n|---|---|---|---|---|---|---|---|---|\n")
		for _, l := range s.Latency {
			p("| %s | %d×%d | %d | %d | %d | %.1f | %.1f | %.1f | %.2f |\n", l.Engine, l.Width, l.Height, l.Workers, l.Calls, l.Faces, l.P50, l.P95, l.P99, l.PerSecond)
		}
		p("\n")
	}
	if len(s.Bandwidth) > 0 {
		p("## Memory bandwidth probe\n\nA buffer far larger than the CPU caches, read or copied once per pass (best of the passes), before the 1:N runs.\n\n| kind | threads | buffer | GB/s |\n|---|---|---|---|\n")
		for _, b := range s.Bandwidth {
			p("| %s | %d | %d MiB | %.1f |\n", b.Kind, b.Threads, b.Bytes>>20, b.GBPerSecond)
		}
		p("\n")
	}
	if len(s.Identify) > 0 {
		p("## 1:N identify (synthetic descriptors)\n\nTime of one top-1 search over N synthetic unit-length descriptors. The probe reads a buffer of the same size as the scanned rows on the same number of goroutines, just before the scan: a scan at 100 %% of it is limited by memory (or cache) bandwidth.\n\n")
		p("| engine | N | threads | queries | µs/query (median) | ns/row | bytes/row | scan GB/s | probe GB/s | of probe | heap MiB |\n|---|---|---|---|---|---|---|---|---|---|---|\n")
		for _, i := range s.Identify {
			heap := "—"
			if i.HeapBytes > 0 {
				heap = fmt.Sprintf("%.1f", float64(i.HeapBytes)/(1<<20))
			}
			p("| %s | %d | %d | %d | %.1f | %.2f | %d | %.1f | %.1f | %s | %s |\n", i.Engine, i.N, i.Threads, i.Queries, i.NsPerQuery/1e3, i.NsPerRow, i.BytesPerRow, i.GBPerSecond, i.ProbeGBPerSecond, pct(i.OfBandwidth), heap)
		}
		p("\n")
	}
	m := s.Memory
	p("## Peak memory\n\n| VmHWM (peak RSS) | Go runtime Sys | Go heap in use, peak sampled |\n|---|---|---|\n")
	p("| %.1f MiB | %.1f MiB | %.1f MiB |\n\n", float64(m.VmHWMBytes)/(1<<20), float64(m.GoSysBytes)/(1<<20), float64(m.GoHeapPeakBytes)/(1<<20))
	if m.Recognizers > 0 {
		p("Loading %d recognizers added %.1f MiB of resident memory each on average (VmRSS before and after).\n\n", m.Recognizers, float64(m.RecognizerRSSBytes)/(1<<20))
	}
}
