package main

import (
	"errors"
	"flag"
	"fmt"
	"hash/fnv"
	"math"
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/facegate/facegate/bench/metrics"
	"github.com/facegate/facegate/bench/report"
	"github.com/facegate/facegate/facematch"
	"github.com/facegate/facegate/facematch/gallery"
	"github.com/facegate/facegate/template"
)

// Extrapolation target of the identify report: the per-pair FAR that keeps
// FPIR near 0.1 % with tailResidents enrolled.
const (
	tailFAR       = 1e-6
	tailResidents = 1000
	tailRounds    = 200 // bootstrap resamples
)

// runIdentify is the identify command: open-set 1:N identification.
func runIdentify(args []string) error {
	fs := flag.NewFlagSet("identify", flag.ContinueOnError)
	var c common
	c.register(fs, "identify")
	set := fs.String("set", "", "photo set: DIR/<identity>/<photo>")
	groups := fs.String("groups", "", "TSV file identity<TAB>group (header line allowed): figures per group")
	sizes := fs.String("sizes", "10,100,0", "gallery sizes in identities, comma-separated (0: all)")
	seed := fs.Uint64("seed", 1, "seed of the gallery draws")
	trials := fs.Int("trials", 5, "random galleries drawn per size smaller than its population")
	workers := fs.Int("workers", 0, "extraction workers (0: the backend's pool, one per CPU)")
	largest := fs.Bool("largest", false, "use the largest face of a photo with several instead of skipping it")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *set == "" || fs.NArg() > 0 {
		fs.Usage()
		return errors.New("identify needs --set DIR and no other arguments")
	}
	sz, err := parseSizes(*sizes)
	if err != nil {
		return err
	}
	if *trials < 1 {
		return fmt.Errorf("--trials %d: need at least 1", *trials)
	}
	groupOf, err := readGroups(*groups)
	if err != nil {
		return err
	}
	photos, b, err := openSet(*set, c, *workers)
	if err != nil {
		return err
	}
	defer b.close()

	loadStart := report.LoadAverage()
	start := time.Now()
	res := extractAll(b, *set, photos, *largest)
	id := &report.Identification{
		Set: *set, GroupsFile: *groups, Photos: len(photos), Workers: b.workers,
		ExtractSeconds: time.Since(start).Seconds(), Largest: *largest, ByLargest: byLargest(photos, res),
		Seed: *seed, Trials: *trials, Skipped: []report.Skip{},
	}
	for i, r := range res {
		if r.skip != "" {
			id.Skipped = append(id.Skipped, report.Skip{Path: photos[i].path, Reason: r.skip})
		}
	}
	s, notes := newIdentSet(b.ex.Model(), photos, res, groupOf)
	id.Faces, id.Identities = len(s.descs), len(s.names)
	if err := s.evaluate(id, sz, *trials, *seed); err != nil {
		return err
	}
	r := &report.Report{
		Kind: "identify", Command: commandLine(), Machine: report.ThisMachine(),
		Model: b.info, Identification: id, Notes: notes,
	}
	r.Machine.LoadStart, r.Machine.LoadEnd = loadStart, report.LoadAverage()
	for _, row := range id.Rows {
		fmt.Fprintf(os.Stderr, "bench: gallery %-10s size %4d probes %-10s FNIR %.2f %% (%d/%d)  FPIR %.2f %% (%d/%d)\n", row.Gallery, row.Size, row.Probes,
			100*row.FNIR, row.MatedMissed+row.MatedWrong, row.Mated, 100*row.FPIR, row.NonMatedMatched, row.NonMated)
	}
	return write(c.out, r)
}

// parseSizes reads --sizes: non-negative integers, 0 meaning all.
func parseSizes(s string) ([]int, error) {
	var out []int
	for _, f := range strings.Split(s, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 0 {
			return nil, fmt.Errorf("--sizes %q: %q is not a gallery size (a whole number, 0 for all)", s, f)
		}
		out = append(out, n)
	}
	return out, nil
}

// identSet is the extracted faces of a photo set by identity.
type identSet struct {
	model facematch.Model
	names []string // identity names, in photo order (sorted)
	group []string // group of each identity ("" without --groups)
	faces [][]int  // faces of each identity, in photo order; the first is enrolled
	descs [][]float32
	prot  []template.Protected // descs protected as a gate protects them (see protect)
	of    []int                // identity of each face
}

// identSecret keys the transform the 1:N runs protect descriptors with
// before any reaches a gallery, as a gate does; the rotation preserves
// distances, so the rates are those of the raw descriptors.
var identSecret = []byte("facegate bench identify: 32 byte")

// protect fills s.prot from s.descs.
func (s *identSet) protect() error {
	tr, err := template.NewTransform(identSecret, s.model.ID, s.model.Dim)
	if err != nil {
		return err
	}
	defer tr.Wipe()
	s.prot = make([]template.Protected, len(s.descs))
	for i, d := range s.descs {
		if s.prot[i], err = tr.Apply(d); err != nil {
			return fmt.Errorf("face %d: %w", i, err)
		}
	}
	return nil
}

// newIdentSet collects the faces that were extracted, by identity.
func newIdentSet(m facematch.Model, photos []photo, res []extracted, groupOf map[string]string) (*identSet, []string) {
	s := &identSet{model: m}
	index := map[string]int{}
	var ungrouped []string
	for i, p := range photos {
		if res[i].skip != "" {
			continue
		}
		k, ok := index[p.identity]
		if !ok {
			k = len(s.names)
			index[p.identity] = k
			s.names = append(s.names, p.identity)
			g := ""
			if groupOf != nil {
				if g, ok = groupOf[p.identity]; !ok {
					g = "ungrouped"
					ungrouped = append(ungrouped, p.identity)
				}
			}
			s.group = append(s.group, g)
			s.faces = append(s.faces, nil)
		}
		s.faces[k] = append(s.faces[k], len(s.descs))
		s.descs = append(s.descs, res[i].desc)
		s.of = append(s.of, k)
	}
	var notes []string
	if len(ungrouped) > 0 {
		notes = append(notes, fmt.Sprintf("identities missing from the groups file, put in group \"ungrouped\": %s", strings.Join(ungrouped, ", ")))
	}
	return s, notes
}

// groups returns the group names in sorted order.
func (s *identSet) groups() []string {
	var out []string
	for _, g := range s.group {
		if g != "" && !slices.Contains(out, g) {
			out = append(out, g)
		}
	}
	slices.Sort(out)
	return out
}

// idProbe is one probe's outcome against a gallery.
type idProbe struct {
	group string
	mated bool
	// decision at the gallery threshold: the identity Identify returned, -1 for none.
	found int
	// rank1 is the closest enrolled identity whatever its distance and
	// dist its distance (Search), for the threshold curves.
	rank1 int
	dist  float32
	own   int // the probe's identity
}

// outcome tallies probes.
type outcome struct {
	mated, missed, wrong, nonMated, matched int
}

func (o *outcome) add(p idProbe) {
	if p.mated {
		o.mated++
		switch {
		case p.found < 0:
			o.missed++
		case p.found != p.own:
			o.wrong++
		}
		return
	}
	o.nonMated++
	if p.found >= 0 {
		o.matched++
	}
}

func (o outcome) fnir() float64 { return ratio(o.missed+o.wrong, o.mated) }
func (o outcome) fpir() float64 { return ratio(o.matched, o.nonMated) }

func ratio(k, n int) float64 {
	if n == 0 {
		return 0
	}
	return float64(k) / float64(n)
}

// gallery enrolls the first face of each identity of ids.
func (s *identSet) gallery(ids []int) (*gallery.Gallery, error) {
	g, err := gallery.New(s.model, nil)
	if err != nil {
		return nil, err
	}
	for _, k := range ids {
		if err := g.Add(s.names[k], s.prot[s.faces[k][0]]); err != nil {
			return nil, fmt.Errorf("enrolling %s: %w", s.names[k], err)
		}
	}
	return g, nil
}

// search probes g with face f of identity own.
func (s *identSet) search(g *gallery.Gallery, index map[string]int, f int, mated bool) (idProbe, error) {
	own := s.of[f]
	p := idProbe{group: s.group[own], mated: mated, found: -1, rank1: -1, own: own}
	e := s.prot[f]
	ms, err := g.Identify(e, 1)
	if err != nil {
		return p, err
	}
	if len(ms) > 0 {
		p.found = index[ms[0].ID]
	}
	best, err := g.Search(e, 1)
	if err != nil {
		return p, err
	}
	if len(best) > 0 {
		p.rank1, p.dist = index[best[0].ID], best[0].Distance
	}
	return p, nil
}

// trial enrolls ids (a subset of pop) and probes with every other face of
// pop: the enrolled identities' other faces are mated probes, the others'
// faces non-mated ones. With every identity of pop enrolled, the non-mated
// probes come from leaving each identity out of the gallery in turn.
func (s *identSet) trial(pop, ids []int) ([]idProbe, error) {
	index := map[string]int{}
	for k, n := range s.names {
		index[n] = k
	}
	g, err := s.gallery(ids)
	if err != nil {
		return nil, err
	}
	enrolled := map[int]bool{}
	for _, k := range ids {
		enrolled[k] = true
	}
	var out []idProbe
	for _, k := range pop {
		if !enrolled[k] {
			for _, f := range s.faces[k] {
				p, err := s.search(g, index, f, false)
				if err != nil {
					return nil, err
				}
				out = append(out, p)
			}
			continue
		}
		for _, f := range s.faces[k][1:] {
			p, err := s.search(g, index, f, true)
			if err != nil {
				return nil, err
			}
			out = append(out, p)
		}
	}
	if len(ids) < len(pop) {
		return out, nil
	}
	for _, k := range pop {
		if err := g.Remove(s.names[k]); err != nil {
			return nil, err
		}
		for _, f := range s.faces[k] {
			p, err := s.search(g, index, f, false)
			if err != nil {
				return nil, err
			}
			out = append(out, p)
		}
		if err := g.Add(s.names[k], s.prot[s.faces[k][0]]); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// scope is a population galleries are drawn from and the idProbe groups its
// rows break down into.
type scope struct {
	name   string
	ids    []int
	probes []string // "all" and/or group names
}

func (s *identSet) scopes() []scope {
	all := scope{name: "all", probes: []string{"all"}}
	for k := range s.names {
		all.ids = append(all.ids, k)
	}
	gs := s.groups()
	all.probes = append(all.probes, gs...)
	out := []scope{all}
	if len(gs) > 1 {
		for _, g := range gs {
			sc := scope{name: g, probes: []string{g}}
			for k := range s.names {
				if s.group[k] == g {
					sc.ids = append(sc.ids, k)
				}
			}
			out = append(out, sc)
		}
	}
	return out
}

// evaluate fills id.Rows, id.Curves and id.Tails.
func (s *identSet) evaluate(id *report.Identification, sizes []int, trials int, seed uint64) error {
	if len(s.names) < 2 {
		return fmt.Errorf("identify needs faces of at least two identities, have %d", len(s.names))
	}
	id.Threshold = float64(s.model.Threshold)
	if err := s.protect(); err != nil {
		return err
	}
	allProbes := map[string][]idProbe{} // scope name → probes of its all-enrolled trial
	for _, sc := range s.scopes() {
		done := map[int]bool{}
		for _, req := range sizes {
			n := len(sc.ids)
			if req > 0 {
				n = min(req, n)
			}
			if done[n] {
				continue
			}
			done[n] = true
			t := trials
			if n == len(sc.ids) {
				t = 1
			}
			r := rand.New(rand.NewPCG(seed, scopeSeed(sc.name, n)))
			per := map[string]*outcome{}
			rates := map[string][][2]float64{}
			for range t {
				ids := sc.ids
				if n < len(sc.ids) {
					ids = nil
					for _, i := range r.Perm(len(sc.ids))[:n] {
						ids = append(ids, sc.ids[i])
					}
					slices.Sort(ids)
				}
				ps, err := s.trial(sc.ids, ids)
				if err != nil {
					return err
				}
				if n == len(sc.ids) {
					allProbes[sc.name] = ps
				}
				trialOut := map[string]*outcome{}
				for _, p := range ps {
					for _, g := range []string{"all", p.group} {
						if trialOut[g] == nil {
							trialOut[g] = &outcome{}
						}
						trialOut[g].add(p)
					}
				}
				for g, o := range trialOut {
					if per[g] == nil {
						per[g] = &outcome{}
					}
					a := per[g]
					a.mated, a.missed, a.wrong, a.nonMated, a.matched = a.mated+o.mated, a.missed+o.missed, a.wrong+o.wrong, a.nonMated+o.nonMated, a.matched+o.matched
					rates[g] = append(rates[g], [2]float64{o.fnir(), o.fpir()})
				}
			}
			for _, g := range sc.probes {
				o := per[g]
				if o == nil {
					o = &outcome{}
				}
				row := report.IdentRow{
					Gallery: sc.name, Probes: g, Size: n, Requested: req, Trials: t,
					Mated: o.mated, MatedMissed: o.missed, MatedWrong: o.wrong, FNIR: o.fnir(),
					NonMated: o.nonMated, NonMatedMatched: o.matched, FPIR: o.fpir(),
				}
				if req > 0 && n == len(sc.ids) {
					row.Requested = 0
				}
				row.FNIRMin, row.FNIRMax, row.FPIRMin, row.FPIRMax = spanOf(rates[g])
				if n == len(sc.ids) {
					row.Note = "every identity enrolled; non-mated probes by leaving each identity out in turn"
				}
				id.Rows = append(id.Rows, row)
			}
		}
	}
	for _, sc := range s.scopes() {
		ps, ok := allProbes[sc.name]
		if !ok {
			// --sizes without 0: run the all-enrolled trial for the curves and tails.
			var err error
			if ps, err = s.trial(sc.ids, sc.ids); err != nil {
				return err
			}
		}
		for _, g := range sc.probes {
			if sc.name != "all" && g != sc.name {
				continue
			}
			name := g
			if sc.name == "all" && g != "all" {
				name = g + " probes, all enrolled"
			} else if sc.name != "all" {
				name = g + " alone"
			}
			sel := ps
			if g != "all" {
				sel = nil
				for _, p := range ps {
					if p.group == g {
						sel = append(sel, p)
					}
				}
			}
			id.Curves = append(id.Curves, report.IdentCurve{Name: name, Points: identCurve(sel)})
		}
		id.Tails = append(id.Tails, s.tail(sc, ps))
	}
	return nil
}

// scopeSeed derives the draw stream of one scope and gallery size.
func scopeSeed(name string, n int) uint64 {
	h := fnv.New64a()
	fmt.Fprintf(h, "%s/%d", name, n)
	return h.Sum64()
}

func spanOf(rates [][2]float64) (fnLo, fnHi, fpLo, fpHi float64) {
	for i, r := range rates {
		if i == 0 {
			fnLo, fnHi, fpLo, fpHi = r[0], r[0], r[1], r[1]
			continue
		}
		fnLo, fnHi = min(fnLo, r[0]), max(fnHi, r[0])
		fpLo, fpHi = min(fpLo, r[1]), max(fpHi, r[1])
	}
	return
}

// identAt tallies probes at threshold t: a mated idProbe is found when its
// closest enrolled identity is its own and within t; a non-mated idProbe is
// matched when anybody is within t.
func identAt(ps []idProbe, t float32) outcome {
	var o outcome
	for _, p := range ps {
		q := p
		q.found = -1
		if p.rank1 >= 0 && p.dist <= t {
			q.found = p.rank1
		}
		o.add(q)
	}
	return o
}

// identCurve is FNIR and FPIR at every distinct rank-1 distance of ps
// (thinned to about 400 points).
func identCurve(ps []idProbe) []report.IdentPoint {
	var ts []float32
	for _, p := range ps {
		if p.rank1 >= 0 {
			ts = append(ts, p.dist)
		}
	}
	slices.Sort(ts)
	ts = slices.Compact(ts)
	step := max(1, len(ts)/400)
	var out []report.IdentPoint
	for i := 0; i < len(ts); i += step {
		o := identAt(ps, ts[i])
		out = append(out, report.IdentPoint{Threshold: float64(ts[i]), FNIR: o.fnir(), FPIR: o.fpir()})
	}
	return out
}

// tail extrapolates the threshold of a per-pair FAR of tailFAR from the
// impostor pairs of sc's identities, and measures what it costs on the
// genuine pairs and on the all-enrolled probes ps.
func (s *identSet) tail(sc scope, ps []idProbe) report.TailLine {
	l := report.TailLine{Name: sc.name, TargetFAR: tailFAR, Residents: tailResidents}
	var faces []int
	for _, k := range sc.ids {
		faces = append(faces, s.faces[k]...)
	}
	slices.Sort(faces)
	var gen, imp []float32
	for x, a := range faces {
		for _, b := range faces[x+1:] {
			d, err := s.model.Distance(s.descs[a], s.descs[b])
			if err != nil {
				l.Problem = err.Error()
				return l
			}
			if s.of[a] == s.of[b] {
				gen = append(gen, d)
			} else {
				imp = append(imp, d)
			}
		}
	}
	l.Genuine, l.Impostor = len(gen), len(imp)
	k := metrics.TailK(len(imp))
	fit, err := metrics.FitNormalTail(imp, k)
	if err != nil {
		l.Problem = strings.TrimPrefix(err.Error(), "metrics: ")
		return l
	}
	l.Fit = fit
	l.Threshold = fit.Threshold(tailFAR)
	if l.Interval, err = metrics.BootstrapTail(imp, k, tailFAR, tailRounds, 1); err != nil {
		l.Problem = strings.TrimPrefix(err.Error(), "metrics: ")
		return l
	}
	if f, err := metrics.FitNormalTail(imp, max(3, k/2)); err == nil {
		l.HalfK = f.Threshold(tailFAR)
	}
	if f, err := metrics.FitNormalTail(imp, min(len(imp), 2*k)); err == nil {
		l.DoubleK = f.Threshold(tailFAR)
	}
	t := float32(l.Threshold)
	for _, d := range gen {
		if d > t {
			l.GenuineRejected++
		}
	}
	l.FRR = ratio(l.GenuineRejected, len(gen))
	o := identAt(ps, t)
	l.Mated, l.MatedMissed, l.FNIR = o.mated, o.missed+o.wrong, o.fnir()
	l.DefaultFAR = fit.FAR(float64(s.model.Threshold))
	l.DefaultFPIR = 1 - math.Pow(1-l.DefaultFAR, tailResidents)
	return l
}
