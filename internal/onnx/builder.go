package onnx

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// Builder adds nodes and initializers to Model under unique names, in the
// order they are added (so a converter that adds them in a fixed order
// writes the same bytes every time).
type Builder struct {
	Model Model
	names map[string]int
}

// Name returns a unique name derived from base: base itself the first time,
// then base_1, base_2, … Control characters and invalid UTF-8 become '_'
// (protobuf strings are UTF-8).
func (b *Builder) Name(base string) string {
	if b.names == nil {
		b.names = map[string]int{}
	}
	base = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f || r == utf8.RuneError {
			return '_'
		}
		return r
	}, base)
	k := b.names[base]
	b.names[base] = k + 1
	if k == 0 {
		return base
	}
	return fmt.Sprintf("%s_%d", base, k)
}

// Taken reports whether Name has returned name.
func (b *Builder) Taken(name string) bool {
	_, ok := b.names[name]
	return ok
}

// Init adds a float32 initializer (a copy of data) and returns its name.
func (b *Builder) Init(base string, dims []int, data []float32) string {
	name := b.Name(base)
	b.Model.Inits = append(b.Model.Inits, Init{Name: name, Dims: Dims(dims), Float: append([]float32(nil), data...)})
	return name
}

// Node adds a node with one output, named like the node, and returns that
// name.
func (b *Builder) Node(op, base string, inputs []string, attrs ...Attr) string {
	out := b.Name(base)
	b.Model.Nodes = append(b.Model.Nodes, Node{Name: out, Op: op, Inputs: inputs, Outputs: []string{out}, Attrs: attrs})
	return out
}

// Clip adds Clip in its opset-10 form (min and max attributes), the only
// form OpenCV 4.6's importer accepts, and returns its output.
func (b *Builder) Clip(base, x string, lo, hi float32) string {
	return b.Node("Clip", base, []string{x},
		Attr{Name: "max", Type: AttrFloat, F: hi}, Attr{Name: "min", Type: AttrFloat, F: lo})
}

// Ints returns an INTS attribute.
func Ints(name string, v ...int) Attr { return Attr{Name: name, Type: AttrInts, Ints: Dims(v)} }

// Int returns an INT attribute.
func Int(name string, v int) Attr { return Attr{Name: name, Type: AttrInt, I: int64(v)} }

// Dims converts a shape to int64s.
func Dims(s []int) []int64 {
	out := make([]int64, len(s))
	for i, d := range s {
		out[i] = int64(d)
	}
	return out
}
