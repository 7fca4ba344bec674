package report

import (
	"fmt"
	"image/color"
	"math"
	"path/filepath"
	"slices"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"

	"github.com/facegate/facegate/bench/metrics"
)

const (
	plotWidth  = 7 * vg.Inch
	plotHeight = 5 * vg.Inch
)

// Slug turns a population name into a file-name fragment: lower-case letters,
// digits and dashes.
func Slug(name string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(name) {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9':
			b.WriteRune(r)
		default:
			b.WriteByte('-')
		}
	}
	return strings.Trim(b.String(), "-")
}

func accuracyPlots(dir string, a *Accuracy) ([]string, error) {
	var lines []Line
	for _, l := range a.Lines {
		if l.Curve != nil && len(l.Curve.Points) > 0 {
			lines = append(lines, l)
		}
	}
	var out []string
	if len(lines) > 0 {
		if err := rocPlot(filepath.Join(dir, "roc.png"), lines); err != nil {
			return nil, err
		}
		if err := detPlot(filepath.Join(dir, "det.png"), lines); err != nil {
			return nil, err
		}
		out = append(out, "roc.png", "det.png")
	}
	for i, l := range a.Lines {
		if l.GenuineHist == nil || l.ImpostorHist == nil {
			continue
		}
		name := "hist.png"
		if i > 0 {
			name = "hist-" + Slug(l.Name) + ".png"
		}
		if err := histPlot(filepath.Join(dir, name), l); err != nil {
			return nil, err
		}
		out = append(out, name)
	}
	return out, nil
}

// lowestRate returns the smallest non-zero rate the lines can show: half of
// one pair out of the largest population, floored at 1e-6.
func lowestRate(lines []Line, impostor bool) float64 {
	n := 1
	for _, l := range lines {
		if impostor {
			n = max(n, l.Curve.Impostor)
		} else {
			n = max(n, l.Curve.Genuine)
		}
	}
	return max(1e-6, math.Pow(10, math.Floor(math.Log10(0.5/float64(n)))))
}

func rocPlot(path string, lines []Line) error {
	p := plot.New()
	p.Title.Text = "ROC: true accept rate vs false accept rate"
	p.X.Label.Text = "false accept rate (log scale; FAR = 0 drawn at the left edge)"
	p.Y.Label.Text = "true accept rate"
	lo := lowestRate(lines, true)
	p.X.Scale = plot.LogScale{}
	p.X.Tick.Marker = rateTicks{}
	p.X.Min, p.X.Max = lo, 1
	p.Y.Min, p.Y.Max = 0, 1
	p.Add(plotter.NewGrid())
	for i, l := range lines {
		xy := make(plotter.XYs, 0, len(l.Curve.Points))
		for _, pt := range l.Curve.Points {
			xy = append(xy, plotter.XY{X: max(pt.FAR, lo), Y: pt.TAR})
		}
		if err := addLine(p, i, legendName(l), xy); err != nil {
			return err
		}
	}
	p.Legend.Left = false
	p.Legend.Top = false
	return p.Save(plotWidth, plotHeight, path)
}

// detMax is the largest rate on the axes of a DET plot.
const detMax = 0.9

// probitScale is the normal-deviate axis of a DET plot.
type probitScale struct{}

func (probitScale) Normalize(lo, hi, x float64) float64 {
	a, b := metrics.Probit(lo), metrics.Probit(hi)
	return (metrics.Probit(x) - a) / (b - a)
}

// rateTicks marks rates at 1-2-5 steps, labelled in percent.
type rateTicks struct{}

func (rateTicks) Ticks(lo, hi float64) []plot.Tick {
	var t []plot.Tick
	for e := -7; e <= 0; e++ {
		steps := []float64{1, 2, 5}
		if e == -1 {
			steps = append(steps, 8)
		}
		for _, m := range steps {
			v := m * math.Pow(10, float64(e))
			if v < lo*(1-1e-9) || v > hi*(1+1e-9) {
				continue
			}
			label := ""
			if m == 1 || m == 5 && e == -1 && hi < 0.95 || hi/lo < 1e3 || v >= hi*(1-1e-9) {
				label = strings.TrimRight(strings.TrimRight(fmt.Sprintf("%.5f", 100*v), "0"), ".") + "%"
			}
			t = append(t, plot.Tick{Value: v, Label: label})
		}
	}
	return t
}

func detPlot(path string, lines []Line) error {
	return detPlotLabeled(path, lines, "DET: false reject rate vs false accept rate (normal-deviate axes)", "false accept rate", "false reject rate")
}

// detPlotLabeled is detPlot with its own title and axis names (APCER and
// BPCER for presentation-attack detection).
func detPlotLabeled(path string, lines []Line, title, x, y string) error {
	p := plot.New()
	p.Title.Text = title
	p.X.Label.Text = x + " (0 drawn at the left edge)"
	p.Y.Label.Text = y + " (0 drawn at the bottom edge)"
	xlo, ylo := lowestRate(lines, true), lowestRate(lines, false)
	p.X.Scale, p.Y.Scale = probitScale{}, probitScale{}
	p.X.Tick.Marker, p.Y.Tick.Marker = rateTicks{}, rateTicks{}
	p.X.Min, p.X.Max = xlo, detMax
	p.Y.Min, p.Y.Max = ylo, detMax
	p.Add(plotter.NewGrid())
	for i, l := range lines {
		xy := make(plotter.XYs, 0, len(l.Curve.Points))
		for _, pt := range l.Curve.Points {
			x, y := min(max(pt.FAR, xlo), detMax), min(max(pt.FRR(), ylo), detMax)
			if n := len(xy); n > 0 && xy[n-1].X == x && xy[n-1].Y == y {
				continue
			}
			xy = append(xy, plotter.XY{X: x, Y: y})
		}
		if err := addLine(p, i, legendName(l), xy); err != nil {
			return err
		}
		if l.EER != nil && l.EER.Rate > 0 && l.EER.Rate < detMax {
			s, err := plotter.NewScatter(plotter.XYs{{X: max(l.EER.Rate, xlo), Y: max(l.EER.Rate, ylo)}})
			if err != nil {
				return err
			}
			s.Color = plotutil.Color(i)
			s.Shape = plotutil.Shape(0)
			p.Add(s)
		}
	}
	p.Legend.Left = true
	p.Legend.Top = false
	return p.Save(plotWidth, plotHeight, path)
}

func legendName(l Line) string {
	s := fmt.Sprintf("%s (%d gen / %d imp", l.Name, l.Curve.Genuine, l.Curve.Impostor)
	if l.EER != nil {
		s += fmt.Sprintf(", EER %.2f%%", 100*l.EER.Rate)
	}
	return s + ")"
}

func addLine(p *plot.Plot, i int, name string, xy plotter.XYs) error {
	ln, err := plotter.NewLine(xy)
	if err != nil {
		return fmt.Errorf("report: plotting %s: %w", name, err)
	}
	ln.Color = plotutil.Color(i)
	ln.Width = vg.Points(1.5)
	ln.Dashes = plotutil.Dashes(i)
	p.Add(ln)
	p.Legend.Add(name, ln)
	return nil
}

func histPlot(path string, l Line) error {
	p := plot.New()
	p.Title.Text = fmt.Sprintf("Distance histogram: %s", l.Name)
	p.X.Label.Text = "distance"
	p.Y.Label.Text = "fraction of pairs per bin"
	p.Add(plotter.NewGrid())
	ymax := 0.0
	for _, h := range []struct {
		name string
		h    *metrics.Histogram
		c    color.NRGBA
	}{
		{"genuine", l.GenuineHist, color.NRGBA{R: 0x1f, G: 0x77, B: 0xb4, A: 0xff}},
		{"impostor", l.ImpostorHist, color.NRGBA{R: 0xd6, G: 0x27, B: 0x28, A: 0xff}},
	} {
		if h.h.Total == 0 {
			continue
		}
		w := h.h.Width()
		var xy plotter.XYs
		for b, f := range h.h.Fractions() {
			ymax = max(ymax, f)
			x := h.h.Lo + float64(b)*w
			xy = append(xy, plotter.XY{X: x, Y: f}, plotter.XY{X: x + w, Y: f})
		}
		ln, err := plotter.NewLine(xy)
		if err != nil {
			return err
		}
		ln.Color = h.c
		ln.Width = vg.Points(1.5)
		fill := h.c
		fill.A = 0x50
		ln.FillColor = fill
		p.Add(ln)
		p.Legend.Add(fmt.Sprintf("%s (%d pairs)", h.name, h.h.Total), ln)
	}
	if t := l.AtThreshold; t != nil {
		if err := vline(p, t.Threshold, ymax, color.Gray{Y: 0x40}, fmt.Sprintf("default threshold %.3f", t.Threshold)); err != nil {
			return err
		}
	}
	if l.EER != nil {
		if err := vline(p, l.EER.Threshold, ymax, color.NRGBA{G: 0x90, A: 0xff}, fmt.Sprintf("EER threshold %.3f", l.EER.Threshold)); err != nil {
			return err
		}
	}
	p.Y.Min, p.Y.Max = 0, 1.2*ymax
	p.Legend.Top = true
	return p.Save(plotWidth, plotHeight, path)
}

func vline(p *plot.Plot, x, ymax float64, c color.Color, name string) error {
	ln, err := plotter.NewLine(plotter.XYs{{X: x, Y: 0}, {X: x, Y: ymax}})
	if err != nil {
		return err
	}
	ln.Color = c
	ln.Dashes = []vg.Length{vg.Points(4), vg.Points(3)}
	p.Add(ln)
	p.Legend.Add(name, ln)
	return nil
}

func speedPlots(dir string, s *Speed) ([]string, error) {
	if len(s.Identify) == 0 {
		return nil, nil
	}
	p := plot.New()
	p.Title.Text = "1:N identify: time per query vs gallery size"
	p.X.Label.Text = "gallery size N"
	p.Y.Label.Text = "µs per query"
	p.X.Scale, p.Y.Scale = plot.LogScale{}, plot.LogScale{}
	var ticks plot.ConstantTicks
	for _, i := range s.Identify {
		if !slices.ContainsFunc(ticks, func(t plot.Tick) bool { return t.Value == float64(i.N) }) {
			ticks = append(ticks, plot.Tick{Value: float64(i.N), Label: count(i.N)})
		}
	}
	p.X.Tick.Marker, p.Y.Tick.Marker = ticks, plot.LogTicks{Prec: -1}
	p.Add(plotter.NewGrid())
	byEngine := map[string]plotter.XYs{}
	var order []string
	for _, i := range s.Identify {
		if _, ok := byEngine[i.Engine]; !ok {
			order = append(order, i.Engine)
		}
		byEngine[i.Engine] = append(byEngine[i.Engine], plotter.XY{X: float64(i.N), Y: i.NsPerQuery / 1e3})
	}
	for i, e := range order {
		if err := addLine(p, i, e, byEngine[e]); err != nil {
			return nil, err
		}
		pts, err := plotter.NewScatter(byEngine[e])
		if err != nil {
			return nil, err
		}
		pts.Color = plotutil.Color(i)
		p.Add(pts)
	}
	p.Legend.Top = true
	p.Legend.Left = true
	if err := p.Save(plotWidth, plotHeight, filepath.Join(dir, "identify.png")); err != nil {
		return nil, err
	}
	return []string{"identify.png"}, nil
}

// count prints n as 1k, 10k, 1M, ... when it is a round number of thousands
// or millions.
func count(n int) string {
	switch {
	case n >= 1e6 && n%1e6 == 0:
		return fmt.Sprintf("%dM", n/1e6)
	case n >= 1e3 && n%1e3 == 0:
		return fmt.Sprintf("%dk", n/1e3)
	}
	return fmt.Sprint(n)
}
