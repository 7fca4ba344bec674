package gate

import (
	"bytes"
	"encoding/json"
	"errors"
	"testing"
	"time"
)

func FuzzDecodeQR(f *testing.F) {
	keys, _ := DeriveKeys(bytes.Repeat([]byte{7}, KeySize))
	valid := encodeQR(keys.QR, QRCode{Handle: qrHandleOf(keys.QR, "s"), Expires: time.Unix(1_800_000_000, 0), Nonce: [8]byte{1, 2, 3}})
	f.Add(valid)
	f.Add(valid[:len(valid)-1])
	f.Add(valid + "A")
	f.Add("")
	f.Add("====")
	f.Fuzz(func(t *testing.T, text string) {
		q, err := DecodeQR(keys.QR, text)
		if err != nil {
			if text == valid {
				t.Fatalf("the code encodeQR made is rejected: %v", err)
			}
			if !errors.Is(err, ErrMalformedQR) {
				t.Fatalf("error %v does not match ErrMalformedQR", err)
			}
			return
		}
		// Whatever decodes must re-encode to the same text: the MAC binds
		// every byte.
		if again := encodeQR(keys.QR, q); again != text {
			t.Fatalf("decoded %q, re-encodes as %q", text, again)
		}
	})
}

func FuzzDecodeConsent(f *testing.F) {
	f.Add([]byte(`{"purpose":"face-recognition","given":"2026-11-24T08:00:00Z","how":"form","birth_year":1980}`))
	f.Add([]byte(`{"purpose":"compound-entry","given":"2026-11-24T08:00:00Z","how":"form","guardian":"K","birth_year":2015,"expires":"2027-01-01T00:00:00Z","withdrawn":"2026-12-01T00:00:00Z"}`))
	f.Add([]byte(`{"purpose":"marketing","given":"2026-11-24T08:00:00Z"}`))
	f.Add([]byte(`{"purpose":"face-recognition","given":"2026-11-24T08:00:00Z","extra":1}`))
	f.Add([]byte(`{} {}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := DecodeConsent(data)
		if err != nil {
			if !errors.Is(err, ErrCorrupt) {
				t.Fatalf("error %v does not match ErrCorrupt", err)
			}
			return
		}
		if !c.Purpose.Valid() || c.Given.IsZero() {
			t.Fatalf("accepted %+v", c)
		}
		// What was accepted must re-encode to a record that decodes the same.
		roundTrip(t, "consent", c, DecodeConsent)
	})
}

func FuzzDecodeCredentials(f *testing.F) {
	r, _ := newPINRecord(fastPIN, "1234", time.Unix(0, 0))
	pin, _ := jsonBytes(r)
	card, _ := jsonBytes(cardRecord{MAC: make([]byte, 32), Added: time.Unix(0, 0)})
	f.Add(pin)
	f.Add(card)
	f.Add([]byte(`{"params":{"t":0,"m":0,"p":0},"salt":"","hash":""}`))
	f.Add([]byte(`{"mac":"AAAA"}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		if r, err := decodePINRecord(data); err == nil {
			if len(r.Hash) != 32 || r.Params.check() != nil {
				t.Fatalf("accepted PIN record %+v", r)
			}
			if r.Params.Memory <= 1024 && r.Params.Time <= 4 {
				r.matches("1234") // must not panic
			}
			// What was accepted survives a write and a read unchanged.
			roundTrip(t, "PIN record", r, decodePINRecord)
		} else if !errors.Is(err, ErrCorrupt) {
			t.Fatalf("PIN record error %v does not match ErrCorrupt", err)
		}
		if c, err := decodeCardRecord(data); err == nil {
			if len(c.MAC) != 32 {
				t.Fatalf("accepted card record %+v", c)
			}
			roundTrip(t, "card record", c, decodeCardRecord)
		} else if !errors.Is(err, ErrCorrupt) {
			t.Fatalf("card record error %v does not match ErrCorrupt", err)
		}
	})
}

func jsonBytes(v any) ([]byte, error) { return json.Marshal(v) }

// roundTrip checks that v, once encoded, decodes and encodes again to the
// same bytes.
func roundTrip[T any](t *testing.T, what string, v T, decode func([]byte) (T, error)) {
	t.Helper()
	again, err := jsonBytes(v)
	if err != nil {
		t.Fatal(err)
	}
	v2, err := decode(again)
	if err != nil {
		t.Fatalf("re-encoded %s %s refused: %v", what, again, err)
	}
	if again2, _ := jsonBytes(v2); !bytes.Equal(again, again2) {
		t.Fatalf("%s changed on a round trip: %s, then %s", what, again, again2)
	}
}
