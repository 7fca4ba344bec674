//go:build amd64 && !purego

package gallery

import (
	"unsafe"

	"golang.org/x/sys/cpu"
)

// hasAVX512 reports whether the CPU and OS support the AVX-512 kernels
// (foundation + byte/word instructions; x/sys/cpu checks that the OS saves
// the ZMM and mask registers).
var hasAVX512 = cpu.X86.HasAVX512F && cpu.X86.HasAVX512BW

var avx512Kernels = kernelSet{
	name:   "avx512",
	l2F32:  l2RowsF32AVX512,
	dotF32: dotRowsF32AVX512,
	l2I8:   l2RowsI8AVX512,
	dotI8:  dotRowsI8AVX512,
}

func l2RowsF32AVX512(q, rows, out []float32) {
	if nothingToScan(len(q), len(rows), out) {
		return
	}
	l2sqF32AVX512(unsafe.SliceData(q), unsafe.SliceData(rows), len(q), len(out), unsafe.SliceData(out))
}

func dotRowsF32AVX512(q, rows, out []float32) {
	if nothingToScan(len(q), len(rows), out) {
		return
	}
	dotF32AVX512(unsafe.SliceData(q), unsafe.SliceData(rows), len(q), len(out), unsafe.SliceData(out))
}

func l2RowsI8AVX512(q []int16, rows []int8, out []int32) {
	if nothingToScan(len(q), len(rows), out) {
		return
	}
	l2sqI8AVX512(unsafe.SliceData(q), unsafe.SliceData(rows), len(q), len(out), unsafe.SliceData(out))
}

func dotRowsI8AVX512(q []int16, rows []int8, out []int32) {
	if nothingToScan(len(q), len(rows), out) {
		return
	}
	dotI8AVX512(unsafe.SliceData(q), unsafe.SliceData(rows), len(q), len(out), unsafe.SliceData(out))
}

// The AVX-512 assembly kernels (kernel_avx512_amd64.s), with the contract
// of the AVX2 ones.

//go:noescape
func l2sqF32AVX512(q, rows *float32, dim, n int, out *float32)

//go:noescape
func dotF32AVX512(q, rows *float32, dim, n int, out *float32)

//go:noescape
func l2sqI8AVX512(q *int16, rows *int8, dim, n int, out *int32)

//go:noescape
func dotI8AVX512(q *int16, rows *int8, dim, n int, out *int32)
