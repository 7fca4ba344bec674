package gate

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestQRCodeAcceptedOnce checks that a QR code opens the door once, and is
// refused as replayed afterwards, until it expires.
func TestQRCodeAcceptedOnce(t *testing.T) {
	e := newEnv(t, nil)
	e.register(t, "guest-1", false)
	code, exp, err := e.g.IssueQR("guest-1")
	if err != nil {
		t.Fatal(err)
	}
	if want := t0.Add(DefaultQRLifetime); !exp.Equal(want) {
		t.Fatalf("expires %v, want %v", exp, want)
	}
	if strings.Contains(code, "guest") {
		t.Fatal("the code names the subject")
	}
	mustAdmit(t, e.g.Admit(Attempt{QR: code}), "guest-1")
	mustDeny(t, e.g.Admit(Attempt{QR: code}), ErrReplayed)
	e.clock.Add(time.Minute)
	if err := e.g.Maintain(); err != nil {
		t.Fatal(err)
	}
	mustDeny(t, e.g.Admit(Attempt{QR: code}), ErrReplayed)
	e.clock.Add(DefaultQRLifetime)
	if err := e.g.Maintain(); err != nil {
		t.Fatal(err)
	}
	mustDeny(t, e.g.Admit(Attempt{QR: code}), ErrQRExpired)
	// A code refused for another reason is not consumed.
	code2, _, _ := e.g.IssueQR("guest-1")
	e.register(t, "other", false)
	e.g.SetCard("other", []byte("other-card"))
	mustDeny(t, e.g.Admit(Attempt{QR: code2, Card: []byte("other-card")}), ErrConflict)
	mustAdmit(t, e.g.Admit(Attempt{QR: code2}), "guest-1")
}

// TestQRCodeExpires checks the expiry of one-time codes at its boundary.
func TestQRCodeExpires(t *testing.T) {
	for _, tt := range []struct {
		after time.Duration
		want  error
	}{
		{DefaultQRLifetime - time.Second, nil},
		{DefaultQRLifetime, ErrQRExpired},
		{time.Hour, ErrQRExpired},
	} {
		t.Run(tt.after.String(), func(t *testing.T) {
			e := newEnv(t, nil)
			e.register(t, "s", false)
			code, _, _ := e.g.IssueQR("s")
			e.clock.Add(tt.after)
			d := e.g.Admit(Attempt{QR: code})
			if tt.want == nil {
				mustAdmit(t, d, "s")
			} else {
				mustDeny(t, d, tt.want)
			}
		})
	}
}

// TestForgedQRRejected checks that altered, truncated and foreign codes
// are refused as malformed.
func TestForgedQRRejected(t *testing.T) {
	e := newEnv(t, nil)
	e.register(t, "s", false)
	code, _, _ := e.g.IssueQR("s")
	other, _ := DeriveKeys(bytes.Repeat([]byte{8}, KeySize))
	q, err := DecodeQR(e.keys.QR, code)
	if err != nil {
		t.Fatal(err)
	}
	flip := func(i int) string {
		b := []byte(code)
		if b[i] == 'A' {
			b[i] = 'B'
		} else {
			b[i] = 'A'
		}
		return string(b)
	}
	q.Expires = q.Expires.Add(24 * time.Hour)
	for name, c := range map[string]string{
		"flipped first":  flip(0),
		"flipped middle": flip(len(code) / 2),
		"flipped last":   flip(len(code) - 2),
		"truncated":      code[:len(code)-1],
		"extended":       code + "A",
		"foreign key":    encodeQR(other.QR, q),
		"not base64":     strings.Repeat("*", len(code)),
		"empty-ish":      " ",
	} {
		mustDeny(t, e.g.Admit(Attempt{QR: c}), ErrMalformedQR)
		_ = name
	}
	// Far-future expiry with a valid MAC (a leaked key) is refused too.
	mustDeny(t, e.g.Admit(Attempt{QR: encodeQR(e.keys.QR, q)}), ErrMalformedQR)
	mustAdmit(t, e.g.Admit(Attempt{QR: code}), "s")
}

// TestQRCodeAcceptedOnceConcurrently scans one code at many doors at once:
// exactly one opens.
func TestQRCodeAcceptedOnceConcurrently(t *testing.T) {
	e := newEnv(t, nil)
	e.register(t, "s", false)
	code, _, err := e.g.IssueQR("s")
	if err != nil {
		t.Fatal(err)
	}
	const doors = 8
	results := make(chan Decision, doors)
	var wg sync.WaitGroup
	for i := range doors {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results <- e.g.Admit(Attempt{Door: fmt.Sprint("door-", i), QR: code})
		}()
	}
	wg.Wait()
	close(results)
	admitted := 0
	for d := range results {
		if d.Admit {
			admitted++
		} else if !errors.Is(d.Err, ErrReplayed) {
			t.Errorf("denied with %v, want ErrReplayed", d.Err)
		}
	}
	if admitted != 1 {
		t.Fatalf("%d doors opened on one code, want 1", admitted)
	}
}

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
