package dlibconv_test

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/facegate/facegate/internal/faceset"
	"github.com/facegate/facegate/internal/testenv"
)

const (
	recognitionModel = "dlib_face_recognition_resnet_model_v1.dat"
	landmarksModel   = "shape_predictor_5_face_landmarks.dat"
	// minCosine is the agreement issue 2 requires between the converted
	// network and face-api's own on the same chip.
	minCosine = 0.999
)

// fail skips the test with msg, or fails it when make test requires every
// resource (FACEGATE_REQUIRE_MODELS=1).
func fail(t testing.TB, msg string, args ...any) {
	t.Helper()
	if testenv.Required() {
		t.Fatalf(msg, args...)
	}
	t.Skipf("skipped: "+msg, args...)
}

// converter returns the path of the dlibconv binary, built by
// scripts/dlibconv.sh when missing or out of date.
func converter(t testing.TB) string {
	t.Helper()
	cmd := exec.Command("bash", filepath.Join(testenv.Root(), "scripts", "dlibconv.sh"))
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		fail(t, "cannot build tools/dlibconv (run make setup): %v: %s", err, strings.TrimSpace(stderr.String()))
	}
	return strings.TrimSpace(string(out))
}

// faceAPI returns tools/faceapi's installed copy of @vladmandic/face-api.
func faceAPI(t testing.TB) string {
	t.Helper()
	dir := filepath.Join(testenv.Root(), "tools", "faceapi", "node_modules", "@vladmandic", "face-api")
	if _, err := os.Stat(filepath.Join(dir, "dist", "face-api.js")); err != nil {
		fail(t, "face-api is not installed in tools/faceapi (run make setup): %v", err)
	}
	return dir
}

// run runs a command and returns its stdout, failing the test with its
// stderr when it fails.
func run(t *testing.T, name string, args ...string) []byte {
	t.Helper()
	cmd := exec.Command(name, args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%s %s: %v: %s", filepath.Base(name), args[0], err, strings.TrimSpace(stderr.String()))
	}
	return out
}

// descriptors parses one descriptor per line of 128 numbers.
func descriptors(t *testing.T, who string, out []byte) [][]float64 {
	t.Helper()
	var ds [][]float64
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(make([]byte, 64<<10), 64<<10)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) != 128 {
			t.Fatalf("%s: descriptor %d has %d values, want 128", who, len(ds), len(f))
		}
		d := make([]float64, len(f))
		for i, s := range f {
			v, err := strconv.ParseFloat(s, 64)
			if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
				t.Fatalf("%s: descriptor %d value %d is %q", who, len(ds), i, s)
			}
			d[i] = v
		}
		ds = append(ds, d)
	}
	return ds
}

func cosine(a, b []float64) float64 {
	var ab, aa, bb float64
	for i := range a {
		ab += a[i] * b[i]
		aa += a[i] * a[i]
		bb += b[i] * b[i]
	}
	return ab / math.Sqrt(aa*bb)
}

func euclidean(a, b []float64) float64 {
	var s float64
	for i := range a {
		d := a[i] - b[i]
		s += d * d
	}
	return math.Sqrt(s)
}

// groups reads GROUPS.tsv: identity -> east-asian | other.
func groups(t *testing.T, faces string) map[string]string {
	t.Helper()
	g, err := faceset.ReadGroups(filepath.Join(faces, "GROUPS.tsv"))
	if err != nil {
		t.Fatal(err)
	}
	return g
}

// firstPhotos returns the first photo (by name) of every identity in faces:
// both groups, every face once, at a cost the shared CPUs can afford (face-api
// on TF.js's pure-JS backend takes about 0.5 s per chip).
func firstPhotos(t *testing.T, faces string) []string {
	t.Helper()
	dirs, err := os.ReadDir(faces)
	if err != nil {
		t.Fatal(err)
	}
	var photos []string
	for _, d := range dirs {
		if !d.IsDir() {
			continue
		}
		files, err := os.ReadDir(filepath.Join(faces, d.Name()))
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, f := range files {
			switch strings.ToLower(filepath.Ext(f.Name())) {
			case ".jpg", ".jpeg", ".png":
				names = append(names, f.Name())
			}
		}
		if len(names) > 0 {
			sort.Strings(names)
			photos = append(photos, filepath.Join(faces, d.Name(), names[0]))
		}
	}
	if len(photos) == 0 {
		t.Fatalf("no photos in %s", faces)
	}
	return photos
}

// TestConversionMatchesFaceAPI feeds the same aligned chips to the converted
// dlib network and to face-api's network in Node and compares descriptors.
func TestConversionMatchesFaceAPI(t *testing.T) {
	node, err := exec.LookPath("node")
	if err != nil {
		t.Skip("skipped: node not found on PATH; the conversion test needs Node.js (scripts/deps.sh installs nodejs)")
	}
	models := testenv.Models(t, recognitionModel, landmarksModel)
	faces := testenv.Faces(t)
	faceAPI(t)
	conv := converter(t)
	group := groups(t, faces)

	photos := firstPhotos(t, faces)
	tmp := t.TempDir()
	args := []string{"chip", filepath.Join(models, landmarksModel)}
	chips := make([]string, len(photos))
	for i, p := range photos {
		chips[i] = filepath.Join(tmp, fmt.Sprintf("%02d.raw", i))
		args = append(args, p, chips[i])
	}
	run(t, conv, args...)

	dlib := descriptors(t, "dlibconv embed", run(t, conv, append([]string{"embed", filepath.Join(models, recognitionModel)}, chips...)...))
	js := descriptors(t, "face-api", run(t, node, append([]string{filepath.Join(testenv.Root(), "tools", "faceapi", "descriptor.cjs")}, chips...)...))
	if len(dlib) != len(photos) || len(js) != len(photos) {
		t.Fatalf("got %d dlib and %d face-api descriptors for %d chips", len(dlib), len(js), len(photos))
	}

	type stat struct {
		n             int
		minCos, maxL2 float64
		worst         string
	}
	stats := map[string]*stat{}
	for i, p := range photos {
		rel, _ := filepath.Rel(faces, p)
		id := filepath.Dir(rel)
		g := group[id]
		if g == "" {
			g = "ungrouped"
		}
		c, l2 := cosine(dlib[i], js[i]), euclidean(dlib[i], js[i])
		t.Logf("%-28s %-10s cosine %.9f  L2 %.6f", rel, g, c, l2)
		if c < minCosine {
			t.Errorf("%s: cosine %.9f between dlib and face-api descriptors, want >= %g", rel, c, minCosine)
		}
		s := stats[g]
		if s == nil {
			s = &stat{minCos: 2}
			stats[g] = s
		}
		s.n++
		if c < s.minCos {
			s.minCos, s.worst = c, rel
		}
		s.maxL2 = math.Max(s.maxL2, l2)
	}
	// Control: descriptors of different faces must not pass the same bar, or
	// the check above would prove nothing.
	var maxCross float64
	for i := range dlib {
		j := (i + 1) % len(js)
		c := cosine(dlib[i], js[j])
		if c >= minCosine {
			t.Errorf("control: cosine %.6f between %s (dlib) and %s (face-api) passes the %g bar", c, photos[i], photos[j], minCosine)
		}
		maxCross = math.Max(maxCross, c)
	}
	t.Logf("control: max cosine between different photos %.6f", maxCross)
	for _, g := range []string{"east-asian", "other", "ungrouped"} {
		if s := stats[g]; s != nil {
			t.Logf("group %-10s %2d chips: min cosine %.9f (%s), max L2 %.6f", g, s.n, s.minCos, s.worst, s.maxL2)
		}
	}
}

// pinnedSum returns the sha256 that scripts/models.sha256 pins for name.
func pinnedSum(t *testing.T, name string) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(testenv.Root(), "scripts", "models.sha256"))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(data), "\n") {
		if f := strings.Fields(line); len(f) == 2 && f[1] == name {
			return f[0]
		}
	}
	t.Fatalf("scripts/models.sha256 pins no %s", name)
	return ""
}

func fileSum(t *testing.T, path string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	s := sha256.Sum256(data)
	return hex.EncodeToString(s[:])
}

// TestConvertReproducible converts face-api's weights twice and requires
// both outputs to be the pinned file, byte for byte.
func TestConvertReproducible(t *testing.T) {
	manifest := filepath.Join(faceAPI(t), "model", "face_recognition_model-weights_manifest.json")
	conv := converter(t)
	want := pinnedSum(t, recognitionModel)
	tmp := t.TempDir()
	for i := range 2 {
		out := filepath.Join(tmp, fmt.Sprintf("%d.dat", i))
		run(t, conv, "convert", manifest, out)
		if got := fileSum(t, out); got != want {
			t.Fatalf("conversion %d: sha256 %s, want %s (pinned in scripts/models.sha256 for dlib 19.24)", i, got, want)
		}
	}
}

// TestConvertRejectsBadManifests checks that damaged weights give one
// "dlibconv:" error line, exit status 1 and no output file.
func TestConvertRejectsBadManifests(t *testing.T) {
	src := filepath.Join(faceAPI(t), "model")
	conv := converter(t)
	manifest, err := os.ReadFile(filepath.Join(src, "face_recognition_model-weights_manifest.json"))
	if err != nil {
		t.Fatal(err)
	}
	bin, err := os.ReadFile(filepath.Join(src, "face_recognition_model.bin"))
	if err != nil {
		t.Fatal(err)
	}
	var groups []map[string]any
	if err := json.Unmarshal(manifest, &groups); err != nil {
		t.Fatal(err)
	}
	// edit returns the manifest with f applied to its weight list.
	edit := func(f func(ws []any) []any) []byte {
		var g []map[string]any
		if err := json.Unmarshal(manifest, &g); err != nil {
			t.Fatal(err)
		}
		g[0]["weights"] = f(g[0]["weights"].([]any))
		out, err := json.Marshal(g)
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	tests := []struct {
		name     string
		manifest []byte
		bin      []byte
		want     string // in the error line
	}{
		{"not JSON", []byte("[{\"paths\": "), bin, "not valid JSON"},
		{"empty array", []byte("[]"), bin, "non-empty array"},
		{"bin truncated", manifest, bin[:len(bin)-1], "ends early"},
		{"bin too long", manifest, append(append([]byte{}, bin...), 0), "unused bytes"},
		{"missing bin", []byte(strings.Replace(string(manifest), "face_recognition_model.bin", "nothere.bin", 1)), bin, "cannot open"},
		{"path escapes", []byte(strings.Replace(string(manifest), "face_recognition_model.bin", "../x.bin", 1)), bin, "bad shard path"},
		{"tensor dropped", edit(func(ws []any) []any { return ws[:len(ws)-1] }), bin[:len(bin)-256*128], "too few tensors"},
		{"tensors swapped", edit(func(ws []any) []any { ws[0], ws[1] = ws[1], ws[0]; return ws }), bin, "want a name ending in /filters"},
		{"wrong shape", edit(func(ws []any) []any {
			ws[0].(map[string]any)["shape"] = []any{7, 7, 32, 3}
			return ws
		}), bin, "does not fit the network"},
		{"unknown dtype", edit(func(ws []any) []any {
			ws[1].(map[string]any)["dtype"] = "int32"
			return ws
		}), bin, "unsupported dtype"},
		{"int16 quantization", edit(func(ws []any) []any {
			ws[1].(map[string]any)["quantization"].(map[string]any)["dtype"] = "uint16"
			return ws
		}), bin, "unsupported quantization"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			mpath := filepath.Join(dir, "m.json")
			if err := os.WriteFile(mpath, tt.manifest, 0o644); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(dir, "face_recognition_model.bin"), tt.bin, 0o644); err != nil {
				t.Fatal(err)
			}
			out := filepath.Join(dir, "out.dat")
			cmd := exec.Command(conv, "convert", mpath, out)
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			err := cmd.Run()
			var ee *exec.ExitError
			if !errors.As(err, &ee) || ee.ExitCode() != 1 {
				t.Fatalf("exit: %v, want status 1; stderr: %s", err, stderr.String())
			}
			msg := strings.TrimSpace(stderr.String())
			if strings.Count(msg, "\n") != 0 || !strings.HasPrefix(msg, "dlibconv: ") || !strings.Contains(msg, tt.want) {
				t.Errorf("stderr %q, want one line \"dlibconv: ...%s...\"", msg, tt.want)
			}
			if _, err := os.Stat(out); !os.IsNotExist(err) {
				t.Errorf("output file exists after a failed conversion (stat: %v)", err)
			}
			if _, err := os.Stat(out + ".tmp"); !os.IsNotExist(err) {
				t.Errorf("temporary file left behind (stat: %v)", err)
			}
		})
	}
}
