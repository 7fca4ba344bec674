package report

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/facegate/facegate/bench/metrics"
)

// FuzzRead feeds arbitrary bytes to Read as results.json. Read must not
// panic and must return either a report with a kind or an error, never
// both or neither; a report it returns must survive a rewrite of
// results.json and a second Read unchanged.
func FuzzRead(f *testing.F) {
	for _, s := range []string{
		"", "{", "{}", "[1]", "null", `{"kind":1}`, `{"kind":""}`,
		`{"kind":"speed"}`, `{"kind":"accuracy","accuracy":{}}`,
		`{"kind":"speed","machine":{"date":"2026-11-24T01:02:03+09:00"},"notes":["a"]}`,
		`{"kind":"accuracy","accuracy":{"lines":[{"name":"x","eer":null}]}}`,
	} {
		f.Add([]byte(s))
	}
	// A small accuracy report with every part filled in, the way the bench
	// command writes it (the committed ones under bench/results are 300 KB:
	// the fuzzer spends its time minimizing those instead of running).
	gen, imp := spread(8, 0.2, 0.65), spread(12, 0.55, 1.1)
	all := Line{Name: "all", Genuine: metrics.Summarize(gen), Impostor: metrics.Summarize(imp), ImpostorTotal: int64(len(imp))}
	if c, err := metrics.ROC(gen, imp); err == nil {
		all.Curve = &c
		if e, err := c.EqualErrorRate(); err == nil {
			all.EER = &e
		}
		if a, err := c.TARAtFAR(0.1); err == nil {
			all.AtFAR = append(all.AtFAR, a)
		}
	}
	if h, err := metrics.NewHistogram(gen, 0, 1.2, 6); err == nil {
		all.GenuineHist = &h
	}
	small := &Report{
		Kind: "accuracy", Command: "bench accuracy --set x",
		Model: Model{ID: "m/v1", Dim: 128, Metric: "euclidean", Threshold: 0.6, Files: []File{{Name: "m.dat", Bytes: 3, SHA256: "abc"}}},
		Accuracy: &Accuracy{Set: "x", Photos: 3, Faces: 3, Identities: 2, Skipped: []Skip{{Path: "a/1.jpg", Reason: "no face"}},
			Lines: []Line{all, {Name: "cross-group", Problem: "no impostor pairs"}}},
		Notes: []string{"n"},
	}
	if js, err := json.Marshal(small); err == nil {
		f.Add(js)
	}
	// The committed speed report, cut to one entry of each list (the whole
	// file is 12 KB, again mostly minimization time).
	if b, err := os.ReadFile(filepath.Join("..", "results", "speed", "results.json")); err == nil {
		var r Report
		if json.Unmarshal(b, &r) == nil && r.Speed != nil {
			sp := r.Speed
			sp.Latency, sp.Identify, sp.Bandwidth, sp.Ratios = sp.Latency[:min(1, len(sp.Latency))],
				sp.Identify[:min(1, len(sp.Identify))], sp.Bandwidth[:min(1, len(sp.Bandwidth))], sp.Ratios[:min(1, len(sp.Ratios))]
			r.Notes = r.Notes[:min(1, len(r.Notes))]
			if js, err := json.Marshal(&r); err == nil {
				f.Add(js)
			}
		}
	}
	// One directory per fuzzing process, rewritten by every input: a fresh
	// t.TempDir per input made minimizing an interesting input take the
	// whole fuzzing time.
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, data []byte) {
		if err := os.WriteFile(filepath.Join(dir, "results.json"), data, 0o644); err != nil {
			t.Fatal(err)
		}
		r, err := Read(dir)
		if err != nil {
			if r != nil {
				t.Fatalf("Read returned a report and the error %v", err)
			}
			return
		}
		if r == nil || r.Kind == "" {
			t.Fatalf("Read returned %+v and no error", r)
		}
		js, err := json.Marshal(r)
		if err != nil {
			t.Fatalf("re-encoding a report Read accepted: %v", err)
		}
		if err := os.WriteFile(filepath.Join(dir, "results.json"), js, 0o644); err != nil {
			t.Fatal(err)
		}
		r2, err := Read(dir)
		if err != nil {
			t.Fatalf("Read of its own re-encoding: %v\n%s", err, js)
		}
		js2, err := json.Marshal(r2)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(js, js2) {
			t.Fatalf("report changed on a second round trip:\n%s\n%s", js, js2)
		}
	})
}
