package gallery_test

import (
	"errors"
	"fmt"
	"log"

	"github.com/facegate/facegate/facematch"
	"github.com/facegate/facegate/facematch/gallery"
	"github.com/facegate/facegate/template"
)

// A toy 4-d model; real descriptors come from an Extractor.
var toy = facematch.Model{ID: "toy-v1", Dim: 4, Metric: facematch.Euclidean, Threshold: 0.5}

// protect protects a toy descriptor as a gate does before anything reaches
// the gallery: with the deployment's transform (the store keeps its secret).
func protect(descriptor []float32) template.Protected {
	tr, err := template.NewTransform([]byte("a 32-byte per-deployment secret!"), toy.ID, toy.Dim)
	if err != nil {
		log.Fatal(err)
	}
	p, err := tr.Apply(descriptor)
	if err != nil {
		log.Fatal(err)
	}
	return p
}

func ExampleGallery_Identify() {
	g, err := gallery.New(toy, nil)
	if err != nil {
		log.Fatal(err)
	}
	// Two residents; Bob enrolled twice (the closest template counts).
	g.Add("alice", protect([]float32{1, 0, 0, 0}))
	g.Add("bob", protect([]float32{0, 1, 0, 0}))
	g.Add("bob", protect([]float32{0, 0.9, 0.1, 0}))

	for _, probe := range [][]float32{{0, 0.95, 0.05, 0}, {0, 0, 0, 1}} {
		matches, err := g.Identify(protect(probe), 3)
		if err != nil {
			log.Fatal(err)
		}
		if len(matches) == 0 {
			fmt.Println("unknown: use another way in")
			continue
		}
		fmt.Printf("%s at %.3f\n", matches[0].ID, matches[0].Distance)
	}
	// Output:
	// bob at 0.071
	// unknown: use another way in
}

func ExampleGallery_Verify() {
	g, _ := gallery.New(toy, nil)
	g.Add("alice", protect([]float32{1, 0, 0, 0}))

	dist, ok, err := g.Verify("alice", protect([]float32{0.9, 0.1, 0, 0}))
	fmt.Printf("%.3f %v %v\n", dist, ok, err)

	_, _, err = g.Verify("carol", protect([]float32{0.9, 0.1, 0, 0}))
	fmt.Println(errors.Is(err, facematch.ErrUnknownID))

	otherNet, _ := template.NewTransform([]byte("a 32-byte per-deployment secret!"), "other-net", 4)
	otherProbe, _ := otherNet.Apply([]float32{0.9, 0.1, 0, 0})
	_, _, err = g.Verify("alice", otherProbe)
	fmt.Println(errors.Is(err, facematch.ErrModelMismatch))
	// Output:
	// 0.141 true <nil>
	// true
	// true
}

func ExampleGallery_Remove() {
	g, _ := gallery.New(toy, &gallery.Config{Precision: gallery.Int8})
	g.Add("alice", protect([]float32{0.4, 0, 0, 0}))
	g.Add("alice", protect([]float32{0.3, 0.1, 0, 0}))
	g.Add("bob", protect([]float32{0, 0.4, 0, 0}))
	fmt.Println(g.Len(), g.Subjects())

	// Consent withdrawn: every template of Alice goes at once.
	if err := g.Remove("alice"); err != nil {
		log.Fatal(err)
	}
	fmt.Println(g.Len(), g.Subjects(), g.Templates("alice"))
	matches, _ := g.Identify(protect([]float32{0.4, 0, 0, 0}), 1)
	fmt.Println(len(matches))
	// Output:
	// 3 2
	// 1 1 0
	// 0
}

// An Int8 gallery keeps a quarter of the memory of a Float32 one. Given
// the original templates (here a map; in a gate, gate.Gate.Originals reads
// them back from the encrypted store), it shortlists with its int8 rows
// and decides on the originals, as a Float32 gallery would.
func ExampleNew_int8() {
	originals := map[string][]float32{
		"alice": {0.31, 0.02, 0.004, 0.1},
		"bob":   {0.02, 0.33, 0.1, 0.004},
	}
	g, err := gallery.New(toy, &gallery.Config{
		Precision: gallery.Int8,
		Originals: func(id string) ([]template.Protected, error) {
			v, ok := originals[id]
			if !ok {
				return nil, facematch.ErrUnknownID
			}
			return []template.Protected{protect(v)}, nil
		},
	})
	if err != nil {
		log.Fatal(err)
	}
	for id, v := range originals {
		g.Add(id, protect(v))
	}
	probe := protect([]float32{0.3, 0.01, 0.01, 0.1})
	m, err := g.Identify(probe, 1)
	if err != nil {
		log.Fatal(err)
	}
	f, _ := toy.Distance(probe.Vector(), protect(originals["alice"]).Vector())
	fmt.Printf("%s at %.6f (float32: %.6f)\n", m[0].ID, m[0].Distance, f)
	// Output: alice at 0.015362 (float32: 0.015362)
}
