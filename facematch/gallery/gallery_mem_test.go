package gallery

import (
	"fmt"
	"math/rand/v2"
	"runtime"
	"testing"

	"github.com/facegate/facegate/facematch"
	"github.com/facegate/facegate/internal/templatetest"
)

// heapBytes returns the live heap after two collections.
func heapBytes() uint64 {
	var ms runtime.MemStats
	runtime.GC()
	runtime.GC()
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}

// galleryBytesPerTemplate builds an Int8 gallery of n templates of 128-d
// (perSubject templates per subject, IDs idLen bytes long) and returns the
// heap it holds per template, ID map included, as runtime.MemStats sees it.
func galleryBytesPerTemplate(t testing.TB, n, perSubject, idLen int) float64 {
	m := facematch.Model{ID: "mem", Dim: 128, Metric: facematch.Euclidean, Threshold: 0.6}
	rng := rand.New(rand.NewPCG(1, 2))
	v := dlibLike(rng)
	format := fmt.Sprintf("%%0%dd", idLen)
	before := heapBytes()
	g, err := New(m, &Config{Precision: Int8})
	if err != nil {
		t.Fatal(err)
	}
	for i := range n {
		// Distinct rows, also after quantization: components 0-6 spell i
		// in decimal, one digit per 0.025.
		for j, x := 0, i; j < 7; j, x = j+1, x/10 {
			v[j] = float32(x%10) / 40
		}
		if err := g.Add(fmt.Sprintf(format, i/perSubject), templatetest.Protected(m.ID, v)); err != nil {
			t.Fatal(err)
		}
	}
	after := heapBytes()
	runtime.KeepAlive(g)
	return float64(after-before) / float64(n)
}

// TestInt8MemoryPerTemplate measures the heap an Int8 gallery of 128-d
// templates holds per template, ID map included, and checks the issue's
// budget of 160 bytes for residents with IDs of up to 12 bytes. Each
// template costs 128 bytes of row, 8 of row bookkeeping (subject, next row)
// and, per subject, 5 + len(ID) bytes of ID arena and 4 bytes per hash slot
// (5-10 B at the 2/5-4/5 load the table keeps).
func TestInt8MemoryPerTemplate(t *testing.T) {
	if testing.Short() {
		t.Skip("builds galleries of 100k and 1M templates")
	}
	for _, c := range []struct{ n, perSubject, idLen int }{
		{100000, 1, 12}, {1000000, 1, 12}, {1000000, 1, 36}, {1000000, 3, 12},
	} {
		b := galleryBytesPerTemplate(t, c.n, c.perSubject, c.idLen)
		t.Logf("int8 128-d, %d templates, %d per subject, %d-byte IDs: %.1f bytes/template", c.n, c.perSubject, c.idLen, b)
		if c.idLen <= 12 && b > 160 {
			t.Errorf("%.1f bytes/template, over the 160-byte budget", b)
		}
	}
}
