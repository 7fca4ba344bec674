package main

import (
	"errors"
	"fmt"

	"github.com/facegate/facegate/internal/onnx"
	"github.com/facegate/facegate/internal/tflite"
)

// ErrUnsupported is wrapped by every error about a valid TFLite model this
// converter cannot translate (an op, option or pattern it does not know).
// Malformed files give errors wrapping tflite.ErrFormat.
var ErrUnsupported = errors.New("tflite2onnx: unsupported TFLite construct")

// Options controls a conversion.
type Options struct {
	// Doc is stored as the graph's doc_string (e.g. the source package and version).
	Doc string
}

// maxSide bounds each input dimension (height, width, channels).
const maxSide = 1 << 14

// value is a converted tensor: an ONNX value name with its runtime shape
// (4-D values are NCHW, batch 1), or a constant.
type value struct {
	name  string
	shape []int
	konst []float32 // constant data in TFLite (NHWC) order
	kdims []int     // constant's TFLite shape
	// step marks a GREATER_EQUAL/LESS result: 0/1 floats, usable after CAST.
	step bool
}

type converter struct {
	m      *tflite.Model
	prod   []int // producing operator of each tensor, −1 for none
	uses   []int
	vals   []*value
	b      onnx.Builder
	inputs []onnx.Value
}

// Convert parses a TFLite flatbuffer and translates it into a serialized
// ONNX model (opset 10).
func Convert(data []byte, opts Options) ([]byte, error) {
	m, err := tflite.Parse(data)
	if err != nil {
		return nil, err
	}
	return ConvertModel(m, opts)
}

// ConvertModel translates a parsed model.
func ConvertModel(m *tflite.Model, opts Options) ([]byte, error) {
	c := &converter{m: m, prod: make([]int, len(m.Tensors)), uses: make([]int, len(m.Tensors)), vals: make([]*value, len(m.Tensors))}
	for i := range c.prod {
		c.prod[i] = -1
	}
	for k, op := range m.Operators {
		for _, o := range op.Outputs {
			if o < 0 || c.prod[o] >= 0 {
				return nil, fmt.Errorf("%w: tensor %d written twice", tflite.ErrFormat, o)
			}
			c.prod[o] = k
		}
		for _, i := range op.Inputs {
			if i >= 0 {
				c.uses[i]++
			}
		}
	}
	if len(m.Inputs) != 1 {
		return nil, fmt.Errorf("%w: %d inputs, want 1", ErrUnsupported, len(m.Inputs))
	}
	if len(m.Outputs) == 0 {
		return nil, fmt.Errorf("%w: no outputs", tflite.ErrFormat)
	}
	in := &m.Tensors[m.Inputs[0]]
	s := in.Shape
	if len(s) != 4 || in.Type != tflite.Float32 || s[1] < 1 || s[2] < 1 || s[3] < 1 || s[1] > maxSide || s[2] > maxSide || s[3] > maxSide {
		return nil, fmt.Errorf("%w: input %q of type %v and shape %v, want float32 [N,H,W,C]", ErrUnsupported, in.Name, in.Type, s)
	}
	c.vals[m.Inputs[0]] = &value{name: "input", shape: []int{1, s[3], s[1], s[2]}}
	c.inputs = []onnx.Value{{Name: "input", Dims: onnx.Dims(c.vals[m.Inputs[0]].shape)}}
	var outs []onnx.Value
	for _, o := range m.Outputs {
		v, err := c.get(o, 0)
		if err != nil {
			return nil, err
		}
		if v.konst != nil || v.step {
			return nil, fmt.Errorf("%w: output %q is a constant or a boolean", ErrUnsupported, m.Tensors[o].Name)
		}
		// name the output after the TFLite tensor
		if want := m.Tensors[o].Name; want != "" && v.name != want && !c.b.Taken(want) {
			v = &value{name: c.b.Node("Identity", want, []string{v.name}), shape: v.shape}
		}
		outs = append(outs, onnx.Value{Name: v.name, Dims: onnx.Dims(v.shape)})
	}
	c.b.Model.Opset = 10
	c.b.Model.Producer = "facegate-tflite2onnx"
	c.b.Model.Version = "1"
	c.b.Model.Graph = "tflite2onnx"
	c.b.Model.Doc = opts.Doc
	c.b.Model.Inputs = c.inputs
	c.b.Model.Outputs = outs
	return c.b.Model.Encode(), nil
}

func numel(s []int) int {
	n := 1
	for _, d := range s {
		n *= d
	}
	return n
}

// get returns the converted value of tensor i, converting its producer
// (and, recursively, that op's inputs) on first use.
func (c *converter) get(i, depth int) (*value, error) {
	if i < 0 || i >= len(c.vals) {
		return nil, fmt.Errorf("%w: optional input left out where one is needed", ErrUnsupported)
	}
	if v := c.vals[i]; v != nil {
		return v, nil
	}
	t := &c.m.Tensors[i]
	k := c.prod[i]
	if k < 0 {
		if t.Data == nil {
			return nil, fmt.Errorf("%w: tensor %q is neither computed nor constant", tflite.ErrFormat, t.Name)
		}
		f, err := c.constant(t)
		if err != nil {
			return nil, err
		}
		c.vals[i] = f
		return f, nil
	}
	if depth > 4096 {
		return nil, fmt.Errorf("%w: graph deeper than 4096 ops at %q", ErrUnsupported, t.Name)
	}
	op := &c.m.Operators[k]
	if len(op.Outputs) != 1 {
		return nil, fmt.Errorf("%w: %v with %d outputs", ErrUnsupported, op.Code, len(op.Outputs))
	}
	v, err := c.lower(op, t, depth+1)
	if err != nil {
		var oe *opError
		if errors.As(err, &oe) {
			return nil, err // already names the innermost op
		}
		return nil, &opError{op: op.Code, tensor: t.Name, err: err}
	}
	c.vals[i] = v
	return v, nil
}

// opError names the operator an error is about.
type opError struct {
	op     tflite.Op
	tensor string
	err    error
}

func (e *opError) Error() string { return fmt.Sprintf("%v %q: %v", e.op, e.tensor, e.err) }
func (e *opError) Unwrap() error { return e.err }

func (c *converter) constant(t *tflite.Tensor) (*value, error) {
	if t.Type == tflite.Int32 {
		v, err := t.Ints()
		if err != nil {
			return nil, err
		}
		f := make([]float32, len(v))
		for k, x := range v {
			f[k] = float32(x)
		}
		return &value{konst: f, kdims: t.Shape}, nil
	}
	f, err := t.Floats()
	if err != nil {
		return nil, err
	}
	return &value{konst: f, kdims: t.Shape}, nil
}

// activation appends op's fused activation to x.
func (c *converter) activation(a tflite.Activation, base, x string) (string, error) {
	switch a {
	case tflite.NoActivation:
		return x, nil
	case tflite.ActRelu:
		return c.b.Node("Relu", base+"/relu", []string{x}), nil
	case tflite.ActRelu6:
		return c.b.Clip(base+"/relu6", x, 0, 6), nil
	case tflite.ActReluN1To1:
		return c.b.Clip(base+"/relu1", x, -1, 1), nil
	case tflite.ActTanh:
		return c.b.Node("Tanh", base+"/tanh", []string{x}), nil
	}
	return "", fmt.Errorf("%w: fused activation %d", ErrUnsupported, a)
}
