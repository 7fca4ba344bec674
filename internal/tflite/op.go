package tflite

import "fmt"

// Op is a TFLite BuiltinOperator code.
type Op int32

// The builtin operators FaceGate's converter and reference interpreter know.
const (
	Add            Op = 0
	AveragePool2D  Op = 1
	Concatenation  Op = 2
	Conv2D         Op = 3
	DepthwiseConv  Op = 4
	Dequantize     Op = 6
	FullyConnected Op = 9
	L2Norm         Op = 11
	Logistic       Op = 14
	MaxPool2D      Op = 17
	Mul            Op = 18
	Relu           Op = 19
	Relu6          Op = 21
	Reshape        Op = 22
	Softmax        Op = 25
	Pad            Op = 34
	Mean           Op = 40
	Sub            Op = 41
	Squeeze        Op = 43
	StridedSlice   Op = 45
	Cast           Op = 53
	PRelu          Op = 54
	Less           Op = 58
	GreaterEqual   Op = 62
	LeakyRelu      Op = 98
	Abs            Op = 101
)

var opNames = map[Op]string{
	Add: "ADD", AveragePool2D: "AVERAGE_POOL_2D", Concatenation: "CONCATENATION",
	Conv2D: "CONV_2D", DepthwiseConv: "DEPTHWISE_CONV_2D", Dequantize: "DEQUANTIZE",
	FullyConnected: "FULLY_CONNECTED", L2Norm: "L2_NORMALIZATION", Logistic: "LOGISTIC",
	MaxPool2D: "MAX_POOL_2D", Mul: "MUL", Relu: "RELU", Relu6: "RELU6", Reshape: "RESHAPE",
	Softmax: "SOFTMAX", Pad: "PAD", Mean: "MEAN", Sub: "SUB", Squeeze: "SQUEEZE",
	StridedSlice: "STRIDED_SLICE", Cast: "CAST", PRelu: "PRELU", Less: "LESS",
	GreaterEqual: "GREATER_EQUAL", LeakyRelu: "LEAKY_RELU", Abs: "ABS",
}

func (o Op) String() string {
	if s, ok := opNames[o]; ok {
		return s
	}
	return fmt.Sprintf("builtin op %d", int32(o))
}

// Padding is a convolution or pooling padding scheme.
type Padding uint8

// TFLite's two padding schemes. SAME pads (total − total/2 after, total/2
// before) so that the output has ceil(in/stride) positions; VALID does not
// pad.
const (
	Same  Padding = 0
	Valid Padding = 1
)

// Activation is a fused activation function.
type Activation uint8

// The fused activations.
const (
	NoActivation Activation = 0
	ActRelu      Activation = 1
	ActReluN1To1 Activation = 2
	ActRelu6     Activation = 3
	ActTanh      Activation = 4
)

// Options holds the builtin options of the operators listed above; fields an
// op does not have keep their zero value. Defaults are the schema's.
type Options struct {
	Padding          Padding
	StrideW, StrideH int
	DilationW        int
	DilationH        int
	DepthMultiplier  int
	FilterW, FilterH int
	Activation       Activation
	// Axis is CONCATENATION's axis.
	Axis int
	// NewShape is RESHAPE's new_shape option (the shape input, when present,
	// takes precedence).
	NewShape []int
	// KeepDims is MEAN's (and FULLY_CONNECTED's keep_num_dims).
	KeepDims bool
	// Alpha is LEAKY_RELU's slope.
	Alpha float32
	// Beta is SOFTMAX's.
	Beta float32
	// BeginMask, EndMask, EllipsisMask, NewAxisMask and ShrinkAxisMask are
	// STRIDED_SLICE's.
	BeginMask, EndMask, EllipsisMask, NewAxisMask, ShrinkAxisMask int
	// SqueezeDims is SQUEEZE's.
	SqueezeDims []int
}

func toInts(v []int32) []int {
	if len(v) == 0 {
		return nil
	}
	out := make([]int, len(v))
	for i, x := range v {
		out[i] = int(x)
	}
	return out
}

// options decodes the options table t of an operator with code op.
func (f *fb) options(op Op, t table) Options {
	i32 := func(i int, def int32) int { return int(f.scalar32(t, i, def)) }
	act := func(i int) Activation { return Activation(f.scalar8(t, i, 0)) }
	var o Options
	switch op {
	case Conv2D:
		o.Padding = Padding(f.scalar8(t, 0, 0))
		o.StrideW, o.StrideH = i32(1, 0), i32(2, 0)
		o.Activation = act(3)
		o.DilationW, o.DilationH = i32(4, 1), i32(5, 1)
	case DepthwiseConv:
		o.Padding = Padding(f.scalar8(t, 0, 0))
		o.StrideW, o.StrideH = i32(1, 0), i32(2, 0)
		o.DepthMultiplier = i32(3, 0)
		o.Activation = act(4)
		o.DilationW, o.DilationH = i32(5, 1), i32(6, 1)
	case AveragePool2D, MaxPool2D:
		o.Padding = Padding(f.scalar8(t, 0, 0))
		o.StrideW, o.StrideH = i32(1, 0), i32(2, 0)
		o.FilterW, o.FilterH = i32(3, 0), i32(4, 0)
		o.Activation = act(5)
	case FullyConnected:
		o.Activation = act(0)
		o.KeepDims = f.scalar8(t, 2, 0) != 0
	case Add, Mul, Sub, L2Norm:
		o.Activation = act(0)
	case Concatenation:
		o.Axis = i32(0, 0)
		o.Activation = act(1)
	case Reshape:
		o.NewShape = toInts(f.int32s(t, 0))
	case Mean:
		o.KeepDims = f.scalar8(t, 0, 0) != 0
	case LeakyRelu:
		o.Alpha = f.float32Field(t, 0, 0)
	case Softmax:
		o.Beta = f.float32Field(t, 0, 0)
	case StridedSlice:
		o.BeginMask, o.EndMask, o.EllipsisMask = i32(0, 0), i32(1, 0), i32(2, 0)
		o.NewAxisMask, o.ShrinkAxisMask = i32(3, 0), i32(4, 0)
	case Squeeze:
		o.SqueezeDims = toInts(f.int32s(t, 0))
	}
	return o
}
