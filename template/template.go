// Package template holds FaceGate's protected face templates: the revocable
// transform that turns a model descriptor into a protected vector, and the
// versioned binary encoding of a [Template].
//
// A template never holds a raw descriptor: [Transform.Protect] rotates the
// descriptor with a keyed random orthonormal matrix before anything is
// stored. See [Transform] for why a rotation, and [Rekey] for renewal.
//
// # Encoding (format version 1)
//
// All integers and floats are little-endian; floats are IEEE 754.
//
//	offset      size   field
//	0           4      magic "FGTP"
//	4           1      format version (1)
//	5           1      model ID length m (1..255)
//	6           m      model ID, UTF-8
//	6+m         8      transform ID (identifies the transform key, not secret)
//	14+m        2      dimension d (1..MaxDim)
//	16+m        4      quality (float32, finite)
//	20+m        8      created, Unix nanoseconds (int64)
//	28+m        4      quantization scale (float32, finite, ≥ 0)
//	32+m        4·d    protected vector (float32, finite)
//	32+m+4d     d      quantized vector (int8): round(v[i]/scale), in −127..127
//
// The encoding is exactly 32+m+5d bytes; [Decode] rejects shorter (ErrTruncated)
// and longer (ErrTrailingData) input, an unknown magic (ErrFormat) or version
// (ErrVersion), and out-of-range fields (ErrInvalid). Decode never panics.
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
const Version = 1

// MaxDim is the largest accepted vector dimension.
const MaxDim = 4096

// Magic starts every encoded template.
const Magic = "FGTP"

const fixedSize = 32 // bytes of an encoding besides the model ID and vectors

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

// Template is a protected face template: a descriptor after the keyed
// transform, with its compact int8 form.
type Template struct {
	// Version is the encoding format version the template was decoded from
	// (Encode always writes the current Version).
	Version uint8
	// ModelID names the network that produced the descriptor
	// (facematch.Model.ID). Templates of different models never match.
	ModelID string
	// TransformID identifies the transform key the vector was protected
	// with ([Transform.ID]); it is not secret.
	TransformID [8]byte
	// Vector is the protected (transformed) descriptor; its length is the
	// dimension.
	Vector []float32
	// Quantized is Vector quantized to int8: Quantized[i] = round(Vector[i]/Scale).
	Quantized []int8
	// Scale is the quantization step of Quantized.
	Scale float32
	// Quality is the capture quality score recorded at enrollment.
	Quality float32
	// Created is when the template was made.
	Created time.Time
}

// Dim returns the template's dimension.
func (t *Template) Dim() int { return len(t.Vector) }

// Quantize returns v quantized to int8 with a symmetric scale: q[i] =
// round(v[i]/scale) with scale = max|v|/127 (scale 0 for an all-zero v).
func Quantize(v []float32) (q []int8, scale float32) {
	var m float32
	for _, x := range v {
		m = max(m, float32(math.Abs(float64(x))))
	}
	q = make([]int8, len(v))
	if m == 0 {
		return q, 0
	}
	scale = m / 127
	for i, x := range v {
		r := math.Round(float64(x / scale))
		q[i] = int8(max(-127, min(127, r)))
	}
	return q, scale
}

// Dequantize returns the float32 approximation of t's quantized vector.
func (t *Template) Dequantize() []float32 {
	v := make([]float32, len(t.Quantized))
	for i, q := range t.Quantized {
		v[i] = float32(q) * t.Scale
	}
	return v
}

func finite(f float32) bool {
	return !math.IsNaN(float64(f)) && !math.IsInf(float64(f), 0)
}

// Validate reports ErrInvalid if t cannot be encoded.
func (t *Template) Validate() error {
	switch {
	case len(t.ModelID) == 0 || len(t.ModelID) > 255:
		return fmt.Errorf("%w: model ID is %d bytes, want 1..255", ErrInvalid, len(t.ModelID))
	case !utf8.ValidString(t.ModelID):
		return fmt.Errorf("%w: model ID is not UTF-8", ErrInvalid)
	case len(t.Vector) == 0 || len(t.Vector) > MaxDim:
		return fmt.Errorf("%w: dimension %d, want 1..%d", ErrInvalid, len(t.Vector), MaxDim)
	case len(t.Quantized) != len(t.Vector):
		return fmt.Errorf("%w: quantized length %d differs from dimension %d", ErrInvalid, len(t.Quantized), len(t.Vector))
	case !finite(t.Scale) || t.Scale < 0:
		return fmt.Errorf("%w: quantization scale %v", ErrInvalid, t.Scale)
	case !finite(t.Quality):
		return fmt.Errorf("%w: quality %v", ErrInvalid, t.Quality)
	}
	for i, x := range t.Vector {
		if !finite(x) {
			return fmt.Errorf("%w: vector[%d] is %v", ErrInvalid, i, x)
		}
	}
	for i, q := range t.Quantized {
		if q == math.MinInt8 {
			return fmt.Errorf("%w: quantized[%d] is -128", ErrInvalid, i)
		}
	}
	return nil
}

// Encode returns the version-1 encoding of t (see the package comment). It
// returns ErrInvalid if t fails Validate.
func Encode(t *Template) ([]byte, error) {
	if err := t.Validate(); err != nil {
		return nil, err
	}
	m, d := len(t.ModelID), len(t.Vector)
	b := make([]byte, 0, fixedSize+m+5*d)
	b = append(b, Magic...)
	b = append(b, Version, byte(m))
	b = append(b, t.ModelID...)
	b = append(b, t.TransformID[:]...)
	b = binary.LittleEndian.AppendUint16(b, uint16(d))
	b = binary.LittleEndian.AppendUint32(b, math.Float32bits(t.Quality))
	b = binary.LittleEndian.AppendUint64(b, uint64(t.Created.UnixNano()))
	b = binary.LittleEndian.AppendUint32(b, math.Float32bits(t.Scale))
	for _, x := range t.Vector {
		b = binary.LittleEndian.AppendUint32(b, math.Float32bits(x))
	}
	for _, q := range t.Quantized {
		b = append(b, byte(q))
	}
	return b, nil
}

// Decode parses an encoded template. Any input yields a Template or an error
// wrapping one of ErrFormat, ErrVersion, ErrTruncated, ErrTrailingData or
// ErrInvalid; Decode never panics and does not retain b.
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
	if b[4] != Version {
		return t, fmt.Errorf("%w: %d (this build reads %d)", ErrVersion, b[4], Version)
	}
	m := int(b[5])
	if m == 0 {
		return t, fmt.Errorf("%w: empty model ID", ErrInvalid)
	}
	if len(b) < fixedSize+m {
		return t, fmt.Errorf("%w: %d bytes, header needs %d", ErrTruncated, len(b), fixedSize+m)
	}
	p := 6
	t.Version = b[4]
	t.ModelID = string(b[p : p+m])
	p += m
	copy(t.TransformID[:], b[p:p+8])
	p += 8
	d := int(binary.LittleEndian.Uint16(b[p:]))
	p += 2
	if d == 0 || d > MaxDim {
		return Template{}, fmt.Errorf("%w: dimension %d, want 1..%d", ErrInvalid, d, MaxDim)
	}
	if want := fixedSize + m + 5*d; len(b) < want {
		return Template{}, fmt.Errorf("%w: %d bytes, want %d for dimension %d", ErrTruncated, len(b), want, d)
	} else if len(b) > want {
		return Template{}, fmt.Errorf("%w: %d extra bytes", ErrTrailingData, len(b)-want)
	}
	t.Quality = math.Float32frombits(binary.LittleEndian.Uint32(b[p:]))
	p += 4
	t.Created = time.Unix(0, int64(binary.LittleEndian.Uint64(b[p:])))
	p += 8
	t.Scale = math.Float32frombits(binary.LittleEndian.Uint32(b[p:]))
	p += 4
	t.Vector = make([]float32, d)
	for i := range t.Vector {
		t.Vector[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[p:]))
		p += 4
	}
	t.Quantized = make([]int8, d)
	for i := range t.Quantized {
		t.Quantized[i] = int8(b[p])
		p++
	}
	if err := t.Validate(); err != nil {
		return Template{}, err
	}
	return t, nil
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
