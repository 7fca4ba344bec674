// Command bad is a fixture of examples/boundary_test.go: an example that
// does face processing itself. It is never built (testdata).
package main

import (
	"gocv.io/x/gocv"

	"github.com/facegate/facegate/facematch/capture"
	"github.com/facegate/facegate/facematch/dlib"
	"github.com/facegate/facegate/facematch/quality"
)

func main() {
	src, _ := capture.OpenDir("frames")
	f, _ := src.Next()
	_ = gocv.NewMat()
	d, _ := dlib.Open("models", dlib.Config{})
	faces, _ := d.Extract(nil)
	_, _, _ = quality.EyeAspectRatio(faces[0].Landmarks)
	_, _ = capture.Measure(f.Mat, faces)
	_ = quality.Verification
}
