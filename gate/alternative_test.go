package gate

import (
	"errors"
	"strings"
	"testing"
)

// TestEveryEnrolledSubjectHasNonFacePath checks, for every policy, every
// combination of credentials a subject can hold, with and without a face
// enrolled, that the gate either refuses to enroll the face
// (ErrNoAlternative) or the subject gets in without showing their face.
func TestEveryEnrolledSubjectHasNonFacePath(t *testing.T) {
	for _, p := range Policies {
		t.Run(p.String(), func(t *testing.T) {
			e := newEnv(t, nil, withPolicy(p))
			// The held credentials are card and PIN only. QR is left out by
			// design, not by oversight: a QR code is issued per visit, valid
			// for minutes and accepted once, so it is nobody's standing way
			// in and Policy.Alternative does not count it. A subject with
			// only QR codes issued holds nothing face-free, and enrolling a
			// face must fail under every policy, checked here.
			qrOnly := "s-qr-only"
			e.register(t, qrOnly, true)
			if _, _, err := e.g.IssueQR(qrOnly); err != nil {
				t.Fatalf("IssueQR: %v", err)
			}
			if _, err := e.g.EnrollFace(qrOnly, vector(49), 0.9); !errors.Is(err, ErrNoAlternative) {
				t.Fatalf("%s: EnrollFace with only a QR code issued = %v, want ErrNoAlternative", qrOnly, err)
			}
			if held, _ := e.g.held(qrOnly); held != 0 {
				t.Fatalf("%s: an issued QR code counts as held %v", qrOnly, held)
			}
			for held := Factors(0); held <= Card|PIN; held += Card {
				s := "s-" + strings.ReplaceAll(held.String(), "+", "-")
				e.register(t, s, true)
				if held.Has(Card) {
					e.g.SetCard(s, []byte("card-"+s))
				}
				if held.Has(PIN) {
					e.g.SetPIN(s, "2580")
				}
				_, err := e.g.EnrollFace(s, vector(uint64(held)+50), 0.9)
				alt, ok := p.Alternative(held)
				switch {
				case !ok && !errors.Is(err, ErrNoAlternative):
					t.Fatalf("%s: face enrolled (%v) with no way in but the face", s, err)
				case ok && err != nil:
					t.Fatalf("%s: %v", s, err)
				}
				if got, _ := e.g.Templates(s); len(got) > 0 {
					// Face enrolled: the face-free path must open the door.
					a := Attempt{Door: "d"}
					if alt.Has(Card) {
						a.Card = []byte("card-" + s)
					}
					if alt.Has(PIN) {
						a.Subject, a.PIN = s, "2580"
					}
					mustAdmit(t, e.g.Admit(a), s)
				}
			}
			// Every subject that holds a face has a path without it.
			subjects, _ := e.g.Subjects()
			for _, s := range subjects {
				tm, _ := e.g.Templates(s)
				held, _ := e.g.held(s)
				if _, ok := p.Alternative(held); len(tm) > 0 && !ok {
					t.Fatalf("%s holds a face and only %v", s, held)
				}
			}
		})
	}
}

// TestCannotRemoveLastAlternative checks that a card or PIN that is a
// face-enrolled subject's only face-free way in cannot be removed.
func TestCannotRemoveLastAlternative(t *testing.T) {
	e := newEnv(t, nil)
	e.register(t, "s", true)
	e.g.SetCard("s", []byte("c"))
	e.g.EnrollFace("s", vector(3), 0.9)
	if err := e.g.RemoveCard("s"); !errors.Is(err, ErrNoAlternative) {
		t.Fatalf("RemoveCard = %v, want ErrNoAlternative", err)
	}
	e.g.SetPIN("s", "1111")
	if err := e.g.RemoveCard("s"); err != nil {
		t.Fatal(err)
	}
	if err := e.g.RemovePIN("s"); !errors.Is(err, ErrNoAlternative) {
		t.Fatalf("RemovePIN = %v, want ErrNoAlternative", err)
	}
	if _, err := e.g.Withdraw("s", PurposeFace); err != nil {
		t.Fatal(err)
	}
	if err := e.g.RemovePIN("s"); err != nil {
		t.Fatalf("without a face the PIN may go: %v", err)
	}
}

// TestSubjectWithoutFaceIsFirstClass runs a gate with no face gallery at
// all: every non-face credential works and a face probe is just refused.
func TestSubjectWithoutFaceIsFirstClass(t *testing.T) {
	e := newEnv(t, nil, withoutFaces())
	e.register(t, "s", false)
	e.g.SetCard("s", []byte("c"))
	e.g.SetPIN("s", "9876")
	code, _, _ := e.g.IssueQR("s")
	mustAdmit(t, e.g.Admit(Attempt{Card: []byte("c")}), "s")
	mustAdmit(t, e.g.Admit(Attempt{Subject: "s", PIN: "9876"}), "s")
	mustAdmit(t, e.g.Admit(Attempt{QR: code}), "s")
	mustDeny(t, e.g.Admit(Attempt{Liveness: Live, Face: vector(1)}), ErrNoFace)
	// A face probe alongside a card does not get in the way.
	mustAdmit(t, e.g.Admit(Attempt{Liveness: Live, Face: vector(1), Card: []byte("c")}), "s")
	if _, err := e.g.EnrollFace("s", vector(1), 0.9); !errors.Is(err, ErrNoFace) {
		t.Fatalf("EnrollFace without gallery = %v", err)
	}
	if _, err := e.g.Export("s"); err != nil {
		t.Fatal(err)
	}
}
