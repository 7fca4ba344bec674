package store

import (
	"encoding/binary"
	"fmt"
)

// The header is kept in plaintext (it must be read before the KEK exists) in
// the "meta" bucket under key "header". Byte layout (big-endian):
//
//	offset  size  field
//	0       4     magic "FGST"
//	4       1     store format version (3; 2 named records in the clear,
//	              1 had no manifest)
//	5       16    store ID (random)
//	21      1     secret kind: 1 raw key (HKDF), 2 passphrase (Argon2id)
//	22      16    KDF salt (random)
//	38      4     Argon2id time
//	42      4     Argon2id memory, KiB
//	46      1     Argon2id threads
//	47      8     transform generation (incremented by RekeyTransform)
//
// Its integrity is checked through the key-check value, sealed under the
// KEK with the header bytes as associated data: a modified header fails like
// a wrong key.
const (
	headerMagic   = "FGST"
	headerVersion = 3
	headerSize    = 55

	kindRawKey     = 1
	kindPassphrase = 2
)

// MaxKDF bounds the Argon2id cost of a store: Create and RotateKEK refuse
// more, and Open refuses a header asking for more with ErrHeaderTampered
// before deriving anything, so a forged header cannot make Open spend a
// gigabyte and a quarter of a minute before saying "wrong passphrase". It
// is four times the memory and under three times the passes of
// DefaultKDFParams.
var MaxKDF = KDFParams{Time: 8, MemoryKiB: 256 * 1024, Threads: 16}

func checkKDFBound(p KDFParams) error {
	if p.Time > MaxKDF.Time || p.MemoryKiB > MaxKDF.MemoryKiB || p.Threads > MaxKDF.Threads {
		return fmt.Errorf("%w: time=%d memory=%dKiB threads=%d, the store allows at most time=%d memory=%dKiB threads=%d",
			ErrKDFParams, p.Time, p.MemoryKiB, p.Threads, MaxKDF.Time, MaxKDF.MemoryKiB, MaxKDF.Threads)
	}
	return p.validate()
}

type header struct {
	storeID    [16]byte
	kind       uint8
	salt       [saltSize]byte
	kdf        KDFParams
	generation uint64
}

func (h *header) encode() []byte {
	b := make([]byte, 0, headerSize)
	b = append(b, headerMagic...)
	b = append(b, headerVersion)
	b = append(b, h.storeID[:]...)
	b = append(b, h.kind)
	b = append(b, h.salt[:]...)
	b = binary.BigEndian.AppendUint32(b, h.kdf.Time)
	b = binary.BigEndian.AppendUint32(b, h.kdf.MemoryKiB)
	b = append(b, h.kdf.Threads)
	b = binary.BigEndian.AppendUint64(b, h.generation)
	return b
}

// decodeHeader parses a header; it never panics.
func decodeHeader(b []byte) (header, error) {
	var h header
	if len(b) < 5 || string(b[:4]) != headerMagic {
		return h, fmt.Errorf("%w: missing header magic", ErrNotStore)
	}
	if b[4] != headerVersion {
		if b[4] == 2 {
			return h, fmt.Errorf("%w: format 2 keeps subject, class and record names (flat numbers, credentials held, minutes of access events) in the clear; this build reads format %d only: export with the release that wrote it and re-enroll into a new store", ErrVersion, headerVersion)
		}
		if b[4] == 1 {
			return h, fmt.Errorf("%w: format 1 has no manifest, so nothing in it proves it was not rolled back; this build reads format %d only: export with the release that wrote it and re-enroll into a new store", ErrVersion, headerVersion)
		}
		return h, fmt.Errorf("%w: %d (this build reads %d)", ErrVersion, b[4], headerVersion)
	}
	if len(b) != headerSize {
		return h, fmt.Errorf("%w: header is %d bytes, want %d", ErrTruncated, len(b), headerSize)
	}
	p := 5
	copy(h.storeID[:], b[p:p+16])
	p += 16
	h.kind = b[p]
	p++
	copy(h.salt[:], b[p:p+saltSize])
	p += saltSize
	h.kdf.Time = binary.BigEndian.Uint32(b[p:])
	h.kdf.MemoryKiB = binary.BigEndian.Uint32(b[p+4:])
	h.kdf.Threads = b[p+8]
	p += 9
	h.generation = binary.BigEndian.Uint64(b[p:])
	switch h.kind {
	case kindRawKey:
	case kindPassphrase:
		if err := checkKDFBound(h.kdf); err != nil {
			return header{}, fmt.Errorf("%w: %v", ErrHeaderTampered, err)
		}
	default:
		return header{}, fmt.Errorf("%w: unknown secret kind %d in header", ErrTruncated, h.kind)
	}
	return h, nil
}
