package arcface

import (
	"bufio"
	"bytes"
	"image"
	"image/jpeg"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	xdraw "golang.org/x/image/draw"

	"github.com/facegate/facegate/facematch"
	"github.com/facegate/facegate/facematch/dlib"
	"github.com/facegate/facegate/facematch/faceplugin"
	"github.com/facegate/facegate/internal/testenv"
)

// frame640 returns the photo bench speed times (obama/4.jpg of the shared
// set) scaled to cover a 640×480 camera frame and cropped to it, as a JPEG
// of quality 90.
func frame640(b *testing.B) []byte {
	b.Helper()
	data, err := os.ReadFile(filepath.Join(testenv.Faces(b), "obama", "4.jpg"))
	if err != nil {
		b.Fatal(err)
	}
	src, err := jpeg.Decode(bytes.NewReader(data))
	if err != nil {
		b.Fatal(err)
	}
	const w, h = 640, 480
	sb := src.Bounds()
	scale := max(float64(w)/float64(sb.Dx()), float64(h)/float64(sb.Dy()))
	sw, sh := int(math.Ceil(float64(sb.Dx())*scale)), int(math.Ceil(float64(sb.Dy())*scale))
	scaled := image.NewRGBA(image.Rect(0, 0, sw, sh))
	xdraw.CatmullRom.Scale(scaled, scaled.Bounds(), src, sb, xdraw.Src, nil)
	x0, y0 := (sw-w)/2, (sh-h)/2
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, scaled.SubImage(image.Rect(x0, y0, x0+w, y0+h)), &jpeg.Options{Quality: 90}); err != nil {
		b.Fatal(err)
	}
	return buf.Bytes()
}

// pipeline is an opened extraction path and what releases it.
type pipeline struct {
	ex      facematch.Extractor
	closers []func() error
}

func (p pipeline) close() {
	for _, c := range p.closers {
		c()
	}
}

// pipelines opens, each with workers workers and OpenCV and OpenBLAS at one
// thread each (the pool supplies the parallelism), dlib's whole path and
// the default all-ONNX path (faceplugin front end, FRFeature).
var pipelines = []struct {
	name string
	open func(b *testing.B, workers int) pipeline
}{
	{"dlib", func(b *testing.B, workers int) pipeline {
		d, err := dlib.Open(testenv.Models(b, dlib.ModelFiles...), dlib.Config{Workers: workers})
		if err != nil {
			b.Fatal(err)
		}
		return pipeline{d, []func() error{d.Close}}
	}},
	{"faceplugin+fr_feature", func(b *testing.B, workers int) pipeline {
		d, err := faceplugin.Open(testenv.Models(b, faceplugin.ModelFiles...), faceplugin.Config{Workers: workers})
		if err != nil {
			b.Fatal(err)
		}
		e, err := Open(testenv.ModelDir(), FRFeature, d, Config{Workers: workers})
		if err != nil {
			b.Fatal(err)
		}
		return pipeline{e, []func() error{e.Close, d.Close}}
	}},
}

// BenchmarkFrame times one 640×480 JPEG frame, decode to descriptor
// (decode, detection, 68 landmarks, alignment, descriptor), on one worker,
// for dlib's path and the default all-ONNX one in the same run.
func BenchmarkFrame(b *testing.B) {
	jpg := frame640(b)
	for _, p := range pipelines {
		b.Run(p.name, func(b *testing.B) {
			pl := p.open(b, 1)
			defer pl.close()
			if faces, err := pl.ex.Extract(jpg); err != nil || len(faces) != 1 {
				b.Fatalf("%d faces, %v", len(faces), err)
			}
			b.ResetTimer()
			for range b.N {
				if _, err := pl.ex.Extract(jpg); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkPool measures the throughput of each path's pool with 1 and 2
// workers, each fed by its own goroutine: frames/s is reported, and the
// ratio of the two rows is the pool's speed-up.
func BenchmarkPool(b *testing.B) {
	jpg := frame640(b)
	for _, p := range pipelines {
		for _, w := range []int{1, 2} {
			b.Run(p.name+"/workers="+strconv.Itoa(w), func(b *testing.B) {
				pl := p.open(b, w)
				defer pl.close()
				if _, err := pl.ex.Extract(jpg); err != nil {
					b.Fatal(err)
				}
				work := make(chan struct{}, b.N)
				for range b.N {
					work <- struct{}{}
				}
				close(work)
				b.ResetTimer()
				t0 := time.Now()
				var wg sync.WaitGroup
				for range w {
					wg.Go(func() {
						for range work {
							if _, err := pl.ex.Extract(jpg); err != nil {
								b.Error(err)
								return
							}
						}
					})
				}
				wg.Wait()
				b.ReportMetric(float64(b.N)/time.Since(t0).Seconds(), "frames/s")
			})
		}
	}
}

// BenchmarkPeakRSS reports the process's peak resident memory (VmHWM)
// after opening one path with a pool of two workers and running frames
// through both. Run it alone, one path per process, for a meaningful
// figure: -run '^$' -bench 'PeakRSS/<path>$'.
func BenchmarkPeakRSS(b *testing.B) {
	jpg := frame640(b)
	for _, p := range pipelines {
		b.Run(p.name, func(b *testing.B) {
			pl := p.open(b, 2)
			defer pl.close()
			var wg sync.WaitGroup
			for range 2 {
				wg.Go(func() {
					for range max(b.N, 5) {
						if _, err := pl.ex.Extract(jpg); err != nil {
							b.Error(err)
							return
						}
					}
				})
			}
			wg.Wait()
			b.ReportMetric(float64(vmHWM(b))/(1<<20), "peak-MB")
		})
	}
}

// vmHWM returns the process's peak resident set size in bytes.
func vmHWM(b *testing.B) int64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		b.Skipf("no /proc/self/status: %v", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			if err != nil {
				b.Fatal(err)
			}
			return kb << 10
		}
	}
	b.Fatal("no VmHWM in /proc/self/status")
	return 0
}
