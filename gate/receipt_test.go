package gate

import (
	"bytes"
	"encoding/json"
	"errors"
	"testing"
	"time"
)

// TestReceiptDetectsTampering checks that any change to a receipt, or a
// different key, fails verification.
func TestReceiptDetectsTampering(t *testing.T) {
	e := newEnv(t, nil)
	e.register(t, "s", true)
	e.g.SetCard("s", []byte("c"))
	e.g.EnrollFace("s", vector(1), 0.9)
	r, err := e.g.Withdraw("s", PurposeFace)
	if err != nil {
		t.Fatal(err)
	}
	if err := VerifyReceipt(e.keys.Receipt, r); err != nil {
		t.Fatal(err)
	}
	tamper := []func(r *Receipt){
		func(r *Receipt) { r.Subject = "t" },
		func(r *Receipt) { r.Templates++ },
		func(r *Receipt) { r.At = r.At.Add(time.Second) },
		func(r *Receipt) { r.Deleted = r.Deleted[1:] },
		func(r *Receipt) { r.Deleted[0] += "!" },
		func(r *Receipt) { r.Purpose = PurposeEntry },
		func(r *Receipt) { r.MAC[0] ^= 1 },
		func(r *Receipt) { r.MAC = nil },
	}
	for i, f := range tamper {
		c := r
		c.Deleted = append([]string(nil), r.Deleted...)
		c.MAC = bytes.Clone(r.MAC)
		f(&c)
		if err := VerifyReceipt(e.keys.Receipt, c); !errors.Is(err, ErrBadReceipt) {
			t.Errorf("tamper %d: err = %v, want ErrBadReceipt", i, err)
		}
	}
	if err := VerifyReceipt(e.keys.Card, r); !errors.Is(err, ErrBadReceipt) {
		t.Errorf("wrong key: err = %v", err)
	}
	// A receipt survives a JSON round trip.
	b, _ := json.Marshal(r)
	var back Receipt
	json.Unmarshal(b, &back)
	if err := VerifyReceipt(e.keys.Receipt, back); err != nil {
		t.Errorf("after JSON: %v", err)
	}
}
