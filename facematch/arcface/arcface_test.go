package arcface

import (
	"bytes"
	"errors"
	"image"
	"image/color"
	"image/jpeg"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/facegate/facegate/facematch"
	"github.com/facegate/facegate/internal/testenv"
)

// fakeLandmarker returns its faces for any input.
type fakeLandmarker struct{ faces []facematch.Face }

func (f fakeLandmarker) Extract([]byte) ([]facematch.Face, error)           { return f.faces, nil }
func (f fakeLandmarker) ExtractImage(image.Image) ([]facematch.Face, error) { return f.faces, nil }

// iBUG68 returns 68 landmarks whose five ArcFace points are the given
// ones: every eye point at its eye centre, nose tip and mouth corners.
func iBUG68(p [5]image.Point) []image.Point {
	lm := make([]image.Point, 68)
	for i := 36; i < 42; i++ {
		lm[i] = p[0]
	}
	for i := 42; i < 48; i++ {
		lm[i] = p[1]
	}
	lm[30], lm[48], lm[54] = p[2], p[3], p[4]
	return lm
}

func TestFivePoints(t *testing.T) {
	tests := []struct {
		name string
		lm   []image.Point
		want [5][2]float64
		err  error
	}{
		{"nil", nil, [5][2]float64{}, ErrLandmarks},
		{"five-point model", make([]image.Point, 5), [5][2]float64{}, ErrLandmarks},
		{"68", iBUG68([5]image.Point{{10, 20}, {30, 20}, {20, 30}, {12, 40}, {28, 41}}),
			[5][2]float64{{10, 20}, {30, 20}, {20, 30}, {12, 40}, {28, 41}}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := FivePoints(tt.lm)
			if !errors.Is(err, tt.err) {
				t.Fatalf("err = %v, want %v", err, tt.err)
			}
			if err == nil && got != tt.want {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
	// eye centres are means of six points
	lm := iBUG68([5]image.Point{})
	for i := 36; i < 42; i++ {
		lm[i] = image.Pt(i-36, 2*(i-36))
	}
	got, err := FivePoints(lm)
	if err != nil || got[0] != [2]float64{2.5, 5} {
		t.Errorf("left eye centre = %v (%v), want [2.5 5]", got[0], err)
	}
}

func TestSimilarity(t *testing.T) {
	apply := func(m [2][3]float64, p [2]float64) [2]float64 {
		return [2]float64{m[0][0]*p[0] + m[0][1]*p[1] + m[0][2], m[1][0]*p[0] + m[1][1]*p[1] + m[1][2]}
	}
	tests := []struct {
		name         string
		scale, angle float64
		tx, ty       float64
	}{
		{"identity", 1, 0, 0, 0},
		{"shift", 1, 0, 7, -3},
		{"scale", 0.25, 0, 0, 0},
		{"rotate", 1, 0.3, 0, 0},
		{"all", 2.5, -1.1, 40, 12},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, b := tt.scale*math.Cos(tt.angle), tt.scale*math.Sin(tt.angle)
			truth := [2][3]float64{{a, -b, tt.tx}, {b, a, tt.ty}}
			var dst [5][2]float64
			for i, p := range template {
				dst[i] = apply(truth, p)
			}
			got := Similarity(template, dst)
			for r := range 2 {
				for c := range 3 {
					if math.Abs(got[r][c]-truth[r][c]) > 1e-9 {
						t.Fatalf("got %v, want %v", got, truth)
					}
				}
			}
		})
	}
	// all points equal: no transform, no NaN
	var same [5][2]float64
	if got := Similarity(same, template); got != ([2][3]float64{}) {
		t.Errorf("degenerate source gave %v, want zero", got)
	}
}

func TestSpecs(t *testing.T) {
	ids := map[string]bool{}
	for _, s := range Specs {
		m := s.Model()
		if m.Metric != facematch.Cosine || m.Dim != s.Dim || m.ID != s.ID() || m.Threshold != s.Threshold {
			t.Errorf("%s: Model() = %+v", s.Name, m)
		}
		if !strings.Contains(m.ID, s.Name) || !strings.Contains(m.ID, s.SHA256[:12]) {
			t.Errorf("%s: ID %q lacks the name or the file hash", s.Name, m.ID)
		}
		if ids[m.ID] {
			t.Errorf("duplicate ID %q", m.ID)
		}
		ids[m.ID] = true
	}
	// another preparation of the same network is another model
	v := FaceRes
	v.Zoom = 1.25
	if v.ID() == FaceRes.ID() {
		t.Errorf("zoom does not change the ID %q", v.ID())
	}
}

func TestOpenErrors(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, FaceRes.File), []byte("not onnx"), 0o600); err != nil {
		t.Fatal(err)
	}
	lm := fakeLandmarker{}
	bad := MobileFace
	bad.Zoom = 0
	tests := []struct {
		name string
		spec Spec
		lm   Landmarker
		is   error
	}{
		{"missing file", MobileFace, lm, fs.ErrNotExist},
		{"wrong checksum", FaceRes, lm, ErrModelFile},
		{"nil landmarker", FaceRes, nil, nil},
		{"zero zoom", bad, lm, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, err := Open(dir, tt.spec, tt.lm, Config{})
			if err == nil {
				e.Close()
				t.Fatal("Open succeeded")
			}
			if tt.is != nil && !errors.Is(err, tt.is) {
				t.Errorf("err = %v, want %v", err, tt.is)
			}
		})
	}
}

// synthetic returns a 200×200 gray-gradient image and landmarks of a
// plausible frontal face in it.
func synthetic() (*image.RGBA, []image.Point) {
	img := image.NewRGBA(image.Rect(0, 0, 200, 200))
	for y := range 200 {
		for x := range 200 {
			img.Set(x, y, color.RGBA{uint8(x), uint8(y), uint8(x + y), 255})
		}
	}
	return img, iBUG68([5]image.Point{{70, 90}, {130, 90}, {100, 120}, {75, 150}, {125, 150}})
}

func TestExtract(t *testing.T) {
	testenv.Model(t, MobileFace.File)
	img, lm := synthetic()
	box := image.Rect(50, 50, 150, 170)
	tests := []struct {
		name  string
		faces []facematch.Face
		n     int
		err   error
	}{
		{"no face", nil, 0, nil},
		{"one face", []facematch.Face{{Box: box, Landmarks: lm}}, 1, nil},
		{"two faces", []facematch.Face{{Box: box, Landmarks: lm}, {Box: box, Landmarks: lm}}, 2, nil},
		{"5 landmarks", []facematch.Face{{Box: box, Landmarks: lm[:5]}}, 0, ErrLandmarks},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, err := Open(testenv.ModelDir(), MobileFace, fakeLandmarker{tt.faces}, Config{})
			if err != nil {
				t.Fatal(err)
			}
			defer e.Close()
			faces, err := e.ExtractImage(img)
			if !errors.Is(err, tt.err) {
				t.Fatalf("err = %v, want %v", err, tt.err)
			}
			if err != nil {
				return
			}
			if len(faces) != tt.n {
				t.Fatalf("%d faces, want %d", len(faces), tt.n)
			}
			for _, f := range faces {
				if f.Box != box || len(f.Descriptor) != MobileFace.Dim {
					t.Fatalf("face %v with %d values", f.Box, len(f.Descriptor))
				}
				var ss float64
				for _, v := range f.Descriptor {
					ss += float64(v) * float64(v)
				}
				if math.Abs(ss-1) > 1e-4 {
					t.Errorf("descriptor norm² %g, want 1", ss)
				}
			}
		})
	}
}

func TestExtractErrors(t *testing.T) {
	testenv.Model(t, MobileFace.File)
	_, lm := synthetic()
	e, err := Open(testenv.ModelDir(), MobileFace, fakeLandmarker{[]facematch.Face{{Landmarks: lm}}}, Config{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.Extract([]byte("not an image")); !errors.Is(err, facematch.ErrDecode) {
		t.Errorf("Extract(junk) err = %v, want ErrDecode", err)
	}
	if _, err := e.ExtractImage(nil); !errors.Is(err, facematch.ErrDecode) {
		t.Errorf("ExtractImage(nil) err = %v, want ErrDecode", err)
	}
	if _, err := e.ExtractImage(image.NewRGBA(image.Rect(5, 5, 50, 50))); err == nil {
		t.Error("ExtractImage of an image not at (0,0) succeeded")
	}
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	if err := e.Close(); !errors.Is(err, facematch.ErrClosed) {
		t.Errorf("second Close err = %v, want ErrClosed", err)
	}
	if _, err := e.Extract(nil); !errors.Is(err, facematch.ErrClosed) {
		t.Errorf("Extract after Close err = %v, want ErrClosed", err)
	}
	if _, err := e.ExtractImage(image.NewRGBA(image.Rect(0, 0, 5, 5))); !errors.Is(err, facematch.ErrClosed) {
		t.Errorf("ExtractImage after Close err = %v, want ErrClosed", err)
	}
}

// TestSameFaceDescriptor checks that the network separates people at all on
// the shared set: for the default preparation of every network except
// mobilefacenet (documented as degenerate), the mean genuine distance is
// below the mean impostor distance in each group.
func TestSameFaceDescriptor(t *testing.T) {
	samples, dl := faceSet(t)
	for _, s := range []Spec{MobileFace, FaceRes, FaceResDeep} {
		desc := descriptors(t, samples, dl, s)
		for _, g := range []string{"east-asian", "other"} {
			var gen, imp float64
			var ng, ni int
			for i := range samples {
				for j := i + 1; j < len(samples); j++ {
					if samples[i].group != g || samples[j].group != g {
						continue
					}
					d := float64(facematch.CosineDistance(desc[i], desc[j]))
					if samples[i].identity == samples[j].identity {
						gen, ng = gen+d, ng+1
					} else {
						imp, ni = imp+d, ni+1
					}
				}
			}
			gen, imp = gen/float64(ng), imp/float64(ni)
			t.Logf("%s %s: mean genuine %.3f (%d), mean impostor %.3f (%d)", s.Name, g, gen, ng, imp, ni)
			if !(gen < imp) {
				t.Errorf("%s %s: mean genuine distance %.3f not below mean impostor %.3f", s.Name, g, gen, imp)
			}
		}
	}
}

func FuzzExtract(f *testing.F) {
	if _, err := os.Stat(filepath.Join(testenv.ModelDir(), MobileFace.File)); err != nil {
		f.Skip("skipped: model " + MobileFace.File + " missing (run `make setup`)")
	}
	f.Add([]byte{})
	f.Add([]byte("\xff\xd8\xff\xe0junk"))
	f.Add([]byte("\x89PNG\r\n\x1a\n"))
	// A decodable photo: without one no seed reaches the alignment and the
	// network, and the fuzzer does not build a JPEG from a header.
	img, lm := synthetic()
	var photo bytes.Buffer
	if err := jpeg.Encode(&photo, img, &jpeg.Options{Quality: 50}); err != nil {
		f.Fatal(err)
	}
	f.Add(photo.Bytes())
	f.Add(photo.Bytes()[:photo.Len()/2])
	e, err := Open(testenv.ModelDir(), MobileFace, fakeLandmarker{[]facematch.Face{{Landmarks: lm}}}, Config{})
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { e.Close() })
	f.Fuzz(func(t *testing.T, data []byte) {
		faces, err := e.Extract(data)
		if err != nil {
			if !errors.Is(err, facematch.ErrDecode) {
				t.Fatalf("err %v does not wrap ErrDecode", err)
			}
			return
		}
		// The landmarker finds one face in anything; only a decode failure
		// may drop it.
		if len(faces) != 1 {
			t.Fatalf("%d faces from an image the landmarker finds one face in", len(faces))
		}
		for _, fc := range faces {
			if len(fc.Descriptor) != MobileFace.Dim {
				t.Fatalf("descriptor of %d values", len(fc.Descriptor))
			}
			var ss float64
			for _, v := range fc.Descriptor {
				ss += float64(v) * float64(v)
			}
			if !(math.Abs(ss-1) <= 1e-4) {
				t.Fatalf("descriptor norm² %g, want 1", ss)
			}
		}
	})
}
