package dlib_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"image"
	"image/color"
	"image/draw"
	"image/jpeg"
	"image/png"
	"io/fs"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	face "github.com/Kagami/go-face"

	"github.com/facegate/facegate/facematch"
	"github.com/facegate/facegate/facematch/dlib"
	"github.com/facegate/facegate/internal/testenv"
)

func TestOpenErrors(t *testing.T) {
	empty := t.TempDir()
	_, err := dlib.Open(empty, dlib.Config{Workers: 1})
	if !errors.Is(err, fs.ErrNotExist) || !strings.Contains(err.Error(), dlib.RecognitionModelFile) {
		t.Errorf("Open(empty dir) = %v, want fs.ErrNotExist naming %s", err, dlib.RecognitionModelFile)
	}

	junk := t.TempDir()
	for _, name := range dlib.ModelFiles {
		if err := os.WriteFile(filepath.Join(junk, name), []byte("not a dlib model"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	_, err = dlib.Open(junk, dlib.Config{Workers: 1})
	var se face.SerializationError
	if !errors.As(err, &se) {
		t.Errorf("Open(junk models) = %v, want a face.SerializationError", err)
	}

	if _, err := dlib.Open(empty, dlib.Config{Workers: -1}); err == nil || !strings.Contains(err.Error(), "Workers") {
		t.Errorf("Open(Workers: -1) = %v, want an error naming Workers", err)
	}
}

func TestModel(t *testing.T) {
	e := shared(t)
	m := e.Model()
	want := facematch.Model{ID: dlib.FaceAPIModelID, Dim: 128, Metric: facematch.Euclidean, Threshold: dlib.Threshold}
	if m != want {
		t.Errorf("Model() = %+v, want %+v (is %s the converted face-api model?)", m, want, dlib.RecognitionModelFile)
	}
	if e.Workers() != 2 {
		t.Errorf("Workers() = %d, want 2", e.Workers())
	}
}

// encodePNG, encodeJPEG and gray re-encode test images in memory.
func encodePNG(t testing.TB, img image.Image) []byte {
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func encodeJPEG(t testing.TB, img image.Image, q int) []byte {
	var b bytes.Buffer
	if err := jpeg.Encode(&b, img, &jpeg.Options{Quality: q}); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func decode(t testing.TB, data []byte) image.Image {
	img, _, err := image.Decode(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	return img
}

func gray(img image.Image) *image.Gray {
	g := image.NewGray(img.Bounds())
	draw.Draw(g, g.Bounds(), img, img.Bounds().Min, draw.Src)
	return g
}

// hugePNG returns a valid tiny PNG whose header claims 100000×100000 pixels.
func hugePNG(t testing.TB) []byte {
	b := encodePNG(t, image.NewGray(image.Rect(0, 0, 1, 1)))
	// 8-byte signature, then the IHDR chunk: length(4) "IHDR" width height ... crc.
	binary.BigEndian.PutUint32(b[16:], 100000)
	binary.BigEndian.PutUint32(b[20:], 100000)
	binary.BigEndian.PutUint32(b[29:], crc32.ChecksumIEEE(b[12:29]))
	return b
}

// hugeJPEG returns jpg (without thumbnails) with its frame header claiming
// 60000×60000 pixels.
func hugeJPEG(t testing.TB, jpg []byte) []byte {
	b := append([]byte{}, jpg...)
	for i := 2; i+9 < len(b); i++ {
		if b[i] == 0xFF && (b[i+1] == 0xC0 || b[i+1] == 0xC2) {
			binary.BigEndian.PutUint16(b[i+5:], 60000)
			binary.BigEndian.PutUint16(b[i+7:], 60000)
			return b
		}
	}
	t.Fatal("no SOF marker in the JPEG")
	return nil
}

// checkFace checks the shape of one returned face.
func checkFace(t *testing.T, f facematch.Face, bounds image.Rectangle) {
	t.Helper()
	if len(f.Descriptor) != dlib.Dim {
		t.Errorf("descriptor length %d, want %d", len(f.Descriptor), dlib.Dim)
	}
	var norm float64
	for _, v := range f.Descriptor {
		if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
			t.Fatalf("descriptor holds %v", v)
		}
		norm += float64(v) * float64(v)
	}
	if norm == 0 {
		t.Error("descriptor is all zero")
	}
	if f.Box.Empty() || !f.Box.Overlaps(bounds) {
		t.Errorf("box %v empty or outside the image %v", f.Box, bounds)
	}
	if len(f.Landmarks) != 68 {
		t.Errorf("%d landmarks, want 68", len(f.Landmarks))
	}
	// Landmarks lie around the detection box (the jaw may stick out a bit).
	grown := f.Box.Inset(-f.Box.Dx() / 2)
	for _, p := range f.Landmarks {
		if !p.In(grown) {
			t.Errorf("landmark %v far outside the box %v", p, f.Box)
			break
		}
	}
}

// TestExtractInputs runs Extract on good and bad inputs of every kind.
func TestExtractInputs(t *testing.T) {
	e := shared(t)
	faces := testenv.Faces(t)
	group := testenv.Group(t)
	obama := readFile(t, filepath.Join(faces, "obama", "5.jpg")) // 853×480
	obamaImg := decode(t, obama)
	rnd := rand.New(rand.NewPCG(1, 2))
	random := make([]byte, 4096)
	for i := range random {
		random[i] = byte(rnd.Uint32())
	}
	// A JPEG whose entropy-coded data is cut off in the middle.
	truncated := obama[:len(obama)/2]
	// A JPEG header followed by garbage.
	corrupt := append(append([]byte{}, obama[:600]...), random...)
	flat := image.NewGray(image.Rect(0, 0, 640, 480))
	for i := range flat.Pix {
		flat.Pix[i] = 128
	}

	tests := []struct {
		name      string
		data      []byte
		wantErr   error // nil: success with wantFaces faces
		wantFaces int
	}{
		{"empty", nil, facematch.ErrDecode, 0},
		{"random bytes", random, facematch.ErrDecode, 0},
		{"JPEG magic then random", append([]byte{0xFF, 0xD8, 0xFF}, random...), facematch.ErrDecode, 0},
		{"truncated JPEG", truncated, facematch.ErrDecode, 0},
		{"corrupt JPEG", corrupt, facematch.ErrDecode, 0},
		{"PNG magic only", []byte("\x89PNG\r\n\x1a\n"), facematch.ErrDecode, 0},
		{"text", []byte("hello, gate"), facematch.ErrDecode, 0},
		{"PNG header claims 100000x100000", hugePNG(t), dlib.ErrTooLarge, 0},
		{"JPEG header claims 60000x60000", hugeJPEG(t, encodeJPEG(t, resize(obamaImg, 64, 80), 90)), dlib.ErrTooLarge, 0},
		{"JPEG one face", obama, nil, 1},
		{"PNG one face", encodePNG(t, obamaImg), nil, 1},
		{"grayscale JPEG one face", encodeJPEG(t, gray(obamaImg), 95), nil, 1},
		{"grayscale PNG one face", encodePNG(t, gray(obamaImg)), nil, 1},
		{"flat gray PNG no face", encodePNG(t, flat), nil, 0},
		{"flat gray JPEG no face", encodeJPEG(t, flat, 90), nil, 0},
		{"two people", readFile(t, filepath.Join(group, "two_people.jpg")), nil, 2},
		// Three, not two: a child stands in the lower right, face visible
		// (checked by eye; the shared README says two).
		{"obama and biden", readFile(t, filepath.Join(group, "obama_and_biden.jpg")), nil, 3},
		{"ten faces", readFile(t, filepath.Join(group, "pristin.jpg")), nil, 10},
		{"partial face", readFile(t, filepath.Join(group, "obama_partial_face.jpg")), nil, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := e.Extract(tt.data)
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) || !errors.Is(err, facematch.ErrDecode) {
					t.Fatalf("Extract = %d faces, %v; want error %v wrapping ErrDecode", len(got), err, tt.wantErr)
				}
				if _, err1 := e.ExtractOne(tt.data); !errors.Is(err1, tt.wantErr) {
					t.Errorf("ExtractOne error %v, want %v", err1, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("Extract: %v", err)
			}
			if len(got) != tt.wantFaces {
				t.Fatalf("Extract found %d faces, want %d", len(got), tt.wantFaces)
			}
			cfg, _, err := image.DecodeConfig(bytes.NewReader(tt.data))
			if err != nil {
				t.Fatal(err)
			}
			for _, f := range got {
				checkFace(t, f, image.Rect(0, 0, cfg.Width, cfg.Height))
			}
			for i := 1; i < len(got); i++ {
				if got[i].Box.Min.X < got[i-1].Box.Min.X {
					t.Errorf("faces not sorted left to right: %v before %v", got[i-1].Box, got[i].Box)
				}
			}

			one, err := e.ExtractOne(tt.data)
			switch tt.wantFaces {
			case 0:
				if !errors.Is(err, facematch.ErrNoFace) {
					t.Errorf("ExtractOne error %v, want ErrNoFace", err)
				}
			case 1:
				if err != nil || euclidean(one.Descriptor, got[0].Descriptor) > 1e-4 {
					t.Errorf("ExtractOne = %v, distance to Extract's face %.4g", err, euclidean(one.Descriptor, got[0].Descriptor))
				}
			default:
				var me *facematch.MultipleFacesError
				if !errors.As(err, &me) || me.N != tt.wantFaces || !errors.Is(err, facematch.ErrMultipleFaces) {
					t.Errorf("ExtractOne error %v, want *MultipleFacesError{N: %d}", err, tt.wantFaces)
				}
			}
		})
	}
}

// TestExtractImage checks decoded images: kinds of image.Image, nil and
// empty images, and a sub-image whose origin is not (0, 0).
func TestExtractImage(t *testing.T) {
	e := shared(t)
	data := readFile(t, filepath.Join(testenv.Group(t), "two_people.jpg"))
	img := decode(t, data)
	full, err := e.ExtractImage(img)
	if err != nil || len(full) != 2 {
		t.Fatalf("ExtractImage(two_people) = %d faces, %v; want 2", len(full), err)
	}

	rgba := image.NewRGBA(img.Bounds())
	draw.Draw(rgba, rgba.Bounds(), img, img.Bounds().Min, draw.Src)
	nrgba := image.NewNRGBA(img.Bounds())
	draw.Draw(nrgba, nrgba.Bounds(), img, img.Bounds().Min, draw.Src)
	g16 := image.NewGray16(img.Bounds())
	draw.Draw(g16, g16.Bounds(), img, img.Bounds().Min, draw.Src)
	for _, tt := range []struct {
		name string
		img  image.Image
	}{
		{"YCbCr", img}, {"RGBA", rgba}, {"NRGBA", nrgba}, {"Gray", gray(img)}, {"Gray16", g16},
	} {
		before := pixels(tt.img)
		got, err := e.ExtractImage(tt.img)
		if !bytes.Equal(pixels(tt.img), before) {
			t.Errorf("%s: ExtractImage changed the caller's image", tt.name)
		}
		if err != nil || len(got) != 2 {
			t.Errorf("%s: %d faces, %v; want 2", tt.name, len(got), err)
			continue
		}
		for _, f := range got {
			checkFace(t, f, img.Bounds())
		}
	}

	// The right face alone, as a sub-image: its box must be reported in the
	// original image's coordinates.
	right := full[1].Box
	crop := right.Inset(-right.Dx()).Intersect(img.Bounds())
	sub := rgba.SubImage(crop)
	got, err := e.ExtractImage(sub)
	if err != nil || len(got) != 1 {
		t.Fatalf("ExtractImage(sub-image %v) = %d faces, %v; want 1", crop, len(got), err)
	}
	if inter := got[0].Box.Intersect(right); inter.Dx()*inter.Dy() < right.Dx()*right.Dy()/2 {
		t.Errorf("sub-image face box %v, want near %v in the full image's coordinates", got[0].Box, right)
	}
	checkFace(t, got[0], crop)

	for _, tt := range []struct {
		name string
		img  image.Image
	}{
		{"nil", nil},
		{"empty", image.NewRGBA(image.Rect(0, 0, 0, 0))},
		{"empty sub-image", rgba.SubImage(image.Rect(5, 5, 5, 9))},
	} {
		if _, err := e.ExtractImage(tt.img); !errors.Is(err, facematch.ErrDecode) {
			t.Errorf("ExtractImage(%s) error %v, want ErrDecode", tt.name, err)
		}
	}
}

// pixels returns a copy of img's colours, to tell whether it changed.
func pixels(img image.Image) []byte {
	b := img.Bounds()
	var out []byte
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			r, g, bl, a := img.At(x, y).RGBA()
			out = append(out, byte(r>>8), byte(g>>8), byte(bl>>8), byte(a>>8))
		}
	}
	return out
}

// TestReencodeDrift measures how far the in-memory JPEG round trip of
// ExtractImage moves descriptors: each photo's face through go-face's own
// JPEG decoding (A) versus decoded by Go and re-encoded at JPEGQuality (B).
// As a baseline in the same run it measures how far imperceptible noise
// moves the same face: B versus B with the red channel of every 97th pixel
// raised by one level (N). It uses the shared photos up to frame size
// (1920×1080), reports both and how many pair decisions among the photos
// flip, and requires every photo to still match itself at Threshold and
// the mean re-encode drift to stay within twice the noise baseline.
func TestReencodeDrift(t *testing.T) {
	if testing.Short() {
		t.Skip("skipped in -short mode: decodes and re-encodes 27 photos (about 30 s)")
	}
	e := shared(t)
	var direct, via [][]float32
	var sum, noiseSum, worst float64
	var worstPath string
	for _, p := range labelledPhotos(t) {
		data := readFile(t, p.path)
		if cfg, _, err := image.DecodeConfig(bytes.NewReader(data)); err != nil || cfg.Width*cfg.Height > 1920*1080 {
			continue
		}
		a, err := e.ExtractOne(data)
		if err != nil {
			continue // photos with several faces are not this test's concern
		}
		img := decode(t, data)
		b, err := e.ExtractImage(img)
		if err != nil || len(b) != 1 {
			t.Errorf("%s: ExtractImage = %d faces, %v; Extract found one", p.path, len(b), err)
			continue
		}
		noisy := image.NewRGBA(img.Bounds())
		draw.Draw(noisy, noisy.Bounds(), img, img.Bounds().Min, draw.Src)
		for i := 0; i < len(noisy.Pix); i += 4 * 97 {
			if noisy.Pix[i] < 255 {
				noisy.Pix[i]++
			}
		}
		n, err := e.ExtractImage(noisy)
		if err != nil || len(n) != 1 {
			t.Errorf("%s with noise: ExtractImage = %d faces, %v; want one", p.path, len(n), err)
			continue
		}
		d := euclidean(a.Descriptor, b[0].Descriptor)
		if d > dlib.Threshold {
			t.Errorf("%s: re-encoded face at %.3f from the original, over the threshold %v", p.path, d, dlib.Threshold)
		}
		if d > worst {
			worst, worstPath = d, p.path
		}
		sum += d
		noiseSum += euclidean(b[0].Descriptor, n[0].Descriptor)
		direct = append(direct, a.Descriptor)
		via = append(via, b[0].Descriptor)
	}
	if len(direct) == 0 {
		t.Fatal("no photo with exactly one face")
	}
	flips, pairs := 0, 0
	for i := range direct {
		for j := i + 1; j < len(direct); j++ {
			pairs++
			if (euclidean(direct[i], direct[j]) <= dlib.Threshold) != (euclidean(via[i], via[j]) <= dlib.Threshold) {
				flips++
			}
		}
	}
	n := float64(len(direct))
	t.Logf("JPEG re-encode at quality %d moved descriptors by mean %.4f, max %.4f (%s) over %d photos; imperceptible noise moved them by mean %.4f; %d of %d pair decisions at %v flipped",
		dlib.JPEGQuality, sum/n, worst, worstPath, len(direct), noiseSum/n, flips, pairs, dlib.Threshold)
	if sum > 2*noiseSum {
		t.Errorf("re-encoding moves descriptors by %.4f on average, more than twice imperceptible noise (%.4f)", sum/n, noiseSum/n)
	}
}

// TestConcurrent runs many extractions at once (run it with -race) and
// checks each result against a serial run.
func TestConcurrent(t *testing.T) {
	e := shared(t)
	dir := testenv.Faces(t)
	inputs := [][]byte{
		readFile(t, filepath.Join(dir, "obama", "5.jpg")),
		readFile(t, filepath.Join(dir, "obama", "6.jpg")),
		readFile(t, filepath.Join(dir, "kit_harington", "2.jpeg")),
		readFile(t, filepath.Join(dir, "tzuyu", "1.jpg")),
	}
	want := make([]facematch.Face, len(inputs))
	for i, in := range inputs {
		f, err := e.ExtractOne(in)
		if err != nil {
			t.Fatal(err)
		}
		want[i] = f
	}
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for g := 0; g < 6; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for k := 0; k < 2*len(inputs); k++ {
				i := (g + k) % len(inputs)
				f, err := e.ExtractOne(inputs[i])
				if err != nil {
					errs <- err
					return
				}
				if d := euclidean(f.Descriptor, want[i].Descriptor); d > 1e-4 || f.Box != want[i].Box {
					errs <- errors.New("concurrent result differs from the serial one")
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// TestClose closes an Extractor while goroutines use it: every call ends
// with a result or ErrClosed, and later calls return ErrClosed.
func TestClose(t *testing.T) {
	dir := testenv.Models(t, dlib.ModelFiles...)
	data := readFile(t, filepath.Join(testenv.Faces(t), "obama", "6.jpg"))
	e, err := dlib.Open(dir, dlib.Config{Workers: 2})
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	var ok, closed int
	started := make(chan struct{}, 4)
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				_, err := e.ExtractOne(data)
				if i == 0 {
					started <- struct{}{}
				}
				mu.Lock()
				switch {
				case err == nil:
					ok++
				case errors.Is(err, facematch.ErrClosed):
					closed++
				default:
					t.Errorf("during Close: %v", err)
				}
				mu.Unlock()
				if err != nil {
					return
				}
			}
		}()
	}
	for range 4 {
		<-started
	}
	if err := e.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	wg.Wait()
	if ok < 4 || closed != 4 {
		t.Errorf("%d successful and %d ErrClosed calls, want >= 4 and 4", ok, closed)
	}
	if err := e.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if _, err := e.Extract(data); !errors.Is(err, facematch.ErrClosed) {
		t.Errorf("Extract after Close: %v, want ErrClosed", err)
	}
	if _, err := e.ExtractImage(image.NewGray(image.Rect(0, 0, 8, 8))); !errors.Is(err, facematch.ErrClosed) {
		t.Errorf("ExtractImage after Close: %v, want ErrClosed", err)
	}
	if _, err := e.ExtractOne(data); !errors.Is(err, facematch.ErrClosed) {
		t.Errorf("ExtractOne after Close: %v, want ErrClosed", err)
	}
	if e.Model().ID != dlib.FaceAPIModelID {
		t.Errorf("Model after Close = %+v", e.Model())
	}
}

// TestEncodeJPEG checks the in-memory encoding without models.
func TestEncodeJPEG(t *testing.T) {
	g := image.NewGray(image.Rect(3, 4, 35, 28))
	for i := range g.Pix {
		g.Pix[i] = uint8(i * 7)
	}
	rgba := image.NewRGBA(image.Rect(0, 0, 16, 16))
	draw.Draw(rgba, rgba.Bounds(), &image.Uniform{color.RGBA{200, 30, 60, 255}}, image.Point{}, draw.Src)
	for _, tt := range []struct {
		name string
		img  image.Image
	}{
		{"Gray", g},
		{"Gray16", image.NewGray16(image.Rect(0, 0, 9, 9))},
		{"Alpha", image.NewAlpha(image.Rect(0, 0, 9, 9))},
		{"RGBA", rgba},
		{"Paletted", image.NewPaletted(image.Rect(0, 0, 9, 9), color.Palette{color.Black, color.White})},
	} {
		data, err := dlib.EncodeJPEG(tt.img)
		if err != nil {
			t.Errorf("%s: %v", tt.name, err)
			continue
		}
		cfg, err := jpeg.DecodeConfig(bytes.NewReader(data))
		if err != nil {
			t.Errorf("%s: %v", tt.name, err)
			continue
		}
		b := tt.img.Bounds()
		if cfg.ColorModel != color.YCbCrModel || cfg.Width != b.Dx() || cfg.Height != b.Dy() {
			t.Errorf("%s: encoded as %dx%d %T, want %dx%d colour", tt.name, cfg.Width, cfg.Height, cfg.ColorModel, b.Dx(), b.Dy())
		}
	}
	// Grayscale survives the round trip (quality 100, neutral chroma).
	back := decode(t, must(dlib.EncodeJPEG(g)))
	for y := g.Rect.Min.Y; y < g.Rect.Max.Y; y++ {
		for x := g.Rect.Min.X; x < g.Rect.Max.X; x++ {
			r, _, _, _ := back.At(x-g.Rect.Min.X, y-g.Rect.Min.Y).RGBA()
			if d := int(r>>8) - int(g.GrayAt(x, y).Y); d < -3 || d > 3 {
				t.Fatalf("pixel (%d,%d): %d after the round trip, was %d", x, y, r>>8, g.GrayAt(x, y).Y)
			}
		}
	}
	for _, img := range []image.Image{nil, image.NewGray(image.Rect(2, 2, 2, 2))} {
		if _, err := dlib.EncodeJPEG(img); !errors.Is(err, facematch.ErrDecode) {
			t.Errorf("EncodeJPEG(%v) error %v, want ErrDecode", img, err)
		}
	}
}

func must(b []byte, err error) []byte {
	if err != nil {
		panic(err)
	}
	return b
}

// FuzzExtract feeds arbitrary bytes to Extract: it must return faces of the
// right shape or an error wrapping ErrDecode, never crash. Its extractor
// refuses images over one megapixel, so that the fuzzer does not spend
// seconds on each mutated header that declares a large image.
func FuzzExtract(f *testing.F) {
	e, err := dlib.Open(testenv.Models(f, dlib.ModelFiles...), dlib.Config{Workers: 1, MaxPixels: 1 << 20})
	if err != nil {
		f.Fatal(err)
	}
	defer e.Close()
	obama := readFile(f, filepath.Join(testenv.Faces(f), "obama", "6.jpg"))
	f.Add(obama)
	f.Add(obama[:len(obama)/3])
	f.Add(encodePNG(f, image.NewGray(image.Rect(0, 0, 4, 4))))
	f.Add([]byte{0xFF, 0xD8, 0xFF, 0xE0})
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, data []byte) {
		faces, err := e.Extract(data)
		if err != nil {
			if !errors.Is(err, facematch.ErrDecode) {
				t.Fatalf("Extract error %v does not wrap ErrDecode", err)
			}
			return
		}
		for _, fc := range faces {
			if len(fc.Descriptor) != dlib.Dim {
				t.Fatalf("descriptor length %d", len(fc.Descriptor))
			}
		}
	})
}

// TestCNN runs the CNN detector on a small photo as is and on a larger one
// scaled down to CNNMaxPixels: it must find the faces HOG finds, report
// them in the original image's coordinates, and embed them near HOG's.
func TestCNN(t *testing.T) {
	dir := testenv.Models(t, dlib.ModelFiles...)
	if _, err := dlib.Open(dir, dlib.Config{Workers: 1, Detector: dlib.Detector(7)}); err == nil {
		t.Error("Open accepted Detector(7)")
	}
	cnn, err := dlib.Open(dir, dlib.Config{Workers: 1, Detector: dlib.CNN})
	if err != nil {
		t.Fatal(err)
	}
	defer cnn.Close()
	hog := shared(t)
	for _, path := range []string{
		filepath.Join(testenv.Faces(t), "obama", "6.jpg"), // 320×240: not scaled
		filepath.Join(testenv.Group(t), "two_people.jpg"), // 1126×661: scaled to 0.3 MP
	} {
		data := readFile(t, path)
		want, err := hog.Extract(data)
		if err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		got, err := cnn.Extract(data)
		if err != nil {
			t.Fatalf("%s: CNN: %v", path, err)
		}
		t.Logf("%s: CNN found %d faces in %v", filepath.Base(path), len(got), time.Since(start).Round(time.Millisecond))
		if len(got) != len(want) {
			t.Errorf("%s: CNN found %d faces, HOG %d", path, len(got), len(want))
			continue
		}
		for i := range got {
			inter := got[i].Box.Intersect(want[i].Box)
			if inter.Dx()*inter.Dy() < want[i].Box.Dx()*want[i].Box.Dy()/3 {
				t.Errorf("%s: CNN box %v far from HOG box %v", path, got[i].Box, want[i].Box)
			}
			if d := euclidean(got[i].Descriptor, want[i].Descriptor); d > dlib.Threshold {
				t.Errorf("%s: face %d: CNN descriptor at %.3f from HOG's, over the threshold", path, i, d)
			} else {
				t.Logf("%s: face %d: CNN box %v, HOG box %v, descriptor distance %.3f", filepath.Base(path), i, got[i].Box, want[i].Box, d)
			}
		}
	}
}
