package report

import (
	"encoding/json"
	"errors"
	"image/png"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/facegate/facegate/bench/metrics"
)

// line computes a population's figures the way the bench command does.
func line(t *testing.T, name string, gen, imp []float32) Line {
	t.Helper()
	l := Line{Name: name, Genuine: metrics.Summarize(gen), Impostor: metrics.Summarize(imp)}
	c, err := metrics.ROC(gen, imp)
	if err != nil {
		t.Fatal(err)
	}
	e, err := c.EqualErrorRate()
	if err != nil {
		t.Fatal(err)
	}
	l.EER = &e
	for _, far := range []float64{0.01, 0.001} {
		a, err := c.TARAtFAR(far)
		if err != nil {
			t.Fatal(err)
		}
		l.AtFAR = append(l.AtFAR, a)
	}
	l.Curve = &c
	gh, _ := metrics.NewHistogram(gen, 0, 1.2, 24)
	ih, _ := metrics.NewHistogram(imp, 0, 1.2, 24)
	l.GenuineHist, l.ImpostorHist = &gh, &ih
	l.ImpostorTotal = int64(len(imp))
	return l
}

func spread(n int, lo, hi float32) []float32 {
	out := make([]float32, n)
	for i := range out {
		out[i] = lo + (hi-lo)*float32(i)/float32(n)
	}
	return out
}

func TestWriteAccuracy(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "out")
	all := line(t, "all", spread(50, 0.2, 0.65), spread(2000, 0.55, 1.1))
	ea := line(t, "east-asian", spread(20, 0.3, 0.65), spread(300, 0.45, 0.9))
	r := &Report{
		Kind:    "accuracy",
		Command: "bench accuracy --set x",
		Machine: ThisMachine(),
		Model:   Model{ID: "test-model/v1", Dim: 128, Metric: "euclidean", Threshold: 0.6, Files: []File{{Name: "m.dat", Bytes: 3, SHA256: "abc"}}},
		Accuracy: &Accuracy{
			Set: "x", Photos: 10, Faces: 9, Identities: 3, Workers: 2,
			Skipped: []Skip{{Path: "a/1.jpg", Reason: "no face"}},
			Seed:    1, MaxImpostors: 1000,
			Lines: []Line{all, ea, {Name: "cross-group", Problem: "no impostor pairs"}},
		},
	}
	files, err := Write(dir, r)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"roc.png", "det.png", "hist.png", "hist-east-asian.png", "results.json", "report.md"}
	if !slices.Equal(files, want) {
		t.Errorf("wrote %v, want %v", files, want)
	}
	for _, f := range want {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Error(err)
		}
		if strings.HasSuffix(f, ".png") {
			fh, err := os.Open(filepath.Join(dir, f))
			if err != nil {
				t.Fatal(err)
			}
			cfg, err := png.DecodeConfig(fh)
			fh.Close()
			if err != nil || cfg.Width < 400 || cfg.Height < 300 {
				t.Errorf("%s: %v, %dx%d", f, err, cfg.Width, cfg.Height)
			}
		}
	}

	js, err := os.ReadFile(filepath.Join(dir, "results.json"))
	if err != nil {
		t.Fatal(err)
	}
	var back Report
	if err := json.Unmarshal(js, &back); err != nil {
		t.Fatal(err)
	}
	if back.Model.ID != "test-model/v1" || len(back.Accuracy.Lines) != 3 ||
		*back.Accuracy.Lines[0].EER != *all.EER || back.Accuracy.Lines[1].AtFAR[1] != ea.AtFAR[1] ||
		len(back.Accuracy.Lines[0].Curve.Points) != len(all.Curve.Points) {
		t.Errorf("results.json does not round-trip the figures")
	}

	md, err := os.ReadFile(filepath.Join(dir, "report.md"))
	if err != nil {
		t.Fatal(err)
	}
	// Read + Write reproduces the report from results.json alone.
	again, err := Read(dir)
	if err != nil {
		t.Fatal(err)
	}
	dir2 := t.TempDir()
	if _, err := Write(dir2, again); err != nil {
		t.Fatal(err)
	}
	md2, _ := os.ReadFile(filepath.Join(dir2, "report.md"))
	if string(md2) != string(md) {
		t.Error("report.md rewritten from results.json differs")
	}
	for _, s := range []string{
		"test-model/v1", "`abc`", r.Machine.CPU, r.Machine.GoVersion,
		"| east-asian |", "a/1.jpg | no face",
		pct(all.EER.Rate),
		"not enough pairs (300 < 1000 impostor)", // 0.1 % needs 1000 impostor pairs
		"![roc](roc.png)", "cross-group: no impostor pairs",
	} {
		if !strings.Contains(string(md), s) {
			t.Errorf("report.md lacks %q", s)
		}
	}
}

func TestWriteSpeed(t *testing.T) {
	dir := t.TempDir()
	r := &Report{
		Kind: "speed", Machine: ThisMachine(), Model: Model{ID: "m"},
		Speed: &Speed{
			Photo:     "p.jpg",
			Latency:   []Latency{{Engine: "go-face (baseline)", Width: 640, Height: 480, Workers: 1, Calls: 5, Faces: 1, P50: 30, P95: 31, P99: 32, PerSecond: 33}},
			Identify:  []Identify{{Engine: "gallery", N: 1000, Queries: 10, NsPerQuery: 2e4, NsPerRow: 20}, {Engine: "gallery", N: 10000, Queries: 10, NsPerQuery: 2e5, NsPerRow: 20}},
			Bandwidth: []Bandwidth{{Kind: "read", Threads: 1, Bytes: 1 << 30, GBPerSecond: 30}},
			Memory:    Memory{VmHWMBytes: 100 << 20},
			Ratios:    []Ratio{{Name: "facegate / go-face p50 at 640×480", Value: 1.02}},
		},
	}
	files, err := Write(dir, r)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(files, []string{"identify.png", "results.json", "report.md"}) {
		t.Errorf("wrote %v", files)
	}
	md, _ := os.ReadFile(filepath.Join(dir, "report.md"))
	for _, s := range []string{"| go-face (baseline) | 640×480 | 1 | 5 | 1 | 30.0 |", "| 1.020 |", "100.0 MiB", "| read | 1 | 1024 MiB | 30.0 |"} {
		if !strings.Contains(string(md), s) {
			t.Errorf("report.md lacks %q", s)
		}
	}
}

func TestReadErrors(t *testing.T) {
	dir := t.TempDir()
	if _, err := Read(dir); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing results.json: %v", err)
	}
	for _, bad := range []string{"{", "{}", "[1]"} {
		if err := os.WriteFile(filepath.Join(dir, "results.json"), []byte(bad), 0o644); err != nil {
			t.Fatal(err)
		}
		if _, err := Read(dir); err == nil {
			t.Errorf("Read accepted %q", bad)
		}
	}
}

func TestWriteUnwritableDir(t *testing.T) {
	f := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(f, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Write(filepath.Join(f, "sub"), &Report{Kind: "speed"}); err == nil {
		t.Error("Write into a path under a regular file succeeded")
	}
}

func TestParsers(t *testing.T) {
	if got := cpuModel(strings.NewReader("processor\t: 0\nvendor_id\t: AuthenticAMD\nmodel name\t: AMD EPYC 9999 64-Core\n")); got != "AMD EPYC 9999 64-Core" {
		t.Errorf("cpuModel = %q", got)
	}
	if got := cpuModel(strings.NewReader("processor : 0\n")); got != "unknown" {
		t.Errorf("cpuModel without model name = %q", got)
	}
	status := "Name:\tbench\nVmPeak:\t  999 kB\nVmHWM:\t   2048 kB\nVmRSS:\t 1024 kB\n"
	if n, err := statusField(strings.NewReader(status), "VmHWM:"); err != nil || n != 2048*1024 {
		t.Errorf("VmHWM = %d, %v", n, err)
	}
	if n, err := statusField(strings.NewReader(status), "VmRSS:"); err != nil || n != 1024*1024 {
		t.Errorf("VmRSS = %d, %v", n, err)
	}
	if _, err := statusField(strings.NewReader("Name: x\n"), "VmHWM:"); !errors.Is(err, ErrNoStatusField) {
		t.Errorf("VmHWM without the line: %v", err)
	}
	if _, err := statusField(strings.NewReader("VmHWM: lots\n"), "VmHWM:"); err == nil {
		t.Error("a non-number was accepted")
	}
	hwm, err1 := PeakRSS()
	rss, err2 := RSS()
	if err1 != nil || err2 != nil || rss <= 0 || hwm < rss {
		t.Errorf("PeakRSS = %d, %v; RSS = %d, %v", hwm, err1, rss, err2)
	}
}

func TestHashFile(t *testing.T) {
	p := filepath.Join(t.TempDir(), "abc.dat")
	if err := os.WriteFile(p, []byte("abc"), 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := HashFile(p)
	if err != nil {
		t.Fatal(err)
	}
	// sha256("abc") from FIPS 180-2, appendix B.1.
	if f != (File{Name: "abc.dat", Bytes: 3, SHA256: "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"}) {
		t.Errorf("HashFile = %+v", f)
	}
	if _, err := HashFile(p + ".missing"); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: %v", err)
	}
}

func TestCount(t *testing.T) {
	for n, want := range map[int]string{1000: "1k", 1000000: "1M", 2500: "2500", 20000000: "20M", 7: "7"} {
		if got := count(n); got != want {
			t.Errorf("count(%d) = %q, want %q", n, got, want)
		}
	}
}

func TestSlug(t *testing.T) {
	for in, want := range map[string]string{"east-asian": "east-asian", "Other People": "other-people", "../x": "x", "age 20–30": "age-20-30"} {
		if got := Slug(in); got != want {
			t.Errorf("Slug(%q) = %q, want %q", in, got, want)
		}
	}
}
