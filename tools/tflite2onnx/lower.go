package main

import (
	"fmt"
	"slices"

	"github.com/facegate/facegate/internal/onnx"
	"github.com/facegate/facegate/internal/tflite"
)

// inputs converts op's inputs (nil for left-out optional ones).
func (c *converter) operands(op *tflite.Operator, depth int) ([]*value, error) {
	in := make([]*value, len(op.Inputs))
	for j, i := range op.Inputs {
		if i < 0 {
			continue
		}
		v, err := c.get(i, depth)
		if err != nil {
			return nil, err
		}
		in[j] = v
	}
	return in, nil
}

func need(in []*value, k int) error {
	if len(in) < k {
		return fmt.Errorf("%w: %d inputs, want %d", tflite.ErrFormat, len(in), k)
	}
	for _, v := range in[:k] {
		if v == nil {
			return fmt.Errorf("%w: a required input is left out", tflite.ErrFormat)
		}
	}
	return nil
}

func runtime(v *value) bool { return v.konst == nil }

// lower converts one operator whose only output is t.
func (c *converter) lower(op *tflite.Operator, t *tflite.Tensor, depth int) (*value, error) {
	if op.Code == tflite.Add {
		if v, err := c.prelu(op, t, depth); v != nil || err != nil {
			return v, err
		}
	}
	in, err := c.operands(op, depth)
	if err != nil {
		return nil, err
	}
	o := op.Options
	switch op.Code {
	case tflite.Dequantize:
		if err := need(in, 1); err != nil {
			return nil, err
		}
		if runtime(in[0]) {
			return nil, fmt.Errorf("%w: DEQUANTIZE of a computed tensor", ErrUnsupported)
		}
		return in[0], nil
	case tflite.Conv2D, tflite.DepthwiseConv:
		return c.conv(op, t, in)
	case tflite.AveragePool2D, tflite.MaxPool2D:
		return c.pool(op, t, in)
	case tflite.FullyConnected:
		return c.fullyConnected(op, t, in)
	case tflite.Add, tflite.Sub, tflite.Mul:
		if err := need(in, 2); err != nil {
			return nil, err
		}
		v, err := c.binary(op.Code, t.Name, in[0], in[1])
		if err != nil {
			return nil, err
		}
		v.name, err = c.activation(o.Activation, t.Name, v.name)
		return v, err
	case tflite.Relu, tflite.Abs, tflite.Logistic, tflite.LeakyRelu, tflite.Relu6:
		if err := need(in, 1); err != nil {
			return nil, err
		}
		x := in[0]
		if !runtime(x) || x.step {
			return nil, fmt.Errorf("%w: %v of a constant or boolean", ErrUnsupported, op.Code)
		}
		switch op.Code {
		case tflite.Relu:
			return &value{name: c.b.Node("Relu", t.Name, []string{x.name}), shape: x.shape}, nil
		case tflite.Relu6:
			return &value{name: c.b.Clip(t.Name, x.name, 0, 6), shape: x.shape}, nil
		case tflite.Abs:
			return &value{name: c.b.Node("Abs", t.Name, []string{x.name}), shape: x.shape}, nil
		case tflite.Logistic:
			return &value{name: c.b.Node("Sigmoid", t.Name, []string{x.name}), shape: x.shape}, nil
		}
		return &value{name: c.b.Node("LeakyRelu", t.Name, []string{x.name}, onnx.Attr{Name: "alpha", Type: onnx.AttrFloat, F: o.Alpha}), shape: x.shape}, nil
	case tflite.Reshape, tflite.Squeeze:
		return c.reshape(t, in)
	case tflite.StridedSlice:
		return c.slice(op, t, in)
	case tflite.GreaterEqual, tflite.Less:
		return c.compare(op, t, in)
	case tflite.Cast:
		if err := need(in, 1); err != nil {
			return nil, err
		}
		if !in[0].step || t.Type != tflite.Float32 {
			return nil, fmt.Errorf("%w: CAST other than a comparison's boolean to float32", ErrUnsupported)
		}
		return &value{name: in[0].name, shape: in[0].shape}, nil
	case tflite.Concatenation:
		return c.concat(op, t, in)
	}
	return nil, fmt.Errorf("%w: op %v", ErrUnsupported, op.Code)
}

// producer returns the operator writing tensor i, if it has code op and
// its output has no other consumer than one.
func (c *converter) producer(i int, code tflite.Op) *tflite.Operator {
	if i < 0 || c.prod[i] < 0 || c.uses[i] != 1 {
		return nil
	}
	op := &c.m.Operators[c.prod[i]]
	if op.Code != code || op.Options.Activation != tflite.NoActivation {
		return nil
	}
	return op
}

// prelu recognises relu(x) + k·(x − |x|) (the way TF 1.x MobileFaceNet
// exports PReLU; the MUL's constant may come first) and emits PRelu(x, 2k).
// It returns nil, nil when the ADD is not that pattern.
func (c *converter) prelu(op *tflite.Operator, t *tflite.Tensor, depth int) (*value, error) {
	if len(op.Inputs) != 2 || op.Options.Activation != tflite.NoActivation {
		return nil, nil
	}
	for _, p := range [][2]int{{op.Inputs[0], op.Inputs[1]}, {op.Inputs[1], op.Inputs[0]}} {
		relu := c.producer(p[0], tflite.Relu)
		mul := c.producer(p[1], tflite.Mul)
		if relu == nil || mul == nil || len(relu.Inputs) != 1 || len(mul.Inputs) != 2 {
			continue
		}
		x := relu.Inputs[0]
		for _, q := range [][2]int{{mul.Inputs[0], mul.Inputs[1]}, {mul.Inputs[1], mul.Inputs[0]}} {
			kt, st := q[0], q[1]
			if kt < 0 || c.prod[kt] >= 0 || c.m.Tensors[kt].Data == nil {
				continue
			}
			sub := c.producer(st, tflite.Sub)
			if sub == nil || len(sub.Inputs) != 2 || sub.Inputs[0] != x {
				continue
			}
			abs := c.producer(sub.Inputs[1], tflite.Abs)
			if abs == nil || len(abs.Inputs) != 1 || abs.Inputs[0] != x {
				continue
			}
			xv, err := c.get(x, depth)
			if err != nil {
				return nil, err
			}
			kv, err := c.get(kt, depth)
			if err != nil {
				return nil, err
			}
			if !runtime(xv) || xv.step || len(xv.shape) != 4 {
				return nil, nil
			}
			k := perChannel(kv, xv.shape)
			if k == nil {
				return nil, nil
			}
			slope := make([]float32, len(k))
			for i, v := range k {
				slope[i] = 2 * v
			}
			s := c.b.Init(t.Name+"/slope", []int{len(slope), 1, 1}, slope)
			return &value{name: c.b.Node("PRelu", t.Name, []string{xv.name, s}), shape: xv.shape}, nil
		}
	}
	return nil, nil
}

// perChannel returns constant k as one value per channel of a runtime value
// of shape s (NCHW or [N,F]), broadcasting a scalar; nil when k broadcasts
// some other way.
func perChannel(k *value, s []int) []float32 {
	if len(s) < 2 {
		return nil
	}
	ch := s[1]
	if len(k.konst) == 1 {
		out := make([]float32, ch)
		for i := range out {
			out[i] = k.konst[0]
		}
		return out
	}
	if len(k.konst) != ch || len(k.kdims) == 0 || k.kdims[len(k.kdims)-1] != ch {
		return nil
	}
	return k.konst
}

func uniform(d []float32) (float32, bool) {
	for _, v := range d {
		if v != d[0] {
			return 0, false
		}
	}
	return d[0], len(d) > 0
}

func (c *converter) binary(code tflite.Op, name string, a, b *value) (*value, error) {
	if !runtime(a) && !runtime(b) {
		return nil, fmt.Errorf("%w: %v of two constants", ErrUnsupported, code)
	}
	if a.step || b.step {
		return nil, fmt.Errorf("%w: %v of a boolean", ErrUnsupported, code)
	}
	if !runtime(a) {
		if code == tflite.Sub {
			return nil, fmt.Errorf("%w: SUB of a constant minus a tensor", ErrUnsupported)
		}
		a, b = b, a
	}
	onnxOp := map[tflite.Op]string{tflite.Add: "Add", tflite.Sub: "Sub", tflite.Mul: "Mul"}[code]
	if !runtime(b) {
		k := perChannel(b, a.shape)
		if k == nil {
			return nil, fmt.Errorf("%w: constant of shape %v does not broadcast per channel over %v", ErrUnsupported, b.kdims, a.shape)
		}
		if code == tflite.Sub {
			neg := make([]float32, len(k))
			for i := range k {
				neg[i] = -k[i]
			}
			k, onnxOp = neg, "Add"
		}
		var kn string
		if u, ok := uniform(k); ok {
			kn = c.b.Init(name+"/k", []int{1}, []float32{u})
		} else if len(a.shape) == 4 {
			kn = c.b.Init(name+"/k", []int{1, len(k), 1, 1}, k)
		} else {
			kn = c.b.Init(name+"/k", []int{1, len(k)}, k)
		}
		return &value{name: c.b.Node(onnxOp, name, []string{a.name, kn}), shape: a.shape}, nil
	}
	if !slices.Equal(a.shape, b.shape) {
		return nil, fmt.Errorf("%w: %v of shapes %v and %v", ErrUnsupported, code, a.shape, b.shape)
	}
	return &value{name: c.b.Node(onnxOp, name, []string{a.name, b.name}), shape: a.shape}, nil
}

// samePads returns ONNX pads (begin, end) and the output size for TFLite
// padding p: SAME pads total = max((out−1)·stride + (k−1)·dil + 1 − in, 0),
// total/2 before and the rest after; VALID pads nothing.
func samePads(p tflite.Padding, in, k, stride, dil int) (out, before, after int, err error) {
	if stride < 1 || dil < 1 || k < 1 {
		return 0, 0, 0, fmt.Errorf("%w: kernel %d, stride %d, dilation %d", ErrUnsupported, k, stride, dil)
	}
	ek := (k-1)*dil + 1
	switch p {
	case tflite.Same:
		out = (in + stride - 1) / stride
		total := max((out-1)*stride+ek-in, 0)
		return out, total / 2, total - total/2, nil
	case tflite.Valid:
		out = (in-ek)/stride + 1
		if out < 1 {
			return 0, 0, 0, fmt.Errorf("%w: kernel %d larger than input %d", ErrUnsupported, ek, in)
		}
		return out, 0, 0, nil
	}
	return 0, 0, 0, fmt.Errorf("%w: padding %d", ErrUnsupported, p)
}

func (c *converter) conv(op *tflite.Operator, t *tflite.Tensor, in []*value) (*value, error) {
	if err := need(in, 2); err != nil {
		return nil, err
	}
	o := op.Options
	x, w := in[0], in[1]
	if !runtime(x) || x.step || len(x.shape) != 4 || runtime(w) || len(w.kdims) != 4 {
		return nil, fmt.Errorf("%w: want a 4-D input and constant 4-D weights", ErrUnsupported)
	}
	ch, h, wd := x.shape[1], x.shape[2], x.shape[3]
	kh, kw := w.kdims[1], w.kdims[2]
	oh, pt, pb, err := samePads(o.Padding, h, kh, o.StrideH, o.DilationH)
	if err != nil {
		return nil, err
	}
	ow, pl, pr, err := samePads(o.Padding, wd, kw, o.StrideW, o.DilationW)
	if err != nil {
		return nil, err
	}
	var oc, group int
	var wshape [4]int
	wt := make([]float32, len(w.konst))
	src := w.konst
	if op.Code == tflite.DepthwiseConv {
		// TFLite [1, kh, kw, ch·mult] → ONNX [ch·mult, 1, kh, kw], group ch;
		// output channel q reads input channel q/mult in both.
		oc, group = w.kdims[3], ch
		if w.kdims[0] != 1 || o.DepthMultiplier < 1 || oc != ch*o.DepthMultiplier {
			return nil, fmt.Errorf("%w: depthwise weights %v for %d channels, multiplier %d", ErrUnsupported, w.kdims, ch, o.DepthMultiplier)
		}
		wshape = [4]int{oc, 1, kh, kw}
		for y := 0; y < kh; y++ {
			for xx := 0; xx < kw; xx++ {
				for q := 0; q < oc; q++ {
					wt[(q*kh+y)*kw+xx] = src[(y*kw+xx)*oc+q]
				}
			}
		}
	} else {
		// TFLite [out, kh, kw, in] → ONNX [out, in, kh, kw]
		oc, group = w.kdims[0], 1
		if w.kdims[3] != ch {
			return nil, fmt.Errorf("%w: weights %v for %d input channels", ErrUnsupported, w.kdims, ch)
		}
		wshape = [4]int{oc, ch, kh, kw}
		for q := 0; q < oc; q++ {
			for y := 0; y < kh; y++ {
				for xx := 0; xx < kw; xx++ {
					for i := 0; i < ch; i++ {
						wt[((q*ch+i)*kh+y)*kw+xx] = src[((q*kh+y)*kw+xx)*ch+i]
					}
				}
			}
		}
	}
	bias := make([]float32, oc)
	if len(in) > 2 && in[2] != nil {
		if runtime(in[2]) || len(in[2].konst) != oc {
			return nil, fmt.Errorf("%w: bias is not a constant of %d values", ErrUnsupported, oc)
		}
		copy(bias, in[2].konst)
	}
	wn := c.b.Init(t.Name+"/W", wshape[:], wt)
	bn := c.b.Init(t.Name+"/B", []int{oc}, bias)
	out := c.b.Node("Conv", t.Name, []string{x.name, wn, bn},
		onnx.Ints("dilations", o.DilationH, o.DilationW),
		onnx.Int("group", group),
		onnx.Ints("kernel_shape", kh, kw),
		onnx.Ints("pads", pt, pl, pb, pr),
		onnx.Ints("strides", o.StrideH, o.StrideW))
	out, err = c.activation(o.Activation, t.Name, out)
	return &value{name: out, shape: []int{1, oc, oh, ow}}, err
}

func (c *converter) pool(op *tflite.Operator, t *tflite.Tensor, in []*value) (*value, error) {
	if err := need(in, 1); err != nil {
		return nil, err
	}
	o := op.Options
	x := in[0]
	if !runtime(x) || x.step || len(x.shape) != 4 {
		return nil, fmt.Errorf("%w: want a 4-D input", ErrUnsupported)
	}
	oh, pt, pb, err := samePads(o.Padding, x.shape[2], o.FilterH, o.StrideH, 1)
	if err != nil {
		return nil, err
	}
	ow, pl, pr, err := samePads(o.Padding, x.shape[3], o.FilterW, o.StrideW, 1)
	if err != nil {
		return nil, err
	}
	attrs := []onnx.Attr{
		onnx.Ints("kernel_shape", o.FilterH, o.FilterW),
		onnx.Ints("pads", pt, pl, pb, pr),
		onnx.Ints("strides", o.StrideH, o.StrideW),
	}
	onnxOp := "MaxPool"
	if op.Code == tflite.AveragePool2D {
		// TFLite averages over the positions inside the input only: ONNX's
		// count_include_pad 0, written out (the conversion test checks
		// OpenCV honours it).
		onnxOp = "AveragePool"
		attrs = append([]onnx.Attr{onnx.Int("count_include_pad", 0)}, attrs...)
	}
	out := c.b.Node(onnxOp, t.Name, []string{x.name}, attrs...)
	out, err = c.activation(o.Activation, t.Name, out)
	return &value{name: out, shape: []int{1, x.shape[1], oh, ow}}, err
}

// flatten turns a runtime value into [1, F] in TFLite's (NHWC) element order.
func (c *converter) flatten(name string, x *value) *value {
	if len(x.shape) == 2 {
		return x
	}
	src := x.name
	if len(x.shape) == 4 && (x.shape[2] != 1 || x.shape[3] != 1) {
		src = c.b.Node("Transpose", name+"/nhwc", []string{src}, onnx.Ints("perm", 0, 2, 3, 1))
	}
	return &value{name: c.b.Node("Flatten", name, []string{src}, onnx.Int("axis", 1)), shape: []int{1, numel(x.shape[1:])}}
}

func (c *converter) reshape(t *tflite.Tensor, in []*value) (*value, error) {
	if err := need(in, 1); err != nil {
		return nil, err
	}
	x := in[0]
	if !runtime(x) || x.step {
		return nil, fmt.Errorf("%w: reshape of a constant or boolean", ErrUnsupported)
	}
	// Only flattening [N, …] to [N, F] is supported; N is the model's
	// batch, 1 here.
	if len(t.Shape) != 2 || len(x.shape) < 2 || t.Shape[1] != numel(x.shape[1:]) {
		return nil, fmt.Errorf("%w: reshape of %v to %v (only flattening to [N,F])", ErrUnsupported, x.shape, t.Shape)
	}
	return c.flatten(t.Name, x), nil
}

func (c *converter) slice(op *tflite.Operator, t *tflite.Tensor, in []*value) (*value, error) {
	if err := need(in, 4); err != nil {
		return nil, err
	}
	x := in[0]
	o := op.Options
	// Only the identity slice (as Keras' Dense on a 2-D input exports it):
	// begin 0 (or masked), end past the last element (or masked), stride 1.
	if !runtime(x) || len(x.shape) != 2 || len(t.Shape) != 2 || o.EllipsisMask|o.NewAxisMask|o.ShrinkAxisMask != 0 {
		return nil, fmt.Errorf("%w: STRIDED_SLICE other than an identity on a 2-D tensor", ErrUnsupported)
	}
	for _, v := range in[1:] {
		if runtime(v) || len(v.konst) != 2 {
			return nil, fmt.Errorf("%w: STRIDED_SLICE with computed bounds", ErrUnsupported)
		}
	}
	for d := 0; d < 2; d++ {
		b, e, s := int(in[1].konst[d]), int(in[2].konst[d]), int(in[3].konst[d])
		full := d == 0 || x.shape[d] == t.Shape[d] // the batch axis is 1 here
		if s != 1 || !full || (o.BeginMask&(1<<d) == 0 && b != 0) || (o.EndMask&(1<<d) == 0 && e < t.Shape[d] && d > 0) {
			return nil, fmt.Errorf("%w: STRIDED_SLICE begin %v end %v strides %v is not an identity", ErrUnsupported, in[1].konst, in[2].konst, in[3].konst)
		}
	}
	return x, nil
}

// compare emits GREATER_EQUAL(x, k) and LESS(x, k) for a constant scalar k
// exactly with ops OpenCV 4.6 has: with f = floor(x − k), x ≥ k exactly when
// f ≥ 0 (x − k is exact in sign: it is 0 only when x = k), so
// x ≥ k = clip(f + 1, 0, 1) and x < k = clip(−f, 0, 1).
func (c *converter) compare(op *tflite.Operator, t *tflite.Tensor, in []*value) (*value, error) {
	if err := need(in, 2); err != nil {
		return nil, err
	}
	x, k := in[0], in[1]
	if !runtime(x) || x.step || runtime(k) || len(k.konst) != 1 {
		return nil, fmt.Errorf("%w: comparison other than a tensor against a constant scalar", ErrUnsupported)
	}
	d := x.name
	if k.konst[0] != 0 {
		d = c.b.Node("Add", t.Name+"/diff", []string{d, c.b.Init(t.Name+"/k", []int{1}, []float32{-k.konst[0]})})
	}
	f := c.b.Node("Floor", t.Name+"/floor", []string{d})
	var s string
	if op.Code == tflite.GreaterEqual {
		s = c.b.Node("Add", t.Name+"/shift", []string{f, c.b.Init(t.Name+"/one", []int{1}, []float32{1})})
	} else {
		s = c.b.Node("Mul", t.Name+"/neg", []string{f, c.b.Init(t.Name+"/minus", []int{1}, []float32{-1})})
	}
	return &value{name: c.b.Clip(t.Name, s, 0, 1), shape: x.shape, step: true}, nil
}

func (c *converter) concat(op *tflite.Operator, t *tflite.Tensor, in []*value) (*value, error) {
	if len(in) < 1 {
		return nil, fmt.Errorf("%w: CONCATENATION of nothing", tflite.ErrFormat)
	}
	rank := len(t.Shape)
	axis := op.Options.Axis
	if axis < 0 {
		axis += rank
	}
	if axis < 0 || axis >= rank || (rank != 2 && rank != 4) {
		return nil, fmt.Errorf("%w: CONCATENATION on axis %d of rank %d", ErrUnsupported, op.Options.Axis, rank)
	}
	if rank == 4 {
		axis = [4]int{0, 2, 3, 1}[axis]
	}
	var names []string
	var shape []int
	for _, v := range in {
		if v == nil || !runtime(v) || v.step || len(v.shape) != rank {
			return nil, fmt.Errorf("%w: CONCATENATION of a constant, boolean or rank other than %d", ErrUnsupported, rank)
		}
		if shape == nil {
			shape = slices.Clone(v.shape)
		} else {
			for d := range shape {
				if d != axis && shape[d] != v.shape[d] {
					return nil, fmt.Errorf("%w: CONCATENATION of shapes %v and %v", tflite.ErrFormat, shape, v.shape)
				}
			}
			shape[axis] += v.shape[axis]
		}
		names = append(names, v.name)
	}
	out := c.b.Node("Concat", t.Name, names, onnx.Int("axis", axis))
	out, err := c.activation(op.Options.Activation, t.Name, out)
	return &value{name: out, shape: shape}, err
}

func (c *converter) fullyConnected(op *tflite.Operator, t *tflite.Tensor, in []*value) (*value, error) {
	if err := need(in, 2); err != nil {
		return nil, err
	}
	x, w := in[0], in[1]
	if !runtime(x) || x.step || runtime(w) || len(w.kdims) != 2 || op.Options.KeepDims {
		return nil, fmt.Errorf("%w: want a computed input and constant 2-D weights", ErrUnsupported)
	}
	m, k := w.kdims[0], w.kdims[1]
	x = c.flatten(t.Name+"/flatten", x)
	if x.shape[1] != k {
		return nil, fmt.Errorf("%w: weights %v for %d features", ErrUnsupported, w.kdims, x.shape[1])
	}
	bias := make([]float32, m)
	if len(in) > 2 && in[2] != nil {
		if runtime(in[2]) || len(in[2].konst) != m {
			return nil, fmt.Errorf("%w: bias is not a constant of %d values", ErrUnsupported, m)
		}
		copy(bias, in[2].konst)
	}
	wn := c.b.Init(t.Name+"/W", []int{m, k}, w.konst)
	bn := c.b.Init(t.Name+"/B", []int{m}, bias)
	out := c.b.Node("Gemm", t.Name, []string{x.name, wn, bn}, onnx.Int("transB", 1))
	out, err := c.activation(op.Options.Activation, t.Name, out)
	return &value{name: out, shape: []int{1, m}}, err
}
