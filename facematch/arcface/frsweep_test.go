package arcface

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"testing"

	"gocv.io/x/gocv"

	"github.com/facegate/facegate/bench/metrics"
	"github.com/facegate/facegate/facematch"
	"github.com/facegate/facegate/facematch/dlib"
	"github.com/facegate/facegate/facematch/faceplugin"
	"github.com/facegate/facegate/internal/faceset"
	"github.com/facegate/facegate/internal/testenv"
)

// xs is one photo of a sweep: its identity and group, the decoded image,
// and its largest face as faceplugin's front end ([0]) and dlib's ([1], when
// asked for) found it.
type xs struct {
	id, group string
	img       gocv.Mat
	lm        []facematch.Face // [0]: faceplugin, [1]: dlib (may be empty)
}

// loadSet decodes every photo of the labelled set dir and finds its faces.
func loadSet(t *testing.T, dir string, useDlib bool) []xs {
	groups, err := faceset.ReadGroups(filepath.Join(dir, "GROUPS.tsv"))
	if err != nil {
		t.Fatal(err)
	}
	det, err := faceplugin.Open(testenv.ModelDir(), faceplugin.Config{Workers: 1})
	if err != nil {
		t.Fatal(err)
	}
	var dl *dlib.Extractor
	if useDlib {
		dl, err = dlib.Open(testenv.ModelDir(), dlib.Config{Workers: 1})
		if err != nil {
			t.Fatal(err)
		}
	}
	ids := make([]string, 0)
	for id := range groups {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	var out []xs
	miss, multi, dmiss := 0, 0, 0
	for _, id := range ids {
		files, _ := filepath.Glob(filepath.Join(dir, id, "*.jpg"))
		sort.Strings(files)
		for _, p := range files {
			data, _ := os.ReadFile(p)
			img, err := det.Decode(data)
			if err != nil {
				t.Fatal(err)
			}
			faces, err := det.Find(img)
			if err != nil {
				t.Fatal(err)
			}
			if len(faces) == 0 {
				miss++
				continue
			}
			if len(faces) > 1 {
				multi++
				// keep the largest
				sort.Slice(faces, func(i, j int) bool { return faces[i].Box.Dx() > faces[j].Box.Dx() })
			}
			s := xs{id: id, group: groups[id], img: img, lm: []facematch.Face{faces[0]}}
			if dl != nil {
				df, _ := dl.Extract(data)
				if len(df) == 0 {
					dmiss++
					s.lm = append(s.lm, facematch.Face{})
				} else {
					sort.Slice(df, func(i, j int) bool { return df[i].Box.Dx() > df[j].Box.Dx() })
					s.lm = append(s.lm, df[0])
				}
			}
			out = append(out, s)
		}
	}
	t.Logf("%s: %d photos kept, %d no face, %d multi (largest kept), dlib missed %d", dir, len(out), miss, multi, dmiss)
	return out
}

// score logs EER and TAR at FAR 1 % and 0.1 % per group.
func score(t *testing.T, name string, set []xs, desc [][]float32) {
	scoreBy(t, name, set, func(i, j int) (float32, bool) {
		if desc[i] == nil || desc[j] == nil {
			return 0, false
		}
		return facematch.Cosine.Distance(desc[i], desc[j]), true
	})
}

// scoreBy is score for any pair distance; ok false skips the pair.
func scoreBy(t *testing.T, name string, set []xs, dist func(i, j int) (float32, bool)) {
	for _, g := range []string{"east-asian", "other"} {
		var gen, imp []float32
		for i := range set {
			if set[i].group != g {
				continue
			}
			for j := i + 1; j < len(set); j++ {
				if set[j].group != g {
					continue
				}
				d, ok := dist(i, j)
				if !ok {
					continue
				}
				if set[i].id == set[j].id {
					gen = append(gen, d)
				} else {
					imp = append(imp, d)
				}
			}
		}
		c, _ := metrics.ROC(gen, imp)
		eer, _ := c.EqualErrorRate()
		t1, _ := c.TARAtFAR(0.01)
		t2, _ := c.TARAtFAR(0.001)
		t.Logf("%-40s %-10s gen %5d imp %7d EER %5.2f%% TAR@1%% %6.2f%% (%.3f) TAR@0.1%% %6.2f%% (%.3f)", name, g, len(gen), len(imp), 100*eer.Rate, 100*t1.TAR, t1.Threshold, 100*t2.TAR, t2.Threshold)
	}
}

// TestFRFeaturePreparation is the sweep behind FRFeature's preparation
// (docs/arcface.md): channel order, flip averaging and (FRZOOM=1) crop zoom,
// with faceplugin's landmarks and (FRDLIB=1) dlib's, on the colour set
// (FREXP=faces), LFW (FREXP=lfw) or both (FREXP=all). It only logs; it
// takes minutes, so it runs only when asked.
func TestFRFeaturePreparation(t *testing.T) {
	if os.Getenv("FREXP") == "" {
		t.Skip("a measurement sweep of several minutes: run with FREXP=faces|lfw|all")
	}
	sets := map[string]string{"faces": testenv.Faces(t), "lfw": filepath.Join(testenv.SharedDir(), "testdata", "lfw")}
	for _, sn := range []string{"faces", "lfw"} {
		if os.Getenv("FREXP") != "all" && os.Getenv("FREXP") != sn {
			continue
		}
		set := loadSet(t, sets[sn], os.Getenv("FRDLIB") != "")
		fronts := []int{0}
		if os.Getenv("FRDLIB") != "" {
			fronts = []int{0, 1}
		}
		for _, front := range fronts {
			for _, bgr := range []bool{true, false} {
				for _, flip := range []bool{false, true} {
					for _, zoom := range zooms() {
						s := FRFeature
						s.BGR, s.Flip, s.Zoom = bgr, flip, zoom
						e, err := Open(testenv.ModelDir(), s, fakeLandmarker{}, Config{Workers: 1})
						if err != nil {
							t.Fatal(err)
						}
						desc := make([][]float32, len(set))
						for i, x := range set {
							if len(x.lm[front].Landmarks) != 68 {
								continue
							}
							d, err := e.embed(x.img, x.lm[front].Landmarks)
							if err != nil {
								t.Fatal(err)
							}
							desc[i] = d
						}
						e.Close()
						score(t, sn+[]string{"/fp", "/dlib"}[front]+map[bool]string{true: "/bgr", false: "/rgb"}[bgr]+map[bool]string{true: "/flip", false: ""}[flip]+"/zoom"+map[float32]string{1: "1", 1.1: "1.1"}[zoom], set, desc)
					}
				}
			}
		}
	}
}

// zooms returns the crop zooms of the sweep.
func zooms() []float32 {
	if os.Getenv("FRZOOM") != "" {
		return []float32{1, 1.1}
	}
	return []float32{1}
}

// TestFRFeatureFusion measures score fusion of FRFeature with dlib's
// ResNet: the distance w·cosine(fr_feature) + (1 − w)·euclidean(dlib)/2 for
// several weights, on the colour set (FRFUSE=faces) or LFW (FRFUSE=lfw).
// It only logs.
func TestFRFeatureFusion(t *testing.T) {
	which := os.Getenv("FRFUSE")
	if which == "" {
		t.Skip("a measurement of a minute or more: run with FRFUSE=faces|lfw")
	}
	dir := testenv.Faces(t)
	if which == "lfw" {
		dir = filepath.Join(testenv.SharedDir(), "testdata", "lfw")
	}
	set := loadSet(t, dir, true)
	e, err := Open(testenv.ModelDir(), FRFeature, fakeLandmarker{}, Config{Workers: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	fr := make([][]float32, len(set))
	for i, x := range set {
		if fr[i], err = e.embed(x.img, x.lm[0].Landmarks); err != nil {
			t.Fatal(err)
		}
	}
	for _, w := range []float32{1, 0.9, 0.8, 0.7, 0.5} {
		scoreBy(t, fmt.Sprintf("%s/fusion w=%.1f", which, w), set, func(i, j int) (float32, bool) {
			a, b := set[i].lm[1].Descriptor, set[j].lm[1].Descriptor
			if a == nil || b == nil {
				return 0, false
			}
			return w*facematch.Cosine.Distance(fr[i], fr[j]) + (1-w)*facematch.Euclidean.Distance(a, b)/2, true
		})
	}
}
