package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"image"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/facegate/facegate/bench/report"
	"github.com/facegate/facegate/facematch"
	"github.com/facegate/facegate/internal/faceset"
)

// fakeExtractor reads "face X Y" as one face with descriptor (X, Y), "none"
// as no face, "two" as two faces; anything else is undecodable.
type fakeExtractor struct{}

var fakeModel = facematch.Model{ID: "fake/2d", Dim: 2, Metric: facematch.Euclidean, Threshold: 0.5}

func (fakeExtractor) Model() facematch.Model { return fakeModel }
func (fakeExtractor) Close() error           { return nil }
func (fakeExtractor) ExtractImage(image.Image) ([]facematch.Face, error) {
	return nil, fmt.Errorf("fake: %w", facematch.ErrDecode)
}
func (fakeExtractor) Extract(data []byte) ([]facematch.Face, error) {
	var x, y float32
	switch s := string(data); {
	case s == "none":
		return []facematch.Face{}, nil
	case s == "two":
		return make([]facematch.Face, 2), nil
	default:
		if _, err := fmt.Sscanf(s, "face %g %g", &x, &y); err != nil {
			return nil, fmt.Errorf("fake: %w: %q", facematch.ErrDecode, s)
		}
	}
	return []facematch.Face{{Descriptor: []float32{x, y}}}, nil
}

func init() {
	backends["fake"] = func(string, int) (*backend, error) {
		return &backend{ex: fakeExtractor{}, workers: 3, info: modelInfo(fakeModel)}, nil
	}
}

// writeSet creates DIR/<identity>/<photo> files from path → content.
func writeSet(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for p, c := range files {
		full := filepath.Join(dir, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(c), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

var testSet = map[string]string{
	"a/1.jpg": "face 0 0", "a/2.jpg": "face 0 0.1",
	"b/1.jpg": "face 1 0", "b/2.jpg": "none",
	"c/1.jpg": "two", "c/2.jpg": "garbage",
	"d/1.jpg":     "face 0 5",
	"GROUPS.tsv":  "identity\tgroup\na\tg1\nb\tg1\nd\tg2\n",
	".hidden/x":   "face 9 9",
	"a/.DS_Store": "face 9 9",
}

func TestAccuracyCommand(t *testing.T) {
	set := writeSet(t, testSet)
	out := filepath.Join(t.TempDir(), "out")
	err := runAccuracy([]string{"--model", "fake", "--set", set, "--groups", filepath.Join(set, "GROUPS.tsv"), "--out", out})
	if err != nil {
		t.Fatal(err)
	}
	r := readResults(t, out)
	a := r.Accuracy
	wantSkip := []report.Skip{
		{Path: "b/2.jpg", Reason: "no face"},
		{Path: "c/1.jpg", Reason: "several faces (2)"},
	}
	if a.Photos != 7 || a.Faces != 4 || a.Identities != 3 || len(a.Skipped) != 3 ||
		!reflect.DeepEqual(a.Skipped[:2], wantSkip) || !strings.HasPrefix(a.Skipped[2].Reason, "decode error") {
		t.Errorf("photos %d faces %d identities %d skipped %+v", a.Photos, a.Faces, a.Identities, a.Skipped)
	}
	type want struct {
		name          string
		faces, gen    int
		imp           int64
		eer           bool
		defaultTAR    float64
		defaultImpAcc int
	}
	// all: genuine a1–a2 at 0.1; impostors a–b at 1 and 1.005, the rest ≥ 4.9.
	wants := []want{
		{"all", 4, 1, 5, true, 1, 0},
		{"g1", 3, 1, 2, true, 1, 0},
		{"g2", 1, 0, 0, false, 0, 0},
		{"cross-group", 4, 1, 3, true, 1, 0},
	}
	if len(a.Lines) != len(wants) {
		t.Fatalf("%d lines, want %d", len(a.Lines), len(wants))
	}
	for i, w := range wants {
		l := a.Lines[i]
		if l.Name != w.name || l.Faces != w.faces || l.Genuine.N != w.gen || l.ImpostorTotal != w.imp || int64(l.Impostor.N) != w.imp || (l.EER != nil) != w.eer {
			t.Errorf("line %d = %s faces %d genuine %d impostor %d/%d EER %v; want %+v", i, l.Name, l.Faces, l.Genuine.N, l.Impostor.N, l.ImpostorTotal, l.EER, w)
		}
		if w.eer && (l.EER.Rate != 0 || l.AtThreshold.TAR != w.defaultTAR || l.AtThreshold.ImpostorAccepted != w.defaultImpAcc) {
			t.Errorf("%s: EER %+v at threshold %+v", l.Name, l.EER, l.AtThreshold)
		}
		if !w.eer && l.Problem == "" {
			t.Errorf("%s: no figures and no problem stated", l.Name)
		}
	}
	if g := a.Lines[0].Genuine; g.Min < 0.0999 || g.Min > 0.1001 {
		t.Errorf("genuine distance %v, want 0.1", g.Min)
	}
	for _, f := range []string{"report.md", "roc.png", "det.png", "hist.png", "hist-g1.png"} {
		if _, err := os.Stat(filepath.Join(out, f)); err != nil {
			t.Error(err)
		}
	}
}

func TestEvaluateSampledDeterministic(t *testing.T) {
	files := map[string]string{}
	for id := range 8 {
		for n := range 3 {
			files[fmt.Sprintf("p%d/%d.jpg", id, n)] = fmt.Sprintf("face %d %d", id, n)
		}
	}
	set := writeSet(t, files)
	photos, err := listSet(set)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := openBackend("fake", "", 0)
	res := extractAll(b, set, photos, false)
	run := func(seed uint64) report.Line {
		acc := &report.Accuracy{MaxImpostors: 50, Seed: seed}
		if _, err := evaluate(acc, photos, res, nil, fakeModel, "all"); err != nil {
			t.Fatal(err)
		}
		return acc.Lines[0]
	}
	l1, l2, l3 := run(7), run(7), run(8)
	// 24 faces: 276 pairs, 8·3 genuine, 252 impostor, 50 sampled.
	if !l1.Sampled || l1.ImpostorTotal != 252 || l1.Impostor.N != 50 || l1.Genuine.N != 24 {
		t.Fatalf("line %+v", l1)
	}
	if !reflect.DeepEqual(l1, l2) {
		t.Error("the same seed gave different figures")
	}
	if reflect.DeepEqual(l1.Impostor, l3.Impostor) {
		t.Error("seeds 7 and 8 gave the same impostor distances")
	}
}

func TestAccuracyErrors(t *testing.T) {
	set := writeSet(t, testSet)
	bad := filepath.Join(t.TempDir(), "bad.tsv")
	if err := os.WriteFile(bad, []byte("a\tg\ta\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{
		{"--model", "fake"},                       // no --set
		{"--model", "fake", "--set", t.TempDir()}, // empty set
		{"--model", "nope", "--set", set},
		{"--model", "fake", "--set", set, "--groups", bad},
		{"--model", "fake", "--set", filepath.Join(set, "missing")},
	} {
		if err := runAccuracy(append(args, "--out", t.TempDir())); err == nil {
			t.Errorf("runAccuracy(%v) succeeded", args)
		}
	}
	err := runAccuracy([]string{"--model", "fake", "--set", set, "--groups", bad, "--out", t.TempDir()})
	if !errors.Is(err, faceset.ErrGroupsFile) || !strings.Contains(err.Error(), "line 1") {
		t.Errorf("groups error %v is not ErrGroupsFile naming line 1", err)
	}
}

func TestAccuracyThousandsOfPhotos(t *testing.T) {
	if testing.Short() {
		t.Skip("writes 3000 files")
	}
	files := map[string]string{"GROUPS.tsv": ""}
	var groups strings.Builder
	for id := range 600 {
		for n := range 5 {
			files[fmt.Sprintf("p%03d/%d.jpg", id, n)] = fmt.Sprintf("face %d %d", id, n)
		}
		fmt.Fprintf(&groups, "p%03d\tg%d\n", id, id%3)
	}
	files["GROUPS.tsv"] = groups.String()
	set := writeSet(t, files)
	out := t.TempDir()
	err := runAccuracy([]string{"--model", "fake", "--set", set, "--groups", filepath.Join(set, "GROUPS.tsv"),
		"--max-impostors", "300000", "--out", out})
	if err != nil {
		t.Fatal(err)
	}
	r := readResults(t, out)
	// 3000 faces: 4,498,500 pairs, 6000 genuine; each group 1000 faces.
	all := r.Accuracy.Lines[0]
	if all.Genuine.N != 6000 || all.ImpostorTotal != 4498500-6000 || !all.Sampled || all.Impostor.N != 300000 {
		t.Errorf("all: genuine %d impostor %d of %d sampled=%v", all.Genuine.N, all.Impostor.N, all.ImpostorTotal, all.Sampled)
	}
	g0 := r.Accuracy.Lines[1]
	if g0.Genuine.N != 2000 || g0.ImpostorTotal != 1000*999/2-2000 || g0.Impostor.N != 300000 {
		t.Errorf("g0: genuine %d impostor %d of %d", g0.Genuine.N, g0.Impostor.N, g0.ImpostorTotal)
	}
	for _, l := range r.Accuracy.Lines {
		if len(l.AtFAR) != 3 || !l.AtFAR[2].Enough || len(l.Curve.Points) > 3000 {
			t.Errorf("%s: %d TAR@FAR rows, 0.01 %% enough=%v, %d curve points", l.Name, len(l.AtFAR), l.AtFAR[2].Enough, len(l.Curve.Points))
		}
	}
}

func readResults(t *testing.T, dir string) report.Report {
	t.Helper()
	js, err := os.ReadFile(filepath.Join(dir, "results.json"))
	if err != nil {
		t.Fatal(err)
	}
	var r report.Report
	if err := json.Unmarshal(js, &r); err != nil {
		t.Fatal(err)
	}
	return r
}

func TestEvaluateBadDescriptor(t *testing.T) {
	photos := []photo{{"a/1", "a"}, {"a/2", "a"}, {"b/1", "b"}}
	res := []extracted{{desc: []float32{0, 0}}, {desc: []float32{0, 1}}, {desc: []float32{1}}}
	_, err := evaluate(&report.Accuracy{MaxImpostors: 10}, photos, res, nil, fakeModel, "all")
	if !errors.Is(err, facematch.ErrDimension) || !strings.Contains(err.Error(), "b/1") {
		t.Errorf("error %v, want ErrDimension naming b/1", err)
	}
}

func TestRender(t *testing.T) {
	set := writeSet(t, testSet)
	out := t.TempDir()
	if err := runAccuracy([]string{"--model", "fake", "--set", set, "--out", out}); err != nil {
		t.Fatal(err)
	}
	before, _ := os.ReadFile(filepath.Join(out, "report.md"))
	if err := os.Remove(filepath.Join(out, "roc.png")); err != nil {
		t.Fatal(err)
	}
	if err := runRender([]string{out}); err != nil {
		t.Fatal(err)
	}
	after, _ := os.ReadFile(filepath.Join(out, "report.md"))
	if string(before) != string(after) {
		t.Error("render changed report.md")
	}
	if _, err := os.Stat(filepath.Join(out, "roc.png")); err != nil {
		t.Error(err)
	}
	if err := runRender(nil); err == nil {
		t.Error("render without a directory succeeded")
	}
	if err := runRender([]string{t.TempDir()}); err == nil {
		t.Error("render of a directory without results.json succeeded")
	}
}
