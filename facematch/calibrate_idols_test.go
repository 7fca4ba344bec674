package facematch_test

import (
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
