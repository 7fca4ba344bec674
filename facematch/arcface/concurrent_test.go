package arcface

import (
	"image"
	"slices"
	"sync"
	"testing"

	"github.com/facegate/facegate/facematch"
	"github.com/facegate/facegate/internal/testenv"
)

// TestConcurrent runs ExtractImage from several goroutines on one Extractor
// and checks every result equals the serial one.
func TestConcurrent(t *testing.T) {
	testenv.Model(t, MobileFace.File)
	img, lm := synthetic()
	e, err := Open(testenv.ModelDir(), MobileFace, fakeLandmarker{[]facematch.Face{{Landmarks: lm}}}, Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	want, err := e.ExtractImage(img)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 4 {
				got, err := e.ExtractImage(img)
				if err != nil {
					errs <- err
					return
				}
				if !slices.Equal(got[0].Descriptor, want[0].Descriptor) {
					t.Error("concurrent descriptor differs from the serial one")
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// TestSubImage checks that a sub-image (rows not contiguous) gives the same
// descriptor as a copy of it.
func TestSubImage(t *testing.T) {
	testenv.Model(t, MobileFace.File)
	img, lm := synthetic()
	big := image.NewRGBA(image.Rect(0, 0, 300, 200))
	for y := range 200 {
		copy(big.Pix[y*big.Stride:], img.Pix[y*img.Stride:(y+1)*img.Stride])
	}
	sub := big.SubImage(image.Rect(0, 0, 200, 200))
	e, err := Open(testenv.ModelDir(), MobileFace, fakeLandmarker{[]facematch.Face{{Landmarks: lm}}}, Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	a, err := e.ExtractImage(img)
	if err != nil {
		t.Fatal(err)
	}
	b, err := e.ExtractImage(sub)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(a[0].Descriptor, b[0].Descriptor) {
		t.Error("sub-image descriptor differs from the copy's")
	}
}
