package main

import (
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
)

// ErrFormat is wrapped by every error about a malformed TF.js model.
var ErrFormat = errors.New("tfjs2onnx: malformed TF.js graph model")

// ErrUnsupported is wrapped by every error about a valid model this converter
// cannot translate (an op, dtype or pattern it does not know).
var ErrUnsupported = errors.New("tfjs2onnx: unsupported TF.js construct")

// maxElements bounds the size of one weight tensor (and the whole model), so
// hostile model.json files cannot make the converter allocate without limit.
const maxElements = 1 << 28

// modelJSON is the subset of a TF.js graph model's model.json that is used.
type modelJSON struct {
	Format        string `json:"format"`
	ModelTopology struct {
		Node []nodeJSON `json:"node"`
	} `json:"modelTopology"`
	WeightsManifest []struct {
		Paths   []string     `json:"paths"`
		Weights []weightSpec `json:"weights"`
	} `json:"weightsManifest"`
}

type nodeJSON struct {
	Name  string                     `json:"name"`
	Op    string                     `json:"op"`
	Input []string                   `json:"input"`
	Attr  map[string]json.RawMessage `json:"attr"`
}

type weightSpec struct {
	Name         string `json:"name"`
	Shape        []int  `json:"shape"`
	Dtype        string `json:"dtype"`
	Quantization *struct {
		Dtype string  `json:"dtype"`
		Scale float64 `json:"scale"`
		Min   float64 `json:"min"`
	} `json:"quantization"`
}

// Tensor is a dense constant: float32 data (int32 weights are converted
// exactly) in row-major order of Shape.
type Tensor struct {
	Shape []int
	Data  []float32
}

// Node is one TF graph node.
type Node struct {
	Name  string
	Op    string
	Input []string
	Attr  map[string]json.RawMessage
}

// Graph is a parsed TF.js graph model with its weights decoded.
type Graph struct {
	Nodes   []Node
	Weights map[string]Tensor
	// Shards lists the weight files in manifest order.
	Shards []string
}

// ParseModelJSON parses model.json. The weights are not read: call
// Graph.DecodeWeights with the concatenated shard bytes.
func ParseModelJSON(data []byte) (*Graph, []weightSpec, error) {
	var m modelJSON
	if err := json.Unmarshal(data, &m); err != nil {
		return nil, nil, fmt.Errorf("%w: model.json: %v", ErrFormat, err)
	}
	if m.Format != "graph-model" {
		return nil, nil, fmt.Errorf("%w: format %q, want \"graph-model\"", ErrUnsupported, m.Format)
	}
	if len(m.ModelTopology.Node) == 0 {
		return nil, nil, fmt.Errorf("%w: no nodes in modelTopology", ErrFormat)
	}
	g := &Graph{Weights: map[string]Tensor{}}
	seen := map[string]bool{}
	for _, n := range m.ModelTopology.Node {
		if n.Name == "" || n.Op == "" {
			return nil, nil, fmt.Errorf("%w: node without name or op", ErrFormat)
		}
		if seen[n.Name] {
			return nil, nil, fmt.Errorf("%w: duplicate node %q", ErrFormat, n.Name)
		}
		seen[n.Name] = true
		g.Nodes = append(g.Nodes, Node(n))
	}
	var specs []weightSpec
	for _, grp := range m.WeightsManifest {
		g.Shards = append(g.Shards, grp.Paths...)
		specs = append(specs, grp.Weights...)
	}
	return g, specs, nil
}

// DecodeWeights decodes the concatenated weight shards described by specs,
// dequantizing uint8/uint16 (value = min + scale*q) and float16 weights.
func (g *Graph) DecodeWeights(specs []weightSpec, data []byte) error {
	off := 0
	total := 0
	for _, s := range specs {
		n := 1
		for _, d := range s.Shape {
			if d < 0 || (d > 0 && n > maxElements/d) {
				return fmt.Errorf("%w: weight %q: bad shape %v", ErrFormat, s.Name, s.Shape)
			}
			n *= d
		}
		total += n
		if total > maxElements {
			return fmt.Errorf("%w: weights exceed %d elements", ErrFormat, maxElements)
		}
		store := s.Dtype
		var scale, min float64
		if q := s.Quantization; q != nil {
			store, scale, min = q.Dtype, q.Scale, q.Min
		}
		var size int
		switch store {
		case "float32", "int32":
			size = 4
		case "uint16", "float16":
			size = 2
		case "uint8":
			size = 1
		default:
			return fmt.Errorf("%w: weight %q: dtype %q", ErrUnsupported, s.Name, store)
		}
		if s.Dtype != "float32" && s.Dtype != "int32" {
			return fmt.Errorf("%w: weight %q: dtype %q", ErrUnsupported, s.Name, s.Dtype)
		}
		if n*size > len(data)-off {
			return fmt.Errorf("%w: weight %q needs %d bytes at offset %d, shards hold %d", ErrFormat, s.Name, n*size, off, len(data))
		}
		b := data[off : off+n*size]
		off += n * size
		t := Tensor{Shape: append([]int(nil), s.Shape...), Data: make([]float32, n)}
		for i := range t.Data {
			switch store {
			case "float32":
				t.Data[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
			case "int32":
				t.Data[i] = float32(int32(binary.LittleEndian.Uint32(b[4*i:])))
			case "float16":
				t.Data[i] = half(binary.LittleEndian.Uint16(b[2*i:]))
			case "uint16":
				t.Data[i] = float32(min + scale*float64(binary.LittleEndian.Uint16(b[2*i:])))
			case "uint8":
				t.Data[i] = float32(min + scale*float64(b[i]))
			}
		}
		if _, dup := g.Weights[s.Name]; dup {
			return fmt.Errorf("%w: duplicate weight %q", ErrFormat, s.Name)
		}
		g.Weights[s.Name] = t
	}
	if off != len(data) {
		return fmt.Errorf("%w: shards hold %d bytes, manifest describes %d", ErrFormat, len(data), off)
	}
	return nil
}

// half converts an IEEE 754 binary16 value to float32.
func half(h uint16) float32 {
	sign := uint32(h>>15) << 31
	exp := uint32(h>>10) & 0x1f
	frac := uint32(h) & 0x3ff
	switch {
	case exp == 0 && frac == 0:
		return math.Float32frombits(sign)
	case exp == 0: // subnormal
		f := float32(frac) / 1024 / 16384
		if sign != 0 {
			f = -f
		}
		return f
	case exp == 0x1f:
		return math.Float32frombits(sign | 0x7f800000 | frac<<13)
	}
	return math.Float32frombits(sign | (exp+112)<<23 | frac<<13)
}

// attrInts returns the integer list attribute name ({"list":{"i":[...]}}).
func (n *Node) attrInts(name string) ([]int, error) {
	raw, ok := n.Attr[name]
	if !ok {
		return nil, nil
	}
	var v struct {
		List struct {
			I []string `json:"i"`
		} `json:"list"`
	}
	if err := json.Unmarshal(raw, &v); err != nil {
		return nil, fmt.Errorf("%w: node %q attr %s: %v", ErrFormat, n.Name, name, err)
	}
	out := make([]int, len(v.List.I))
	for i, s := range v.List.I {
		x, err := strconv.Atoi(s)
		if err != nil {
			return nil, fmt.Errorf("%w: node %q attr %s: %v", ErrFormat, n.Name, name, err)
		}
		out[i] = x
	}
	return out, nil
}

// attrString returns the string attribute name ({"s": base64}).
func (n *Node) attrString(name string) (string, error) {
	raw, ok := n.Attr[name]
	if !ok {
		return "", nil
	}
	var v struct {
		S string `json:"s"`
	}
	if err := json.Unmarshal(raw, &v); err != nil {
		return "", fmt.Errorf("%w: node %q attr %s: %v", ErrFormat, n.Name, name, err)
	}
	b, err := base64.StdEncoding.DecodeString(v.S)
	if err != nil {
		return "", fmt.Errorf("%w: node %q attr %s: %v", ErrFormat, n.Name, name, err)
	}
	return string(b), nil
}

// attrStrings returns the string list attribute name ({"list":{"s":[...]}}).
func (n *Node) attrStrings(name string) ([]string, error) {
	raw, ok := n.Attr[name]
	if !ok {
		return nil, nil
	}
	var v struct {
		List struct {
			S []string `json:"s"`
		} `json:"list"`
	}
	if err := json.Unmarshal(raw, &v); err != nil {
		return nil, fmt.Errorf("%w: node %q attr %s: %v", ErrFormat, n.Name, name, err)
	}
	out := make([]string, len(v.List.S))
	for i, s := range v.List.S {
		b, err := base64.StdEncoding.DecodeString(s)
		if err != nil {
			return nil, fmt.Errorf("%w: node %q attr %s: %v", ErrFormat, n.Name, name, err)
		}
		out[i] = string(b)
	}
	return out, nil
}

// attrBool returns the bool attribute name ({"b": true}).
func (n *Node) attrBool(name string) (bool, error) {
	raw, ok := n.Attr[name]
	if !ok {
		return false, nil
	}
	var v struct {
		B bool `json:"b"`
	}
	if err := json.Unmarshal(raw, &v); err != nil {
		return false, fmt.Errorf("%w: node %q attr %s: %v", ErrFormat, n.Name, name, err)
	}
	return v.B, nil
}

// placeholderShape returns the dims of a Placeholder's shape attribute.
func (n *Node) placeholderShape() ([]int, error) {
	raw, ok := n.Attr["shape"]
	if !ok {
		return nil, fmt.Errorf("%w: placeholder %q has no shape", ErrUnsupported, n.Name)
	}
	var v struct {
		Shape struct {
			Dim []struct {
				Size string `json:"size"`
			} `json:"dim"`
		} `json:"shape"`
	}
	if err := json.Unmarshal(raw, &v); err != nil {
		return nil, fmt.Errorf("%w: placeholder %q shape: %v", ErrFormat, n.Name, err)
	}
	out := make([]int, len(v.Shape.Dim))
	for i, d := range v.Shape.Dim {
		x, err := strconv.Atoi(d.Size)
		if err != nil {
			return nil, fmt.Errorf("%w: placeholder %q shape: %v", ErrFormat, n.Name, err)
		}
		out[i] = x
	}
	return out, nil
}
