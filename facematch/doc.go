// Package facematch holds FaceGate's face matching core: the Face and Model
// types every embedding backend returns, the Extractor interface they
// implement, and the in-memory gallery that compares protected templates.
//
// Package facematch itself is pure Go and cross-compiles. The backends that
// need cgo (dlib through go-face, OpenCV through gocv) live in the
// subpackages facematch/dlib and facematch/vision, and nothing else in the
// module imports cgo.
package facematch
