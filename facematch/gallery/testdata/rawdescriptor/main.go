// Command rawdescriptor must not compile: it passes raw descriptors where
// protected vectors belong. TestRawDescriptorDoesNotCompile builds it and
// expects one type error per line marked "want".
package main

import (
	"github.com/facegate/facegate/facematch"
	"github.com/facegate/facegate/facematch/gallery"
	"github.com/facegate/facegate/template"
)

func main() {
	m := facematch.Model{ID: "m", Dim: 2, Metric: facematch.Euclidean, Threshold: 0.5}
	g, _ := gallery.New(m, nil)
	face := facematch.Face{Descriptor: []float32{0.6, 0.8}}
	_ = g.Add("alice", face.Descriptor)                                                  // want
	_, _ = g.Identify(face.Descriptor, 1)                                                // want
	_, _, _ = g.Verify("alice", []float32{0.6, 0.8})                                     // want
	_ = template.Template{Protected: face.Descriptor}                                    // want
	_ = gallery.Config{Originals: func(string) ([][]float32, error) { return nil, nil }} // want
}
