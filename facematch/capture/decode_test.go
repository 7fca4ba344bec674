package capture

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"testing"

	"github.com/facegate/facegate/facematch"
)

// encoded returns a w×h image of one colour encoded as PNG or JPEG.
func encoded(t testing.TB, format string, w, h int, c color.RGBA) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for i := 0; i < len(img.Pix); i += 4 {
		img.Pix[i], img.Pix[i+1], img.Pix[i+2], img.Pix[i+3] = c.R, c.G, c.B, c.A
	}
	var buf bytes.Buffer
	var err error
	switch format {
	case "png":
		err = png.Encode(&buf, img)
	case "jpeg":
		err = jpeg.Encode(&buf, img, &jpeg.Options{Quality: 100})
	default:
		t.Fatalf("unknown format %q", format)
	}
	if err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// withSize returns a copy of the PNG data whose header declares w×h
// pixels (the IHDR chunk's checksum recomputed).
func withSize(data []byte, w, h uint32) []byte {
	d := bytes.Clone(data)
	binary.BigEndian.PutUint32(d[16:], w)
	binary.BigEndian.PutUint32(d[20:], h)
	binary.BigEndian.PutUint32(d[29:], crc32.ChecksumIEEE(d[12:29]))
	return d
}

func TestDecode(t *testing.T) {
	red := color.RGBA{R: 200, G: 30, B: 10, A: 255}
	pngData := encoded(t, "png", 7, 5, red)
	for _, tc := range []struct {
		name   string
		data   []byte
		w, h   int
		exact  bool // lossless: pixels must match exactly
		errDec bool
		large  bool // refused as too large (facematch.ErrTooLarge)
	}{
		{name: "png", data: pngData, w: 7, h: 5, exact: true},
		{name: "jpeg", data: encoded(t, "jpeg", 16, 8, red), w: 16, h: 8},
		{name: "empty", data: nil, errDec: true},
		{name: "garbage", data: []byte("not an image at all"), errDec: true},
		{name: "truncated png", data: pngData[:len(pngData)/3], errDec: true},
		// A PNG declaring 6000×6600 pixels (39.6 MP, over
		// facematch.DefaultMaxPixels) is refused from its header: before
		// the check it made OpenCV allocate 800 MB.
		{name: "decompression bomb", data: withSize(pngData, 6000, 6600), errDec: true, large: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f, err := Decode(tc.data)
			if tc.errDec {
				if !errors.Is(err, facematch.ErrDecode) {
					t.Fatalf("Decode: %v, want facematch.ErrDecode", err)
				}
				if tc.large != errors.Is(err, facematch.ErrTooLarge) {
					t.Fatalf("Decode: %v; matches facematch.ErrTooLarge: %v, want %v", err, !tc.large, tc.large)
				}
				if f != nil {
					t.Fatal("Decode returned a frame with its error")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if f.Mat.Cols() != tc.w || f.Mat.Rows() != tc.h || f.Mat.Channels() != 3 || f.Index != 0 || f.Time != 0 {
				t.Fatalf("frame %dx%d, %d channels, index %d time %v; want %dx%d BGR at 0",
					f.Mat.Cols(), f.Mat.Rows(), f.Mat.Channels(), f.Index, f.Time, tc.w, tc.h)
			}
			img, err := Image(f.Mat)
			if err != nil {
				t.Fatal(err)
			}
			defer Wipe(img)
			got := img.RGBAAt(tc.w/2, tc.h/2)
			tol := 0
			if !tc.exact {
				tol = 6
			}
			if d := maxDiff(got, red); d > tol {
				t.Errorf("centre pixel %v, want %v (±%d)", got, red, tol)
			}
			f.Close()
			if f.Mat.Ptr() != nil {
				t.Error("Close left the Mat")
			}
		})
	}
}

func maxDiff(a, b color.RGBA) int {
	d := 0
	for _, p := range [][2]uint8{{a.R, b.R}, {a.G, b.G}, {a.B, b.B}} {
		v := int(p[0]) - int(p[1])
		if v < 0 {
			v = -v
		}
		d = max(d, v)
	}
	return d
}

// FuzzDecode checks that Decode returns either a non-empty 3-channel frame
// or an error wrapping facematch.ErrDecode, and never panics.
func FuzzDecode(f *testing.F) {
	f.Add(encoded(f, "png", 3, 2, color.RGBA{R: 1, G: 2, B: 3, A: 255}))
	f.Add(encoded(f, "jpeg", 8, 8, color.RGBA{R: 90, G: 90, B: 90, A: 255}))
	f.Add([]byte{})
	f.Add([]byte("\x89PNG\r\n\x1a\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		fr, err := Decode(data)
		if err != nil {
			if !errors.Is(err, facematch.ErrDecode) {
				t.Fatalf("error %v does not wrap facematch.ErrDecode", err)
			}
			return
		}
		defer fr.Close()
		if fr.Mat.Empty() || fr.Mat.Channels() != 3 {
			t.Fatalf("frame empty %v, %d channels", fr.Mat.Empty(), fr.Mat.Channels())
		}
	})
}

// Decoding a photo received as bytes (an upload, stdin) into a frame, and
// the frame into a Go image for an extractor, without touching OpenCV.
func ExampleDecode() {
	img := image.NewRGBA(image.Rect(0, 0, 4, 3))
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		panic(err)
	}
	f, err := Decode(buf.Bytes())
	if err != nil {
		fmt.Println(err)
		return
	}
	defer f.Close() // zeroes the pixels
	rgba, err := Image(f.Mat)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer Wipe(rgba)
	fmt.Println(rgba.Bounds().Dx(), "x", rgba.Bounds().Dy())

	_, err = Decode([]byte("not a photo"))
	fmt.Println(errors.Is(err, facematch.ErrDecode))
	// Output:
	// 4 x 3
	// true
}
