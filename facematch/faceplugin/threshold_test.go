package faceplugin

import (
	"fmt"
	"image"
	"image/color"
	"os"
	"path/filepath"
	"sort"
	"testing"

	"gocv.io/x/gocv"

	"github.com/facegate/facegate/internal/testenv"
)

// scoreGrid are the detector score thresholds TestScoreThreshold compares
// (the package's own 0.65 first).
var scoreGrid = []float32{0.65, 0.7, 0.75, 0.8, 0.85, 0.9, 0.93, 0.95, 0.97}

// scoredImage is the scores of every box the detector keeps in one image at
// a low threshold, strongest first, and how many faces it shows (-1:
// unknown).
type scoredImage struct {
	name   string
	scores []float32
	want   int
}

// above counts the scores at or over t.
func (s scoredImage) above(t float32) int {
	n := 0
	for _, v := range s.scores {
		if v >= t {
			n++
		}
	}
	return n
}

// cameraFrame places m in a 640×480 camera frame, as a gate camera sees a
// scene: scaled to fit, and the rest of the frame filled by repeating the
// photo's edge pixels (so no artificial edge is added), closing m. The
// detector's input has the camera's 4:3 shape; a square photo merely
// scaled to 480×480 would be stretched by a third on its way in, and
// stretched, biden/2.jpg shows a patch of background scoring 0.90 as a
// face (docs/faceplugin.md).
func cameraFrame(m gocv.Mat) gocv.Mat {
	s := min(640/float64(m.Cols()), 480/float64(m.Rows()))
	fit := gocv.NewMat()
	gocv.Resize(m, &fit, image.Pt(int(float64(m.Cols())*s+0.5), int(float64(m.Rows())*s+0.5)), 0, 0, gocv.InterpolationArea)
	Wipe(&m)
	out := gocv.NewMat()
	l, t := (640-fit.Cols())/2, (480-fit.Rows())/2
	gocv.CopyMakeBorder(fit, &out, t, 480-fit.Rows()-t, l, 640-fit.Cols()-l, gocv.BorderReplicate, color.RGBA{})
	Wipe(&fit)
	return out
}

// scoreImages runs the detector on every file (scaled to a camera frame
// if frame is set) and keeps the scores of its boxes.
func scoreImages(t *testing.T, d *Detector, files []string, want func(string) int, frame bool) []scoredImage {
	t.Helper()
	n := <-d.pool
	defer func() { d.pool <- n }()
	out := make([]scoredImage, 0, len(files))
	for _, f := range files {
		m := gocv.IMRead(f, gocv.IMReadColor)
		if m.Empty() {
			t.Fatalf("cannot read %s", f)
		}
		if frame {
			m = cameraFrame(m)
		}
		boxes, err := d.detect(n.det, m)
		Wipe(&m)
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		s := scoredImage{name: f, want: want(f)}
		for _, b := range boxes {
			s.scores = append(s.scores, b.score)
		}
		out = append(out, s)
	}
	return out
}

// TestScoreThreshold measures, for each detector score threshold of a
// grid, the false and lost faces on the shared photos: the 41 colour
// portraits (one face each) as they are and in a 640×480 camera frame
// (cameraFrame), the group photos (face counts checked by eye, see
// TestGroupPhotos), and the LFW photos (each centred on one face; other
// people at the edges are not counted as false). DefaultMinScore must be
// the smallest threshold of the grid at which no portrait, at either
// scale, shows a second face or loses its own, and every group photo
// shows its count: a second face makes the gate refuse the resident as
// "more than one person", so false boxes cost a real resident entry. The
// LFW losses at that threshold are logged (docs/faceplugin.md). LFW runs
// in full with FACEGATE_MEASURE=1, on every fourth photo otherwise.
func TestScoreThreshold(t *testing.T) {
	dir := testenv.Models(t, ModelFiles...)
	d, err := Open(dir, Config{Workers: 1, MinScore: 0.5})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()

	portraits, _ := filepath.Glob(filepath.Join(testenv.Faces(t), "*", "*.jp*g"))
	if len(portraits) < 40 {
		t.Fatalf("%d photos in the shared colour set, want 41", len(portraits))
	}
	one := func(string) int { return 1 }
	groupWant := map[string]int{"pristin.jpg": 10, "two_people.jpg": 2, "obama_and_biden.jpg": 3, "obama_partial_face.jpg": 1}
	var groups []string
	for f := range groupWant {
		groups = append(groups, filepath.Join(testenv.Group(t), f))
	}
	sort.Strings(groups)
	lfw, _ := filepath.Glob(filepath.Join(testenv.SharedDir(), "testdata", "lfw", "*", "*.jpg"))
	sort.Strings(lfw)
	if os.Getenv("FACEGATE_MEASURE") != "1" {
		var every4 []string
		for i := 0; i < len(lfw); i += 4 {
			every4 = append(every4, lfw[i])
		}
		lfw = every4
	}

	sets := []struct {
		name string
		imgs []scoredImage
		// rule: the set's errors count against a threshold.
		rule bool
	}{
		{"colour portraits, as they are", scoreImages(t, d, portraits, one, false), true},
		{"colour portraits in a 640×480 frame", scoreImages(t, d, portraits, one, true), true},
		{"group photos", scoreImages(t, d, groups, func(f string) int { return groupWant[filepath.Base(f)] }, false), true},
		{"LFW (one face each)", scoreImages(t, d, lfw, one, false), false},
	}
	chosen := float32(-1)
	t.Logf("| threshold | set | images | extra faces | lost faces |")
	t.Logf("|---|---|---|---|---|")
	for _, th := range scoreGrid {
		clean := true
		for _, s := range sets {
			extra, lost := 0, 0
			var examples []string
			for _, im := range s.imgs {
				got := im.above(th)
				switch {
				case got < im.want:
					lost += im.want - got
				case got > im.want && s.rule:
					extra += got - im.want
					examples = append(examples, fmt.Sprintf("%s %v", filepath.Base(filepath.Dir(im.name))+"/"+filepath.Base(im.name), im.scores))
				}
			}
			if s.rule && (extra > 0 || lost > 0) {
				clean = false
			}
			ex := "(not counted)"
			if s.rule {
				ex = fmt.Sprint(extra)
			}
			t.Logf("| %.2f | %s | %d | %s | %d | %v", th, s.name, len(s.imgs), ex, lost, examples)
		}
		if clean && chosen < 0 {
			chosen = th
		}
	}
	if chosen < 0 {
		t.Fatalf("no threshold of %v keeps every portrait at one face and every group count", scoreGrid)
	}
	t.Logf("smallest clean threshold: %.2f; DefaultMinScore %.2f", chosen, DefaultMinScore)
	if chosen != DefaultMinScore {
		t.Errorf("DefaultMinScore = %.2f, but the measurement picks %.2f", DefaultMinScore, chosen)
	}
}
