package compound

import (
	"bytes"
	"encoding/binary"
	"math"
	"os"
	"testing"
)

func indexOf(hay, needle []byte) int { return bytes.Index(hay, needle) }

func f32le(v []float32) []byte {
	b := make([]byte, 0, 4*len(v))
	for _, x := range v {
		b = binary.LittleEndian.AppendUint32(b, math.Float32bits(x))
	}
	return b
}

// windowFound reports whether any w-byte window of needle is in hay (the
// store package's no-plaintext scan).
func windowFound(hay, needle []byte, w int) bool {
	for i := 0; i+w <= len(needle); i++ {
		if bytes.Contains(hay, needle[i:i+w]) {
			return true
		}
	}
	return false
}

// noPlaintext scans a raw file for any 16-byte run of r's descriptor
// (float32), and for r's card UID.
func noPlaintext(t testing.TB, path string, r resident) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if windowFound(data, f32le(r.face), 16) {
		t.Errorf("%s holds bytes of %s's descriptor", path, r.id)
	}
	if bytes.Contains(data, r.card) {
		t.Errorf("%s holds %s's card number", path, r.id)
	}
}
