package tfliteref

import (
	"errors"
	"slices"
	"testing"

	"github.com/facegate/facegate/internal/tflite"
	"github.com/facegate/facegate/internal/tflite/tflitetest"
)

func run(t *testing.T, model []byte, in ...[]float32) [][]float32 {
	t.Helper()
	m, err := tflite.Parse(model)
	if err != nil {
		t.Fatal(err)
	}
	out, err := Run(m, in...)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// Hand-computed cases of the TFLite semantics the interpreter implements.
func TestOps(t *testing.T) {
	x := []float32{1, 2, 3, 4, 5, 6, 7, 8, 9} // 1×3×3×1
	ones := tflitetest.F32(1, 1, 1, 1, 1, 1, 1, 1, 1)
	tests := []struct {
		name string
		ts   []tflitetest.Tensor
		op   tflitetest.Op
		want []float32
	}{
		// SAME, stride 2 over 3: out 2, total pad 2, 1 before: windows
		// rows/cols {0,1} and {1,2}
		{"conv SAME stride 2", []tflitetest.Tensor{{Name: "w", Shape: []int32{1, 3, 3, 1}, Data: ones}, {Name: "y", Shape: []int32{1, 2, 2, 1}}},
			tflitetest.Op{Code: 3, Inputs: []int32{0, 1, -1}, Outputs: []int32{2}, Options: tflitetest.T(uint8(0), int32(2), int32(2))},
			[]float32{12, 16, 24, 28}},
		{"conv VALID", []tflitetest.Tensor{{Name: "w", Shape: []int32{1, 3, 3, 1}, Data: ones}, {Name: "y", Shape: []int32{1, 1, 1, 1}}},
			tflitetest.Op{Code: 3, Inputs: []int32{0, 1, -1}, Outputs: []int32{2}, Options: tflitetest.T(uint8(1), int32(1), int32(1))},
			[]float32{45}},
		{"depthwise SAME with bias and RELU6", []tflitetest.Tensor{{Name: "w", Shape: []int32{1, 3, 3, 1}, Data: ones}, {Name: "y", Shape: []int32{1, 2, 2, 1}}, {Name: "b", Shape: []int32{1}, Data: tflitetest.F32(-20)}},
			tflitetest.Op{Code: 4, Inputs: []int32{0, 1, 3}, Outputs: []int32{2}, Options: tflitetest.T(uint8(0), int32(2), int32(2), int32(1), uint8(3))},
			[]float32{0, 0, 4, 6}},
		// average over the inside positions only
		{"average pool SAME", []tflitetest.Tensor{{Name: "y", Shape: []int32{1, 2, 2, 1}}},
			tflitetest.Op{Code: 1, Inputs: []int32{0}, Outputs: []int32{1}, Options: tflitetest.T(uint8(0), int32(2), int32(2), int32(2), int32(2))},
			[]float32{3, 4.5, 7.5, 9}},
		{"max pool SAME", []tflitetest.Tensor{{Name: "y", Shape: []int32{1, 2, 2, 1}}},
			tflitetest.Op{Code: 17, Inputs: []int32{0}, Outputs: []int32{1}, Options: tflitetest.T(uint8(0), int32(2), int32(2), int32(2), int32(2))},
			[]float32{5, 6, 8, 9}},
		{"greater-equal", []tflitetest.Tensor{{Name: "k", Shape: []int32{}, Data: tflitetest.F32(5)}, {Name: "y", Shape: []int32{1, 3, 3, 1}}},
			tflitetest.Op{Code: 62, Inputs: []int32{0, 1}, Outputs: []int32{2}},
			[]float32{0, 0, 0, 0, 1, 1, 1, 1, 1}},
		{"less", []tflitetest.Tensor{{Name: "k", Shape: []int32{}, Data: tflitetest.F32(5)}, {Name: "y", Shape: []int32{1, 3, 3, 1}}},
			tflitetest.Op{Code: 58, Inputs: []int32{0, 1}, Outputs: []int32{2}},
			[]float32{1, 1, 1, 1, 0, 0, 0, 0, 0}},
		{"leaky relu", []tflitetest.Tensor{{Name: "y", Shape: []int32{1, 3, 3, 1}}},
			tflitetest.Op{Code: 98, Inputs: []int32{0}, Outputs: []int32{1}, Options: tflitetest.T(float32(0.5))},
			x},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ts := append([]tflitetest.Tensor{{Name: "x", Shape: []int32{1, 3, 3, 1}}}, tt.ts...)
			out := tt.op.Outputs[0]
			got := run(t, tflitetest.Model(ts, []tflitetest.Op{tt.op}, []int32{0}, []int32{out}), x)
			if !slices.Equal(got[0], tt.want) {
				t.Errorf("got %v, want %v", got[0], tt.want)
			}
		})
	}
}

func TestRunTiny(t *testing.T) {
	x := make([]float32, 50)
	for i := range x {
		x[i] = float32(i%9)/4 - 1
	}
	out := run(t, tflitetest.Tiny(), x)
	if len(out) != 1 || len(out[0]) != 2 {
		t.Fatalf("outputs %v", out)
	}
	m, _ := tflite.Parse(tflitetest.Tiny())
	if _, err := Run(m, x[:3]); err == nil {
		t.Error("short input accepted")
	}
	m.Operators[0].Code = 47
	if _, err := Run(m, x); !errors.Is(err, ErrUnsupported) {
		t.Errorf("unknown op: %v", err)
	}
}
