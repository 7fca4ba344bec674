package gate

import (
	"encoding/hex"
	"encoding/json"
	"fmt"
	"time"

	"github.com/facegate/facegate/gate/records"
)

// Withdraw withdraws a subject's consent for purpose and deletes what it
// covered, returning a receipt. Withdrawing PurposeFace crypto-shreds every
// face template of the subject at once and drops them from the gallery;
// cards, PINs and QR codes keep working. Withdrawing PurposeEntry erases
// the subject altogether (see Erase).
func (g *Gate) Withdraw(subject string, purpose Purpose) (Receipt, error) {
	if !purpose.Valid() {
		return Receipt{}, fmt.Errorf("%w: unknown purpose %q", ErrInvalidConsent, purpose)
	}
	return g.withdraw(subject, purpose)
}

// Erase deletes everything held about a subject — consents, face
// templates, card, PIN, QR handle — by crypto-shredding every class of the
// subject, and returns a receipt. Access events stay in the log under their
// daily pseudonyms, which become unlinkable at the end of the retention
// window like everyone else's.
func (g *Gate) Erase(subject string) (Receipt, error) {
	return g.withdraw(subject, PurposeEntry)
}

// withdraw is the one path of Withdraw and Erase: it deletes what the
// consent for purpose covers — the face templates for PurposeFace,
// everything about the subject for PurposeEntry — and returns the receipt.
//
// The subject's faces leave the gallery first, so nothing matches from
// there on; then every store change is made in one transaction, so a crash
// or a failed write leaves the subject's records as they were or the
// withdrawal whole, never a consent without its templates or an index
// entry pointing at shredded data. On a failure the gallery gets the
// subject's stored faces back, and no receipt is issued.
func (g *Gate) withdraw(subject string, purpose Purpose) (Receipt, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if err := g.exists(subject); err != nil {
		return Receipt{}, err
	}
	now := g.now()
	var shred func(b records.Batch, templates int) ([]string, error)
	switch purpose {
	case PurposeFace:
		c, err := g.Consent(subject, PurposeFace)
		if err != nil {
			return Receipt{}, err
		}
		shred = func(b records.Batch, n int) ([]string, error) { return g.withdrawFace(b, subject, c, now, n) }
	case PurposeEntry:
		shred = func(b records.Batch, n int) ([]string, error) { return g.erase(b, subject, n) }
	default:
		return Receipt{}, fmt.Errorf("%w: unknown purpose %q", ErrInvalidConsent, purpose)
	}
	names, err := g.templates(subject)
	if err != nil {
		return Receipt{}, err
	}
	if err := g.removeFaces(subject); err != nil {
		return Receipt{}, err
	}
	var deleted []string
	err = g.cfg.Records.Update(func(b records.Batch) error {
		var err error
		deleted, err = shred(b, len(names))
		return err
	})
	if err != nil {
		g.reloadFaces(subject)
		return Receipt{}, err
	}
	return g.receipt(subject, purpose, len(names), deleted), nil
}

// withdrawFace marks the subject's face consent c withdrawn at now (if it
// is not already) and shreds their face templates in the batch b, and
// returns what it deleted for the receipt; n is the number of face
// templates.
func (g *Gate) withdrawFace(b records.Batch, subject string, c Consent, now time.Time, n int) ([]string, error) {
	if c.Withdrawn.IsZero() {
		c.Withdrawn = now
		data, err := json.Marshal(c)
		if err != nil {
			return nil, err
		}
		if err := b.PutRecord(subject, records.ClassConsent, string(PurposeFace), data); err != nil {
			return nil, err
		}
	}
	if err := b.ShredClass(subject, records.ClassFace); err != nil && !records.NotFound(err) {
		return nil, fmt.Errorf("gate: shred face templates of %q: %w", subject, err)
	}
	return []string{
		fmt.Sprintf("face templates: %d (data key destroyed)", n),
		"face gallery entries",
		"face-recognition consent: marked withdrawn",
	}, nil
}

// erase deletes every record of subject, with the index entries of its
// card and QR handle, in the batch b, and returns what it deleted for the
// receipt; n is the number of face templates.
func (g *Gate) erase(b records.Batch, subject string, n int) ([]string, error) {
	deleted := []string{fmt.Sprintf("face templates: %d", n), "consent records"}
	if data, err := b.GetRecord(subject, records.ClassCredential, cardName); err == nil {
		if r, err := decodeCardRecord(data); err == nil {
			if err := b.DeleteRecord(indexSubject, cardIndexClass, hex.EncodeToString(r.MAC)); err != nil && !records.NotFound(err) {
				return nil, err
			}
		}
		deleted = append(deleted, "card")
	}
	if _, err := b.GetRecord(subject, records.ClassCredential, pinName); err == nil {
		deleted = append(deleted, "PIN")
	}
	h := qrHandleOf(g.cfg.Keys.QR, subject)
	if err := b.DeleteRecord(indexSubject, qrIndexClass, hex.EncodeToString(h[:])); err != nil && !records.NotFound(err) {
		return nil, err
	}
	for _, c := range []string{cardIndexClass, qrIndexClass} {
		if err := dropPlaceholder(b, c, subject); err != nil {
			return nil, err
		}
	}
	if err := b.DeleteSubject(subject); err != nil && !records.NotFound(err) {
		return nil, fmt.Errorf("gate: shred %q: %w", subject, err)
	}
	if err := b.DeleteRecord(indexSubject, subjectsClass, subject); err != nil {
		return nil, err
	}
	return append(deleted, "subject (all data keys destroyed)"), nil
}

func (g *Gate) receipt(subject string, p Purpose, n int, deleted []string) Receipt {
	r := Receipt{Subject: subject, Purpose: p, Deleted: deleted, Templates: n, At: g.now()}
	r.MAC = r.mac(g.cfg.Keys.Receipt)
	return r
}
