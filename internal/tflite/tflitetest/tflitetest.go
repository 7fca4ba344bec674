// Package tflitetest writes small TFLite flatbuffers for tests of
// internal/tflite and tools/tflite2onnx. It lays every object out after the
// one that refers to it (flatbuffer offsets point forward), each table right
// after its vtable; it is no general flatbuffer builder.
package tflitetest

import (
	"encoding/binary"
	"math"
	"slices"
)

// A Table is a flatbuffer table: field i is Fields[i]; nil is absent. A
// field is uint8, bool, int32, uint32, float32, uint64 (inline), or a
// string, []byte, []int32, []float32, *Table or []*Table (referenced).
type Table struct{ Fields []any }

// T builds a table from its fields.
func T(fields ...any) *Table { return &Table{Fields: fields} }

type writer struct{ b []byte }

func (w *writer) u32(v uint32) { w.b = binary.LittleEndian.AppendUint32(w.b, v) }

func inlineSize(f any) int {
	switch f.(type) {
	case nil:
		return 0
	case uint8, bool:
		return 1
	case uint64:
		return 8
	}
	return 4
}

// table writes t (vtable first) and then what it refers to; it returns the
// table's position.
func (w *writer) table(t *Table) int {
	n := len(t.Fields)
	vt := len(w.b)
	size := 4
	offs := make([]int, n)
	for i, f := range t.Fields {
		if f == nil {
			continue
		}
		offs[i] = size
		size += inlineSize(f)
	}
	w.b = binary.LittleEndian.AppendUint16(w.b, uint16(4+2*n))
	w.b = binary.LittleEndian.AppendUint16(w.b, uint16(size))
	for _, o := range offs {
		w.b = binary.LittleEndian.AppendUint16(w.b, uint16(o))
	}
	pos := len(w.b)
	w.u32(uint32(pos - vt)) // soffset: vtable = table − soffset
	type patch struct {
		at int
		v  any
	}
	var refs []patch
	for i, f := range t.Fields {
		switch v := f.(type) {
		case nil:
		case uint8:
			w.b = append(w.b, v)
		case bool:
			b := uint8(0)
			if v {
				b = 1
			}
			w.b = append(w.b, b)
		case int32:
			w.u32(uint32(v))
		case uint32:
			w.u32(v)
		case float32:
			w.u32(math.Float32bits(v))
		case uint64:
			w.b = binary.LittleEndian.AppendUint64(w.b, v)
		default:
			refs = append(refs, patch{pos + offs[i], v})
			w.u32(0)
		}
	}
	for _, r := range refs {
		at := w.put(r.v)
		binary.LittleEndian.PutUint32(w.b[r.at:], uint32(at-r.at))
	}
	return pos
}

// put writes a referenced object and returns its position.
func (w *writer) put(v any) int {
	switch v := v.(type) {
	case *Table:
		return w.table(v)
	case string:
		return w.put(append([]byte(v), 0)[:len(v)])
	case []byte:
		pos := len(w.b)
		w.u32(uint32(len(v)))
		w.b = append(w.b, v...)
		return pos
	case []int32:
		pos := len(w.b)
		w.u32(uint32(len(v)))
		for _, x := range v {
			w.u32(uint32(x))
		}
		return pos
	case []float32:
		pos := len(w.b)
		w.u32(uint32(len(v)))
		for _, x := range v {
			w.u32(math.Float32bits(x))
		}
		return pos
	case []*Table:
		pos := len(w.b)
		w.u32(uint32(len(v)))
		slots := len(w.b)
		for range v {
			w.u32(0)
		}
		for i, t := range v {
			at := w.table(t)
			s := slots + 4*i
			binary.LittleEndian.PutUint32(w.b[s:], uint32(at-s))
		}
		return pos
	}
	panic("tflitetest: unsupported field type")
}

// Encode returns the flatbuffer with root table root and file identifier
// "TFL3".
func Encode(root *Table) []byte {
	w := &writer{}
	w.u32(0)
	w.b = append(w.b, "TFL3"...)
	at := w.table(root)
	binary.LittleEndian.PutUint32(w.b, uint32(at))
	return w.b
}

// Tensor is one tensor of a test model; Data nil for computed tensors.
type Tensor struct {
	Name  string
	Shape []int32
	Type  uint8 // 0 float32, 1 float16, 2 int32
	Data  []byte
}

// Op is one operator: a builtin code, tensor indices and its options table
// (the builtin_options union's type byte is not read by internal/tflite and
// is left out).
type Op struct {
	Code            int32
	Inputs, Outputs []int32
	Options         *Table
}

// Model encodes a schema-3 model with one subgraph.
func Model(tensors []Tensor, ops []Op, inputs, outputs []int32) []byte {
	var codes []int32
	var opcodes []*Table
	buffers := []*Table{T()}
	var tt []*Table
	for _, t := range tensors {
		buf := uint32(0)
		if t.Data != nil {
			buf = uint32(len(buffers))
			buffers = append(buffers, T(t.Data))
		}
		tt = append(tt, T(t.Shape, t.Type, buf, t.Name))
	}
	var ot []*Table
	for _, op := range ops {
		k := slices.Index(codes, op.Code)
		if k < 0 {
			k = len(codes)
			codes = append(codes, op.Code)
			opcodes = append(opcodes, T(uint8(min(op.Code, 127)), nil, int32(1), op.Code))
		}
		var opts any
		if op.Options != nil {
			opts = op.Options
		}
		ot = append(ot, T(uint32(k), op.Inputs, op.Outputs, nil, opts))
	}
	sg := T(tt, inputs, outputs, ot, "main")
	return Encode(T(uint32(3), opcodes, []*Table{sg}, "tflitetest", buffers))
}

// F32 returns float32 values as little-endian bytes.
func F32(v ...float32) []byte {
	var b []byte
	for _, x := range v {
		b = binary.LittleEndian.AppendUint32(b, math.Float32bits(x))
	}
	return b
}

// I32 returns int32 values as little-endian bytes.
func I32(v ...int32) []byte {
	var b []byte
	for _, x := range v {
		b = binary.LittleEndian.AppendUint32(b, uint32(x))
	}
	return b
}

// seq returns n values f(0)…f(n−1).
func seq(n int, f func(i int) float32) []float32 {
	v := make([]float32, n)
	for i := range v {
		v[i] = f(i)
	}
	return v
}

// F16 returns float16 encodings of small integers and halves (exact).
func F16(v ...float32) []byte {
	var b []byte
	for _, x := range v {
		// x = m·2^e with |m| < 2048 exactly for the values used here
		h := uint16(0)
		if x < 0 {
			h, x = 0x8000, -x
		}
		if x != 0 {
			e := 15
			for x >= 2 {
				x /= 2
				e++
			}
			for x < 1 {
				x *= 2
				e--
			}
			h |= uint16(e)<<10 | uint16((x-1)*1024)
		}
		b = binary.LittleEndian.AppendUint16(b, h)
	}
	return b
}

// Tiny is a model with every construct MobileFaceNet.tflite uses and a few
// more: input [1,5,5,2] → CONV_2D 3×3/2 SAME with float16 weights behind
// DEQUANTIZE and a fused RELU → DEPTHWISE_CONV_2D 3×3/1 SAME → PReLU written
// relu(x) + k·(x − |x|) → MAX_POOL_2D 2×2/2 SAME → RESHAPE to [1,12] →
// FULLY_CONNECTED to [1,2] (output "out").
func Tiny() []byte {
	ts := []Tensor{
		{Name: "input", Shape: []int32{1, 5, 5, 2}}, // 0
		{Name: "w16", Shape: []int32{3, 3, 3, 2}, Type: 1, Data: F16(seq(54, func(i int) float32 { return float32(i%5) - 2 })...)}, // 1
		{Name: "w", Shape: []int32{3, 3, 3, 2}},                  // 2
		{Name: "b", Shape: []int32{3}, Data: F32(0.5, -0.25, 0)}, // 3
		{Name: "conv", Shape: []int32{1, 3, 3, 3}},               // 4
		{Name: "dw", Shape: []int32{1, 3, 3, 3}, Data: F32(seq(27, func(i int) float32 { return float32(i%4)/4 - 0.3 })...)}, // 5
		{Name: "db", Shape: []int32{3}, Data: F32(0, 0.1, -0.1)},                                                             // 6
		{Name: "d", Shape: []int32{1, 3, 3, 3}},                                                                              // 7
		{Name: "relu", Shape: []int32{1, 3, 3, 3}},                                                                           // 8
		{Name: "abs", Shape: []int32{1, 3, 3, 3}},                                                                            // 9
		{Name: "sub", Shape: []int32{1, 3, 3, 3}},                                                                            // 10
		{Name: "k", Shape: []int32{3}, Data: F32(0.1, 0.2, 0.3)},                                                             // 11
		{Name: "mul", Shape: []int32{1, 3, 3, 3}},                                                                            // 12
		{Name: "prelu", Shape: []int32{1, 3, 3, 3}},                                                                          // 13
		{Name: "pool", Shape: []int32{1, 2, 2, 3}},                                                                           // 14
		{Name: "shape", Shape: []int32{2}, Type: 2, Data: I32(1, 12)},                                                        // 15
		{Name: "flat", Shape: []int32{1, 12}},                                                                                // 16
		{Name: "fw", Shape: []int32{2, 12}, Data: F32(seq(24, func(i int) float32 { return float32(i%7)/7 - 0.4 })...)},      // 17
		{Name: "fb", Shape: []int32{2}, Data: F32(1, -1)},                                                                    // 18
		{Name: "out", Shape: []int32{1, 2}},                                                                                  // 19
	}
	// options: Conv2D (padding, stride_w, stride_h, activation), Depthwise
	// (padding, stride_w, stride_h, depth_multiplier), Pool2D (padding,
	// stride_w, stride_h, filter_w, filter_h)
	ops := []Op{
		{Code: 6, Inputs: []int32{1}, Outputs: []int32{2}},
		{Code: 3, Inputs: []int32{0, 2, 3}, Outputs: []int32{4}, Options: T(uint8(0), int32(2), int32(2), uint8(1))},
		{Code: 4, Inputs: []int32{4, 5, 6}, Outputs: []int32{7}, Options: T(uint8(0), int32(1), int32(1), int32(1))},
		{Code: 19, Inputs: []int32{7}, Outputs: []int32{8}},
		{Code: 101, Inputs: []int32{7}, Outputs: []int32{9}},
		{Code: 41, Inputs: []int32{7, 9}, Outputs: []int32{10}},
		{Code: 18, Inputs: []int32{11, 10}, Outputs: []int32{12}},
		{Code: 0, Inputs: []int32{8, 12}, Outputs: []int32{13}},
		{Code: 17, Inputs: []int32{13}, Outputs: []int32{14}, Options: T(uint8(0), int32(2), int32(2), int32(2), int32(2))},
		{Code: 22, Inputs: []int32{14, 15}, Outputs: []int32{16}},
		{Code: 9, Inputs: []int32{16, 17, 18}, Outputs: []int32{19}},
	}
	return Model(ts, ops, []int32{0}, []int32{19})
}
