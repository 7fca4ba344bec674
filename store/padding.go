package store

import (
	"encoding/binary"
	"fmt"

	"github.com/facegate/facegate/internal/seal"
)

// Record sizes. A generic record's plaintext is padded before sealing to
// one of a few sizes — 512 bytes, 4 KiB, then whole multiples of 4 KiB —
// as length (4 bytes, big-endian) ‖ plaintext ‖ zeros, so that the size of
// a sealed record says as little as possible about its content: a given or
// withdrawn consent, a PIN with or without a lockout, an admitted or
// refused access event all seal to the same size. Face templates are not
// padded: every template of a model has the same size already.
const (
	padSmall = 512
	padPage  = 4096
)

// paddedSize returns the padded length of an n-byte plaintext.
func paddedSize(n int) int {
	switch m := n + 4; {
	case m <= padSmall:
		return padSmall
	default:
		return (m + padPage - 1) / padPage * padPage
	}
}

// SealedSize returns the size on disk of a generic record (not a face
// template) with an n-byte plaintext: its version, the crypto overhead and
// the padded plaintext. Tests that read the raw file use it.
func SealedSize(n int) int { return versionSize + seal.Overhead + paddedSize(n) }

func pad(pt []byte) []byte {
	b := make([]byte, paddedSize(len(pt)))
	binary.BigEndian.PutUint32(b, uint32(len(pt)))
	copy(b[4:], pt)
	return b
}

func unpad(b []byte) ([]byte, error) {
	if len(b) < 4 {
		return nil, fmt.Errorf("%w: padded record of %d bytes", seal.ErrFormat, len(b))
	}
	n := binary.BigEndian.Uint32(b)
	if uint64(n)+4 > uint64(len(b)) || paddedSize(int(n)) != len(b) {
		return nil, fmt.Errorf("%w: padded record of %d bytes says %d", seal.ErrFormat, len(b), n)
	}
	return b[4 : 4+n], nil
}
