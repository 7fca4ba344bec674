package capture

import (
	"image"
	"image/color"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"testing"

	"gocv.io/x/gocv"

	"github.com/facegate/facegate/facematch"
	"github.com/facegate/facegate/facematch/arcface"
	"github.com/facegate/facegate/facematch/dlib"
	"github.com/facegate/facegate/facematch/faceplugin"
	"github.com/facegate/facegate/internal/faceset"
	"github.com/facegate/facegate/internal/testenv"
)

// FrameW and FrameH are the camera frame size the tests simulate: every
// shared photo is scaled to fit inside it, as a 640×480 gate camera would
// see the scene.
const (
	FrameW = 640
	FrameH = 480
)

var (
	extOnce sync.Once
	ext     *dlib.Extractor
	extErr  error
)

// extractor returns the shared dlib extractor, skipping the test when the
// models are missing (failing under FACEGATE_REQUIRE_MODELS=1).
func extractor(t testing.TB) *dlib.Extractor {
	t.Helper()
	dir := testenv.Models(t, dlib.ModelFiles...)
	extOnce.Do(func() { ext, extErr = dlib.Open(dir, dlib.Config{Workers: 1}) })
	if extErr != nil {
		t.Fatalf("open dlib extractor: %v", extErr)
	}
	return ext
}

var (
	defOnce sync.Once
	defExt  *arcface.Extractor
	defErr  error
)

// defaultExtractor returns the shared extractor of the library's default
// backend (probe.DefaultBackend, "faceplugin+fr_feature": faceplugin's
// detector and landmarks, fr_feature descriptors), built here from its
// parts because package probe imports this one. It skips the test when the
// models are missing (failing under FACEGATE_REQUIRE_MODELS=1).
func defaultExtractor(t testing.TB) *arcface.Extractor {
	t.Helper()
	dir := testenv.Models(t, append(append([]string(nil), faceplugin.ModelFiles...), arcface.FRFeature.File)...)
	defOnce.Do(func() {
		lm, err := faceplugin.Open(dir, faceplugin.Config{Workers: 1})
		if err != nil {
			defErr = err
			return
		}
		if defExt, defErr = arcface.Open(dir, arcface.FRFeature, lm, arcface.Config{Workers: 1}); defErr != nil {
			lm.Close()
		}
	})
	if defErr != nil {
		t.Fatalf("open default extractor: %v", defErr)
	}
	return defExt
}

// backend is one front end and embedder the quality studies run on.
type backend struct {
	name string
	open func(testing.TB) facematch.Extractor
}

// studyBackends are the backends whose quality limits the studies measure:
// dlib, on which the limits were first set, and the library's default.
var studyBackends = []backend{
	{"dlib", func(t testing.TB) facematch.Extractor { return extractor(t) }},
	{"faceplugin+fr_feature", func(t testing.TB) facematch.Extractor { return defaultExtractor(t) }},
}

// photo is one shared face photo.
type photo struct {
	path, identity, group string
}

// groups reads GROUPS.tsv (identity -> east-asian | other).
func groups(t testing.TB, root string) map[string]string {
	t.Helper()
	g, err := faceset.ReadGroups(filepath.Join(root, "GROUPS.tsv"))
	if err != nil {
		t.Fatalf("groups: %v", err)
	}
	return g
}

// photos lists ../shared/testdata/faces/<identity>/<n>.jpg (or .jpeg) in
// name order.
func photos(t testing.TB) []photo {
	t.Helper()
	root := testenv.Faces(t)
	paths, err := filepath.Glob(filepath.Join(root, "*", "*.jp*g"))
	if err != nil || len(paths) == 0 {
		t.Fatalf("no photos in %s: %v", root, err)
	}
	sort.Strings(paths)
	g := groups(t, root)
	ps := make([]photo, len(paths))
	for i, p := range paths {
		id := filepath.Base(filepath.Dir(p))
		ps[i] = photo{path: p, identity: id, group: g[id]}
	}
	return ps
}

// loadFrame reads the image at path and places it in a FrameW×FrameH
// camera frame, as a gate camera sees a scene: scaled to fit, the rest of
// the frame filled by repeating the photo's edge pixels (no artificial
// edge). A photo merely scaled to fit (a square one to 480×480) would not
// have the camera's 4:3 shape, and a detector that resizes its input to
// 4:3 (faceplugin) would see it stretched.
func loadFrame(t testing.TB, path string) gocv.Mat {
	t.Helper()
	m := gocv.IMRead(path, gocv.IMReadColor)
	if m.Empty() {
		t.Fatalf("cannot read %s", path)
	}
	m = fit(m, FrameW, FrameH)
	out := gocv.NewMat()
	l, top := (FrameW-m.Cols())/2, (FrameH-m.Rows())/2
	gocv.CopyMakeBorder(m, &out, top, FrameH-m.Rows()-top, l, FrameW-m.Cols()-l, gocv.BorderReplicate, color.RGBA{})
	wipeMat(&m)
	return out
}

// fit returns m scaled (down or up) to fit w×h, closing m.
func fit(m gocv.Mat, w, h int) gocv.Mat {
	s := min(float64(w)/float64(m.Cols()), float64(h)/float64(m.Rows()))
	out := gocv.NewMat()
	gocv.Resize(m, &out, image.Pt(int(float64(m.Cols())*s+0.5), int(float64(m.Rows())*s+0.5)), 0, 0, gocv.InterpolationArea)
	wipeMat(&m)
	return out
}

// extract runs the extractor on a frame the way a gate does: pixels
// through Image, wiped afterwards.
func extract(t testing.TB, e facematch.Extractor, m gocv.Mat) []facematch.Face {
	t.Helper()
	img, err := Image(m)
	if err != nil {
		t.Fatal(err)
	}
	defer Wipe(img)
	faces, err := e.ExtractImage(img)
	if err != nil {
		t.Fatalf("extract: %v", err)
	}
	return faces
}

func exists(p string) bool { _, err := os.Stat(p); return err == nil }
