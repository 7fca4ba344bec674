//go:build linux

package gallery

import (
	"time"

	"golang.org/x/sys/unix"
)

// threadCPU returns the CPU time the calling OS thread has used. Benchmarks
// lock their goroutine to its thread and use it to measure the time a
// serial scan spends on the CPU, which, unlike wall time, excludes the
// periods another process held the core.
func threadCPU() (time.Duration, bool) {
	var ts unix.Timespec
	if err := unix.ClockGettime(unix.CLOCK_THREAD_CPUTIME_ID, &ts); err != nil {
		return 0, false
	}
	return time.Duration(ts.Nano()), true
}
