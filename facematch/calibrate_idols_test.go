package facematch_test

import (
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/facegate/facegate/facematch"
	"github.com/facegate/facegate/internal/testenv"
)

// idolFace is one reference descriptor of go-face's idol set.
type idolFace struct {
	ID         string
	Descriptor []float32
}

// loadIdols reads ../shared/testdata/dlib-reference/idols.json: dlib
// descriptors (base64 little-endian float32 × 128) of Korean and Chinese
// people, all in the east-asian group.
func loadIdols(t testing.TB) []idolFace {
	t.Helper()
	path := filepath.Join(testenv.SharedDir(), "testdata", "dlib-reference", "idols.json")
	data, err := os.ReadFile(path)
	if err != nil {
		if testenv.Required() {
			t.Fatalf("missing the shared reference descriptors: %v", err)
		}
		t.Skipf("skipped: missing the shared reference descriptors (../shared beside the checkout): %v", err)
	}
	var doc struct {
		Faces []struct {
			Descriptor string `json:"descriptor"`
			IdolID     string `json:"idol_id"`
		} `json:"faces"`
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	faces := make([]idolFace, len(doc.Faces))
	for i, f := range doc.Faces {
		raw, err := base64.StdEncoding.DecodeString(f.Descriptor)
		if err != nil || len(raw) != 128*4 {
			t.Fatalf("%s: face %d: descriptor of %d bytes (%v)", path, i, len(raw), err)
		}
		v := make([]float32, 128)
		for j := range v {
			v[j] = math.Float32frombits(binary.LittleEndian.Uint32(raw[4*j:]))
		}
		faces[i] = idolFace{ID: f.IdolID, Descriptor: v}
	}
	return faces
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
			if faces[i].ID == faces[j].ID {
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
	c := facematch.Evaluate(genuine, impostor, 0.6)
	t.Logf("group east-asian, dlib's customary 0.6: %v", c)
}
