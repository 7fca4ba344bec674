package tflite

import (
	"errors"
	"math"
	"slices"
	"testing"

	"github.com/facegate/facegate/internal/tflite/tflitetest"
)

func TestHalf(t *testing.T) {
	tests := []struct {
		h    uint16
		want float32
	}{
		{0x0000, 0}, {0x3c00, 1}, {0xbc00, -1}, {0x3800, 0.5}, {0x7bff, 65504},
		{0x0001, 5.9604645e-08}, {0x0200, 3.0517578e-05}, {0x3555, 0.33325195},
		{0x7c00, float32(math.Inf(1))}, {0xfc00, float32(math.Inf(-1))},
	}
	for _, tt := range tests {
		if got := half(tt.h); got != tt.want {
			t.Errorf("half(%#04x) = %g, want %g", tt.h, got, tt.want)
		}
	}
	if !math.IsNaN(float64(half(0x7e00))) {
		t.Error("half(0x7e00) is not NaN")
	}
}

func TestParseTiny(t *testing.T) {
	m, err := Parse(tflitetest.Tiny())
	if err != nil {
		t.Fatal(err)
	}
	if m.Version != 3 || m.Description != "tflitetest" || len(m.Tensors) != 20 || len(m.Operators) != 11 {
		t.Fatalf("version %d, description %q, %d tensors, %d operators", m.Version, m.Description, len(m.Tensors), len(m.Operators))
	}
	if !slices.Equal(m.Inputs, []int{0}) || !slices.Equal(m.Outputs, []int{19}) {
		t.Errorf("inputs %v, outputs %v", m.Inputs, m.Outputs)
	}
	var codes []Op
	for _, op := range m.Operators {
		codes = append(codes, op.Code)
	}
	want := []Op{Dequantize, Conv2D, DepthwiseConv, Relu, Abs, Sub, Mul, Add, MaxPool2D, Reshape, FullyConnected}
	if !slices.Equal(codes, want) {
		t.Errorf("ops %v, want %v", codes, want)
	}
	c := m.Operators[1].Options
	if c.Padding != Same || c.StrideW != 2 || c.StrideH != 2 || c.Activation != ActRelu || c.DilationW != 1 || c.DilationH != 1 {
		t.Errorf("conv options %+v", c)
	}
	if d := m.Operators[2].Options; d.DepthMultiplier != 1 || d.StrideW != 1 {
		t.Errorf("depthwise options %+v", d)
	}
	if p := m.Operators[8].Options; p.FilterW != 2 || p.FilterH != 2 || p.StrideH != 2 {
		t.Errorf("pool options %+v", p)
	}
	w16 := m.Tensors[1]
	if w16.Type != Float16 || !slices.Equal(w16.Shape, []int{3, 3, 3, 2}) {
		t.Fatalf("w16: %v %v", w16.Type, w16.Shape)
	}
	f, err := w16.Floats()
	if err != nil {
		t.Fatal(err)
	}
	for i, v := range f {
		if v != float32(i%5)-2 {
			t.Fatalf("w16[%d] = %g, want %d", i, v, i%5-2)
		}
	}
	s, err := m.Tensors[15].Ints()
	if err != nil || !slices.Equal(s, []int{1, 12}) {
		t.Errorf("shape tensor %v, %v", s, err)
	}
	if _, err := m.Tensors[15].Floats(); !errors.Is(err, ErrUnsupported) {
		t.Errorf("Floats of int32: %v", err)
	}
	if m.Tensors[4].Data != nil {
		t.Error("computed tensor has data")
	}
}

func TestParseErrors(t *testing.T) {
	good := tflitetest.Tiny()
	bad := func(f func(b []byte) []byte) []byte { return f(slices.Clone(good)) }
	tests := []struct {
		name string
		data []byte
		err  error
	}{
		{"empty", nil, ErrFormat},
		{"short", good[:7], ErrFormat},
		{"identifier", bad(func(b []byte) []byte { b[4] = 'X'; return b }), ErrFormat},
		{"truncated", good[:len(good)/2], ErrFormat},
		{"root past end", bad(func(b []byte) []byte { b[0], b[1], b[2], b[3] = 0xff, 0xff, 0xff, 0x7f; return b }), ErrFormat},
		{"schema 2", tflitetest.Encode(tflitetest.T(uint32(2))), ErrUnsupported},
		{"no subgraph", tflitetest.Encode(tflitetest.T(uint32(3))), ErrUnsupported},
		{"one computed tensor", tflitetest.Model([]tflitetest.Tensor{{Name: "x", Shape: []int32{1}}}, nil, []int32{0}, []int32{0}), nil},
		{"input out of range", tflitetest.Model([]tflitetest.Tensor{{Name: "x", Shape: []int32{1}}}, nil, []int32{5}, []int32{0}), ErrFormat},
		{"negative dim", tflitetest.Model([]tflitetest.Tensor{{Name: "x", Shape: []int32{-1}}}, nil, []int32{0}, []int32{0}), ErrUnsupported},
		{"huge", tflitetest.Model([]tflitetest.Tensor{{Name: "x", Shape: []int32{1 << 20, 1 << 20}}}, nil, []int32{0}, []int32{0}), ErrFormat},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse(tt.data)
			if tt.err == nil {
				if err != nil {
					t.Errorf("err = %v, want nil", err)
				}
				return
			}
			if !errors.Is(err, tt.err) {
				t.Errorf("err = %v, want %v", err, tt.err)
			}
		})
	}
}

func TestFloatsSize(t *testing.T) {
	x := Tensor{Name: "x", Shape: []int{2}, Type: Float32, Data: []byte{0, 0, 0, 0}}
	if _, err := x.Floats(); !errors.Is(err, ErrFormat) {
		t.Errorf("short data: %v", err)
	}
	x.Quantized = true
	if _, err := x.Floats(); !errors.Is(err, ErrUnsupported) {
		t.Errorf("quantized: %v", err)
	}
}

// FuzzParse feeds arbitrary bytes to Parse: it must not panic, and every
// error must wrap ErrFormat or ErrUnsupported. Constant tensors of a model
// it accepts must decode or fail the same way.
func FuzzParse(f *testing.F) {
	f.Add(tflitetest.Tiny())
	f.Add(tflitetest.Encode(tflitetest.T(uint32(3))))
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := Parse(data)
		if err != nil {
			if !errors.Is(err, ErrFormat) && !errors.Is(err, ErrUnsupported) {
				t.Fatalf("untyped error %v", err)
			}
			return
		}
		for i := range m.Tensors {
			if m.Tensors[i].Data == nil {
				continue
			}
			if _, err := m.Tensors[i].Floats(); err != nil && !errors.Is(err, ErrFormat) && !errors.Is(err, ErrUnsupported) {
				t.Fatalf("untyped error %v", err)
			}
		}
	})
}
