package arcface_test

import (
	"fmt"
	"log"
	"os"

	"github.com/facegate/facegate/facematch"
	"github.com/facegate/facegate/facematch/arcface"
	"github.com/facegate/facegate/facematch/dlib"
)

// ExampleOpen embeds the face of two photos with the faceres network,
// using dlib's detector and landmarks, and compares them.
func ExampleOpen() {
	dir := "models" // built by `make setup`
	lm, err := dlib.Open(dir, dlib.Config{Workers: 1})
	if err != nil {
		log.Fatal(err)
	}
	defer lm.Close()
	ext, err := arcface.Open(dir, arcface.FaceRes, lm, arcface.Config{})
	if err != nil {
		log.Fatal(err)
	}
	defer ext.Close()
	var desc [2][]float32
	for i, name := range []string{"a.jpg", "b.jpg"} {
		data, err := os.ReadFile(name)
		if err != nil {
			log.Fatal(err)
		}
		faces, err := ext.Extract(data)
		if err != nil {
			log.Fatal(err)
		}
		f, err := facematch.One(faces)
		if err != nil {
			log.Fatal(err)
		}
		desc[i] = f.Descriptor
	}
	m := ext.Model()
	d, err := m.Distance(desc[0], desc[1])
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%s: distance %.3f, same person: %v\n", m.ID, d, d <= m.Threshold)
}
