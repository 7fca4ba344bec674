package gate

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"time"

	"github.com/facegate/facegate/gate/records"
)

// MaxCardUID is the longest accepted card UID in bytes.
const MaxCardUID = 64

// cardMAC returns the keyed MAC a card UID is stored and looked up as.
func cardMAC(key, uid []byte) ([]byte, error) {
	if len(uid) == 0 || len(uid) > MaxCardUID {
		return nil, fmt.Errorf("%w: %d bytes, want 1..%d", ErrWrongCard, len(uid), MaxCardUID)
	}
	return mac(key, []byte("card"), uid), nil
}

// cardRecord is a subject's stored card: its MAC, never the UID, and when
// it was enrolled.
type cardRecord struct {
	MAC   []byte    `json:"mac"`
	Added time.Time `json:"added"`
}

func decodeCardRecord(data []byte) (cardRecord, error) {
	var r cardRecord
	if err := decodeStrict(data, &r); err != nil {
		return r, err
	}
	if len(r.MAC) != sha256.Size {
		return cardRecord{}, fmt.Errorf("%w: card record", ErrCorrupt)
	}
	return r, nil
}

func hexString(b []byte) string { return hex.EncodeToString(b) }

// SetCard enrolls a card for subject, replacing any card they had. Only
// HMAC-SHA256(Keys.Card, uid) is stored, never the UID.
func (g *Gate) SetCard(subject string, uid []byte) error {
	m, err := cardMAC(g.cfg.Keys.Card, uid)
	if err != nil {
		return err
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if err := g.mayAdd(subject); err != nil {
		return err
	}
	name := hex.EncodeToString(m)
	data, err := json.Marshal(cardRecord{MAC: m, Added: g.now()})
	if err != nil {
		return err
	}
	// One transaction: the old card, its index entry, the new card and its
	// index entry change together or not at all.
	return g.cfg.Records.Update(func(b records.Batch) error {
		owner, err := b.GetRecord(indexSubject, cardIndexClass, name)
		switch {
		case err == nil && string(owner) != subject:
			return fmt.Errorf("%w", ErrCardInUse)
		case err != nil && !records.NotFound(err):
			return err
		}
		if err := g.removeCard(b, subject); err != nil {
			return err
		}
		if err := dropPlaceholder(b, cardIndexClass, subject); err != nil {
			return err
		}
		if err := b.PutRecord(indexSubject, cardIndexClass, name, []byte(subject)); err != nil {
			return err
		}
		return b.PutRecord(subject, records.ClassCredential, cardName, data)
	})
}

// removeCard deletes subject's card and its index entry in the batch b.
// g.mu must be held.
func (g *Gate) removeCard(b records.Batch, subject string) error {
	data, err := b.GetRecord(subject, records.ClassCredential, cardName)
	if records.NotFound(err) {
		return nil
	}
	if err != nil {
		return err
	}
	r, err := decodeCardRecord(data)
	if err != nil {
		return err
	}
	if err := b.DeleteRecord(indexSubject, cardIndexClass, hex.EncodeToString(r.MAC)); err != nil && !records.NotFound(err) {
		return err
	}
	if err := putPlaceholder(b, cardIndexClass, subject); err != nil {
		return err
	}
	return b.DeleteRecord(subject, records.ClassCredential, cardName)
}

// RemoveCard deletes subject's card. It fails with ErrNoAlternative if the
// card is part of the face-free way in of a subject with a face enrolled.
func (g *Gate) RemoveCard(subject string) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	if err := g.mayRemove(subject, Card); err != nil {
		return err
	}
	return g.cfg.Records.Update(func(b records.Batch) error { return g.removeCard(b, subject) })
}

// matchCard looks a card up by its MAC.
func (g *Gate) matchCard(uid []byte) (string, error) {
	m, err := cardMAC(g.cfg.Keys.Card, uid)
	if err != nil {
		return "", err
	}
	owner, err := g.cfg.Records.GetRecord(indexSubject, cardIndexClass, hexString(m))
	if records.NotFound(err) {
		return "", fmt.Errorf("%w: card not enrolled", ErrUnknownSubject)
	}
	if err != nil {
		return "", err
	}
	s := string(owner)
	return s, g.consentValid(s, PurposeEntry)
}
