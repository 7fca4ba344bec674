package gate

import (
	"errors"
	"fmt"
	"testing"
	"time"
)

// TestFaceNeedsItsOwnConsent checks that a face is enrolled only under a
// valid face-recognition consent: entry consent alone, a withdrawn or an
// expired face consent, or none, all fail with typed errors.
func TestFaceNeedsItsOwnConsent(t *testing.T) {
	tests := []struct {
		name    string
		consent func(e *env, s string) error
		want    error
	}{
		{"entry consent only", func(e *env, s string) error { return nil }, ErrNoConsent},
		{"face consent", func(e *env, s string) error { return e.g.GiveConsent(s, adult(PurposeFace)) }, nil},
		{"expired face consent", func(e *env, s string) error {
			c := adult(PurposeFace)
			c.Given, c.Expires = t0.Add(-48*time.Hour), t0.Add(-time.Hour)
			return e.g.GiveConsent(s, c)
		}, ErrConsentExpired},
		{"withdrawn face consent", func(e *env, s string) error {
			if err := e.g.GiveConsent(s, adult(PurposeFace)); err != nil {
				return err
			}
			_, err := e.g.Withdraw(s, PurposeFace)
			return err
		}, ErrNoConsent},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, nil)
			e.register(t, "flat-101", false)
			if err := e.g.SetCard("flat-101", []byte{1, 2, 3, 4}); err != nil {
				t.Fatal(err)
			}
			if err := tt.consent(e, "flat-101"); err != nil {
				t.Fatal(err)
			}
			_, err := e.g.EnrollFace("flat-101", vector(1), 0.9)
			if !errors.Is(err, tt.want) || (tt.want == nil) != (err == nil) {
				t.Fatalf("EnrollFace err = %v, want %v", err, tt.want)
			}
			n := 0
			if tt.want == nil {
				n = 1
			}
			if got, _ := e.g.Templates("flat-101"); len(got) != n {
				t.Fatalf("%d templates stored, want %d", len(got), n)
			}
		})
	}
	// An unregistered subject has no consent of any kind.
	e := newEnv(t, nil)
	if _, err := e.g.EnrollFace("nobody", vector(1), 0.9); !errors.Is(err, ErrUnknownSubject) {
		t.Fatalf("unregistered: %v, want ErrUnknownSubject", err)
	}
}

// TestConsentUnder14NeedsGuardian checks the guardian rule from the birth
// year alone, conservatively.
func TestConsentUnder14NeedsGuardian(t *testing.T) {
	year := t0.Year()
	tests := []struct {
		birth    int
		guardian string
		ok       bool
	}{
		{year - 10, "", false},
		{year - 10, "Kim Min-jun (mother)", true},
		{year - 14, "", false}, // may still be 13 this year
		{year - 14, "Lee Ji-woo (father)", true},
		{year - 15, "", true}, // at least 14 by now
		{year - 40, "", true},
		{year + 1, "guardian", false}, // born in the future
		{1800, "", false},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("born %d guardian %q", tt.birth, tt.guardian), func(t *testing.T) {
			e := newEnv(t, nil)
			c := Consent{Purpose: PurposeEntry, How: "form", BirthYear: tt.birth, Guardian: tt.guardian}
			err := e.g.Register("child", c)
			if tt.ok != (err == nil) {
				t.Fatalf("Register err = %v, want ok=%v", err, tt.ok)
			}
			if err != nil && !errors.Is(err, ErrInvalidConsent) {
				t.Fatalf("err = %v, want ErrInvalidConsent", err)
			}
		})
	}
}

// TestConsentRecordFields checks the other consent validations.
func TestConsentRecordFields(t *testing.T) {
	tests := []struct {
		name string
		c    Consent
	}{
		{"unknown purpose", Consent{Purpose: "marketing", How: "form", BirthYear: 1980}},
		{"no how", Consent{Purpose: PurposeFace, BirthYear: 1980}},
		{"expires before given", Consent{Purpose: PurposeFace, How: "form", BirthYear: 1980, Given: t0, Expires: t0.Add(-time.Hour)}},
		{"given in the future", Consent{Purpose: PurposeFace, How: "form", BirthYear: 1980, Given: t0.Add(time.Hour)}},
		{"already withdrawn", Consent{Purpose: PurposeFace, How: "form", BirthYear: 1980, Withdrawn: t0}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, nil)
			e.register(t, "s", false)
			if err := e.g.GiveConsent("s", tt.c); !errors.Is(err, ErrInvalidConsent) {
				t.Fatalf("err = %v, want ErrInvalidConsent", err)
			}
		})
	}
}

// TestExpiredFaceConsentStopsMatching checks that once face consent
// expires the subject's face no longer opens anything — though their card
// does — and that renewing the consent brings the face back.
func TestExpiredFaceConsentStopsMatching(t *testing.T) {
	e := newEnv(t, nil)
	e.register(t, "flat-7", false)
	c := adult(PurposeFace)
	c.Expires = t0.Add(30 * 24 * time.Hour)
	if err := e.g.GiveConsent("flat-7", c); err != nil {
		t.Fatal(err)
	}
	e.g.SetCard("flat-7", []byte("card-7"))
	if _, err := e.g.EnrollFace("flat-7", vector(7), 0.9); err != nil {
		t.Fatal(err)
	}
	mustAdmit(t, e.g.Admit(Attempt{Door: "main", Liveness: Live, Face: near(vector(7), 1)}), "flat-7")

	e.clock.Add(30 * 24 * time.Hour)
	mustDeny(t, e.g.Admit(Attempt{Door: "main", Liveness: Live, Face: near(vector(7), 2)}), ErrConsentExpired)
	if _, err := e.g.EnrollFace("flat-7", vector(7), 0.9); !errors.Is(err, ErrConsentExpired) {
		t.Fatalf("enrolling under expired consent: %v", err)
	}
	mustAdmit(t, e.g.Admit(Attempt{Door: "main", Card: []byte("card-7")}), "flat-7")

	c.Given, c.Expires = time.Time{}, e.clock.Now().Add(365*24*time.Hour)
	if err := e.g.GiveConsent("flat-7", c); err != nil {
		t.Fatal(err)
	}
	mustAdmit(t, e.g.Admit(Attempt{Door: "main", Liveness: Live, Face: near(vector(7), 3)}), "flat-7")
}

// TestConsentHistoryKept checks that a renewed or re-given consent keeps
// the one it replaces, withdrawal date included, for the export.
func TestConsentHistoryKept(t *testing.T) {
	e := newEnv(t, nil)
	e.register(t, "s", true)
	e.g.SetCard("s", []byte("c"))
	e.clock.Add(time.Hour)
	if _, err := e.g.Withdraw("s", PurposeFace); err != nil {
		t.Fatal(err)
	}
	e.clock.Add(time.Hour)
	c := adult(PurposeFace)
	c.How = "app, second time"
	if err := e.g.GiveConsent("s", c); err != nil {
		t.Fatal(err)
	}
	ex, err := e.g.Export("s")
	if err != nil {
		t.Fatal(err)
	}
	if len(ex.ConsentHistory) != 1 || !ex.ConsentHistory[0].Withdrawn.Equal(t0.Add(time.Hour)) || !ex.ConsentHistory[0].Given.Equal(t0) {
		t.Fatalf("history = %+v", ex.ConsentHistory)
	}
	cur, err := e.g.Consent("s", PurposeFace)
	if err != nil || cur.How != "app, second time" || cur.ValidAt(e.clock.Now()) != nil {
		t.Fatalf("current = %+v, %v", cur, err)
	}
	if len(ex.Consents) != 2 {
		t.Fatalf("%d current consents, want 2", len(ex.Consents))
	}
}
