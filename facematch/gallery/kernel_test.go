package gallery

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// kernelDims are the dimensions every kernel is checked at: empty, odd, on
// and around every unrolling boundary of the SIMD loops, model sizes, and
// either side of the VNNI kernels' stack buffer for the query (1024).
var kernelDims = []int{0, 1, 2, 3, 7, 8, 9, 15, 16, 17, 31, 32, 33, 47, 48, 49, 63, 64, 65, 79, 80, 95, 96, 97, 127, 128, 129, 191, 192, 193, 255, 256, 257, 512, 513, 1000, 1024, 1025}

// kernelRowCounts are the row counts every kernel is checked at: none, and
// every remainder of the VNNI kernels' four-row groups, alone and after
// full groups.
var kernelRowCounts = []int{0, 1, 2, 3, 4, 5, 6, 7, 8, 33}

func closeTo(got, want float64) bool {
	return math.Abs(got-want) <= 1e-4*math.Max(1, math.Abs(want))
}

// TestKernelsMatchPlainLoop forces every kernel set the CPU can run and
// compares each result with a plain float64 loop on random inputs.
func TestKernelsMatchPlainLoop(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	sets := availableKernels()
	t.Logf("kernel sets on this CPU: %d (in use: %s)", len(sets), KernelName())
	for _, ks := range sets {
		for _, dim := range kernelDims {
			for _, n := range kernelRowCounts {
				t.Run(fmt.Sprintf("%s/dim=%d/n=%d", ks.name, dim, n), func(t *testing.T) {
					q := make([]float32, dim)
					rows := make([]float32, dim*n)
					for i := range q {
						q[i] = rng.Float32()*2 - 1
					}
					for i := range rows {
						rows[i] = rng.Float32()*2 - 1
					}
					qi := make([]int16, dim)
					ri := make([]int8, dim*n)
					for i := range qi {
						qi[i] = int16(rng.IntN(255) - 127)
					}
					// Queries lie in [-127, 127]; rows may be any int8.
					for i := range ri {
						ri[i] = int8(rng.IntN(256) - 128)
					}
					// Sentinels past the end catch kernels that write too far.
					l2 := make([]float32, n+1)
					dot := make([]float32, n+1)
					l2i := make([]int32, n+1)
					doti := make([]int32, n+1)
					l2[n], dot[n], l2i[n], doti[n] = -7, -7, -7, -7
					ks.l2F32(q, rows, l2[:n])
					ks.dotF32(q, rows, dot[:n])
					ks.l2I8(qi, ri, l2i[:n])
					ks.dotI8(qi, ri, doti[:n])
					if l2[n] != -7 || dot[n] != -7 || l2i[n] != -7 || doti[n] != -7 {
						t.Fatal("kernel wrote past the end of out")
					}
					for r := range n {
						var wl2, wdot float64
						var wl2i, wdoti int64
						for j := range dim {
							a, b := float64(q[j]), float64(rows[r*dim+j])
							wl2 += (a - b) * (a - b)
							wdot += a * b
							ai, bi := int64(qi[j]), int64(ri[r*dim+j])
							wl2i += (ai - bi) * (ai - bi)
							wdoti += ai * bi
						}
						if !closeTo(float64(l2[r]), wl2) {
							t.Errorf("row %d: l2F32 = %v, plain loop %v", r, l2[r], wl2)
						}
						if !closeTo(float64(dot[r]), wdot) {
							t.Errorf("row %d: dotF32 = %v, plain loop %v", r, dot[r], wdot)
						}
						if int64(l2i[r]) != wl2i {
							t.Errorf("row %d: l2I8 = %v, plain loop %v", r, l2i[r], wl2i)
						}
						if int64(doti[r]) != wdoti {
							t.Errorf("row %d: dotI8 = %v, plain loop %v", r, doti[r], wdoti)
						}
					}
				})
			}
		}
	}
}

// TestKernelsExtremeInt8 checks the int8 kernels at the extremes of the
// value range, up to maxInt8Dim, where an int16 or int32 overflow would show.
func TestKernelsExtremeInt8(t *testing.T) {
	for _, ks := range availableKernels() {
		for _, dim := range []int{1, 17, 128, 4099, maxInt8Dim} {
			for _, c := range []struct{ q, r int }{{127, -127}, {127, -128}, {-127, -128}, {-127, 127}} {
				q := make([]int16, dim)
				r := make([]int8, 3*dim)
				for i := range q {
					q[i] = int16(c.q)
				}
				for i := range r {
					r[i] = int8(c.r)
				}
				var l2, dot [3]int32
				ks.l2I8(q, r, l2[:])
				ks.dotI8(q, r, dot[:])
				for i := range 3 {
					if want := int64(dim) * int64((c.q-c.r)*(c.q-c.r)); int64(l2[i]) != want {
						t.Errorf("%s dim %d q %d r %d: l2I8 = %d, want %d", ks.name, dim, c.q, c.r, l2[i], want)
					}
					if want := int64(dim) * int64(c.q*c.r); int64(dot[i]) != want {
						t.Errorf("%s dim %d q %d r %d: dotI8 = %d, want %d", ks.name, dim, c.q, c.r, dot[i], want)
					}
				}
			}
		}
	}
}
