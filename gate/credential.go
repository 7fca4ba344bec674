package gate

import (
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"time"

	"golang.org/x/crypto/argon2"
)

// KeySize is the size of each operator key in Keys.
const KeySize = 32

// Keys are the operator's secrets for credentials and receipts. Held apart
// from the store, they make the card MACs and QR handles in it useless to
// whoever holds the store's KEK. Sealed inside the store instead (as the
// example programs do, for one secret less to manage), they are exactly as
// safe as the store's KEK and no safer.
type Keys struct {
	// Card keys the MAC under which card UIDs are stored.
	Card []byte
	// QR keys one-time QR codes and the QR handles of subjects.
	QR []byte
	// Receipt keys the MAC of deletion receipts.
	Receipt []byte
}

// DeriveKeys derives all Keys from one operator secret of at least KeySize
// bytes with HKDF-SHA256, one label per key.
func DeriveKeys(secret []byte) (Keys, error) {
	if len(secret) < KeySize {
		return Keys{}, fmt.Errorf("%w: operator secret is %d bytes, want at least %d", ErrConfig, len(secret), KeySize)
	}
	derive := func(label string) ([]byte, error) {
		return hkdf.Key(sha256.New, secret, nil, "facegate gate "+label, KeySize)
	}
	var k Keys
	var err error
	if k.Card, err = derive("card v1"); err != nil {
		return Keys{}, err
	}
	if k.QR, err = derive("qr v1"); err != nil {
		return Keys{}, err
	}
	if k.Receipt, err = derive("receipt v1"); err != nil {
		return Keys{}, err
	}
	return k, nil
}

func (k Keys) check() error {
	for name, b := range map[string][]byte{"card": k.Card, "QR": k.QR, "receipt": k.Receipt} {
		if len(b) < KeySize {
			return fmt.Errorf("%w: %s key is %d bytes, want at least %d", ErrConfig, name, len(b), KeySize)
		}
	}
	return nil
}

func mac(key []byte, parts ...[]byte) []byte {
	m := hmac.New(sha256.New, key)
	for _, p := range parts {
		var n [4]byte
		binary.BigEndian.PutUint32(n[:], uint32(len(p)))
		m.Write(n[:])
		m.Write(p)
	}
	return m.Sum(nil)
}

// MaxCardUID is the longest accepted card UID in bytes.
const MaxCardUID = 64

// cardMAC returns the keyed MAC a card UID is stored and looked up as.
func cardMAC(key, uid []byte) ([]byte, error) {
	if len(uid) == 0 || len(uid) > MaxCardUID {
		return nil, fmt.Errorf("%w: %d bytes, want 1..%d", ErrWrongCard, len(uid), MaxCardUID)
	}
	return mac(key, []byte("card"), uid), nil
}

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

func hexString(b []byte) string { return hex.EncodeToString(b) }
