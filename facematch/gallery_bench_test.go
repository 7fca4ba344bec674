package facematch

import (
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"sync"
	"testing"
	"time"
)

// The scan benchmarks report, for each gallery size, precision, kernel and
// scan mode (one goroutine, or split across GOMAXPROCS):
//
//	ns/op, MB/s  Go's own figures: the mean over all iterations
//	ns/cmp       nanoseconds per template compared, best iteration
//	cmp/s        templates compared per second, best iteration
//	GB/s         template bytes read per second, best iteration
//	probe-GB/s   a memory-read bandwidth probe (AVX2 loads, or a Go loop
//	             without AVX2) over a buffer of the same size as the
//	             gallery's rows, on the same number of goroutines, measured
//	             in the same run just before the scan (best pass)
//	%bw          GB/s as a percentage of probe-GB/s
//
// The per-iteration best, not the mean, is compared with the probe's best
// pass because the machines this runs on are shared: the best of many
// iterations is the one least disturbed by other processes, for the scan
// and the probe alike, so their ratio stays meaningful under load.
//
// Run: go test -run '^$' -bench 'Scan' -benchtime 1s ./facematch
// (1M float32 holds 512 MB of rows plus a 512 MB probe buffer).

var benchSizes = []int{1000, 10000, 100000, 1000000}

var benchModel = Model{ID: "bench-dlib-like", Dim: 128, Metric: Euclidean, Threshold: 0.6}

// benchCache holds the last gallery built, so that the sub-benchmarks of
// one size and precision share it without keeping every size in memory.
var benchCache struct {
	key string
	g   *Gallery
}

func benchGallery(b *testing.B, prec Precision, n int) *Gallery {
	key := fmt.Sprint(prec, n)
	if benchCache.key == key {
		return benchCache.g
	}
	benchCache.g, benchCache.key = nil, ""
	runtime.GC()
	g, err := NewGallery(benchModel, &GalleryConfig{Precision: prec})
	if err != nil {
		b.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(uint64(n), 77))
	for i := range n {
		if err := g.Add(fmt.Sprintf("resident-%07d", i), benchModel.Embedding(dlibLike(rng))); err != nil {
			b.Fatal(err)
		}
	}
	benchCache.g, benchCache.key = g, key
	return g
}

var probeBuf []byte

// readBandwidth returns the bytes/s at which workers goroutines read size
// bytes (each its own share), the best of several passes over at least
// 200 ms.
func readBandwidth(size, workers int) float64 {
	size = (size + 128*workers - 1) / (128 * workers) * 128 * workers
	if len(probeBuf) < size {
		probeBuf = nil
		runtime.GC()
		probeBuf = make([]byte, size)
		for i := range probeBuf {
			probeBuf[i] = byte(i*131 + i>>9) // touch every page: no shared zero page
		}
	}
	buf := probeBuf[:size]
	share := size / workers
	var sink uint64
	var mu sync.Mutex
	best := 0.0
	start := time.Now()
	for pass := 0; pass < 3 || time.Since(start) < 200*time.Millisecond; pass++ {
		t0 := time.Now()
		var wg sync.WaitGroup
		for w := range workers {
			wg.Go(func() {
				x := memRead(buf[w*share : (w+1)*share])
				mu.Lock()
				sink ^= x
				mu.Unlock()
			})
		}
		wg.Wait()
		if bw := float64(size) / time.Since(t0).Seconds(); bw > best {
			best = bw
		}
	}
	if sink == 42 {
		fmt.Print("")
	}
	return best
}

func BenchmarkScan(b *testing.B) {
	saved := kern
	defer func() { kern = saved; benchCache.g, benchCache.key, probeBuf = nil, "", nil }()
	for _, n := range benchSizes {
		for _, prec := range []Precision{Float32, Int8} {
			for _, ks := range availableKernels() {
				for _, mode := range []string{"serial", "parallel"} {
					name := fmt.Sprintf("N=%d/%v/%s/%s", n, prec, ks.name, mode)
					b.Run(name, func(b *testing.B) {
						g := benchGallery(b, prec, n)
						kern = ks
						workers, minPar := 1, math.MaxInt
						if mode == "parallel" {
							workers, minPar = runtime.GOMAXPROCS(0), 0
						}
						rowBytes := g.model.Dim * 4
						if prec == Int8 {
							rowBytes = g.model.Dim
						}
						bw := readBandwidth(n*rowBytes, workers)
						rng := rand.New(rand.NewPCG(1, 1))
						var qs []query
						for range 16 {
							q, err := g.query(benchModel.Embedding(dlibLike(rng)))
							if err != nil {
								b.Fatal(err)
							}
							qs = append(qs, q)
						}
						inf := float32(math.Inf(1))
						b.SetBytes(int64(n * rowBytes))
						best := time.Duration(math.MaxInt64)
						b.ResetTimer()
						for i := 0; b.Loop(); i++ {
							t0 := time.Now()
							g.mu.RLock()
							g.scan(&qs[i%len(qs)], 1, inf, minPar)
							g.mu.RUnlock()
							best = min(best, time.Since(t0))
						}
						ns := float64(best.Nanoseconds())
						b.ReportMetric(ns/float64(n), "ns/cmp")
						b.ReportMetric(float64(n)/ns*1e9, "cmp/s")
						b.ReportMetric(float64(n*rowBytes)/ns, "GB/s")
						b.ReportMetric(bw/1e9, "probe-GB/s")
						b.ReportMetric(100*float64(n*rowBytes)/ns*1e9/bw, "%bw")
					})
				}
			}
		}
	}
}

// BenchmarkCrossover times serial and parallel scans of the sizes around
// the parallel crossover (parallelMinRows) with the kernels in use; best-ns
// is the best iteration (see BenchmarkScan on why).
func BenchmarkCrossover(b *testing.B) {
	defer func() { benchCache.g, benchCache.key = nil, "" }()
	for _, prec := range []Precision{Float32, Int8} {
		for _, n := range []int{2048, 4096, 8192, 16384, 32768, 65536} {
			for _, mode := range []string{"serial", "parallel"} {
				b.Run(fmt.Sprintf("%v/N=%d/%s", prec, n, mode), func(b *testing.B) {
					g := benchGallery(b, prec, n)
					minPar := math.MaxInt
					if mode == "parallel" {
						minPar = 0
					}
					q, _ := g.query(benchModel.Embedding(dlibLike(rand.New(rand.NewPCG(2, 2)))))
					inf := float32(math.Inf(1))
					best := time.Duration(math.MaxInt64)
					for b.Loop() {
						t0 := time.Now()
						g.mu.RLock()
						g.scan(&q, 1, inf, minPar)
						g.mu.RUnlock()
						best = min(best, time.Since(t0))
					}
					b.ReportMetric(float64(best.Nanoseconds()), "best-ns")
				})
			}
		}
	}
}

// BenchmarkIdentify is the public path (Identify, k = 5, automatic
// serial/parallel choice) on a genuine-like probe.
func BenchmarkIdentify(b *testing.B) {
	defer func() { benchCache.g, benchCache.key = nil, "" }()
	for _, n := range benchSizes {
		for _, prec := range []Precision{Float32, Int8} {
			b.Run(fmt.Sprintf("N=%d/%v", n, prec), func(b *testing.B) {
				g := benchGallery(b, prec, n)
				rng := rand.New(rand.NewPCG(uint64(n), 77))
				probe := benchModel.Embedding(perturb(rng, dlibLike(rng), 0.01))
				for b.Loop() {
					if _, err := g.Identify(probe, 5); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

// BenchmarkAddRemove times enrolling and withdrawing one subject in a
// gallery of 100k.
func BenchmarkAddRemove(b *testing.B) {
	defer func() { benchCache.g, benchCache.key = nil, "" }()
	for _, prec := range []Precision{Float32, Int8} {
		b.Run(prec.String(), func(b *testing.B) {
			g := benchGallery(b, prec, 100000)
			e := benchModel.Embedding(dlibLike(rand.New(rand.NewPCG(3, 3))))
			for b.Loop() {
				if err := g.Add("visitor-0000001", e); err != nil {
					b.Fatal(err)
				}
				if err := g.Remove("visitor-0000001"); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
