package recordstest

import (
	"testing"
	"time"
)

func TestClock(t *testing.T) {
	t0 := time.Date(2026, 11, 1, 8, 30, 0, 0, time.UTC)
	c := NewClock(t0)
	for _, step := range []struct {
		name string
		move func()
		want time.Time
	}{
		{"new", func() {}, t0},
		{"add", func() { c.Add(90 * time.Minute) }, t0.Add(90 * time.Minute)},
		{"add negative", func() { c.Add(-time.Hour) }, t0.Add(30 * time.Minute)},
		{"set", func() { c.Set(t0.AddDate(0, 0, 7)) }, t0.AddDate(0, 0, 7)},
	} {
		step.move()
		if got := c.Now(); !got.Equal(step.want) {
			t.Errorf("%s: Now() = %v, want %v", step.name, got, step.want)
		}
	}
}
