package idols

import (
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"testing"
)

func b64(v ...float32) string {
	raw := make([]byte, 4*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint32(raw[4*i:], math.Float32bits(x))
	}
	return base64.StdEncoding.EncodeToString(raw)
}

func TestRead(t *testing.T) {
	in := `{"idols":[{"id":"a","name":"A"}],"faces":[
		{"idol_id":"a","descriptor":"` + b64(1, 2) + `"},
		{"idol_id":"b","descriptor":"` + b64(-0.5, 0.25) + `"}]}`
	s, err := Read(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Faces) != 2 || s.Faces[0].Identity != "a" || s.Faces[1].Identity != "b" ||
		!slices.Equal(s.Faces[1].Descriptor, []float32{-0.5, 0.25}) || s.Listed != 1 || s.Dim() != 2 {
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
		if _, err := Read(strings.NewReader(bad)); !errors.Is(err, ErrFormat) {
			t.Errorf("Read(%q) error %v, want ErrFormat", bad, err)
		}
	}
}

func FuzzRead(f *testing.F) {
	f.Add(`{"idols":[],"faces":[{"idol_id":"a","descriptor":"` + b64(1, 2) + `"}]}`)
	f.Add(`{"faces":[{"idol_id":"a","descriptor":"AAAAAA=="}]}`)
	f.Add(`{"faces":[{"idol_id":"a","descriptor":"` + b64(float32(math.Inf(1)), 2) + `"}]}`)
	f.Fuzz(func(t *testing.T, in string) {
		s, err := Read(strings.NewReader(in))
		if err != nil {
			if !errors.Is(err, ErrFormat) {
				t.Fatalf("error %v does not wrap ErrFormat", err)
			}
			return
		}
		if len(s.Faces) == 0 {
			t.Fatal("no faces and no error")
		}
		for _, f := range s.Faces {
			if f.Identity == "" {
				t.Fatal("face without identity")
			}
			if len(f.Descriptor) != s.Dim() || len(f.Descriptor) == 0 {
				t.Fatalf("descriptor lengths differ or are zero")
			}
			for _, x := range f.Descriptor {
				if math.IsNaN(float64(x)) || math.IsInf(float64(x), 0) {
					t.Fatalf("accepted a descriptor holding %v", x)
				}
			}
		}
	})
}

func ExampleRead() {
	// One face of identity "a" with the two-value descriptor (1, 2).
	in := `{"idols":[{"id":"a"}],"faces":[{"idol_id":"a","descriptor":"AACAPwAAAEA="}]}`
	s, err := Read(strings.NewReader(in))
	if err != nil {
		panic(err)
	}
	fmt.Println(s.Listed, s.Faces[0].Identity, s.Faces[0].Descriptor)
	// Output: 1 a [1 2]
}
