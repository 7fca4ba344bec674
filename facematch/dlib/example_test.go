package dlib_test

import (
	"errors"
	"fmt"
	"log"
	"math"
	"os"

	"github.com/facegate/facegate/facematch"
	"github.com/facegate/facegate/facematch/dlib"
)

// ExampleOpen enrolls one photo and verifies another against it at the
// model's threshold. (It needs the model directory built by `make setup`,
// so it is compiled but not run by `go test`.)
func ExampleOpen() {
	ext, err := dlib.Open("models", dlib.Config{}) // one recognizer per CPU
	if err != nil {
		log.Fatal(err)
	}
	defer ext.Close()

	enrolled, err := os.ReadFile("enroll.jpg")
	if err != nil {
		log.Fatal(err)
	}
	ref, err := ext.ExtractOne(enrolled)
	var multi *facematch.MultipleFacesError
	switch {
	case errors.Is(err, facematch.ErrNoFace):
		log.Fatal("no face in the enrollment photo")
	case errors.As(err, &multi):
		log.Fatalf("%d faces in the enrollment photo, want one", multi.N)
	case errors.Is(err, facematch.ErrDecode):
		log.Fatal("not a JPEG or PNG image")
	case err != nil:
		log.Fatal(err)
	}

	probe, err := os.ReadFile("gate.jpg")
	if err != nil {
		log.Fatal(err)
	}
	faces, err := ext.Extract(probe)
	if err != nil {
		log.Fatal(err)
	}
	m := ext.Model()
	for _, f := range faces {
		var sum float64
		for i := range f.Descriptor {
			d := float64(f.Descriptor[i] - ref.Descriptor[i])
			sum += d * d
		}
		dist := math.Sqrt(sum) // true Euclidean distance, never squared
		fmt.Printf("face at %v: distance %.3f, match %v (model %s)\n", f.Box, dist, dist <= float64(m.Threshold), m.ID)
	}
}
