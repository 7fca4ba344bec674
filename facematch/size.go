package facematch

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	_ "image/jpeg" // DecodeConfig of JPEG headers
	_ "image/png"  // and of PNG headers
)

// ErrTooLarge is wrapped, together with ErrDecode, by the error of
// CheckSize (and so of the extractors) for an image that declares more
// pixels than allowed.
var ErrTooLarge = errors.New("facematch: image too large")

// DefaultMaxPixels is the largest image (width × height) the decoders of
// FaceGate accept by default: 24 megapixels, above a 4K camera frame (8.3
// MP) and a 12–20 MP phone photo, below the 39.6 MP of a 38 KB PNG that
// made the decoder allocate 800 MB. A decoded 24 MP image takes 72 MB as
// 8-bit BGR.
const DefaultMaxPixels = 24_000_000

// CheckSize reads the header of JPEG or PNG data — nothing else — and
// returns an error wrapping ErrDecode if it is not one, or its dimensions
// are empty, or (also wrapping ErrTooLarge) it declares more than
// maxPixels pixels. It lets a decoder refuse a decompression bomb before
// allocating anything.
func CheckSize(data []byte, maxPixels int) error {
	if len(data) == 0 {
		return fmt.Errorf("%w: no bytes to decode", ErrDecode)
	}
	cfg, _, err := image.DecodeConfig(bytes.NewReader(data))
	if err != nil {
		return fmt.Errorf("%w: %v", ErrDecode, err)
	}
	if cfg.Width <= 0 || cfg.Height <= 0 {
		return fmt.Errorf("%w: empty %dx%d image", ErrDecode, cfg.Width, cfg.Height)
	}
	if px := int64(cfg.Width) * int64(cfg.Height); px > int64(maxPixels) {
		return fmt.Errorf("%w: %w: %dx%d, limit %d pixels", ErrDecode, ErrTooLarge, cfg.Width, cfg.Height, maxPixels)
	}
	return nil
}
