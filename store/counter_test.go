package store

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// TestCounterRollback puts a whole older copy of the store file back (a
// restored backup taken before a face was withdrawn): the file alone
// cannot tell (TestAttackWholeFileRollback), but with a Counter outside it
// Open refuses the copy with ErrRolledBack, and the current file opens.
func TestCounterRollback(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "gate.db")
	opts := *cheapKDF
	opts.Counter = NewFileCounter(filepath.Join(dir, "gate.counter"))
	s, err := Create(path, pass("pw"), &opts)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.AddTemplate("flat-1", protect(t, s, randUnit(newRand(1), 32))); err != nil {
		t.Fatal(err)
	}
	s.Close()
	backup, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if s, err = Open(path, pass("pw"), &opts); err != nil {
		t.Fatal(err)
	}
	if err := s.ShredClass("flat-1", ClassFace); err != nil { // the withdrawal
		t.Fatal(err)
	}
	s.Close()
	current, _ := os.ReadFile(path)

	if err := os.WriteFile(path, backup, 0o600); err != nil {
		t.Fatal(err)
	}
	_, err = Open(path, pass("pw"), &opts)
	var rb *RolledBackError
	if !errors.Is(err, ErrRolledBack) || !errors.As(err, &rb) || rb.Record != "store file" {
		t.Fatalf("Open of a restored backup with a counter: %v, want ErrRolledBack naming the store file", err)
	}
	t.Log(err)
	// Without the counter the same backup opens and the withdrawn face is
	// back: what the README warns about.
	s, err = Open(path, pass("pw"), cheapKDF)
	if err != nil {
		t.Fatal(err)
	}
	if es, err := s.Templates("flat-1"); err != nil || len(es) != 1 {
		t.Fatalf("backup without a counter: %d templates, %v", len(es), err)
	}
	s.Close()

	if err := os.WriteFile(path, current, 0o600); err != nil {
		t.Fatal(err)
	}
	s, err = Open(path, pass("pw"), &opts)
	if err != nil {
		t.Fatalf("Open of the current file: %v", err)
	}
	s.Close()
}

// TestCounterBehindFileIsAccepted models a crash between a commit and the
// counter's advance: the file is ahead, which Open accepts, and the next
// write catches the counter up.
func TestCounterBehindFileIsAccepted(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "gate.db")
	c := NewFileCounter(filepath.Join(dir, "gate.counter"))
	opts := *cheapKDF
	opts.Counter = c
	s, err := Create(path, pass("pw"), &opts)
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range []string{"a", "b", "c"} {
		if err := s.PutRecord("flat-1", "credential", n, []byte(n)); err != nil {
			t.Fatal(err)
		}
	}
	s.Close()
	v, _ := c.Read()
	if v != 3 {
		t.Fatalf("counter %d after 3 writes", v)
	}
	os.WriteFile(filepath.Join(dir, "gate.counter"), []byte{0, 0, 0, 0, 0, 0, 0, 1}, 0o600)
	if s, err = Open(path, pass("pw"), &opts); err != nil {
		t.Fatalf("file ahead of its counter: %v", err)
	}
	if err := s.PutRecord("flat-1", "credential", "d", nil); err != nil {
		t.Fatal(err)
	}
	s.Close()
	if v, _ := c.Read(); v != 4 {
		t.Fatalf("counter %d after the next write, want 4", v)
	}
}

// TestCreateStartsAtCounter creates a new store over an existing counter:
// its versions start at the counter, so it opens.
func TestCreateStartsAtCounter(t *testing.T) {
	dir := t.TempDir()
	c := NewFileCounter(filepath.Join(dir, "gate.counter"))
	if err := c.Advance(41); err != nil {
		t.Fatal(err)
	}
	opts := *cheapKDF
	opts.Counter = c
	s, err := Create(filepath.Join(dir, "gate.db"), pass("pw"), &opts)
	if err != nil {
		t.Fatal(err)
	}
	s.PutRecord("x", "y", "z", nil)
	s.Close()
	if s, err = Open(filepath.Join(dir, "gate.db"), pass("pw"), &opts); err != nil {
		t.Fatal(err)
	}
	s.Close()
	if v, _ := c.Read(); v != 42 {
		t.Fatalf("counter %d, want 42", v)
	}
}
