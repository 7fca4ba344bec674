package facematch

import (
	"errors"
	"fmt"
)

var (
	// ErrNoFace is returned when an image holds no detectable face.
	ErrNoFace = errors.New("facematch: no face found in the image")
	// ErrMultipleFaces is matched (errors.Is) by a *MultipleFacesError.
	ErrMultipleFaces = errors.New("facematch: more than one face in the image")
	// ErrDecode is returned when input bytes are not a decodable image.
	ErrDecode = errors.New("facematch: image cannot be decoded")
	// ErrModelMismatch is returned when descriptors or templates of two
	// different models are compared.
	ErrModelMismatch = errors.New("facematch: descriptors come from different models")
	// ErrDimension is returned when a vector has the wrong length for its model.
	ErrDimension = errors.New("facematch: wrong descriptor dimension")
	// ErrNotFinite is returned when a vector holds a NaN or an infinity.
	ErrNotFinite = errors.New("facematch: descriptor holds NaN or Inf")
	// ErrUnknownID is returned when an ID is not in the gallery.
	ErrUnknownID = errors.New("facematch: unknown subject ID")
	// ErrDuplicateID is returned when an ID is added twice.
	ErrDuplicateID = errors.New("facematch: duplicate ID")
	// ErrClosed is returned by an Extractor used after Close.
	ErrClosed = errors.New("facematch: extractor is closed")
)

// MultipleFacesError reports how many faces were found where one was expected.
type MultipleFacesError struct {
	N int
}

func (e *MultipleFacesError) Error() string {
	return fmt.Sprintf("facematch: %d faces in the image, want exactly one", e.N)
}

// Is reports whether target is ErrMultipleFaces.
func (e *MultipleFacesError) Is(target error) bool { return target == ErrMultipleFaces }
