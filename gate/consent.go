package gate

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/facegate/facegate/gate/records"
)

// Purpose names what a consent allows. Each purpose is consented to, stored
// and withdrawn on its own.
type Purpose string

const (
	// PurposeEntry allows the compound to hold the subject's non-face
	// credentials (card, PIN, QR) and log their entries.
	PurposeEntry Purpose = "compound-entry"
	// PurposeFace allows face recognition at the gates: enrolling face
	// templates and matching against them. It is never implied by
	// PurposeEntry.
	PurposeFace Purpose = "face-recognition"
)

// Valid reports whether p is a purpose the gate knows.
func (p Purpose) Valid() bool { return p == PurposeEntry || p == PurposeFace }

// GuardianAge is the age under which a subject's consent must be given by a
// named guardian.
const GuardianAge = 14

// Consent is one consent record: who agreed to what, when, how and until
// when. It holds the subject's birth year only, never a date of birth.
type Consent struct {
	// Purpose is what the consent allows.
	Purpose Purpose `json:"purpose"`
	// Given is when consent was given; zero means now.
	Given time.Time `json:"given"`
	// How records how it was given, e.g. "signed form #1182" or
	// "management office, in person".
	How string `json:"how"`
	// Guardian names the guardian who consented for the subject, or is
	// empty when the subject consented themselves. It is required when the
	// subject may be under GuardianAge at Given.
	Guardian string `json:"guardian,omitempty"`
	// BirthYear is the subject's year of birth.
	BirthYear int `json:"birth_year"`
	// Expires is when the consent lapses; zero means it does not.
	Expires time.Time `json:"expires,omitzero"`
	// Withdrawn is when the consent was withdrawn; zero while it stands.
	Withdrawn time.Time `json:"withdrawn,omitzero"`
}

// MayBeUnderGuardianAge reports whether a subject born in birthYear may be
// under GuardianAge at t. With only the birth year known the answer is
// conservative: a subject counts as possibly under 14 until the calendar
// year in which they turn 15.
func MayBeUnderGuardianAge(birthYear int, t time.Time) bool {
	return t.Year()-birthYear <= GuardianAge
}

// validate checks c as a new consent given at now.
func (c *Consent) validate(now time.Time) error {
	switch {
	case !c.Purpose.Valid():
		return fmt.Errorf("%w: unknown purpose %q", ErrInvalidConsent, c.Purpose)
	case c.How == "":
		return fmt.Errorf("%w: how consent was given is not recorded", ErrInvalidConsent)
	case c.Given.After(now.Add(time.Minute)):
		return fmt.Errorf("%w: given in the future (%v)", ErrInvalidConsent, c.Given)
	case c.BirthYear < 1900 || c.BirthYear > c.Given.Year():
		return fmt.Errorf("%w: birth year %d", ErrInvalidConsent, c.BirthYear)
	case c.Guardian == "" && MayBeUnderGuardianAge(c.BirthYear, c.Given):
		return fmt.Errorf("%w: subject born %d may be under %d on %s: a named guardian must consent", ErrInvalidConsent, c.BirthYear, GuardianAge, c.Given.Format(time.DateOnly))
	case !c.Expires.IsZero() && !c.Expires.After(c.Given):
		return fmt.Errorf("%w: expires %v before it was given", ErrInvalidConsent, c.Expires)
	case !c.Withdrawn.IsZero():
		return fmt.Errorf("%w: a new consent cannot be withdrawn already", ErrInvalidConsent)
	}
	return nil
}

// ValidAt reports whether c allows its purpose at t: nil, ErrNoConsent when
// withdrawn, or ErrConsentExpired when past Expires.
func (c *Consent) ValidAt(t time.Time) error {
	switch {
	case !c.Withdrawn.IsZero():
		return fmt.Errorf("%w: %s withdrawn %s", ErrNoConsent, c.Purpose, c.Withdrawn.Format(time.RFC3339))
	case !c.Expires.IsZero() && !t.Before(c.Expires):
		return fmt.Errorf("%w: %s expired %s", ErrConsentExpired, c.Purpose, c.Expires.Format(time.RFC3339))
	}
	return nil
}

// DecodeConsent decodes a stored consent record, rejecting unknown fields
// and unknown purposes with ErrCorrupt.
func DecodeConsent(data []byte) (Consent, error) {
	var c Consent
	if err := decodeStrict(data, &c); err != nil {
		return Consent{}, err
	}
	if !c.Purpose.Valid() || c.Given.IsZero() {
		return Consent{}, fmt.Errorf("%w: consent purpose %q given %v", ErrCorrupt, c.Purpose, c.Given)
	}
	return c, nil
}

// decodeStrict decodes exactly one JSON value into v with no unknown fields.
func decodeStrict(data []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("%w: %v", ErrCorrupt, err)
	}
	if dec.More() {
		return fmt.Errorf("%w: trailing data", ErrCorrupt)
	}
	return nil
}

// GiveConsent records (or renews) a consent of a registered subject.
// Renewing face consent after it expired lets face matching resume.
func (g *Gate) GiveConsent(subject string, c Consent) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	if err := g.exists(subject); err != nil {
		return err
	}
	if err := g.cfg.Records.Update(func(b records.Batch) error { return g.putConsent(b, subject, c) }); err != nil {
		return err
	}
	if c.Purpose == PurposeFace && g.cfg.Faces != nil {
		// Templates kept through an expiry are matched again.
		if err := g.removeFaces(subject); err != nil {
			return err
		}
		tmpls, err := g.templates(subject)
		if err != nil {
			return err
		}
		for _, t := range tmpls {
			if err := g.addStored(subject, t); err != nil {
				return err
			}
		}
	}
	return nil
}

// putConsent writes a consent record, moving the one it replaces to the
// history, in the batch b.
func (g *Gate) putConsent(b records.Batch, subject string, c Consent) error {
	now := g.now()
	if c.Given.IsZero() {
		c.Given = now
	}
	c.Given = c.Given.UTC()
	if err := c.validate(now); err != nil {
		return err
	}
	data, err := json.Marshal(c)
	if err != nil {
		return err
	}
	// The consent being replaced moves to the history, so the operator can
	// show which consent covered any past processing.
	old, err := b.GetRecord(subject, records.ClassConsent, string(c.Purpose))
	switch {
	case err == nil:
		prev, err := DecodeConsent(old)
		if err != nil {
			return err
		}
		if err := b.PutRecord(subject, records.ClassConsent, historyName(prev), old); err != nil {
			return err
		}
	case !records.NotFound(err):
		return err
	}
	return b.PutRecord(subject, records.ClassConsent, string(c.Purpose), data)
}

// historyPrefix starts the names of replaced consent records.
const historyPrefix = "history/"

func historyName(c Consent) string {
	return historyPrefix + string(c.Purpose) + "/" + c.Given.UTC().Format("20060102T150405.000000000Z")
}

// ConsentHistory returns the subject's replaced consent records (renewed
// or withdrawn and then given again), oldest first within each purpose.
func (g *Gate) ConsentHistory(subject string) ([]Consent, error) {
	if err := g.exists(subject); err != nil {
		return nil, err
	}
	names, err := g.cfg.Records.ListRecords(subject, records.ClassConsent)
	if err != nil {
		return nil, err
	}
	var out []Consent
	for _, n := range names {
		if !strings.HasPrefix(n, historyPrefix) {
			continue
		}
		data, err := g.cfg.Records.GetRecord(subject, records.ClassConsent, n)
		if err != nil {
			return nil, err
		}
		c, err := DecodeConsent(data)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, nil
}

// Consent returns the subject's consent record for purpose, or
// ErrNoConsent when there is none.
func (g *Gate) Consent(subject string, purpose Purpose) (Consent, error) {
	if err := CheckSubject(subject); err != nil {
		return Consent{}, err
	}
	if !purpose.Valid() {
		return Consent{}, fmt.Errorf("%w: unknown purpose %q", ErrInvalidConsent, purpose)
	}
	data, err := g.cfg.Records.GetRecord(subject, records.ClassConsent, string(purpose))
	if records.NotFound(err) {
		return Consent{}, fmt.Errorf("%w: %q has no %s consent", ErrNoConsent, subject, purpose)
	}
	if err != nil {
		return Consent{}, err
	}
	return DecodeConsent(data)
}

// consentValid returns nil when the subject holds a valid consent for
// purpose now; face recognition also needs a valid entry consent.
func (g *Gate) consentValid(subject string, purpose Purpose) error {
	c, err := g.Consent(subject, purpose)
	if err != nil {
		return err
	}
	if err := c.ValidAt(g.now()); err != nil {
		return err
	}
	if purpose == PurposeFace {
		return g.consentValid(subject, PurposeEntry)
	}
	return nil
}
