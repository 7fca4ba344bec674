// Package tfliteref is a small reference interpreter for float TFLite
// models, used by tests to check converted networks. It is written straight
// from the TFLite kernels' semantics on NHWC tensors — plain loops, no layout
// change, no op fusion — so that it shares nothing with tools/tflite2onnx but
// the flatbuffer reader (internal/tflite). It is slow (one core, no SIMD) and
// meant for a handful of inputs.
package tfliteref

import (
	"errors"
	"fmt"
	"math"

	"github.com/facegate/facegate/internal/tflite"
)

// ErrUnsupported is wrapped by the error of Run for an op or option the
// interpreter does not implement.
var ErrUnsupported = errors.New("tfliteref: unsupported op")

// tensor is a dense float32 tensor (bool results are stored as 0 and 1).
type tensor struct {
	shape []int
	data  []float32
}

func numel(s []int) int {
	n := 1
	for _, d := range s {
		n *= d
	}
	return n
}

// Run evaluates m on one input per subgraph input (NHWC data in row-major
// order, matching the tensor's declared shape) and returns every subgraph
// output in order.
func Run(m *tflite.Model, inputs ...[]float32) ([][]float32, error) {
	if len(inputs) != len(m.Inputs) {
		return nil, fmt.Errorf("tfliteref: %d inputs, model has %d", len(inputs), len(m.Inputs))
	}
	vals := make([]*tensor, len(m.Tensors))
	get := func(i int) (*tensor, error) {
		if i < 0 {
			return nil, nil
		}
		if vals[i] != nil {
			return vals[i], nil
		}
		t := &m.Tensors[i]
		if t.Data == nil {
			return nil, fmt.Errorf("tfliteref: tensor %q read before it is computed", t.Name)
		}
		if t.Type == tflite.Int32 {
			v, err := t.Ints()
			if err != nil {
				return nil, err
			}
			f := make([]float32, len(v))
			for k, x := range v {
				f[k] = float32(x)
			}
			vals[i] = &tensor{shape: t.Shape, data: f}
			return vals[i], nil
		}
		v, err := t.Floats()
		if err != nil {
			return nil, err
		}
		vals[i] = &tensor{shape: t.Shape, data: v}
		return vals[i], nil
	}
	for k, i := range m.Inputs {
		if len(inputs[k]) != m.Tensors[i].Elements() {
			return nil, fmt.Errorf("tfliteref: input %d has %d values, want %d for shape %v", k, len(inputs[k]), m.Tensors[i].Elements(), m.Tensors[i].Shape)
		}
		vals[i] = &tensor{shape: m.Tensors[i].Shape, data: inputs[k]}
	}
	for k, op := range m.Operators {
		in := make([]*tensor, len(op.Inputs))
		for j, i := range op.Inputs {
			t, err := get(i)
			if err != nil {
				return nil, err
			}
			in[j] = t
		}
		if len(op.Outputs) != 1 {
			return nil, fmt.Errorf("%w: operator %d (%v) has %d outputs", ErrUnsupported, k, op.Code, len(op.Outputs))
		}
		out := &m.Tensors[op.Outputs[0]]
		r, err := eval(op, in, out.Shape)
		if err != nil {
			return nil, fmt.Errorf("operator %d (%v, output %q): %w", k, op.Code, out.Name, err)
		}
		if numel(r.shape) != out.Elements() {
			return nil, fmt.Errorf("tfliteref: operator %d (%v) gave shape %v, model says %v", k, op.Code, r.shape, out.Shape)
		}
		r.shape = out.Shape
		vals[op.Outputs[0]] = r
	}
	var outs [][]float32
	for _, i := range m.Outputs {
		t, err := get(i)
		if err != nil {
			return nil, err
		}
		outs = append(outs, t.data)
	}
	return outs, nil
}

func activate(v []float32, a tflite.Activation) error {
	switch a {
	case tflite.NoActivation:
	case tflite.ActRelu:
		for i, x := range v {
			v[i] = max(x, 0)
		}
	case tflite.ActRelu6:
		for i, x := range v {
			v[i] = min(max(x, 0), 6)
		}
	case tflite.ActReluN1To1:
		for i, x := range v {
			v[i] = min(max(x, -1), 1)
		}
	case tflite.ActTanh:
		for i, x := range v {
			v[i] = float32(math.Tanh(float64(x)))
		}
	default:
		return fmt.Errorf("%w: fused activation %d", ErrUnsupported, a)
	}
	return nil
}

// padBefore returns the padding before the first row/column for TFLite's
// padding scheme: SAME pads total = max((out−1)·stride + (k−1)·dil + 1 − in, 0)
// with total/2 before, VALID pads nothing.
func outAndPad(p tflite.Padding, in, k, stride, dil int) (out, before int, err error) {
	ek := (k-1)*dil + 1
	switch p {
	case tflite.Same:
		out = (in + stride - 1) / stride
		total := max((out-1)*stride+ek-in, 0)
		return out, total / 2, nil
	case tflite.Valid:
		return (in-ek)/stride + 1, 0, nil
	}
	return 0, 0, fmt.Errorf("%w: padding %d", ErrUnsupported, p)
}

func eval(op tflite.Operator, in []*tensor, outShape []int) (*tensor, error) {
	o := op.Options
	switch op.Code {
	case tflite.Dequantize, tflite.Cast:
		return &tensor{shape: in[0].shape, data: append([]float32(nil), in[0].data...)}, nil
	case tflite.Reshape, tflite.Squeeze:
		return &tensor{shape: outShape, data: append([]float32(nil), in[0].data...)}, nil
	case tflite.Conv2D, tflite.DepthwiseConv:
		return conv(op, in)
	case tflite.AveragePool2D, tflite.MaxPool2D:
		return pool(op, in[0])
	case tflite.FullyConnected:
		x, w := in[0], in[1]
		nOut, k := w.shape[0], w.shape[1]
		if len(x.data)%k != 0 {
			return nil, fmt.Errorf("%w: FULLY_CONNECTED input of %d values for %d-wide weights", ErrUnsupported, len(x.data), k)
		}
		rows := len(x.data) / k
		r := make([]float32, rows*nOut)
		for b := 0; b < rows; b++ {
			for j := 0; j < nOut; j++ {
				var s float32
				for i := 0; i < k; i++ {
					s += x.data[b*k+i] * w.data[j*k+i]
				}
				if len(in) > 2 && in[2] != nil {
					s += in[2].data[j]
				}
				r[b*nOut+j] = s
			}
		}
		return &tensor{shape: []int{rows, nOut}, data: r}, activate(r, o.Activation)
	case tflite.Add, tflite.Sub, tflite.Mul, tflite.GreaterEqual, tflite.Less:
		f := map[tflite.Op]func(a, b float32) float32{
			tflite.Add: func(a, b float32) float32 { return a + b },
			tflite.Sub: func(a, b float32) float32 { return a - b },
			tflite.Mul: func(a, b float32) float32 { return a * b },
			tflite.GreaterEqual: func(a, b float32) float32 {
				if a >= b {
					return 1
				}
				return 0
			},
			tflite.Less: func(a, b float32) float32 {
				if a < b {
					return 1
				}
				return 0
			},
		}[op.Code]
		t, err := broadcast(in[0], in[1], f)
		if err != nil {
			return nil, err
		}
		return t, activate(t.data, o.Activation)
	case tflite.Relu, tflite.Abs, tflite.LeakyRelu, tflite.Logistic, tflite.Relu6:
		r := make([]float32, len(in[0].data))
		for i, x := range in[0].data {
			switch op.Code {
			case tflite.Relu:
				r[i] = max(x, 0)
			case tflite.Relu6:
				r[i] = min(max(x, 0), 6)
			case tflite.Abs:
				r[i] = float32(math.Abs(float64(x)))
			case tflite.LeakyRelu:
				r[i] = x
				if x < 0 {
					r[i] = o.Alpha * x
				}
			case tflite.Logistic:
				r[i] = float32(1 / (1 + math.Exp(-float64(x))))
			}
		}
		return &tensor{shape: in[0].shape, data: r}, nil
	case tflite.Concatenation:
		return concat(in, o.Axis)
	case tflite.StridedSlice:
		return stridedSlice(in, o)
	}
	return nil, fmt.Errorf("%w: %v", ErrUnsupported, op.Code)
}

func conv(op tflite.Operator, in []*tensor) (*tensor, error) {
	o := op.Options
	x, w := in[0], in[1]
	if len(x.shape) != 4 || len(w.shape) != 4 || o.StrideW < 1 || o.StrideH < 1 || o.DilationW < 1 || o.DilationH < 1 {
		return nil, fmt.Errorf("%w: conv of %v by %v, options %+v", ErrUnsupported, x.shape, w.shape, o)
	}
	n, h, wd, c := x.shape[0], x.shape[1], x.shape[2], x.shape[3]
	kh, kw := w.shape[1], w.shape[2]
	oh, pt, err := outAndPad(o.Padding, h, kh, o.StrideH, o.DilationH)
	if err != nil {
		return nil, err
	}
	ow, pl, err := outAndPad(o.Padding, wd, kw, o.StrideW, o.DilationW)
	if err != nil {
		return nil, err
	}
	depthwise := op.Code == tflite.DepthwiseConv
	var oc int
	if depthwise {
		// filter [1, kh, kw, c·multiplier]; output channel q reads input
		// channel q / multiplier
		oc = w.shape[3]
		if o.DepthMultiplier < 1 || oc != c*o.DepthMultiplier {
			return nil, fmt.Errorf("%w: depthwise filter %v for %d channels, multiplier %d", ErrUnsupported, w.shape, c, o.DepthMultiplier)
		}
	} else {
		// filter [out, kh, kw, in]
		oc = w.shape[0]
		if w.shape[3] != c {
			return nil, fmt.Errorf("%w: filter %v for %d channels", ErrUnsupported, w.shape, c)
		}
	}
	r := make([]float32, n*oh*ow*oc)
	for b := 0; b < n; b++ {
		for y := 0; y < oh; y++ {
			for xx := 0; xx < ow; xx++ {
				for q := 0; q < oc; q++ {
					var s float32
					for i := 0; i < kh; i++ {
						iy := y*o.StrideH - pt + i*o.DilationH
						if iy < 0 || iy >= h {
							continue
						}
						for j := 0; j < kw; j++ {
							ix := xx*o.StrideW - pl + j*o.DilationW
							if ix < 0 || ix >= wd {
								continue
							}
							px := x.data[((b*h+iy)*wd+ix)*c:]
							if depthwise {
								s += px[q/o.DepthMultiplier] * w.data[(i*kw+j)*oc+q]
							} else {
								wr := w.data[((q*kh+i)*kw+j)*c:]
								for ch := 0; ch < c; ch++ {
									s += px[ch] * wr[ch]
								}
							}
						}
					}
					if len(in) > 2 && in[2] != nil {
						s += in[2].data[q]
					}
					r[((b*oh+y)*ow+xx)*oc+q] = s
				}
			}
		}
	}
	return &tensor{shape: []int{n, oh, ow, oc}, data: r}, activate(r, o.Activation)
}

func pool(op tflite.Operator, x *tensor) (*tensor, error) {
	o := op.Options
	if len(x.shape) != 4 || o.StrideW < 1 || o.StrideH < 1 || o.FilterW < 1 || o.FilterH < 1 {
		return nil, fmt.Errorf("%w: pool of %v, options %+v", ErrUnsupported, x.shape, o)
	}
	n, h, wd, c := x.shape[0], x.shape[1], x.shape[2], x.shape[3]
	oh, pt, err := outAndPad(o.Padding, h, o.FilterH, o.StrideH, 1)
	if err != nil {
		return nil, err
	}
	ow, pl, err := outAndPad(o.Padding, wd, o.FilterW, o.StrideW, 1)
	if err != nil {
		return nil, err
	}
	r := make([]float32, n*oh*ow*c)
	for b := 0; b < n; b++ {
		for y := 0; y < oh; y++ {
			for xx := 0; xx < ow; xx++ {
				for ch := 0; ch < c; ch++ {
					// padding is ignored: max over, or mean of, the
					// positions inside the input
					var s float32
					cnt := 0
					first := true
					for i := 0; i < o.FilterH; i++ {
						iy := y*o.StrideH - pt + i
						if iy < 0 || iy >= h {
							continue
						}
						for j := 0; j < o.FilterW; j++ {
							ix := xx*o.StrideW - pl + j
							if ix < 0 || ix >= wd {
								continue
							}
							v := x.data[((b*h+iy)*wd+ix)*c+ch]
							if op.Code == tflite.MaxPool2D {
								if first || v > s {
									s = v
								}
							} else {
								s += v
							}
							first = false
							cnt++
						}
					}
					if op.Code == tflite.AveragePool2D && cnt > 0 {
						s /= float32(cnt)
					}
					r[((b*oh+y)*ow+xx)*c+ch] = s
				}
			}
		}
	}
	return &tensor{shape: []int{n, oh, ow, c}, data: r}, activate(r, o.Activation)
}

// broadcast applies f elementwise with NumPy broadcasting.
func broadcast(a, b *tensor, f func(a, b float32) float32) (*tensor, error) {
	rank := max(len(a.shape), len(b.shape))
	pad := func(s []int) []int {
		out := make([]int, rank)
		for i := range out {
			out[i] = 1
		}
		copy(out[rank-len(s):], s)
		return out
	}
	as, bs := pad(a.shape), pad(b.shape)
	shape := make([]int, rank)
	for i := range shape {
		switch {
		case as[i] == bs[i] || bs[i] == 1:
			shape[i] = as[i]
		case as[i] == 1:
			shape[i] = bs[i]
		default:
			return nil, fmt.Errorf("%w: shapes %v and %v do not broadcast", ErrUnsupported, a.shape, b.shape)
		}
	}
	r := make([]float32, numel(shape))
	idx := make([]int, rank)
	for k := range r {
		ai, bi := 0, 0
		for d := 0; d < rank; d++ {
			ai = ai*as[d] + idx[d]%as[d]
			bi = bi*bs[d] + idx[d]%bs[d]
		}
		r[k] = f(a.data[ai], b.data[bi])
		for d := rank - 1; d >= 0; d-- {
			idx[d]++
			if idx[d] < shape[d] {
				break
			}
			idx[d] = 0
		}
	}
	return &tensor{shape: shape, data: r}, nil
}

func concat(in []*tensor, axis int) (*tensor, error) {
	rank := len(in[0].shape)
	if axis < 0 {
		axis += rank
	}
	if axis < 0 || axis >= rank {
		return nil, fmt.Errorf("%w: concatenation axis %d of rank %d", ErrUnsupported, axis, rank)
	}
	outer := numel(in[0].shape[:axis])
	shape := append([]int(nil), in[0].shape...)
	shape[axis] = 0
	for _, t := range in {
		shape[axis] += t.shape[axis]
	}
	var r []float32
	for o := 0; o < outer; o++ {
		for _, t := range in {
			inner := numel(t.shape[axis:])
			r = append(r, t.data[o*inner:(o+1)*inner]...)
		}
	}
	return &tensor{shape: shape, data: r}, nil
}

func stridedSlice(in []*tensor, o tflite.Options) (*tensor, error) {
	x := in[0]
	if o.EllipsisMask != 0 || o.NewAxisMask != 0 || o.ShrinkAxisMask != 0 {
		return nil, fmt.Errorf("%w: STRIDED_SLICE masks %+v", ErrUnsupported, o)
	}
	rank := len(x.shape)
	if len(in) != 4 || len(in[1].data) != rank || len(in[2].data) != rank || len(in[3].data) != rank {
		return nil, fmt.Errorf("%w: STRIDED_SLICE arguments", ErrUnsupported)
	}
	begin, end := make([]int, rank), make([]int, rank)
	shape := make([]int, rank)
	for d := 0; d < rank; d++ {
		bgn, e, s := int(in[1].data[d]), int(in[2].data[d]), int(in[3].data[d])
		if s != 1 {
			return nil, fmt.Errorf("%w: STRIDED_SLICE stride %d", ErrUnsupported, s)
		}
		if o.BeginMask&(1<<d) != 0 {
			bgn = 0
		}
		if o.EndMask&(1<<d) != 0 {
			e = x.shape[d]
		}
		if bgn < 0 {
			bgn += x.shape[d]
		}
		if e < 0 {
			e += x.shape[d]
		}
		bgn, e = min(max(bgn, 0), x.shape[d]), min(max(e, 0), x.shape[d])
		begin[d], end[d] = bgn, e
		shape[d] = max(e-bgn, 0)
	}
	r := make([]float32, 0, numel(shape))
	idx := make([]int, rank)
	for k := 0; k < numel(shape); k++ {
		src := 0
		for d := 0; d < rank; d++ {
			src = src*x.shape[d] + begin[d] + idx[d]
		}
		r = append(r, x.data[src])
		for d := rank - 1; d >= 0; d-- {
			idx[d]++
			if idx[d] < shape[d] {
				break
			}
			idx[d] = 0
		}
	}
	return &tensor{shape: shape, data: r}, nil
}
