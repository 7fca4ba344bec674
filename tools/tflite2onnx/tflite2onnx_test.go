package main

import (
	"bytes"
	"encoding/binary"
	"errors"
	"math"
	"slices"
	"testing"

	"github.com/facegate/facegate/internal/onnx/onnxtest"
	"github.com/facegate/facegate/internal/tflite"
	"github.com/facegate/facegate/internal/tflite/tflitetest"
)

// graph returns the op types and the initializers (name → float data) of
// an encoded model.
func graph(t *testing.T, b []byte) (ops []string, inits map[string][]float32) {
	t.Helper()
	graphs := onnxtest.Fields(t, b, 7)
	if len(graphs) != 1 {
		t.Fatalf("%d graphs", len(graphs))
	}
	for _, n := range onnxtest.Fields(t, graphs[0], 1) {
		ops = append(ops, string(onnxtest.Fields(t, n, 4)[0]))
	}
	inits = map[string][]float32{}
	for _, in := range onnxtest.Fields(t, graphs[0], 5) {
		raw := onnxtest.Fields(t, in, 9)[0]
		v := make([]float32, len(raw)/4)
		for i := range v {
			v[i] = math.Float32frombits(binary.LittleEndian.Uint32(raw[4*i:]))
		}
		inits[string(onnxtest.Fields(t, in, 8)[0])] = v
	}
	return ops, inits
}

func TestConvertTiny(t *testing.T) {
	b, err := Convert(tflitetest.Tiny(), Options{Doc: "tiny"})
	if err != nil {
		t.Fatal(err)
	}
	again, err := Convert(tflitetest.Tiny(), Options{Doc: "tiny"})
	if err != nil || !bytes.Equal(b, again) {
		t.Fatalf("second conversion differs (err %v)", err)
	}
	ops, inits := graph(t, b)
	want := []string{"Conv", "Relu", "Conv", "PRelu", "MaxPool", "Transpose", "Flatten", "Gemm"}
	if !slices.Equal(ops, want) {
		t.Errorf("ops %v, want %v", ops, want)
	}
	// conv weights: TFLite [o,kh,kw,i] element (o=2,y=1,x=0,i=1) is index
	// ((2·3+1)·3+0)·2+1 = 43, value 43%5−2 = 1; ONNX [o,i,kh,kw] index
	// ((2·2+1)·3+1)·3+0 = 48
	if w := inits["conv/W"]; len(w) != 54 || w[48] != 1 {
		t.Errorf("conv/W has %d values, [2,1,1,0] = %v, want 1", len(w), w[48])
	}
	// depthwise: TFLite [1,kh,kw,c] (y=2,x=1,c=2) index (2·3+1)·3+2 = 23,
	// value (23%4)/4−0.3 = 0.45; ONNX [c,1,kh,kw] index (2·3+2)·3+1 = 25
	if w := inits["d/W"]; len(w) != 27 || math.Abs(float64(w[25])-0.45) > 1e-6 {
		t.Errorf("d/W has %d values, [2,0,2,1] = %v, want 0.45", len(w), w[25])
	}
	if s := inits["prelu/slope"]; !slices.Equal(s, []float32{0.2, 0.4, 0.6}) {
		t.Errorf("PReLU slope %v, want 2k = [0.2 0.4 0.6]", s)
	}
}

func TestSamePads(t *testing.T) {
	tests := []struct {
		p                  tflite.Padding
		in, k, stride, dil int
		out, before, after int
	}{
		{tflite.Same, 112, 3, 2, 1, 56, 0, 1},
		{tflite.Same, 56, 3, 1, 1, 56, 1, 1},
		{tflite.Same, 16, 3, 2, 1, 8, 0, 1},
		{tflite.Same, 7, 7, 1, 1, 7, 3, 3},
		{tflite.Same, 5, 3, 1, 2, 5, 2, 2},
		{tflite.Valid, 7, 7, 1, 1, 1, 0, 0},
		{tflite.Valid, 16, 2, 2, 1, 8, 0, 0},
	}
	for _, tt := range tests {
		out, b, a, err := samePads(tt.p, tt.in, tt.k, tt.stride, tt.dil)
		if err != nil || out != tt.out || b != tt.before || a != tt.after {
			t.Errorf("samePads(%d, in %d, k %d, s %d, d %d) = %d, %d, %d, %v; want %d, %d, %d", tt.p, tt.in, tt.k, tt.stride, tt.dil, out, b, a, err, tt.out, tt.before, tt.after)
		}
	}
	if _, _, _, err := samePads(tflite.Valid, 2, 3, 1, 1); !errors.Is(err, ErrUnsupported) {
		t.Errorf("kernel larger than input: %v", err)
	}
}

func TestConvertErrors(t *testing.T) {
	f32 := func(n string, shape ...int32) tflitetest.Tensor { return tflitetest.Tensor{Name: n, Shape: shape} }
	tests := []struct {
		name string
		data []byte
		err  error
	}{
		{"malformed", []byte("not a tflite file"), tflite.ErrFormat},
		{"unknown op", tflitetest.Model([]tflitetest.Tensor{f32("x", 1, 2, 2, 1), f32("y", 1, 2, 2, 1)},
			[]tflitetest.Op{{Code: 47, Inputs: []int32{0}, Outputs: []int32{1}}}, []int32{0}, []int32{1}), ErrUnsupported},
		{"custom op", tflitetest.Model([]tflitetest.Tensor{f32("x", 1, 2, 2, 1), f32("y", 1, 2, 2, 1)},
			[]tflitetest.Op{{Code: 32, Inputs: []int32{0}, Outputs: []int32{1}}}, []int32{0}, []int32{1}), ErrUnsupported},
		{"2-D input", tflitetest.Model([]tflitetest.Tensor{f32("x", 1, 4), f32("y", 1, 4)},
			[]tflitetest.Op{{Code: 19, Inputs: []int32{0}, Outputs: []int32{1}}}, []int32{0}, []int32{1}), ErrUnsupported},
		{"tensor written twice", tflitetest.Model([]tflitetest.Tensor{f32("x", 1, 2, 2, 1), f32("y", 1, 2, 2, 1)},
			[]tflitetest.Op{{Code: 19, Inputs: []int32{0}, Outputs: []int32{1}}, {Code: 19, Inputs: []int32{0}, Outputs: []int32{1}}}, []int32{0}, []int32{1}), tflite.ErrFormat},
		{"output never computed", tflitetest.Model([]tflitetest.Tensor{f32("x", 1, 2, 2, 1), f32("y", 1, 2, 2, 1)},
			nil, []int32{0}, []int32{1}), tflite.ErrFormat},
		{"conv by a computed filter", tflitetest.Model([]tflitetest.Tensor{f32("x", 1, 2, 2, 1), f32("y", 1, 2, 2, 1)},
			[]tflitetest.Op{{Code: 3, Inputs: []int32{0, 0}, Outputs: []int32{1}}}, []int32{0}, []int32{1}), ErrUnsupported},
		{"cycle", tflitetest.Model([]tflitetest.Tensor{f32("x", 1, 2, 2, 1), f32("y", 1, 2, 2, 1)},
			[]tflitetest.Op{{Code: 19, Inputs: []int32{1}, Outputs: []int32{1}}}, []int32{0}, []int32{1}), ErrUnsupported},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := Convert(tt.data, Options{}); !errors.Is(err, tt.err) {
				t.Errorf("err = %v, want %v", err, tt.err)
			}
		})
	}
}

// FuzzConvert feeds arbitrary bytes to the reader and the converter: no
// panic, and every error wraps tflite.ErrFormat, tflite.ErrUnsupported or
// ErrUnsupported.
func FuzzConvert(f *testing.F) {
	f.Add(tflitetest.Tiny())
	f.Fuzz(func(t *testing.T, data []byte) {
		_, err := Convert(data, Options{})
		if err != nil && !errors.Is(err, tflite.ErrFormat) && !errors.Is(err, tflite.ErrUnsupported) && !errors.Is(err, ErrUnsupported) {
			t.Fatalf("untyped error %v", err)
		}
	})
}
