package main

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/facegate/facegate/bench/report"
	"github.com/facegate/facegate/facematch/antispoof"
	"github.com/facegate/facegate/internal/testenv"
)

func TestReadPadManifest(t *testing.T) {
	dir := t.TempDir()
	write := func(s string) {
		if err := os.WriteFile(filepath.Join(dir, "MANIFEST.tsv"), []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("path\tlabel\tattack_type\tsource_repo\n" +
		"bonafide/a.jpg\tbonafide\t\tsrc/a\n" +
		"attack/print/b.jpg\tattack\tprint\tsrc/b\n" +
		"attack/x.jpg\tattack\t\tsrc/b\n")
	im, err := readPadManifest(dir)
	if err != nil || len(im) != 3 {
		t.Fatalf("%+v, %v", im, err)
	}
	if im[0].attack != "" || im[1].attack != "print" || im[2].attack != "unknown" || im[1].source != "src/b" {
		t.Fatalf("%+v", im)
	}
	for _, bad := range []string{"path\tlabel\n", "a.jpg\tfake\t\tsrc\n", "a.jpg\tbonafide\n"} {
		write(bad)
		if _, err := readPadManifest(dir); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
}

// TestPadSlice runs `bench pad` with two networks on every 40th image of
// the shared PAD set (the full study is in `make bench`): each network's
// report has the per-source table, a DET plot, and counts that add up.
func TestPadSlice(t *testing.T) {
	set := testenv.Pad(t)
	models := testenv.Models(t, antispoof.FRLiveness.File, antispoof.HumanLiveness.File)
	dir := t.TempDir()
	scores := filepath.Join(dir, "scores.tsv")
	if err := runPad([]string{"--set", set, "--models", models, "--net", "fr_liveness,human-liveness", "--limit", "40", "--workers", "1", "--out", dir, "--scores", scores}); err != nil {
		t.Fatal(err)
	}
	if r, err := report.Read(filepath.Join(dir, "human-liveness")); err != nil || r.Pad == nil || r.Pad.Network != antispoof.HumanLiveness.ID() {
		t.Fatalf("human-liveness report: %v", err)
	}
	tsv, err := os.ReadFile(scores)
	if err != nil || !strings.HasPrefix(string(tsv), "path\tsource\tkind\tfr_liveness\thuman-liveness\n") {
		t.Fatalf("scores file: %v", err)
	}
	out := filepath.Join(dir, "fr_liveness")
	r, err := report.Read(out)
	if err != nil {
		t.Fatal(err)
	}
	p := r.Pad
	if p == nil || p.Network != antispoof.FRLiveness.ID() || p.Threshold != antispoof.FRLiveness.Threshold {
		t.Fatalf("pad report %+v", p)
	}
	images, err := readPadManifest(set)
	if err != nil {
		t.Fatal(err)
	}
	var n int
	for _, c := range p.Cells {
		if c.Source == "all" {
			n += c.Images
		}
		if c.NoFace+c.Scored != c.Images || c.Errors > c.Scored {
			t.Errorf("cell %+v does not add up", c)
		}
	}
	if want := (len(images) + 39) / 40; n != want {
		t.Errorf("the 'all' rows count %d images, want %d", n, want)
	}
	if len(p.Variants) != 6 {
		t.Errorf("%d preparation variants, want 6", len(p.Variants))
	}
	md, err := os.ReadFile(filepath.Join(out, "report.md"))
	if err != nil || !strings.Contains(string(md), "APCER") || !strings.Contains(string(md), "det.png") {
		t.Fatalf("report.md: %v", err)
	}
	if _, err := os.Stat(filepath.Join(out, "det.png")); err != nil {
		t.Fatal(err)
	}
	// --rescore from the scores file gives the same figures without the
	// networks
	again := filepath.Join(dir, "again")
	if err := runPad([]string{"--set", set, "--rescore", scores, "--net", "fr_liveness", "--out", again}); err != nil {
		t.Fatal(err)
	}
	r2, err := report.Read(again)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(r2.Pad.Cells, p.Cells) || r2.Pad.APCERAtBPCER != p.APCERAtBPCER {
		t.Errorf("rescored cells %+v\nwant %+v", r2.Pad.Cells, p.Cells)
	}
}
