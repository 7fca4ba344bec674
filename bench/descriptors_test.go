package main

import (
	"testing"

	"github.com/facegate/facegate/internal/idols/idolstest"
)

func TestAccuracyDescriptorsReference(t *testing.T) {
	path := idolstest.Path(t)
	out := t.TempDir()
	if err := runAccuracy([]string{"--descriptors", path, "--label", "east-asian", "--out", out}); err != nil {
		t.Fatal(err)
	}
	r := readResults(t, out)
	l := r.Accuracy.Lines[0]
	// 1,286 faces: 826,255 pairs, of which 820,641 are different-person
	// pairs (facematch/dlib's Threshold documentation counts the same).
	if r.Accuracy.Faces != 1286 || l.Name != "east-asian" || l.ImpostorTotal != 820641 || l.Genuine.N+int(l.ImpostorTotal) != 1286*1285/2 {
		t.Errorf("faces %d, line %s: %d genuine, %d impostor", r.Accuracy.Faces, l.Name, l.Genuine.N, l.ImpostorTotal)
	}
	for _, a := range l.AtFAR {
		if !a.Enough {
			t.Errorf("FAR %v: not enough pairs with %d impostor pairs", a.Target, a.Impostor)
		}
	}
}
