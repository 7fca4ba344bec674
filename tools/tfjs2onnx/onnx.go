package main

import (
	"encoding/binary"
	"math"
)

// This file hand-encodes the protobuf wire format of the small part of
// onnx.proto the converter writes (ModelProto, GraphProto, NodeProto,
// AttributeProto, TensorProto, ValueInfoProto). Fields are written in field
// number order and repeated scalars unpacked, so equal models give equal bytes.

// pb appends protobuf fields to a byte slice.
type pb []byte

func (b *pb) varint(v uint64) {
	*b = binary.AppendUvarint(*b, v)
}

func (b *pb) tag(field, wire int) { b.varint(uint64(field)<<3 | uint64(wire)) }

func (b *pb) int(field int, v int64) {
	b.tag(field, 0)
	b.varint(uint64(v))
}

func (b *pb) bytes(field int, v []byte) {
	b.tag(field, 2)
	b.varint(uint64(len(v)))
	*b = append(*b, v...)
}

func (b *pb) str(field int, s string) { b.bytes(field, []byte(s)) }

func (b *pb) float(field int, f float32) {
	b.tag(field, 5)
	*b = binary.LittleEndian.AppendUint32(*b, math.Float32bits(f))
}

// ONNX enum values used here.
const (
	onnxFloat = 1 // TensorProto.FLOAT
	onnxInt64 = 7 // TensorProto.INT64

	attrFloat = 1 // AttributeProto.FLOAT
	attrInt   = 2 // AttributeProto.INT
	attrInts  = 7 // AttributeProto.INTS
)

// onnxAttr is one node attribute: an int, a float or an int list.
type onnxAttr struct {
	Name string
	Type int
	I    int64
	F    float32
	Ints []int64
}

// onnxNode is one ONNX graph node.
type onnxNode struct {
	Name    string
	Op      string
	Inputs  []string
	Outputs []string
	Attrs   []onnxAttr
}

// onnxInit is one initializer: float32 or int64 data.
type onnxInit struct {
	Name  string
	Dims  []int64
	Float []float32
	Int64 []int64
	IsInt bool
}

// onnxValue is a graph input or output with a float tensor type.
type onnxValue struct {
	Name string
	Dims []int64
}

// onnxModel is the whole model.
type onnxModel struct {
	Opset    int64
	Producer string
	Version  string
	Graph    string
	Doc      string
	Nodes    []onnxNode
	Inits    []onnxInit
	Inputs   []onnxValue
	Outputs  []onnxValue
}

func (a *onnxAttr) encode() []byte {
	var b pb
	b.str(1, a.Name)
	switch a.Type {
	case attrFloat:
		b.float(2, a.F)
	case attrInt:
		b.int(3, a.I)
	case attrInts:
		for _, v := range a.Ints {
			b.int(8, v)
		}
	}
	b.int(20, int64(a.Type))
	return b
}

func (n *onnxNode) encode() []byte {
	var b pb
	for _, s := range n.Inputs {
		b.str(1, s)
	}
	for _, s := range n.Outputs {
		b.str(2, s)
	}
	b.str(3, n.Name)
	b.str(4, n.Op)
	for i := range n.Attrs {
		b.bytes(5, n.Attrs[i].encode())
	}
	return b
}

func (t *onnxInit) encode() []byte {
	var b pb
	for _, d := range t.Dims {
		b.int(1, d)
	}
	var raw []byte
	if t.IsInt {
		b.int(2, onnxInt64)
		for _, v := range t.Int64 {
			raw = binary.LittleEndian.AppendUint64(raw, uint64(v))
		}
	} else {
		b.int(2, onnxFloat)
		for _, v := range t.Float {
			raw = binary.LittleEndian.AppendUint32(raw, math.Float32bits(v))
		}
	}
	b.str(8, t.Name)
	b.bytes(9, raw)
	return b
}

func (v *onnxValue) encode() []byte {
	var shape pb
	for _, d := range v.Dims {
		var dim pb
		dim.int(1, d)
		shape.bytes(1, dim)
	}
	var tt pb
	tt.int(1, onnxFloat)
	tt.bytes(2, shape)
	var typ pb
	typ.bytes(1, tt)
	var b pb
	b.str(1, v.Name)
	b.bytes(2, typ)
	return b
}

// encode returns the serialized ModelProto.
func (m *onnxModel) encode() []byte {
	var g pb
	for i := range m.Nodes {
		g.bytes(1, m.Nodes[i].encode())
	}
	g.str(2, m.Graph)
	for i := range m.Inits {
		g.bytes(5, m.Inits[i].encode())
	}
	if m.Doc != "" {
		g.str(10, m.Doc)
	}
	for i := range m.Inputs {
		g.bytes(11, m.Inputs[i].encode())
	}
	for i := range m.Outputs {
		g.bytes(12, m.Outputs[i].encode())
	}
	var op pb
	op.str(1, "")
	op.int(2, m.Opset)
	var b pb
	b.int(1, 5) // ir_version 5 goes with opset 10
	b.str(2, m.Producer)
	b.str(3, m.Version)
	b.bytes(7, g)
	b.bytes(8, op)
	return b
}
