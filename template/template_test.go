package template

import (
	"bytes"
	"encoding/binary"
	"errors"
	"math"
	"math/rand/v2"
	"testing"
	"time"
)

func sample(dim int) Template {
	v := make([]float32, dim)
	r := rand.New(rand.NewPCG(1, 2))
	for i := range v {
		v[i] = float32(r.NormFloat64() * 0.1)
	}
	q, s := Quantize(v)
	return Template{Version: Version, ModelID: "dlib-resnet-v1", TransformID: [8]byte{1, 2, 3, 4, 5, 6, 7, 8},
		Vector: v, Quantized: q, Scale: s, Quality: 0.75, Created: time.Unix(1764000000, 123456789)}
}

func TestEncodeDecodeRoundTrip(t *testing.T) {
	for _, dim := range []int{1, 128, 512, MaxDim} {
		tp := sample(dim)
		b, err := Encode(&tp)
		if err != nil {
			t.Fatal(err)
		}
		if want := fixedSize + len(tp.ModelID) + 5*dim; len(b) != want {
			t.Errorf("dim %d: encoding is %d bytes, want %d", dim, len(b), want)
		}
		got, err := Decode(b)
		if err != nil {
			t.Fatalf("dim %d: %v", dim, err)
		}
		if got.ModelID != tp.ModelID || got.TransformID != tp.TransformID || got.Scale != tp.Scale ||
			got.Quality != tp.Quality || !got.Created.Equal(tp.Created) || got.Version != Version || got.Dim() != dim {
			t.Errorf("dim %d: header fields changed: %+v", dim, got)
		}
		for i := range tp.Vector {
			if got.Vector[i] != tp.Vector[i] || got.Quantized[i] != tp.Quantized[i] {
				t.Fatalf("dim %d: element %d changed", dim, i)
			}
		}
		var u Template
		mb, _ := tp.MarshalBinary()
		if err := u.UnmarshalBinary(mb); err != nil || u.Dim() != dim {
			t.Errorf("UnmarshalBinary: %v", err)
		}
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
		{"wrong version 2", corrupt(func(b []byte) []byte { b[4] = 2; return b }), ErrVersion},
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
		{"negative scale", corrupt(func(b []byte) []byte {
			binary.LittleEndian.PutUint32(b[dimOff+14:], math.Float32bits(-1))
			return b
		}), ErrInvalid},
		{"int8 -128", corrupt(func(b []byte) []byte { b[len(b)-1] = 0x80; return b }), ErrInvalid},
		{"model not UTF-8", corrupt(func(b []byte) []byte { b[6] = 0xff; return b }), ErrInvalid},
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
		{"empty model", func(t *Template) { t.ModelID = "" }},
		{"long model", func(t *Template) { t.ModelID = string(bytes.Repeat([]byte("m"), 256)) }},
		{"no vector", func(t *Template) { t.Vector, t.Quantized = nil, nil }},
		{"length mismatch", func(t *Template) { t.Quantized = t.Quantized[:1] }},
		{"NaN", func(t *Template) { t.Vector[0] = float32(math.NaN()) }},
		{"Inf scale", func(t *Template) { t.Scale = float32(math.Inf(1)) }},
	}
	for _, tc := range tests {
		tp := sample(4)
		tc.f(&tp)
		if _, err := Encode(&tp); !errors.Is(err, ErrInvalid) {
			t.Errorf("%s: Encode: %v, want ErrInvalid", tc.name, err)
		}
	}
}

func TestQuantize(t *testing.T) {
	v := []float32{0.5, -1, 0.25, 0, 1}
	q, s := Quantize(v)
	if s != float32(1)/127 {
		t.Fatalf("scale %v", s)
	}
	want := []int8{64, -127, 32, 0, 127}
	for i := range want {
		if q[i] != want[i] {
			t.Errorf("q[%d] = %d, want %d", i, q[i], want[i])
		}
	}
	tp := Template{Quantized: q, Scale: s}
	for i, x := range tp.Dequantize() {
		if math.Abs(float64(x-v[i])) > float64(s)/2+1e-7 {
			t.Errorf("dequantized[%d] = %v, want %v ± %v", i, x, v[i], s/2)
		}
	}
	if q, s := Quantize(make([]float32, 3)); s != 0 || q[0] != 0 {
		t.Error("zero vector")
	}
}

func FuzzDecode(f *testing.F) {
	tp := sample(8)
	good, _ := Encode(&tp)
	f.Add(good)
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
		// Anything accepted re-encodes to the same bytes.
		again, err := Encode(&got)
		if err != nil {
			t.Fatalf("decoded template does not encode: %v", err)
		}
		if !bytes.Equal(again, b) {
			t.Fatalf("re-encoding differs:\n in  %x\n out %x", b, again)
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
