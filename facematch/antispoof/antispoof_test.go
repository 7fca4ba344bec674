package antispoof

import (
	"errors"
	"image"
	"math"
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

func TestSquare(t *testing.T) {
	for _, tc := range []struct{ in, want image.Rectangle }{
		{image.Rect(10, 20, 50, 40), image.Rect(10, 10, 50, 50)},  // wide: grows in y
		{image.Rect(10, 20, 30, 80), image.Rect(-10, 20, 50, 80)}, // tall: grows in x
		{image.Rect(0, 0, 7, 7), image.Rect(0, 0, 7, 7)},
	} {
		if got := square(tc.in); got != tc.want {
			t.Errorf("square(%v) = %v, want %v", tc.in, got, tc.want)
		}
	}
}

// TestScoreOf checks how each Output kind reads a network's outputs.
func TestScoreOf(t *testing.T) {
	leaf := func(pred, mask []float32) [][]float32 { return [][]float32{pred, mask} }
	zeros := make([]float32, 8)
	for _, tc := range []struct {
		name string
		spec Spec
		out  [][]float32
		want float64
		bad  bool
	}{
		{"softmax class 0", FRLiveness, [][]float32{{0, 0, 0}}, 1.0 / 3, false},
		{"sigmoid as (p, 1-p), class 0", Spec{Output: Probabilities, Classes: 2, BonaFide: 0}, [][]float32{{0.8}}, 0.8, false},
		{"sigmoid, class 1 (HumanAntispoof)", HumanAntispoof, [][]float32{{0.8}}, 0.2, false},
		{"softmax layer", HumanLiveness, [][]float32{{0.25, 0.75}}, 0.25, false},
		{"probability out of range", HumanLiveness, [][]float32{{1.5, -0.5}}, 0, true},
		{"wrong count", HumanLiveness, [][]float32{{0.1, 0.2, 0.7}}, 0, true},
		// the leaf at index 2 is chosen: |-0.25| → 1/(1+0.25)
		{"leaf score", Expo, leaf([]float32{0.9, 0.9, -0.25, 0.9, 0.9, 0.9, 0.9, 0.9}, []float32{0, 0, 1, 0, 0, 0, 0, 0}), 0.8, false},
		{"leaf score at the package's 0.2", Expo, leaf([]float32{0.2, 0, 0, 0, 0, 0, 0, 0}, []float32{1, 0, 0, 0, 0, 0, 0, 0}), 1 / 1.2, false},
		{"leaf: one output", Expo, [][]float32{zeros}, 0, true},
		{"leaf: NaN", Expo, leaf([]float32{float32(math.NaN()), 0, 0, 0, 0, 0, 0, 0}, []float32{1, 0, 0, 0, 0, 0, 0, 0}), 0, true},
	} {
		got, err := tc.spec.ScoreOf(tc.out)
		if tc.bad {
			if err == nil {
				t.Errorf("%s: %v, want an error", tc.name, got)
			}
			continue
		}
		if err != nil || math.Abs(got-tc.want) > 1e-6 {
			t.Errorf("%s: %v, %v; want %v", tc.name, got, err, tc.want)
		}
	}
}

// TestSpecs opens every candidate network (when its file is provisioned)
// and scores a shared photo: a score in [0, 1], a leaf-score network has
// no class probabilities, and the IDs differ.
func TestSpecs(t *testing.T) {
	ids := map[string]bool{}
	for _, s := range Specs {
		if ids[s.ID()] {
			t.Errorf("duplicate ID %s", s.ID())
		}
		ids[s.ID()] = true
		if got, err := Lookup(s.Name); err != nil || got.File != s.File {
			t.Errorf("Lookup(%q): %v, %v", s.Name, got, err)
		}
	}
	if _, err := Lookup("nope"); err == nil {
		t.Error("Lookup(nope): no error")
	}
	img := gocv.IMRead(filepath.Join(testenv.Faces(t), "obama", "1.jpg"), gocv.IMReadColor)
	if img.Empty() {
		t.Fatal("cannot read the photo")
	}
	defer img.Close()
	box := image.Rect(img.Cols()/3, img.Rows()/4, 2*img.Cols()/3, 3*img.Rows()/4)
	for _, s := range Specs[1:] {
		t.Run(s.Name, func(t *testing.T) {
			n, err := Open(testenv.Models(t, s.File), s)
			if err != nil {
				t.Fatal(err)
			}
			defer n.Close()
			v, err := n.Score(img, box)
			t.Logf("%s: bona fide score %.4f", s.Name, v)
			if err != nil || !(v >= 0 && v <= 1) {
				t.Fatalf("score %v, %v", v, err)
			}
			if _, err := n.Probabilities(img, box); (err != nil) != (s.Output == LeafScore) {
				t.Errorf("Probabilities: %v", err)
			}
		})
	}
}
