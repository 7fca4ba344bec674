// Package facematch holds FaceGate's face matching core: the Face and Model
// types every embedding backend returns, the Extractor interface they
// implement, threshold calibration (Calibrate, Evaluate), and the in-memory
// Gallery that compares protected templates.
//
// A Gallery stores its templates as float32 or, in a quarter of the memory,
// as int8 (Precision). It scans them exhaustively with the fastest kernel
// the CPU has (KernelName: AVX-512 VNNI, AVX-512 or AVX2 assembly on amd64,
// 4-accumulator Go loops everywhere else and under the purego build tag),
// on all cores from a measured gallery size up. An Int8 gallery given the
// original templates (GalleryConfig.Originals) shortlists with its int8
// rows and computes distances and decisions from the originals, as a
// Float32 gallery does.
//
// Package facematch itself is pure Go and cross-compiles. The code that
// needs cgo lives in the subpackages facematch/dlib (dlib through go-face),
// facematch/arcface and facematch/capture (OpenCV through gocv); no other
// package of the module contains cgo code.
package facematch
