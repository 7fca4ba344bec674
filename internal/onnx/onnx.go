// Package onnx writes ONNX models: it hand-encodes the protobuf wire format
// of the small part of onnx.proto FaceGate's converters (tools/tfjs2onnx,
// tools/tflite2onnx) write. Fields are written in field number order and
// repeated scalars unpacked, so equal models give equal bytes.
package onnx

import (
	"encoding/binary"
	"math"
)

// The messages written are ModelProto, GraphProto, NodeProto,
// AttributeProto, TensorProto and ValueInfoProto.

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

// AttributeProto types an Attr can have.
const (
	tensorFloat = 1 // TensorProto.FLOAT
	tensorInt64 = 7 // TensorProto.INT64

	AttrFloat = 1 // AttributeProto.FLOAT
	AttrInt   = 2 // AttributeProto.INT
	AttrInts  = 7 // AttributeProto.INTS
)

// Attr is one node attribute: an int, a float or an int list.
type Attr struct {
	Name string
	Type int
	I    int64
	F    float32
	Ints []int64
}

// Node is one ONNX graph node.
type Node struct {
	Name    string
	Op      string
	Inputs  []string
	Outputs []string
	Attrs   []Attr
}

// Init is one initializer: float32 or int64 data.
type Init struct {
	Name  string
	Dims  []int64
	Float []float32
	Int64 []int64
	IsInt bool
}

// Value is a graph input or output with a float tensor type.
type Value struct {
	Name string
	Dims []int64
}

// Model is the whole model.
type Model struct {
	Opset    int64
	Producer string
	Version  string
	Graph    string
	Doc      string
	Nodes    []Node
	Inits    []Init
	Inputs   []Value
	Outputs  []Value
}

func (a *Attr) encode() []byte {
	var b pb
	b.str(1, a.Name)
	switch a.Type {
	case AttrFloat:
		b.float(2, a.F)
	case AttrInt:
		b.int(3, a.I)
	case AttrInts:
		for _, v := range a.Ints {
			b.int(8, v)
		}
	}
	b.int(20, int64(a.Type))
	return b
}

func (n *Node) encode() []byte {
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

func (t *Init) encode() []byte {
	var b pb
	for _, d := range t.Dims {
		b.int(1, d)
	}
	var raw []byte
	if t.IsInt {
		b.int(2, tensorInt64)
		for _, v := range t.Int64 {
			raw = binary.LittleEndian.AppendUint64(raw, uint64(v))
		}
	} else {
		b.int(2, tensorFloat)
		for _, v := range t.Float {
			raw = binary.LittleEndian.AppendUint32(raw, math.Float32bits(v))
		}
	}
	b.str(8, t.Name)
	b.bytes(9, raw)
	return b
}

func (v *Value) encode() []byte {
	var shape pb
	for _, d := range v.Dims {
		var dim pb
		dim.int(1, d)
		shape.bytes(1, dim)
	}
	var tt pb
	tt.int(1, tensorFloat)
	tt.bytes(2, shape)
	var typ pb
	typ.bytes(1, tt)
	var b pb
	b.str(1, v.Name)
	b.bytes(2, typ)
	return b
}

// Encode returns the serialized ModelProto (IR version 5, default domain at
// Opset).
func (m *Model) Encode() []byte {
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
