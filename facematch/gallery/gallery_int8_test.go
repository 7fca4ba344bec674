package gallery

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/facegate/facegate/facematch"
	"github.com/facegate/facegate/internal/templatetest"
	"github.com/facegate/facegate/template"
)

// dlibLike returns a random descriptor resembling dlib's: components of
// standard deviation 0.1 (norm about 1.13), kept within ±0.45 as dlib's are
// (largest component over idols.json: 0.435).
func dlibLike(rng *rand.Rand) []float32 {
	v := make([]float32, 128)
	for i := range v {
		v[i] = float32(max(-0.45, min(0.45, rng.NormFloat64()*0.1)))
	}
	return v
}

// TestInt8TopOneAgreement measures how often an Int8 gallery returns the
// same top-1 subject as a Float32 gallery holding the same descriptors, for
// queries near an enrolled subject (a genuine attempt, distance ≈ 0.35) and
// for queries at random (nobody's face), and how often Identify at the
// model's threshold decides the same (the same subject, or unknown). It
// also counts the top-1 of the int8 scan alone (quantized probe against
// quantized templates, before rescoring with the unquantized probe).
//
// The goal is identical top-1 on at least 99.9 % of queries; the
// test fails under it for the genuine-like queries, fails if rescoring
// agrees with float32 less often than the scan alone, and reports the
// random-query rate, which stays under the goal: for a random query the
// nearest subjects lie within a quantization step of each other, and the
// remaining disagreements come from the templates' own rounding, which
// rescoring cannot undo (the decision, unknown, does not change).
func TestInt8TopOneAgreement(t *testing.T) {
	n, queries := 10000, 5000
	if testing.Short() {
		n, queries = 2000, 1000
	}
	for _, m := range []facematch.Model{
		{ID: "dlib-like", Dim: 128, Metric: facematch.Euclidean, Threshold: 0.6},
		{ID: "cos-like", Dim: 128, Metric: facematch.Cosine, Threshold: 0.5},
	} {
		rng := rand.New(rand.NewPCG(11, 12))
		gf, _ := New(m, nil)
		gq, _ := New(m, &Config{Precision: Int8})
		vecs := make([][]float32, n)
		byID := make(map[string][]float32, n)
		calls := 0
		originals := func(id string) ([]template.Protected, error) {
			calls++
			v, ok := byID[id]
			if !ok {
				return nil, facematch.ErrUnknownID
			}
			return []template.Protected{templatetest.Protected(m.ID, v)}, nil
		}
		gr, _ := New(m, &Config{Precision: Int8, Originals: originals})
		for i := range n {
			vecs[i] = dlibLike(rng)
			id := fmt.Sprintf("s%d", i)
			byID[id] = vecs[i]
			for _, g := range []*Gallery{gf, gq, gr} {
				if err := g.Add(id, templatetest.Protected(m.ID, vecs[i])); err != nil {
					t.Fatal(err)
				}
			}
		}
		for _, kind := range []string{"genuine-like", "random"} {
			same, sameScan, sameDecision, maxErr := 0, 0, 0, 0.0
			sameOrig, sameOrigDecision, origErr := 0, 0, 0.0
			calls = 0
			for range queries {
				var v []float32
				if kind == "random" {
					v = dlibLike(rng)
				} else {
					v = perturb(rng, vecs[rng.IntN(n)], 0.35/math.Sqrt(128))
					for i := range v {
						v[i] = max(-0.49, min(0.49, v[i]))
					}
				}
				a, err := gf.Search(templatetest.Protected(m.ID, v), 1)
				if err != nil {
					t.Fatal(err)
				}
				b, err := gq.Search(templatetest.Protected(m.ID, v), 1)
				if err != nil {
					t.Fatal(err)
				}
				if a[0].ID == b[0].ID {
					same++
				}
				q, err := gq.query(templatetest.Protected(m.ID, v))
				if err != nil {
					t.Fatal(err)
				}
				gq.mu.RLock()
				h := gq.scan(&q, 1, float32(math.Inf(1)), math.MaxInt)
				scanID := string(gq.ids.id(h[0].subj))
				gq.mu.RUnlock()
				if scanID == a[0].ID {
					sameScan++
				}
				maxErr = max(maxErr, math.Abs(float64(a[0].Distance-b[0].Distance)))
				c, err := gr.Search(templatetest.Protected(m.ID, v), 1)
				if err != nil {
					t.Fatal(err)
				}
				if a[0].ID == c[0].ID {
					sameOrig++
				}
				origErr = max(origErr, math.Abs(float64(a[0].Distance-c[0].Distance)))
				// The access decision: who, or unknown, at the model's threshold.
				da, _ := gf.Identify(templatetest.Protected(m.ID, v), 1)
				db, _ := gq.Identify(templatetest.Protected(m.ID, v), 1)
				if len(da) == len(db) && (len(da) == 0 || da[0].ID == db[0].ID) {
					sameDecision++
				}
				dc, _ := gr.Identify(templatetest.Protected(m.ID, v), 1)
				if len(da) == len(dc) && (len(da) == 0 || da[0].ID == dc[0].ID) {
					sameOrigDecision++
				}
			}
			origRate := float64(sameOrig) / float64(queries)
			t.Logf("%s, %s queries, with Originals (shortlist 1+%d): top-1 = float32 top-1 on %d/%d (%.2f%%), same Identify decision on %d/%d, largest top-1 distance difference %.2g, %.1f Originals calls per Search+Identify",
				m.ID, kind, OriginalsExtra, sameOrig, queries, 100*origRate, sameOrigDecision, queries, origErr, float64(calls)/float64(queries))
			if origRate < 0.999 {
				t.Errorf("%s, %s queries: int8 with Originals agrees with float32 on %.2f%% of queries, goal 99.9%%", m.ID, kind, 100*origRate)
			}
			if sameOrigDecision < sameOrig && kind == "genuine-like" {
				t.Errorf("%s, %s queries: Identify with Originals decided as float32 on %d, top-1 agreed on %d", m.ID, kind, sameOrigDecision, sameOrig)
			}
			rate := float64(same) / float64(queries)
			t.Logf("%s, %d subjects, %s queries: int8 top-1 = float32 top-1 on %d/%d (%.2f%%; int8 scan alone, before rescoring: %d, %.2f%%), same Identify decision at threshold %v on %d/%d; largest top-1 distance difference %.4f",
				m.ID, n, kind, same, queries, 100*rate, sameScan, 100*float64(sameScan)/float64(queries), m.Threshold, sameDecision, queries, maxErr)
			if kind == "genuine-like" && rate < 0.999 {
				t.Errorf("%s: int8 agrees with float32 on %.2f%% of genuine-like queries, goal 99.9%%", m.ID, 100*rate)
			}
			if same < sameScan {
				t.Errorf("%s, %s queries: rescored int8 top-1 agrees with float32 on %d, the int8 scan alone on %d", m.ID, kind, same, sameScan)
			}
			if sameDecision != queries {
				t.Logf("%s, %s queries: Identify decisions differ on %d", m.ID, kind, queries-sameDecision)
			}
		}
	}
}

// TestInt8RescoreAtThreshold checks that Identify and Verify in an Int8
// gallery decide on the unquantized probe's distance: with a step of 0.1,
// the template 0 and the probe 0.26 (quantized to 0.3) are 0.26 apart, a
// match at threshold 0.28 although the quantized probe is 0.3 away (the
// int8 scan's cut-off must be widened by the probe's rounding), and the
// probe 0.14 (quantized to 0.1) is 0.14 away, no match at threshold 0.12
// although the quantized probe is 0.1 away.
func TestInt8RescoreAtThreshold(t *testing.T) {
	for _, c := range []struct {
		probe, threshold float32
		match            bool
	}{
		{0.26, 0.28, true},
		{0.14, 0.12, false},
		{-0.26, 0.28, true},
		{-0.14, 0.12, false},
	} {
		m := facematch.Model{ID: "one", Dim: 1, Metric: facematch.Euclidean, Threshold: c.threshold}
		g, err := New(m, &Config{Precision: Int8, Scale: 0.1})
		if err != nil {
			t.Fatal(err)
		}
		if err := g.Add("zero", templatetest.Protected(m.ID, []float32{0})); err != nil {
			t.Fatal(err)
		}
		p := templatetest.Protected(m.ID, []float32{c.probe})
		want := float32(math.Abs(float64(c.probe)))
		got, err := g.Identify(p, 1)
		if err != nil {
			t.Fatal(err)
		}
		if c.match && (len(got) != 1 || math.Abs(float64(got[0].Distance-want)) > 1e-6) {
			t.Errorf("probe %v, threshold %v: Identify = %v, want zero at %v", c.probe, c.threshold, got, want)
		}
		if !c.match && len(got) != 0 {
			t.Errorf("probe %v, threshold %v: Identify = %v, want unknown", c.probe, c.threshold, got)
		}
		d, ok, err := g.Verify("zero", p)
		if err != nil || ok != c.match || math.Abs(float64(d-want)) > 1e-6 {
			t.Errorf("probe %v, threshold %v: Verify = %v, %v, %v; want %v, %v", c.probe, c.threshold, d, ok, err, want, c.match)
		}
	}
}

// TestOriginals checks that an Int8 gallery with Config.Originals
// decides on the unquantized templates. With a step of 0.1 the templates
// 0.04 and -0.04 are both stored as 0; the probe 0.3 is 0.26 from the
// first (a match at threshold 0.28, although 0.3 from what is stored) and
// the probe 0.26 is 0.30 from the second (no match at 0.28, although 0.26
// from what is stored). It also checks what Originals' answers do: a
// subject it no longer knows is left out of Identify and unknown to
// Verify, its other errors are returned wrapped, and a template of another
// model is refused.
func TestOriginals(t *testing.T) {
	errStore := errors.New("store: disk on fire")
	for _, c := range []struct {
		name     string
		template float32 // the original, stored by the gallery as 0
		probe    float32
		answer   func(m facematch.Model, v float32) ([]template.Protected, error) // Originals' answer
		dist     float32                                                          // want, with match at threshold 0.28
		match    bool
		err      error // want from Verify and Identify
	}{
		{name: "original closer", template: 0.04, probe: 0.3, dist: 0.26, match: true},
		{name: "original farther", template: -0.04, probe: 0.26, dist: 0.30, match: false},
		{name: "two originals, closest counts", template: 0.5, probe: 0.3, dist: 0.05, match: true,
			answer: func(m facematch.Model, v float32) ([]template.Protected, error) {
				return []template.Protected{templatetest.Protected(m.ID, []float32{v}), templatetest.Protected(m.ID, []float32{0.25})}, nil
			}},
		{name: "removed from the store", template: 0.04, probe: 0.3, err: facematch.ErrUnknownID,
			answer: func(facematch.Model, float32) ([]template.Protected, error) {
				return nil, fmt.Errorf("gone: %w", facematch.ErrUnknownID)
			}},
		{name: "no templates left", template: 0.04, probe: 0.3, err: facematch.ErrUnknownID,
			answer: func(facematch.Model, float32) ([]template.Protected, error) { return nil, nil }},
		{name: "store error", template: 0.04, probe: 0.3, err: errStore,
			answer: func(facematch.Model, float32) ([]template.Protected, error) { return nil, errStore }},
		{name: "other model", template: 0.04, probe: 0.3, err: facematch.ErrModelMismatch,
			answer: func(_ facematch.Model, v float32) ([]template.Protected, error) {
				return []template.Protected{templatetest.Protected("other", []float32{v})}, nil
			}},
		{name: "wrong dimension", template: 0.04, probe: 0.3, err: facematch.ErrDimension,
			answer: func(m facematch.Model, v float32) ([]template.Protected, error) {
				return []template.Protected{templatetest.Protected(m.ID, []float32{v, v})}, nil
			}},
	} {
		t.Run(c.name, func(t *testing.T) {
			m := facematch.Model{ID: "one", Dim: 1, Metric: facematch.Euclidean, Threshold: 0.28}
			answer := c.answer
			if answer == nil {
				answer = func(m facematch.Model, v float32) ([]template.Protected, error) {
					return []template.Protected{templatetest.Protected(m.ID, []float32{v})}, nil
				}
			}
			originals := func(id string) ([]template.Protected, error) {
				if id != "a" {
					t.Errorf("Originals(%q), only a is enrolled", id)
				}
				return answer(m, c.template)
			}
			g, err := New(m, &Config{Precision: Int8, Scale: 0.1, Originals: originals})
			if err != nil {
				t.Fatal(err)
			}
			if err := g.Add("a", templatetest.Protected(m.ID, []float32{c.template})); err != nil {
				t.Fatal(err)
			}
			probe := templatetest.Protected(m.ID, []float32{c.probe})
			d, match, err := g.Verify("a", probe)
			ms, ierr := g.Identify(probe, 1)
			if c.err != nil {
				if !errors.Is(err, c.err) {
					t.Errorf("Verify: err %v, want %v", err, c.err)
				}
				if c.err == facematch.ErrUnknownID {
					// Identify leaves a subject the store no longer has out.
					if ierr != nil || len(ms) != 0 {
						t.Errorf("Identify = %v, %v; want nothing, nil", ms, ierr)
					}
				} else if !errors.Is(ierr, c.err) {
					t.Errorf("Identify: err %v, want %v", ierr, c.err)
				}
				return
			}
			if err != nil || ierr != nil {
				t.Fatalf("Verify err %v, Identify err %v", err, ierr)
			}
			if math.Abs(float64(d-c.dist)) > 1e-6 || match != c.match {
				t.Errorf("Verify = %v, %v; want %v, %v", d, match, c.dist, c.match)
			}
			if want := 0; c.match {
				want = 1
				if len(ms) != want || ms[0].ID != "a" || math.Abs(float64(ms[0].Distance-c.dist)) > 1e-6 {
					t.Errorf("Identify = %v, want a at %v", ms, c.dist)
				}
			} else if len(ms) != want {
				t.Errorf("Identify = %v, want nobody", ms)
			}
			s, err := g.Search(probe, 1)
			if err != nil || len(s) != 1 || math.Abs(float64(s[0].Distance-c.dist)) > 1e-6 {
				t.Errorf("Search = %v, %v; want a at %v", s, err, c.dist)
			}
		})
	}
}

// TestOriginalsIgnoredForFloat32 checks that a Float32 gallery never calls
// Originals: its own templates are exact.
func TestOriginalsIgnoredForFloat32(t *testing.T) {
	m := facematch.Model{ID: "one", Dim: 2, Metric: facematch.Euclidean, Threshold: 1}
	g, err := New(m, &Config{Originals: func(string) ([]template.Protected, error) {
		t.Error("Originals called by a Float32 gallery")
		return nil, nil
	}})
	if err != nil {
		t.Fatal(err)
	}
	g.Add("a", templatetest.Protected(m.ID, []float32{0, 0}))
	if _, _, err := g.Verify("a", templatetest.Protected(m.ID, []float32{1, 0})); err != nil {
		t.Fatal(err)
	}
	if ms, err := g.Identify(templatetest.Protected(m.ID, []float32{1, 0}), 1); err != nil || len(ms) != 1 {
		t.Fatalf("Identify = %v, %v", ms, err)
	}
}
