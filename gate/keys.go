package gate

import (
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
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
