//go:build amd64 && !purego

package gallery

import (
	"unsafe"

	"golang.org/x/sys/cpu"
)

// hasVNNI reports whether the CPU supports the AVX-512 VNNI int8 kernels
// (VPDPBUSD and VPDPWSSD on ZMM registers) on top of the AVX-512 ones.
var hasVNNI = hasAVX512 && cpu.X86.HasAVX512VNNI

// avx512VNNIKernels are the AVX-512 kernels with the int8 ones replaced by
// the VNNI kernels (kernel_vnni_amd64.s), which read four rows per step
// and need about half the instructions per row byte.
var avx512VNNIKernels = kernelSet{
	name:   "avx512vnni",
	l2F32:  l2RowsF32AVX512,
	dotF32: dotRowsF32AVX512,
	l2I8:   l2RowsI8VNNI,
	dotI8:  dotRowsI8VNNI,
}

// vnniQueryBuf is the largest dimension whose int8 query copy the VNNI
// kernels keep on the stack; larger ones allocate it.
const vnniQueryBuf = 1024

func l2RowsI8VNNI(q []int16, rows []int8, out []int32) {
	if nothingToScan(len(q), len(rows), out) {
		return
	}
	var buf [vnniQueryBuf]int8
	qb := scratch(&buf, len(q))
	l2sqI8VNNI(unsafe.SliceData(q), unsafe.SliceData(qb), unsafe.SliceData(rows), len(q), len(out), unsafe.SliceData(out))
}

func dotRowsI8VNNI(q []int16, rows []int8, out []int32) {
	if nothingToScan(len(q), len(rows), out) {
		return
	}
	var buf [vnniQueryBuf]int8
	qb := scratch(&buf, len(q))
	dotI8VNNI(unsafe.SliceData(q), unsafe.SliceData(qb), unsafe.SliceData(rows), len(q), len(out), unsafe.SliceData(out))
}

// scratch returns room for the int8 copy of a query of dim components: buf
// (on the caller's stack) when it is large enough, else a new slice.
func scratch(buf *[vnniQueryBuf]int8, dim int) []int8 {
	if dim > len(buf) {
		return make([]int8, dim)
	}
	return buf[:]
}

// The VNNI assembly kernels. Each compares q (dim int16 components, each
// in [-127, 127]) with n consecutive int8 rows of dim components starting
// at rows and writes n results to out; qb (dim bytes) receives q narrowed
// to int8. dim and n must be > 0.

//go:noescape
func l2sqI8VNNI(q *int16, qb, rows *int8, dim, n int, out *int32)

//go:noescape
func dotI8VNNI(q *int16, qb, rows *int8, dim, n int, out *int32)
