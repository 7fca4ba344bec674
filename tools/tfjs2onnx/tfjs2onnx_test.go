package main

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"math"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/facegate/facegate/internal/onnx/onnxtest"
)

func TestHalf(t *testing.T) {
	tests := []struct {
		h    uint16
		want float32
	}{
		{0x0000, 0},
		{0x3c00, 1},
		{0xbc00, -1},
		{0x3800, 0.5},
		{0x7bff, 65504},
		{0x0001, 5.9604645e-08}, // smallest subnormal
		{0x0200, 3.0517578e-05}, // subnormal
		{0x3555, 0.33325195},
		{0x7c00, float32(math.Inf(1))},
		{0xfc00, float32(math.Inf(-1))},
	}
	for _, tt := range tests {
		if got := half(tt.h); got != tt.want {
			t.Errorf("half(%#04x) = %g, want %g", tt.h, got, tt.want)
		}
	}
	if !math.IsNaN(float64(half(0x7e00))) {
		t.Error("half(0x7e00) is not NaN")
	}
	if got := half(0x8000); got != 0 || !math.Signbit(float64(got)) {
		t.Errorf("half(0x8000) = %g, want -0", got)
	}
}

func le32(v ...float32) []byte {
	var b []byte
	for _, f := range v {
		b = binary.LittleEndian.AppendUint32(b, math.Float32bits(f))
	}
	return b
}

func TestDecodeWeights(t *testing.T) {
	q := func(dtype string, scale, min float64) *struct {
		Dtype string  `json:"dtype"`
		Scale float64 `json:"scale"`
		Min   float64 `json:"min"`
	} {
		return &struct {
			Dtype string  `json:"dtype"`
			Scale float64 `json:"scale"`
			Min   float64 `json:"min"`
		}{dtype, scale, min}
	}
	tests := []struct {
		name string
		spec weightSpec
		data []byte
		want []float32
		err  error
	}{
		{"float32", weightSpec{Name: "w", Shape: []int{2}, Dtype: "float32"}, le32(1.5, -2), []float32{1.5, -2}, nil},
		{"int32", weightSpec{Name: "w", Shape: []int{2}, Dtype: "int32"}, binary.LittleEndian.AppendUint32(binary.LittleEndian.AppendUint32(nil, 7), 0xffffffff), []float32{7, -1}, nil},
		{"uint8", weightSpec{Name: "w", Shape: []int{3}, Dtype: "float32", Quantization: q("uint8", 0.5, -1)}, []byte{0, 2, 255}, []float32{-1, 0, 126.5}, nil},
		{"uint16", weightSpec{Name: "w", Shape: []int{1}, Dtype: "float32", Quantization: q("uint16", 0.25, 1)}, []byte{4, 0}, []float32{2}, nil},
		{"float16", weightSpec{Name: "w", Shape: []int{2}, Dtype: "float32", Quantization: q("float16", 0, 0)}, []byte{0x00, 0x3c, 0x00, 0xc0}, []float32{1, -2}, nil},
		{"scalar", weightSpec{Name: "w", Shape: []int{}, Dtype: "float32"}, le32(3), []float32{3}, nil},
		{"short", weightSpec{Name: "w", Shape: []int{2}, Dtype: "float32"}, le32(1), nil, ErrFormat},
		{"trailing", weightSpec{Name: "w", Shape: []int{1}, Dtype: "float32"}, le32(1, 2), nil, ErrFormat},
		{"negative dim", weightSpec{Name: "w", Shape: []int{-1}, Dtype: "float32"}, nil, nil, ErrFormat},
		{"huge", weightSpec{Name: "w", Shape: []int{1 << 20, 1 << 20}, Dtype: "float32"}, nil, nil, ErrFormat},
		{"string", weightSpec{Name: "w", Shape: []int{1}, Dtype: "string"}, []byte{0, 0, 0, 0}, nil, ErrUnsupported},
		{"int8 quantization", weightSpec{Name: "w", Shape: []int{1}, Dtype: "float32", Quantization: q("int8", 1, 0)}, []byte{1}, nil, ErrUnsupported},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := &Graph{Weights: map[string]Tensor{}}
			err := g.DecodeWeights([]weightSpec{tt.spec}, tt.data)
			if !errors.Is(err, tt.err) {
				t.Fatalf("err = %v, want %v", err, tt.err)
			}
			if err == nil && !slices.Equal(g.Weights["w"].Data, tt.want) {
				t.Errorf("got %v, want %v", g.Weights["w"].Data, tt.want)
			}
		})
	}
}

func TestParseModelJSONErrors(t *testing.T) {
	tests := []struct {
		name, json string
		err        error
	}{
		{"not json", "{", ErrFormat},
		{"layers model", `{"format":"layers-model","modelTopology":{"node":[{"name":"a","op":"Const"}]}}`, ErrUnsupported},
		{"no nodes", `{"format":"graph-model","modelTopology":{"node":[]}}`, ErrFormat},
		{"nameless", `{"format":"graph-model","modelTopology":{"node":[{"op":"Const"}]}}`, ErrFormat},
		{"duplicate", `{"format":"graph-model","modelTopology":{"node":[{"name":"a","op":"Const"},{"name":"a","op":"Const"}]}}`, ErrFormat},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, _, err := ParseModelJSON([]byte(tt.json)); !errors.Is(err, tt.err) {
				t.Errorf("err = %v, want %v", err, tt.err)
			}
		})
	}
}

// tinyModel builds a TF.js graph model: NHWC input 1×8×8×3 →
// _FusedConv2D 3×3/2 SAME (BiasAdd) to 4 channels → Mul/Add per channel
// (a batch norm, folded into the conv) → PReLU in relu(x)+(x−|x|)·k form →
// Mean over H,W (op) → MatMul [4,2] → L2 normalization.
func tinyModel(op string) (model []byte, shard []byte) {
	s := func(v string) map[string]string {
		return map[string]string{"s": base64.StdEncoding.EncodeToString([]byte(v))}
	}
	list := func(v ...string) map[string]any {
		out := []string{}
		for _, x := range v {
			out = append(out, base64.StdEncoding.EncodeToString([]byte(x)))
		}
		return map[string]any{"list": map[string]any{"s": out}}
	}
	ints := func(v ...string) map[string]any { return map[string]any{"list": map[string]any{"i": v}} }
	type node struct {
		Name  string         `json:"name"`
		Op    string         `json:"op"`
		Input []string       `json:"input,omitempty"`
		Attr  map[string]any `json:"attr,omitempty"`
	}
	var weights []map[string]any
	add := func(name string, shape []int, vals []float32) node {
		weights = append(weights, map[string]any{"name": name, "shape": shape, "dtype": "float32"})
		shard = append(shard, le32(vals...)...)
		return node{Name: name, Op: "Const"}
	}
	seq := func(n int, f func(i int) float32) []float32 {
		v := make([]float32, n)
		for i := range v {
			v[i] = f(i)
		}
		return v
	}
	nodes := []node{
		{Name: "x", Op: "Placeholder", Attr: map[string]any{"shape": map[string]any{"shape": map[string]any{"dim": []map[string]string{{"size": "-1"}, {"size": "8"}, {"size": "8"}, {"size": "3"}}}}}},
		add("w", []int{3, 3, 3, 4}, seq(108, func(i int) float32 { return float32(i%7) - 3 })),
		add("b", []int{4}, []float32{0.1, -0.2, 0.3, 0}),
		{Name: "conv", Op: "_FusedConv2D", Input: []string{"x", "w", "b"}, Attr: map[string]any{
			"strides": ints("1", "2", "2", "1"), "padding": s("SAME"), "data_format": s("NHWC"),
			"fused_ops": list("BiasAdd")}},
		add("m", []int{1, 1, 1, 4}, []float32{1, 2, 3, 4}),
		{Name: "bnmul", Op: "Mul", Input: []string{"conv", "m"}},
		add("a", []int{4}, []float32{1, 1, 1, 1}),
		{Name: "bnadd", Op: "AddV2", Input: []string{"bnmul", "a"}},
		{Name: "relu", Op: "Relu", Input: []string{"bnadd"}},
		{Name: "abs", Op: "Abs", Input: []string{"bnadd"}},
		{Name: "sub", Op: "Sub", Input: []string{"bnadd", "abs"}},
		add("k", []int{4}, []float32{0.1, 0.2, 0.3, 0.4}),
		{Name: "mulk", Op: "Mul", Input: []string{"sub", "k"}},
		{Name: "prelu", Op: "Add", Input: []string{"relu", "mulk"}},
		add("axes", []int{2}, []float32{1, 2}),
		{Name: "mean", Op: op, Input: []string{"prelu", "axes"}},
		add("fc", []int{4, 2}, seq(8, func(i int) float32 { return float32(i) })),
		{Name: "mm", Op: "MatMul", Input: []string{"mean", "fc"}},
		{Name: "sq", Op: "Square", Input: []string{"mm"}},
		add("ax1", []int{1}, []float32{1}),
		{Name: "sum", Op: "Sum", Input: []string{"sq", "ax1"}, Attr: map[string]any{"keep_dims": map[string]bool{"b": true}}},
		add("eps", []int{}, []float32{1e-10}),
		{Name: "max", Op: "Maximum", Input: []string{"sum", "eps"}},
		{Name: "rsqrt", Op: "Rsqrt", Input: []string{"max"}},
		{Name: "out", Op: "Mul", Input: []string{"mm", "rsqrt"}},
	}
	m := map[string]any{
		"format":          "graph-model",
		"modelTopology":   map[string]any{"node": nodes},
		"weightsManifest": []map[string]any{{"paths": []string{"w.bin"}, "weights": weights}},
	}
	model, _ = json.Marshal(m)
	return model, shard
}

func TestConvertTiny(t *testing.T) {
	model, shard := tinyModel("Mean")
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "model.json"), model, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "w.bin"), shard, 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		keepL2 bool
		ops    []string
	}{
		{"drop L2", false, []string{"Conv", "PRelu", "GlobalAveragePool", "Flatten", "Gemm"}},
		{"keep L2", true, []string{"Conv", "PRelu", "GlobalAveragePool", "Flatten", "Gemm", "LpNormalization"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opts := Options{Output: "out", KeepL2: tt.keepL2}
			b, err := ConvertFile(filepath.Join(dir, "model.json"), opts)
			if err != nil {
				t.Fatal(err)
			}
			again, err := ConvertFile(filepath.Join(dir, "model.json"), opts)
			if err != nil || !bytes.Equal(b, again) {
				t.Fatalf("second conversion differs (err %v)", err)
			}
			graphs := onnxtest.Fields(t, b, 7)
			if len(graphs) != 1 {
				t.Fatalf("%d graphs", len(graphs))
			}
			var ops []string
			for _, n := range onnxtest.Fields(t, graphs[0], 1) {
				ops = append(ops, string(onnxtest.Fields(t, n, 4)[0]))
			}
			if !slices.Equal(ops, tt.ops) {
				t.Errorf("ops %v, want %v", ops, tt.ops)
			}
			// the conv's weight is the first initializer: OIHW [4,3,3,3],
			// scaled per output channel by the folded Mul (1,2,3,4)
			w := onnxtest.Fields(t, graphs[0], 5)[0]
			raw := onnxtest.Fields(t, w, 9)[0]
			if len(raw) != 4*108 {
				t.Fatalf("conv weight has %d bytes, want %d", len(raw), 4*108)
			}
			// TF [kh,kw,ci,co] element (y=1,x=2,i=1,o=3) = ((1*3+2)*3+1)*4+3 = 67;
			// value (67%7)-3 = 1, times 4 = 4; ONNX index ((3*3+1)*3+1)*3+2 = 95
			if got := math.Float32frombits(binary.LittleEndian.Uint32(raw[4*95:])); got != 4 {
				t.Errorf("W[3,1,1,2] = %g, want 4", got)
			}
		})
	}
}

func TestConvertUnsupported(t *testing.T) {
	model, shard := tinyModel("Prod")
	g, specs, err := ParseModelJSON(model)
	if err != nil {
		t.Fatal(err)
	}
	if err := g.DecodeWeights(specs, shard); err != nil {
		t.Fatal(err)
	}
	if _, err := Convert(g, Options{Output: "out"}); !errors.Is(err, ErrUnsupported) {
		t.Errorf("err = %v, want ErrUnsupported", err)
	}
	if _, err := Convert(g, Options{Output: "nope"}); !errors.Is(err, ErrFormat) {
		t.Errorf("missing output: err = %v, want ErrFormat", err)
	}
}

func FuzzConvert(f *testing.F) {
	model, shard := tinyModel("Mean")
	f.Add(model, shard)
	f.Add([]byte(`{"format":"graph-model","modelTopology":{"node":[{"name":"out","op":"Relu","input":["out"]}]}}`), []byte{})
	f.Fuzz(func(t *testing.T, model, shard []byte) {
		g, specs, err := ParseModelJSON(model)
		if err != nil {
			if !errors.Is(err, ErrFormat) && !errors.Is(err, ErrUnsupported) {
				t.Fatalf("untyped error %v", err)
			}
			return
		}
		if err := g.DecodeWeights(specs, shard); err != nil {
			if !errors.Is(err, ErrFormat) && !errors.Is(err, ErrUnsupported) {
				t.Fatalf("untyped error %v", err)
			}
			return
		}
		if _, err := Convert(g, Options{Output: "out"}); err != nil && !errors.Is(err, ErrFormat) && !errors.Is(err, ErrUnsupported) {
			t.Fatalf("untyped error %v", err)
		}
	})
}

// poolModel builds a TF.js graph model with the ops of human-models'
// antispoof and liveness networks that the face-recognition ones lack:
// NHWC input 1×5×5×2 → MaxPool 2×2/2 (padding as given) → Reshape (flatten)
// → MatMul → Softmax.
func poolModel(padding string) (model, shard []byte) {
	b64 := func(v string) string { return base64.StdEncoding.EncodeToString([]byte(v)) }
	ints := func(v ...string) map[string]any { return map[string]any{"list": map[string]any{"i": v}} }
	side := "2" // VALID: 5 → 2
	if padding == "SAME" {
		side = "3" // SAME: 5 → 3
	}
	k := map[string]int{"2": 8, "3": 18}[side]
	fc := make([]float32, 2*k)
	for i := range fc {
		fc[i] = float32(i%5) - 2
	}
	shard = append(le32(1, float32(k)), le32(fc...)...)
	nodes := []map[string]any{
		{"name": "x", "op": "Placeholder", "attr": map[string]any{"shape": map[string]any{"shape": map[string]any{"dim": []map[string]string{{"size": "-1"}, {"size": "5"}, {"size": "5"}, {"size": "2"}}}}}},
		{"name": "pool", "op": "MaxPool", "input": []string{"x"}, "attr": map[string]any{
			"ksize": ints("1", "2", "2", "1"), "strides": ints("1", "2", "2", "1"),
			"padding": map[string]string{"s": b64(padding)}, "data_format": map[string]string{"s": b64("NHWC")}}},
		{"name": "shape", "op": "Const"},
		{"name": "flat", "op": "Reshape", "input": []string{"pool", "shape"}},
		{"name": "fc", "op": "Const"},
		{"name": "mm", "op": "MatMul", "input": []string{"flat", "fc"}},
		{"name": "out", "op": "Softmax", "input": []string{"mm"}},
	}
	weights := []map[string]any{
		{"name": "shape", "shape": []int{2}, "dtype": "float32"},
		{"name": "fc", "shape": []int{k, 2}, "dtype": "float32"},
	}
	model, _ = json.Marshal(map[string]any{
		"format":          "graph-model",
		"modelTopology":   map[string]any{"node": nodes},
		"weightsManifest": []map[string]any{{"paths": []string{"w.bin"}, "weights": weights}},
	})
	return model, shard
}

// TestConvertPool checks MaxPool (VALID and SAME: the window, stride and
// TF's SAME padding, bottom/right first) and Softmax over the features.
func TestConvertPool(t *testing.T) {
	for _, tt := range []struct {
		padding string
		pads    []int64
	}{{"VALID", []int64{0, 0, 0, 0}}, {"SAME", []int64{0, 0, 1, 1}}} {
		t.Run(tt.padding, func(t *testing.T) {
			model, shard := poolModel(tt.padding)
			g, specs, err := ParseModelJSON(model)
			if err != nil {
				t.Fatal(err)
			}
			if err := g.DecodeWeights(specs, shard); err != nil {
				t.Fatal(err)
			}
			b, err := Convert(g, Options{Output: "out"})
			if err != nil {
				t.Fatal(err)
			}
			graphs := onnxtest.Fields(t, b, 7)
			var ops []string
			var pool [][]byte
			for _, n := range onnxtest.Fields(t, graphs[0], 1) {
				op := string(onnxtest.Fields(t, n, 4)[0])
				ops = append(ops, op)
				if op == "MaxPool" {
					pool = onnxtest.Fields(t, n, 5)
				}
			}
			if want := []string{"MaxPool", "Flatten", "Gemm", "Softmax"}; !slices.Equal(ops, want) {
				t.Fatalf("ops %v, want %v", ops, want)
			}
			attrs := map[string][]int64{}
			for _, a := range pool {
				name := string(onnxtest.Fields(t, a, 1)[0])
				attrs[name] = varints(t, a, 8)
			}
			if !slices.Equal(attrs["kernel_shape"], []int64{2, 2}) || !slices.Equal(attrs["strides"], []int64{2, 2}) || !slices.Equal(attrs["pads"], tt.pads) {
				t.Errorf("MaxPool attributes %v, want kernel 2×2, strides 2, pads %v", attrs, tt.pads)
			}
		})
	}
	model, shard := poolModel("EXPLICIT")
	g, specs, err := ParseModelJSON(model)
	if err != nil {
		t.Fatal(err)
	}
	if err := g.DecodeWeights(specs, shard); err != nil {
		t.Fatal(err)
	}
	if _, err := Convert(g, Options{Output: "out"}); !errors.Is(err, ErrUnsupported) {
		t.Errorf("EXPLICIT padding: err = %v, want ErrUnsupported", err)
	}
}

// varints returns the varint (unpacked repeated int64) values of field f
// in one level of protobuf b, as internal/onnx writes an INTS attribute.
func varints(t *testing.T, b []byte, f int) []int64 {
	t.Helper()
	var out []int64
	for len(b) > 0 {
		key, n := binary.Uvarint(b)
		if n <= 0 {
			t.Fatal("bad varint")
		}
		b = b[n:]
		switch key & 7 {
		case 0:
			v, n := binary.Uvarint(b)
			if n <= 0 {
				t.Fatal("bad varint")
			}
			if int(key>>3) == f {
				out = append(out, int64(v))
			}
			b = b[n:]
		case 2:
			l, n := binary.Uvarint(b)
			if n <= 0 || l > uint64(len(b)-n) {
				t.Fatal("bad length")
			}
			b = b[n+int(l):]
		default:
			t.Fatalf("wire type %d", key&7)
		}
	}
	return out
}
