// Package idols reads go-face's reference descriptor file
// (testdata/dlib-reference/idols.json in the shared test data): dlib face
// descriptors of Korean and Chinese people, each labelled with the person it
// shows.
//
// The file is JSON of the form
//
//	{"idols": [{"id": ..., "name": ..., "band_name": ...}, ...],
//	 "faces": [{"idol_id": ..., "descriptor": base64 of little-endian float32s}, ...]}
package idols

import (
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
)

// ErrFormat is wrapped by every error Read returns for input that is not a
// valid descriptor file.
var ErrFormat = errors.New("idols: bad descriptors file")

// Face is one labelled descriptor.
type Face struct {
	// Identity is the face's "idol_id": faces of one person share it.
	Identity string
	// Descriptor is the decoded descriptor.
	Descriptor []float32
}

// Set is the content of a descriptor file.
type Set struct {
	// Faces holds the faces in file order.
	Faces []Face
	// Listed is the number of identities listed under "idols"; faces may
	// name identities that are not listed.
	Listed int
}

// Dim returns the length of the set's descriptors (all have the same).
func (s *Set) Dim() int { return len(s.Faces[0].Descriptor) }

// Read decodes a descriptor file. It requires at least one face; every face
// must name an identity and every descriptor must have the same non-zero
// length and hold only finite values. Errors wrap ErrFormat.
func Read(r io.Reader) (*Set, error) {
	var f struct {
		Idols []struct {
			ID string `json:"id"`
		} `json:"idols"`
		Faces []struct {
			IdolID     string `json:"idol_id"`
			Descriptor string `json:"descriptor"`
		} `json:"faces"`
	}
	if err := json.NewDecoder(r).Decode(&f); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrFormat, err)
	}
	if len(f.Faces) == 0 {
		return nil, fmt.Errorf("%w: no faces", ErrFormat)
	}
	s := &Set{Faces: make([]Face, 0, len(f.Faces)), Listed: len(f.Idols)}
	dim := -1
	for i, face := range f.Faces {
		if face.IdolID == "" {
			return nil, fmt.Errorf("%w: face %d has no idol_id", ErrFormat, i)
		}
		raw, err := base64.StdEncoding.DecodeString(face.Descriptor)
		if err != nil {
			return nil, fmt.Errorf("%w: face %d: descriptor: %v", ErrFormat, i, err)
		}
		if len(raw) == 0 || len(raw)%4 != 0 {
			return nil, fmt.Errorf("%w: face %d: descriptor of %d bytes, want a non-zero multiple of 4", ErrFormat, i, len(raw))
		}
		if dim < 0 {
			dim = len(raw) / 4
		}
		if len(raw)/4 != dim {
			return nil, fmt.Errorf("%w: face %d: %d values, the first face has %d", ErrFormat, i, len(raw)/4, dim)
		}
		v := make([]float32, dim)
		for j := range v {
			v[j] = math.Float32frombits(binary.LittleEndian.Uint32(raw[4*j:]))
			if math.IsNaN(float64(v[j])) || math.IsInf(float64(v[j]), 0) {
				return nil, fmt.Errorf("%w: face %d: value %d is %v", ErrFormat, i, j, v[j])
			}
		}
		s.Faces = append(s.Faces, Face{Identity: face.IdolID, Descriptor: v})
	}
	return s, nil
}

// ReadFile reads the descriptor file at path. Errors name the path.
func ReadFile(path string) (*Set, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	s, err := Read(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return s, nil
}
