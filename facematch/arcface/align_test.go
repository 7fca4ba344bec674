package arcface

import (
	"bytes"
	"errors"
	"image"
	"math/rand/v2"
	"testing"

	"gocv.io/x/gocv"

	"github.com/facegate/facegate/facematch"
)

// noise returns a rows×cols 8-bit BGR image of seeded uniform noise.
func noise(rows, cols int, seed uint64) gocv.Mat {
	r := rand.New(rand.NewPCG(seed, 0))
	b := make([]byte, rows*cols*3)
	for i := range b {
		b[i] = byte(r.IntN(256))
	}
	m, err := gocv.NewMatFromBytes(rows, cols, gocv.MatTypeCV8UC3, b)
	if err != nil {
		panic(err)
	}
	return m
}

// face68 returns 68 landmarks whose five ArcFace points (eye centres, nose
// tip, mouth corners) sit around (x, y) at a face width of about 2·s.
func face68(x, y, s int) []image.Point {
	lm := make([]image.Point, 68)
	for i := range lm {
		lm[i] = image.Pt(x, y)
	}
	for i := 36; i < 42; i++ {
		lm[i] = image.Pt(x-s/2+(i-39), y-s/3)
	}
	for i := 42; i < 48; i++ {
		lm[i] = image.Pt(x+s/2+(i-45), y-s/3+2)
	}
	lm[30] = image.Pt(x+3, y)
	lm[48] = image.Pt(x-s/3, y+s/2)
	lm[54] = image.Pt(x+s/3+1, y+s/2)
	return lm
}

// wholeWarp is the chip warped from the whole image, as align did before
// it cut out the region the chip samples.
func wholeWarp(e *Extractor, img gocv.Mat, lm []image.Point) gocv.Mat {
	src, err := FivePoints(lm)
	if err != nil {
		panic(err)
	}
	t := Similarity(src, e.dst)
	m := gocv.NewMatWithSize(2, 3, gocv.MatTypeCV64F)
	defer m.Close()
	for r := range 2 {
		for c := range 3 {
			m.SetDoubleAt(r, c, t[r][c])
		}
	}
	chip := gocv.NewMat()
	gocv.WarpAffine(img, &chip, m, image.Pt(e.spec.Size, e.spec.Size))
	return chip
}

// TestAlignRegion checks that align gives the very chip of warping the
// whole image — faces inside, across the border of and outside the image,
// small, large and rotated — and that it aligns a face in an image wider
// than OpenCV's remap takes (32767 pixels and up abort the process there).
func TestAlignRegion(t *testing.T) {
	img := noise(480, 640, 1)
	defer img.Close()
	for _, spec := range []Spec{FaceRes, MobileFace} {
		e := &Extractor{spec: spec, dst: chipPoints(spec)}
		rot := face68(300, 200, 80)
		rot[42], rot[43], rot[44], rot[45], rot[46], rot[47] = image.Pt(330, 150), image.Pt(331, 150), image.Pt(332, 151), image.Pt(333, 151), image.Pt(332, 152), image.Pt(331, 152)
		for _, c := range []struct {
			name string
			lm   []image.Point
		}{
			{"centre", face68(320, 240, 60)},
			{"small", face68(100, 100, 12)},
			{"large", face68(320, 240, 400)},
			{"rotated", rot},
			{"across the left edge", face68(5, 240, 60)},
			{"across the bottom right corner", face68(635, 475, 60)},
			{"outside", face68(2000, -900, 60)},
		} {
			got, err := e.align(img, c.lm)
			if err != nil {
				t.Fatalf("%s %s: %v", spec.Name, c.name, err)
			}
			want := wholeWarp(e, img, c.lm)
			if !bytes.Equal(got.ToBytes(), want.ToBytes()) {
				t.Errorf("%s %s: the chip differs from warping the whole image", spec.Name, c.name)
			}
			got.Close()
			want.Close()
		}

		// A face at x = 35000 in a 40000-pixel-wide image: the chip must
		// equal that of the same pixels in a small image.
		wide := noise(300, 40000, 2)
		small := wide.Region(image.Rect(34000, 0, 36000, 300))
		got, err := e.align(wide, face68(35000, 150, 70))
		if err != nil {
			t.Fatalf("%s wide: %v", spec.Name, err)
		}
		want, err := e.align(small, face68(1000, 150, 70))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got.ToBytes(), want.ToBytes()) {
			t.Errorf("%s wide: the chip differs from the same face in a small image", spec.Name)
		}
		got.Close()
		want.Close()
		small.Close()

		// A face larger than OpenCV can warp is a typed error, not an abort.
		huge, err := e.align(wide, face68(20000, 150, 30000))
		huge.Close()
		if !errors.Is(err, facematch.ErrDecode) {
			t.Errorf("%s huge face: err %v, want ErrDecode", spec.Name, err)
		}
		wide.Close()
	}
}
