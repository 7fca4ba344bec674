package facematch

import (
	"errors"
	"fmt"
	"testing"
)

// FuzzGalleryOps drives a small gallery with an arbitrary sequence of Add,
// Remove, Verify and Search operations and checks every result against the
// reference gallery of the tests.
func FuzzGalleryOps(f *testing.F) {
	f.Add([]byte{0, 1, 2, 3, 4, 5, 1, 1, 9, 9, 9, 9, 2, 1, 3, 0, 0, 0, 0, 0})
	f.Add([]byte{0, 7, 1, 1, 1, 1, 0, 7, 2, 2, 2, 2, 0, 8, 1, 1, 1, 1, 1, 7, 3, 8, 1, 2, 3, 4})
	f.Fuzz(func(t *testing.T, ops []byte) {
		for _, prec := range []Precision{Float32, Int8} {
			m := Model{ID: "fuzz", Dim: 4, Metric: Euclidean, Threshold: 0.2}
			g, err := NewGallery(m, &GalleryConfig{Precision: prec})
			if err != nil {
				t.Fatal(err)
			}
			ref := newRef(m, prec)
			vec := func(b []byte) []float32 {
				v := make([]float32, 4)
				for i := range v {
					v[i] = float32(int(b[i])-128) / 300
				}
				return v
			}
			for len(ops) >= 6 {
				op, id, v := ops[0]%4, fmt.Sprintf("s%d", ops[1]%12), vec(ops[2:6])
				ops = ops[6:]
				switch op {
				case 0: // Add
					err := g.Add(id, m.Embedding(v))
					sv := ref.stored(v)
					dup := false
					for _, t := range ref.subj[id] {
						if fmt.Sprint(t) == fmt.Sprint(sv) {
							dup = true
						}
					}
					if dup != errors.Is(err, ErrDuplicateID) || (!dup && err != nil) {
						t.Fatalf("Add(%s, %v) = %v, duplicate %v", id, v, err, dup)
					}
					if err == nil {
						ref.subj[id] = append(ref.subj[id], sv)
					}
				case 1: // Remove
					err := g.Remove(id)
					_, known := ref.subj[id]
					if known != (err == nil) || (!known && !errors.Is(err, ErrUnknownID)) {
						t.Fatalf("Remove(%s) = %v, known %v", id, err, known)
					}
					delete(ref.subj, id)
				case 2: // Verify
					d, _, err := g.Verify(id, m.Embedding(v))
					if _, known := ref.subj[id]; !known {
						if !errors.Is(err, ErrUnknownID) {
							t.Fatalf("Verify(%s) unknown = %v", id, err)
						}
						continue
					}
					if want := ref.best(id, ref.stored(v)); err != nil || !closeTo(float64(d), want) {
						t.Fatalf("Verify(%s) = %v, %v; reference %v", id, d, err, want)
					}
				case 3:
					checkSearch(t, g, ref, v, 3)
				}
				total := 0
				for _, ts := range ref.subj {
					total += len(ts)
				}
				if g.Len() != total || g.Subjects() != len(ref.subj) {
					t.Fatalf("Len %d Subjects %d; reference %d, %d", g.Len(), g.Subjects(), total, len(ref.subj))
				}
			}
		}
	})
}
