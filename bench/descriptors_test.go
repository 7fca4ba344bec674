package main

import (
	"encoding/base64"
	"encoding/binary"
	"errors"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/facegate/facegate/internal/testenv"
)

func b64(v ...float32) string {
	raw := make([]byte, 4*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint32(raw[4*i:], math.Float32bits(x))
	}
	return base64.StdEncoding.EncodeToString(raw)
}

func TestReadDescriptors(t *testing.T) {
	in := `{"idols":[{"id":"a","name":"A"}],"faces":[
		{"idol_id":"a","descriptor":"` + b64(1, 2) + `"},
		{"idol_id":"b","descriptor":"` + b64(-0.5, 0.25) + `"}]}`
	s, err := readDescriptors(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(s.identity, []string{"a", "b"}) || !slices.Equal(s.desc[1], []float32{-0.5, 0.25}) || s.names != 1 {
		t.Errorf("got %+v", s)
	}
	nan := b64(float32(math.NaN()))
	for _, bad := range []string{
		``, `[]`, `{"faces":[]}`,
		`{"faces":[{"descriptor":"` + b64(1) + `"}]}`,
		`{"faces":[{"idol_id":"a","descriptor":"***"}]}`,
		`{"faces":[{"idol_id":"a","descriptor":"AAA="}]}`,
		`{"faces":[{"idol_id":"a","descriptor":"` + b64(1) + `"},{"idol_id":"a","descriptor":"` + b64(1, 2) + `"}]}`,
		`{"faces":[{"idol_id":"a","descriptor":"` + nan + `"}]}`,
	} {
		if _, err := readDescriptors(strings.NewReader(bad)); !errors.Is(err, ErrDescriptorsFile) {
			t.Errorf("readDescriptors(%q) error %v, want ErrDescriptorsFile", bad, err)
		}
	}
}

func FuzzReadDescriptors(f *testing.F) {
	f.Add(`{"idols":[],"faces":[{"idol_id":"a","descriptor":"` + b64(1, 2) + `"}]}`)
	f.Add(`{"faces":[{"idol_id":"a","descriptor":"AAAAAA=="}]}`)
	f.Fuzz(func(t *testing.T, in string) {
		s, err := readDescriptors(strings.NewReader(in))
		if err != nil {
			if !errors.Is(err, ErrDescriptorsFile) {
				t.Fatalf("error %v does not wrap ErrDescriptorsFile", err)
			}
			return
		}
		if len(s.desc) == 0 || len(s.desc) != len(s.identity) {
			t.Fatalf("%d descriptors, %d identities", len(s.desc), len(s.identity))
		}
		for _, d := range s.desc {
			if len(d) != len(s.desc[0]) || len(d) == 0 {
				t.Fatalf("descriptor lengths differ or are zero")
			}
		}
	})
}

func TestAccuracyDescriptorsReference(t *testing.T) {
	path := filepath.Join(testenv.SharedDir(), "testdata", "dlib-reference", "idols.json")
	if _, err := os.Stat(path); err != nil {
		if testenv.Required() {
			t.Fatal(err)
		}
		t.Skipf("skipped: %v", err)
	}
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
