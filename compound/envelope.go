package compound

import (
	"crypto/rand"
	"encoding/binary"
	"fmt"
	"time"

	"golang.org/x/crypto/chacha20poly1305"
)

// Wire format of a change message (the JetStream message body):
//
//	magic "FGC1" (4) ‖ kind (1) ‖ nonce (24) ‖ XChaCha20-Poly1305(body)
//
// with associated data
//
//	"facegate compound change v1" 0x00 ‖ len ‖ compound ‖ len ‖ NATS subject ‖ kind ‖ stream sequence (8, big-endian)
//
// An ack message is "FGA1" ‖ nonce ‖ seal(uvarint applied sequence ‖ varint
// Unix ns), bound to the compound and the ack subject (hence the gate).
const (
	changeMagic = "FGC1"
	ackMagic    = "FGA1"
	nonceSize   = chacha20poly1305.NonceSizeX
	tagSize     = chacha20poly1305.Overhead
)

func changeAD(compound, subject string, kind Kind, seq uint64) []byte {
	ad := append([]byte("facegate compound change v1"), 0)
	ad = append(ad, byte(len(compound)))
	ad = append(ad, compound...)
	ad = append(ad, byte(len(subject)))
	ad = append(ad, subject...)
	ad = append(ad, byte(kind))
	return binary.BigEndian.AppendUint64(ad, seq)
}

func ackAD(compound, subject string) []byte {
	ad := append([]byte("facegate compound ack v1"), 0)
	ad = append(ad, byte(len(compound)))
	ad = append(ad, compound...)
	return append(ad, subject...)
}

// sealer seals and opens one compound's messages.
type sealer struct {
	compound string
	key      *Key
}

func (s sealer) seal(magic string, hdr []byte, body, ad []byte) ([]byte, error) {
	aead, err := chacha20poly1305.NewX(s.key.derive("seal v1"))
	if err != nil {
		return nil, err
	}
	out := append([]byte(magic), hdr...)
	nonce := make([]byte, nonceSize)
	if _, err := rand.Read(nonce); err != nil {
		return nil, fmt.Errorf("compound: %w", err)
	}
	out = append(out, nonce...)
	return aead.Seal(out, nonce, body, ad), nil
}

func (s sealer) open(magic string, hdrLen int, msg []byte, ad func(hdr []byte) []byte) ([]byte, []byte, error) {
	min := len(magic) + hdrLen + nonceSize + tagSize
	if len(msg) >= len(magic) && string(msg[:len(magic)]) != magic {
		return nil, nil, fmt.Errorf("%w: no %q magic", ErrFormat, magic)
	}
	if len(msg) < min {
		return nil, nil, fmt.Errorf("%w: %d bytes, want at least %d", ErrTruncated, len(msg), min)
	}
	hdr := msg[len(magic) : len(magic)+hdrLen]
	nonce := msg[len(magic)+hdrLen : min-tagSize]
	aead, err := chacha20poly1305.NewX(s.key.derive("seal v1"))
	if err != nil {
		return nil, nil, err
	}
	body, err := aead.Open(nil, nonce, msg[min-tagSize:], ad(hdr))
	if err != nil {
		return nil, nil, ErrAuth
	}
	return hdr, body, nil
}

// sealChange seals c for NATS subject subj at stream sequence seq.
func (s sealer) sealChange(subj string, seq uint64, c *Change) ([]byte, error) {
	return s.seal(changeMagic, []byte{byte(c.Kind)}, encodeBody(c), changeAD(s.compound, subj, c.Kind, seq))
}

// openChange opens a change message found on subj at stream sequence seq.
// It returns ErrFormat, ErrTruncated, ErrAuth (another compound's key, a
// modified message, or one moved to another subject or sequence) or
// ErrUnknownKind; it never panics.
func (s sealer) openChange(subj string, seq uint64, msg []byte) (Change, error) {
	hdr, body, err := s.open(changeMagic, 1, msg, func(hdr []byte) []byte {
		return changeAD(s.compound, subj, Kind(hdr[0]), seq)
	})
	if err != nil {
		return Change{}, fmt.Errorf("change at sequence %d: %w", seq, err)
	}
	kind := Kind(hdr[0])
	if !kind.Known() {
		return Change{}, fmt.Errorf("change at sequence %d: %w: %v", seq, ErrUnknownKind, kind)
	}
	c, err := decodeBody(kind, body)
	if err != nil {
		return Change{}, fmt.Errorf("change at sequence %d: %w", seq, err)
	}
	return c, nil
}

// sealAck seals a gate's progress report for its ack subject.
func (s sealer) sealAck(subj string, applied uint64, at time.Time) ([]byte, error) {
	body := binary.AppendUvarint(nil, applied)
	body = binary.AppendVarint(body, at.UnixNano())
	return s.seal(ackMagic, nil, body, ackAD(s.compound, subj))
}

// openAck opens a progress report found on ack subject subj.
func (s sealer) openAck(subj string, msg []byte) (applied uint64, at time.Time, err error) {
	_, body, err := s.open(ackMagic, 0, msg, func([]byte) []byte { return ackAD(s.compound, subj) })
	if err != nil {
		return 0, time.Time{}, fmt.Errorf("ack on %s: %w", subj, err)
	}
	r := &reader{b: body}
	applied = r.uvarint("applied sequence")
	ns := r.varint("time")
	if r.err != nil || len(r.b) != 0 {
		return 0, time.Time{}, fmt.Errorf("ack on %s: %w", subj, ErrFormat)
	}
	return applied, time.Unix(0, ns), nil
}
