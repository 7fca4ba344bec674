// Package facematch holds FaceGate's face vocabulary: the Face and Model
// types every embedding backend returns, the Extractor interface they
// implement, the errors they report, descriptor distances, image size
// checks and threshold calibration (Calibrate, Evaluate).
//
// The in-memory index that matches protected templates is package
// facematch/gallery.
//
// Package facematch itself is pure Go and cross-compiles. The code that
// needs cgo lives in the backend subpackages (facematch/dlib,
// facematch/arcface, facematch/faceplugin, facematch/antispoof and
// facematch/capture).
package facematch
