package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/facegate/facegate/bench/report"
)

// identFiles is a small set with known 1:N outcomes at the fake model's
// Euclidean threshold 0.5: d's second photo is 0.6 from its enrolled one
// (missed), e (one photo) sits 0.3 from b's enrolled photo, so each is taken
// for the other when left out.
var identFiles = map[string]string{
	"a/1.jpg": "face 0 0", "a/2.jpg": "face 0 0.1",
	"b/1.jpg": "face 3 0", "b/2.jpg": "face 3 0.1",
	"c/1.jpg": "face 0 3", "c/2.jpg": "face 0 3.1",
	"d/1.jpg": "face 6 0", "d/2.jpg": "face 6 0.6",
	"e/1.jpg":    "face 3 0.3",
	"f/1.jpg":    "none",
	"GROUPS.tsv": "identity\tgroup\na\tg1\nb\tg1\ne\tg1\nc\tg2\nd\tg2\nf\tg2\n",
}

func TestIdentifyCommand(t *testing.T) {
	set := writeSet(t, identFiles)
	out := filepath.Join(t.TempDir(), "out")
	err := runIdentify([]string{"--model", "fake", "--set", set, "--groups", filepath.Join(set, "GROUPS.tsv"),
		"--sizes", "2,0,100", "--trials", "3", "--out", out})
	if err != nil {
		t.Fatal(err)
	}
	r := readResults(t, out)
	id := r.Identification
	if r.Kind != "identify" || id == nil {
		t.Fatalf("kind %q, identification %v", r.Kind, id)
	}
	if id.Faces != 9 || id.Identities != 5 || len(id.Skipped) != 1 || id.Threshold != 0.5 {
		t.Errorf("faces %d identities %d skipped %v threshold %v", id.Faces, id.Identities, id.Skipped, id.Threshold)
	}
	rows := map[string]report.IdentRow{}
	for _, row := range id.Rows {
		key := row.Gallery + "/" + row.Probes + "/" + map[bool]string{true: "all", false: "some"}[row.Requested == 0]
		if _, dup := rows[key]; dup {
			t.Errorf("duplicate row %s (sizes 0 and 100 both mean all)", key)
		}
		rows[key] = row
	}
	for _, tc := range []struct {
		key                                     string
		size, trials, mated, missed, wrong, non int
		matched                                 int
	}{
		// Every identity enrolled: d's second photo missed; strangers by
		// leaving each out: b's two photos match e, e's matches b.
		{"all/all/all", 5, 1, 4, 1, 0, 9, 3},
		{"all/g1/all", 5, 1, 2, 0, 0, 5, 3},
		{"all/g2/all", 5, 1, 2, 1, 0, 4, 0},
		// Group g1 alone (a, b, e): the same outcomes for its probes.
		{"g1/g1/all", 3, 1, 2, 0, 0, 5, 3},
		{"g2/g2/all", 2, 1, 2, 1, 0, 4, 0},
	} {
		row, ok := rows[tc.key]
		if !ok {
			t.Errorf("no row %s", tc.key)
			continue
		}
		if row.Size != tc.size || row.Trials != tc.trials || row.Mated != tc.mated || row.MatedMissed != tc.missed ||
			row.MatedWrong != tc.wrong || row.NonMated != tc.non || row.NonMatedMatched != tc.matched {
			t.Errorf("%s: %+v, want size %d trials %d mated %d missed %d wrong %d non-mated %d matched %d",
				tc.key, row, tc.size, tc.trials, tc.mated, tc.missed, tc.wrong, tc.non, tc.matched)
		}
	}
	// Galleries of 2 of 5: 3 draws, each probing every face but the 2 enrolled.
	if row := rows["all/all/some"]; row.Size != 2 || row.Trials != 3 || row.Mated+row.NonMated != 3*(9-2) {
		t.Errorf("size 2: %+v", row)
	}
	// g2 alone has 2 identities: size 2 is all of it, one row only.
	if _, ok := rows["g2/g2/some"]; ok {
		t.Error("g2: a size-2 row besides the all-enrolled one")
	}
	if len(id.Tails) != 3 || len(id.Curves) == 0 {
		t.Errorf("%d tails, %d curves", len(id.Tails), len(id.Curves))
	}
	if tl := id.Tails[0]; tl.Name != "all" || tl.Genuine != 4 || tl.Impostor != 32 || tl.Problem != "" || tl.Threshold >= tl.Fit.Lowest {
		t.Errorf("tail %+v: want 4 genuine, 32 impostor pairs and a threshold under the lowest impostor", tl)
	}
	md, err := os.ReadFile(filepath.Join(out, "report.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"## Open-set identification", "extrapolation, not a measurement", "| all | 5 (all) | 1 | all | 25.00 % (1 / 4) |", "fnir-fpir.png"} {
		if !strings.Contains(string(md), want) {
			t.Errorf("report.md lacks %q", want)
		}
	}
	// The same seed draws the same galleries.
	out2 := filepath.Join(t.TempDir(), "out")
	if err := runIdentify([]string{"--model", "fake", "--set", set, "--groups", filepath.Join(set, "GROUPS.tsv"),
		"--sizes", "2,0,100", "--trials", "3", "--out", out2}); err != nil {
		t.Fatal(err)
	}
	if r2 := readResults(t, out2); len(r2.Identification.Rows) != len(id.Rows) || r2.Identification.Rows[0] != id.Rows[0] {
		t.Error("a second run with the same seed gave other rows")
	}
}

func TestIdentifyErrors(t *testing.T) {
	set := writeSet(t, identFiles)
	for _, args := range [][]string{
		{"--model", "fake"},
		{"--model", "fake", "--set", set, "--sizes", "10,x"},
		{"--model", "fake", "--set", set, "--sizes", "-1"},
		{"--model", "fake", "--set", set, "--trials", "0"},
		{"--model", "nope", "--set", set},
		{"--model", "fake", "--set", set, "extra"},
	} {
		if err := runIdentify(append(args, "--out", t.TempDir())); err == nil {
			t.Errorf("%v: no error", args)
		}
	}
	one := writeSet(t, map[string]string{"a/1.jpg": "face 0 0", "a/2.jpg": "face 0 0.1"})
	if err := runIdentify([]string{"--model", "fake", "--set", one, "--out", t.TempDir()}); err == nil || !strings.Contains(err.Error(), "two identities") {
		t.Errorf("one identity: %v", err)
	}
}
