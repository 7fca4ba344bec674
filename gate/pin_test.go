package gate

import (
	"errors"
	"fmt"
	"sync"
	"testing"
)

// TestPINLockout checks that a PIN locks after MaxPINFailures wrong tries
// in a row — after which even the right PIN is refused without being
// hashed — that a right PIN resets the count, and that the operator can
// lift the lock.
func TestPINLockout(t *testing.T) {
	for _, max := range []int{1, 3, 5} {
		t.Run(fmt.Sprintf("max=%d", max), func(t *testing.T) {
			e := newEnv(t, nil, withMaxPIN(max))
			e.register(t, "s", false)
			if err := e.g.SetPIN("s", "135790"); err != nil {
				t.Fatal(err)
			}
			try := func(pin string) Decision { return e.g.Admit(Attempt{Subject: "s", PIN: pin}) }
			// max-1 failures, then the right PIN: the count resets.
			for range max - 1 {
				mustDeny(t, try("000000"), ErrWrongPIN)
			}
			mustAdmit(t, try("135790"), "s")
			for i := range max {
				d := try("000000")
				want := ErrWrongPIN
				if i == max-1 {
					want = ErrLockedOut
				}
				mustDeny(t, d, want)
			}
			mustDeny(t, try("135790"), ErrLockedOut)
			ex, _ := e.g.Export("s")
			if ex.PIN.Locked.IsZero() || ex.PIN.Failures != max {
				t.Fatalf("export PIN = %+v", ex.PIN)
			}
			if err := e.g.UnlockPIN("s"); err != nil {
				t.Fatal(err)
			}
			mustAdmit(t, try("135790"), "s")
		})
	}
}

// TestPINStoredOnlyAsHash checks that the PIN is kept only as an Argon2id
// hash.
func TestPINStoredOnlyAsHash(t *testing.T) {
	e := newEnv(t, nil)
	e.register(t, "s", false)
	if err := e.g.SetPIN("s", "80417263"); err != nil {
		t.Fatal(err)
	}
	if n := e.mem.Opens([]byte("80417263")); n != 0 {
		t.Fatalf("the PIN is stored in %d records", n)
	}
	for _, bad := range []string{"", "123", "1234567890123", "12a4", "１２３４"} {
		if err := e.g.SetPIN("s", bad); !errors.Is(err, ErrInvalidPIN) {
			t.Errorf("SetPIN(%q) = %v", bad, err)
		}
	}
	mustDeny(t, e.g.Admit(Attempt{PIN: "80417263"}), ErrUnknownSubject) // no subject named
	e.register(t, "nopin", false)
	mustDeny(t, e.g.Admit(Attempt{Subject: "nopin", PIN: "80417263"}), ErrNoPIN)
}

// TestPINLockoutCountsConcurrentAttempts tries wrong PINs from many
// keypads at once: every attempt is counted and the lock falls exactly at
// MaxPINFailures.
func TestPINLockoutCountsConcurrentAttempts(t *testing.T) {
	e := newEnv(t, nil, withMaxPIN(5))
	e.register(t, "s", false)
	e.g.SetPIN("s", "4321")
	const tries = 12
	results := make(chan Decision, tries)
	var wg sync.WaitGroup
	for range tries {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results <- e.g.Admit(Attempt{Subject: "s", PIN: "0000"})
		}()
	}
	wg.Wait()
	close(results)
	wrong, locked := 0, 0
	for d := range results {
		switch {
		case errors.Is(d.Err, ErrWrongPIN):
			wrong++
		case errors.Is(d.Err, ErrLockedOut):
			locked++
		default:
			t.Errorf("unexpected decision %+v", d)
		}
	}
	if wrong != 4 || locked != tries-4 {
		t.Fatalf("%d wrong-PIN and %d locked-out answers, want 4 and %d", wrong, locked, tries-4)
	}
	mustDeny(t, e.g.Admit(Attempt{Subject: "s", PIN: "4321"}), ErrLockedOut)
}
