package facematch_test

import (
	"errors"
	"fmt"
	"log"

	"github.com/facegate/facegate/facematch"
)

func ExampleCalibrate() {
	genuine := []float32{0.21, 0.25, 0.30, 0.34, 0.38, 0.41, 0.47, 0.52}
	impostor := []float32{0.45, 0.55, 0.58, 0.61, 0.63, 0.66, 0.70, 0.72, 0.75, 0.80}
	c, err := facematch.Calibrate(genuine, impostor, 0.10)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(c)
	// Output:
	// threshold 0.5500: FAR 10.000% (1/10), TAR 100.00% (8/8)
}

func ExampleModel_Distance() {
	model := facematch.Model{ID: "toy-v1", Dim: 4, Metric: facematch.Euclidean, Threshold: 0.5}
	d, err := model.Distance([]float32{1, 0, 0, 0}, []float32{0, 1, 0, 0})
	fmt.Printf("%.4f %v\n", d, err)
	_, err = model.Distance([]float32{1, 0, 0}, []float32{0, 1, 0, 0})
	fmt.Println(errors.Is(err, facematch.ErrDimension))
	fmt.Printf("%.1f\n", facematch.CosineDistance([]float32{1, 0}, []float32{0, 2}))
	// Output:
	// 1.4142 <nil>
	// true
	// 1.0
}
