// Package templatetest makes protected vectors from plain ones for the
// tests and benchmarks of the matching engine, which measure distances and
// scans on synthetic or reference vectors: a rotation would change neither
// (the transform preserves distances, and a random direction rotated is a
// random direction), only cost O(d²) per vector.
//
// It goes through template.Decode, the one way besides the transform to
// obtain a template.Protected, as if v had been read back from a sealed
// record. Library code never imports it; a raw descriptor reaches the
// gallery and the store only through template.Transform.
package templatetest

import (
	"encoding/binary"
	"fmt"
	"math"

	"github.com/facegate/facegate/template"
)

// Protected returns v as a template.Protected of model modelID under the
// all-zero transform ID. It panics if v cannot be a template vector (empty,
// longer than template.MaxDim, NaN or infinite components) or modelID is
// not 1..255 bytes of UTF-8.
func Protected(modelID string, v []float32) template.Protected {
	b := make([]byte, 0, 28+len(modelID)+4*len(v))
	b = append(b, template.Magic...)
	b = append(b, template.Version, byte(len(modelID)))
	b = append(b, modelID...)
	b = append(b, make([]byte, 8)...) // transform ID
	b = binary.LittleEndian.AppendUint16(b, uint16(len(v)))
	b = append(b, make([]byte, 4+8)...) // quality 0, created at the epoch
	for _, x := range v {
		b = binary.LittleEndian.AppendUint32(b, math.Float32bits(x))
	}
	t, err := template.Decode(b)
	if err != nil {
		panic(fmt.Sprintf("templatetest: %d-d vector of model %q: %v", len(v), modelID, err))
	}
	return t.Protected
}
