//go:build !amd64 || purego

package facematch

// archKernels returns no SIMD kernels: this architecture (or a build with the
// purego tag) uses the portable Go loops only.
func archKernels() []kernelSet { return nil }
