package gallery

import (
	"errors"
	"fmt"
	"slices"
	"testing"

	"github.com/facegate/facegate/facematch"
	"github.com/facegate/facegate/internal/templatetest"
	"github.com/facegate/facegate/template"
)

// FuzzGalleryOps drives a small gallery with an arbitrary sequence of Add,
// Remove, Verify and Search operations and checks every result against the
// reference gallery of the tests, for a Float32 gallery, an Int8 one, and
// an Int8 one deciding on the originals (Config.Originals), whose
// distances must be the float32 reference's.
func FuzzGalleryOps(f *testing.F) {
	f.Add([]byte{0, 1, 2, 3, 4, 5, 1, 1, 9, 9, 9, 9, 2, 1, 3, 0, 0, 0, 0, 0})
	f.Add([]byte{0, 7, 1, 1, 1, 1, 0, 7, 2, 2, 2, 2, 0, 8, 1, 1, 1, 1, 1, 7, 3, 8, 1, 2, 3, 4})
	f.Fuzz(func(t *testing.T, ops []byte) {
		for _, variant := range []string{"float32", "int8", "int8+originals"} {
			m := facematch.Model{ID: "fuzz", Dim: 4, Metric: facematch.Euclidean, Threshold: 0.2}
			prec := Float32
			if variant != "float32" {
				prec = Int8
			}
			// ref holds what the gallery stores; exact, what it decides
			// on: the stored templates, or with originals the float32
			// vectors as added.
			ref, exact := newRef(m, prec), newRef(m, prec)
			cfg := &Config{Precision: prec}
			if variant == "int8+originals" {
				exact = newRef(m, Float32)
				cfg.Originals = func(id string) ([]template.Protected, error) {
					ts, ok := exact.subj[id]
					if !ok {
						return nil, facematch.ErrUnknownID
					}
					var es []template.Protected
					for _, v := range ts {
						w := make([]float32, len(v))
						for i, x := range v {
							w[i] = float32(x)
						}
						es = append(es, templatetest.Protected(m.ID, w))
					}
					return es, nil
				}
			}
			g, err := New(m, cfg)
			if err != nil {
				t.Fatal(err)
			}
			vec := func(b []byte) []float32 {
				v := make([]float32, 4)
				for i := range v {
					v[i] = float32(int(b[i])-128) / 300
				}
				return v
			}
			for ops := ops; len(ops) >= 6; ops = ops[6:] {
				op, id, v := ops[0]%4, fmt.Sprintf("s%d", ops[1]%12), vec(ops[2:6])
				switch op {
				case 0: // Add
					err := g.Add(id, templatetest.Protected(m.ID, v))
					sv := ref.stored(v)
					dup := slices.ContainsFunc(ref.subj[id], func(t []float64) bool { return slices.Equal(t, sv) })
					if dup != errors.Is(err, facematch.ErrDuplicateID) || (!dup && err != nil) {
						t.Fatalf("%s: Add(%s, %v) = %v, duplicate %v", variant, id, v, err, dup)
					}
					if err == nil {
						ref.subj[id] = append(ref.subj[id], sv)
						if exact != ref {
							exact.subj[id] = append(exact.subj[id], exact.stored(v))
						}
					}
				case 1: // Remove
					err := g.Remove(id)
					_, known := ref.subj[id]
					if known != (err == nil) || (!known && !errors.Is(err, facematch.ErrUnknownID)) {
						t.Fatalf("%s: Remove(%s) = %v, known %v", variant, id, err, known)
					}
					delete(ref.subj, id)
					delete(exact.subj, id)
				case 2: // Verify
					d, _, err := g.Verify(id, templatetest.Protected(m.ID, v))
					if _, known := ref.subj[id]; !known {
						if !errors.Is(err, facematch.ErrUnknownID) {
							t.Fatalf("%s: Verify(%s) unknown = %v", variant, id, err)
						}
						continue
					}
					if want := exact.best(id, exact.probe(v)); err != nil || !closeTo(float64(d), want) {
						t.Fatalf("%s: Verify(%s) = %v, %v; reference %v", variant, id, d, err, want)
					}
				case 3:
					if exact == ref || len(exact.subj) <= 3+OriginalsExtra {
						// Every subject is on the shortlist: the result is
						// the reference's top 3.
						checkSearch(t, g, exact, v, 3)
					} else {
						checkSearchDistances(t, g, exact, v, 3)
					}
				}
				total := 0
				for _, ts := range ref.subj {
					total += len(ts)
				}
				if g.Len() != total || g.Subjects() != len(ref.subj) {
					t.Fatalf("%s: Len %d Subjects %d; reference %d, %d", variant, g.Len(), g.Subjects(), total, len(ref.subj))
				}
			}
		}
	})
}

// checkSearchDistances checks what g.Search(v, k) can promise when its
// shortlist may miss a subject: min(k, subjects) distinct subjects, closest
// first, each at its reference distance.
func checkSearchDistances(t *testing.T, g *Gallery, ref *refGallery, v []float32, k int) {
	t.Helper()
	got, err := g.Search(templatetest.Protected(ref.m.ID, v), k)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != min(k, len(ref.subj)) {
		t.Fatalf("Search returned %d matches, want %d", len(got), min(k, len(ref.subj)))
	}
	q := ref.probe(v)
	for i, m := range got {
		if i > 0 && (got[i-1].ID == m.ID || got[i-1].Distance > m.Distance) {
			t.Fatalf("Search results out of order or repeated: %v", got)
		}
		if d := ref.best(m.ID, q); !closeTo(float64(m.Distance), d) {
			t.Fatalf("match %d (%q): distance %v, reference %v", i, m.ID, m.Distance, d)
		}
	}
}
