// Package gallery is FaceGate's matching engine: the in-memory Gallery of
// enrolled templates that Verify, Identify and Search scan.
//
// A Gallery stores its templates as float32 or, in a quarter of the memory,
// as int8 (Precision). It scans them exhaustively with the fastest kernel
// the CPU has (KernelName: AVX-512 VNNI, AVX-512 or AVX2 assembly on amd64,
// 4-accumulator Go loops everywhere else and under the purego build tag),
// on all cores from a measured gallery size up. An Int8 gallery given the
// original templates (Config.Originals) shortlists with its int8
// rows and computes distances and decisions from the originals, as a
// Float32 gallery does.
//
// The package is pure Go and assembly; it has no cgo. It speaks the
// vocabulary of package facematch (Model, Metric and the errors
// ErrModelMismatch, ErrDimension, ErrNotFinite, ErrUnknownID and
// ErrDuplicateID).
package gallery
