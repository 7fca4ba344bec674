package gallery

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"

	"github.com/facegate/facegate/facematch"
	"github.com/facegate/facegate/internal/templatetest"
	"github.com/facegate/facegate/template"
)

var (
	testL2  = facematch.Model{ID: "test-l2", Dim: 128, Metric: facematch.Euclidean, Threshold: 0.6}
	testCos = facematch.Model{ID: "test-cos", Dim: 128, Metric: facematch.Cosine, Threshold: 0.5}
)

func randVec(rng *rand.Rand, dim int, sd float64) []float32 {
	v := make([]float32, dim)
	for i := range v {
		v[i] = float32(rng.NormFloat64() * sd)
	}
	return v
}

// perturb returns v plus Gaussian noise of standard deviation sd per component.
func perturb(rng *rand.Rand, v []float32, sd float64) []float32 {
	w := slices.Clone(v)
	for i := range w {
		w[i] += float32(rng.NormFloat64() * sd)
	}
	return w
}

// withKernels runs f once with every kernel set the CPU supports forced.
func withKernels(t *testing.T, f func(t *testing.T)) {
	saved := kern
	defer func() { kern = saved }()
	for _, ks := range availableKernels() {
		kern = ks
		t.Run(ks.name, f)
	}
}

// refGallery is the specification the gallery is tested against: a map of
// subject -> templates in stored form, searched with plain float64 loops.
type refGallery struct {
	m     facematch.Model
	prec  Precision
	scale float64
	subj  map[string][][]float64
}

func newRef(m facematch.Model, prec Precision) *refGallery {
	return &refGallery{m: m, prec: prec, scale: DefaultInt8Scale, subj: map[string][][]float64{}}
}

// stored is the reference conversion to stored form.
func (r *refGallery) stored(v []float32) []float64 { return r.convert(v, true) }

// probe is the reference conversion of a probe: normalised for a cosine
// model and, for Int8, in units of the scale but not rounded, as an Int8
// gallery rescores its candidates with the unquantized probe.
func (r *refGallery) probe(v []float32) []float64 { return r.convert(v, false) }

func (r *refGallery) convert(v []float32, round bool) []float64 {
	w := make([]float64, len(v))
	var ss float64
	for i, x := range v {
		w[i] = float64(x)
		ss += w[i] * w[i]
	}
	if r.m.Metric == facematch.Cosine {
		for i := range w {
			w[i] = float64(float32(w[i] / math.Sqrt(ss)))
		}
	}
	if r.prec == Int8 {
		for i := range w {
			w[i] /= r.scale
			if round {
				w[i] = math.Max(-127, math.Min(127, math.Round(w[i])))
			}
		}
	}
	return w
}

func (r *refGallery) dist(a, b []float64) float64 {
	var s float64
	for i := range a {
		if r.m.Metric == facematch.Euclidean {
			s += (a[i] - b[i]) * (a[i] - b[i])
		} else {
			s += a[i] * b[i]
		}
	}
	switch {
	case r.m.Metric == facematch.Euclidean && r.prec == Int8:
		return r.scale * math.Sqrt(s)
	case r.m.Metric == facematch.Euclidean:
		return math.Sqrt(s)
	case r.prec == Int8:
		return math.Max(0, math.Min(2, 1-r.scale*r.scale*s))
	}
	return math.Max(0, math.Min(2, 1-s))
}

func (r *refGallery) best(id string, q []float64) float64 {
	d := math.Inf(1)
	for _, t := range r.subj[id] {
		d = math.Min(d, r.dist(t, q))
	}
	return d
}

// checkSearch compares g.Search with the reference for probe v.
func checkSearch(t *testing.T, g *Gallery, ref *refGallery, v []float32, k int) {
	t.Helper()
	got, err := g.Search(templatetest.Protected(ref.m.ID, v), k)
	if err != nil {
		t.Fatal(err)
	}
	q := ref.probe(v)
	var all []float64
	for id := range ref.subj {
		all = append(all, ref.best(id, q))
	}
	slices.Sort(all)
	want := all[:min(k, len(all))]
	if len(got) != len(want) {
		t.Fatalf("Search returned %d matches, want %d", len(got), len(want))
	}
	seen := map[string]bool{}
	for i, m := range got {
		if seen[m.ID] {
			t.Fatalf("subject %q returned twice", m.ID)
		}
		seen[m.ID] = true
		if !closeTo(float64(m.Distance), want[i]) {
			t.Fatalf("match %d: distance %v, reference %v", i, m.Distance, want[i])
		}
		if d := ref.best(m.ID, q); !closeTo(float64(m.Distance), d) {
			t.Fatalf("match %d (%q): distance %v, reference distance of that subject %v", i, m.ID, m.Distance, d)
		}
	}
}

func TestNewGalleryErrors(t *testing.T) {
	tests := []struct {
		name string
		m    facematch.Model
		cfg  *Config
	}{
		{"zero dim", facematch.Model{ID: "x", Dim: 0, Metric: facematch.Euclidean}, nil},
		{"negative dim", facematch.Model{ID: "x", Dim: -3, Metric: facematch.Euclidean}, nil},
		{"no metric", facematch.Model{ID: "x", Dim: 4}, nil},
		{"bad metric", facematch.Model{ID: "x", Dim: 4, Metric: 9}, nil},
		{"negative threshold", facematch.Model{ID: "x", Dim: 4, Metric: facematch.Cosine, Threshold: -1}, nil},
		{"NaN threshold", testL2, &Config{Threshold: float32(math.NaN())}},
		{"bad precision", testL2, &Config{Precision: 7}},
		{"negative scale", testL2, &Config{Precision: Int8, Scale: -1}},
		{"Inf scale", testL2, &Config{Precision: Int8, Scale: float32(math.Inf(1))}},
		{"int8 too wide", facematch.Model{ID: "x", Dim: maxInt8Dim + 1, Metric: facematch.Cosine}, &Config{Precision: Int8}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g, err := New(tt.m, tt.cfg)
			if !errors.Is(err, ErrInvalidModel) || g != nil {
				t.Fatalf("New = %v, %v; want nil, ErrInvalidModel", g, err)
			}
		})
	}
}

// TestCheck covers what no template.Protected holds (the transform and
// Decode refuse them) but the gallery still checks: NaN and infinite
// components.
func TestCheck(t *testing.T) {
	good := make([]float32, 128)
	withNaN := slices.Clone(good)
	withNaN[77] = float32(math.NaN())
	withInf := slices.Clone(good)
	withInf[127] = float32(math.Inf(-1))
	for _, tc := range []struct {
		name string
		v    []float32
		want error
	}{
		{"good", good, nil},
		{"NaN", withNaN, facematch.ErrNotFinite},
		{"Inf", withInf, facematch.ErrNotFinite},
		{"empty", nil, facematch.ErrDimension},
		{"short", good[:127], facematch.ErrDimension},
	} {
		if err := check(testL2, tc.v); !errors.Is(err, tc.want) || (err == nil) != (tc.want == nil) {
			t.Errorf("%s: %v, want %v", tc.name, err, tc.want)
		}
	}
}

func TestGalleryBadInput(t *testing.T) {
	good := make([]float32, 128)
	for i := range good {
		good[i] = 0.03 * float32(i%7-3)
	}
	for _, prec := range []Precision{Float32, Int8} {
		for _, m := range []facematch.Model{testL2, testCos} {
			t.Run(prec.String()+"/"+m.Metric.String(), func(t *testing.T) {
				g, err := New(m, &Config{Precision: prec})
				if err != nil {
					t.Fatal(err)
				}
				if err := g.Add("alice", templatetest.Protected(m.ID, good)); err != nil {
					t.Fatal(err)
				}
				other := facematch.Model{ID: "other-model", Dim: 128, Metric: m.Metric}
				tests := []struct {
					name string
					id   string
					e    template.Protected
					want error
				}{
					{"wrong model", "bob", templatetest.Protected(other.ID, good), facematch.ErrModelMismatch},
					{"short", "bob", templatetest.Protected(m.ID, good[:127]), facematch.ErrDimension},
					{"long", "bob", templatetest.Protected(m.ID, append(slices.Clone(good), 1)), facematch.ErrDimension},
					{"zero Protected", "bob", template.Protected{}, facematch.ErrModelMismatch},
					{"duplicate", "alice", templatetest.Protected(m.ID, good), facematch.ErrDuplicateID},
					{"empty ID", "", templatetest.Protected(m.ID, good), ErrInvalidID},
					{"long ID", string(make([]byte, 256)), templatetest.Protected(m.ID, good), ErrInvalidID},
				}
				if prec == Int8 {
					big := slices.Clone(good)
					big[3] = 100
					tests = append(tests, struct {
						name string
						id   string
						e    template.Protected
						want error
					}{"out of int8 range", "bob", templatetest.Protected(m.ID, big), ErrOutOfRange})
				}
				if m.Metric == facematch.Cosine {
					tests = append(tests, struct {
						name string
						id   string
						e    template.Protected
						want error
					}{"zero vector", "bob", templatetest.Protected(m.ID, make([]float32, 128)), ErrZeroVector})
				}
				for _, tt := range tests {
					if err := g.Add(tt.id, tt.e); !errors.Is(err, tt.want) {
						t.Errorf("Add %s: %v, want %v", tt.name, err, tt.want)
					}
					if tt.want == facematch.ErrDuplicateID || tt.want == ErrInvalidID {
						continue
					}
					if _, _, err := g.Verify("alice", tt.e); !errors.Is(err, tt.want) {
						t.Errorf("Verify %s: %v, want %v", tt.name, err, tt.want)
					}
					if _, err := g.Identify(tt.e, 3); !errors.Is(err, tt.want) {
						t.Errorf("Identify %s: %v, want %v", tt.name, err, tt.want)
					}
				}
				// Nothing was lost or added by the bad calls.
				if g.Len() != 1 || g.Subjects() != 1 || g.Templates("alice") != 1 {
					t.Errorf("after bad input: Len %d, Subjects %d, Templates %d; want 1, 1, 1", g.Len(), g.Subjects(), g.Templates("alice"))
				}
				if _, _, err := g.Verify("nobody", templatetest.Protected(m.ID, good)); !errors.Is(err, facematch.ErrUnknownID) {
					t.Errorf("Verify unknown subject: %v, want ErrUnknownID", err)
				}
				if err := g.Remove("nobody"); !errors.Is(err, facematch.ErrUnknownID) {
					t.Errorf("Remove unknown subject: %v, want ErrUnknownID", err)
				}
				// A different template for the same subject is not a duplicate.
				second := slices.Clone(good)
				second[1] = 0.2
				if err := g.Add("alice", templatetest.Protected(m.ID, second)); err != nil || g.Templates("alice") != 2 {
					t.Errorf("second template: %v, Templates %d", err, g.Templates("alice"))
				}
			})
		}
	}
}

func TestEmptyGallery(t *testing.T) {
	withKernels(t, func(t *testing.T) {
		for _, prec := range []Precision{Float32, Int8} {
			g, _ := New(testCos, &Config{Precision: prec})
			v := randVec(rand.New(rand.NewPCG(1, 1)), 128, 1)
			if m, err := g.Identify(templatetest.Protected(testCos.ID, v), 5); err != nil || len(m) != 0 {
				t.Errorf("%v: Identify on empty gallery = %v, %v", prec, m, err)
			}
			if m, err := g.Search(templatetest.Protected(testCos.ID, v), 5); err != nil || len(m) != 0 {
				t.Errorf("%v: Search on empty gallery = %v, %v", prec, m, err)
			}
			if g.Len() != 0 || g.Subjects() != 0 {
				t.Errorf("%v: empty gallery Len %d Subjects %d", prec, g.Len(), g.Subjects())
			}
		}
	})
}

// TestGalleryMatchesReference runs random adds and removes (several
// templates per subject, enough removals to compact the ID arena) and
// compares every query with the reference on every kernel path, for both
// precisions and metrics, serially and split across goroutines.
func TestGalleryMatchesReference(t *testing.T) {
	n := 6000
	if testing.Short() {
		n = 1500
	}
	for _, prec := range []Precision{Float32, Int8} {
		for _, m := range []facematch.Model{testL2, testCos, {ID: "odd", Dim: 37, Metric: facematch.Euclidean, Threshold: 1}} {
			t.Run(prec.String()+"/"+m.ID, func(t *testing.T) {
				rng := rand.New(rand.NewPCG(uint64(prec), uint64(m.Dim)))
				g, err := New(m, &Config{Precision: prec})
				if err != nil {
					t.Fatal(err)
				}
				ref := newRef(m, prec)
				sd := 0.5 / math.Sqrt(float64(m.Dim))
				var ids []string
				for i := range n {
					switch {
					case len(ids) > 0 && rng.IntN(4) == 0: // remove
						j := rng.IntN(len(ids))
						id := ids[j]
						ids = slices.Delete(ids, j, j+1)
						if err := g.Remove(id); err != nil {
							t.Fatal(err)
						}
						delete(ref.subj, id)
					case len(ids) > 0 && rng.IntN(3) == 0: // another template
						id := ids[rng.IntN(len(ids))]
						v := randVec(rng, m.Dim, sd)
						if err := g.Add(id, templatetest.Protected(m.ID, v)); err != nil {
							t.Fatal(err)
						}
						ref.subj[id] = append(ref.subj[id], ref.stored(v))
					default:
						id := fmt.Sprintf("subject-%06d", i)
						v := randVec(rng, m.Dim, sd)
						if err := g.Add(id, templatetest.Protected(m.ID, v)); err != nil {
							t.Fatal(err)
						}
						ids = append(ids, id)
						ref.subj[id] = [][]float64{ref.stored(v)}
					}
				}
				if g.Subjects() != len(ref.subj) {
					t.Fatalf("Subjects = %d, reference %d", g.Subjects(), len(ref.subj))
				}
				total := 0
				for id, ts := range ref.subj {
					total += len(ts)
					if g.Templates(id) != len(ts) {
						t.Fatalf("Templates(%q) = %d, reference %d", id, g.Templates(id), len(ts))
					}
				}
				if g.Len() != total {
					t.Fatalf("Len = %d, reference %d", g.Len(), total)
				}
				t.Logf("%d subjects, %d templates, ID arena %d live / %d dead bytes", g.Subjects(), g.Len(), g.ids.live, g.ids.dead)
				withKernels(t, func(t *testing.T) {
					for range 20 {
						// A probe near an enrolled template, and a random one.
						id := ids[rng.IntN(len(ids))]
						tmpl := ref.subj[id][0]
						near := make([]float32, m.Dim)
						for i := range near {
							x := tmpl[i]
							if prec == Int8 {
								x *= ref.scale
							}
							near[i] = float32(x + rng.NormFloat64()*sd/4)
						}
						for _, v := range [][]float32{near, randVec(rng, m.Dim, sd)} {
							checkSearch(t, g, ref, v, 1)
							checkSearch(t, g, ref, v, 7)
							// The parallel scan must agree with the serial one.
							q, _ := g.query(templatetest.Protected(m.ID, v))
							ser := g.scan(&q, 7, float32(math.Inf(1)), math.MaxInt)
							par := g.scan(&q, 7, float32(math.Inf(1)), 0)
							if !slices.Equal(ser, par) {
								t.Fatalf("parallel scan %v, serial %v", par, ser)
							}
							d, _, err := g.Verify(id, templatetest.Protected(m.ID, v))
							if err != nil {
								t.Fatal(err)
							}
							if want := ref.best(id, ref.probe(v)); !closeTo(float64(d), want) {
								t.Fatalf("Verify distance %v, reference %v", d, want)
							}
						}
					}
				})
				// Remove everything: the gallery must end empty.
				for _, id := range ids {
					if err := g.Remove(id); err != nil {
						t.Fatal(err)
					}
				}
				if g.Len() != 0 || g.Subjects() != 0 || len(g.chunks) != 0 {
					t.Fatalf("after removing all: Len %d, Subjects %d, chunks %d", g.Len(), g.Subjects(), len(g.chunks))
				}
			})
		}
	}
}

func TestIdentifyThreshold(t *testing.T) {
	withKernels(t, func(t *testing.T) {
		for _, prec := range []Precision{Float32, Int8} {
			m := facematch.Model{ID: "t", Dim: 4, Metric: facematch.Euclidean, Threshold: 0.5}
			g, _ := New(m, &Config{Precision: prec, Scale: 1.0 / 127})
			// Distances from the probe (0,0,0,0): a 0.1, b 0.3, b' 0.2, c 0.4, d 0.9.
			add := func(id string, x float32) {
				if err := g.Add(id, templatetest.Protected(m.ID, []float32{x, 0, 0, 0})); err != nil {
					t.Fatal(err)
				}
			}
			add("a", 0.1)
			add("b", 0.3)
			add("c", -0.4)
			add("d", 0.9)
			add("b", -0.2)
			probe := templatetest.Protected(m.ID, []float32{0, 0, 0, 0})
			tol := 0.0
			if prec == Int8 {
				tol = 1.0 / 127
			}
			check := func(got []Match, wantIDs []string, wantDist []float64) {
				t.Helper()
				if len(got) != len(wantIDs) {
					t.Fatalf("%v: got %v, want %v", prec, got, wantIDs)
				}
				for i := range got {
					if got[i].ID != wantIDs[i] || math.Abs(float64(got[i].Distance)-wantDist[i]) > tol+1e-6 {
						t.Fatalf("%v: got %v, want %v %v", prec, got, wantIDs, wantDist)
					}
				}
			}
			got, _ := g.Identify(probe, 10)
			check(got, []string{"a", "b", "c"}, []float64{0.1, 0.2, 0.4})
			got, _ = g.Identify(probe, 2)
			check(got, []string{"a", "b"}, []float64{0.1, 0.2})
			got, _ = g.Search(probe, 10)
			check(got, []string{"a", "b", "c", "d"}, []float64{0.1, 0.2, 0.4, 0.9})
			if err := g.SetThreshold(0.05); err != nil {
				t.Fatal(err)
			}
			got, _ = g.Identify(probe, 10)
			check(got, nil, nil)
			if d, ok, err := g.Verify("a", probe); err != nil || ok || math.Abs(float64(d)-0.1) > tol+1e-6 {
				t.Fatalf("Verify a at threshold 0.05 = %v, %v, %v", d, ok, err)
			}
			g.SetThreshold(0.2)
			if d, ok, _ := g.Verify("b", probe); !ok || math.Abs(float64(d)-0.2) > tol+1e-6 {
				t.Fatalf("Verify b (best template 0.2) at threshold 0.2 = %v, %v", d, ok)
			}
			if err := g.SetThreshold(float32(math.NaN())); !errors.Is(err, ErrInvalidModel) {
				t.Fatalf("SetThreshold(NaN) = %v", err)
			}
			if g.Threshold() != 0.2 {
				t.Fatalf("Threshold = %v after a refused change, want 0.2", g.Threshold())
			}
		}
	})
}

// TestConcurrentUse runs Identify, Verify, Add and Remove at once; run it
// with -race.
func TestConcurrentUse(t *testing.T) {
	for _, c := range []struct {
		name      string
		prec      Precision
		originals bool
	}{
		{"float32", Float32, false},
		{"int8", Int8, false},
		{"int8+originals", Int8, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			m := testL2
			// store stands for the encrypted store Originals reads back
			// from: written before Add and after Remove, read concurrently.
			var store sync.Map
			var g *Gallery
			add := func(id string, v []float32) error {
				store.Store(id, v)
				return g.Add(id, templatetest.Protected(m.ID, v))
			}
			cfg := &Config{Precision: c.prec}
			if c.originals {
				cfg.Originals = func(id string) ([]template.Protected, error) {
					v, ok := store.Load(id)
					if !ok {
						return nil, facematch.ErrUnknownID
					}
					return []template.Protected{templatetest.Protected(m.ID, v.([]float32))}, nil
				}
			}
			g, _ = New(m, cfg)
			rng := rand.New(rand.NewPCG(9, 9))
			const base = 3000 // several chunks; the readers also force the split scan below
			for i := range base {
				if err := add(fmt.Sprintf("base-%d", i), randVec(rng, 128, 0.05)); err != nil {
					t.Fatal(err)
				}
			}
			var wg sync.WaitGroup
			stop := make(chan struct{})
			for w := range 2 {
				wg.Go(func() {
					rng := rand.New(rand.NewPCG(uint64(w), 1))
					for i := 0; ; i++ {
						select {
						case <-stop:
							return
						default:
						}
						v := randVec(rng, 128, 0.05)
						if _, err := g.Identify(templatetest.Protected(m.ID, v), 3); err != nil {
							t.Error(err)
							return
						}
						q, _ := g.query(templatetest.Protected(m.ID, v))
						g.mu.RLock()
						g.scan(&q, 3, float32(math.Inf(1)), 0) // force the parallel path
						g.mu.RUnlock()
						_, _, err := g.Verify(fmt.Sprintf("base-%d", i%base), templatetest.Protected(m.ID, v))
						if err != nil {
							t.Error(err)
							return
						}
					}
				})
			}
			wg.Go(func() {
				defer close(stop)
				rng := rand.New(rand.NewPCG(7, 7))
				for i := range 3000 {
					id := fmt.Sprintf("new-%d", i)
					if err := add(id, randVec(rng, 128, 0.05)); err != nil {
						t.Error(err)
						return
					}
					if i%2 == 0 {
						if err := g.Remove(id); err != nil {
							t.Error(err)
							return
						}
						store.Delete(id)
					}
				}
			})
			wg.Wait()
			if g.Len() != base+1500 {
				t.Fatalf("Len = %d, want %d", g.Len(), base+1500)
			}
		})
	}
}

// TestRemoveCompactsIDs removes most subjects so that the ID arena is
// compacted, then checks every remaining subject is still found.
func TestRemoveCompactsIDs(t *testing.T) {
	m := facematch.Model{ID: "small", Dim: 8, Metric: facematch.Euclidean, Threshold: 0.01}
	g, _ := New(m, nil)
	rng := rand.New(rand.NewPCG(3, 3))
	vecs := map[string][]float32{}
	const n = 12000
	for i := range n {
		id := fmt.Sprintf("resident-%015d", i)
		vecs[id] = randVec(rng, 8, 1)
		if err := g.Add(id, templatetest.Protected(m.ID, vecs[id])); err != nil {
			t.Fatal(err)
		}
	}
	compactions := 0
	for i := range n {
		if i%10 == 0 {
			continue
		}
		id := fmt.Sprintf("resident-%015d", i)
		dead := g.ids.dead
		if err := g.Remove(id); err != nil {
			t.Fatal(err)
		}
		delete(vecs, id)
		if g.ids.dead < dead {
			compactions++
		}
	}
	if compactions == 0 {
		t.Fatal("the ID arena was never compacted")
	}
	t.Logf("%d compactions; arena now %d chunks, %d live and %d dead bytes", compactions, len(g.ids.arena), g.ids.live, g.ids.dead)
	if g.Len() != len(vecs) || g.Subjects() != len(vecs) {
		t.Fatalf("Len %d, Subjects %d, want %d", g.Len(), g.Subjects(), len(vecs))
	}
	for id, v := range vecs {
		d, ok, err := g.Verify(id, templatetest.Protected(m.ID, v))
		if err != nil || !ok || d != 0 {
			t.Fatalf("Verify(%q, own vector) = %v, %v, %v", id, d, ok, err)
		}
		got, err := g.Identify(templatetest.Protected(m.ID, v), 1)
		if err != nil || len(got) != 1 || got[0].ID != id {
			t.Fatalf("Identify(own vector of %q) = %v, %v", id, got, err)
		}
	}
}

func TestTooManyTemplates(t *testing.T) {
	m := facematch.Model{ID: "t", Dim: 2, Metric: facematch.Euclidean, Threshold: 0.1}
	g, _ := New(m, nil)
	for i := range maxTemplates {
		if err := g.Add("busy", templatetest.Protected(m.ID, []float32{float32(i), 0})); err != nil {
			t.Fatal(err)
		}
	}
	if err := g.Add("busy", templatetest.Protected(m.ID, []float32{-1, 0})); !errors.Is(err, ErrTooManyTemplates) {
		t.Fatalf("template %d: %v, want ErrTooManyTemplates", maxTemplates+1, err)
	}
	if g.Templates("busy") != maxTemplates || g.Len() != maxTemplates {
		t.Fatalf("Templates %d, Len %d", g.Templates("busy"), g.Len())
	}
	for i := range maxTemplates {
		if d, ok, err := g.Verify("busy", templatetest.Protected(m.ID, []float32{float32(i), 0.05})); err != nil || !ok || math.Abs(float64(d)-0.05) > 1e-6 {
			t.Fatalf("Verify near template %d = %v, %v, %v", i, d, ok, err)
		}
	}
}
