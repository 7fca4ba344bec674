package onnx

import (
	"bytes"
	"testing"
)

func TestAttrEncoding(t *testing.T) {
	tests := []struct {
		a    Attr
		want []byte
	}{
		// name "axis" (field 1), i (3) = 1, type (20) = INT
		{Attr{Name: "axis", Type: AttrInt, I: 1}, []byte{0x0a, 4, 'a', 'x', 'i', 's', 0x18, 1, 0xa0, 0x01, 2}},
		// f (2) = 0.5 as fixed32, type FLOAT
		{Attr{Name: "a", Type: AttrFloat, F: 0.5}, []byte{0x0a, 1, 'a', 0x15, 0, 0, 0, 0x3f, 0xa0, 0x01, 1}},
		// ints (8) unpacked, −1 as a 10-byte varint, type INTS
		{Attr{Name: "p", Type: AttrInts, Ints: []int64{3, -1}}, []byte{0x0a, 1, 'p', 0x40, 3, 0x40, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01, 0xa0, 0x01, 7}},
	}
	for _, tt := range tests {
		if got := tt.a.encode(); !bytes.Equal(got, tt.want) {
			t.Errorf("%+v: got % x, want % x", tt.a, got, tt.want)
		}
	}
}

func TestModelEncoding(t *testing.T) {
	m := Model{
		Opset: 10, Producer: "p", Version: "1", Graph: "g",
		Nodes:   []Node{{Name: "n", Op: "Relu", Inputs: []string{"x"}, Outputs: []string{"n"}}},
		Inits:   []Init{{Name: "k", Dims: []int64{1}, Float: []float32{1}}, {Name: "s", Dims: []int64{1}, Int64: []int64{2}, IsInt: true}},
		Inputs:  []Value{{Name: "x", Dims: []int64{1, 3}}},
		Outputs: []Value{{Name: "n", Dims: []int64{1, 3}}},
	}
	b := m.Encode()
	if !bytes.Equal(b, m.Encode()) {
		t.Fatal("two encodings differ")
	}
	// ir_version 5 first, then producer "p"
	if !bytes.HasPrefix(b, []byte{0x08, 5, 0x12, 1, 'p', 0x1a, 1, '1', 0x3a}) {
		t.Errorf("prefix % x", b[:min(len(b), 12)])
	}
	// the float initializer: dims 1, data_type FLOAT, name "k", raw_data 1.0
	if !bytes.Contains(b, []byte{0x08, 1, 0x10, 1, 0x42, 1, 'k', 0x4a, 4, 0, 0, 0x80, 0x3f}) {
		t.Error("float initializer not found")
	}
	// the int64 one: data_type INT64 (7), raw_data 2 as 8 bytes
	if !bytes.Contains(b, []byte{0x08, 1, 0x10, 7, 0x42, 1, 's', 0x4a, 8, 2, 0, 0, 0, 0, 0, 0, 0}) {
		t.Error("int64 initializer not found")
	}
	// opset import: domain "" and version 10
	if !bytes.HasSuffix(b, []byte{0x42, 4, 0x0a, 0, 0x10, 10}) {
		t.Errorf("suffix % x", b[len(b)-6:])
	}
}

func TestBuilderNames(t *testing.T) {
	var b Builder
	got := []string{b.Name("a"), b.Name("a"), b.Name("a"), b.Name("x\x00y"), b.Name("bad\xffutf8")}
	want := []string{"a", "a_1", "a_2", "x_y", "bad_utf8"}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("name %d = %q, want %q", i, got[i], want[i])
		}
	}
	if !b.Taken("a") || b.Taken("b") {
		t.Error("Taken")
	}
	out := b.Clip("c", "a", 0, 6)
	if out != "c" || len(b.Model.Nodes) != 1 || b.Model.Nodes[0].Op != "Clip" || b.Model.Nodes[0].Outputs[0] != "c" {
		t.Errorf("Clip added %+v", b.Model.Nodes)
	}
	data := []float32{1, 2}
	b.Init("k", []int{2}, data)
	data[0] = 9
	if b.Model.Inits[0].Float[0] != 1 {
		t.Error("Init does not copy its data")
	}
}
