package eyestate

import (
	"errors"
	"image"
	"os"
	"path/filepath"
	"testing"

	"gocv.io/x/gocv"

	"github.com/facegate/facegate/facematch"
	"github.com/facegate/facegate/internal/testenv"
)

// eyeLandmarks returns 68 landmarks whose eyes (36–47) are two 40 px wide
// ellipses centred at (100, 100) and (200, 100); the rest sit at the origin.
func eyeLandmarks() []image.Point {
	lm := make([]image.Point, 68)
	for eye, cx := range []int{100, 200} {
		f := 36 + 6*eye
		lm[f] = image.Pt(cx-20, 100)
		lm[f+1], lm[f+2] = image.Pt(cx-7, 94), image.Pt(cx+7, 94)
		lm[f+3] = image.Pt(cx+20, 100)
		lm[f+4], lm[f+5] = image.Pt(cx+7, 106), image.Pt(cx-7, 106)
	}
	return lm
}

func TestBox(t *testing.T) {
	lm := eyeLandmarks()
	for _, tc := range []struct {
		name string
		eye  int
		w, h int
		want image.Rectangle
	}{
		// side 40·1.6 = 64, corner 100 − 32
		{"right eye", 0, 400, 300, image.Rect(68, 68, 132, 132)},
		{"left eye", 1, 400, 300, image.Rect(168, 68, 232, 132)},
		// the side is cut where the image ends (as lib/fr_eye.js does)
		{"cut at the right edge", 1, 220, 300, image.Rect(168, 68, 219, 119)},
	} {
		got, err := Box(lm, tc.eye, tc.w, tc.h)
		if err != nil || got != tc.want {
			t.Errorf("%s: %v, %v; want %v", tc.name, got, err, tc.want)
		}
	}
	if _, err := Box(lm[:5], 0, 400, 300); !errors.Is(err, ErrEye) {
		t.Errorf("5 landmarks: %v", err)
	}
	if _, err := Box(lm, 0, 50, 50); !errors.Is(err, ErrEye) {
		t.Errorf("eye outside the image: %v", err)
	}
}

func TestOpenChecksFile(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, File), []byte("not a network"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(dir); !errors.Is(err, ErrModelFile) {
		t.Fatalf("wrong file: %v, want ErrModelFile", err)
	}
}

// TestClosed runs the network on eyes of a uniform grey image and on bad
// input: probabilities in [0, 1], the image unchanged, typed errors. (How
// well it tells closed from open eyes is measured by `go run ./bench eyes`,
// docs/pad.md.)
func TestClosed(t *testing.T) {
	n, err := Open(testenv.Models(t, File))
	if err != nil {
		t.Fatal(err)
	}
	defer n.Close()
	img := gocv.NewMatWithSizeFromScalar(gocv.NewScalar(90, 120, 150, 0), 300, 400, gocv.MatTypeCV8UC3)
	defer img.Close()
	p, err := n.Closed(img, eyeLandmarks())
	if err != nil || p[0] < 0 || p[0] > 1 || p[1] < 0 || p[1] > 1 {
		t.Fatalf("%v, %v", p, err)
	}
	if p[0] != p[1] {
		t.Errorf("two identical grey eyes gave %v", p)
	}
	if v := img.GetVecbAt(100, 100); v[0] != 90 || v[1] != 120 || v[2] != 150 {
		t.Errorf("Closed changed the image: %v", v)
	}
	empty := gocv.NewMat()
	defer empty.Close()
	if _, err := n.Closed(empty, eyeLandmarks()); !errors.Is(err, facematch.ErrDecode) {
		t.Errorf("empty image: %v", err)
	}
	if _, err := n.Closed(img, nil); !errors.Is(err, ErrEye) {
		t.Errorf("no landmarks: %v", err)
	}
	n.Close()
	if _, err := n.Closed(img, eyeLandmarks()); !errors.Is(err, facematch.ErrClosed) {
		t.Errorf("after Close: %v", err)
	}
}
