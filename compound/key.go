package compound

import (
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/facegate/facegate/gate"
	"github.com/facegate/facegate/internal/seal"
)

// KeySize is the size of a compound key in bytes.
const KeySize = 32

// Key is a compound's root secret. It is provisioned to the office and to
// every gate of the compound out of band (a key file of 64 hex digits) and
// never travels on the stream. From it are derived, each under its own
// label: the key that seals change and ack messages, the key of the
// subjects' NATS pseudonyms, the compound's gate.Keys (card MACs, QR codes,
// receipts) and the secret of each generation of the template transform.
type Key struct {
	b [KeySize]byte
}

// NewKey returns a fresh random compound key.
func NewKey() (*Key, error) {
	k := new(Key)
	if _, err := rand.Read(k.b[:]); err != nil {
		return nil, fmt.Errorf("compound: %w", err)
	}
	return k, nil
}

// KeyFromBytes returns the key held in b (KeySize bytes); b is copied.
func KeyFromBytes(b []byte) (*Key, error) {
	if len(b) != KeySize {
		return nil, fmt.Errorf("%w: %d bytes, want %d", ErrKey, len(b), KeySize)
	}
	k := new(Key)
	copy(k.b[:], b)
	return k, nil
}

// ReadKeyFile reads a key file: 64 hex digits, optionally followed by a
// newline. A file readable by group or others is refused.
func ReadKeyFile(path string) (*Key, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("compound: key file: %w", err)
	}
	if fi.Mode().Perm()&0o077 != 0 {
		return nil, fmt.Errorf("%w: %s is readable by others (mode %v); chmod 600", ErrKey, path, fi.Mode().Perm())
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("compound: key file: %w", err)
	}
	defer seal.Zero(data)
	b, err := hex.DecodeString(strings.TrimSpace(string(data)))
	if err != nil {
		return nil, fmt.Errorf("%w: %s does not hold hex digits", ErrKey, path)
	}
	defer seal.Zero(b)
	return KeyFromBytes(b)
}

// WriteFile writes k to a new key file at path (mode 0600); it fails if the
// file exists.
func (k *Key) WriteFile(path string) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("compound: key file: %w", err)
	}
	_, err = fmt.Fprintf(f, "%x\n", k.b[:])
	return errors.Join(err, f.Close())
}

// Wipe zeroes the key.
func (k *Key) Wipe() { clear(k.b[:]) }

func (k *Key) derive(label string) []byte {
	b, err := hkdf.Key(sha256.New, k.b[:], nil, "facegate compound "+label, 32)
	if err != nil {
		panic("compound: hkdf: " + err.Error()) // only for lengths out of range
	}
	return b
}

// token returns the pseudonym of subject in NATS subjects: 32 hex digits of
// a keyed MAC, so the engine never sees a resident ID.
func (k *Key) token(subject string) string {
	m := hmac.New(sha256.New, k.derive("subject token v1"))
	m.Write([]byte(subject))
	return hex.EncodeToString(m.Sum(nil)[:16])
}

// GateKeys returns the compound's gate.Keys, the same at the office and at
// every gate, so that a card MAC or QR code made at the office verifies at
// every door.
func (k *Key) GateKeys() (gate.Keys, error) {
	return gate.DeriveKeys(k.derive("gate keys v1"))
}

// transformSecret returns the template transform secret of generation gen.
// The office and the gates derive it locally: a re-key message carries only
// the new generation number.
func (k *Key) transformSecret(gen uint64) (*seal.Key, error) {
	b := k.derive("transform v1 " + string(binary.BigEndian.AppendUint64(nil, gen)))
	defer seal.Zero(b)
	return seal.KeyFromBytes(b)
}
