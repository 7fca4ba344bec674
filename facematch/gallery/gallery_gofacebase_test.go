//go:build cgo

package gallery_test

import (
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"testing"
	"time"

	face "github.com/Kagami/go-face"

	"github.com/facegate/facegate/facematch"
	"github.com/facegate/facegate/facematch/gallery"
	"github.com/facegate/facegate/internal/templatetest"
	"github.com/facegate/facegate/internal/testenv"
	"github.com/facegate/facegate/template"
)

// BenchmarkGoFaceBaseline identifies one probe in galleries of 1k to 1M
// random 128-d descriptors with go-face's own Recognizer.Classify (its scan
// runs in C++: a squared distance per sample into a vector, then a full
// sort) and with gallery.Gallery.Identify (k = 1, float32, int8, and
// int8 deciding on the originals) on the same descriptors, in the same run. Every sub-benchmark reports best-ns,
// its best iteration; the facematch ones (all cores from the parallel
// crossover up, as deployed) report x-goface, go-face's mean ns/op divided
// by their own, and best-x-goface, the same for the best iterations. The
// facematch-*-1core ones run on one core, as go-face does, and on Linux
// report cpu-ns, the best iteration in thread CPU time, and cpu-x-goface,
// go-face's cpu-ns divided by theirs: CPU time leaves out the time other
// processes held the core, the fairest ratio on a shared machine.
//
// It needs cgo, dlib and the model directory (go-face loads all three
// models to make a Recognizer): see internal/testenv.
//
//	go test -run '^$' -bench GoFaceBaseline ./facematch
func BenchmarkGoFaceBaseline(b *testing.B) {
	dir := testenv.Models(b, "dlib_face_recognition_resnet_model_v1.dat",
		"shape_predictor_5_face_landmarks.dat", "mmod_human_face_detector.dat")
	rec, err := face.NewRecognizer(dir)
	if err != nil {
		b.Fatal(err)
	}
	defer rec.Close()
	m := facematch.Model{ID: "dlib-like", Dim: 128, Metric: facematch.Euclidean, Threshold: 0.6}
	for _, n := range []int{1000, 10000, 100000, 1000000} {
		rng := rand.New(rand.NewPCG(uint64(n), 5))
		samples := make([]face.Descriptor, n)
		cats := make([]int32, n)
		for i := range samples {
			for j := range samples[i] {
				samples[i][j] = float32(max(-0.45, min(0.45, rng.NormFloat64()*0.1)))
			}
			cats[i] = int32(i)
		}
		rec.SetSamples(samples, cats)
		// The probe: a noisy copy of one sample, as at a gate.
		var probe face.Descriptor
		want := rng.IntN(n)
		for j := range probe {
			probe[j] = samples[want][j] + float32(rng.NormFloat64()*0.03)
		}
		if got := rec.Classify(probe); got != want {
			b.Fatalf("N=%d: go-face classified the probe as %d, want %d", n, got, want)
		}
		var gofaceNs, gofaceBest, gofaceCPU float64
		b.Run(fmt.Sprintf("N=%d/goface", n), func(b *testing.B) {
			runtime.LockOSThread() // Classify runs on this thread, in C++
			defer runtime.UnlockOSThread()
			best, bestCPU := time.Duration(math.MaxInt64), time.Duration(math.MaxInt64)
			for b.Loop() {
				c0, _ := gallery.ThreadCPU()
				t0 := time.Now()
				rec.Classify(probe)
				best = min(best, time.Since(t0))
				c1, _ := gallery.ThreadCPU()
				bestCPU = min(bestCPU, c1-c0)
			}
			gofaceNs = float64(b.Elapsed().Nanoseconds()) / float64(b.N)
			gofaceBest = float64(best.Nanoseconds())
			gofaceCPU = float64(bestCPU.Nanoseconds())
			b.ReportMetric(gofaceBest, "best-ns")
			if _, ok := gallery.ThreadCPU(); ok {
				b.ReportMetric(gofaceCPU, "cpu-ns")
			}
		})
		// int8+originals: an Int8 gallery deciding on the float32
		// originals (Config.Originals), here read from memory; in
		// a gate they come from the store (gate's BenchmarkFaceAdmit).
		originals := func(id string) ([]template.Protected, error) {
			var i int
			if _, err := fmt.Sscanf(id, "resident-%07d", &i); err != nil || i < 0 || i >= n {
				return nil, facematch.ErrUnknownID
			}
			return []template.Protected{templatetest.Protected(m.ID, samples[i][:])}, nil
		}
		for _, c := range []struct {
			name string
			cfg  gallery.Config
		}{
			{"float32", gallery.Config{Precision: gallery.Float32}},
			{"int8", gallery.Config{Precision: gallery.Int8}},
			{"int8+originals", gallery.Config{Precision: gallery.Int8, Originals: originals}},
		} {
			prec := c.name
			g, err := gallery.New(m, &c.cfg)
			if err != nil {
				b.Fatal(err)
			}
			for i := range samples {
				if err := g.Add(fmt.Sprintf("resident-%07d", i), templatetest.Protected(m.ID, samples[i][:])); err != nil {
					b.Fatal(err)
				}
			}
			e := templatetest.Protected(m.ID, probe[:])
			if got, err := g.Identify(e, 1); err != nil || len(got) != 1 || got[0].ID != fmt.Sprintf("resident-%07d", want) {
				b.Fatalf("N=%d %v: Identify = %v, %v; want resident-%07d", n, prec, got, err, want)
			}
			// Building the gallery left garbage (the previous gallery, the
			// grown chunks) and maybe a GC cycle under way; finish it, as a
			// gate has long done by the time it identifies anyone, so the
			// collector does not share the cores with the timed scans.
			runtime.GC()
			// As deployed: all cores from the crossover up.
			b.Run(fmt.Sprintf("N=%d/facematch-%v", n, prec), func(b *testing.B) {
				best := time.Duration(math.MaxInt64)
				for b.Loop() {
					t0 := time.Now()
					if _, err := g.Identify(e, 1); err != nil {
						b.Fatal(err)
					}
					best = min(best, time.Since(t0))
				}
				b.ReportMetric(float64(best.Nanoseconds()), "best-ns")
				b.ReportMetric(gofaceNs/(float64(b.Elapsed().Nanoseconds())/float64(b.N)), "x-goface")
				b.ReportMetric(gofaceBest/float64(best.Nanoseconds()), "best-x-goface")
			})
			// One core, like go-face: CPU time against CPU time.
			b.Run(fmt.Sprintf("N=%d/facematch-%v-1core", n, prec), func(b *testing.B) {
				defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
				runtime.LockOSThread()
				defer runtime.UnlockOSThread()
				bestCPU := time.Duration(math.MaxInt64)
				for b.Loop() {
					c0, _ := gallery.ThreadCPU()
					if _, err := g.Identify(e, 1); err != nil {
						b.Fatal(err)
					}
					c1, _ := gallery.ThreadCPU()
					bestCPU = min(bestCPU, c1-c0)
				}
				if _, ok := gallery.ThreadCPU(); ok {
					b.ReportMetric(float64(bestCPU.Nanoseconds()), "cpu-ns")
					b.ReportMetric(gofaceCPU/float64(bestCPU.Nanoseconds()), "cpu-x-goface")
				}
			})
		}
	}
	rec.SetSamples([]face.Descriptor{{}}, []int32{0}) // release the big sample set in C++
}
