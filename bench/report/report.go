// Package report holds the results of FaceGate's benchmark command and writes
// them into an output directory: a Markdown report (report.md), PNG plots and
// the machine-readable results.json holding every figure of the report.
//
// The package is pure Go; the command in bench/ fills a Report and calls Write.
package report

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/facegate/facegate/bench/metrics"
)

// Report is everything one benchmark run measured.
type Report struct {
	// Kind is "accuracy" or "speed".
	Kind string `json:"kind"`
	// Command is the command line that produced the report.
	Command string `json:"command"`
	// Machine is the computer the run measured.
	Machine Machine `json:"machine"`
	// Model is the embedding model measured.
	Model Model `json:"model"`
	// Accuracy holds the verification figures of an accuracy run.
	Accuracy *Accuracy `json:"accuracy,omitempty"`
	// Speed holds the timings of a speed run.
	Speed *Speed `json:"speed,omitempty"`
	// Identification holds the open-set 1:N figures of an identify run.
	Identification *Identification `json:"identification,omitempty"`
	// Pad holds the presentation-attack figures of a pad run.
	Pad *Pad `json:"pad,omitempty"`
	// Notes are remarks printed at the end of the report.
	Notes []string `json:"notes,omitempty"`
}

// Machine describes the computer a benchmark ran on.
type Machine struct {
	CPU       string    `json:"cpu"`
	Cores     int       `json:"cores"`
	GOOS      string    `json:"goos"`
	GOARCH    string    `json:"goarch"`
	GoVersion string    `json:"go_version"`
	Kernel    string    `json:"kernel,omitempty"`
	Date      time.Time `json:"date"`
	// LoadStart and LoadEnd are /proc/loadavg's 1, 5 and 15 minute load
	// averages when the measurement started and ended: other work on the
	// machine slows every figure.
	LoadStart string `json:"load_start,omitempty"`
	LoadEnd   string `json:"load_end,omitempty"`
}

// LoadAverage returns the first three fields of /proc/loadavg, or "" when
// it cannot be read.
func LoadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return ""
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return ""
	}
	return strings.Join(f[:3], " ")
}

// ThisMachine describes the running computer: the CPU model from
// /proc/cpuinfo, the number of logical CPUs, the Go toolchain and the time.
func ThisMachine() Machine {
	m := Machine{
		CPU:       "unknown",
		Cores:     runtime.NumCPU(),
		GOOS:      runtime.GOOS,
		GOARCH:    runtime.GOARCH,
		GoVersion: runtime.Version(),
		Date:      time.Now().UTC().Truncate(time.Second),
		LoadStart: LoadAverage(),
	}
	if f, err := os.Open("/proc/cpuinfo"); err == nil {
		m.CPU = cpuModel(f)
		f.Close()
	}
	if b, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		m.Kernel = strings.TrimSpace(string(b))
	}
	return m
}

// cpuModel returns the first "model name" of a /proc/cpuinfo listing.
func cpuModel(r io.Reader) string {
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return "unknown"
}

// Model describes the measured embedding model and the files it was loaded from.
type Model struct {
	// ID is the model's facematch.Model.ID.
	ID string `json:"id"`
	// Dim is the descriptor length and Metric the comparison ("euclidean", "cosine").
	Dim    int    `json:"dim"`
	Metric string `json:"metric"`
	// Threshold is the model's default match threshold.
	Threshold float64 `json:"threshold"`
	// ThresholdPolicy says how the default threshold was chosen and how the
	// report uses it.
	ThresholdPolicy string `json:"threshold_policy"`
	// Source says where the weights come from.
	Source string `json:"source"`
	// Files are the model files with their checksums.
	Files []File `json:"files"`
}

// File is one model file and its checksum.
type File struct {
	Name   string `json:"name"`
	Bytes  int64  `json:"bytes"`
	SHA256 string `json:"sha256"`
}

// HashFile returns the size and SHA-256 of the file at path, named by its base name.
func HashFile(path string) (File, error) {
	f, err := os.Open(path)
	if err != nil {
		return File{}, err
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, f)
	if err != nil {
		return File{}, fmt.Errorf("report: hashing %s: %w", path, err)
	}
	return File{Name: filepath.Base(path), Bytes: n, SHA256: hex.EncodeToString(h.Sum(nil))}, nil
}

// Accuracy holds the verification figures of a labelled photo set.
type Accuracy struct {
	// Set is the photo directory, <identity>/<photo>.
	Set string `json:"set"`
	// GroupsFile is the identity → group table, if one was given.
	GroupsFile string `json:"groups_file,omitempty"`
	// Photos is the number of photos read, Faces the number that gave exactly
	// one face and entered the pairs, Identities the identities among them.
	Photos     int `json:"photos"`
	Faces      int `json:"faces"`
	Identities int `json:"identities"`
	// Workers is the number of extraction workers.
	Workers int `json:"workers"`
	// ExtractSeconds is the wall time of the extraction.
	ExtractSeconds float64 `json:"extract_seconds"`
	// Skipped lists the photos left out and why.
	Skipped []Skip `json:"skipped"`
	// Largest reports whether a photo with several faces used its largest
	// (--largest) instead of being skipped; ByLargest lists the photos
	// decided that way.
	Largest   bool   `json:"largest,omitempty"`
	ByLargest []Skip `json:"by_largest,omitempty"`
	// LOIO holds the leave-one-identity-out figures of each population.
	LOIO []LOIOLine `json:"loio,omitempty"`
	// Seed and MaxImpostors are the impostor sampling parameters.
	Seed         uint64 `json:"seed"`
	MaxImpostors int    `json:"max_impostors"`
	// Lines holds the figures of every population: "all", then each group,
	// then "cross-group" when there is more than one group.
	Lines []Line `json:"lines"`
}

// Skip is a photo left out of the pairs.
type Skip struct {
	Path   string `json:"path"`
	Reason string `json:"reason"`
}

// Line is the verification figures of one population of pairs.
type Line struct {
	// Name is "all", a group name, or "cross-group".
	Name string `json:"name"`
	// Identities and Faces count the population's people and photos.
	Identities int `json:"identities"`
	Faces      int `json:"faces"`
	// ImpostorTotal is the number of impostor pairs in the population and
	// Sampled whether only a seeded sample of them was scored.
	ImpostorTotal int64 `json:"impostor_total"`
	Sampled       bool  `json:"sampled"`
	// Genuine and Impostor summarize the pair distances.
	Genuine  metrics.Summary `json:"genuine"`
	Impostor metrics.Summary `json:"impostor"`
	// EER is the equal error rate; nil when a kind of pair is missing.
	EER *metrics.EER `json:"eer,omitempty"`
	// AtFAR holds the TAR at each target FAR.
	AtFAR []metrics.AtFAR `json:"at_far,omitempty"`
	// AtThreshold is the operating point at the model's default threshold.
	AtThreshold *metrics.Point `json:"at_threshold,omitempty"`
	// Curve is the ROC (thinned for size), and the histograms the binned
	// distances of each kind.
	Curve        *metrics.Curve     `json:"curve,omitempty"`
	GenuineHist  *metrics.Histogram `json:"genuine_hist,omitempty"`
	ImpostorHist *metrics.Histogram `json:"impostor_hist,omitempty"`
	// Note explains how the population's pairs were formed, if that is not
	// obvious from its name.
	Note string `json:"note,omitempty"`
	// Problem says why figures are missing, if they are.
	Problem string `json:"problem,omitempty"`
}

// Speed holds the timings of a speed run.
type Speed struct {
	// Photo is the photo resized for the latency runs.
	Photo string `json:"photo"`
	// Latency holds one row per engine, frame size and worker count.
	Latency []Latency `json:"latency"`
	// Identify holds the 1:N throughput per gallery size.
	Identify []Identify `json:"identify"`
	// Bandwidth holds the memory-bandwidth probe.
	Bandwidth []Bandwidth `json:"bandwidth"`
	// Memory is the process's peak memory.
	Memory Memory `json:"memory"`
	// Ratios are the headline comparisons, each measured in this run.
	Ratios []Ratio `json:"ratios"`
}

// Ratio is one comparison of two figures measured in the same run.
type Ratio struct {
	// Name says what is divided by what.
	Name string `json:"name"`
	// Value is the ratio.
	Value float64 `json:"value"`
}

// Latency is the extraction latency of one engine at one frame size.
type Latency struct {
	// Engine names what was timed, e.g. "facegate dlib" or "go-face (baseline)".
	Engine string `json:"engine"`
	// Width and Height are the frame size; Workers the number of concurrent callers.
	Width   int `json:"width"`
	Height  int `json:"height"`
	Workers int `json:"workers"`
	// Calls is the number of timed calls and Faces the faces found per call.
	Calls int `json:"calls"`
	Faces int `json:"faces"`
	// P50, P95 and P99 are per-call latencies in milliseconds.
	P50 float64 `json:"p50_ms"`
	P95 float64 `json:"p95_ms"`
	P99 float64 `json:"p99_ms"`
	// PerSecond is the number of calls completed per second of wall time.
	PerSecond float64 `json:"per_second"`
}

// Identify is the 1:N search throughput at one gallery size.
type Identify struct {
	// Engine names the search, e.g. "gallery.Gallery" or "pure-Go float32 scan".
	Engine string `json:"engine"`
	// N is the gallery size and Queries the number of timed searches.
	N       int `json:"n"`
	Queries int `json:"queries"`
	// NsPerQuery and NsPerRow are the mean time per search and per gallery row.
	NsPerQuery float64 `json:"ns_per_query"`
	NsPerRow   float64 `json:"ns_per_row"`
	// BytesPerRow is the memory one gallery row occupies in the scan.
	BytesPerRow int `json:"bytes_per_row"`
	// HeapBytes is how much the Go heap grew to hold the N templates (rows,
	// subject IDs and index), measured after a garbage collection.
	HeapBytes int64 `json:"heap_bytes"`
	// Threads is the number of goroutines the scan ran on.
	Threads int `json:"threads"`
	// GBPerSecond is the scan rate BytesPerRow/NsPerRow.
	GBPerSecond float64 `json:"gb_per_second"`
	// ProbeGBPerSecond is the read bandwidth of a buffer of the same size as
	// the scanned rows on the same number of goroutines, measured just
	// before the scan, and OfBandwidth is GBPerSecond / ProbeGBPerSecond.
	ProbeGBPerSecond float64 `json:"probe_gb_per_second"`
	OfBandwidth      float64 `json:"of_bandwidth"`
}

// Bandwidth is one memory-bandwidth measurement.
type Bandwidth struct {
	// Kind is "read" (sum of a buffer) or "copy" (runtime memmove).
	Kind string `json:"kind"`
	// Threads is the number of goroutines, Bytes the buffer size per run.
	Threads int   `json:"threads"`
	Bytes   int64 `json:"bytes"`
	// GBPerSecond is bytes read (read) or bytes read+written (copy) per second.
	GBPerSecond float64 `json:"gb_per_second"`
}

// Memory is a process's peak memory use.
type Memory struct {
	// VmHWMBytes is the peak resident set size from /proc/self/status; it
	// includes C allocations (dlib, OpenBLAS) that the Go runtime does not see.
	VmHWMBytes int64 `json:"vm_hwm_bytes"`
	// GoSysBytes is runtime.MemStats.Sys: memory the Go runtime obtained
	// from the OS. GoHeapPeakBytes is the largest HeapInuse sampled.
	GoSysBytes      uint64 `json:"go_sys_bytes"`
	GoHeapPeakBytes uint64 `json:"go_heap_peak_bytes"`
	// Recognizers is the number of models the speed run loaded and
	// RecognizerRSSBytes the resident memory each added on average (VmRSS
	// after loading minus before, divided by Recognizers).
	Recognizers        int   `json:"recognizers,omitempty"`
	RecognizerRSSBytes int64 `json:"recognizer_rss_bytes,omitempty"`
}

// PeakRSS returns VmHWM of /proc/self/status in bytes.
func PeakRSS() (int64, error) { return procStatus("VmHWM:") }

// RSS returns VmRSS of /proc/self/status in bytes.
func RSS() (int64, error) { return procStatus("VmRSS:") }

func procStatus(field string) (int64, error) {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0, err
	}
	defer f.Close()
	return statusField(f, field)
}

// ErrNoStatusField is returned when /proc/self/status lacks a field.
var ErrNoStatusField = errors.New("report: field missing from /proc/self/status")

// statusField returns the "<field> N kB" value of a /proc/<pid>/status
// listing in bytes.
func statusField(r io.Reader, field string) (int64, error) {
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		v, ok := strings.CutPrefix(sc.Text(), field)
		if !ok {
			continue
		}
		var kb int64
		if _, err := fmt.Sscanf(strings.TrimSpace(v), "%d kB", &kb); err != nil {
			return 0, fmt.Errorf("report: parsing %s %q: %w", field, v, err)
		}
		return kb * 1024, nil
	}
	return 0, fmt.Errorf("%w: %s", ErrNoStatusField, field)
}

// Read returns the report stored in dir/results.json, for rewriting its
// Markdown and plots with Write.
func Read(dir string) (*Report, error) {
	js, err := os.ReadFile(filepath.Join(dir, "results.json"))
	if err != nil {
		return nil, err
	}
	var r Report
	if err := json.Unmarshal(js, &r); err != nil {
		return nil, fmt.Errorf("report: %s: %w", filepath.Join(dir, "results.json"), err)
	}
	if r.Kind == "" {
		return nil, fmt.Errorf("report: %s: no kind: not a results file", filepath.Join(dir, "results.json"))
	}
	return &r, nil
}

// Write writes report.md, results.json and the PNG plots of r into dir,
// creating dir if needed. It returns the names of the files written.
func Write(dir string, r *Report) ([]string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	var written []string
	var plots []string
	if r.Accuracy != nil {
		p, err := accuracyPlots(dir, r.Accuracy)
		if err != nil {
			return nil, err
		}
		plots = append(plots, p...)
	}
	if r.Identification != nil {
		p, err := identificationPlots(dir, r.Identification)
		if err != nil {
			return nil, err
		}
		plots = append(plots, p...)
	}
	if r.Pad != nil {
		p, err := padPlots(dir, r.Pad)
		if err != nil {
			return nil, err
		}
		plots = append(plots, p...)
	}
	if r.Speed != nil {
		p, err := speedPlots(dir, r.Speed)
		if err != nil {
			return nil, err
		}
		plots = append(plots, p...)
	}
	written = append(written, plots...)

	js, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("report: encoding results.json: %w", err)
	}
	if err := os.WriteFile(filepath.Join(dir, "results.json"), append(js, '\n'), 0o644); err != nil {
		return nil, err
	}
	written = append(written, "results.json")

	var md strings.Builder
	markdown(&md, r, plots)
	if err := os.WriteFile(filepath.Join(dir, "report.md"), []byte(md.String()), 0o644); err != nil {
		return nil, err
	}
	written = append(written, "report.md")
	return written, nil
}
