package gate

import (
	"errors"
	"fmt"

	"github.com/facegate/facegate/gate/records"
)

// MaxSubjectLen is the longest subject ID.
const MaxSubjectLen = 64

// CheckSubject returns ErrInvalidSubject unless id is 1..MaxSubjectLen
// characters from [A-Za-z0-9._-].
func CheckSubject(id string) error {
	if len(id) == 0 || len(id) > MaxSubjectLen {
		return fmt.Errorf("%w: %d characters, want 1..%d", ErrInvalidSubject, len(id), MaxSubjectLen)
	}
	for _, c := range []byte(id) {
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '.' || c == '_' || c == '-') {
			return fmt.Errorf("%w: %q holds %q", ErrInvalidSubject, id, c)
		}
	}
	return nil
}

// Subjects returns every registered subject ID in ascending order.
func (g *Gate) Subjects() ([]string, error) {
	names, err := g.cfg.Records.ListRecords(indexSubject, subjectsClass)
	if records.NotFound(err) {
		return nil, nil
	}
	return names, err
}

func (g *Gate) exists(subject string) error {
	if err := CheckSubject(subject); err != nil {
		return err
	}
	_, err := g.cfg.Records.GetRecord(indexSubject, subjectsClass, subject)
	if records.NotFound(err) {
		return fmt.Errorf("%w: %q", ErrUnknownSubject, subject)
	}
	return err
}

// Register adds a subject with their consent to compound entry
// (PurposeEntry), which lets the gate hold their cards, PINs and QR codes.
func (g *Gate) Register(subject string, entry Consent) error {
	if err := CheckSubject(subject); err != nil {
		return err
	}
	if entry.Purpose != PurposeEntry {
		return fmt.Errorf("%w: registration needs %s consent, got %q", ErrInvalidConsent, PurposeEntry, entry.Purpose)
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if err := g.exists(subject); err == nil {
		return fmt.Errorf("%w: %q", ErrSubjectExists, subject)
	} else if !errors.Is(err, ErrUnknownSubject) {
		return err
	}
	// One transaction: a crash leaves the subject registered with its
	// consent, or not at all.
	return g.cfg.Records.Update(func(b records.Batch) error {
		if err := g.putConsent(b, subject, entry); err != nil {
			return err
		}
		for _, c := range []string{cardIndexClass, qrIndexClass} {
			if err := putPlaceholder(b, c, subject); err != nil {
				return err
			}
		}
		return b.PutRecord(indexSubject, subjectsClass, subject, nil)
	})
}
