package main

import (
	"strings"
	"testing"
)

func TestEyeLabel(t *testing.T) {
	labels := map[string]bool{"lfw/a/1.jpg": true, "pad/bonafide/x.jpg": false}
	for _, tc := range []struct {
		path           string
		closed, unsure bool
	}{
		{"../shared/testdata/lfw/a/1.jpg", true, false},
		{"/work/shared/testdata/pad/bonafide/x.jpg", false, true},
		{"../shared/testdata/lfw/a/2.jpg", false, false},
		{"1.jpg", false, false},
	} {
		c, u := label(labels, tc.path)
		if c != tc.closed || u != tc.unsure {
			t.Errorf("%s: closed %v unsure %v, want %v %v", tc.path, c, u, tc.closed, tc.unsure)
		}
	}
}

// TestEyesMarkdown checks the report's counts: unsure photos are left
// out, each measure's errors are counted at its own threshold.
func TestEyesMarkdown(t *testing.T) {
	rows := []eyeRow{
		{source: "s/", closed: true, ear: 0.05, net: [2]float64{0.9, 0.9}},   // both right
		{source: "s/", closed: true, ear: 0.25, net: [2]float64{0.2, 0.2}},   // both miss
		{source: "s/", ear: 0.30, net: [2]float64{0.8, 0.7}},                 // fr_eye false closed
		{source: "s/", ear: 0.10, net: [2]float64{0.1, 0.1}},                 // EAR false closed
		{source: "s/", unsure: true, ear: 0.01, net: [2]float64{0.99, 0.99}}, // left out
		{source: "s/", noFace: true},
	}
	md := eyesMarkdown(rows)
	for _, want := range []string{
		"| s/ | 6 | 1 | 1 | 4 | 2 | 1 | 1 |",
		"| EAR < 0.15 | 0.750 | 1 of 2 (50.0 %) | 1 of 2 (50.0 %) |",
		"| fr_eye closed probability > 0.5 | 0.750 | 1 of 2 (50.0 %) | 1 of 2 (50.0 %) |",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("report lacks %q:\n%s", want, md)
		}
	}
}
