package dlib_test

import (
	"bytes"
	"errors"
	"fmt"
	"image/jpeg"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	face "github.com/Kagami/go-face"

	"github.com/facegate/facegate/facematch/dlib"
	"github.com/facegate/facegate/internal/testenv"
)

// photo640 returns a shared one-face photo cropped to 4:3 and scaled to
// 640×480 in memory, as a quality-90 JPEG.
func photo640(b *testing.B) []byte {
	b.Helper()
	img := decode(b, readFile(b, filepath.Join(testenv.Faces(b), "obama", "5.jpg")))
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, resize(crop43(img), 640, 480), &jpeg.Options{Quality: 90}); err != nil {
		b.Fatal(err)
	}
	return buf.Bytes()
}

// blasDefault is OpenBLAS's thread count before any Open changed it.
var blasDefault = dlib.SetBLASThreads(0)

// cpuTime returns the user+system CPU time of the whole process.
func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// run calls extract n times from conc goroutines and returns the wall time.
func run(n, conc int, extract func() error) (time.Duration, error) {
	var wg sync.WaitGroup
	work := make(chan struct{}, n)
	for range n {
		work <- struct{}{}
	}
	close(work)
	errs := make(chan error, conc)
	start := time.Now()
	for range conc {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range work {
				if err := extract(); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	close(errs)
	return elapsed, <-errs
}

// BenchmarkThroughput measures, in one run on the same 640×480 one-face
// JPEG, faces per second of:
//   - goface-serial: go-face used directly, one Recognizer, one caller, with
//     OpenBLAS's default thread count (as go-face ships: the baseline);
//   - goface-serial-blas1: the same with one OpenBLAS thread;
//   - goface-shared: one go-face Recognizer shared by NumCPU callers (its
//     detector and network have separate locks, so calls overlap a little);
//   - pool1: this package's Extractor with 1 recognizer, NumCPU callers;
//   - poolN: the Extractor with NumCPU recognizers, NumCPU callers;
//   - poolN-blasdefault: poolN with OpenBLAS's default thread count.
//
// All but the two "default" ones run with one OpenBLAS thread (Open's
// default). It reports each as faces/s and ms/face, and the ratios
// poolN/pool1 and poolN/goface-serial. Each iteration runs a batch of
// 4·NumCPU extractions per configuration, interleaved so that load from
// other processes hits all alike.
func BenchmarkThroughput(b *testing.B) {
	dir := testenv.Models(b, dlib.ModelFiles...)
	data := photo640(b)
	cpus := runtime.NumCPU()

	rec, err := face.NewRecognizer(dir)
	if err != nil {
		b.Fatal(err)
	}
	defer rec.Close()
	pool1, err := dlib.Open(dir, dlib.Config{Workers: 1})
	if err != nil {
		b.Fatal(err)
	}
	defer pool1.Close()
	poolN, err := dlib.Open(dir, dlib.Config{Workers: cpus})
	if err != nil {
		b.Fatal(err)
	}
	defer poolN.Close()

	one := func(faces int, err error) error {
		if err == nil && faces != 1 {
			err = fmt.Errorf("found %d faces in the benchmark photo, want 1", faces)
		}
		return err
	}
	configs := []struct {
		name  string
		conc  int
		blas  int
		fn    func() error
		total time.Duration
		cpu   time.Duration
	}{
		{name: "goface-serial", conc: 1, blas: blasDefault, fn: func() error { f, err := rec.Recognize(data); return one(len(f), err) }},
		{name: "goface-serial-blas1", conc: 1, blas: 1, fn: func() error { f, err := rec.Recognize(data); return one(len(f), err) }},
		{name: "goface-shared", conc: cpus, blas: 1, fn: func() error { f, err := rec.Recognize(data); return one(len(f), err) }},
		{name: "pool1", conc: cpus, blas: 1, fn: func() error { f, err := pool1.Extract(data); return one(len(f), err) }},
		{name: "poolN", conc: cpus, blas: 1, fn: func() error { f, err := poolN.Extract(data); return one(len(f), err) }},
		{name: "poolN-blasdefault", conc: cpus, blas: blasDefault, fn: func() error { f, err := poolN.Extract(data); return one(len(f), err) }},
	}
	defer dlib.SetBLASThreads(1)
	for i := range configs { // warm up caches and BLAS buffers
		dlib.SetBLASThreads(configs[i].blas)
		if _, err := run(cpus, configs[i].conc, configs[i].fn); err != nil {
			b.Fatal(err)
		}
	}
	batch := 4 * cpus
	b.ResetTimer()
	for range b.N {
		for i := range configs {
			dlib.SetBLASThreads(configs[i].blas)
			cpu0 := cpuTime(b)
			d, err := run(batch, configs[i].conc, configs[i].fn)
			if err != nil {
				b.Fatal(err)
			}
			configs[i].total += d
			configs[i].cpu += cpuTime(b) - cpu0
		}
	}
	b.StopTimer()
	faces := float64(b.N * batch)
	rate := map[string]float64{}
	for _, c := range configs {
		rate[c.name] = faces / c.total.Seconds()
		b.ReportMetric(rate[c.name], "faces/s-"+c.name)
		b.ReportMetric(1000/rate[c.name], "ms/face-"+c.name)
		b.ReportMetric(float64(c.cpu.Milliseconds())/faces, "cpu-ms/face-"+c.name)
		b.ReportMetric(c.cpu.Seconds()/c.total.Seconds(), "cores-used-"+c.name)
	}
	b.ReportMetric(rate["poolN"]/rate["pool1"], "x-poolN/pool1")
	b.ReportMetric(rate["poolN"]/rate["goface-serial"], "x-poolN/goface-serial")
	b.ReportMetric(float64(cpus), "cpus")
	b.ReportMetric(float64(blasDefault), "blas-threads-default")
}

// BenchmarkEncodeJPEG measures the in-memory re-encoding ExtractImage adds
// for a decoded 640×480 frame, against go-face's whole extraction of the
// same frame as JPEG in the same run.
func BenchmarkEncodeJPEG(b *testing.B) {
	dir := testenv.Models(b, dlib.ModelFiles...)
	data := photo640(b)
	img := decode(b, data)
	rec, err := face.NewRecognizer(dir)
	if err != nil {
		b.Fatal(err)
	}
	defer rec.Close()
	var enc, ext time.Duration
	b.ResetTimer()
	for range b.N {
		t0 := time.Now()
		if _, err := dlib.EncodeJPEG(img); err != nil {
			b.Fatal(err)
		}
		t1 := time.Now()
		if _, err := rec.Recognize(data); err != nil {
			b.Fatal(err)
		}
		enc += t1.Sub(t0)
		ext += time.Since(t1)
	}
	b.ReportMetric(float64(enc.Microseconds())/float64(b.N)/1000, "ms-encode")
	b.ReportMetric(float64(ext.Microseconds())/float64(b.N)/1000, "ms-extract")
	b.ReportMetric(float64(enc)/float64(ext), "x-encode/extract")
}

// rssMB returns the process's resident set size in MB from /proc.
func rssMB() (float64, error) {
	status, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(status), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == "VmRSS:" {
			kb, err := strconv.ParseFloat(f[1], 64)
			return kb / 1024, err
		}
	}
	return 0, errors.New("no VmRSS line in /proc/self/status")
}

// TestMain runs the tests, or, when BenchmarkOpen starts the test binary
// again with FACEGATE_DLIB_RSS_HELPER=n, loads n recognizers in this fresh
// process and prints the RSS they added (in the benchmark's own process,
// memory freed by earlier work is reused and hides the cost).
func TestMain(m *testing.M) {
	if v := os.Getenv("FACEGATE_DLIB_RSS_HELPER"); v != "" {
		if err := rssHelper(v); err != nil {
			fmt.Fprintln(os.Stderr, "rss helper:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

func rssHelper(workers string) error {
	n, err := strconv.Atoi(workers)
	if err != nil {
		return err
	}
	before, err := rssMB()
	if err != nil {
		return err
	}
	e, err := dlib.Open(testenv.ModelDir(), dlib.Config{Workers: n})
	if err != nil {
		return err
	}
	defer e.Close()
	after, err := rssMB()
	if err != nil {
		return err
	}
	fmt.Printf("rss-added-mb %.1f\n", after-before)
	return nil
}

// freshRSS loads workers recognizers in a fresh process and returns the
// RSS they added, in MB.
func freshRSS(b *testing.B, workers int) float64 {
	if _, err := rssMB(); err != nil {
		b.Skipf("cannot read RSS: %v", err)
	}
	cmd := exec.Command(os.Args[0])
	cmd.Env = append(os.Environ(), "FACEGATE_DLIB_RSS_HELPER="+strconv.Itoa(workers))
	out, err := cmd.CombinedOutput()
	if err != nil {
		b.Fatalf("helper process: %v\n%s", err, out)
	}
	for _, line := range strings.Split(string(out), "\n") {
		if v, ok := strings.CutPrefix(line, "rss-added-mb "); ok {
			mb, err := strconv.ParseFloat(v, 64)
			if err != nil {
				b.Fatal(err)
			}
			return mb
		}
	}
	b.Fatalf("helper process printed no rss-added-mb line:\n%s", out)
	return 0
}

// BenchmarkOpen measures loading one recognizer (the three model files):
// time per recognizer (ns/op), the time to open a default pool (NumCPU
// recognizers, loaded concurrently), and the resident memory a pool of one
// and of two recognizers adds to a fresh process.
func BenchmarkOpen(b *testing.B) {
	dir := testenv.Models(b, dlib.ModelFiles...)
	for range b.N {
		e, err := dlib.Open(dir, dlib.Config{Workers: 1})
		if err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		e.Close()
		b.StartTimer()
	}
	b.StopTimer()
	start := time.Now()
	e, err := dlib.Open(dir, dlib.Config{})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(time.Since(start).Seconds(), "s-open-pool-of-NumCPU")
	e.Close()
	b.ReportMetric(freshRSS(b, 1), "MB-rss-1-recognizer")
	b.ReportMetric(freshRSS(b, 2), "MB-rss-2-recognizers")
}
