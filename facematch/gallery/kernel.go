package gallery

import "encoding/binary"

// This file holds the distance kernels that scan a block of gallery rows and
// the pure-Go versions of them. Architecture-specific files add SIMD versions
// (kernel_amd64.go); the best one available on the running CPU is chosen once
// at start-up.

// kernelSet is one implementation of the four block kernels. Each kernel
// compares the query q with n = len(out) consecutive rows of len(q)
// components stored row-major in rows, and writes one result per row to out.
//
//   - l2F32: squared Euclidean distance of float32 rows;
//   - dotF32: dot product of float32 rows;
//   - l2I8: squared Euclidean distance of int8 rows, the query widened to int16;
//   - dotI8: dot product of int8 rows, the query widened to int16.
//
// The int8 kernels are exact as long as len(q) <= maxInt8Dim and every query
// component lies in [-127, 127].
type kernelSet struct {
	name   string
	l2F32  func(q, rows, out []float32)
	dotF32 func(q, rows, out []float32)
	l2I8   func(q []int16, rows []int8, out []int32)
	dotI8  func(q []int16, rows []int8, out []int32)
}

// maxInt8Dim is the largest dimension an int8 gallery accepts: the int32
// accumulators of the int8 kernels cannot overflow below it (254² · 32768 < 2³¹).
const maxInt8Dim = 32768

// goKernels is the portable implementation, used on every architecture
// without a SIMD kernel, when the CPU lacks the needed features, and always
// under the purego build tag.
var goKernels = kernelSet{
	name:   "go",
	l2F32:  l2RowsF32Go,
	dotF32: dotRowsF32Go,
	l2I8:   l2RowsI8Go,
	dotI8:  dotRowsI8Go,
}

// kern is the kernel set in use, the fastest one the CPU supports.
var kern = bestKernels()

// bestKernels returns the first of availableKernels, which lists the fastest first.
func bestKernels() kernelSet { return availableKernels()[0] }

// availableKernels returns every kernel set the running CPU can execute,
// fastest first; the last one is always goKernels.
func availableKernels() []kernelSet { return append(archKernels(), goKernels) }

// KernelName returns the name of the distance kernels in use: "avx512vnni"
// on amd64 CPUs with AVX-512 F, BW and VNNI (and FMA), "avx512" on those
// with AVX-512 F and BW, "avx2" on those with AVX2 and FMA, and
// "go" (the portable 4-accumulator loops) elsewhere and in builds with the
// purego tag.
func KernelName() string { return kern.name }

// nothingToScan checks that rows (a length) holds the len(out) rows of dim
// components a kernel is asked to score, and reports whether there is
// nothing for an assembly kernel to do: no rows, or rows of no components,
// whose results (0) it then writes itself.
func nothingToScan[T int32 | float32](dim, rows int, out []T) bool {
	if len(out) == 0 {
		return true
	}
	checkRows(dim, rows, len(out))
	if dim == 0 {
		clear(out)
		return true
	}
	return false
}

func checkRows(dim, rows, n int) {
	if rows < dim*n {
		panic("facematch: kernel given fewer rows than results")
	}
}

func l2RowsF32Go(q, rows, out []float32) {
	d := len(q)
	checkRows(d, len(rows), len(out))
	for i := range out {
		out[i] = l2F32Go(q, rows[i*d:i*d+d])
	}
}

func dotRowsF32Go(q, rows, out []float32) {
	d := len(q)
	checkRows(d, len(rows), len(out))
	for i := range out {
		out[i] = dotF32Go(q, rows[i*d:i*d+d])
	}
}

func l2RowsI8Go(q []int16, rows []int8, out []int32) {
	d := len(q)
	checkRows(d, len(rows), len(out))
	q32 := widen(q)
	for i := range out {
		out[i] = l2I8Go(q32, rows[i*d:i*d+d:i*d+d])
	}
}

func dotRowsI8Go(q []int16, rows []int8, out []int32) {
	d := len(q)
	checkRows(d, len(rows), len(out))
	q32 := widen(q)
	for i := range out {
		out[i] = dotI8Go(q32, rows[i*d:i*d+d:i*d+d])
	}
}

// widen returns q as int32s: the Go int8 loops then subtract or multiply
// straight from memory, without a sign extension per query component.
func widen(q []int16) []int32 {
	w := make([]int32, len(q))
	for i, x := range q {
		w[i] = int32(x)
	}
	return w
}

// l2F32Go returns the squared Euclidean distance of a and b (len(b) >= len(a))
// with four independent accumulators, so that the loop is bound by the
// floating-point adder's throughput rather than its latency.
func l2F32Go(a, b []float32) float32 {
	b = b[:len(a)]
	var s0, s1, s2, s3 float32
	i := 0
	for ; i+4 <= len(a); i += 4 {
		x := a[i : i+4 : i+4]
		y := b[i : i+4 : i+4]
		d0 := x[0] - y[0]
		d1 := x[1] - y[1]
		d2 := x[2] - y[2]
		d3 := x[3] - y[3]
		s0 += d0 * d0
		s1 += d1 * d1
		s2 += d2 * d2
		s3 += d3 * d3
	}
	for ; i < len(a); i++ {
		d := a[i] - b[i]
		s0 += d * d
	}
	return (s0 + s1) + (s2 + s3)
}

// dotF32Go returns the dot product of a and b (len(b) >= len(a)) with four
// independent accumulators.
func dotF32Go(a, b []float32) float32 {
	b = b[:len(a)]
	var s0, s1, s2, s3 float32
	i := 0
	for ; i+4 <= len(a); i += 4 {
		x := a[i : i+4 : i+4]
		y := b[i : i+4 : i+4]
		s0 += x[0] * y[0]
		s1 += x[1] * y[1]
		s2 += x[2] * y[2]
		s3 += x[3] * y[3]
	}
	for ; i < len(a); i++ {
		s0 += a[i] * b[i]
	}
	return (s0 + s1) + (s2 + s3)
}

// l2I8Go returns the squared Euclidean distance of a and b
// (len(b) >= len(a)) with four int32 accumulators, eight components per
// iteration. Each iteration reslices both operands to exactly eight
// elements (a[i:i+8:i+8]), so the constant indexes below need no bounds
// check (one slice check on b per iteration remains: the compiler does
// not carry len(b) == len(a) into the loop), and reads the eight bytes of
// b with one 64-bit load (load64), extracting each component with a
// shift: the compiler does not fold an index plus an offset into a byte
// load, and a load per byte cost an address computation each.
//
// Measured with BenchmarkKernels-style loops under purego (AMD EPYC, 128-d
// rows, best of 5 on a shared machine, one run): 64.1 ns per row against
// 81.6 for the previous loop (reslicing a and b by 8 each iteration,
// which kept the slice headers in memory) and 56.6 for l2F32Go.
func l2I8Go(a []int32, b []int8) int32 {
	b = b[:len(a)]
	var s0, s1, s2, s3 int32
	i := 0
	for ; i+8 <= len(a); i += 8 {
		x := (*[8]int32)(a[i : i+8 : i+8])
		w := load64(b[i : i+8 : i+8])
		d0 := x[0] - int32(int8(w))
		s0 += d0 * d0
		d1 := x[1] - int32(int8(w>>8))
		s1 += d1 * d1
		d2 := x[2] - int32(int8(w>>16))
		s2 += d2 * d2
		d3 := x[3] - int32(int8(w>>24))
		s3 += d3 * d3
		d4 := x[4] - int32(int8(w>>32))
		s0 += d4 * d4
		d5 := x[5] - int32(int8(w>>40))
		s1 += d5 * d5
		d6 := x[6] - int32(int8(w>>48))
		s2 += d6 * d6
		d7 := x[7] - int32(int8(w>>56))
		s3 += d7 * d7
	}
	for ; i < len(a); i++ {
		d := a[i] - int32(b[i])
		s0 += d * d
	}
	return (s0 + s1) + (s2 + s3)
}

// dotI8Go returns the dot product of a and b (len(b) >= len(a)), with the
// loop structure of l2I8Go.
func dotI8Go(a []int32, b []int8) int32 {
	b = b[:len(a)]
	var s0, s1, s2, s3 int32
	i := 0
	for ; i+8 <= len(a); i += 8 {
		x := (*[8]int32)(a[i : i+8 : i+8])
		w := load64(b[i : i+8 : i+8])
		s0 += x[0] * int32(int8(w))
		s1 += x[1] * int32(int8(w>>8))
		s2 += x[2] * int32(int8(w>>16))
		s3 += x[3] * int32(int8(w>>24))
		s0 += x[4] * int32(int8(w>>32))
		s1 += x[5] * int32(int8(w>>40))
		s2 += x[6] * int32(int8(w>>48))
		s3 += x[7] * int32(int8(w>>56))
	}
	for ; i < len(a); i++ {
		s0 += a[i] * int32(b[i])
	}
	return (s0 + s1) + (s2 + s3)
}

// load64 returns b[0:8] as a little-endian uint64 (one 64-bit load).
func load64(b []int8) uint64 {
	_ = b[7]
	return uint64(uint8(b[0])) | uint64(uint8(b[1]))<<8 | uint64(uint8(b[2]))<<16 | uint64(uint8(b[3]))<<24 |
		uint64(uint8(b[4]))<<32 | uint64(uint8(b[5]))<<40 | uint64(uint8(b[6]))<<48 | uint64(uint8(b[7]))<<56
}

// memReadGo reads b eight bytes at a time into four accumulators and
// returns their XOR: the portable memory-bandwidth probe.
func memReadGo(b []byte) uint64 {
	var x0, x1, x2, x3 uint64
	for len(b) >= 32 {
		x0 ^= binary.LittleEndian.Uint64(b[0:8])
		x1 ^= binary.LittleEndian.Uint64(b[8:16])
		x2 ^= binary.LittleEndian.Uint64(b[16:24])
		x3 ^= binary.LittleEndian.Uint64(b[24:32])
		b = b[32:]
	}
	return x0 ^ x1 ^ x2 ^ x3
}
