package gate

import (
	"errors"
	"strings"
	"testing"
)

// TestUnknownSubjectErrors checks the typed errors for subjects the gate
// does not hold and for invalid IDs.
func TestUnknownSubjectErrors(t *testing.T) {
	e := newEnv(t, nil)
	calls := map[string]func(string) error{
		"SetCard":     func(s string) error { return e.g.SetCard(s, []byte("c")) },
		"SetPIN":      func(s string) error { return e.g.SetPIN(s, "1234") },
		"GiveConsent": func(s string) error { return e.g.GiveConsent(s, adult(PurposeFace)) },
		"Withdraw":    func(s string) error { _, err := e.g.Withdraw(s, PurposeFace); return err },
		"Erase":       func(s string) error { _, err := e.g.Erase(s); return err },
		"Export":      func(s string) error { _, err := e.g.Export(s); return err },
		"IssueQR":     func(s string) error { _, _, err := e.g.IssueQR(s); return err },
		"UnlockPIN":   func(s string) error { return e.g.UnlockPIN(s) },
	}
	for name, f := range calls {
		if err := f("accesslog"); !errors.Is(err, ErrUnknownSubject) {
			t.Errorf("%s(accesslog) = %v, want ErrUnknownSubject", name, err)
		}
		if err := f("nobody"); !errors.Is(err, ErrUnknownSubject) {
			t.Errorf("%s(nobody) = %v, want ErrUnknownSubject", name, err)
		}
		for _, bad := range []string{"", "a/b", strings.Repeat("x", MaxSubjectLen+1), "flat 1"} {
			if err := f(bad); !errors.Is(err, ErrInvalidSubject) {
				t.Errorf("%s(%q) = %v, want ErrInvalidSubject", name, bad, err)
			}
		}
	}
	e.register(t, "s", false)
	if err := e.g.Register("s", adult(PurposeEntry)); !errors.Is(err, ErrSubjectExists) {
		t.Errorf("second Register = %v", err)
	}
	if err := e.g.Register("t", adult(PurposeFace)); !errors.Is(err, ErrInvalidConsent) {
		t.Errorf("Register with face consent = %v", err)
	}
}

// TestSubjectNamedLikeTheLog checks that a subject whose ID matches one of
// the log's store names cannot touch the log: erasing it leaves the log
// whole.
func TestSubjectNamedLikeTheLog(t *testing.T) {
	e := newEnv(t, nil)
	e.register(t, "accesslog", false)
	e.g.SetCard("accesslog", []byte("c"))
	mustAdmit(t, e.g.Admit(Attempt{Door: "d", Card: []byte("c")}), "accesslog")
	if _, err := e.g.Erase("accesslog"); err != nil {
		t.Fatal(err)
	}
	days, err := e.log.Days()
	if err != nil || len(days) != 1 {
		t.Fatalf("log days after erasing subject \"accesslog\": %v, %v", days, err)
	}
	if ev, _ := e.log.Events(t0); len(ev) != 1 {
		t.Fatalf("%d events, want 1", len(ev))
	}
}

// TestRealStoreErrors checks the gate's reading of the store's errors.
func TestRealStoreErrors(t *testing.T) {
	st := newStore(t)
	e := newEnv(t, st)
	if _, err := e.g.Export("nobody"); !errors.Is(err, ErrUnknownSubject) {
		t.Fatalf("Export(nobody) = %v", err)
	}
	if subjects, err := e.g.Subjects(); err != nil || len(subjects) != 0 {
		t.Fatalf("Subjects on an empty store = %v, %v", subjects, err)
	}
	e.register(t, "s", false)
	if err := e.g.Maintain(); err != nil {
		t.Fatal(err)
	}
	if _, err := e.g.Withdraw("s", PurposeFace); !errors.Is(err, ErrNoConsent) {
		t.Fatalf("Withdraw without face consent = %v", err)
	}
	if _, err := e.g.Erase("s"); err != nil {
		t.Fatalf("Erase of a subject with no credentials: %v", err)
	}
}
