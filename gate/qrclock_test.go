package gate

import (
	"errors"
	"testing"
	"time"
)

// TestQRReplayAcrossClockChanges uses a QR code, lets Maintain run after
// its expiry, and sets the clock back (a dead RTC battery, a forged NTP
// answer, a clock set forward to drop the marks and then back): the code
// must never open the door a second time, and while the clock reads before
// the newest recorded use every QR code is refused with ErrClockBackwards
// while cards keep working.
func TestQRReplayAcrossClockChanges(t *testing.T) {
	for _, tt := range []struct {
		name     string
		maintain time.Duration // after issue, when Maintain runs
		back     time.Duration // after issue, where the clock is set
		want     error
	}{
		{"Maintain just after expiry, clock back within the lifetime", 6 * time.Minute, time.Minute, ErrReplayed},
		{"Maintain after the margin, clock back within the lifetime", 25 * time.Hour, time.Minute, ErrClockBackwards},
		{"clock forward past the margin for Maintain, then back", 48 * time.Hour, 2 * time.Minute, ErrClockBackwards},
	} {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, nil)
			e.register(t, "flat-7", false)
			if err := e.g.SetCard("flat-7", []byte("card-7")); err != nil {
				t.Fatal(err)
			}
			code, _, err := e.g.IssueQR("flat-7")
			if err != nil {
				t.Fatal(err)
			}
			e.clock.Add(30 * time.Second)
			mustAdmit(t, e.g.Admit(Attempt{QR: code}), "flat-7")
			e.clock.Set(t0.Add(tt.maintain))
			if err := e.g.Maintain(); err != nil {
				t.Fatal(err)
			}
			e.clock.Set(t0.Add(tt.back))
			d := e.g.Admit(Attempt{QR: code})
			if d.Admit || !errors.Is(d.Err, tt.want) {
				t.Fatalf("replayed QR code: %+v, want a refusal with %v", d, tt.want)
			}
			mustAdmit(t, e.g.Admit(Attempt{Card: []byte("card-7")}), "flat-7")
		})
	}
}

// TestClockBackwardsRefusesFreshQR: with the clock behind the newest
// recorded use, even a code issued now is refused; once the clock is
// right again it works.
func TestClockBackwardsRefusesFreshQR(t *testing.T) {
	e := newEnv(t, nil)
	e.register(t, "flat-8", false)
	first, _, _ := e.g.IssueQR("flat-8")
	e.clock.Set(t0.Add(time.Hour))
	second, _, _ := e.g.IssueQR("flat-8")
	mustAdmit(t, e.g.Admit(Attempt{QR: second}), "flat-8")
	e.clock.Set(t0.Add(time.Minute))
	mustDeny(t, e.g.Admit(Attempt{QR: first}), ErrClockBackwards)
	e.clock.Set(t0.Add(time.Hour + time.Minute))
	third, _, _ := e.g.IssueQR("flat-8")
	mustAdmit(t, e.g.Admit(Attempt{QR: third}), "flat-8")
}
