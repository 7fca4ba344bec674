//go:build !amd64 || purego

package gallery

// archKernels returns no SIMD kernels: this architecture (or a build with the
// purego tag) uses the portable Go loops only.
func archKernels() []kernelSet { return nil }

// memRead reads b for the benchmarks' memory-bandwidth probe.
func memRead(b []byte) uint64 { return memReadGo(b) }
