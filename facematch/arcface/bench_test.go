package arcface

import (
	"testing"

	"github.com/facegate/facegate/internal/testenv"
)

// BenchmarkExtract times, in one run and on the same one-face photo of the
// shared set, dlib's whole extraction (HOG detection, 68 landmarks, ResNet
// descriptor) and this backend's whole extraction with each network (the
// same dlib pass for the landmarks, then OpenCV decode, alignment and the
// network). The difference is the per-face cost of the network path.
func BenchmarkExtract(b *testing.B) {
	samples, dl := faceSet(b)
	data := samples[0].data
	b.Run("dlib", func(b *testing.B) {
		for range b.N {
			if _, err := dl.Extract(data); err != nil {
				b.Fatal(err)
			}
		}
	})
	for _, s := range Specs {
		testenv.Model(b, s.File)
		e, err := Open(testenv.ModelDir(), s, dl, Config{})
		if err != nil {
			b.Fatal(err)
		}
		b.Run(s.Name, func(b *testing.B) {
			for range b.N {
				if _, err := e.Extract(data); err != nil {
					b.Fatal(err)
				}
			}
		})
		e.Close()
	}
}

// BenchmarkEmbed times the network path alone per face: alignment of the
// decoded image to the template, input blob, forward pass, normalization.
func BenchmarkEmbed(b *testing.B) {
	samples, dl := faceSet(b)
	for _, s := range Specs {
		testenv.Model(b, s.File)
		e, err := Open(testenv.ModelDir(), s, dl, Config{})
		if err != nil {
			b.Fatal(err)
		}
		b.Run(s.Name, func(b *testing.B) {
			for range b.N {
				if _, err := e.embed(samples[0].img, samples[0].face.Landmarks); err != nil {
					b.Fatal(err)
				}
			}
		})
		e.Close()
	}
}
