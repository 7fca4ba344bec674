// Package tflite reads TensorFlow Lite models: a hand-written, bounds-checked
// decoder of the part of the TFLite flatbuffer schema
// (tensorflow/lite/schema/schema.fbs, version 3) that single-subgraph
// float networks use — tensors, constant buffers, builtin operators and the
// options of the operators listed in op.go. It has no dependency outside the
// standard library.
package tflite

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
)

// ErrFormat is wrapped by every error about a malformed TFLite file.
var ErrFormat = errors.New("tflite: malformed TFLite model")

// ErrUnsupported is wrapped by every error about a valid model this package
// does not handle (several subgraphs, sparse or external tensor data).
var ErrUnsupported = errors.New("tflite: unsupported TFLite construct")

// maxElements bounds one tensor's element count, so a hostile file cannot
// make the reader allocate without limit.
const maxElements = 1 << 28

// The tables decoded are Model (version, operator_codes, subgraphs,
// description, buffers), OperatorCode, SubGraph, Tensor,
// QuantizationParameters, Operator and Buffer, plus the builtin option tables
// of op.go. A flatbuffer table starts with an int32 offset back
// to its vtable; the vtable lists, per field number, the field's offset
// inside the table (0: absent, the schema default applies). References to
// tables, vectors and strings are uint32 offsets relative to where they are
// stored. Every offset is bounds-checked before use.

// fb is a flatbuffer with checked accessors. A failed check records the
// first error and returns zero values, so decoding code reads straight
// through and checks fb.err once.
type fb struct {
	b   []byte
	err error
}

func (f *fb) fail(format string, a ...any) {
	if f.err == nil {
		f.err = fmt.Errorf("%w: "+format, append([]any{ErrFormat}, a...)...)
	}
}

func (f *fb) ok(pos, n int) bool {
	if f.err != nil {
		return false
	}
	if pos < 0 || n < 0 || pos > len(f.b)-n {
		f.fail("offset %d+%d outside the %d-byte file", pos, n, len(f.b))
		return false
	}
	return true
}

func (f *fb) u8(pos int) uint8 {
	if !f.ok(pos, 1) {
		return 0
	}
	return f.b[pos]
}

func (f *fb) u16(pos int) uint16 {
	if !f.ok(pos, 2) {
		return 0
	}
	return binary.LittleEndian.Uint16(f.b[pos:])
}

func (f *fb) u32(pos int) uint32 {
	if !f.ok(pos, 4) {
		return 0
	}
	return binary.LittleEndian.Uint32(f.b[pos:])
}

func (f *fb) u64(pos int) uint64 {
	if !f.ok(pos, 8) {
		return 0
	}
	return binary.LittleEndian.Uint64(f.b[pos:])
}

// table is the position of a flatbuffer table (0: absent).
type table int

// field returns the absolute position of field i of t, or 0 when absent.
func (f *fb) field(t table, i int) int {
	if t == 0 || f.err != nil {
		return 0
	}
	vt := int(t) - int(int32(f.u32(int(t))))
	vsize := int(f.u16(vt))
	tsize := int(f.u16(vt + 2))
	if f.err != nil {
		return 0
	}
	if vsize < 4 || vsize%2 != 0 {
		f.fail("vtable at %d has size %d", vt, vsize)
		return 0
	}
	if 4+2*i >= vsize {
		return 0
	}
	off := int(f.u16(vt + 4 + 2*i))
	if off == 0 {
		return 0
	}
	if off >= tsize {
		f.fail("field %d of table at %d at offset %d past the table's %d bytes", i, t, off, tsize)
		return 0
	}
	return int(t) + off
}

// ref follows the uoffset stored at pos.
func (f *fb) ref(pos int) int {
	if pos == 0 {
		return 0
	}
	r := pos + int(f.u32(pos))
	if f.err == nil && r >= len(f.b) {
		f.fail("reference at %d points past the end", pos)
		return 0
	}
	return r
}

func (f *fb) tableField(t table, i int) table {
	p := f.ref(f.field(t, i))
	if p != 0 {
		f.ok(p, 4)
	}
	return table(p)
}

// vector returns the position of the first element and the length of the
// vector in field i of t, whose elements are elem bytes each.
func (f *fb) vector(t table, i, elem int) (int, int) {
	p := f.ref(f.field(t, i))
	if p == 0 {
		return 0, 0
	}
	n := int(f.u32(p))
	if n < 0 || n > (len(f.b)-p-4)/elem {
		f.fail("vector at %d of %d elements of %d bytes runs past the end", p, n, elem)
		return 0, 0
	}
	return p + 4, n
}

func (f *fb) tables(t table, i int) []table {
	p, n := f.vector(t, i, 4)
	out := make([]table, 0, n)
	for k := 0; k < n && f.err == nil; k++ {
		e := p + 4*k
		out = append(out, table(f.ref(e)))
		f.ok(int(out[k]), 4)
	}
	return out
}

func (f *fb) int32s(t table, i int) []int32 {
	p, n := f.vector(t, i, 4)
	out := make([]int32, n)
	for k := range out {
		out[k] = int32(f.u32(p + 4*k))
	}
	return out
}

func (f *fb) float32s(t table, i int) []float32 {
	p, n := f.vector(t, i, 4)
	out := make([]float32, n)
	for k := range out {
		out[k] = math.Float32frombits(f.u32(p + 4*k))
	}
	return out
}

func (f *fb) bytesField(t table, i int) []byte {
	p, n := f.vector(t, i, 1)
	if f.err != nil || p == 0 {
		return nil
	}
	return f.b[p : p+n]
}

func (f *fb) str(t table, i int) string { return string(f.bytesField(t, i)) }

func (f *fb) scalar32(t table, i int, def int32) int32 {
	p := f.field(t, i)
	if p == 0 {
		return def
	}
	return int32(f.u32(p))
}

func (f *fb) scalar8(t table, i int, def uint8) uint8 {
	p := f.field(t, i)
	if p == 0 {
		return def
	}
	return f.u8(p)
}

func (f *fb) float32Field(t table, i int, def float32) float32 {
	p := f.field(t, i)
	if p == 0 {
		return def
	}
	return math.Float32frombits(f.u32(p))
}

// TensorType is a TFLite tensor element type.
type TensorType uint8

// The tensor types the converter reads.
const (
	Float32 TensorType = 0
	Float16 TensorType = 1
	Int32   TensorType = 2
	Uint8   TensorType = 3
	Int64   TensorType = 4
	Int8    TensorType = 9
)

func (t TensorType) String() string {
	switch t {
	case Float32:
		return "float32"
	case Float16:
		return "float16"
	case Int32:
		return "int32"
	case Uint8:
		return "uint8"
	case Int64:
		return "int64"
	case Int8:
		return "int8"
	}
	return fmt.Sprintf("type%d", uint8(t))
}

// Tensor is one tensor of the graph. Data holds a constant's raw
// little-endian bytes (nil for activations).
type Tensor struct {
	Name  string
	Shape []int
	Type  TensorType
	Data  []byte
	// Quantized is set when the tensor carries quantization scales.
	Quantized bool
}

// Operator is one node: a builtin op code, its input and output tensor
// indices (−1: optional input left out) and its decoded options.
type Operator struct {
	Code    Op
	Custom  string
	Inputs  []int
	Outputs []int
	Options Options
}

// Model is a decoded TFLite model with one subgraph.
type Model struct {
	Version     uint32
	Description string
	Tensors     []Tensor
	Inputs      []int
	Outputs     []int
	Operators   []Operator
}

// Parse decodes a TFLite flatbuffer. Only single-subgraph models with their
// buffers inside the flatbuffer are accepted.
func Parse(data []byte) (*Model, error) {
	f := &fb{b: data}
	if len(data) < 8 {
		return nil, fmt.Errorf("%w: %d bytes", ErrFormat, len(data))
	}
	if id := string(data[4:8]); id != "TFL3" {
		return nil, fmt.Errorf("%w: file identifier %q, want \"TFL3\"", ErrFormat, id)
	}
	root := table(f.u32(0))
	if root < 8 || !f.ok(int(root), 4) {
		return nil, fmt.Errorf("%w: root table offset %d", ErrFormat, root)
	}
	m := &Model{}
	m.Version = uint32(f.scalar32(root, 0, 0))
	if f.err == nil && m.Version != 3 {
		return nil, fmt.Errorf("%w: schema version %d, want 3", ErrUnsupported, m.Version)
	}
	m.Description = f.str(root, 3)
	codes := f.tables(root, 1)
	type opcode struct {
		code   int32
		custom string
	}
	ops := make([]opcode, len(codes))
	for i, c := range codes {
		// builtin_code (field 3) supersedes deprecated_builtin_code (field
		// 0), which saturates at 127.
		dep := int32(int8(f.scalar8(c, 0, 0)))
		code := f.scalar32(c, 3, 0)
		ops[i] = opcode{code: max(dep, code), custom: f.str(c, 1)}
	}
	buffers := f.tables(root, 4)
	subs := f.tables(root, 2)
	if f.err != nil {
		return nil, f.err
	}
	if len(subs) != 1 {
		return nil, fmt.Errorf("%w: %d subgraphs, want 1", ErrUnsupported, len(subs))
	}
	sg := subs[0]
	for i, tt := range f.tables(sg, 0) {
		t := Tensor{Name: f.str(tt, 3), Type: TensorType(f.scalar8(tt, 1, 0))}
		n := 1
		for _, d := range f.int32s(tt, 0) {
			if d < 0 || d > maxElements {
				return nil, fmt.Errorf("%w: tensor %d (%q) has dimension %d", ErrUnsupported, i, t.Name, d)
			}
			t.Shape = append(t.Shape, int(d))
			n *= int(d)
			if n > maxElements {
				return nil, fmt.Errorf("%w: tensor %d (%q) has more than %d elements", ErrFormat, i, t.Name, maxElements)
			}
		}
		if q := f.tableField(tt, 4); q != 0 {
			_, ns := f.vector(q, 2, 4)
			t.Quantized = ns > 0
		}
		if f.field(tt, 6) != 0 {
			return nil, fmt.Errorf("%w: tensor %d (%q) is sparse", ErrUnsupported, i, t.Name)
		}
		b := int(f.scalar32(tt, 2, 0))
		if f.err != nil {
			return nil, f.err
		}
		if b < 0 || b >= len(buffers) {
			return nil, fmt.Errorf("%w: tensor %d (%q) names buffer %d of %d", ErrFormat, i, t.Name, b, len(buffers))
		}
		if f.field(buffers[b], 1) != 0 && f.u64(f.field(buffers[b], 1)) > 1 {
			return nil, fmt.Errorf("%w: tensor %d (%q) has its data outside the flatbuffer", ErrUnsupported, i, t.Name)
		}
		t.Data = f.bytesField(buffers[b], 0)
		if len(t.Data) == 0 {
			t.Data = nil
		}
		m.Tensors = append(m.Tensors, t)
	}
	idx := func(v []int32, what string) ([]int, error) {
		out := make([]int, len(v))
		for i, x := range v {
			if x < -1 || int(x) >= len(m.Tensors) {
				return nil, fmt.Errorf("%w: %s names tensor %d of %d", ErrFormat, what, x, len(m.Tensors))
			}
			out[i] = int(x)
		}
		return out, nil
	}
	var err error
	if m.Inputs, err = idx(f.int32s(sg, 1), "subgraph input"); err != nil {
		return nil, err
	}
	if m.Outputs, err = idx(f.int32s(sg, 2), "subgraph output"); err != nil {
		return nil, err
	}
	for k, ot := range f.tables(sg, 3) {
		oi := int(f.scalar32(ot, 0, 0))
		if f.err != nil {
			return nil, f.err
		}
		if oi < 0 || oi >= len(ops) {
			return nil, fmt.Errorf("%w: operator %d has opcode index %d of %d", ErrFormat, k, oi, len(ops))
		}
		op := Operator{Code: Op(ops[oi].code), Custom: ops[oi].custom}
		op.Options = f.options(op.Code, f.tableField(ot, 4))
		if op.Inputs, err = idx(f.int32s(ot, 1), fmt.Sprintf("operator %d input", k)); err != nil {
			return nil, err
		}
		if op.Outputs, err = idx(f.int32s(ot, 2), fmt.Sprintf("operator %d output", k)); err != nil {
			return nil, err
		}
		m.Operators = append(m.Operators, op)
	}
	if f.err != nil {
		return nil, f.err
	}
	return m, nil
}

// half converts an IEEE 754 binary16 value to float32 exactly.
func half(h uint16) float32 {
	sign := uint32(h>>15) << 31
	exp := uint32(h>>10) & 0x1f
	man := uint32(h) & 0x3ff
	switch {
	case exp == 0x1f:
		return math.Float32frombits(sign | 0x7f800000 | man<<13)
	case exp == 0 && man == 0:
		return math.Float32frombits(sign)
	case exp == 0:
		// subnormal: man·2^−24
		v := float32(man) / (1 << 24)
		if sign != 0 {
			v = -v
		}
		return v
	}
	return math.Float32frombits(sign | (exp+127-15)<<23 | man<<13)
}

// Elements returns the number of elements of t's shape (1 for a scalar).
func (t *Tensor) Elements() int {
	n := 1
	for _, d := range t.Shape {
		n *= d
	}
	return n
}

// Floats returns the constant data of a float32 or float16 tensor as
// float32 (float16 converted exactly).
func (t *Tensor) Floats() ([]float32, error) {
	n := t.Elements()
	if t.Quantized {
		return nil, fmt.Errorf("%w: tensor %q is quantized", ErrUnsupported, t.Name)
	}
	var size int
	switch t.Type {
	case Float32:
		size = 4
	case Float16:
		size = 2
	default:
		return nil, fmt.Errorf("%w: tensor %q of type %v is not a float constant", ErrUnsupported, t.Name, t.Type)
	}
	if t.Data == nil {
		return nil, fmt.Errorf("%w: tensor %q has no data", ErrFormat, t.Name)
	}
	if len(t.Data) != n*size {
		return nil, fmt.Errorf("%w: tensor %q has %d bytes of data, want %d for shape %v", ErrFormat, t.Name, len(t.Data), n*size, t.Shape)
	}
	out := make([]float32, n)
	for i := range out {
		if size == 4 {
			out[i] = math.Float32frombits(binary.LittleEndian.Uint32(t.Data[4*i:]))
		} else {
			out[i] = half(binary.LittleEndian.Uint16(t.Data[2*i:]))
		}
	}
	return out, nil
}

// Ints returns the constant data of an int32 tensor.
func (t *Tensor) Ints() ([]int, error) {
	if t.Type != Int32 {
		return nil, fmt.Errorf("%w: tensor %q of type %v is not an int32 constant", ErrUnsupported, t.Name, t.Type)
	}
	n := t.Elements()
	if t.Data == nil || len(t.Data) != 4*n {
		return nil, fmt.Errorf("%w: tensor %q has %d bytes of data, want %d for shape %v", ErrFormat, t.Name, len(t.Data), 4*n, t.Shape)
	}
	out := make([]int, n)
	for i := range out {
		out[i] = int(int32(binary.LittleEndian.Uint32(t.Data[4*i:])))
	}
	return out, nil
}
