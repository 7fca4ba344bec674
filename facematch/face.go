package facematch

import (
	"image"
)

// Metric names how two descriptors of one model are compared.
type Metric uint8

const (
	// Euclidean is the L2 distance; smaller is more alike (dlib's ResNet).
	Euclidean Metric = iota + 1
	// Cosine is 1 − cosine similarity, in [0, 2]; smaller is more alike
	// (ArcFace-class models).
	Cosine
)

// String returns "euclidean" or "cosine".
func (m Metric) String() string {
	switch m {
	case Euclidean:
		return "euclidean"
	case Cosine:
		return "cosine"
	}
	return "unknown"
}

// Model describes the network that produced a descriptor. Descriptors of
// different models are never compared with each other.
type Model struct {
	// ID names the network and its weights, e.g. "dlib-resnet-v1/face-api-1.7.15".
	// It is recorded in every template.
	ID string
	// Dim is the descriptor length.
	Dim int
	// Metric is how descriptors of this model are compared.
	Metric Metric
	// Threshold is the default match threshold on Metric's distance: a pair at
	// or under it matches. It comes from a measurement recorded in the README.
	Threshold float32
}

// Face is one face found in an image.
type Face struct {
	// Box is the face's bounding box in image coordinates.
	Box image.Rectangle
	// Landmarks are the detected landmark points in image coordinates
	// (68 points, iBUG 300-W order, for the dlib backend).
	Landmarks []image.Point
	// Descriptor is the model's embedding of the face, Model.Dim long.
	Descriptor []float32
}
