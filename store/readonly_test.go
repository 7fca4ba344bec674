package store

import (
	"bytes"
	"errors"
	"os"
	"testing"

	"github.com/facegate/facegate/gate/records"
)

// TestReadOnly opens a store read-only, by Options.ReadOnly and because
// its file has no write permission: reads, listings and Check work, every
// write gives ErrReadOnly (records.ErrReadOnly) and the file is untouched.
func TestReadOnly(t *testing.T) {
	s, path := newStore(t)
	if err := s.PutRecord("flat-1", "credential", "card", []byte("c1")); err != nil {
		t.Fatal(err)
	}
	if _, err := s.AddTemplate("flat-1", protect(t, s, randUnit(newRand(1), 32))); err != nil {
		t.Fatal(err)
	}
	s.Close()
	for _, tc := range []struct {
		name string
		mode os.FileMode
		opts *Options
	}{
		{"Options.ReadOnly", 0o600, &Options{ReadOnly: true, KDF: cheapKDF.KDF}},
		{"mode 0400", 0o400, cheapKDF},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := os.Chmod(path, tc.mode); err != nil {
				t.Fatal(err)
			}
			before, _ := os.ReadFile(path)
			s, err := Open(path, pass("pw"), tc.opts)
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			if !s.ReadOnly() {
				t.Error("ReadOnly() = false")
			}
			if v, err := s.GetRecord("flat-1", "credential", "card"); err != nil || string(v) != "c1" {
				t.Errorf("GetRecord: %q %v", v, err)
			}
			if subs, err := s.Subjects(); err != nil || len(subs) != 1 {
				t.Errorf("Subjects: %v %v", subs, err)
			}
			if ts, err := s.Templates("flat-1"); err != nil || len(ts) != 1 {
				t.Errorf("Templates: %d %v", len(ts), err)
			}
			if err := s.Check(); err != nil {
				t.Errorf("Check: %v", err)
			}
			writes := map[string]error{
				"PutRecord":   s.PutRecord("flat-1", "credential", "pin", []byte("p")),
				"ShredClass":  s.ShredClass("flat-1", ClassFace),
				"Delete":      s.DeleteSubject("flat-1"),
				"Update":      s.Update(func(b records.Batch) error { return b.PutRecord("x", "y", "z", nil) }),
				"Scrub":       s.Scrub(),
				"RotateKEK":   s.RotateKEK(pass("another passphrase"), cheapKDF),
				"RekeyTransf": s.RekeyTransform(),
			}
			for name, err := range writes {
				if !errors.Is(err, ErrReadOnly) || !errors.Is(err, records.ErrReadOnly) {
					t.Errorf("%s on a read-only store: %v, want ErrReadOnly", name, err)
				}
			}
			s.Close()
			if after, _ := os.ReadFile(path); !bytes.Equal(before, after) {
				t.Error("the file changed")
			}
		})
	}
}
