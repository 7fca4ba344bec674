package facematch_test

import (
	"fmt"
	"testing"

	"github.com/facegate/facegate/facematch"
	"github.com/facegate/facegate/internal/idols"
	"github.com/facegate/facegate/internal/idols/idolstest"
)

// loadIdols reads ../shared/testdata/dlib-reference/idols.json: dlib
// descriptors (128 values each) of Korean and Chinese people, all in the
// east-asian group.
func loadIdols(t testing.TB) []idols.Face {
	t.Helper()
	return idolstest.Load(t, 128).Faces
}

// TestCalibrateIdols calibrates dlib's Euclidean threshold on every pair of
// the idol reference descriptors (group east-asian) and reports the
// thresholds for 1 % and 0.1 % FAR with their TAR. It checks the invariants
// only; the figures are measurements.
func TestCalibrateIdols(t *testing.T) {
	faces := loadIdols(t)
	var genuine, impostor []float32
	for i := range faces {
		for j := i + 1; j < len(faces); j++ {
			d := facematch.EuclideanDistance(faces[i].Descriptor, faces[j].Descriptor)
			if faces[i].Identity == faces[j].Identity {
				genuine = append(genuine, d)
			} else {
				impostor = append(impostor, d)
			}
		}
	}
	n := len(faces)
	if len(genuine)+len(impostor) != n*(n-1)/2 {
		t.Fatalf("%d + %d pairs, want %d", len(genuine), len(impostor), n*(n-1)/2)
	}
	t.Logf("group east-asian: %d descriptors, %d genuine pairs, %d impostor pairs", n, len(genuine), len(impostor))
	for _, far := range []float64{0.01, 0.001} {
		c, err := facematch.Calibrate(genuine, impostor, far)
		if err != nil {
			t.Fatal(err)
		}
		if c.FAR > far {
			t.Errorf("FAR %v over the target %v", c.FAR, far)
		}
		t.Logf("group east-asian, target FAR %.1f%%: %v", 100*far, c)
	}
	c, err := facematch.Evaluate(genuine, impostor, 0.6)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("group east-asian, dlib's customary 0.6: %v", c)
}

// TestInt8AgreementIdols measures on real dlib descriptors how often an
// Int8 gallery names the same nearest other face as a Float32 gallery (each
// reference face queried against all the others).
func TestInt8AgreementIdols(t *testing.T) {
	faces := loadIdols(t)
	m := facematch.Model{ID: "dlib-reference", Dim: 128, Metric: facematch.Euclidean, Threshold: 0.36}
	gf, _ := facematch.NewGallery(m, nil)
	gq, _ := facematch.NewGallery(m, &facematch.GalleryConfig{Precision: facematch.Int8})
	for i, f := range faces {
		id := fmt.Sprintf("face-%04d", i)
		if err := gf.Add(id, m.Embedding(f.Descriptor)); err != nil {
			t.Fatal(err)
		}
		if err := gq.Add(id, m.Embedding(f.Descriptor)); err != nil {
			t.Fatal(err)
		}
	}
	nearestOther := func(g *facematch.Gallery, i int) facematch.Match {
		ms, err := g.Search(m.Embedding(faces[i].Descriptor), 2)
		if err != nil {
			t.Fatal(err)
		}
		for _, x := range ms {
			if x.ID != fmt.Sprintf("face-%04d", i) {
				return x
			}
		}
		t.Fatalf("face %d: no other face in %v", i, ms)
		return facematch.Match{}
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
