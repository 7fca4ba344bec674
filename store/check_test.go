package store

import (
	"bytes"
	"errors"
	"math/rand/v2"
	"os"
	"strings"
	"testing"

	bolt "go.etcd.io/bbolt"
)

func TestCheck(t *testing.T) {
	s, path := newStore(t)
	r := rand.New(rand.NewPCG(10, 10))
	for i := 0; i < 30; i++ {
		if _, err := s.AddTemplate(subjectName(i), protect(t, s, randUnit(r, 128))); err != nil {
			t.Fatal(err)
		}
		if err := s.PutRecord(subjectName(i), "consent", "v1", []byte("yes")); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Check(); err != nil {
		t.Fatalf("Check of a sound store: %v", err)
	}
	// Misplace values as an attacker with write access could.
	bob := rawValue(t, s, subjectName(1), "r", "consent", "v1")
	err := s.db.Update(func(tx *bolt.Tx) error {
		rb := tx.Bucket(bucketRecords)
		if err := rb.Put(recKey(subjectName(0), "consent", "v1"), bob); err != nil { // moved record
			return err
		}
		if err := rb.Put(recKey(subjectName(2), "credential", "pin"), bob); err != nil { // record without a key
			return err
		}
		return tx.Bucket(bucketKeys).Put(keyKey(subjectName(3), "consent"), bytes.Repeat([]byte{1}, 73)) // forged key
	})
	if err != nil {
		t.Fatal(err)
	}
	err = s.Check()
	if !errors.Is(err, ErrTampered) {
		t.Fatalf("Check after tampering: %v", err)
	}
	msg := err.Error()
	for _, want := range []string{
		`record "resident/AAA"/"consent"/"v1"`,
		`record "resident/CAA"/"credential"/"pin" without a data key`,
		`data key "resident/DAA"/"consent"`,
	} {
		if !strings.Contains(msg, want) {
			t.Errorf("Check does not report %s:\n%s", want, msg)
		}
	}
	if n := strings.Count(msg, "\n") + 1; n != 4 { // the forged key also orphans DAA's consent record
		t.Errorf("Check reported %d problems, want 4:\n%s", n, msg)
	}

	// Structural damage: garble the page header of a leaf holding records.
	leaf := rawValue(t, s, subjectName(20), "r", "consent", "v1")
	s.Close()
	file, _ := os.ReadFile(path)
	i := bytes.Index(file, leaf)
	page := i / 4096 * 4096
	file[page+8], file[page+9] = 0xff, 0xff // page flags
	os.WriteFile(path, file, 0o600)
	s2, err := Open(path, pass("pw"), cheapKDF)
	if err != nil {
		t.Logf("Open of a store with a garbled leaf page: %v", err)
		return
	}
	defer s2.Close()
	err = s2.Check()
	t.Logf("Check of a garbled leaf page: %.200v", err)
	if !errors.Is(err, ErrTruncated) {
		t.Errorf("Check of a garbled leaf page: %v, want ErrTruncated", err)
	}
	// Ordinary reads fail with an error too, instead of crashing the process.
	if err := s2.Each(func(Entry) error { return nil }); !errors.Is(err, ErrTruncated) {
		t.Errorf("Each over a garbled leaf page: %v, want ErrTruncated", err)
	}
}
