package facematch

import "image"

// An Extractor finds faces in images and embeds each one with its model.
// Implementations are safe for concurrent use and never write an image
// anywhere.
type Extractor interface {
	// Model describes the network behind the descriptors.
	Model() Model
	// Extract returns every face in the encoded image data (JPEG or PNG).
	// It returns an error wrapping ErrDecode for undecodable data and an
	// empty slice when there is no face.
	Extract(data []byte) ([]Face, error)
	// ExtractImage is Extract for an already decoded image (a camera frame,
	// a grayscale image, ...).
	ExtractImage(img image.Image) ([]Face, error)
	// Close releases the model. Calls after Close return ErrClosed.
	Close() error
}

// One returns the single face of faces, ErrNoFace when there is none and a
// *MultipleFacesError when there are several.
func One(faces []Face) (Face, error) {
	switch len(faces) {
	case 0:
		return Face{}, ErrNoFace
	case 1:
		return faces[0], nil
	}
	return Face{}, &MultipleFacesError{N: len(faces)}
}
