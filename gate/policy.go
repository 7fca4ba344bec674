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

// Policy decides which combinations of valid factors open a door. A face
// counts as a factor only with a Live verdict unless the policy carries
// FaceWithoutLiveness: face recognition alone never opens a door to a
// photo held to the camera unless the operator chose so for that door.
type Policy uint8

const (
	// AnyFactor opens on any one valid factor: face, card, PIN or QR.
	AnyFactor Policy = iota
	// FaceAndCardOrPIN is for high-security doors: the face and a card or
	// PIN of the same subject. Card and PIN together are accepted in place
	// of the face, so no subject ever needs a face to get in.
	FaceAndCardOrPIN
)

// FaceWithoutLiveness is a flag added to a policy (AnyFactor |
// FaceWithoutLiveness) that lets a matched face count without a Live
// verdict: for a door whose camera has no liveness check, or for tests and
// demonstrations with still photos. Without it a face counts only when
// Attempt.Liveness is Live.
const FaceWithoutLiveness Policy = 1 << 7

// Policies lists every policy rule, for tests and tools.
var Policies = []Policy{AnyFactor, FaceAndCardOrPIN}

// rule returns p without its flags.
func (p Policy) rule() Policy { return p &^ FaceWithoutLiveness }

// String names the policy, e.g. "any-factor" or
// "any-factor+face-without-liveness".
func (p Policy) String() string {
	var s string
	switch p.rule() {
	case AnyFactor:
		s = "any-factor"
	case FaceAndCardOrPIN:
		s = "face-and-card-or-pin"
	default:
		return fmt.Sprintf("policy(%d)", uint8(p))
	}
	if p&FaceWithoutLiveness != 0 {
		s += "+face-without-liveness"
	}
	return s
}

// Valid reports whether p is a known policy rule, with or without
// FaceWithoutLiveness.
func (p Policy) Valid() bool { return p.rule() <= FaceAndCardOrPIN }

// Accepts reports whether valid factors f, all of one subject, open a door
// under p.
func (p Policy) Accepts(f Factors) bool {
	switch p.rule() {
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
