package dlib

import (
	"bytes"
	"image"
	"image/color"
	"reflect"
	"testing"
)

// TestWipe checks that wipe zeroes every pixel of each image type the
// extractor allocates, and leaves an image of a type it does not know alone.
func TestWipe(t *testing.T) {
	r := image.Rect(0, 0, 3, 2)
	fill := func(bufs ...[]byte) {
		for _, b := range bufs {
			for i := range b {
				b[i] = byte(i + 1)
			}
		}
	}
	ycc := image.NewYCbCr(r, image.YCbCrSubsampleRatio420)
	fill(ycc.Y, ycc.Cb, ycc.Cr)
	nycca := image.NewNYCbCrA(r, image.YCbCrSubsampleRatio444)
	fill(nycca.Y, nycca.Cb, nycca.Cr, nycca.A)
	pal := image.NewPaletted(r, color.Palette{color.White, color.Black})
	fill(pal.Pix)
	imgs := map[string]image.Image{"YCbCr": ycc, "NYCbCrA": nycca, "Paletted": pal}
	for name, m := range map[string]interface {
		image.Image
		Set(int, int, color.Color)
	}{
		"RGBA": image.NewRGBA(r), "NRGBA": image.NewNRGBA(r), "RGBA64": image.NewRGBA64(r),
		"NRGBA64": image.NewNRGBA64(r), "Gray": image.NewGray(r), "Gray16": image.NewGray16(r), "CMYK": image.NewCMYK(r),
	} {
		for y := r.Min.Y; y < r.Max.Y; y++ {
			for x := r.Min.X; x < r.Max.X; x++ {
				m.Set(x, y, color.RGBA{200, 100, 50, 255})
			}
		}
		imgs[name] = m
	}
	for name, m := range imgs {
		wipe(m)
		var bufs [][]byte
		switch m := m.(type) {
		case *image.YCbCr:
			bufs = [][]byte{m.Y, m.Cb, m.Cr}
		case *image.NYCbCrA:
			bufs = [][]byte{m.Y, m.Cb, m.Cr, m.A}
		default:
			bufs = [][]byte{reflect.ValueOf(m).Elem().FieldByName("Pix").Bytes()}
		}
		for _, b := range bufs {
			if bytes.ContainsFunc(b, func(r rune) bool { return r != 0 }) {
				t.Errorf("%s: pixels left after wipe: %v", name, b)
			}
		}
		if p, ok := m.(*image.Paletted); ok && len(p.Palette) > 0 && p.Palette[0] != nil {
			t.Errorf("Paletted: palette left after wipe")
		}
	}
	// An image type wipe does not know is left as it was.
	u := image.NewUniform(color.White)
	wipe(u)
	if u.C != color.White {
		t.Error("wipe changed an image of an unknown type")
	}
}
