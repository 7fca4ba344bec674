package gate

import (
	"encoding/hex"
	"encoding/json"
	"fmt"

	"github.com/facegate/facegate/gate/records"
)

// Withdraw withdraws a subject's consent for purpose and deletes what it
// covered, returning a receipt. Withdrawing PurposeFace crypto-shreds every
// face template of the subject at once and drops them from the gallery;
// cards, PINs and QR codes keep working. Withdrawing PurposeEntry erases
// the subject altogether (see Erase).
func (g *Gate) Withdraw(subject string, purpose Purpose) (Receipt, error) {
	switch purpose {
	case PurposeEntry:
		return g.Erase(subject)
	case PurposeFace:
	default:
		return Receipt{}, fmt.Errorf("%w: unknown purpose %q", ErrInvalidConsent, purpose)
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if err := g.exists(subject); err != nil {
		return Receipt{}, err
	}
	now := g.now()
	c, err := g.Consent(subject, PurposeFace)
	if err != nil {
		return Receipt{}, err
	}
	names, err := g.templates(subject)
	if err != nil {
		return Receipt{}, err
	}
	// Out of the gallery first, so nothing matches from here on; then the
	// consent marked withdrawn and the templates shredded in one
	// transaction, so a crash cannot leave one without the other.
	if err := g.removeFaces(subject); err != nil {
		return Receipt{}, err
	}
	err = g.cfg.Records.Update(func(b records.Batch) error {
		if c.Withdrawn.IsZero() {
			c.Withdrawn = now
			data, err := json.Marshal(c)
			if err != nil {
				return err
			}
			if err := b.PutRecord(subject, records.ClassConsent, string(PurposeFace), data); err != nil {
				return err
			}
		}
		if err := b.ShredClass(subject, records.ClassFace); err != nil && !records.NotFound(err) {
			return fmt.Errorf("gate: shred face templates of %q: %w", subject, err)
		}
		return nil
	})
	if err != nil {
		g.reloadFaces(subject)
		return Receipt{}, err
	}
	return g.receipt(subject, PurposeFace, len(names), []string{
		fmt.Sprintf("face templates: %d (data key destroyed)", len(names)),
		"face gallery entries",
		"face-recognition consent: marked withdrawn",
	}), nil
}

func (g *Gate) receipt(subject string, p Purpose, n int, deleted []string) Receipt {
	r := Receipt{Subject: subject, Purpose: p, Deleted: deleted, Templates: n, At: g.now()}
	r.MAC = r.mac(g.cfg.Keys.Receipt)
	return r
}

// Erase deletes everything held about a subject — consents, face
// templates, card, PIN, QR handle — by crypto-shredding every class of the
// subject, and returns a receipt. Access events stay in the log under their
// daily pseudonyms, which become unlinkable at the end of the retention
// window like everyone else's.
func (g *Gate) Erase(subject string) (Receipt, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if err := g.exists(subject); err != nil {
		return Receipt{}, err
	}
	names, err := g.templates(subject)
	if err != nil {
		return Receipt{}, err
	}
	if err := g.removeFaces(subject); err != nil {
		return Receipt{}, err
	}
	var deleted []string
	// One transaction: a crash leaves the subject whole or gone, never an
	// index entry pointing at shredded data.
	err = g.cfg.Records.Update(func(b records.Batch) error {
		deleted = []string{fmt.Sprintf("face templates: %d", len(names)), "consent records"}
		if data, err := b.GetRecord(subject, records.ClassCredential, cardName); err == nil {
			if r, err := decodeCardRecord(data); err == nil {
				if err := b.DeleteRecord(indexSubject, cardIndexClass, hex.EncodeToString(r.MAC)); err != nil && !records.NotFound(err) {
					return err
				}
			}
			deleted = append(deleted, "card")
		}
		if _, err := b.GetRecord(subject, records.ClassCredential, pinName); err == nil {
			deleted = append(deleted, "PIN")
		}
		h := qrHandleOf(g.cfg.Keys.QR, subject)
		if err := b.DeleteRecord(indexSubject, qrIndexClass, hex.EncodeToString(h[:])); err != nil && !records.NotFound(err) {
			return err
		}
		if err := b.DeleteSubject(subject); err != nil && !records.NotFound(err) {
			return fmt.Errorf("gate: shred %q: %w", subject, err)
		}
		return b.DeleteRecord(indexSubject, subjectsClass, subject)
	})
	if err != nil {
		g.reloadFaces(subject)
		return Receipt{}, err
	}
	return g.receipt(subject, PurposeEntry, len(names), append(deleted, "subject (all data keys destroyed)")), nil
}
