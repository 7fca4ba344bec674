package gate_test

import (
	"bytes"
	"errors"
	"fmt"
	"log"
	"time"

	"github.com/facegate/facegate/facematch"
	"github.com/facegate/facegate/facematch/gallery"
	"github.com/facegate/facegate/gate"
	"github.com/facegate/facegate/gate/accesslog"
	"github.com/facegate/facegate/gate/records/recordstest"
)

var model = facematch.Model{ID: "example-model", Dim: 4, Metric: facematch.Euclidean, Threshold: 0.6}

// newGate returns a gate on an in-memory store; a deployment passes its
// *store.Store instead.
func newGate(now *time.Time) *gate.Gate {
	keys, err := gate.DeriveKeys(bytes.Repeat([]byte("operator secret!"), 2))
	if err != nil {
		log.Fatal(err)
	}
	faces, err := gallery.New(model, nil)
	if err != nil {
		log.Fatal(err)
	}
	st := recordstest.New()
	clock := func() time.Time { return *now }
	accessLog, err := accesslog.New(st, accesslog.Options{Clock: clock})
	if err != nil {
		log.Fatal(err)
	}
	g, err := gate.New(gate.Config{
		Records: st, Keys: keys, Faces: faces, Model: model, Log: accessLog, Clock: clock,
		Doors: map[string]gate.Policy{"server-room": gate.FaceAndCardOrPIN},
	})
	if err != nil {
		log.Fatal(err)
	}
	return g
}

// A resident registers, gets a card, consents to face recognition and
// enrolls a face; the lobby opens on the face alone, the server room wants
// the face and the card — or the card and PIN, never the face only.
func ExampleGate_Admit() {
	now := time.Date(2026, 11, 24, 8, 0, 0, 0, time.UTC)
	g := newGate(&now)
	must := func(err error) {
		if err != nil {
			log.Fatal(err)
		}
	}
	must(g.Register("flat-12b", gate.Consent{Purpose: gate.PurposeEntry, How: "signed form", BirthYear: 1985}))
	must(g.SetCard("flat-12b", []byte{0x04, 0xa1, 0xb2, 0xc3}))
	must(g.SetPIN("flat-12b", "2580"))
	must(g.GiveConsent("flat-12b", gate.Consent{Purpose: gate.PurposeFace, How: "signed form", BirthYear: 1985}))
	face := []float32{0.5, 0.5, 0.5, 0.5}
	if _, err := g.EnrollFace("flat-12b", face, 0.9); err != nil {
		log.Fatal(err)
	}
	for _, a := range []gate.Attempt{
		{Door: "lobby", Liveness: gate.Live, Face: []float32{0.52, 0.49, 0.5, 0.5}},
		{Door: "server-room", Liveness: gate.Live, Face: []float32{0.52, 0.49, 0.5, 0.5}},
		{Door: "server-room", Liveness: gate.Live, Face: []float32{0.52, 0.49, 0.5, 0.5}, Card: []byte{0x04, 0xa1, 0xb2, 0xc3}},
		{Door: "server-room", Card: []byte{0x04, 0xa1, 0xb2, 0xc3}, PIN: "2580"},
		{Door: "lobby", Card: []byte{0xde, 0xad}},
	} {
		d := g.Admit(a)
		fmt.Printf("%-11s %-9s admit=%-5v %s\n", a.Door, d.Method, d.Admit, d.Reason)
	}
	// Output:
	// lobby       face      admit=true  admitted by face
	// server-room face      admit=false not enough factors for this door
	// server-room face+card admit=true  admitted by face+card
	// server-room card+pin  admit=true  admitted by card+pin
	// lobby       card      admit=false not recognised
}

// Withdrawing face consent deletes every face template at once and returns
// a receipt the operator can verify; the card keeps working.
func ExampleGate_Withdraw() {
	now := time.Date(2026, 11, 24, 8, 0, 0, 0, time.UTC)
	g := newGate(&now)
	g.Register("flat-3a", gate.Consent{Purpose: gate.PurposeEntry, How: "app", BirthYear: 1990})
	g.SetCard("flat-3a", []byte("card-3a"))
	g.GiveConsent("flat-3a", gate.Consent{Purpose: gate.PurposeFace, How: "app", BirthYear: 1990})
	// This compound has a FaceAndCardOrPIN door, so a face is enrolled only
	// for a subject with card and PIN: the face is never needed.
	_, err := g.EnrollFace("flat-3a", []float32{1, 0, 0, 0}, 0.9)
	fmt.Println(errors.Is(err, gate.ErrNoAlternative))
	g.SetPIN("flat-3a", "8642")
	g.EnrollFace("flat-3a", []float32{1, 0, 0, 0}, 0.9)
	g.EnrollFace("flat-3a", []float32{0.98, 0.2, 0, 0}, 0.8)

	var r gate.Receipt
	r, err = g.Withdraw("flat-3a", gate.PurposeFace)
	if err != nil {
		log.Fatal(err)
	}
	keys, _ := gate.DeriveKeys(bytes.Repeat([]byte("operator secret!"), 2))
	fmt.Println(r.Templates, r.At.Format(time.RFC3339), gate.VerifyReceipt(keys.Receipt, r))
	r.Templates = 0
	fmt.Println(errors.Is(gate.VerifyReceipt(keys.Receipt, r), gate.ErrBadReceipt))

	fmt.Println(g.Admit(gate.Attempt{Liveness: gate.Live, Face: []float32{1, 0, 0, 0}}).Admit)
	fmt.Println(g.Admit(gate.Attempt{Card: []byte("card-3a")}).Admit)
	// Output:
	// true
	// 2 2026-11-24T08:00:00Z <nil>
	// true
	// false
	// true
}

// A one-time QR code opens the door once.
func ExampleGate_IssueQR() {
	now := time.Date(2026, 11, 24, 8, 0, 0, 0, time.UTC)
	g := newGate(&now)
	g.Register("visitor-17", gate.Consent{Purpose: gate.PurposeEntry, How: "front desk", BirthYear: 1970})
	code, expires, err := g.IssueQR("visitor-17")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(expires.Sub(now))
	fmt.Println(g.Admit(gate.Attempt{QR: code}).Admit)
	d := g.Admit(gate.Attempt{QR: code})
	fmt.Println(d.Admit, errors.Is(d.Err, gate.ErrReplayed))
	// Output:
	// 5m0s
	// true
	// false true
}

// Face consent for a child is given by a named guardian; the birth year is
// all the gate keeps of the child's age.
func ExampleGate_GiveConsent() {
	now := time.Date(2026, 11, 24, 8, 0, 0, 0, time.UTC)
	g := newGate(&now)
	err := g.Register("flat-8-child", gate.Consent{Purpose: gate.PurposeEntry, How: "form", BirthYear: 2016})
	fmt.Println(errors.Is(err, gate.ErrInvalidConsent))
	err = g.Register("flat-8-child", gate.Consent{Purpose: gate.PurposeEntry, How: "form", BirthYear: 2016, Guardian: "Park Seo-yeon (mother)"})
	fmt.Println(err)
	err = g.GiveConsent("flat-8-child", gate.Consent{Purpose: gate.PurposeFace, How: "form", BirthYear: 2016,
		Guardian: "Park Seo-yeon (mother)", Expires: now.AddDate(1, 0, 0)})
	fmt.Println(err)
	// Output:
	// true
	// <nil>
	// <nil>
}

// Export answers a right-of-access request without any biometric vector.
func ExampleGate_Export() {
	now := time.Date(2026, 11, 24, 8, 0, 0, 0, time.UTC)
	g := newGate(&now)
	g.Register("flat-1", gate.Consent{Purpose: gate.PurposeEntry, How: "form", BirthYear: 1960})
	g.SetPIN("flat-1", "1357")
	g.SetCard("flat-1", []byte("card-1"))
	g.GiveConsent("flat-1", gate.Consent{Purpose: gate.PurposeFace, How: "form", BirthYear: 1960})
	g.EnrollFace("flat-1", []float32{0, 1, 0, 0}, 0.7)
	e, err := g.Export("flat-1")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(len(e.Consents), e.PIN != nil, e.Card != nil) // the card only as a keyed MAC
	for _, t := range e.FaceTemplates {
		fmt.Println(t.Model, t.Dim, t.Created.Format(time.DateOnly))
	}
	// Output:
	// 2 true true
	// example-model 4 2026-11-24
}
