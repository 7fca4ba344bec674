package gate

import (
	"fmt"

	"github.com/facegate/facegate/gate/records"
)

// keepsAlternative returns ErrNoAlternative if subject has face templates
// and would be left without a face-free way in holding only left.
func (g *Gate) keepsAlternative(subject string, left Factors) error {
	names, err := g.templates(subject)
	if err != nil {
		return err
	}
	if _, ok := g.strictest.Alternative(left); len(names) > 0 && !ok {
		return fmt.Errorf("%w: %q has a face enrolled; withdraw face consent first", ErrNoAlternative, subject)
	}
	return nil
}

// mayAdd checks that subject exists and holds a valid consent to entry,
// which a new card, PIN or QR code needs. g.mu must be held.
func (g *Gate) mayAdd(subject string) error {
	if err := g.exists(subject); err != nil {
		return err
	}
	return g.consentValid(subject, PurposeEntry)
}

// mayRemove checks that subject exists and keeps a face-free way in without
// the credentials f (ErrNoAlternative if they have a face enrolled and would
// not). g.mu must be held.
func (g *Gate) mayRemove(subject string, f Factors) error {
	if err := g.exists(subject); err != nil {
		return err
	}
	held, err := g.held(subject)
	if err != nil {
		return err
	}
	return g.keepsAlternative(subject, held&^f)
}

// held returns the non-face credentials a subject holds.
func (g *Gate) held(subject string) (Factors, error) {
	var f Factors
	for _, c := range []struct {
		name string
		f    Factors
	}{{cardName, Card}, {pinName, PIN}} {
		_, err := g.cfg.Records.GetRecord(subject, records.ClassCredential, c.name)
		switch {
		case err == nil:
			f |= c.f
		case !records.NotFound(err):
			return 0, err
		}
	}
	return f, nil
}
