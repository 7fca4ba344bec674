package gallery_test

import (
	"fmt"
	"testing"

	"github.com/facegate/facegate/facematch"
	"github.com/facegate/facegate/facematch/gallery"
	"github.com/facegate/facegate/internal/idols/idolstest"
	"github.com/facegate/facegate/internal/templatetest"
)

// TestInt8AgreementIdols measures on real dlib descriptors how often an
// Int8 gallery names the same nearest other face as a Float32 gallery (each
// reference face queried against all the others).
func TestInt8AgreementIdols(t *testing.T) {
	faces := idolstest.Load(t, 128).Faces
	m := facematch.Model{ID: "dlib-reference", Dim: 128, Metric: facematch.Euclidean, Threshold: 0.36}
	gf, _ := gallery.New(m, nil)
	gq, _ := gallery.New(m, &gallery.Config{Precision: gallery.Int8})
	for i, f := range faces {
		id := fmt.Sprintf("face-%04d", i)
		if err := gf.Add(id, templatetest.Protected(m.ID, f.Descriptor)); err != nil {
			t.Fatal(err)
		}
		if err := gq.Add(id, templatetest.Protected(m.ID, f.Descriptor)); err != nil {
			t.Fatal(err)
		}
	}
	nearestOther := func(g *gallery.Gallery, i int) gallery.Match {
		ms, err := g.Search(templatetest.Protected(m.ID, faces[i].Descriptor), 2)
		if err != nil {
			t.Fatal(err)
		}
		for _, x := range ms {
			if x.ID != fmt.Sprintf("face-%04d", i) {
				return x
			}
		}
		t.Fatalf("face %d: no other face in %v", i, ms)
		return gallery.Match{}
	}
	same, sameIdol := 0, 0
	for i := range faces {
		a, b := nearestOther(gf, i), nearestOther(gq, i)
		if a.ID == b.ID {
			same++
		}
		var ia, ib int
		fmt.Sscanf(a.ID, "face-%d", &ia)
		fmt.Sscanf(b.ID, "face-%d", &ib)
		if faces[ia].Identity == faces[ib].Identity {
			sameIdol++
		}
	}
	t.Logf("group east-asian, %d real dlib descriptors: int8 nearest other face = float32's for %d (%.2f%%), same person for %d (%.2f%%)",
		len(faces), same, 100*float64(same)/float64(len(faces)), sameIdol, 100*float64(sameIdol)/float64(len(faces)))
}
