package seal

import (
	"crypto/sha256"
	"fmt"
	"io"

	"golang.org/x/crypto/hkdf"
)

// DeriveKey expands secret into a new Key with HKDF-SHA256 under salt and a
// label naming the key's purpose. Distinct labels give independent keys.
func DeriveKey(secret, salt []byte, label string) (*Key, error) {
	b := make([]byte, KeySize)
	defer Zero(b)
	if _, err := io.ReadFull(hkdf.New(sha256.New, secret, salt, []byte(label)), b); err != nil {
		return nil, fmt.Errorf("seal: hkdf: %w", err)
	}
	return KeyFromBytes(b)
}
