package main

import (
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
)

// ErrDescriptorsFile is wrapped by the errors of readDescriptors.
var ErrDescriptorsFile = errors.New("bench: bad descriptors file")

// descriptorSet is a labelled set of precomputed descriptors in go-face's
// reference format (testdata/dlib-reference/idols.json):
//
//	{"idols": [{"id": ..., "name": ..., "band_name": ...}, ...],
//	 "faces": [{"idol_id": ..., "descriptor": base64 of little-endian float32s}, ...]}
type descriptorSet struct {
	identity []string // identity ID of each face
	desc     [][]float32
	names    int // number of identities listed in "idols"
}

// readDescriptors decodes a descriptor set. Every descriptor must have the
// same length (a multiple of 4 bytes), hold only finite values, and name an
// identity; faces of identities missing from "idols" are accepted.
func readDescriptors(r io.Reader) (*descriptorSet, error) {
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
		return nil, fmt.Errorf("%w: %v", ErrDescriptorsFile, err)
	}
	if len(f.Faces) == 0 {
		return nil, fmt.Errorf("%w: no faces", ErrDescriptorsFile)
	}
	s := &descriptorSet{names: len(f.Idols)}
	dim := -1
	for i, face := range f.Faces {
		if face.IdolID == "" {
			return nil, fmt.Errorf("%w: face %d has no idol_id", ErrDescriptorsFile, i)
		}
		raw, err := base64.StdEncoding.DecodeString(face.Descriptor)
		if err != nil {
			return nil, fmt.Errorf("%w: face %d: descriptor: %v", ErrDescriptorsFile, i, err)
		}
		if len(raw) == 0 || len(raw)%4 != 0 {
			return nil, fmt.Errorf("%w: face %d: descriptor of %d bytes, want a non-zero multiple of 4", ErrDescriptorsFile, i, len(raw))
		}
		if dim < 0 {
			dim = len(raw) / 4
		}
		if len(raw)/4 != dim {
			return nil, fmt.Errorf("%w: face %d: %d values, the first face has %d", ErrDescriptorsFile, i, len(raw)/4, dim)
		}
		v := make([]float32, dim)
		for j := range v {
			v[j] = math.Float32frombits(binary.LittleEndian.Uint32(raw[4*j:]))
			if math.IsNaN(float64(v[j])) || math.IsInf(float64(v[j]), 0) {
				return nil, fmt.Errorf("%w: face %d: value %d is %v", ErrDescriptorsFile, i, j, v[j])
			}
		}
		s.identity = append(s.identity, face.IdolID)
		s.desc = append(s.desc, v)
	}
	return s, nil
}
