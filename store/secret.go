package store

import (
	"bytes"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"

	"golang.org/x/crypto/argon2"

	"github.com/facegate/facegate/internal/seal"
)

// KeyEnv is the environment variable [SecretFromEnv] reads: 64 hexadecimal
// digits (32 bytes), surrounding white space ignored.
const KeyEnv = "FACEGATE_KEY"

// KeySize is the length in bytes of a raw key ([RawKey]).
const KeySize = 32

// saltSize is the length of the random salt kept in a store's header.
const saltSize = 16

// Errors about secrets; test with errors.Is. (A secret that is well formed
// but does not unlock a store is ErrWrongKey.)
var (
	// ErrNoSecret reports an empty passphrase, a zero Secret, or an unset
	// FACEGATE_KEY.
	ErrNoSecret = errors.New("store: no passphrase or key given")
	// ErrKeySize reports a raw key that is not exactly KeySize bytes.
	ErrKeySize = errors.New("store: key is not 32 bytes")
	// ErrKeyEncoding reports a key file or FACEGATE_KEY value that is neither
	// 32 raw bytes nor 64 hexadecimal digits.
	ErrKeyEncoding = errors.New("store: key is neither 32 raw bytes nor 64 hex digits")
	// ErrKDFParams reports Argon2id parameters outside the accepted range
	// (see KDFParams and MaxKDF).
	ErrKDFParams = errors.New("store: Argon2id parameters out of range")
	// ErrWeakPassphrase reports a new passphrase below MinPassphraseLen
	// characters or made of too few different characters.
	ErrWeakPassphrase = errors.New("store: passphrase too weak")
)

// MinPassphraseLen is the fewest characters CheckStrength accepts in a new
// passphrase. Argon2id makes each guess cost a gate about a second of work
// on 64 MiB; it cannot make a short passphrase long.
const MinPassphraseLen = 12

// minDistinct is the fewest different characters CheckStrength accepts.
const minDistinct = 6

// Secret is what unlocks a store: a passphrase or a raw 32-byte key. Make one
// with [Passphrase], [RawKey], [ReadKeyFile] or [SecretFromEnv]; the zero
// Secret unlocks nothing.
//
// The store's key-encryption key (KEK) is derived from it: a passphrase is
// stretched with Argon2id (parameters and a random salt are kept in the
// store's header); a raw key is expanded with HKDF-SHA256 under the store's
// salt, so one key file opens different stores under different KEKs.
//
// Secret and its constructors are part of package store, not of a key
// package of their own, because Create, Open and RotateKEK are the only
// functions that take one: a gate maker who supplies a passphrase or a key
// file imports store and nothing else. What is derived from the secret —
// the KEK, the data keys, sealing and key wrapping — is internal
// (internal/seal): no integrator calls it, and keeping it out of the API
// lets it change with the store format it serves.
type Secret struct {
	passphrase []byte
	key        []byte
}

// Passphrase returns a Secret holding a copy of p, stretched with Argon2id
// when a store is created or opened.
func Passphrase(p []byte) Secret {
	return Secret{passphrase: bytes.Clone(p)}
}

// RawKey returns a Secret holding a copy of the 32-byte key k.
func RawKey(k []byte) (Secret, error) {
	if len(k) != KeySize {
		return Secret{}, fmt.Errorf("%w: got %d bytes", ErrKeySize, len(k))
	}
	return Secret{key: bytes.Clone(k)}, nil
}

// ReadKeyFile reads a key file holding either exactly 32 raw bytes or 64
// hexadecimal digits (a trailing newline is allowed).
func ReadKeyFile(path string) (Secret, error) {
	f, err := os.Open(path)
	if err != nil {
		return Secret{}, fmt.Errorf("store: reading key file: %w", err)
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, 1024))
	if err != nil {
		return Secret{}, fmt.Errorf("store: reading key file %s: %w", path, err)
	}
	defer clear(b)
	s, err := parseKey(b)
	if err != nil {
		return Secret{}, fmt.Errorf("key file %s: %w", path, err)
	}
	return s, nil
}

// SecretFromEnv reads the key from the FACEGATE_KEY environment variable: 64
// hexadecimal digits. It returns ErrNoSecret when the variable is unset or
// empty.
func SecretFromEnv() (Secret, error) {
	v, ok := os.LookupEnv(KeyEnv)
	if !ok || len(bytes.TrimSpace([]byte(v))) == 0 {
		return Secret{}, fmt.Errorf("%w: %s is not set", ErrNoSecret, KeyEnv)
	}
	b := []byte(v)
	defer clear(b)
	s, err := parseKey(b)
	if err != nil {
		return Secret{}, fmt.Errorf("%s: %w", KeyEnv, err)
	}
	return s, nil
}

func parseKey(b []byte) (Secret, error) {
	if len(b) == KeySize {
		return RawKey(b)
	}
	t := bytes.TrimSpace(b)
	if len(t) != 2*KeySize {
		return Secret{}, fmt.Errorf("%w: got %d bytes", ErrKeyEncoding, len(b))
	}
	k := make([]byte, KeySize)
	defer clear(k)
	if _, err := hex.Decode(k, t); err != nil {
		return Secret{}, fmt.Errorf("%w: %v", ErrKeyEncoding, err)
	}
	return RawKey(k)
}

// IsPassphrase reports whether s is a passphrase (rather than a raw key).
func (s Secret) IsPassphrase() bool { return len(s.passphrase) > 0 }

// CheckStrength returns ErrWeakPassphrase for a passphrase shorter than
// MinPassphraseLen characters or made of fewer than 6 different ones
// ("aaaaaaaaaaaa", "121212121212"). It is a floor for new stores, not a
// measure of entropy: a passphrase that passes can still be guessable. A
// raw key always passes.
func (s Secret) CheckStrength() error {
	if !s.IsPassphrase() {
		return nil
	}
	distinct := map[rune]bool{}
	n := 0
	for _, r := range string(s.passphrase) {
		distinct[r] = true
		n++
	}
	if n < MinPassphraseLen {
		return fmt.Errorf("%w: %d characters, want at least %d", ErrWeakPassphrase, n, MinPassphraseLen)
	}
	if len(distinct) < minDistinct {
		return fmt.Errorf("%w: only %d different characters, want at least %d", ErrWeakPassphrase, len(distinct), minDistinct)
	}
	return nil
}

// IsZero reports whether s holds neither a passphrase nor a key.
func (s Secret) IsZero() bool { return len(s.passphrase) == 0 && len(s.key) == 0 }

// Wipe overwrites the secret's bytes with zeros.
func (s *Secret) Wipe() {
	clear(s.passphrase)
	clear(s.key)
	s.passphrase, s.key = nil, nil
}

// KDFParams are the Argon2id cost parameters for passphrase secrets
// ([Options].KDF).
type KDFParams struct {
	// Time is the number of passes over memory (≥ 1).
	Time uint32
	// MemoryKiB is the memory cost in KiB (≥ 8×Threads, ≤ 1 GiB).
	MemoryKiB uint32
	// Threads is the degree of parallelism (≥ 1).
	Threads uint8
}

// DefaultKDFParams follow RFC 9106's second recommended option scaled to a
// small gate controller: 3 passes over 64 MiB with 2 lanes.
var DefaultKDFParams = KDFParams{Time: 3, MemoryKiB: 64 * 1024, Threads: 2}

// validate reports ErrKDFParams if p is outside what Argon2id accepts (MaxKDF,
// checked by checkKDFBound, is the tighter bound of what a store writes).
func (p KDFParams) validate() error {
	if p.Time < 1 || p.Time > 64 || p.Threads < 1 || p.MemoryKiB < 8*uint32(p.Threads) || p.MemoryKiB > 1<<20 {
		return fmt.Errorf("%w: time=%d memory=%dKiB threads=%d", ErrKDFParams, p.Time, p.MemoryKiB, p.Threads)
	}
	return nil
}

// deriveKEK derives the key-encryption key of a store from s and the store's
// salt. A passphrase is stretched with Argon2id under p; a raw key is expanded
// with HKDF-SHA256 (p is ignored). The caller wipes the returned key.
func deriveKEK(s Secret, salt []byte, p KDFParams) (*seal.Key, error) {
	if len(salt) != saltSize {
		return nil, fmt.Errorf("store: salt is %d bytes, want %d", len(salt), saltSize)
	}
	switch {
	case len(s.passphrase) > 0:
		if err := p.validate(); err != nil {
			return nil, err
		}
		b := argon2.IDKey(s.passphrase, salt, p.Time, p.MemoryKiB, p.Threads, KeySize)
		defer clear(b)
		return seal.KeyFromBytes(b)
	case len(s.key) == KeySize:
		return seal.DeriveKey(s.key, salt, "facegate/kek/v1")
	}
	return nil, ErrNoSecret
}
