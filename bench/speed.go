package main

import (
	"bytes"
	"encoding/binary"
	"errors"
	"flag"
	"fmt"
	"image"
	"image/jpeg"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	face "github.com/Kagami/go-face"
	"golang.org/x/image/draw"

	"github.com/facegate/facegate/bench/metrics"
	"github.com/facegate/facegate/bench/report"
	"github.com/facegate/facegate/facematch"
	"github.com/facegate/facegate/facematch/dlib"
	"github.com/facegate/facegate/facematch/gallery"
	"github.com/facegate/facegate/internal/templatetest"
	"github.com/facegate/facegate/template"
)

// frameSizes are the camera frame sizes extraction is timed at.
var frameSizes = []image.Point{{640, 480}, {1280, 720}}

// parallelRows mirrors the gallery's documented parallel-scan threshold
// (facematch: "galleries of parallelMinRows rows or more are scanned on all
// cores"); it picks which bandwidth probe a scan is compared with.
const parallelRows = 16384

func defaultPhoto() string {
	shared := os.Getenv("FACEGATE_SHARED")
	if shared == "" {
		shared = filepath.Join("..", "shared")
	}
	return filepath.Join(shared, "testdata", "faces", "obama", "4.jpg")
}

func runSpeed(args []string) error {
	fs := flag.NewFlagSet("speed", flag.ContinueOnError)
	var c common
	c.register(fs, "speed")
	photoPath := fs.String("photo", defaultPhoto(), "photo with one face, resized in memory to each frame size")
	calls := fs.Int("calls", 30, "timed extraction calls per engine and frame size")
	sizes := fs.String("sizes", "1000,10000,100000,1000000", "1:N gallery sizes (comma-separated; empty: skip)")
	minTime := fs.Duration("min-time", 500*time.Millisecond, "least time spent timing each 1:N configuration")
	latency := fs.Bool("latency", true, "time extraction (needs the models)")
	bwBytes := fs.Int("probe-mib", 512, "memory-bandwidth probe buffer, MiB")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		fs.Usage()
		return fmt.Errorf("unexpected arguments %v", fs.Args())
	}
	var ns []int
	for _, f := range strings.Split(*sizes, ",") {
		if f = strings.TrimSpace(f); f == "" {
			continue
		}
		n, err := strconv.Atoi(f)
		if err != nil || n < 1 {
			return fmt.Errorf("--sizes: %q is not a positive integer", f)
		}
		ns = append(ns, n)
	}
	if *calls < 1 {
		return fmt.Errorf("--calls %d: want at least 1", *calls)
	}

	mem := &memSampler{}
	sp := &report.Speed{}
	r := &report.Report{Kind: "speed", Command: commandLine(), Machine: report.ThisMachine(), Speed: sp}
	var model facematch.Model
	if *latency {
		info, m, err := timeExtraction(sp, c, *photoPath, *calls, mem)
		if err != nil {
			return err
		}
		r.Model, model = info, m
	} else {
		// Synthetic 1:N only: dlib's shape of descriptor.
		model = facematch.Model{ID: "synthetic-128d", Dim: dlib.Dim, Metric: facematch.Euclidean, Threshold: dlib.Threshold}
		r.Model = modelInfo(model)
		r.Model.Source = "no model loaded (--latency=false): synthetic 128-d descriptors only"
	}
	debug.FreeOSMemory()

	fmt.Fprintln(os.Stderr, "bench: memory-bandwidth probe")
	probe := int64(*bwBytes) << 20
	for _, th := range threadCounts() {
		sp.Bandwidth = append(sp.Bandwidth,
			report.Bandwidth{Kind: "read (bytes.IndexByte, stdlib SIMD)", Threads: th, Bytes: probe, GBPerSecond: readBandwidth(probe, th, scanIndexByte) / 1e9},
			report.Bandwidth{Kind: "read (plain Go loop)", Threads: th, Bytes: probe, GBPerSecond: readBandwidth(probe, th, scanGoLoop) / 1e9},
			report.Bandwidth{Kind: "copy (memmove, read+write)", Threads: th, Bytes: probe, GBPerSecond: copyBandwidth(probe, th) / 1e9},
		)
	}
	releaseProbe()
	mem.sample()
	if len(ns) > 0 {
		if err := timeIdentify(sp, model, ns, *minTime, mem); err != nil {
			return err
		}
	}
	speedRatios(sp)
	r.Machine.LoadEnd = report.LoadAverage()
	mem.sample()
	sp.Memory.GoHeapPeakBytes, sp.Memory.GoSysBytes = mem.heapPeak, mem.sys
	if hwm, err := report.PeakRSS(); err == nil {
		sp.Memory.VmHWMBytes = hwm
	} else {
		r.Notes = append(r.Notes, "peak RSS unavailable: "+err.Error())
	}
	r.Notes = append(r.Notes,
		fmt.Sprintf("Percentiles are nearest-rank over %d calls per row: with few calls p99 is the slowest call.", *calls),
		"The machine may be shared with other work; ratios compare figures measured in this run, interleaved where the engines run one call at a time.",
		fmt.Sprintf("gallery.Gallery scans galleries of %d rows or more on all cores (GOMAXPROCS=%d), smaller ones on one; the plain Go loop always runs on one goroutine.", parallelRows, runtime.GOMAXPROCS(0)),
		"VmHWM includes the C memory of dlib and OpenBLAS (every recognizer loads its own model copy) and the synthetic galleries; the Go figures do not include C memory.",
	)
	return write(c.out, r)
}

func threadCounts() []int {
	if p := runtime.GOMAXPROCS(0); p > 1 {
		return []int{1, p}
	}
	return []int{1}
}

// heapAlloc returns the live Go heap after a garbage collection.
func heapAlloc() uint64 {
	runtime.GC()
	var s runtime.MemStats
	runtime.ReadMemStats(&s)
	return s.HeapAlloc
}

// memSampler tracks the Go heap's peak between samples.
type memSampler struct {
	heapPeak, sys uint64
}

func (m *memSampler) sample() {
	var s runtime.MemStats
	runtime.ReadMemStats(&s)
	m.heapPeak = max(m.heapPeak, s.HeapInuse)
	m.sys = max(m.sys, s.Sys)
}

// frame returns img scaled to cover w×h and cropped to it, as a JPEG.
func frame(img image.Image, w, h int) ([]byte, error) {
	b := img.Bounds()
	scale := max(float64(w)/float64(b.Dx()), float64(h)/float64(b.Dy()))
	sw, sh := int(math.Ceil(float64(b.Dx())*scale)), int(math.Ceil(float64(b.Dy())*scale))
	scaled := image.NewRGBA(image.Rect(0, 0, sw, sh))
	draw.CatmullRom.Scale(scaled, scaled.Bounds(), img, b, draw.Src, nil)
	x0, y0 := (sw-w)/2, (sh-h)/2
	out := scaled.SubImage(image.Rect(x0, y0, x0+w, y0+h))
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, out, &jpeg.Options{Quality: 90}); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// timeExtraction fills sp.Latency: go-face's own Recognizer, FaceGate's
// extractor with one worker (calls interleaved with go-face's), and the
// extractor's pool with one caller per worker.
func timeExtraction(sp *report.Speed, c common, photoPath string, calls int, mem *memSampler) (report.Model, facematch.Model, error) {
	data, err := os.ReadFile(photoPath)
	if err != nil {
		return report.Model{}, facematch.Model{}, err
	}
	img, _, err := image.Decode(bytes.NewReader(data))
	if err != nil {
		return report.Model{}, facematch.Model{}, fmt.Errorf("%s: %w", photoPath, err)
	}
	sp.Photo = photoPath

	rss0, rssErr := report.RSS()
	one, err := openBackend(c.model, c.models, 1)
	if err != nil {
		return report.Model{}, facematch.Model{}, err
	}
	defer one.close()
	pool, err := openBackend(c.model, c.models, 0)
	if err != nil {
		return report.Model{}, facematch.Model{}, err
	}
	defer pool.close()
	var rec *face.Recognizer
	if c.model == "dlib" {
		if rec, err = face.NewRecognizer(c.models); err != nil {
			return report.Model{}, facematch.Model{}, fmt.Errorf("go-face baseline: %w", err)
		}
		defer rec.Close()
	}
	mem.sample()
	if rss1, err := report.RSS(); err == nil && rssErr == nil {
		sp.Memory.Recognizers = 1 + pool.workers
		if rec != nil {
			sp.Memory.Recognizers++
		}
		sp.Memory.RecognizerRSSBytes = (rss1 - rss0) / int64(sp.Memory.Recognizers)
	}
	name := "facegate " + c.model

	for _, sz := range frameSizes {
		jpg, err := frame(img, sz.X, sz.Y)
		if err != nil {
			return report.Model{}, facematch.Model{}, err
		}
		fmt.Fprintf(os.Stderr, "bench: extraction at %dx%d\n", sz.X, sz.Y)
		// Warm up both engines; the face count comes from the extractor.
		faces, err := one.ex.Extract(jpg)
		if err != nil {
			return report.Model{}, facematch.Model{}, err
		}
		if len(faces) == 0 {
			return report.Model{}, facematch.Model{}, fmt.Errorf("no face in %s at %dx%d", photoPath, sz.X, sz.Y)
		}
		var base, ours []float64
		var baseWall, oursWall time.Duration
		var gfErr error
		if rec != nil {
			if _, err := rec.Recognize(jpg); err != nil {
				return report.Model{}, facematch.Model{}, fmt.Errorf("go-face: %w", err)
			}
		}
		for range calls {
			if rec != nil {
				t0 := time.Now()
				_, gfErr = rec.Recognize(jpg)
				d := time.Since(t0)
				base, baseWall = append(base, ms(d)), baseWall+d
			}
			t0 := time.Now()
			_, err := one.ex.Extract(jpg)
			d := time.Since(t0)
			ours, oursWall = append(ours, ms(d)), oursWall+d
			if err = errors.Join(err, gfErr); err != nil {
				return report.Model{}, facematch.Model{}, err
			}
		}
		if rec != nil {
			sp.Latency = append(sp.Latency, latencyRow("go-face Recognizer (baseline)", sz, 1, len(faces), base, baseWall))
		}
		sp.Latency = append(sp.Latency, latencyRow(name, sz, 1, len(faces), ours, oursWall))

		// The pool: one caller per worker, calls shared among them.
		var mu sync.Mutex
		var lat []float64
		var firstErr error
		next := make(chan struct{}, calls)
		for range calls {
			next <- struct{}{}
		}
		close(next)
		var wg sync.WaitGroup
		t0 := time.Now()
		for range pool.workers {
			wg.Go(func() {
				for range next {
					t := time.Now()
					_, err := pool.ex.Extract(jpg)
					d := ms(time.Since(t))
					mu.Lock()
					lat = append(lat, d)
					if err != nil && firstErr == nil {
						firstErr = err
					}
					mu.Unlock()
				}
			})
		}
		wg.Wait()
		if firstErr != nil {
			return report.Model{}, facematch.Model{}, firstErr
		}
		sp.Latency = append(sp.Latency, latencyRow(name+" (pool)", sz, pool.workers, len(faces), lat, time.Since(t0)))
		mem.sample()
	}
	return one.info, one.ex.Model(), nil
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

func latencyRow(engine string, sz image.Point, workers, faces int, lat []float64, wall time.Duration) report.Latency {
	s := slices.Clone(lat)
	slices.Sort(s)
	return report.Latency{
		Engine: engine, Width: sz.X, Height: sz.Y, Workers: workers, Calls: len(s), Faces: faces,
		P50: metrics.Percentile(s, 50), P95: metrics.Percentile(s, 95), P99: metrics.Percentile(s, 99),
		PerSecond: float64(len(s)) / wall.Seconds(),
	}
}

// timeIdentify fills sp.Identify: a plain Go float32 scan (one goroutine)
// and gallery.Gallery.Search in float32 and int8 precision, over N
// synthetic unit-length descriptors of model m's dimension.
func timeIdentify(sp *report.Speed, m facematch.Model, ns []int, minTime time.Duration, mem *memSampler) error {
	dim := m.Dim
	rng := rand.New(rand.NewPCG(1, 2))
	unit := func() []float32 {
		v := make([]float32, dim)
		var s float64
		for i := range v {
			x := rng.NormFloat64()
			v[i] = float32(x)
			s += x * x
		}
		for i := range v {
			v[i] = float32(float64(v[i]) / math.Sqrt(s))
		}
		return v
	}
	queries := make([][]float32, 64)
	for i := range queries {
		queries[i] = unit()
	}
	// Random unit vectors stand for protected ones (a random direction
	// rotated is a random direction), without an O(d²) rotation per row.
	probes := make([]template.Protected, len(queries))
	for i, q := range queries {
		probes[i] = templatetest.Protected(m.ID, q)
	}
	for _, n := range ns {
		fmt.Fprintf(os.Stderr, "bench: 1:N at N=%d\n", n)
		rows := make([]float32, n*dim)
		for i := range n {
			copy(rows[i*dim:], unit())
		}
		// Plain Go: the loop a first implementation would write.
		probeBW := probeOnce(int64(n*4*dim), 1)
		nsq, nq := timeLoop(minTime, func(q int) {
			plainScan(queries[q%len(queries)], rows, dim)
		})
		sp.Identify = append(sp.Identify, identifyRow("plain Go loop, float32, 1 goroutine", n, nq, nsq, 4*dim, 1, probeBW))
		mem.sample()
		for _, prec := range []gallery.Precision{gallery.Float32, gallery.Int8} {
			heap0 := heapAlloc()
			g, err := gallery.New(m, &gallery.Config{Precision: prec})
			if err != nil {
				return err
			}
			for i := range n {
				if err := g.Add("s"+strconv.Itoa(i), templatetest.Protected(m.ID, rows[i*dim:(i+1)*dim])); err != nil {
					return fmt.Errorf("gallery of %d: %w", n, err)
				}
			}
			heap := int64(heapAlloc()) - int64(heap0)
			bytesPerRow := 4 * dim
			if prec == gallery.Int8 {
				bytesPerRow = dim
			}
			threads := 1
			if n >= parallelRows {
				threads = runtime.GOMAXPROCS(0)
			}
			probeBW := probeOnce(int64(n*bytesPerRow), threads)
			var serr error
			nsq, nq := timeLoop(minTime, func(q int) {
				if _, err := g.Search(probes[q%len(probes)], 1); err != nil {
					serr = err
				}
			})
			if serr != nil {
				return serr
			}
			row := identifyRow(fmt.Sprintf("gallery.Gallery %v, %s", prec, gallery.KernelName()), n, nq, nsq, bytesPerRow, threads, probeBW)
			row.HeapBytes = heap
			sp.Identify = append(sp.Identify, row)
			runtime.KeepAlive(g)
			mem.sample()
			g = nil
			runtime.GC()
		}
		rows = nil
		debug.FreeOSMemory()
	}
	return nil
}

func identifyRow(engine string, n, queries int, nsPerQuery float64, bytesPerRow, threads int, probe float64) report.Identify {
	perRow := nsPerQuery / float64(n)
	r := report.Identify{
		Engine: engine, N: n, Queries: queries, NsPerQuery: nsPerQuery, NsPerRow: perRow,
		BytesPerRow: bytesPerRow, Threads: threads, GBPerSecond: float64(bytesPerRow) / perRow,
		ProbeGBPerSecond: probe / 1e9,
	}
	if probe > 0 {
		r.OfBandwidth = r.GBPerSecond / r.ProbeGBPerSecond
	}
	return r
}

// timeLoop calls f(0), f(1), ... until minTime has passed (at least 5
// calls, after one untimed warm-up) and returns the median ns per call and
// the number of timed calls. The median keeps calls slowed by other work on
// the machine from setting the figure.
func timeLoop(minTime time.Duration, f func(i int)) (float64, int) {
	f(0)
	var d []float64
	start := time.Now()
	for len(d) < 5 || time.Since(start) < minTime {
		t0 := time.Now()
		f(len(d))
		d = append(d, float64(time.Since(t0).Nanoseconds()))
	}
	slices.Sort(d)
	med := d[len(d)/2]
	if len(d)%2 == 0 {
		med = (d[len(d)/2-1] + d[len(d)/2]) / 2
	}
	return med, len(d)
}

// plainScanSink keeps the compiler from dropping plainScan's result.
var plainScanSink int

// plainScan returns the row of rows closest to q by squared L2 distance.
func plainScan(q, rows []float32, dim int) int {
	best, bestD := -1, float32(math.Inf(1))
	for r := 0; r+dim <= len(rows); r += dim {
		row := rows[r : r+dim]
		var d float32
		for i, x := range q {
			e := x - row[i]
			d += e * e
		}
		if d < bestD {
			best, bestD = r/dim, d
		}
	}
	plainScanSink = best
	return best
}

var probeBuf []byte

func probe(size int64) []byte {
	if int64(len(probeBuf)) < size {
		probeBuf = nil
		runtime.GC()
		probeBuf = make([]byte, size)
		for i := range probeBuf {
			probeBuf[i] = byte(i % 251) // no 0xFF; touches every page
		}
	}
	return probeBuf[:size]
}

// probeOnce returns readBandwidth with the standard library's SIMD read and
// frees the buffer.
func probeOnce(size int64, threads int) float64 {
	bw := readBandwidth(size, threads, scanIndexByte)
	releaseProbe()
	return bw
}

func releaseProbe() {
	probeBuf = nil
	debug.FreeOSMemory()
}

// scanIndexByte reads b with the standard library's SIMD byte search (it
// finds nothing: the buffer holds no 0xFF).
func scanIndexByte(b []byte) uint64 {
	return uint64(bytes.IndexByte(b, 0xFF) + 1)
}

// scanGoLoop reads b as little-endian uint64 words with four accumulators.
func scanGoLoop(b []byte) uint64 {
	var s0, s1, s2, s3 uint64
	le := binary.LittleEndian
	for len(b) >= 32 {
		s0 += le.Uint64(b[0:8])
		s1 += le.Uint64(b[8:16])
		s2 += le.Uint64(b[16:24])
		s3 += le.Uint64(b[24:32])
		b = b[32:]
	}
	return s0 ^ s1 ^ s2 ^ s3
}

var probeSink uint64

// readBandwidth returns the bytes/s at which threads goroutines read a
// buffer of about size bytes (each its own share) with scan: the best of at
// least three passes and 100 ms.
func readBandwidth(size int64, threads int, scan func([]byte) uint64) float64 {
	share := (max(size, 4096)/int64(threads) + 63) / 64 * 64
	buf := probe(share * int64(threads))
	best := 0.0
	start := time.Now()
	for pass := 0; pass < 3 || time.Since(start) < 100*time.Millisecond; pass++ {
		var wg sync.WaitGroup
		var mu sync.Mutex
		t0 := time.Now()
		for w := range int64(threads) {
			wg.Go(func() {
				x := scan(buf[w*share : (w+1)*share])
				mu.Lock()
				probeSink ^= x
				mu.Unlock()
			})
		}
		wg.Wait()
		best = max(best, float64(share*int64(threads))/time.Since(t0).Seconds())
	}
	return best
}

// copyBandwidth returns the bytes/s read plus written when threads
// goroutines copy halves of a size-byte buffer: the best of three passes.
func copyBandwidth(size int64, threads int) float64 {
	buf := probe(size)
	half := len(buf) / 2
	src, dst := buf[:half], buf[half:2*half]
	share := half / threads
	best := 0.0
	for range 3 {
		var wg sync.WaitGroup
		t0 := time.Now()
		for w := range threads {
			wg.Go(func() { copy(dst[w*share:(w+1)*share], src[w*share:(w+1)*share]) })
		}
		wg.Wait()
		best = max(best, 2*float64(share*threads)/time.Since(t0).Seconds())
	}
	return best
}

// speedRatios adds the headline ratios of the figures in sp.
func speedRatios(sp *report.Speed) {
	find := func(prefix string, sz image.Point) *report.Latency {
		for i, l := range sp.Latency {
			if strings.HasPrefix(l.Engine, prefix) && l.Width == sz.X && l.Height == sz.Y {
				return &sp.Latency[i]
			}
		}
		return nil
	}
	for _, sz := range frameSizes {
		var one, pool *report.Latency
		for i, l := range sp.Latency {
			if l.Width != sz.X || l.Height != sz.Y || !strings.HasPrefix(l.Engine, "facegate") {
				continue
			}
			if strings.HasSuffix(l.Engine, "(pool)") {
				pool = &sp.Latency[i]
			} else {
				one = &sp.Latency[i]
			}
		}
		base := find("go-face", sz)
		if one != nil && base != nil && base.P50 > 0 {
			sp.Ratios = append(sp.Ratios, report.Ratio{
				Name:  fmt.Sprintf("%dx%d: facegate 1 worker p50 / go-face Recognizer p50 (1.0 = no overhead)", sz.X, sz.Y),
				Value: one.P50 / base.P50,
			})
		}
		if one != nil && pool != nil && one.PerSecond > 0 {
			sp.Ratios = append(sp.Ratios, report.Ratio{
				Name:  fmt.Sprintf("%dx%d: pool of %d calls/s / 1 worker calls/s", sz.X, sz.Y, pool.Workers),
				Value: pool.PerSecond / one.PerSecond,
			})
		}
	}
	byKey := map[string]report.Identify{}
	for _, r := range sp.Identify {
		byKey[fmt.Sprintf("%s/%d", strings.SplitN(r.Engine, ",", 2)[0], r.N)] = r
	}
	for _, r := range sp.Identify {
		if !strings.HasPrefix(r.Engine, "gallery.Gallery") {
			continue
		}
		if p, ok := byKey[fmt.Sprintf("plain Go loop/%d", r.N)]; ok && r.NsPerQuery > 0 {
			sp.Ratios = append(sp.Ratios, report.Ratio{
				Name:  fmt.Sprintf("N=%d: plain Go loop time / %s time (speed-up)", r.N, r.Engine),
				Value: p.NsPerQuery / r.NsPerQuery,
			})
		}
		if r.OfBandwidth > 0 && r.N >= parallelRows {
			sp.Ratios = append(sp.Ratios, report.Ratio{
				Name:  fmt.Sprintf("N=%d: %s scan rate / same-size read probe", r.N, r.Engine),
				Value: r.OfBandwidth,
			})
		}
	}
}
