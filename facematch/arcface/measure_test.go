package arcface

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"testing"

	"gocv.io/x/gocv"

	"github.com/facegate/facegate/bench/metrics"
	"github.com/facegate/facegate/facematch"
	"github.com/facegate/facegate/facematch/dlib"
	"github.com/facegate/facegate/internal/faceset"
	"github.com/facegate/facegate/internal/testenv"
)

// sample is one photo of the shared face set with dlib's single face.
type sample struct {
	path, identity, group string
	data                  []byte
	face                  facematch.Face // dlib: Box, 68 Landmarks, descriptor
	img                   gocv.Mat       // decoded BGR pixels
}

var (
	setOnce    sync.Once
	setSamples []sample
	setDlib    *dlib.Extractor
	setErr     error
)

// faceSet runs dlib once over ../shared/testdata/faces and keeps, for every
// photo with exactly one face, the face and the decoded image.
func faceSet(t testing.TB) ([]sample, *dlib.Extractor) {
	t.Helper()
	dir := testenv.Faces(t)
	mdir := testenv.Models(t, dlib.ModelFiles...)
	setOnce.Do(func() {
		groups, err := faceset.ReadGroups(filepath.Join(dir, "GROUPS.tsv"))
		if err != nil {
			setErr = err
			return
		}
		setDlib, err = dlib.Open(mdir, dlib.Config{Workers: 1})
		if err != nil {
			setErr = err
			return
		}
		ids := make([]string, 0, len(groups))
		for id := range groups {
			ids = append(ids, id)
		}
		sort.Strings(ids)
		for _, id := range ids {
			files, _ := filepath.Glob(filepath.Join(dir, id, "*.jpg"))
			sort.Strings(files)
			for _, p := range files {
				data, err := os.ReadFile(p)
				if err != nil {
					setErr = err
					return
				}
				faces, err := setDlib.Extract(data)
				if err != nil {
					setErr = fmt.Errorf("%s: %w", p, err)
					return
				}
				f, err := facematch.One(faces)
				if err != nil {
					continue // reported by the caller as skipped photos
				}
				img, err := gocv.IMDecode(data, gocv.IMReadColor|gocv.IMReadIgnoreOrientation)
				if err != nil {
					setErr = err
					return
				}
				setSamples = append(setSamples, sample{path: p, identity: id, group: groups[id], data: data, face: f, img: img})
			}
		}
	})
	if setErr != nil {
		t.Fatal(setErr)
	}
	return setSamples, setDlib
}

// result is one verifier's figures on one group.
type result struct {
	genuine, impostor int
	tar               metrics.AtFAR
	eer               metrics.EER
}

// evaluate computes TAR at FAR = 1 % and the EER per group ("east-asian",
// "other": genuine pairs and impostor pairs with both photos in the group)
// for descriptors desc[i] of samples[i] under metric m.
func evaluate(t testing.TB, samples []sample, desc [][]float32, m facematch.Metric) map[string]result {
	t.Helper()
	out := map[string]result{}
	for _, g := range []string{"east-asian", "other"} {
		var gen, imp []float32
		for i := range samples {
			for j := i + 1; j < len(samples); j++ {
				if samples[i].group != g || samples[j].group != g {
					continue
				}
				d := m.Distance(desc[i], desc[j])
				if samples[i].identity == samples[j].identity {
					gen = append(gen, d)
				} else {
					imp = append(imp, d)
				}
			}
		}
		c, err := metrics.ROC(gen, imp)
		if err != nil {
			t.Fatalf("%s: %v", g, err)
		}
		tar, err := c.TARAtFAR(0.01)
		if err != nil {
			t.Fatal(err)
		}
		eer, err := c.EqualErrorRate()
		if err != nil {
			t.Fatal(err)
		}
		out[g] = result{genuine: len(gen), impostor: len(imp), tar: tar, eer: eer}
	}
	return out
}

// variants are the input preparations measured for each network: the one
// Human feeds, the one of the network's training code, the other channel
// order, and looser crops.
// measured lists the networks TestMeasure measures on the shared set (their
// preparations chosen by its sweep, or, for ExpoMobileFaceNet, read from its
// package's code and checked by the sweep).
var measured = append(append([]Spec(nil), HumanModels...), ExpoMobileFaceNet)

func variants() []Spec {
	type prep struct {
		bgr   bool
		mean  [3]float32
		scale float32
	}
	mid := [3]float32{127.5, 127.5, 127.5}
	preps := map[string][]prep{
		"mobilefacenet": {{false, mid, 1.0 / 128}, {false, [3]float32{}, 1.0 / 255}, {true, mid, 1.0 / 128}},
		"mobileface":    {{false, [3]float32{}, 1}, {true, [3]float32{}, 1}},
		"faceres":       {{false, [3]float32{}, 1}, {true, [3]float32{103.939, 116.779, 123.68}, 1}, {false, mid, 1.0 / 127.5}},
	}
	preps["faceres-deep"] = preps["faceres"]
	preps["expo-mobilefacenet"] = []prep{{false, mid, 1.0 / 128}, {true, mid, 1.0 / 128}}
	var out []Spec
	for _, s := range measured {
		for _, p := range preps[s.Name] {
			for _, z := range []float32{1, 1.25, 1.6} {
				v := s
				v.BGR, v.Mean, v.Scale, v.Zoom = p.bgr, p.mean, p.scale, z
				out = append(out, v)
			}
		}
	}
	return out
}

var (
	descMu    sync.Mutex
	descCache = map[string][][]float32{}
)

// descriptors returns the descriptors of samples computed with spec s,
// computed once per test binary.
func descriptors(t testing.TB, samples []sample, dl *dlib.Extractor, s Spec) [][]float32 {
	t.Helper()
	descMu.Lock()
	defer descMu.Unlock()
	if d, ok := descCache[s.ID()]; ok {
		return d
	}
	testenv.Model(t, s.File)
	e, err := Open(testenv.ModelDir(), s, dl, Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	desc := make([][]float32, len(samples))
	for i := range samples {
		if desc[i], err = e.embed(samples[i].img, samples[i].face.Landmarks); err != nil {
			t.Fatal(err)
		}
	}
	descCache[s.ID()] = desc
	return desc
}

// TestMeasure prints, per group, TAR at FAR = 1 % and the EER of dlib and
// of every network (as its Spec prepares the input) on the shared face set;
// with FACEGATE_ARCFACE_SWEEP=1 also of every input preparation in
// variants(). Run with -v to see the table (docs/arcface.md records it). It
// fails only if a network cannot run.
func TestMeasure(t *testing.T) {
	samples, dl := faceSet(t)
	t.Logf("%d photos with exactly one dlib face", len(samples))
	row := func(name string, r map[string]result) {
		ea, ot := r["east-asian"], r["other"]
		t.Logf("%-72s EA TAR@1%%=%5.1f%% (%d/%d gen, %d imp, thr %.4f) EER=%5.1f%% | other TAR@1%%=%5.1f%% (%d/%d, %d imp) EER=%5.1f%%",
			name, 100*ea.tar.TAR, ea.tar.GenuineAccepted, ea.genuine, ea.impostor, ea.tar.Threshold, 100*ea.eer.Rate,
			100*ot.tar.TAR, ot.tar.GenuineAccepted, ot.genuine, ot.impostor, 100*ot.eer.Rate)
	}
	desc := make([][]float32, len(samples))
	for i := range samples {
		desc[i] = samples[i].face.Descriptor
	}
	row(dl.Model().ID, evaluate(t, samples, desc, facematch.Euclidean))
	specs := measured
	if os.Getenv("FACEGATE_ARCFACE_SWEEP") == "1" {
		specs = variants()
	}
	for _, v := range specs {
		row(v.ID(), evaluate(t, samples, descriptors(t, samples, dl, v), facematch.Cosine))
	}
}
