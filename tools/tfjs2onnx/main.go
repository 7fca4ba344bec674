// Command tfjs2onnx converts a TF.js graph model (model.json plus weight
// shards, float32 or quantized uint8/uint16/float16) into an ONNX model
// (opset 10) that OpenCV 4.6's dnn ONNX importer loads.
//
// Usage:
//
//	tfjs2onnx -model dir/model.json -output NODE [-keep-l2] [-doc TEXT] -o out.onnx
//
// Fused TF ops are unfused (_FusedConv2D → Conv [+Relu/PRelu/Clip]), batch-norm
// Mul/Add pairs are folded into the preceding Conv or Gemm, PReLU written as
// relu(x)+(x-|x|)·k or max(x,0)+g·min(x,0) becomes PRelu, ReLU6 becomes Clip,
// and TF's NHWC weights are transposed for an NCHW input named "input". A
// trailing L2 normalization is dropped unless -keep-l2 is given. The same
// input gives the same output bytes.
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
)

func main() {
	model := flag.String("model", "", "TF.js model.json")
	output := flag.String("output", "", "TF node to export as the ONNX output")
	keepL2 := flag.Bool("keep-l2", false, "keep a trailing L2 normalization")
	doc := flag.String("doc", "", "doc string stored in the ONNX graph")
	out := flag.String("o", "", "ONNX file to write")
	flag.Parse()
	if *model == "" || *output == "" || *out == "" {
		flag.Usage()
		os.Exit(2)
	}
	b, err := ConvertFile(*model, Options{Output: *output, KeepL2: *keepL2, Doc: *doc})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	tmp := *out + ".tmp"
	if err := os.WriteFile(tmp, b, 0o644); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	if err := os.Rename(tmp, *out); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

// ConvertFile reads a model.json and its shards (paths relative to it) and
// converts them.
func ConvertFile(path string, opts Options) ([]byte, error) {
	mj, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	g, specs, err := ParseModelJSON(mj)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	var data []byte
	for _, s := range g.Shards {
		if filepath.IsAbs(s) || s != filepath.Clean(s) || filepath.Base(s) != s {
			return nil, fmt.Errorf("%s: %w: shard path %q", path, ErrFormat, s)
		}
		b, err := os.ReadFile(filepath.Join(filepath.Dir(path), s))
		if err != nil {
			return nil, err
		}
		data = append(data, b...)
	}
	if err := g.DecodeWeights(specs, data); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return Convert(g, opts)
}
