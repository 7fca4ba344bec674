package template_test

import (
	"fmt"
	"log"
	"time"

	"github.com/facegate/facegate/template"
)

func ExampleTransform_Protect() {
	secret := []byte("a 32-byte per-deployment secret!") // the store keeps a random one
	tr, err := template.NewTransform(secret, "dlib-resnet-v1", 4)
	if err != nil {
		log.Fatal(err)
	}
	enrolled, _ := tr.Protect([]float32{0.1, 0.2, 0.3, 0.4}, 0.9, time.Now())
	probe, _ := tr.Apply([]float32{0.1, 0.2, 0.3, 0.5})
	p, q := probe.Vector(), enrolled.Vector()
	var d float32
	for i := range p {
		x := p[i] - q[i]
		d += x * x
	}
	fmt.Printf("squared distance %.4f (as between the raw descriptors: 0.0100)\n", d)
	// Output: squared distance 0.0100 (as between the raw descriptors: 0.0100)
}

func ExampleRekeyer() {
	oldT, _ := template.NewTransform([]byte("old deployment secret, 32 bytes!"), "m", 3)
	newT, _ := template.NewTransform([]byte("new deployment secret, 32 bytes!"), "m", 3)
	stored, _ := oldT.Protect([]float32{1, 0, 0}, 1, time.Unix(0, 0))
	rk, err := template.NewRekeyer(oldT, newT)
	if err != nil {
		log.Fatal(err)
	}
	defer rk.Wipe()
	moved, err := rk.Rekey(&stored)
	fmt.Println(err, moved.TransformID() == newT.ID())
	// Output: <nil> true
}

func ExampleDecode() {
	tr, _ := template.NewTransform([]byte("a 32-byte per-deployment secret!"), "m", 2)
	t, _ := tr.Protect([]float32{0.6, 0.8}, 1, time.Unix(0, 0))
	b, _ := template.Encode(&t)
	back, err := template.Decode(b)
	fmt.Println(len(b), back.Dim(), err)
	_, err = template.Decode(b[:len(b)-1])
	fmt.Println(err)
	// Output:
	// 37 2 <nil>
	// template: truncated: 36 bytes, want 37 for dimension 2
}
