package gate

import (
	"crypto/hmac"
	"crypto/rand"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"time"

	"github.com/facegate/facegate/gate/records"
)

// QR codes.
//
// A QR code is the unpadded base64url encoding of
//
//	offset  size  field
//	0       1     version (1)
//	1       16    subject handle: HMAC-SHA256(QR key, "handle", subject)[:16]
//	17      8     expiry, Unix seconds, big-endian
//	25      8     random nonce
//	33      16    HMAC-SHA256(QR key, "qr", bytes 0..32)[:16]
//
// The handle keeps the subject ID out of the code; the gate maps it back
// through a sealed index. Each nonce is accepted once.
const (
	qrVersion  = 1
	qrHandle   = 16
	qrBodySize = 1 + qrHandle + 8 + 8
	qrTagSize  = 16
	qrSize     = qrBodySize + qrTagSize
)

// DefaultQRLifetime is how long a one-time QR code stays valid.
const DefaultQRLifetime = 5 * time.Minute

// QRCode is a decoded one-time QR code.
type QRCode struct {
	// Handle is the subject's QR handle.
	Handle [16]byte
	// Expires is when the code lapses.
	Expires time.Time
	// Nonce makes the code unique.
	Nonce [8]byte
}

func qrHandleOf(key []byte, subject string) (h [qrHandle]byte) {
	copy(h[:], mac(key, []byte("handle"), []byte(subject)))
	return h
}

func (q QRCode) body() []byte {
	b := make([]byte, 0, qrSize)
	b = append(b, qrVersion)
	b = append(b, q.Handle[:]...)
	b = binary.BigEndian.AppendUint64(b, uint64(q.Expires.Unix()))
	return append(b, q.Nonce[:]...)
}

// encodeQR returns the text of q, authenticated under key.
func encodeQR(key []byte, q QRCode) string {
	b := q.body()
	b = append(b, mac(key, []byte("qr"), b)[:qrTagSize]...)
	return base64.RawURLEncoding.EncodeToString(b)
}

// DecodeQR parses and authenticates the text of a QR code under key. It
// returns ErrMalformedQR for anything that is not a code made with key; it
// does not check expiry or reuse.
func DecodeQR(key []byte, text string) (QRCode, error) {
	if len(text) != base64.RawURLEncoding.EncodedLen(qrSize) {
		return QRCode{}, fmt.Errorf("%w: %d characters", ErrMalformedQR, len(text))
	}
	b, err := base64.RawURLEncoding.Strict().DecodeString(text)
	if err != nil || len(b) != qrSize {
		return QRCode{}, fmt.Errorf("%w: not base64url", ErrMalformedQR)
	}
	if b[0] != qrVersion {
		return QRCode{}, fmt.Errorf("%w: version %d", ErrMalformedQR, b[0])
	}
	if !hmac.Equal(b[qrBodySize:], mac(key, []byte("qr"), b[:qrBodySize])[:qrTagSize]) {
		return QRCode{}, fmt.Errorf("%w: MAC does not verify", ErrMalformedQR)
	}
	var q QRCode
	copy(q.Handle[:], b[1:])
	q.Expires = time.Unix(int64(binary.BigEndian.Uint64(b[1+qrHandle:])), 0).UTC()
	copy(q.Nonce[:], b[1+qrHandle+8:])
	return q, nil
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
