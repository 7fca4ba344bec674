package gate

import (
	"bytes"
	"crypto/rand"
	"crypto/subtle"
	"encoding/json"
	"fmt"
	"time"

	"github.com/facegate/facegate/gate/records"
	"golang.org/x/crypto/argon2"
)

// PINParams are the Argon2id parameters of PIN hashes. They are stored with
// every hash, so changing them affects only PINs set afterwards. Accepted
// ranges: 1..16 passes, 8·Threads KiB..256 MiB, at least one thread.
type PINParams struct {
	// Time is the number of passes.
	Time uint32 `json:"t"`
	// Memory is in KiB.
	Memory uint32 `json:"m"`
	// Threads is the parallelism.
	Threads uint8 `json:"p"`
}

// DefaultPINParams follow the OWASP recommendation for Argon2id
// (19 MiB, 2 passes, 1 thread).
var DefaultPINParams = PINParams{Time: 2, Memory: 19 * 1024, Threads: 1}

func (p PINParams) check() error {
	if p.Time < 1 || p.Time > 16 || p.Threads < 1 || p.Memory < 8*uint32(p.Threads) || p.Memory > 256*1024 {
		return fmt.Errorf("%w: Argon2id parameters %+v", ErrConfig, p)
	}
	return nil
}

// DefaultMaxPINFailures is how many wrong PINs in a row lock a PIN.
const DefaultMaxPINFailures = 5

// pinRecord is a subject's stored PIN state: the Argon2id parameters,
// salt and hash, when it was set, the failures in a row since the last
// success, and when it was locked (zero while it is not).
type pinRecord struct {
	Params   PINParams `json:"params"`
	Salt     []byte    `json:"salt"`
	Hash     []byte    `json:"hash"`
	Set      time.Time `json:"set"`
	Failures int       `json:"failures"`
	Locked   time.Time `json:"locked,omitzero"`
}

func validPIN(pin string) error {
	if len(pin) < 4 || len(pin) > 12 {
		return ErrInvalidPIN
	}
	for _, c := range pin {
		if c < '0' || c > '9' {
			return ErrInvalidPIN
		}
	}
	return nil
}

func hashPIN(p PINParams, salt []byte, pin string) []byte {
	return argon2.IDKey([]byte(pin), salt, p.Time, p.Memory, p.Threads, 32)
}

func newPINRecord(p PINParams, pin string, now time.Time) (pinRecord, error) {
	if err := validPIN(pin); err != nil {
		return pinRecord{}, err
	}
	salt := make([]byte, 16)
	rand.Read(salt)
	return pinRecord{Params: p, Salt: salt, Hash: hashPIN(p, salt, pin), Set: now}, nil
}

// matches reports whether pin matches r, in constant time.
func (r *pinRecord) matches(pin string) bool {
	if validPIN(pin) != nil {
		return false
	}
	return subtle.ConstantTimeCompare(hashPIN(r.Params, r.Salt, pin), r.Hash) == 1
}

func decodePINRecord(data []byte) (pinRecord, error) {
	var r pinRecord
	if err := decodeStrict(data, &r); err != nil {
		return r, err
	}
	if len(r.Salt) < 16 || len(r.Hash) != 32 || r.Params.check() != nil || r.Failures < 0 {
		return pinRecord{}, fmt.Errorf("%w: PIN record", ErrCorrupt)
	}
	return r, nil
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
