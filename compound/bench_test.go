package compound

import (
	"slices"
	"sync"
	"testing"
	"time"
)

// BenchmarkEnrollmentSync enrolls b.N residents at the office (each four
// changes: registration with entry consent, card, face consent, face
// template) with three gates running, and reports how fast the changes are
// applied at every gate and the time from publish (sealed at the office)
// to applied (committed to the gate's store and gallery), over all three
// gates. Run it with -benchtime=10000x for the 10,000 enrollments.
// At the end every gate's store and gallery must equal the office's.
func BenchmarkEnrollmentSync(b *testing.B) {
	c := newCompound(b, 3)
	var (
		mu   sync.Mutex
		lat  []time.Duration
		last time.Time
	)
	c.office.cfg.Clock = time.Now // stamps Published with the real time
	c.onApplied = func(_ uint64, ch *Change) {
		now := time.Now()
		mu.Lock()
		lat = append(lat, now.Sub(ch.Published))
		last = now
		mu.Unlock()
	}
	for _, g := range c.gates {
		c.startGate(g)
	}
	res := residents(b.N, 9)
	b.ResetTimer()
	start := time.Now()
	for _, r := range res {
		c.enroll(r)
	}
	published := time.Since(start)
	c.waitApplied(c.office.LastSequence())
	b.StopTimer()
	mu.Lock()
	elapsed := last.Sub(start)
	n := len(lat)
	slices.Sort(lat)
	p50, p99 := lat[n/2], lat[n*99/100]
	mu.Unlock()
	changes := float64(c.office.LastSequence())
	b.ReportMetric(changes/published.Seconds(), "published-changes/s")
	b.ReportMetric(changes/elapsed.Seconds(), "applied-changes/s")
	b.ReportMetric(float64(p50.Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(p99.Microseconds())/1000, "p99-ms")
	for _, g := range c.gates {
		c.sameAsOffice(g)
	}
}

// BenchmarkCatchUp publishes b.N enrollments (four changes each) while the
// three gates are down, then starts them and reports how fast they work
// off the backlog: the gates' own apply rate, free of the office's pace.
func BenchmarkCatchUp(b *testing.B) {
	c := newCompound(b, 3)
	for _, r := range residents(b.N, 10) {
		c.enroll(r)
	}
	b.ResetTimer()
	start := time.Now()
	for _, g := range c.gates {
		c.startGate(g)
	}
	c.waitApplied(c.office.LastSequence())
	elapsed := time.Since(start)
	b.StopTimer()
	b.ReportMetric(float64(c.office.LastSequence())/elapsed.Seconds(), "changes/s/gate")
	for _, g := range c.gates {
		c.sameAsOffice(g)
	}
}
