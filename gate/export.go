package gate

import (
	"encoding/hex"
	"encoding/json"
	"errors"
	"time"

	"github.com/facegate/facegate/gate/accesslog"
	"github.com/facegate/facegate/gate/records"
)

// SubjectExport is everything the gate holds about one subject, for the
// right of access. It lists face templates — when, with which model and
// transform key — but never their vectors.
type SubjectExport struct {
	// Subject is the subject ID.
	Subject string `json:"subject"`
	// Exported is when the export was made.
	Exported time.Time `json:"exported"`
	// Consents are the subject's current consent records.
	Consents []Consent `json:"consents"`
	// ConsentHistory are the consent records since replaced.
	ConsentHistory []Consent `json:"consent_history"`
	// Card describes the enrolled card, if any.
	Card *CardInfo `json:"card,omitempty"`
	// PIN describes the PIN, if any.
	PIN *PINInfo `json:"pin,omitempty"`
	// QRHandle is the keyed handle that stands for the subject in QR codes,
	// hex encoded, once a code has been issued.
	QRHandle string `json:"qr_handle,omitempty"`
	// FaceTemplates lists the stored face templates.
	FaceTemplates []TemplateInfo `json:"face_templates"`
	// AccessEvents are the subject's access events still linkable to them
	// (inside the access log's retention window).
	AccessEvents []accesslog.Event `json:"access_events"`
	// Notes explain what is not in the export and why.
	Notes []string `json:"notes"`
}

// CardInfo describes an enrolled card.
type CardInfo struct {
	// MAC is HMAC-SHA256 of the card UID under the operator's card key, as
	// stored; the UID itself is not kept.
	MAC string `json:"mac"`
	// Added is when the card was enrolled.
	Added time.Time `json:"added"`
}

// PINInfo describes a PIN without its hash.
type PINInfo struct {
	// Set is when the PIN was set.
	Set time.Time `json:"set"`
	// Failures counts wrong PINs since the last right one.
	Failures int `json:"failures"`
	// Locked is when the PIN was locked out, if it is.
	Locked time.Time `json:"locked,omitzero"`
}

// Export returns everything held about subject as a SubjectExport.
func (g *Gate) Export(subject string) (SubjectExport, error) {
	if err := g.exists(subject); err != nil {
		return SubjectExport{}, err
	}
	e := SubjectExport{Subject: subject, Exported: g.now(), Consents: []Consent{}, FaceTemplates: []TemplateInfo{}, AccessEvents: []accesslog.Event{}}
	for _, p := range []Purpose{PurposeEntry, PurposeFace} {
		c, err := g.Consent(subject, p)
		if errors.Is(err, ErrNoConsent) {
			continue
		}
		if err != nil {
			return SubjectExport{}, err
		}
		e.Consents = append(e.Consents, c)
	}
	hist, err := g.ConsentHistory(subject)
	if err != nil {
		return SubjectExport{}, err
	}
	e.ConsentHistory = append([]Consent{}, hist...)
	if data, err := g.cfg.Records.GetRecord(subject, records.ClassCredential, cardName); err == nil {
		r, err := decodeCardRecord(data)
		if err != nil {
			return SubjectExport{}, err
		}
		e.Card = &CardInfo{MAC: hex.EncodeToString(r.MAC), Added: r.Added}
	} else if !records.NotFound(err) {
		return SubjectExport{}, err
	}
	if r, err := g.pin(subject); err == nil {
		e.PIN = &PINInfo{Set: r.Set, Failures: r.Failures, Locked: r.Locked}
	} else if !errors.Is(err, ErrNoPIN) {
		return SubjectExport{}, err
	}
	h := qrHandleOf(g.cfg.Keys.QR, subject)
	if _, err := g.cfg.Records.GetRecord(indexSubject, qrIndexClass, hex.EncodeToString(h[:])); err == nil {
		e.QRHandle = hex.EncodeToString(h[:])
	}
	tmpls, err := g.Templates(subject)
	if err != nil {
		return SubjectExport{}, err
	}
	e.FaceTemplates = append(e.FaceTemplates, tmpls...)
	if g.cfg.Log != nil {
		events, err := g.cfg.Log.Find(subject)
		if err != nil {
			return SubjectExport{}, err
		}
		e.AccessEvents = append(e.AccessEvents, events...)
	}
	e.Notes = []string{
		"Face templates are listed without their vectors: the vectors are protected by a keyed transform and never leave the device.",
		"The card UID is not stored; only its keyed MAC is. The PIN is stored only as an Argon2id hash, which is not exported.",
		"Access events are stored under a daily pseudonym; events older than the retention window can no longer be linked to anyone and are not listed.",
		"No camera image is ever stored.",
	}
	return e, nil
}

// ExportJSON returns Export(subject) as indented JSON.
func (g *Gate) ExportJSON(subject string) ([]byte, error) {
	e, err := g.Export(subject)
	if err != nil {
		return nil, err
	}
	return json.MarshalIndent(e, "", "  ")
}
