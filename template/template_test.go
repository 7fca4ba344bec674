package template

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"
)

func sample(dim int) Template {
	v := make([]float32, dim)
	r := rand.New(rand.NewPCG(1, 2))
	for i := range v {
		v[i] = float32(r.NormFloat64() * 0.1)
	}
	return Template{Version: Version, Protected: Protected{model: "dlib-resnet-v1", transform: [8]byte{1, 2, 3, 4, 5, 6, 7, 8}, v: v},
		Quality: 0.75, Created: time.Unix(1764000000, 123456789)}
}

// sameTemplate reports whether a and b hold the same fields, version aside.
func sameTemplate(a, b *Template) bool {
	return a.model == b.model && a.transform == b.transform && a.Quality == b.Quality &&
		a.Created.Equal(b.Created) && slices.Equal(a.v, b.v)
}

func TestEncodeDecodeRoundTrip(t *testing.T) {
	for _, dim := range []int{1, 128, 512, MaxDim} {
		tp := sample(dim)
		b, err := Encode(&tp)
		if err != nil {
			t.Fatal(err)
		}
		if want := fixedSize + len(tp.ModelID()) + 4*dim; len(b) != want {
			t.Errorf("dim %d: encoding is %d bytes, want %d", dim, len(b), want)
		}
		got, err := Decode(b)
		if err != nil {
			t.Fatalf("dim %d: %v", dim, err)
		}
		if !sameTemplate(&got, &tp) || got.Version != Version || got.Dim() != dim {
			t.Errorf("dim %d: fields changed: %+v", dim, got)
		}
		var u Template
		mb, _ := tp.MarshalBinary()
		if err := u.UnmarshalBinary(mb); err != nil || u.Dim() != dim {
			t.Errorf("UnmarshalBinary: %v", err)
		}
	}
}

// v1Record reads a version-1 record of testdata/v1, written by the
// version-1 Encode (commit 2fef049) from sample(dim) ("sample-<dim>") or
// from a Transform.Protect ("protected-8", see TestDecodeV1).
func v1Record(t testing.TB, name string) []byte {
	b, err := os.ReadFile(filepath.Join("testdata", "v1", name+".fgtp"))
	if err != nil {
		if t == nil {
			panic(err)
		}
		t.Fatal(err)
	}
	return b
}

// TestDecodeV1 decodes records written by the version-1 encoder: their
// fields come back unchanged, the int8 copy and its scale are dropped, and
// they re-encode as version 2, 4+d bytes shorter.
func TestDecodeV1(t *testing.T) {
	for _, dim := range []int{1, 4, 128, 512} {
		b := v1Record(t, fmt.Sprintf("sample-%d", dim))
		if want := fixedSize + 4 + len("dlib-resnet-v1") + 5*dim; len(b) != want || b[4] != 1 {
			t.Fatalf("dim %d: corpus record is %d bytes of version %d, want %d of version 1", dim, len(b), b[4], want)
		}
		got, err := Decode(b)
		if err != nil {
			t.Fatalf("dim %d: %v", dim, err)
		}
		want := sample(dim)
		if got.Version != 1 || !sameTemplate(&got, &want) {
			t.Errorf("dim %d: decoded %+v, want the fields of %+v", dim, got, want)
		}
		v2, err := Encode(&got)
		if err != nil {
			t.Fatal(err)
		}
		if len(v2) != len(b)-4-dim || v2[4] != Version {
			t.Errorf("dim %d: re-encoded as %d bytes of version %d, want %d of version %d", dim, len(v2), v2[4], len(b)-4-dim, Version)
		}
		again, err := Decode(v2)
		if err != nil || !sameTemplate(&again, &want) {
			t.Errorf("dim %d: version 2 of a version 1 record: %v", dim, err)
		}
	}
	// A version-1 record of a real transform holds the vector today's
	// transform gives the same descriptor.
	tr, err := NewTransform([]byte("v1 corpus secret, 32 bytes long!"), "fr_feature/faceplugin-0.0.1", 8)
	if err != nil {
		t.Fatal(err)
	}
	got, err := Decode(v1Record(t, "protected-8"))
	if err != nil {
		t.Fatal(err)
	}
	want, err := tr.Protect([]float32{0.1, -0.2, 0.3, -0.4, 0.5, -0.6, 0.05, 0.25}, 0.8, time.Unix(1764000000, 0))
	if err != nil {
		t.Fatal(err)
	}
	if !sameTemplate(&got, &want) || got.TransformID() != tr.ID() {
		t.Errorf("protected-8: decoded %+v, want %+v", got, want)
	}
}

// corrupt returns a valid encoding modified by f.
func corrupt(f func(b []byte) []byte) []byte {
	tp := sample(4)
	b, _ := Encode(&tp)
	return f(b)
}

// badInputs are decoder inputs with the error each must give.
func badInputs() []struct {
	name string
	in   []byte
	want error
} {
	m := len("dlib-resnet-v1")
	dimOff := 6 + m + 8
	vecOff := fixedSize + m
	v1 := func(f func(b []byte) []byte) []byte { return f(v1Record(nil, "sample-4")) }
	return []struct {
		name string
		in   []byte
		want error
	}{
		{"empty", nil, ErrTruncated},
		{"magic prefix", []byte("FG"), ErrTruncated},
		{"foreign", []byte("\x89PNG\r\n\x1a\n"), ErrFormat},
		{"magic only", []byte("FGTP"), ErrTruncated},
		{"header only", []byte("FGTP\x01"), ErrTruncated},
		{"wrong version 0", corrupt(func(b []byte) []byte { b[4] = 0; return b }), ErrVersion},
		{"wrong version 3", corrupt(func(b []byte) []byte { b[4] = 3; return b }), ErrVersion},
		{"empty model", corrupt(func(b []byte) []byte { b[5] = 0; return b }), ErrInvalid},
		{"model longer than input", corrupt(func(b []byte) []byte { b[5] = 255; return b }), ErrTruncated},
		{"cut in header", corrupt(func(b []byte) []byte { return b[:20] }), ErrTruncated},
		{"cut in vector", corrupt(func(b []byte) []byte { return b[:vecOff+5] }), ErrTruncated},
		{"cut last byte", corrupt(func(b []byte) []byte { return b[:len(b)-1] }), ErrTruncated},
		{"one extra byte", corrupt(func(b []byte) []byte { return append(b, 0) }), ErrTrailingData},
		{"overlong", corrupt(func(b []byte) []byte { return append(b, make([]byte, 1000)...) }), ErrTrailingData},
		{"dim 0", corrupt(func(b []byte) []byte { binary.LittleEndian.PutUint16(b[dimOff:], 0); return b }), ErrInvalid},
		{"dim too large", corrupt(func(b []byte) []byte { binary.LittleEndian.PutUint16(b[dimOff:], MaxDim+1); return b }), ErrInvalid},
		{"dim larger than input", corrupt(func(b []byte) []byte { binary.LittleEndian.PutUint16(b[dimOff:], 5); return b }), ErrTruncated},
		{"dim smaller than input", corrupt(func(b []byte) []byte { binary.LittleEndian.PutUint16(b[dimOff:], 3); return b }), ErrTrailingData},
		{"NaN element", corrupt(func(b []byte) []byte {
			binary.LittleEndian.PutUint32(b[vecOff:], math.Float32bits(float32(math.NaN())))
			return b
		}), ErrInvalid},
		{"Inf quality", corrupt(func(b []byte) []byte {
			binary.LittleEndian.PutUint32(b[dimOff+2:], math.Float32bits(float32(math.Inf(1))))
			return b
		}), ErrInvalid},
		{"model not UTF-8", corrupt(func(b []byte) []byte { b[6] = 0xff; return b }), ErrInvalid},
		{"v1 negative scale", v1(func(b []byte) []byte {
			binary.LittleEndian.PutUint32(b[dimOff+14:], math.Float32bits(-1))
			return b
		}), ErrInvalid},
		{"v1 NaN scale", v1(func(b []byte) []byte {
			binary.LittleEndian.PutUint32(b[dimOff+14:], math.Float32bits(float32(math.NaN())))
			return b
		}), ErrInvalid},
		{"v1 int8 -128", v1(func(b []byte) []byte { b[len(b)-1] = 0x80; return b }), ErrInvalid},
		{"v1 NaN element", v1(func(b []byte) []byte {
			binary.LittleEndian.PutUint32(b[vecOff+4:], math.Float32bits(float32(math.NaN())))
			return b
		}), ErrInvalid},
		{"v1 cut in int8 vector", v1(func(b []byte) []byte { return b[:len(b)-2] }), ErrTruncated},
		{"v1 read as v2", v1(func(b []byte) []byte { b[4] = 2; return b }), ErrTrailingData},
		{"v2 read as v1", corrupt(func(b []byte) []byte { b[4] = 1; return b }), ErrTruncated},
	}
}

func TestDecodeRejects(t *testing.T) {
	for _, tc := range badInputs() {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Decode(tc.in)
			if !errors.Is(err, tc.want) {
				t.Fatalf("Decode: got %v, want %v", err, tc.want)
			}
		})
	}
}

func TestEncodeRejects(t *testing.T) {
	tests := []struct {
		name string
		f    func(*Template)
	}{
		{"empty model", func(t *Template) { t.model = "" }},
		{"long model", func(t *Template) { t.model = string(bytes.Repeat([]byte("m"), 256)) }},
		{"model not UTF-8", func(t *Template) { t.model = "\xff" }},
		{"no vector", func(t *Template) { t.v = nil }},
		{"too long", func(t *Template) { t.v = make([]float32, MaxDim+1) }},
		{"NaN", func(t *Template) { t.v[0] = float32(math.NaN()) }},
		{"Inf quality", func(t *Template) { t.Quality = float32(math.Inf(1)) }},
		{"zero Protected", func(t *Template) { t.Protected = Protected{} }},
	}
	for _, tc := range tests {
		tp := sample(4)
		tc.f(&tp)
		if _, err := Encode(&tp); !errors.Is(err, ErrInvalid) {
			t.Errorf("%s: Encode: %v, want ErrInvalid", tc.name, err)
		}
	}
}

func FuzzDecode(f *testing.F) {
	tp := sample(8)
	good, _ := Encode(&tp)
	f.Add(good)
	for _, dim := range []int{1, 4} {
		f.Add(v1Record(f, fmt.Sprintf("sample-%d", dim)))
	}
	for _, tc := range badInputs() {
		f.Add(tc.in)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		got, err := Decode(b)
		if err != nil {
			for _, e := range []error{ErrFormat, ErrVersion, ErrTruncated, ErrTrailingData, ErrInvalid} {
				if errors.Is(err, e) {
					return
				}
			}
			t.Fatalf("untyped error: %v", err)
		}
		// Anything accepted re-encodes: a version-2 record to the same
		// bytes, a version-1 one to a version-2 record of the same fields.
		again, err := Encode(&got)
		if err != nil {
			t.Fatalf("decoded template does not encode: %v", err)
		}
		switch got.Version {
		case Version:
			if !bytes.Equal(again, b) {
				t.Fatalf("re-encoding differs:\n in  %x\n out %x", b, again)
			}
		case 1:
			back, err := Decode(again)
			if err != nil || !sameTemplate(&back, &got) || len(again) != len(b)-4-got.Dim() {
				t.Fatalf("version 1 record re-encoded as %x: %v", again, err)
			}
		default:
			t.Fatalf("decoded version %d", got.Version)
		}
	})
}

func BenchmarkDecode128(b *testing.B) {
	tp := sample(128)
	enc, _ := Encode(&tp)
	for b.Loop() {
		if _, err := Decode(enc); err != nil {
			b.Fatal(err)
		}
	}
}
