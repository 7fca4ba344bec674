package store

import (
	"encoding/binary"
	"fmt"

	"github.com/facegate/facegate/internal/seal"
)

// Record sizes. Every sealed value's plaintext — generic records, face
// templates, empty slots and subject entries — is padded before sealing to
// one of a few sizes: 512 bytes, 1 KiB, 3 KiB, 4 KiB, then whole multiples
// of 4 KiB, as length (4 bytes, big-endian) ‖ body ‖ zeros, so that the
// size of a sealed value says as little as possible about its content: a
// given or withdrawn consent, a PIN with or without a lockout, an admitted
// or refused access event, a template and an empty face slot all seal to
// the same size. (3 KiB holds a 512-dimension template with little waste.)
var padClasses = [...]int{512, 1024, 3072, 4096}

const padPage = 4096

// paddedSize returns the padded length of an n-byte body, at least min
// bytes (min itself padded to a class).
func paddedSize(n, min int) int {
	m := max(n+4, min)
	for _, c := range padClasses {
		if m <= c {
			return c
		}
	}
	return (m + padPage - 1) / padPage * padPage
}

// SealedSize returns the size on disk of a generic record whose plaintext
// is n bytes long and whose name is nameLen bytes long: its version, the
// crypto overhead and the padded body. Tests that read the raw file use
// it.
func SealedSize(n, nameLen int) int {
	return versionSize + seal.Overhead + paddedSize(bodySize(nameLen, n), 0)
}

// SealedTemplateSize returns the size on disk of a face template whose
// encoding is n bytes long (template.EncodedSize), stored outside any
// slot: its version, the crypto overhead and the padded body.
func SealedTemplateSize(n int) int {
	return versionSize + seal.Overhead + paddedSize(bodySize(len(templateName(0)), 8+n), 0)
}

func pad(body []byte, min int) []byte {
	b := make([]byte, paddedSize(len(body), min))
	binary.BigEndian.PutUint32(b, uint32(len(body)))
	copy(b[4:], body)
	return b
}

func unpad(b []byte) ([]byte, error) {
	if len(b) < 4 {
		return nil, fmt.Errorf("%w: padded record of %d bytes", seal.ErrFormat, len(b))
	}
	n := binary.BigEndian.Uint32(b)
	if uint64(n)+4 > uint64(len(b)) || paddedSize(int(n), len(b)) != len(b) {
		return nil, fmt.Errorf("%w: padded record of %d bytes says %d", seal.ErrFormat, len(b), n)
	}
	return b[4 : 4+n], nil
}

// Bodies. The plaintext of every value in the subjects and records
// buckets, before padding, is
//
//	kind (1) ‖ uvarint(len name) ‖ name ‖ payload
//
// kind bodySubject: name is the subject, no payload; bodyRecord: a generic
// record, payload its plaintext; bodyTemplate: payload is the template ID
// (8 bytes, big-endian, random) ‖ the encoded template; bodyEmpty: an
// empty slot (see Shape), no payload. The names are what a keyless reader
// must not see: they are only here, sealed.
const (
	bodySubject  = 's'
	bodyRecord   = 'r'
	bodyTemplate = 't'
	bodyEmpty    = 'e'
)

func bodySize(nameLen, payload int) int {
	return 1 + binary.PutUvarint(make([]byte, binary.MaxVarintLen64), uint64(nameLen)) + nameLen + payload
}

func makeBody(kind byte, name string, payload ...[]byte) []byte {
	n := 0
	for _, p := range payload {
		n += len(p)
	}
	b := make([]byte, 0, bodySize(len(name), n))
	b = append(b, kind)
	b = binary.AppendUvarint(b, uint64(len(name)))
	b = append(b, name...)
	for _, p := range payload {
		b = append(b, p...)
	}
	return b
}

type body struct {
	kind    byte
	name    string
	payload []byte
}

func parseBody(b []byte) (body, error) {
	if len(b) < 2 {
		return body{}, fmt.Errorf("%w: body of %d bytes", seal.ErrFormat, len(b))
	}
	n, w := binary.Uvarint(b[1:])
	if w <= 0 || n > uint64(len(b)-1-w) {
		return body{}, fmt.Errorf("%w: body name length", seal.ErrFormat)
	}
	bd := body{kind: b[0], name: string(b[1+w : 1+w+int(n)]), payload: b[1+w+int(n):]}
	switch bd.kind {
	case bodySubject, bodyRecord, bodyEmpty:
	case bodyTemplate:
		if len(bd.payload) < 8 {
			return body{}, fmt.Errorf("%w: template body without an ID", seal.ErrFormat)
		}
	default:
		return body{}, fmt.Errorf("%w: body kind %d", seal.ErrFormat, bd.kind)
	}
	return bd, nil
}
