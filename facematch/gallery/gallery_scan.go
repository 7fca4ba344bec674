package gallery

import (
	"cmp"
	"errors"
	"fmt"
	"math"
	"runtime"
	"slices"
	"sync"

	"github.com/facegate/facegate/facematch"
	"github.com/facegate/facegate/template"
)

// parallelMinBytes is the amount of template data from which Identify and
// Search split the scan across GOMAXPROCS goroutines; smaller galleries are
// scanned on the calling goroutine, with no goroutine overhead.
//
// Measured with BenchmarkCrossover (best of 2×0.5 s per size, 2-vCPU AMD
// EPYC Zen 5 VM, AVX-512 kernels, 128-d; the best iteration is the one
// where the second core was free): splitting broke even at 2 MiB of rows
// (float32 4096 rows: 23.2 µs split vs 24.3 µs serial; int8 16384 rows:
// 65.2 vs 70.8 µs), lost below (float32 2048 rows: 15.1 vs 13.3 µs) and won
// clearly from 4 MiB (float32 8192 rows: 35.9 vs 47.6 µs; int8 32768 rows:
// 99.0 vs 141.3 µs). The crossover is the same in bytes for both
// precisions, so it is set in bytes, at the clear win: 8192 float32 or
// 32768 int8 rows of 128-d.
const parallelMinBytes = 4 << 20

// parallelMinRows returns the gallery size, in rows, from which scans are split.
func (g *Gallery) parallelMinRows() int {
	row := g.model.Dim * 4
	if g.prec == Int8 {
		row = g.model.Dim
	}
	return max(1, parallelMinBytes/row)
}

// blockRows is how many rows one kernel call scores.
const blockRows = 256

// A Match is one subject found by Identify or Search.
type Match struct {
	// ID is the subject's ID.
	ID string
	// Distance is the distance from the probe to the subject's closest
	// template, under the model's metric (in an Int8 gallery, to the
	// stored, quantized template: within a quantization step of the
	// float32 distance; with Config.Originals, to the original).
	Distance float32
}

// query is a probe in the gallery's stored form. In an Int8 gallery it
// also holds the unquantized probe (f32) and how far quantization moved it
// (qerr, the Euclidean norm of the difference), for rescoring.
type query struct {
	f32  []float32
	i16  []int16
	qerr float32
}

func (g *Gallery) query(v template.Protected) (query, error) {
	p, err := g.prepare(v)
	if err != nil {
		return query{}, err
	}
	if g.prec == Float32 {
		return query{f32: p.f32}, nil
	}
	q := make([]int16, len(p.i8))
	var qe float64
	for i, x := range p.i8 {
		q[i] = int16(x)
		d := float64(p.v[i]) - float64(g.scale)*float64(x)
		qe += d * d
	}
	return query{f32: p.v, i16: q, qerr: float32(math.Sqrt(qe))}, nil
}

// rescoreExtra is how many subjects beyond the k asked for an Int8 search
// keeps from its int8 scan and rescores with the unquantized probe.
//
// The int8 scan compares the quantized probe with the quantized templates;
// rescoring compares the probe itself with the stored templates (exact for
// the stored values), which removes the probe's share of the quantization
// error. Rescoring min(k+rescoreExtra, subjects) subjects costs a few
// hundred float operations per subject, nothing next to a scan
// (BenchmarkInt8Rescore).
//
// Measured with TestInt8TopOneAgreement (10,000 dlib-like subjects, 5,000
// random probes): top-1 agreement with float32 went from 96.26 % (scan
// alone) to 97.10 % (Euclidean) and from 96.00 % to 96.82 % (cosine), the
// same with 2, 4, 16, 32 or 128 extra subjects (1 extra: 97.04 % and
// 96.82 %): what remains comes from the templates' own rounding, which no
// rescoring of int8 rows can undo. Each extra subject makes the scan's
// top-k list longer and lets more rows into it (BenchmarkInt8Rescore,
// 100k rows: +4.7 % scan time with 16 extra), so it is kept at twice the
// number where agreement stopped improving.
const rescoreExtra = 4

// rowDist returns the distance between the unquantized probe q.f32 and
// stored Int8 row r.
func (g *Gallery) rowDist(q *query, r uint32) float32 {
	c, i := g.chunkOf(r)
	d := g.model.Dim
	row := c.i8[i*d : i*d+d : i*d+d]
	v := q.f32[:d]
	var s float32
	if g.model.Metric == facematch.Euclidean {
		for j, x := range row {
			t := v[j] - g.scale*float32(x)
			s += t * t
		}
		return float32(math.Sqrt(float64(s)))
	}
	for j, x := range row {
		s += v[j] * float32(x)
	}
	return clampCos(1 - g.scale*s)
}

// exactDist returns the distance between the unquantized probe and the
// closest stored template of the subject at ref. Read lock held.
func (g *Gallery) exactDist(q *query, ref uint32) float32 {
	best := float32(math.Inf(1))
	for _, r := range g.rowsOf(ref) {
		best = min(best, g.rowDist(q, r))
	}
	return best
}

// scanMargin returns how much closer than in the int8 scan a template can
// be to the unquantized probe: the probe's quantization error, times the
// largest norm of a stored unit vector for a cosine model. With Originals,
// the decision is taken on the unquantized templates, so the templates'
// own rounding (at most half a step per component) is added.
func (g *Gallery) scanMargin(q *query) float32 {
	terr := 0.5 * g.scale * float32(math.Sqrt(float64(g.model.Dim)))
	m := q.qerr
	if g.model.Metric == facematch.Cosine {
		m = q.qerr * (1 + terr)
	}
	if g.originals != nil {
		m += terr
	}
	return m
}

// dist converts a kernel score to a distance.
func (g *Gallery) dist(score float32) float32 {
	switch {
	case g.prec == Float32 && g.model.Metric == facematch.Euclidean:
		return float32(math.Sqrt(float64(score)))
	case g.prec == Float32:
		return clampCos(1 + score)
	case g.model.Metric == facematch.Euclidean:
		return g.scale * float32(math.Sqrt(float64(score)))
	default:
		return clampCos(1 + g.scale*g.scale*score)
	}
}

func clampCos(d float32) float32 { return max(0, min(2, d)) }

// cutoff returns a score at or above the score of every row whose distance
// is at or under t (a little above, for rounding); Identify keeps only
// rows under it and then checks the distance itself.
func (g *Gallery) cutoff(t float32) float32 {
	var s float64
	switch {
	case g.prec == Float32 && g.model.Metric == facematch.Euclidean:
		s = float64(t) * float64(t)
	case g.prec == Float32:
		s = float64(t) - 1
	case g.model.Metric == facematch.Euclidean:
		s = (float64(t) / float64(g.scale)) * (float64(t) / float64(g.scale))
	default:
		s = (float64(t) - 1) / (float64(g.scale) * float64(g.scale))
	}
	return float32(s + 1e-4*math.Abs(s) + 1e-6)
}

// scoreRows scores rows [i, i+len(out)) of chunk c against q.
func (g *Gallery) scoreRows(q *query, c *chunk, i int, out []float32, ibuf []int32) {
	d := g.model.Dim
	n := len(out)
	switch {
	case g.prec == Float32 && g.model.Metric == facematch.Euclidean:
		kern.l2F32(q.f32, c.f32[i*d:(i+n)*d], out)
	case g.prec == Float32:
		kern.dotF32(q.f32, c.f32[i*d:(i+n)*d], out)
		for j, s := range out {
			out[j] = -s
		}
	case g.model.Metric == facematch.Euclidean:
		ibuf = ibuf[:n]
		kern.l2I8(q.i16, c.i8[i*d:(i+n)*d], ibuf)
		for j, s := range ibuf {
			out[j] = float32(s)
		}
	default:
		ibuf = ibuf[:n]
		kern.dotI8(q.i16, c.i8[i*d:(i+n)*d], ibuf)
		for j, s := range ibuf {
			out[j] = -float32(s)
		}
	}
}

// Verify compares the probe p with the templates of subject id and returns
// the distance to the closest one and whether it is at or under the
// gallery's threshold. Errors (wrapped): ErrUnknownID, ErrModelMismatch,
// ErrDimension, ErrNotFinite, ErrZeroVector, ErrOutOfRange.
func (g *Gallery) Verify(id string, p template.Protected) (dist float32, match bool, err error) {
	q, err := g.query(p)
	if err != nil {
		return 0, false, err
	}
	g.mu.RLock()
	ref, _, ok := g.ids.find(id)
	if !ok {
		g.mu.RUnlock()
		return 0, false, fmt.Errorf("%w: %q", facematch.ErrUnknownID, id)
	}
	if g.originals != nil {
		g.mu.RUnlock()
		dist, ok, err = g.originalDist(&q, id)
		if err != nil {
			return 0, false, err
		}
		if !ok {
			return 0, false, fmt.Errorf("%w: %q (no originals)", facematch.ErrUnknownID, id)
		}
		return dist, dist <= g.threshold, nil
	}
	defer g.mu.RUnlock()
	if g.prec == Int8 {
		dist = g.exactDist(&q, ref)
		return dist, dist <= g.threshold, nil
	}
	best := float32(math.Inf(1))
	var out [1]float32
	var ibuf [1]int32
	for _, r := range g.rowsOf(ref) {
		c, i := g.chunkOf(r)
		g.scoreRows(&q, c, i, out[:], ibuf[:])
		best = min(best, out[0])
	}
	dist = g.dist(best)
	return dist, dist <= g.threshold, nil
}

// Identify returns up to k subjects whose closest template is at or under
// the gallery's threshold from the probe p, closest first, one entry per
// subject. An empty result means the probe is unknown: nobody in the gallery
// is close enough. Errors as for Verify (except ErrUnknownID).
func (g *Gallery) Identify(p template.Protected, k int) ([]Match, error) {
	return g.search(p, k, true)
}

// Search returns the k subjects closest to the probe p whatever their
// distance, closest first, one entry per subject (fewer if the gallery has
// fewer subjects). It serves evaluation and threshold calibration; access
// decisions use Identify or Verify.
func (g *Gallery) Search(p template.Protected, k int) ([]Match, error) {
	return g.search(p, k, false)
}

func (g *Gallery) search(p template.Protected, k int, useThreshold bool) ([]Match, error) {
	q, err := g.query(p)
	if err != nil {
		return nil, err
	}
	if k <= 0 {
		return nil, nil
	}
	out := g.shortlist(&q, k, useThreshold)
	if g.originals != nil {
		if out, err = g.refine(&q, out); err != nil {
			return nil, err
		}
	}
	if useThreshold {
		out = slices.DeleteFunc(out, func(m Match) bool { return m.Distance > g.threshold })
	}
	slices.SortStableFunc(out, func(a, b Match) int {
		return cmp.Or(cmp.Compare(a.Distance, b.Distance), cmp.Compare(a.ID, b.ID))
	})
	return out[:min(len(out), k)], nil
}

// shortlist scans the gallery for the k subjects closest to q (in an Int8
// gallery, rescoreExtra or OriginalsExtra more), or only those within the
// threshold (widened by what quantization can move a distance in an Int8
// gallery) if useThreshold is set, with their distances: exact for Float32,
// from the unquantized probe to the stored templates for Int8, and left 0
// with Originals, for refine to fill in.
func (g *Gallery) shortlist(q *query, k int, useThreshold bool) []Match {
	g.mu.RLock()
	defer g.mu.RUnlock()
	cut := float32(math.Inf(1))
	kk := k
	if g.prec == Int8 {
		extra := rescoreExtra
		if g.originals != nil {
			extra = OriginalsExtra
		}
		kk = min(k+extra, max(k, g.ids.n))
	}
	if useThreshold {
		t := g.threshold
		if g.prec == Int8 {
			t += g.scanMargin(q)
		}
		cut = g.cutoff(t)
	}
	hits := g.scan(q, kk, cut, g.parallelMinRows())
	out := make([]Match, len(hits))
	for i, h := range hits {
		var d float32
		switch {
		case g.prec == Float32:
			d = g.dist(h.score)
		case g.originals == nil:
			d = g.exactDist(q, h.subj)
		}
		out[i] = Match{ID: string(g.ids.id(h.subj)), Distance: d}
	}
	return out
}

// refine replaces each shortlisted subject's distance with the distance
// from the probe to its closest original template (Config.Originals)
// and drops subjects that have none any more. No lock held.
func (g *Gallery) refine(q *query, ms []Match) ([]Match, error) {
	out := ms[:0]
	for _, m := range ms {
		d, ok, err := g.originalDist(q, m.ID)
		if err != nil {
			return nil, err
		}
		if ok {
			out = append(out, Match{ID: m.ID, Distance: d})
		}
	}
	return out, nil
}

// originalDist returns the distance from the unquantized probe to the
// closest original template of subject id, computed as a Float32 gallery
// computes it, and false if Originals knows no template of id. No lock held.
func (g *Gallery) originalDist(q *query, id string) (float32, bool, error) {
	es, err := g.originals(id)
	if errors.Is(err, facematch.ErrUnknownID) {
		return 0, false, nil
	}
	if err != nil {
		return 0, false, fmt.Errorf("gallery: originals of %q: %w", id, err)
	}
	best := float32(math.Inf(1))
	var out [1]float32
	for i, e := range es {
		v, err := g.validated(e)
		if err != nil {
			return 0, false, fmt.Errorf("gallery: original %d of %q: %w", i, id, err)
		}
		if g.model.Metric == facematch.Euclidean {
			kern.l2F32(q.f32, v, out[:])
			best = min(best, float32(math.Sqrt(float64(out[0]))))
		} else {
			kern.dotF32(q.f32, v, out[:])
			best = min(best, clampCos(1-out[0]))
		}
	}
	return best, len(es) > 0, nil
}

// hit is a subject's best score so far.
type hit struct {
	subj  uint32
	score float32
}

// topK keeps the k best subjects seen, one entry per subject with its best
// score, sorted by score. A subject evicted from the list can only come back
// with a score better than the one it was evicted with, so keeping each
// subject's best row among the current k is exact. Equal scores are ordered
// by subject reference, so the k kept are the same whatever order the rows
// come in: a serial and a split scan return the same subjects.
type topK struct {
	k    int
	cut  float32 // only scores <= cut can enter
	hits []hit
}

func (a hit) before(b hit) bool {
	return a.score < b.score || (a.score == b.score && a.subj < b.subj)
}

func (t *topK) offer(subj uint32, s float32) {
	h := hit{subj, s}
	for i := range t.hits {
		if t.hits[i].subj == subj {
			if s >= t.hits[i].score {
				return
			}
			t.hits = slices.Delete(t.hits, i, i+1)
			break
		}
	}
	if len(t.hits) == t.k {
		if !h.before(t.hits[t.k-1]) {
			return
		}
		t.hits = t.hits[:t.k-1]
	}
	i, _ := slices.BinarySearchFunc(t.hits, h, func(a, b hit) int {
		if a.before(b) {
			return -1
		}
		if b.before(a) {
			return 1
		}
		return 0
	})
	t.hits = slices.Insert(t.hits, i, h)
	if len(t.hits) == t.k {
		t.cut = min(t.cut, t.hits[t.k-1].score)
	}
}

// scanRange offers rows [lo, hi) to t. The kernel scores a block of rows;
// one loop per kind of score then converts each to the common "smaller is
// better" float32 form and compares it with the cut-off, so each score is
// touched once.
func (g *Gallery) scanRange(q *query, t *topK, lo, hi int) {
	var scores [blockRows]float32
	var ibuf [blockRows]int32
	d := g.model.Dim
	for r := lo; r < hi; {
		c, i := g.chunkOf(uint32(r))
		n := min(hi-r, chunkRows-i, blockRows)
		subj := c.subj[i : i+n]
		switch {
		case g.prec == Float32 && g.model.Metric == facematch.Euclidean:
			out := scores[:n]
			kern.l2F32(q.f32, c.f32[i*d:(i+n)*d], out)
			for j, s := range out {
				if s <= t.cut {
					t.offer(subj[j], s)
				}
			}
		case g.prec == Float32:
			out := scores[:n]
			kern.dotF32(q.f32, c.f32[i*d:(i+n)*d], out)
			for j, s := range out {
				if -s <= t.cut {
					t.offer(subj[j], -s)
				}
			}
		case g.model.Metric == facematch.Euclidean:
			out := ibuf[:n]
			kern.l2I8(q.i16, c.i8[i*d:(i+n)*d], out)
			for j, v := range out {
				if s := float32(v); s <= t.cut {
					t.offer(subj[j], s)
				}
			}
		default:
			out := ibuf[:n]
			kern.dotI8(q.i16, c.i8[i*d:(i+n)*d], out)
			for j, v := range out {
				if s := -float32(v); s <= t.cut {
					t.offer(subj[j], s)
				}
			}
		}
		r += n
	}
}

// scan returns the best k subjects among all rows with a score at or under
// cut, splitting the rows across goroutines when there are at least
// minParallel of them. Read lock held.
func (g *Gallery) scan(q *query, k int, cut float32, minParallel int) []hit {
	workers := runtime.GOMAXPROCS(0)
	if g.n < minParallel || workers < 2 {
		t := topK{k: k, cut: cut}
		g.scanRange(q, &t, 0, g.n)
		return t.hits
	}
	parts := make([]topK, workers)
	var wg sync.WaitGroup
	for w := range parts {
		lo, hi := g.n*w/workers, g.n*(w+1)/workers
		parts[w] = topK{k: k, cut: cut}
		wg.Go(func() { g.scanRange(q, &parts[w], lo, hi) })
	}
	wg.Wait()
	// Each subject's best row lies in one part, where the subject ranks no
	// worse than overall, so merging the parts' lists is exact.
	t := topK{k: k, cut: cut}
	for _, p := range parts {
		for _, h := range p.hits {
			t.offer(h.subj, h.score)
		}
	}
	return t.hits
}
