package gate

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"time"

	"github.com/facegate/facegate/gate/records"
)

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

// SetPIN sets (or resets) subject's PIN, which also lifts a lockout. Only
// an Argon2id hash with a random salt is stored.
func (g *Gate) SetPIN(subject, pin string) error {
	r, err := newPINRecord(g.cfg.PINParams, pin, g.now())
	if err != nil {
		return err
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if err := g.mayAdd(subject); err != nil {
		return err
	}
	return g.putPIN(subject, r)
}

func (g *Gate) putPIN(subject string, r pinRecord) error {
	data, err := json.Marshal(r)
	if err != nil {
		return err
	}
	return g.cfg.Records.PutRecord(subject, records.ClassCredential, pinName, data)
}

// RemovePIN deletes subject's PIN. It fails with ErrNoAlternative if the
// PIN is part of the face-free way in of a subject with a face enrolled.
func (g *Gate) RemovePIN(subject string) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	if err := g.mayRemove(subject, PIN); err != nil {
		return err
	}
	return g.cfg.Records.DeleteRecord(subject, records.ClassCredential, pinName)
}

// UnlockPIN lifts a PIN lockout and clears the failure count.
func (g *Gate) UnlockPIN(subject string) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	if err := g.exists(subject); err != nil {
		return err
	}
	r, err := g.pin(subject)
	if err != nil {
		return err
	}
	r.Failures, r.Locked = 0, time.Time{}
	return g.putPIN(subject, r)
}

func (g *Gate) pin(subject string) (pinRecord, error) {
	data, err := g.cfg.Records.GetRecord(subject, records.ClassCredential, pinName)
	if records.NotFound(err) {
		return pinRecord{}, fmt.Errorf("%w: %q", ErrNoPIN, subject)
	}
	if err != nil {
		return pinRecord{}, err
	}
	return decodePINRecord(data)
}

// dummySalt salts the hash computed for subjects without a PIN.
var dummySalt [16]byte

// checkPIN verifies a PIN for subject, counting failures and locking the
// PIN after MaxPINFailures in a row. A locked PIN is not even hashed. The
// Argon2id hash runs without g.mu, so one keypad does not hold up the
// other doors; the failure count is then updated under g.mu from a fresh
// read, so concurrent attempts are all counted. g.mu must not be held.
func (g *Gate) checkPIN(subject, pin string) error {
	err := g.exists(subject)
	var r pinRecord
	if err == nil {
		r, err = g.pin(subject)
	}
	if err != nil {
		// Hash anyway, so that the keypad's response time does not tell
		// which subject IDs exist or have a PIN.
		hashPIN(g.cfg.PINParams, dummySalt[:], pin)
		return err
	}
	if !r.Locked.IsZero() {
		return fmt.Errorf("%w: %q since %s", ErrLockedOut, subject, r.Locked.Format(time.RFC3339))
	}
	ok := r.matches(pin)

	g.mu.Lock()
	defer g.mu.Unlock()
	cur, err := g.pin(subject)
	if err != nil {
		return err
	}
	if !cur.Locked.IsZero() {
		return fmt.Errorf("%w: %q since %s", ErrLockedOut, subject, cur.Locked.Format(time.RFC3339))
	}
	if !bytes.Equal(cur.Hash, r.Hash) {
		// The PIN was changed while this one was being hashed.
		return fmt.Errorf("%w: the PIN changed during the check", ErrWrongPIN)
	}
	if ok {
		if cur.Failures != 0 {
			cur.Failures = 0
			if err := g.putPIN(subject, cur); err != nil {
				return err
			}
		}
		return g.consentValid(subject, PurposeEntry)
	}
	cur.Failures++
	if cur.Failures >= g.cfg.MaxPINFailures {
		cur.Locked = g.now()
	}
	if err := g.putPIN(subject, cur); err != nil {
		return err
	}
	if !cur.Locked.IsZero() {
		return fmt.Errorf("%w: %q after %d wrong PINs", ErrLockedOut, subject, cur.Failures)
	}
	return fmt.Errorf("%w: %d of %d failures before lockout", ErrWrongPIN, cur.Failures, g.cfg.MaxPINFailures)
}

// IssueQR returns a one-time QR code for subject, valid for QRLifetime and
// accepted once. The code names the subject only through a keyed handle.
func (g *Gate) IssueQR(subject string) (code string, expires time.Time, err error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if err := g.mayAdd(subject); err != nil {
		return "", time.Time{}, err
	}
	q := QRCode{Handle: qrHandleOf(g.cfg.Keys.QR, subject), Expires: g.now().Add(g.cfg.QRLifetime).Truncate(time.Second)}
	rand.Read(q.Nonce[:])
	err = g.cfg.Records.Update(func(b records.Batch) error {
		if err := dropPlaceholder(b, qrIndexClass, subject); err != nil {
			return err
		}
		return b.PutRecord(indexSubject, qrIndexClass, hex.EncodeToString(q.Handle[:]), []byte(subject))
	})
	if err != nil {
		return "", time.Time{}, err
	}
	return encodeQR(g.cfg.Keys.QR, q), q.Expires, nil
}

// QR replay across clock changes. A used mark is kept until its code's
// expiry plus QRUsedMargin, so a clock set back by less than the margin
// still finds it; and the gate records the newest time it consumed a code
// (qrClockClass/qrClockName), refusing every QR code with
// ErrClockBackwards while its clock reads more than qrClockSkew before it,
// so a clock set back further cannot replay a code whose mark is gone.
const (
	// QRUsedMargin is how long past its expiry a used QR code's mark is
	// kept.
	QRUsedMargin = 24 * time.Hour
	qrClockClass = "clock"
	qrClockName  = "newest"
	// qrClockSkew is how far behind the newest recorded use the clock may
	// read (NTP steps, clocks of several doors) before QR codes are
	// refused.
	qrClockSkew = 2 * time.Minute
)

// qrClock returns the newest recorded QR use, zero if none.
func qrClock(r records.Reader) (time.Time, error) {
	data, err := r.GetRecord(qrUsedSubject, qrClockClass, qrClockName)
	if records.NotFound(err) {
		return time.Time{}, nil
	}
	if err != nil {
		return time.Time{}, err
	}
	var t time.Time
	if err := t.UnmarshalText(data); err != nil {
		return time.Time{}, fmt.Errorf("%w: QR clock record: %v", ErrCorrupt, err)
	}
	return t, nil
}

// advanceQRClock records now as the newest QR use if it is newer.
func advanceQRClock(b records.Batch, now time.Time) error {
	newest, err := qrClock(b)
	if err != nil || !now.After(newest) {
		return err
	}
	data, _ := now.MarshalText()
	return b.PutRecord(qrUsedSubject, qrClockClass, qrClockName, data)
}

func qrUsedName(q QRCode) string {
	return hex.EncodeToString(q.Handle[:]) + hex.EncodeToString(q.Nonce[:])
}

// checkQR authenticates a QR code and returns its subject, without
// consuming it. g.mu must be held.
func (g *Gate) checkQR(text string) (QRCode, string, error) {
	q, err := DecodeQR(g.cfg.Keys.QR, text)
	if err != nil {
		return q, "", err
	}
	now := g.now()
	newest, err := qrClock(g.cfg.Records)
	if err != nil {
		return q, "", err
	}
	if now.Before(newest.Add(-qrClockSkew)) {
		return q, "", fmt.Errorf("%w: clock reads %s, a QR code was used at %s", ErrClockBackwards, now.Format(time.RFC3339), newest.Format(time.RFC3339))
	}
	if !now.Before(q.Expires) {
		return q, "", fmt.Errorf("%w: at %s", ErrQRExpired, q.Expires.Format(time.RFC3339))
	}
	if q.Expires.After(now.Add(g.cfg.QRLifetime + time.Minute)) {
		return q, "", fmt.Errorf("%w: expiry %s is further away than this gate issues", ErrMalformedQR, q.Expires.Format(time.RFC3339))
	}
	owner, err := g.cfg.Records.GetRecord(indexSubject, qrIndexClass, hex.EncodeToString(q.Handle[:]))
	if records.NotFound(err) {
		return q, "", fmt.Errorf("%w: QR code of an erased subject", ErrUnknownSubject)
	}
	if err != nil {
		return q, "", err
	}
	if _, err := g.cfg.Records.GetRecord(qrUsedSubject, qrUsedClass, qrUsedName(q)); err == nil {
		return q, "", fmt.Errorf("%w", ErrReplayed)
	} else if !records.NotFound(err) {
		return q, "", err
	}
	subject := string(owner)
	if err := g.consentValid(subject, PurposeEntry); err != nil {
		return q, "", err
	}
	return q, subject, nil
}

// consumeQR marks a code used until it expires (plus QRUsedMargin) and
// records the time of use, in one transaction. g.mu must be held.
func (g *Gate) consumeQR(q QRCode) error {
	exp, _ := q.Expires.MarshalText()
	now := g.now()
	return g.cfg.Records.Update(func(b records.Batch) error {
		if err := b.PutRecord(qrUsedSubject, qrUsedClass, qrUsedName(q), exp); err != nil {
			return err
		}
		return advanceQRClock(b, now)
	})
}

// takeQR checks a code and, if it is good, marks it used at once, so that
// no other door accepts it while this attempt is decided.
func (g *Gate) takeQR(text string) (QRCode, string, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	q, s, err := g.checkQR(text)
	if err != nil {
		return q, s, err
	}
	if err := g.consumeQR(q); err != nil {
		return q, "", fmt.Errorf("gate: mark QR code used: %w", err)
	}
	return q, s, nil
}

// releaseQR unmarks a code taken by an attempt that was then denied, so
// that it can still be used.
func (g *Gate) releaseQR(q QRCode) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	err := g.cfg.Records.DeleteRecord(qrUsedSubject, qrUsedClass, qrUsedName(q))
	if records.NotFound(err) {
		return nil
	}
	return err
}

// Maintain runs the periodic clean-up: it forgets used QR codes
// QRUsedMargin after they expired (they are refused as expired from then
// on, and a clock set back past the newest use refuses every code) and
// expires the access log. Call it every few minutes; the access log also expires itself
// as events arrive.
func (g *Gate) Maintain() error {
	g.mu.Lock()
	defer g.mu.Unlock()
	names, err := g.cfg.Records.ListRecords(qrUsedSubject, qrUsedClass)
	if err != nil && !records.NotFound(err) {
		return err
	}
	now := g.now()
	err = g.cfg.Records.Update(func(b records.Batch) error {
		for _, n := range names {
			data, err := b.GetRecord(qrUsedSubject, qrUsedClass, n)
			if err != nil {
				return err
			}
			var exp time.Time
			if err := exp.UnmarshalText(data); err != nil || !now.Before(exp.Add(QRUsedMargin)) {
				if err := b.DeleteRecord(qrUsedSubject, qrUsedClass, n); err != nil {
					return err
				}
				// A clock set forward to drop marks early and then back is
				// caught too: the marks go only with now recorded.
				if err := advanceQRClock(b, now); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	if g.cfg.Log != nil {
		if _, err := g.cfg.Log.Expire(); err != nil {
			return err
		}
	}
	return nil
}
