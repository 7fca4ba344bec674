//go:build amd64 && !purego

package gallery

import (
	"unsafe"

	"golang.org/x/sys/cpu"
)

// archKernels returns the SIMD kernels the CPU (and the operating system,
// which must save the vector registers) supports, fastest first: AVX-512
// (F + BW) with VNNI, AVX-512 (F + BW), then AVX2 + FMA.
func archKernels() []kernelSet {
	var ks []kernelSet
	if hasVNNI && cpu.X86.HasFMA {
		ks = append(ks, avx512VNNIKernels)
	}
	if hasAVX512 && cpu.X86.HasFMA {
		ks = append(ks, avx512Kernels)
	}
	if cpu.X86.HasAVX2 && cpu.X86.HasFMA {
		ks = append(ks, avx2Kernels)
	}
	return ks
}

var avx2Kernels = kernelSet{
	name:   "avx2",
	l2F32:  l2RowsF32AVX2,
	dotF32: dotRowsF32AVX2,
	l2I8:   l2RowsI8AVX2,
	dotI8:  dotRowsI8AVX2,
}

func l2RowsF32AVX2(q, rows, out []float32) {
	if nothingToScan(len(q), len(rows), out) {
		return
	}
	l2sqF32AVX2(unsafe.SliceData(q), unsafe.SliceData(rows), len(q), len(out), unsafe.SliceData(out))
}

func dotRowsF32AVX2(q, rows, out []float32) {
	if nothingToScan(len(q), len(rows), out) {
		return
	}
	dotF32AVX2(unsafe.SliceData(q), unsafe.SliceData(rows), len(q), len(out), unsafe.SliceData(out))
}

func l2RowsI8AVX2(q []int16, rows []int8, out []int32) {
	if nothingToScan(len(q), len(rows), out) {
		return
	}
	l2sqI8AVX2(unsafe.SliceData(q), unsafe.SliceData(rows), len(q), len(out), unsafe.SliceData(out))
}

func dotRowsI8AVX2(q []int16, rows []int8, out []int32) {
	if nothingToScan(len(q), len(rows), out) {
		return
	}
	dotI8AVX2(unsafe.SliceData(q), unsafe.SliceData(rows), len(q), len(out), unsafe.SliceData(out))
}

// memRead reads b (len a multiple of 128) as fast as the CPU can, for the
// benchmarks' memory-bandwidth probe, and returns the XOR of its words.
func memRead(b []byte) uint64 {
	if cpu.X86.HasAVX2 {
		return memReadAVX2(unsafe.SliceData(b), len(b)&^127)
	}
	return memReadGo(b)
}

//go:noescape
func memReadAVX2(p *byte, n int) uint64

// The assembly kernels (kernel_amd64.s). Each compares q (dim components)
// with n consecutive rows of dim components starting at rows and writes n
// results to out. dim and n must be > 0.

//go:noescape
func l2sqF32AVX2(q, rows *float32, dim, n int, out *float32)

//go:noescape
func dotF32AVX2(q, rows *float32, dim, n int, out *float32)

//go:noescape
func l2sqI8AVX2(q *int16, rows *int8, dim, n int, out *int32)

//go:noescape
func dotI8AVX2(q *int16, rows *int8, dim, n int, out *int32)
