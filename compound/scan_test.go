package compound

import (
	"bytes"
	"encoding/binary"
	"math"
	"os"
	"testing"

	"github.com/facegate/facegate/template"
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

// noPlaintext runs the store package's no-plaintext scan on a raw file:
// no 16-byte run of r's descriptor or of its protected template (float32)
// and not r's card number. (Templates hold no int8 copy since format 2.)
func noPlaintext(t testing.TB, path string, r resident, protected template.Template) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range []struct {
		name   string
		b      []byte
		window int
	}{
		{"descriptor float32", f32le(r.face), 16},
		{"protected float32", f32le(protected.Vector()), 16},
		{"card number", r.card, len(r.card)},
	} {
		if windowFound(data, n.b, n.window) {
			t.Errorf("%s holds bytes of %s's %s", path, r.id, n.name)
		}
	}
}
