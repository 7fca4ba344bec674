package main

import (
	"bytes"
	"errors"
	"testing"

	"github.com/facegate/facegate/examples/internal/exitcode"
	"github.com/facegate/facegate/gate"
)

func TestParseLine(t *testing.T) {
	for _, tc := range []struct {
		in      string
		card    []byte
		pin, id string
		qr      string
		err     error
	}{
		{in: "card 04a1b2c3", card: []byte{4, 0xa1, 0xb2, 0xc3}},
		{in: "card 04:A1:b2:c3", card: []byte{4, 0xa1, 0xb2, 0xc3}},
		{in: "pin 2580 id flat-12b", pin: "2580", id: "flat-12b"},
		{in: "card 0a pin 1234", card: []byte{0x0a}, pin: "1234"},
		{in: "qr AbC.123", qr: "AbC.123"},
		{in: "card", err: exitcode.ErrInput},
		{in: "card zz", err: gate.ErrWrongCard},
		{in: "door 3", err: exitcode.ErrInput},
		{in: "id flat-1", err: exitcode.ErrInput},
	} {
		a, err := parseLine(tc.in)
		if tc.err != nil {
			if !errors.Is(err, tc.err) {
				t.Errorf("%q: error %v, want %v", tc.in, err, tc.err)
			}
			continue
		}
		if err != nil || !bytes.Equal(a.Card, tc.card) || a.PIN != tc.pin || a.Subject != tc.id || a.QR != tc.qr {
			t.Errorf("%q: %+v, %v", tc.in, a, err)
		}
	}
}

// FuzzParseLine checks that a reader line gives an attempt presenting
// something, or an error, and never panics.
func FuzzParseLine(f *testing.F) {
	for _, s := range []string{"card 04a1b2c3", "pin 2580 id x", "qr abc", "card 0a pin 1", "", "card", "id x id y"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		a, err := parseLine(s)
		if err == nil && a.Card == nil && a.PIN == "" && a.QR == "" {
			t.Fatalf("%q: no error and nothing presented", s)
		}
	})
}
