package facematch

import (
	"bytes"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"image"
	"image/png"
	"testing"
)

// pngHeader returns the signature and IHDR chunk of a w×h 8-bit RGB PNG:
// all a decoder reads before it allocates the image.
func pngHeader(w, h uint32) []byte {
	var b bytes.Buffer
	b.WriteString("\x89PNG\r\n\x1a\n")
	ihdr := make([]byte, 17)
	copy(ihdr, "IHDR")
	binary.BigEndian.PutUint32(ihdr[4:], w)
	binary.BigEndian.PutUint32(ihdr[8:], h)
	ihdr[12], ihdr[13] = 8, 2 // bit depth, colour type RGB
	binary.Write(&b, binary.BigEndian, uint32(13))
	b.Write(ihdr)
	binary.Write(&b, binary.BigEndian, crc32.ChecksumIEEE(ihdr))
	return b.Bytes()
}

func TestCheckSize(t *testing.T) {
	var small bytes.Buffer
	if err := png.Encode(&small, image.NewGray(image.Rect(0, 0, 64, 48))); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name  string
		data  []byte
		max   int
		isErr []error
	}{
		{"small PNG", small.Bytes(), DefaultMaxPixels, nil},
		{"the 6000x6600 PNG bomb", pngHeader(6000, 6600), DefaultMaxPixels, []error{ErrDecode, ErrTooLarge}},
		{"a 4K frame", pngHeader(3840, 2160), DefaultMaxPixels, nil},
		{"over a custom limit", small.Bytes(), 64*48 - 1, []error{ErrDecode, ErrTooLarge}},
		{"empty", nil, DefaultMaxPixels, []error{ErrDecode}},
		{"not an image", []byte("GIF89a"), DefaultMaxPixels, []error{ErrDecode}},
		{"zero width", pngHeader(0, 10), DefaultMaxPixels, []error{ErrDecode}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := CheckSize(tt.data, tt.max)
			if tt.isErr == nil {
				if err != nil {
					t.Fatalf("CheckSize = %v, want nil", err)
				}
				return
			}
			for _, target := range tt.isErr {
				if !errors.Is(err, target) {
					t.Errorf("CheckSize = %v, want it to match %v", err, target)
				}
			}
		})
	}
}
