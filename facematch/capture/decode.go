package capture

import (
	"fmt"

	"gocv.io/x/gocv"

	"github.com/facegate/facegate/facematch"
)

// Decode decodes an encoded JPEG or PNG photo held in memory into a Frame
// of 8-bit BGR pixels, with Index and Time zero, after checking from its
// header that it has at most facematch.DefaultMaxPixels pixels (else an
// error wrapping facematch.ErrTooLarge). Nothing is written to disk; the caller must Close the frame, which zeroes
// its pixels. Data that OpenCV cannot decode gives an error wrapping
// facematch.ErrDecode, the error an extractor returns for the same bytes.
func Decode(data []byte) (*Frame, error) {
	if err := facematch.CheckSize(data, facematch.DefaultMaxPixels); err != nil {
		return nil, fmt.Errorf("capture: %w", err)
	}
	m, err := gocv.IMDecode(data, gocv.IMReadColor)
	if err != nil {
		return nil, fmt.Errorf("%w: OpenCV cannot decode %d bytes: %w", facematch.ErrDecode, len(data), err)
	}
	if m.Empty() {
		wipeMat(&m)
		return nil, fmt.Errorf("%w: OpenCV cannot decode %d bytes as an image", facematch.ErrDecode, len(data))
	}
	return &Frame{Mat: m}, nil
}
