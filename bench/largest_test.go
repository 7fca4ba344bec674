package main

import (
	"errors"
	"fmt"
	"image"
	"path/filepath"
	"strings"
	"testing"

	"github.com/facegate/facegate/facematch"
)

// multiExtractor reads "faces X Y W; X Y W; ..." as faces with descriptor
// (X, Y) and a W×W box; anything else goes to fakeExtractor.
type multiExtractor struct{ fakeExtractor }

func (m multiExtractor) Extract(data []byte) ([]facematch.Face, error) {
	s, ok := strings.CutPrefix(string(data), "faces ")
	if !ok {
		return m.fakeExtractor.Extract(data)
	}
	var out []facematch.Face
	for _, f := range strings.Split(s, ";") {
		var x, y float32
		var w int
		if _, err := fmt.Sscanf(strings.TrimSpace(f), "%g %g %d", &x, &y, &w); err != nil {
			return nil, fmt.Errorf("fake: %w: %q", facematch.ErrDecode, f)
		}
		out = append(out, facematch.Face{Box: image.Rect(0, 0, w, w), Descriptor: []float32{x, y}})
	}
	return out, nil
}

func init() {
	backends["fake-multi"] = func(string, int) (*backend, error) {
		return &backend{ex: multiExtractor{}, workers: 2, info: modelInfo(fakeModel)}, nil
	}
}

func TestPickFace(t *testing.T) {
	small := facematch.Face{Box: image.Rect(0, 0, 10, 10), Descriptor: []float32{1}}
	big := facematch.Face{Box: image.Rect(5, 5, 40, 40), Descriptor: []float32{2}}
	tie := facematch.Face{Box: image.Rect(0, 0, 35, 35), Descriptor: []float32{3}}
	for _, tc := range []struct {
		name    string
		faces   []facematch.Face
		largest bool
		want    float32
		decided bool
		err     error
	}{
		{"one", []facematch.Face{small}, false, 1, false, nil},
		{"one, largest", []facematch.Face{small}, true, 1, false, nil},
		{"none, largest", nil, true, 0, false, facematch.ErrNoFace},
		{"two", []facematch.Face{small, big}, false, 0, false, facematch.ErrMultipleFaces},
		{"two, largest", []facematch.Face{small, big}, true, 2, true, nil},
		{"tie keeps the first", []facematch.Face{small, big, tie}, true, 2, true, nil},
	} {
		f, decided, err := pickFace(tc.faces, tc.largest)
		if tc.err != nil {
			if !errors.Is(err, tc.err) {
				t.Errorf("%s: error %v, want %v", tc.name, err, tc.err)
			}
			continue
		}
		if err != nil || decided != tc.decided || f.Descriptor[0] != tc.want {
			t.Errorf("%s: face %v decided %v err %v", tc.name, f.Descriptor, decided, err)
		}
	}
}

func TestAccuracyLargestAndLOIO(t *testing.T) {
	files := map[string]string{
		"a/1.jpg": "face 0 0", "a/2.jpg": "faces 9 9 10; 0 0.1 50",
		"b/1.jpg": "face 3 0", "b/2.jpg": "face 3 0.1",
		"c/1.jpg": "face 0 3", "c/2.jpg": "faces 0 3.1 60; 3 3 20; 7 7 5",
		"d/1.jpg": "face 6 0", "d/2.jpg": "face 6 0.1",
	}
	set := writeSet(t, files)
	for _, largest := range []bool{false, true} {
		out := filepath.Join(t.TempDir(), "out")
		args := []string{"--model", "fake-multi", "--set", set, "--out", out}
		if largest {
			args = append(args, "--largest")
		}
		if err := runAccuracy(args); err != nil {
			t.Fatal(err)
		}
		r := readResults(t, out)
		a := r.Accuracy
		wantFaces, wantSkipped, wantBy := 6, 2, 0
		if largest {
			wantFaces, wantSkipped, wantBy = 8, 0, 2
		}
		if a.Faces != wantFaces || len(a.Skipped) != wantSkipped || len(a.ByLargest) != wantBy || a.Largest != largest {
			t.Errorf("largest=%v: %d faces, skipped %v, by largest %v", largest, a.Faces, a.Skipped, a.ByLargest)
		}
		if largest {
			if a.ByLargest[1].Path != "c/2.jpg" || a.ByLargest[1].Reason != "largest of 3 faces" {
				t.Errorf("by largest %v", a.ByLargest)
			}
			// The largest faces are the right people: every genuine pair
			// at distance 0.1.
			if g := a.Lines[0].Genuine; g.N != 4 || g.Max > 0.11 {
				t.Errorf("genuine pairs %+v, want 4 at 0.1", g)
			}
		}
		// Every identity's pairs are decided in some fold: 4 targets ×
		// policies give lines; each decides every pair once.
		if len(a.LOIO) != 4 {
			t.Fatalf("%d LOIO lines, want 4 (2 targets × 2 policies)", len(a.LOIO))
		}
		for _, l := range a.LOIO {
			if l.Problem != "" {
				t.Errorf("LOIO %+v", l)
				continue
			}
			if l.Genuine != a.Lines[0].Genuine.N || l.Impostor != a.Lines[0].Impostor.N || l.Enough {
				t.Errorf("LOIO %+v: want every pair decided, and too few pairs for the targets", l)
			}
		}
	}
}
