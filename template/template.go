// Package template holds FaceGate's protected face templates: the revocable
// transform that turns a model descriptor into a protected vector, and the
// versioned binary encoding of a [Template].
//
// A template never holds a raw descriptor: [Transform.Protect] rotates the
// descriptor with a keyed random orthonormal matrix before anything is
// stored. See [Transform] for why a rotation, and [Rekeyer] for renewal.
//
// # Encoding (format version 2)
//
// All integers and floats are little-endian; floats are IEEE 754.
//
//	offset      size   field
//	0           4      magic "FGTP"
//	4           1      format version (2)
//	5           1      model ID length m (1..255)
//	6           m      model ID, UTF-8
//	6+m         8      transform ID (identifies the transform key, not secret)
//	14+m        2      dimension d (1..MaxDim)
//	16+m        4      quality (float32, finite)
//	20+m        8      created, Unix nanoseconds (int64)
//	28+m        4·d    protected vector (float32, finite)
//
// The encoding is exactly 28+m+4d bytes; [Decode] rejects shorter (ErrTruncated)
// and longer (ErrTrailingData) input, an unknown magic (ErrFormat) or version
// (ErrVersion), and out-of-range fields (ErrInvalid). Decode never panics.
//
// Version 1 had, after the creation time, a float32 quantization scale and,
// after the vector, the vector quantized to int8 (d bytes): 32+m+5d bytes.
// Nothing read them. Decode still reads version-1 records (checking those
// fields as version 1 did, then dropping them); Encode writes version 2.
package template

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"time"
	"unicode/utf8"
)

// Version is the encoding format version written by [Encode].
const Version = 2

// MaxDim is the largest accepted vector dimension.
const MaxDim = 4096

// Magic starts every encoded template.
const Magic = "FGTP"

// fixedSize is the bytes of a version-2 encoding besides the model ID and
// the vector; version 1 had 4 more (the quantization scale).
const fixedSize = 28

// EncodedSize returns the length of Encode's output for a template of
// model modelID with dim dimensions.
func EncodedSize(modelID string, dim int) int { return fixedSize + len(modelID) + 5*dim }

// Errors returned by Decode and Encode; test with errors.Is.
var (
	// ErrFormat reports input that does not start with Magic.
	ErrFormat = errors.New("template: not an encoded template")
	// ErrVersion reports an unknown format version.
	ErrVersion = errors.New("template: unsupported format version")
	// ErrTruncated reports input shorter than its header says.
	ErrTruncated = errors.New("template: truncated")
	// ErrTrailingData reports input longer than its header says.
	ErrTrailingData = errors.New("template: trailing data after template")
	// ErrInvalid reports a field outside its range (empty model ID, zero or
	// oversized dimension, NaN or infinite values, mismatched lengths).
	ErrInvalid = errors.New("template: invalid field")
)

// Template is a protected face template: a [Protected] vector (with its
// model and transform IDs) and what was recorded at enrollment.
type Template struct {
	// Version is the encoding format version the template was decoded from
	// (Encode always writes the current Version).
	Version uint8
	// Protected is the protected (transformed) descriptor, with the ID of
	// the model that produced it and of the transform key protecting it.
	Protected
	// Quality is the capture quality score recorded at enrollment.
	Quality float32
	// Created is when the template was made.
	Created time.Time
}

func finite(f float32) bool {
	return !math.IsNaN(float64(f)) && !math.IsInf(float64(f), 0)
}

// validate reports ErrInvalid if p cannot be part of an encoded template.
func (p *Protected) validate() error {
	switch {
	case len(p.model) == 0 || len(p.model) > 255:
		return fmt.Errorf("%w: model ID is %d bytes, want 1..255", ErrInvalid, len(p.model))
	case !utf8.ValidString(p.model):
		return fmt.Errorf("%w: model ID is not UTF-8", ErrInvalid)
	case len(p.v) == 0 || len(p.v) > MaxDim:
		return fmt.Errorf("%w: dimension %d, want 1..%d", ErrInvalid, len(p.v), MaxDim)
	}
	for i, x := range p.v {
		if !finite(x) {
			return fmt.Errorf("%w: vector[%d] is %v", ErrInvalid, i, x)
		}
	}
	return nil
}

// Validate reports ErrInvalid if t cannot be encoded.
func (t *Template) Validate() error {
	if err := t.Protected.validate(); err != nil {
		return err
	}
	if !finite(t.Quality) {
		return fmt.Errorf("%w: quality %v", ErrInvalid, t.Quality)
	}
	return nil
}

// Encode returns the version-2 encoding of t (see the package comment). It
// returns ErrInvalid if t fails Validate.
func Encode(t *Template) ([]byte, error) {
	if err := t.Validate(); err != nil {
		return nil, err
	}
	m, d := len(t.model), len(t.v)
	b := make([]byte, 0, fixedSize+m+4*d)
	b = append(b, Magic...)
	b = append(b, Version, byte(m))
	b = append(b, t.model...)
	b = append(b, t.transform[:]...)
	b = binary.LittleEndian.AppendUint16(b, uint16(d))
	b = binary.LittleEndian.AppendUint32(b, math.Float32bits(t.Quality))
	b = binary.LittleEndian.AppendUint64(b, uint64(t.Created.UnixNano()))
	for _, x := range t.v {
		b = binary.LittleEndian.AppendUint32(b, math.Float32bits(x))
	}
	return b, nil
}

// Decode parses an encoded template of format version 2 or 1. Any input
// yields a Template or an error wrapping one of ErrFormat, ErrVersion,
// ErrTruncated, ErrTrailingData or ErrInvalid; Decode never panics and does
// not retain b. The vector it returns is taken as protected (see
// [Protected]): decode only what the store authenticated.
func Decode(b []byte) (Template, error) {
	var t Template
	if len(b) < len(Magic) {
		if string(b) == Magic[:len(b)] {
			return t, fmt.Errorf("%w: %d bytes", ErrTruncated, len(b))
		}
		return t, ErrFormat
	}
	if string(b[:len(Magic)]) != Magic {
		return t, ErrFormat
	}
	if len(b) < 6 {
		return t, fmt.Errorf("%w: %d-byte header", ErrTruncated, len(b))
	}
	v := b[4]
	if v != 1 && v != Version {
		return t, fmt.Errorf("%w: %d (this build reads 1 and %d)", ErrVersion, v, Version)
	}
	// Version 1 adds a 4-byte scale to the header and d int8s after the vector.
	fixed, perDim := fixedSize, 4
	if v == 1 {
		fixed, perDim = fixedSize+4, 5
	}
	m := int(b[5])
	if m == 0 {
		return t, fmt.Errorf("%w: empty model ID", ErrInvalid)
	}
	if len(b) < fixed+m {
		return t, fmt.Errorf("%w: %d bytes, header needs %d", ErrTruncated, len(b), fixed+m)
	}
	p := 6
	t.Version = v
	t.model = string(b[p : p+m])
	p += m
	copy(t.transform[:], b[p:p+8])
	p += 8
	d := int(binary.LittleEndian.Uint16(b[p:]))
	p += 2
	if d == 0 || d > MaxDim {
		return Template{}, fmt.Errorf("%w: dimension %d, want 1..%d", ErrInvalid, d, MaxDim)
	}
	if want := fixed + m + perDim*d; len(b) < want {
		return Template{}, fmt.Errorf("%w: %d bytes, want %d for dimension %d", ErrTruncated, len(b), want, d)
	} else if len(b) > want {
		return Template{}, fmt.Errorf("%w: %d extra bytes", ErrTrailingData, len(b)-want)
	}
	t.Quality = math.Float32frombits(binary.LittleEndian.Uint32(b[p:]))
	p += 4
	t.Created = time.Unix(0, int64(binary.LittleEndian.Uint64(b[p:])))
	p += 8
	if v == 1 {
		if err := checkV1Scale(b[p:], b[p+4+4*d:]); err != nil {
			return Template{}, err
		}
		p += 4
	}
	t.v = make([]float32, d)
	for i := range t.v {
		t.v[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[p:]))
		p += 4
	}
	if err := t.Validate(); err != nil {
		return Template{}, err
	}
	return t, nil
}

// checkV1Scale checks the fields version 1 had and version 2 dropped, as
// version 1's Decode did: the quantization scale (finite, ≥ 0) and the
// int8 vector (no −128), so that a record version 1 refused is still
// refused.
func checkV1Scale(scale, quantized []byte) error {
	s := math.Float32frombits(binary.LittleEndian.Uint32(scale))
	if !finite(s) || s < 0 {
		return fmt.Errorf("%w: quantization scale %v", ErrInvalid, s)
	}
	for i, q := range quantized {
		if int8(q) == math.MinInt8 {
			return fmt.Errorf("%w: quantized[%d] is -128", ErrInvalid, i)
		}
	}
	return nil
}

// MarshalBinary implements encoding.BinaryMarshaler with [Encode].
func (t Template) MarshalBinary() ([]byte, error) { return Encode(&t) }

// UnmarshalBinary implements encoding.BinaryUnmarshaler with [Decode].
func (t *Template) UnmarshalBinary(b []byte) error {
	d, err := Decode(b)
	if err != nil {
		return err
	}
	*t = d
	return nil
}
