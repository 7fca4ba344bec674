package gallery

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// BenchmarkKernels times each kernel set on a block of rows that stays in
// the L1/L2 cache (256 rows of 128-d), so it shows compute speed, not memory
// bandwidth.
func BenchmarkKernels(b *testing.B) {
	const dim, n = 128, 256
	rng := rand.New(rand.NewPCG(1, 1))
	q := randVec(rng, dim, 1)
	rows := randVec(rng, dim*n, 1)
	qi := make([]int16, dim)
	ri := make([]int8, dim*n)
	for i := range qi {
		qi[i] = int16(rng.IntN(255) - 127)
	}
	for i := range ri {
		ri[i] = int8(rng.IntN(255) - 127)
	}
	out := make([]float32, n)
	outi := make([]int32, n)
	for _, ks := range availableKernels() {
		for _, k := range []struct {
			name string
			f    func()
		}{
			{"l2F32", func() { ks.l2F32(q, rows, out) }},
			{"dotF32", func() { ks.dotF32(q, rows, out) }},
			{"l2I8", func() { ks.l2I8(qi, ri, outi) }},
			{"dotI8", func() { ks.dotI8(qi, ri, outi) }},
		} {
			b.Run(fmt.Sprintf("%s/%s", ks.name, k.name), func(b *testing.B) {
				for b.Loop() {
					k.f()
				}
				b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/n, "ns/row")
			})
		}
	}
}
