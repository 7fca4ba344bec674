package dlib_test

import (
	"image"
	"image/color"
	"math"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"testing"

	"github.com/facegate/facegate/facematch/dlib"
	"github.com/facegate/facegate/internal/faceset"
	"github.com/facegate/facegate/internal/testenv"
)

var (
	sharedOnce sync.Once
	sharedExt  *dlib.Extractor
	sharedErr  error
)

// shared returns one 2-recognizer Extractor for the tests that don't close
// it; loading recognizers costs about a second and 100+ MB each.
func shared(t testing.TB) *dlib.Extractor {
	t.Helper()
	dir := testenv.Models(t, dlib.ModelFiles...)
	sharedOnce.Do(func() { sharedExt, sharedErr = dlib.Open(dir, dlib.Config{Workers: 2}) })
	if sharedErr != nil {
		t.Fatalf("Open(%s): %v", dir, sharedErr)
	}
	return sharedExt
}

// readFile reads a shared test file or fails the test.
func readFile(t testing.TB, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// euclidean is the true L2 distance, accumulated in float64.
func euclidean(a, b []float32) float64 {
	var s float64
	for i := range a {
		d := float64(a[i]) - float64(b[i])
		s += d * d
	}
	return math.Sqrt(s)
}

// photo is one labelled photo of ../shared/testdata/faces.
type photo struct {
	path, identity, group string
}

// labelledPhotos lists the shared face set with each identity's group from
// GROUPS.tsv.
func labelledPhotos(t testing.TB) []photo {
	t.Helper()
	dir := testenv.Faces(t)
	groups, err := faceset.ReadGroups(filepath.Join(dir, "GROUPS.tsv"))
	if err != nil {
		t.Fatal(err)
	}
	var photos []photo
	for id, g := range groups {
		files, err := filepath.Glob(filepath.Join(dir, id, "*"))
		if err != nil {
			t.Fatal(err)
		}
		if len(files) == 0 {
			t.Fatalf("GROUPS.tsv names %s but %s has no photo", id, filepath.Join(dir, id))
		}
		for _, p := range files {
			photos = append(photos, photo{path: p, identity: id, group: g})
		}
	}
	sort.Slice(photos, func(i, j int) bool { return photos[i].path < photos[j].path })
	return photos
}

// resize scales src to w×h by averaging the source pixels under each
// destination pixel (good enough to downscale a test photo).
func resize(src image.Image, w, h int) *image.RGBA {
	b := src.Bounds()
	dst := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		y0 := b.Min.Y + y*b.Dy()/h
		y1 := max(b.Min.Y+(y+1)*b.Dy()/h, y0+1)
		for x := 0; x < w; x++ {
			x0 := b.Min.X + x*b.Dx()/w
			x1 := max(b.Min.X+(x+1)*b.Dx()/w, x0+1)
			var r, g, bl, n uint64
			for sy := y0; sy < y1; sy++ {
				for sx := x0; sx < x1; sx++ {
					cr, cg, cb, _ := src.At(sx, sy).RGBA()
					r, g, bl, n = r+uint64(cr), g+uint64(cg), bl+uint64(cb), n+1
				}
			}
			dst.SetRGBA(x, y, color.RGBA{uint8(r / n >> 8), uint8(g / n >> 8), uint8(bl / n >> 8), 255})
		}
	}
	return dst
}

// crop43 returns the largest centred 4:3 region of img.
func crop43(img image.Image) image.Image {
	b := img.Bounds()
	w, h := b.Dx(), b.Dy()
	if w*3 > h*4 {
		w = h * 4 / 3
	} else {
		h = w * 3 / 4
	}
	r := image.Rect(0, 0, w, h).Add(b.Min).Add(image.Pt((b.Dx()-w)/2, (b.Dy()-h)/2))
	return img.(interface {
		SubImage(image.Rectangle) image.Image
	}).SubImage(r)
}
