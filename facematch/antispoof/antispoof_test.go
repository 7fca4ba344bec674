package antispoof

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

func TestCrop(t *testing.T) {
	for _, tc := range []struct {
		name  string
		box   image.Rectangle
		w, h  int
		widen float64
		want  image.Rectangle
	}{
		{"centre, room to widen", image.Rect(300, 200, 340, 240), 640, 480, 2.7, image.Rect(266, 166, 374, 274)},
		{"at the left edge: shifted inside", image.Rect(0, 200, 40, 240), 640, 480, 2.7, image.Rect(0, 166, 108, 274)},
		{"tight crop: cut to the image", image.Rect(10, 10, 190, 190), 200, 200, 2.7, image.Rect(0, 0, 199, 199)},
		{"no widening", image.Rect(10, 10, 50, 50), 100, 100, 1, image.Rect(10, 10, 50, 50)},
	} {
		got, err := Crop(tc.box, tc.w, tc.h, tc.widen)
		if err != nil || got != tc.want {
			t.Errorf("%s: %v, %v; want %v", tc.name, got, err, tc.want)
		}
		if !got.In(image.Rect(0, 0, tc.w, tc.h)) {
			t.Errorf("%s: %v outside the image", tc.name, got)
		}
	}
	for _, box := range []image.Rectangle{{}, image.Rect(700, 500, 720, 520), image.Rect(5, 5, 5, 30)} {
		if _, err := Crop(box, 640, 480, 2.7); !errors.Is(err, ErrFace) {
			t.Errorf("box %v: %v, want ErrFace", box, err)
		}
	}
}

func TestOpenChecksFile(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, FRLiveness.File), []byte("not a network"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(dir, FRLiveness); !errors.Is(err, ErrModelFile) {
		t.Fatalf("wrong file: %v, want ErrModelFile", err)
	}
	if _, err := Open(t.TempDir(), FRLiveness); err == nil {
		t.Fatal("missing file opened")
	}
	bad := FRLiveness
	bad.BonaFide = 3
	if _, err := Open(dir, bad); err == nil {
		t.Fatal("spec with bona fide class 3 of 3 opened")
	}
}

// TestScore runs the network on a shared photo: probabilities sum to 1,
// Score is the bona fide output, the image is left as it was, and bad
// input gives typed errors.
func TestScore(t *testing.T) {
	models := testenv.Models(t, FRLiveness.File)
	n, err := Open(models, FRLiveness)
	if err != nil {
		t.Fatal(err)
	}
	defer n.Close()
	img := gocv.IMRead(filepath.Join(testenv.Faces(t), "obama", "1.jpg"), gocv.IMReadColor)
	if img.Empty() {
		t.Fatal("cannot read the photo")
	}
	defer img.Close()
	before := img.Clone()
	defer before.Close()
	box := image.Rect(img.Cols()/3, img.Rows()/4, 2*img.Cols()/3, 3*img.Rows()/4)
	p, err := n.Probabilities(img, box)
	if err != nil || len(p) != 3 {
		t.Fatalf("%v, %v", p, err)
	}
	if s := p[0] + p[1] + p[2]; s < 0.999 || s > 1.001 {
		t.Fatalf("probabilities %v sum to %v", p, s)
	}
	s, err := n.Score(img, box)
	if err != nil || s != p[FRLiveness.BonaFide] {
		t.Fatalf("Score %v, %v; probabilities %v", s, err, p)
	}
	diff := gocv.NewMat()
	defer diff.Close()
	gocv.AbsDiff(img, before, &diff)
	if gocv.CountNonZero(diff.Reshape(1, 0)) != 0 {
		t.Fatal("Score changed the image")
	}
	if _, err := n.Score(img, image.Rect(-50, -50, -10, -10)); !errors.Is(err, ErrFace) {
		t.Fatalf("box outside: %v", err)
	}
	empty := gocv.NewMat()
	defer empty.Close()
	if _, err := n.Score(empty, box); !errors.Is(err, facematch.ErrDecode) {
		t.Fatalf("empty image: %v", err)
	}
	n.Close()
	if _, err := n.Score(img, box); !errors.Is(err, facematch.ErrClosed) {
		t.Fatalf("after Close: %v", err)
	}
}
