package report_test

import (
	"fmt"
	"os"

	"github.com/facegate/facegate/bench/metrics"
	"github.com/facegate/facegate/bench/report"
)

func ExampleWrite() {
	gen := []float32{0.2, 0.3, 0.35, 0.5}
	imp := []float32{0.45, 0.7, 0.8, 0.9, 1.0}
	c, _ := metrics.ROC(gen, imp)
	e, _ := c.EqualErrorRate()
	line := report.Line{Name: "all", Genuine: metrics.Summarize(gen), Impostor: metrics.Summarize(imp), Curve: &c, EER: &e}

	dir, err := os.MkdirTemp("", "bench-report")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(dir)
	files, err := report.Write(dir, &report.Report{
		Kind:     "accuracy",
		Machine:  report.ThisMachine(),
		Model:    report.Model{ID: "example", Dim: 128, Metric: "euclidean", Threshold: 0.6},
		Accuracy: &report.Accuracy{Lines: []report.Line{line}},
	})
	if err != nil {
		panic(err)
	}
	fmt.Println(files)
	// Output: [roc.png det.png results.json report.md]
}
