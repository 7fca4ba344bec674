package gate

import (
	"testing"
)

// TestPolicyNeverRequiresFace checks, for every policy, that whenever a
// set of factors with a face opens a door, the same subject's card and PIN
// without the face open it too, and that the face alone is never needed.
func TestPolicyNeverRequiresFace(t *testing.T) {
	for _, p := range Policies {
		for f := Factors(0); f < 16; f++ {
			if !p.Accepts(f) || f&Face == 0 {
				continue
			}
			if !p.Accepts(f&^Face | Card | PIN) {
				t.Errorf("%v accepts %v but not %v", p, f, f&^Face|Card|PIN)
			}
		}
		if _, ok := p.Alternative(Card | PIN); !ok {
			t.Errorf("%v has no face-free alternative for card+PIN holders", p)
		}
		if p.Accepts(0) {
			t.Errorf("%v accepts nothing presented", p)
		}
	}
}

func TestPolicyString(t *testing.T) {
	for p, want := range map[Policy]string{
		AnyFactor:                              "any-factor",
		FaceAndCardOrPIN | FaceWithoutLiveness: "face-and-card-or-pin+face-without-liveness",
		Policy(5):                              "policy(5)",
		Policy(5) | FaceWithoutLiveness:        "policy(133)",
		AnyFactor | FaceWithoutLiveness:        "any-factor+face-without-liveness",
	} {
		if got := p.String(); got != want {
			t.Errorf("%d: %q, want %q", uint8(p), got, want)
		}
		if p.Valid() != (p.rule() <= FaceAndCardOrPIN) {
			t.Errorf("%v: Valid %v", p, p.Valid())
		}
	}
}
