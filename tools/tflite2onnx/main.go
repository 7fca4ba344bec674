// Command tflite2onnx converts a float TensorFlow Lite model (float32 or
// float16 weights) into an ONNX model (opset 10) that OpenCV 4.6's dnn ONNX
// importer loads.
//
// Usage:
//
//	tflite2onnx [-doc TEXT] -o out.onnx model.tflite
//
// The ONNX model has one NCHW float input named "input" with batch 1 (the
// TFLite input is NHWC; its batch size is ignored) and the TFLite model's
// outputs, under their TFLite names. TFLite's NHWC weights are transposed,
// SAME padding becomes explicit pads, fused activations become nodes, PReLU
// written as relu(x) + k·(x − |x|) becomes PRelu with slope 2k, float16
// constants behind DEQUANTIZE are widened exactly, and GREATER_EQUAL/LESS
// against a constant followed by CAST become exact Floor/Clip arithmetic
// (OpenCV 4.6 has no comparison ops). The same input gives the same output
// bytes.
//
// It is a sibling of tools/tfjs2onnx rather than a front end of it: the two
// share only the ONNX writer (internal/onnx); TF.js graphs are TF node DAGs
// matched by name and pattern, TFLite graphs are ordered operator lists over
// typed tensors read from a flatbuffer (internal/tflite).
package main

import (
	"flag"
	"fmt"
	"os"
)

func main() {
	doc := flag.String("doc", "", "doc string stored in the ONNX graph")
	out := flag.String("o", "", "ONNX file to write")
	flag.Parse()
	if *out == "" || flag.NArg() != 1 {
		fmt.Fprintln(os.Stderr, "usage: tflite2onnx [-doc TEXT] -o out.onnx model.tflite")
		os.Exit(2)
	}
	in := flag.Arg(0)
	data, err := os.ReadFile(in)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	b, err := Convert(data, Options{Doc: *doc})
	if err != nil {
		fmt.Fprintf(os.Stderr, "%s: %v\n", in, err)
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
