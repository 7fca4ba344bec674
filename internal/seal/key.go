package seal

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/binary"
	"errors"
	"fmt"

	"golang.org/x/crypto/chacha20poly1305"
)

// KeySize is the length in bytes of every key: KEKs, data keys and the
// template transform secret.
const KeySize = 32

// FormatVersion is the version byte that starts every sealed or wrapped value.
const FormatVersion = 1

// Overhead is how many bytes [Key.Seal] adds to a plaintext: the version
// byte, the 24-byte nonce and the 16-byte tag.
const Overhead = 1 + chacha20poly1305.NonceSizeX + chacha20poly1305.Overhead

// WrappedSize is the length of a wrapped key produced by [Key.Wrap].
const WrappedSize = KeySize + Overhead

// Errors returned by this package. They are wrapped with context; test with
// errors.Is.
var (
	// ErrKeySize reports key material that is not exactly KeySize bytes.
	ErrKeySize = errors.New("seal: key is not 32 bytes")
	// ErrAuth reports a sealed or wrapped value that failed authentication:
	// the key is wrong, the associated data differs (the value was moved to
	// another subject, class, name or store), or a byte was modified.
	ErrAuth = errors.New("seal: message authentication failed (wrong key, wrong binding, or modified data)")
	// ErrFormat reports a sealed or wrapped value that is too short or has an
	// unknown format version.
	ErrFormat = errors.New("seal: malformed sealed value")
	// ErrWiped reports use of a key after Wipe.
	ErrWiped = errors.New("seal: key has been wiped")
)

// Key is a 256-bit symmetric key. The zero Key is not usable; make one with
// [NewKey] or [KeyFromBytes]. A Key must not be copied after first use (copy
// it and the wiping of one copy leaves the other).
type Key struct {
	b     [KeySize]byte
	valid bool
}

// NewKey returns a fresh random key from crypto/rand.
func NewKey() (*Key, error) {
	k := &Key{valid: true}
	if _, err := rand.Read(k.b[:]); err != nil {
		return nil, fmt.Errorf("seal: reading random key: %w", err)
	}
	return k, nil
}

// KeyFromBytes returns a Key holding a copy of b, which must be KeySize bytes.
// The caller should wipe b when it no longer needs it.
func KeyFromBytes(b []byte) (*Key, error) {
	if len(b) != KeySize {
		return nil, fmt.Errorf("%w: got %d bytes", ErrKeySize, len(b))
	}
	k := &Key{valid: true}
	copy(k.b[:], b)
	return k, nil
}

// Bytes returns the key's own bytes (not a copy), for handing to a KDF. The
// caller must not retain or modify the slice; it is zeroed by Wipe.
func (k *Key) Bytes() []byte {
	return k.b[:]
}

// Wipe overwrites the key with zeros and makes it unusable. Wipe on a nil
// Key does nothing.
func (k *Key) Wipe() {
	if k == nil {
		return
	}
	Zero(k.b[:])
	k.valid = false
}

// Equal reports in constant time whether k and o hold the same key. Wiped
// keys are equal to nothing.
func (k *Key) Equal(o *Key) bool {
	if k == nil || o == nil || !k.valid || !o.valid {
		return false
	}
	return subtle.ConstantTimeCompare(k.b[:], o.b[:]) == 1
}

// Seal encrypts and authenticates plaintext with XChaCha20-Poly1305 under a
// random nonce, binding ad, and returns version ‖ nonce ‖ ciphertext.
func (k *Key) Seal(plaintext, ad []byte) ([]byte, error) {
	if !k.valid {
		return nil, ErrWiped
	}
	aead, err := chacha20poly1305.NewX(k.b[:])
	if err != nil {
		return nil, fmt.Errorf("seal: %w", err)
	}
	out := make([]byte, 1+chacha20poly1305.NonceSizeX, Overhead+len(plaintext))
	out[0] = FormatVersion
	if _, err := rand.Read(out[1:]); err != nil {
		return nil, fmt.Errorf("seal: reading random nonce: %w", err)
	}
	return aead.Seal(out, out[1:], plaintext, ad), nil
}

// Open authenticates and decrypts a value made by Seal under the same key and
// associated data. It returns ErrFormat for a value that is too short or of
// an unknown version and ErrAuth when authentication fails.
func (k *Key) Open(sealed, ad []byte) ([]byte, error) {
	if !k.valid {
		return nil, ErrWiped
	}
	if len(sealed) < Overhead {
		return nil, fmt.Errorf("%w: %d bytes, need at least %d", ErrFormat, len(sealed), Overhead)
	}
	if sealed[0] != FormatVersion {
		return nil, fmt.Errorf("%w: version %d, want %d", ErrFormat, sealed[0], FormatVersion)
	}
	aead, err := chacha20poly1305.NewX(k.b[:])
	if err != nil {
		return nil, fmt.Errorf("seal: %w", err)
	}
	nonce := sealed[1 : 1+chacha20poly1305.NonceSizeX]
	pt, err := aead.Open(nil, nonce, sealed[1+chacha20poly1305.NonceSizeX:], ad)
	if err != nil {
		return nil, ErrAuth
	}
	return pt, nil
}

// Wrap seals the data key dk under k (the KEK), binding ad. The result is
// WrappedSize bytes.
func (k *Key) Wrap(dk *Key, ad []byte) ([]byte, error) {
	if !dk.valid {
		return nil, fmt.Errorf("seal: wrapping: %w", ErrWiped)
	}
	return k.Seal(dk.b[:], ad)
}

// Unwrap opens a wrapped key made by Wrap under the same KEK and associated
// data. It returns ErrFormat for a value that is not WrappedSize bytes or of
// an unknown version and ErrAuth when authentication fails.
func (k *Key) Unwrap(wrapped, ad []byte) (*Key, error) {
	if len(wrapped) != WrappedSize {
		return nil, fmt.Errorf("%w: wrapped key is %d bytes, want %d", ErrFormat, len(wrapped), WrappedSize)
	}
	pt, err := k.Open(wrapped, ad)
	if err != nil {
		return nil, err
	}
	dk, err := KeyFromBytes(pt)
	Zero(pt)
	return dk, err
}

// Zero overwrites b with zeros.
func Zero(b []byte) {
	clear(b)
}

// Equal reports in constant time whether a and b are equal. The time taken
// depends on the lengths but not the contents.
func Equal(a, b []byte) bool {
	return subtle.ConstantTimeCompare(a, b) == 1
}

// Kind names what a sealed value is, so a value of one kind never opens as
// another.
type Kind uint8

const (
	// KindCheck is the store's key-check value, sealed under the KEK.
	KindCheck Kind = iota + 1
	// KindDataKey is a data key wrapped under the KEK.
	KindDataKey
	// KindRecord is a record sealed under a data key.
	KindRecord
	// KindTransform is the template transform secret wrapped under the KEK.
	KindTransform
	// KindManifest is the store's manifest key wrapped under the KEK.
	KindManifest
)

// AD builds associated data binding a sealed value to its place: the kind,
// the store id, the subject, the class, the record name and the format
// version. Fields are length-prefixed, so distinct tuples never collide.
func AD(kind Kind, storeID []byte, subject, class, name string) []byte {
	const label = "facegate/ad"
	n := len(label) + 2 + 4*4 + len(storeID) + len(subject) + len(class) + len(name)
	b := make([]byte, 0, n)
	b = append(b, label...)
	b = append(b, FormatVersion, byte(kind))
	for _, f := range [][]byte{storeID, []byte(subject), []byte(class), []byte(name)} {
		b = binary.BigEndian.AppendUint32(b, uint32(len(f)))
		b = append(b, f...)
	}
	return b
}

// VersionedAD is [AD] with one more field: the version the store gave the
// value when it wrote it. A value sealed under one version does not open
// under another, so an older copy of a record put back in its place fails
// authentication against the version its store expects.
func VersionedAD(kind Kind, storeID []byte, subject, class, name string, version uint64) []byte {
	b := AD(kind, storeID, subject, class, name)
	b = binary.BigEndian.AppendUint32(b, 8)
	return binary.BigEndian.AppendUint64(b, version)
}
