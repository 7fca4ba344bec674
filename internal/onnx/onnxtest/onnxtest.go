// Package onnxtest reads back, for tests, the protobuf that internal/onnx
// writes: one level of wire format at a time.
package onnxtest

import (
	"encoding/binary"
	"testing"
)

// Fields walks one level of protobuf wire format in b and returns the
// length-delimited payloads of field f, in order. Malformed input fails t.
func Fields(t testing.TB, b []byte, f int) [][]byte {
	t.Helper()
	var out [][]byte
	for len(b) > 0 {
		key, n := binary.Uvarint(b)
		if n <= 0 {
			t.Fatal("onnxtest: bad varint")
		}
		b = b[n:]
		var skip uint64
		switch key & 7 {
		case 0:
			_, n = binary.Uvarint(b)
			if n <= 0 {
				t.Fatal("onnxtest: bad varint")
			}
			skip = uint64(n)
		case 1:
			skip = 8
		case 5:
			skip = 4
		case 2:
			l, n := binary.Uvarint(b)
			if n <= 0 || l > uint64(len(b)-n) {
				t.Fatal("onnxtest: bad length")
			}
			b = b[n:]
			if int(key>>3) == f {
				out = append(out, b[:l])
			}
			skip = l
		default:
			t.Fatalf("onnxtest: wire type %d", key&7)
		}
		if skip > uint64(len(b)) {
			t.Fatal("onnxtest: truncated field")
		}
		b = b[skip:]
	}
	return out
}
