package main

import (
	"fmt"
	"strings"

	"github.com/facegate/facegate/internal/onnx"
)

// Options controls a conversion.
type Options struct {
	// Output is the TF node whose value becomes the ONNX model's only output.
	Output string
	// KeepL2 keeps a trailing L2 normalization (x * rsqrt(max(sum(x²), eps)))
	// as an ONNX LpNormalization node; by default it is dropped and callers
	// normalize.
	KeepL2 bool
	// Doc is stored as the graph's doc_string (e.g. the source package and version).
	Doc string
}

// maxSide bounds each input dimension (height, width, channels).
const maxSide = 1 << 14

// value is one node of the expression DAG built from the TF graph. Runtime
// 4-D values are NCHW; 2-D values are [N, F].
type value struct {
	name  string
	op    string
	in    []*value
	c     *Tensor // op "const"
	shape []int   // runtime shape (NCHW or [N,F]); const: its TF shape
	uses  int

	// op "conv"
	w      []float32
	wshape [4]int
	b      []float32
	stride int
	pads   [4]int // top, left, bottom, right
	group  int
	// op "gemm": w is [M][K]
	// op "flatten": hwc is the NHWC order of the flattened features (nil when
	// H = W = 1 or the flattened tensor was already 2-D)
	hwc []int
	// op "pad": pads
	// op "clip": lo, hi
	lo, hi float32
	// op "maxpool": kernel side (stride and pads as for conv)
	kernel int

	out string // emitted ONNX name
}

type converter struct {
	g      *Graph
	nodes  map[string]*Node
	vals   map[string]*value
	uses   map[string]int
	opts   Options
	b      onnx.Builder
	inputs []onnx.Value
}

func baseName(in string) string {
	in = strings.TrimPrefix(in, "^")
	if i := strings.IndexByte(in, ':'); i >= 0 {
		in = in[:i]
	}
	return in
}

// Convert translates g into a serialized ONNX model (opset 10) computing
// opts.Output from one NCHW float input named "input".
func Convert(g *Graph, opts Options) ([]byte, error) {
	c := &converter{g: g, nodes: map[string]*Node{}, vals: map[string]*value{}, uses: map[string]int{}, opts: opts}
	for i := range g.Nodes {
		c.nodes[g.Nodes[i].Name] = &g.Nodes[i]
	}
	for i := range g.Nodes {
		for _, in := range g.Nodes[i].Input {
			if !strings.HasPrefix(in, "^") {
				c.uses[baseName(in)]++
			}
		}
	}
	if _, ok := c.nodes[opts.Output]; !ok {
		return nil, fmt.Errorf("%w: output node %q not in the graph", ErrFormat, opts.Output)
	}
	root, err := c.build(opts.Output, 0)
	if err != nil {
		return nil, err
	}
	if root.op == "const" || len(root.shape) == 0 {
		return nil, fmt.Errorf("%w: output %q is a constant", ErrUnsupported, opts.Output)
	}
	out, err := c.emit(root)
	if err != nil {
		return nil, err
	}
	c.b.Model.Opset = 10
	c.b.Model.Producer = "facegate-tfjs2onnx"
	c.b.Model.Version = "1"
	c.b.Model.Graph = "tfjs2onnx"
	c.b.Model.Doc = opts.Doc
	c.b.Model.Inputs = c.inputs
	c.b.Model.Outputs = []onnx.Value{{Name: out, Dims: onnx.Dims(root.shape)}}
	return c.b.Model.Encode(), nil
}

func numel(s []int) int {
	n := 1
	for _, d := range s {
		n *= d
	}
	return n
}

func (c *converter) build(name string, depth int) (*value, error) {
	if v, ok := c.vals[name]; ok {
		return v, nil
	}
	if depth > 10000 {
		return nil, fmt.Errorf("%w: graph too deep at %q", ErrFormat, name)
	}
	n, ok := c.nodes[name]
	if !ok {
		return nil, fmt.Errorf("%w: input %q is not a node", ErrFormat, name)
	}
	var in []*value
	for _, s := range n.Input {
		if strings.HasPrefix(s, "^") {
			continue
		}
		v, err := c.build(baseName(s), depth+1)
		if err != nil {
			return nil, err
		}
		in = append(in, v)
	}
	v, err := c.lower(n, in)
	if err != nil {
		return nil, err
	}
	if v.name == "" {
		v.name = n.Name
	}
	v.uses = c.uses[n.Name]
	c.vals[name] = v
	return v, nil
}

func (c *converter) need(n *Node, in []*value, k int) error {
	if len(in) != k {
		return fmt.Errorf("%w: %s %q has %d inputs, want %d", ErrFormat, n.Op, n.Name, len(in), k)
	}
	return nil
}

func isConst(v *value) bool { return v.op == "const" }

// lower turns one TF node into a value.
func (c *converter) lower(n *Node, in []*value) (*value, error) {
	switch n.Op {
	case "Placeholder":
		s, err := n.placeholderShape()
		if err != nil {
			return nil, err
		}
		if len(s) != 4 || s[1] <= 0 || s[2] <= 0 || s[3] <= 0 || s[1] > maxSide || s[2] > maxSide || s[3] > maxSide {
			return nil, fmt.Errorf("%w: input %q shape %v, want [N,H,W,C]", ErrUnsupported, n.Name, s)
		}
		if len(c.inputs) > 0 {
			return nil, fmt.Errorf("%w: more than one input", ErrUnsupported)
		}
		shape := []int{1, s[3], s[1], s[2]}
		c.inputs = append(c.inputs, onnx.Value{Name: "input", Dims: onnx.Dims(shape)})
		return &value{op: "input", shape: shape, out: "input"}, nil
	case "Const":
		t, ok := c.g.Weights[n.Name]
		if !ok {
			return nil, fmt.Errorf("%w: const %q has no weight", ErrFormat, n.Name)
		}
		return &value{op: "const", c: &t, shape: t.Shape}, nil
	case "Identity":
		if err := c.need(n, in, 1); err != nil {
			return nil, err
		}
		return in[0], nil
	case "Pad":
		if err := c.need(n, in, 2); err != nil {
			return nil, err
		}
		x, p := in[0], in[1]
		if !isConst(p) || len(x.shape) != 4 || len(p.c.Data) != 8 {
			return nil, fmt.Errorf("%w: Pad %q: want a 4-D input and constant paddings", ErrUnsupported, n.Name)
		}
		d := p.c.Data // NHWC pairs
		if d[0] != 0 || d[1] != 0 || d[6] != 0 || d[7] != 0 {
			return nil, fmt.Errorf("%w: Pad %q pads batch or channels", ErrUnsupported, n.Name)
		}
		v := &value{op: "pad", in: []*value{x}, pads: [4]int{int(d[2]), int(d[4]), int(d[3]), int(d[5])}}
		v.shape = []int{x.shape[0], x.shape[1], x.shape[2] + v.pads[0] + v.pads[2], x.shape[3] + v.pads[1] + v.pads[3]}
		return v, nil
	case "Conv2D", "_FusedConv2D", "DepthwiseConv2dNative", "FusedDepthwiseConv2dNative":
		return c.conv(n, in)
	case "MatMul", "_FusedMatMul":
		return c.matmul(n, in)
	case "BiasAdd", "Add", "AddV2", "Sub", "Mul", "Maximum", "Minimum":
		if err := c.need(n, in, 2); err != nil {
			return nil, err
		}
		return c.binary(n, in[0], in[1])
	case "Relu", "Abs", "Square", "Rsqrt", "Sigmoid", "Relu6":
		if err := c.need(n, in, 1); err != nil {
			return nil, err
		}
		if isConst(in[0]) {
			return nil, fmt.Errorf("%w: %s %q of a constant", ErrUnsupported, n.Op, n.Name)
		}
		return &value{op: strings.ToLower(n.Op), in: in, shape: in[0].shape}, nil
	case "MaxPool":
		if err := c.need(n, in, 1); err != nil {
			return nil, err
		}
		return c.maxPool(n, in[0])
	case "Softmax":
		if err := c.need(n, in, 1); err != nil {
			return nil, err
		}
		if len(in[0].shape) != 2 || isConst(in[0]) {
			return nil, fmt.Errorf("%w: Softmax %q of shape %v: only over the features of a 2-D tensor", ErrUnsupported, n.Name, in[0].shape)
		}
		return &value{op: "softmax", in: in, shape: in[0].shape}, nil
	case "Squeeze":
		if err := c.need(n, in, 1); err != nil {
			return nil, err
		}
		x := in[0]
		if len(x.shape) != 4 || x.shape[2] != 1 || x.shape[3] != 1 {
			return nil, fmt.Errorf("%w: Squeeze %q of shape %v", ErrUnsupported, n.Name, x.shape)
		}
		return &value{op: "flatten", in: in, shape: []int{x.shape[0], x.shape[1]}}, nil
	case "Reshape":
		if err := c.need(n, in, 2); err != nil {
			return nil, err
		}
		x, s := in[0], in[1]
		if !isConst(s) || len(s.c.Data) != 2 || len(x.shape) != 4 || int(s.c.Data[1]) != numel(x.shape[1:]) {
			return nil, fmt.Errorf("%w: Reshape %q: only flattening a 4-D tensor", ErrUnsupported, n.Name)
		}
		v := &value{op: "flatten", in: []*value{x}, shape: []int{x.shape[0], numel(x.shape[1:])}}
		if x.shape[2] != 1 || x.shape[3] != 1 {
			v.hwc = []int{x.shape[2], x.shape[3], x.shape[1]}
		}
		return v, nil
	case "Mean":
		if err := c.need(n, in, 2); err != nil {
			return nil, err
		}
		x, ax := in[0], in[1]
		keep, err := n.attrBool("keep_dims")
		if err != nil {
			return nil, err
		}
		if !isConst(ax) || len(ax.c.Data) != 2 || ax.c.Data[0] != 1 || ax.c.Data[1] != 2 || len(x.shape) != 4 || keep {
			return nil, fmt.Errorf("%w: Mean %q: only over H and W without keep_dims", ErrUnsupported, n.Name)
		}
		return &value{op: "gap", in: []*value{x}, shape: []int{x.shape[0], x.shape[1]}}, nil
	case "Sum":
		if err := c.need(n, in, 2); err != nil {
			return nil, err
		}
		x, ax := in[0], in[1]
		keep, err := n.attrBool("keep_dims")
		if err != nil {
			return nil, err
		}
		if !isConst(ax) || len(ax.c.Data) != 1 || ax.c.Data[0] != 1 || len(x.shape) != 2 || !keep {
			return nil, fmt.Errorf("%w: Sum %q: only over features of a 2-D tensor with keep_dims", ErrUnsupported, n.Name)
		}
		return &value{op: "sum", in: []*value{x}, shape: []int{x.shape[0], 1}}, nil
	}
	return nil, fmt.Errorf("%w: op %s (node %q)", ErrUnsupported, n.Op, n.Name)
}

func (c *converter) conv(n *Node, in []*value) (*value, error) {
	depthwise := strings.Contains(n.Op, "Depthwise")
	fused := strings.HasPrefix(n.Op, "_") || strings.HasPrefix(n.Op, "Fused")
	if len(in) < 2 {
		return nil, fmt.Errorf("%w: %s %q has %d inputs", ErrFormat, n.Op, n.Name, len(in))
	}
	x, wt := in[0], in[1]
	if !isConst(wt) || len(wt.shape) != 4 || len(x.shape) != 4 {
		return nil, fmt.Errorf("%w: %s %q: want a 4-D input and constant 4-D weights", ErrUnsupported, n.Op, n.Name)
	}
	if f, _ := n.attrString("data_format"); f != "" && f != "NHWC" {
		return nil, fmt.Errorf("%w: %s %q data_format %s", ErrUnsupported, n.Op, n.Name, f)
	}
	st, err := n.attrInts("strides")
	if err != nil {
		return nil, err
	}
	if len(st) != 4 || st[1] != st[2] || st[1] < 1 {
		return nil, fmt.Errorf("%w: %s %q strides %v", ErrUnsupported, n.Op, n.Name, st)
	}
	if dl, _ := n.attrInts("dilations"); len(dl) == 4 && (dl[1] != 1 || dl[2] != 1) {
		return nil, fmt.Errorf("%w: %s %q dilations %v", ErrUnsupported, n.Op, n.Name, dl)
	}
	padding, err := n.attrString("padding")
	if err != nil {
		return nil, err
	}
	kh, kw, ci, co := wt.shape[0], wt.shape[1], wt.shape[2], wt.shape[3]
	if len(wt.c.Data) == 0 {
		return nil, fmt.Errorf("%w: %s %q: empty weights %v", ErrFormat, n.Op, n.Name, wt.shape)
	}
	if ci != x.shape[1] {
		return nil, fmt.Errorf("%w: %s %q: weights for %d channels, input has %d", ErrFormat, n.Op, n.Name, ci, x.shape[1])
	}
	v := &value{op: "conv", stride: st[1], group: 1}
	var pre [4]int
	if x.op == "pad" && x.uses == 1 {
		pre = x.pads
		x = x.in[0]
	}
	v.in = []*value{x}
	h, w := x.shape[2]+pre[0]+pre[2], x.shape[3]+pre[1]+pre[3]
	var oh, ow int
	switch padding {
	case "VALID":
		oh, ow = (h-kh)/v.stride+1, (w-kw)/v.stride+1
		v.pads = pre
	case "SAME":
		oh, ow = (h+v.stride-1)/v.stride, (w+v.stride-1)/v.stride
		th := max((oh-1)*v.stride+kh-h, 0)
		tw := max((ow-1)*v.stride+kw-w, 0)
		v.pads = [4]int{pre[0] + th/2, pre[1] + tw/2, pre[2] + th - th/2, pre[3] + tw - tw/2}
	default:
		return nil, fmt.Errorf("%w: %s %q padding %q", ErrUnsupported, n.Op, n.Name, padding)
	}
	if oh < 1 || ow < 1 {
		return nil, fmt.Errorf("%w: %s %q: empty output", ErrFormat, n.Op, n.Name)
	}
	src := wt.c.Data
	var outC int
	if depthwise {
		outC = ci * co // co is the channel multiplier
		v.group = ci
		v.wshape = [4]int{outC, 1, kh, kw}
		v.w = make([]float32, len(src))
		for y := 0; y < kh; y++ {
			for xx := 0; xx < kw; xx++ {
				for ch := 0; ch < ci; ch++ {
					for m := 0; m < co; m++ {
						o := ch*co + m
						v.w[(o*kh+y)*kw+xx] = src[((y*kw+xx)*ci+ch)*co+m]
					}
				}
			}
		}
	} else {
		outC = co
		v.wshape = [4]int{co, ci, kh, kw}
		v.w = make([]float32, len(src))
		for y := 0; y < kh; y++ {
			for xx := 0; xx < kw; xx++ {
				for i := 0; i < ci; i++ {
					for o := 0; o < co; o++ {
						v.w[((o*ci+i)*kh+y)*kw+xx] = src[((y*kw+xx)*ci+i)*co+o]
					}
				}
			}
		}
	}
	v.b = make([]float32, outC)
	v.shape = []int{x.shape[0], outC, oh, ow}
	if !fused {
		return v, nil
	}
	return c.fusedTail(n, v, in[2:])
}

// maxPool lowers an NHWC MaxPool with a square window and equal strides
// over H and W (batch and channels not pooled), VALID or SAME padding. SAME
// pads with -inf in TF; ONNX MaxPool's pads are ignored positions too, so
// the two agree.
func (c *converter) maxPool(n *Node, x *value) (*value, error) {
	if len(x.shape) != 4 || isConst(x) {
		return nil, fmt.Errorf("%w: MaxPool %q: want a 4-D input", ErrUnsupported, n.Name)
	}
	if f, _ := n.attrString("data_format"); f != "" && f != "NHWC" {
		return nil, fmt.Errorf("%w: MaxPool %q data_format %s", ErrUnsupported, n.Name, f)
	}
	k, err := n.attrInts("ksize")
	if err != nil {
		return nil, err
	}
	st, err := n.attrInts("strides")
	if err != nil {
		return nil, err
	}
	if len(k) != 4 || k[0] != 1 || k[3] != 1 || k[1] != k[2] || k[1] < 1 || k[1] > maxSide ||
		len(st) != 4 || st[0] != 1 || st[3] != 1 || st[1] != st[2] || st[1] < 1 || st[1] > maxSide {
		return nil, fmt.Errorf("%w: MaxPool %q ksize %v strides %v", ErrUnsupported, n.Name, k, st)
	}
	padding, err := n.attrString("padding")
	if err != nil {
		return nil, err
	}
	v := &value{op: "maxpool", in: []*value{x}, kernel: k[1], stride: st[1]}
	h, w := x.shape[2], x.shape[3]
	var oh, ow int
	switch padding {
	case "VALID":
		oh, ow = (h-v.kernel)/v.stride+1, (w-v.kernel)/v.stride+1
	case "SAME":
		oh, ow = (h+v.stride-1)/v.stride, (w+v.stride-1)/v.stride
		th := max((oh-1)*v.stride+v.kernel-h, 0)
		tw := max((ow-1)*v.stride+v.kernel-w, 0)
		v.pads = [4]int{th / 2, tw / 2, th - th/2, tw - tw/2}
	default:
		return nil, fmt.Errorf("%w: MaxPool %q padding %q", ErrUnsupported, n.Name, padding)
	}
	if oh < 1 || ow < 1 {
		return nil, fmt.Errorf("%w: MaxPool %q: empty output", ErrFormat, n.Name)
	}
	v.shape = []int{x.shape[0], x.shape[1], oh, ow}
	return v, nil
}

// fusedTail applies a fused op's fused_ops (BiasAdd, then Relu/Relu6/Prelu)
// to v, a conv or gemm value.
func (c *converter) fusedTail(n *Node, v *value, args []*value) (*value, error) {
	ops, err := n.attrStrings("fused_ops")
	if err != nil {
		return nil, err
	}
	if len(ops) == 0 || ops[0] != "BiasAdd" || len(args) < 1 || !isConst(args[0]) || len(args[0].c.Data) != len(v.b) {
		return nil, fmt.Errorf("%w: %s %q fused_ops %v", ErrUnsupported, n.Op, n.Name, ops)
	}
	for i, b := range args[0].c.Data {
		v.b[i] += b
	}
	v.name = n.Name + "/core"
	switch {
	case len(ops) == 1:
		return v, nil
	case len(ops) == 2 && ops[1] == "Relu":
		return &value{op: "relu", in: []*value{v}, shape: v.shape}, nil
	case len(ops) == 2 && ops[1] == "Relu6":
		return &value{op: "clip", in: []*value{v}, shape: v.shape, lo: 0, hi: 6}, nil
	case len(ops) == 2 && ops[1] == "Prelu" && len(args) == 2 && isConst(args[1]) && len(args[1].c.Data) == len(v.b):
		return &value{op: "prelu", in: []*value{v}, c: args[1].c, shape: v.shape}, nil
	}
	return nil, fmt.Errorf("%w: %s %q fused_ops %v", ErrUnsupported, n.Op, n.Name, ops)
}

func (c *converter) matmul(n *Node, in []*value) (*value, error) {
	if len(in) < 2 {
		return nil, fmt.Errorf("%w: %s %q has %d inputs", ErrFormat, n.Op, n.Name, len(in))
	}
	x, wt := in[0], in[1]
	ta, _ := n.attrBool("transpose_a")
	tb, _ := n.attrBool("transpose_b")
	if !isConst(wt) || len(wt.shape) != 2 || len(x.shape) != 2 || ta || tb || wt.shape[0] != x.shape[1] {
		return nil, fmt.Errorf("%w: %s %q: want [N,K] x constant [K,M]", ErrUnsupported, n.Op, n.Name)
	}
	k, m := wt.shape[0], wt.shape[1]
	if len(wt.c.Data) == 0 {
		return nil, fmt.Errorf("%w: %s %q: empty weights %v", ErrFormat, n.Op, n.Name, wt.shape)
	}
	// row r of the TF kernel multiplies TF feature r; ONNX feature order is
	// CHW where TF flattened HWC.
	perm := make([]int, k) // perm[onnxFeature] = tfFeature
	for i := range perm {
		perm[i] = i
	}
	src := x
	if x.op == "flatten" && x.hwc != nil {
		hh, ww, cc := x.hwc[0], x.hwc[1], x.hwc[2]
		for ch := 0; ch < cc; ch++ {
			for y := 0; y < hh; y++ {
				for xx := 0; xx < ww; xx++ {
					perm[(ch*hh+y)*ww+xx] = (y*ww+xx)*cc + ch
				}
			}
		}
	}
	v := &value{op: "gemm", in: []*value{src}, shape: []int{x.shape[0], m}, w: make([]float32, m*k), b: make([]float32, m)}
	for o := 0; o < m; o++ {
		for i := 0; i < k; i++ {
			v.w[o*k+i] = wt.c.Data[perm[i]*m+o]
		}
	}
	if n.Op == "MatMul" {
		return v, nil
	}
	return c.fusedTail(n, v, in[2:])
}

// perChannel returns the per-channel (or scalar-broadcast) values of constant
// k for a runtime value of shape s, or nil when k does not broadcast that way.
func perChannel(k *Tensor, s []int) []float32 {
	if len(s) < 2 {
		return nil
	}
	ch := s[1]
	if len(k.Data) == 1 {
		out := make([]float32, ch)
		for i := range out {
			out[i] = k.Data[0]
		}
		return out
	}
	if len(k.Data) != ch {
		return nil
	}
	// the channel axis must be the last TF axis
	if len(k.Shape) == 0 || k.Shape[len(k.Shape)-1] != ch {
		return nil
	}
	return k.Data
}

func (c *converter) binary(n *Node, a, b *value) (*value, error) {
	op := map[string]string{"BiasAdd": "add", "Add": "add", "AddV2": "add", "Sub": "sub", "Mul": "mul", "Maximum": "max", "Minimum": "min"}[n.Op]
	if isConst(a) && isConst(b) {
		return nil, fmt.Errorf("%w: %s %q of two constants", ErrUnsupported, n.Op, n.Name)
	}
	if isConst(a) && op == "sub" {
		return nil, fmt.Errorf("%w: Sub %q of a constant minus a tensor", ErrUnsupported, n.Name)
	}
	if isConst(a) {
		a, b = b, a
	}
	if isConst(b) {
		k := perChannel(b.c, a.shape)
		if k == nil {
			return nil, fmt.Errorf("%w: %s %q: constant of shape %v does not broadcast per channel over %v", ErrUnsupported, n.Op, n.Name, b.shape, a.shape)
		}
		// fold into a preceding conv/gemm that has no other consumer
		if (a.op == "conv" || a.op == "gemm") && a.uses == 1 && op != "max" && op != "min" {
			f := *a
			f.w = append([]float32(nil), a.w...)
			f.b = append([]float32(nil), a.b...)
			per := len(f.w) / len(f.b)
			for o := range f.b {
				switch op {
				case "add":
					f.b[o] += k[o]
				case "sub":
					f.b[o] -= k[o]
				case "mul":
					f.b[o] *= k[o]
					for i := o * per; i < (o+1)*per; i++ {
						f.w[i] *= k[o]
					}
				}
			}
			f.name = n.Name + "/core"
			f.uses = 1
			return &f, nil
		}
		kk := Tensor{Shape: []int{len(k)}, Data: k}
		return &value{op: op + "c", in: []*value{a}, c: &kk, shape: a.shape}, nil
	}
	if len(a.shape) != len(b.shape) {
		return nil, fmt.Errorf("%w: %s %q of shapes %v and %v", ErrUnsupported, n.Op, n.Name, a.shape, b.shape)
	}
	s := a.shape
	if numel(b.shape) > numel(s) {
		s = b.shape
	}
	return &value{op: op, in: []*value{a, b}, shape: s}, nil
}

// chanShape is the ONNX broadcast shape of per-channel data for a value of shape s.
func chanShape(s []int, n int) []int {
	if len(s) == 4 {
		return []int{1, n, 1, 1}
	}
	return []int{1, n}
}

// matchPReLU recognises relu(x) + (x - |x|)*k  (slope 2k) and
// max(x, 0) + g*min(x, 0)  (slope g).
func matchPReLU(a, b *value) (*value, []float32) {
	for _, p := range [][2]*value{{a, b}, {b, a}} {
		pos, neg := p[0], p[1]
		if neg.op != "mulc" {
			continue
		}
		inner := neg.in[0]
		switch {
		case pos.op == "relu" && inner.op == "sub" && inner.in[0] == pos.in[0] && inner.in[1].op == "abs" && inner.in[1].in[0] == pos.in[0]:
			s := make([]float32, len(neg.c.Data))
			for i, k := range neg.c.Data {
				s[i] = 2 * k
			}
			return pos.in[0], s
		case inner.op == "sub" && inner.in[0] == pos && inner.in[1].op == "abs" && inner.in[1].in[0] == pos:
			// y + (y - |y|)*k: slope 1+2k (TF.js fused a ReLU into y's conv
			// while y also fed this PReLU form; then it is y itself)
			if pos.op == "relu" {
				return pos, nil
			}
			s := make([]float32, len(neg.c.Data))
			for i, k := range neg.c.Data {
				s[i] = 1 + 2*k
			}
			return pos, s
		case pos.op == "maxc" && allZero(pos.c.Data) && inner.op == "minc" && allZero(inner.c.Data) && inner.in[0] == pos.in[0]:
			return pos.in[0], neg.c.Data
		}
	}
	return nil, nil
}

func allZero(d []float32) bool {
	for _, v := range d {
		if v != 0 {
			return false
		}
	}
	return true
}

func uniform(d []float32) (float32, bool) {
	for _, v := range d {
		if v != d[0] {
			return 0, false
		}
	}
	return d[0], len(d) > 0
}

// matchL2 recognises x * rsqrt(max(sum(square(x)), eps)).
func matchL2(v *value) *value {
	if v.op != "mul" {
		return nil
	}
	for _, p := range [][2]*value{{v.in[0], v.in[1]}, {v.in[1], v.in[0]}} {
		x, r := p[0], p[1]
		if r.op == "rsqrt" && r.in[0].op == "maxc" && r.in[0].in[0].op == "sum" && r.in[0].in[0].in[0].op == "square" && r.in[0].in[0].in[0].in[0] == x {
			return x
		}
	}
	return nil
}

func (c *converter) emit(v *value) (string, error) {
	if v.out != "" {
		return v.out, nil
	}
	out, err := c.emitNew(v)
	if err != nil {
		return "", err
	}
	v.out = out
	return out, nil
}

func (c *converter) emitNew(v *value) (string, error) {
	in := func(i int) (string, error) { return c.emit(v.in[i]) }
	switch v.op {
	case "const":
		return "", fmt.Errorf("%w: constant %q used as a tensor", ErrUnsupported, v.name)
	case "conv":
		x, err := in(0)
		if err != nil {
			return "", err
		}
		w := c.b.Init(v.name+"/W", v.wshape[:], v.w)
		b := c.b.Init(v.name+"/B", []int{len(v.b)}, v.b)
		return c.b.Node("Conv", v.name, []string{x, w, b},
			onnx.Ints("dilations", 1, 1),
			onnx.Attr{Name: "group", Type: onnx.AttrInt, I: int64(v.group)},
			onnx.Ints("kernel_shape", v.wshape[2], v.wshape[3]),
			onnx.Ints("pads", v.pads[0], v.pads[1], v.pads[2], v.pads[3]),
			onnx.Ints("strides", v.stride, v.stride)), nil
	case "gemm":
		x, err := in(0)
		if err != nil {
			return "", err
		}
		m := len(v.b)
		w := c.b.Init(v.name+"/W", []int{m, len(v.w) / m}, v.w)
		b := c.b.Init(v.name+"/B", []int{m}, v.b)
		return c.b.Node("Gemm", v.name, []string{x, w, b},
			onnx.Attr{Name: "transB", Type: onnx.AttrInt, I: 1}), nil
	case "pad":
		x, err := in(0)
		if err != nil {
			return "", err
		}
		return c.b.Node("Pad", v.name, []string{x}, onnx.Ints("pads", 0, 0, v.pads[0], v.pads[1], 0, 0, v.pads[2], v.pads[3])), nil
	case "relu", "sigmoid", "abs":
		x, err := in(0)
		if err != nil {
			return "", err
		}
		return c.b.Node(map[string]string{"relu": "Relu", "sigmoid": "Sigmoid", "abs": "Abs"}[v.op], v.name, []string{x}), nil
	case "maxpool":
		x, err := in(0)
		if err != nil {
			return "", err
		}
		return c.b.Node("MaxPool", v.name, []string{x},
			onnx.Ints("kernel_shape", v.kernel, v.kernel),
			onnx.Ints("pads", v.pads[0], v.pads[1], v.pads[2], v.pads[3]),
			onnx.Ints("strides", v.stride, v.stride)), nil
	case "softmax":
		x, err := in(0)
		if err != nil {
			return "", err
		}
		return c.b.Node("Softmax", v.name, []string{x}, onnx.Attr{Name: "axis", Type: onnx.AttrInt, I: 1}), nil
	case "prelu":
		x, err := in(0)
		if err != nil {
			return "", err
		}
		s := c.b.Init(v.name+"/slope", []int{len(v.c.Data), 1, 1}, v.c.Data)
		return c.b.Node("PRelu", v.name, []string{x, s}), nil
	case "clip":
		x, err := in(0)
		if err != nil {
			return "", err
		}
		return c.b.Clip(v.name, x, v.lo, v.hi), nil
	case "gap":
		x, err := in(0)
		if err != nil {
			return "", err
		}
		p := c.b.Node("GlobalAveragePool", v.name+"/pool", []string{x})
		return c.b.Node("Flatten", v.name, []string{p}, onnx.Attr{Name: "axis", Type: onnx.AttrInt, I: 1}), nil
	case "flatten":
		x, err := in(0)
		if err != nil {
			return "", err
		}
		return c.b.Node("Flatten", v.name, []string{x}, onnx.Attr{Name: "axis", Type: onnx.AttrInt, I: 1}), nil
	case "add":
		if x, slope := matchPReLU(v.in[0], v.in[1]); x != nil {
			xs, err := c.emit(x)
			if err != nil || slope == nil {
				return xs, err
			}
			s := c.b.Init(v.name+"/slope", []int{len(slope), 1, 1}, slope)
			return c.b.Node("PRelu", v.name, []string{xs, s}), nil
		}
		a, err := in(0)
		if err != nil {
			return "", err
		}
		b, err := in(1)
		if err != nil {
			return "", err
		}
		return c.b.Node("Add", v.name, []string{a, b}), nil
	case "mul":
		if x := matchL2(v); x != nil {
			xs, err := c.emit(x)
			if err != nil || !c.opts.KeepL2 {
				return xs, err
			}
			return c.b.Node("LpNormalization", v.name, []string{xs},
				onnx.Attr{Name: "axis", Type: onnx.AttrInt, I: 1}, onnx.Attr{Name: "p", Type: onnx.AttrInt, I: 2}), nil
		}
	case "maxc":
		// max(min(relu(x), hi), 0) or max(min(x, hi), 0): Clip(x, 0, hi)
		inner := v.in[0]
		if lo, ok := uniform(v.c.Data); ok && lo == 0 && inner.op == "minc" {
			if hi, ok := uniform(inner.c.Data); ok && hi > 0 {
				x := inner.in[0]
				if x.op == "relu" {
					x = x.in[0]
				}
				xs, err := c.emit(x)
				if err != nil {
					return "", err
				}
				return c.b.Clip(v.name, xs, 0, hi), nil
			}
		}
	case "addc", "subc", "mulc":
		x, err := in(0)
		if err != nil {
			return "", err
		}
		k := v.c.Data
		op := "Add"
		if v.op == "mulc" {
			op = "Mul"
		}
		if v.op == "subc" {
			neg := make([]float32, len(k))
			for i := range k {
				neg[i] = -k[i]
			}
			k = neg
		}
		var kn string
		if u, ok := uniform(k); ok {
			kn = c.b.Init(v.name+"/k", []int{1}, []float32{u})
		} else {
			kn = c.b.Init(v.name+"/k", chanShape(v.shape, len(k)), k)
		}
		return c.b.Node(op, v.name, []string{x, kn}), nil
	}
	return "", fmt.Errorf("%w: no ONNX form for %s node %q", ErrUnsupported, v.op, v.name)
}
