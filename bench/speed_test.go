package main

import (
	"bytes"
	"image"
	"image/color"
	"image/jpeg"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/facegate/facegate/bench/report"
	"github.com/facegate/facegate/facematch/dlib"
	"github.com/facegate/facegate/internal/testenv"
)

func TestFrame(t *testing.T) {
	// A 300×100 image: left third red, the rest blue.
	img := image.NewRGBA(image.Rect(0, 0, 300, 100))
	for y := range 100 {
		for x := range 300 {
			c := color.RGBA{B: 255, A: 255}
			if x < 100 {
				c = color.RGBA{R: 255, A: 255}
			}
			img.Set(x, y, c)
		}
	}
	for _, sz := range []image.Point{{640, 480}, {1280, 720}, {50, 50}} {
		data, err := frame(img, sz.X, sz.Y)
		if err != nil {
			t.Fatal(err)
		}
		out, err := jpeg.Decode(bytes.NewReader(data))
		if err != nil {
			t.Fatal(err)
		}
		if got := out.Bounds().Size(); got != sz {
			t.Errorf("frame %v has size %v", sz, got)
		}
		// Scaled to cover and cropped at the centre: the middle is blue.
		r, _, b, _ := out.At(sz.X/2, sz.Y/2).RGBA()
		if b < 0xc000 || r > 0x4000 {
			t.Errorf("frame %v: centre pixel r=%x b=%x, want blue", sz, r, b)
		}
	}
}

func TestPlainScan(t *testing.T) {
	rows := []float32{0, 0, 5, 5, 1, 1, 9, 9}
	if got := plainScan([]float32{1.2, 0.9}, rows, 2); got != 2 {
		t.Errorf("plainScan = %d, want row 2", got)
	}
	if got := plainScan([]float32{8, 8}, rows, 2); got != 3 {
		t.Errorf("plainScan = %d, want row 3", got)
	}
}

func TestProbes(t *testing.T) {
	buf := probe(1 << 20)
	if bytes.IndexByte(buf, 0xFF) >= 0 {
		t.Fatal("probe buffer holds 0xFF: IndexByte would stop early")
	}
	for _, th := range []int{1, 2} {
		for name, bw := range map[string]float64{
			"indexbyte": readBandwidth(1<<20, th, scanIndexByte),
			"loop":      readBandwidth(1<<20, th, scanGoLoop),
			"copy":      copyBandwidth(1<<20, th),
		} {
			if !(bw > 1e6) || math.IsInf(bw, 0) {
				t.Errorf("%s bandwidth with %d threads = %v bytes/s", name, th, bw)
			}
		}
	}
	releaseProbe()
}

func TestSpeedRatios(t *testing.T) {
	sp := &report.Speed{
		Latency: []report.Latency{
			{Engine: "go-face Recognizer (baseline)", Width: 640, Height: 480, P50: 40, PerSecond: 25},
			{Engine: "facegate dlib", Width: 640, Height: 480, P50: 44, PerSecond: 20},
			{Engine: "facegate dlib (pool)", Width: 640, Height: 480, Workers: 2, P50: 50, PerSecond: 36},
		},
		Identify: []report.Identify{
			{Engine: "plain Go loop, float32, 1 goroutine", N: 100000, NsPerQuery: 1000},
			{Engine: "gallery.Gallery float32, avx2", N: 100000, NsPerQuery: 250, OfBandwidth: 0.9},
		},
	}
	speedRatios(sp)
	want := map[string]float64{
		"640x480: facegate 1 worker p50 / go-face":                 1.1,
		"640x480: pool of 2 calls/s / 1 worker":                    1.8,
		"N=100000: plain Go loop time / gallery.Gallery float32":   4,
		"N=100000: gallery.Gallery float32, avx2 scan rate / same": 0.9,
	}
	if len(sp.Ratios) != len(want) {
		t.Fatalf("ratios %+v", sp.Ratios)
	}
	for prefix, v := range want {
		found := false
		for _, r := range sp.Ratios {
			if strings.HasPrefix(r.Name, prefix) {
				found = true
				if math.Abs(r.Value-v) > 1e-9 {
					t.Errorf("%s = %v, want %v", r.Name, r.Value, v)
				}
			}
		}
		if !found {
			t.Errorf("no ratio %q in %+v", prefix, sp.Ratios)
		}
	}
}

func TestSpeedCommandSynthetic(t *testing.T) {
	out := t.TempDir()
	err := runSpeed([]string{"--latency=false", "--sizes", "1000,20000", "--min-time", "1ms", "--probe-mib", "4", "--out", out})
	if err != nil {
		t.Fatal(err)
	}
	r := readResults(t, out)
	// Two sizes × (plain loop, float32 gallery, int8 gallery).
	if len(r.Speed.Identify) != 6 || r.Speed.Memory.VmHWMBytes <= 0 || len(r.Speed.Bandwidth) == 0 {
		t.Fatalf("speed results %+v", r.Speed)
	}
	for _, i := range r.Speed.Identify {
		if i.Queries < 5 || !(i.NsPerQuery > 0) || !(i.NsPerRow > 0) || !(i.ProbeGBPerSecond > 0) || !(i.OfBandwidth > 0) || i.Threads < 1 {
			t.Errorf("identify row %+v", i)
		}
	}
	for _, i := range r.Speed.Identify {
		// float32 rows alone are 512 B, int8 128 B per template.
		if strings.HasPrefix(i.Engine, "gallery.Gallery") && i.HeapBytes < int64(i.N*i.BytesPerRow) {
			t.Errorf("%s N=%d: heap grew %d bytes, less than the rows", i.Engine, i.N, i.HeapBytes)
		}
	}
	if _, err := os.Stat(filepath.Join(out, "identify.png")); err != nil {
		t.Error(err)
	}
	for _, bad := range [][]string{{"--sizes", "10,x"}, {"--sizes", "0"}, {"--calls", "0"}, {"extra"}} {
		if err := runSpeed(append(bad, "--latency=false", "--out", t.TempDir())); err == nil {
			t.Errorf("runSpeed(%v) succeeded", bad)
		}
	}
}

func TestSpeedLatencyDlib(t *testing.T) {
	if testing.Short() {
		t.Skip("loads four dlib recognizers")
	}
	models := testenv.Models(t, dlib.ModelFiles...)
	photo := filepath.Join(testenv.Faces(t), "obama", "4.jpg")
	out := t.TempDir()
	err := runSpeed([]string{"--model", "dlib", "--models", models, "--photo", photo, "--calls", "2", "--sizes", "", "--probe-mib", "4", "--out", out})
	if err != nil {
		t.Fatal(err)
	}
	r := readResults(t, out)
	// Per frame size: go-face, 1 worker, pool; each call found the one face.
	if len(r.Speed.Latency) != 3*len(frameSizes) {
		t.Fatalf("latency rows %+v", r.Speed.Latency)
	}
	for _, l := range r.Speed.Latency {
		if l.Faces != 1 || l.Calls != 2 || !(l.P50 > 0) || l.P99 < l.P50 {
			t.Errorf("latency row %+v", l)
		}
	}
	// One 1-worker extractor, a pool of GOMAXPROCS, go-face's own recognizer.
	if m := r.Speed.Memory; m.Recognizers != 2+runtime.GOMAXPROCS(0) || m.RecognizerRSSBytes < 10<<20 {
		t.Errorf("memory %+v", m)
	}
	if len(r.Model.Files) != len(dlib.ModelFiles) || r.Model.ID == "" {
		t.Errorf("model %+v", r.Model)
	}
}
