package gate

import (
	"fmt"
	"strings"
)

// Factors is a set of ways a subject identified at a door.
type Factors uint8

// The factors a door can see.
const (
	// Face is a face probe matched in the gallery.
	Face Factors = 1 << iota
	// Card is a card UID.
	Card
	// PIN is a PIN typed for a subject.
	PIN
	// QR is a one-time QR code.
	QR
)

var factorNames = []string{"face", "card", "pin", "qr"}

// String returns the factors joined by "+", e.g. "face+card", or "none".
func (f Factors) String() string {
	var s []string
	for i, n := range factorNames {
		if f&(1<<i) != 0 {
			s = append(s, n)
		}
	}
	if len(s) == 0 {
		return "none"
	}
	return strings.Join(s, "+")
}

// Has reports whether f holds every factor of g.
func (f Factors) Has(g Factors) bool { return f&g == g }

// Policy decides which combinations of valid factors open a door.
type Policy uint8

const (
	// AnyFactor opens on any one valid factor: face, card, PIN or QR.
	AnyFactor Policy = iota
	// FaceAndCardOrPIN is for high-security doors: the face and a card or
	// PIN of the same subject. Card and PIN together are accepted in place
	// of the face, so no subject ever needs a face to get in.
	FaceAndCardOrPIN
)

// Policies lists every policy, for tests and tools.
var Policies = []Policy{AnyFactor, FaceAndCardOrPIN}

// String names the policy.
func (p Policy) String() string {
	switch p {
	case AnyFactor:
		return "any-factor"
	case FaceAndCardOrPIN:
		return "face-and-card-or-pin"
	}
	return fmt.Sprintf("policy(%d)", uint8(p))
}

// Valid reports whether p is a known policy.
func (p Policy) Valid() bool { return p <= FaceAndCardOrPIN }

// Accepts reports whether valid factors f, all of one subject, open a door
// under p.
func (p Policy) Accepts(f Factors) bool {
	switch p {
	case AnyFactor:
		return f != 0
	case FaceAndCardOrPIN:
		return f.Has(Face|Card) || f.Has(Face|PIN) || f.Has(Card|PIN)
	}
	return false
}

// Alternative returns the smallest face-free set of factors p accepts from a
// subject who holds the credentials in held (any of Card, PIN), and whether
// there is one. QR codes are not counted: they are issued per visit and no
// one's standing way in.
func (p Policy) Alternative(held Factors) (Factors, bool) {
	for _, f := range []Factors{Card, PIN, Card | PIN} {
		if held.Has(f) && p.Accepts(f) {
			return f, true
		}
	}
	return 0, false
}
