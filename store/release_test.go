package store

import (
	"bytes"
	"encoding/binary"
	"errors"
	"os"
	"testing"
)

// damagedFreelist returns a store file and a copy whose freelist page is
// damaged by garble.
func damagedFreelist(t *testing.T, garble func(page []byte)) (path string, good, bad []byte) {
	s, path := newStore(t)
	if err := s.PutRecord("flat-1", "credential", "pin", []byte("x")); err != nil {
		t.Fatal(err)
	}
	s.Close()
	good, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	m0, _ := parseBoltMeta(good)
	m1, _ := parseBoltMeta(good[4096:])
	m := m0
	if m1.txid > m0.txid {
		m = m1
	}
	if m.freelist == ^uint64(0) {
		t.Fatal("no freelist page")
	}
	bad = bytes.Clone(good)
	garble(bad[m.freelist*4096 : (m.freelist+1)*4096])
	return path, good, bad
}

// TestDamagedFreelistRefused damages the freelist's element count: bbolt
// would allocate as many page IDs as it says (2^40 here), which kills the
// process with an out-of-memory error no recover catches. Open refuses the
// file with ErrTruncated before bbolt reads it.
func TestDamagedFreelistRefused(t *testing.T) {
	for name, garble := range map[string]func([]byte){
		"count overflowing into the first element": func(p []byte) {
			binary.LittleEndian.PutUint16(p[10:], 0xffff)
			binary.LittleEndian.PutUint64(p[16:], 1<<40)
		},
		"count beyond the page": func(p []byte) { binary.LittleEndian.PutUint16(p[10:], 0xfffe) },
		"not a freelist page":   func(p []byte) { binary.LittleEndian.PutUint16(p[8:], pageLeaf) },
	} {
		path, _, bad := damagedFreelist(t, garble)
		if err := os.WriteFile(path, bad, 0o600); err != nil {
			t.Fatal(err)
		}
		if _, err := Open(path, pass("pw"), cheapKDF); !errors.Is(err, ErrTruncated) {
			t.Errorf("%s: Open = %v, want ErrTruncated", name, err)
		}
	}
}

// TestFailedOpenReleasesFile lets a damaged freelist reach bbolt (which
// panics while opening the file), then puts the good bytes back and opens
// the file again in the same process: the failed Open must have released
// it, not left a half-opened handle holding the lock (ErrLocked).
func TestFailedOpenReleasesFile(t *testing.T) {
	path, good, bad := damagedFreelist(t, func(p []byte) { binary.LittleEndian.PutUint16(p[8:], pageLeaf) })
	defer func(f func(string, bool) error) { preCheck = f }(preCheck)
	preCheck = func(string, bool) error { return nil }
	if err := os.WriteFile(path, bad, 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := Open(path, pass("pw"), cheapKDF)
	if !errors.Is(err, ErrTruncated) {
		t.Fatalf("Open of a damaged freelist: %v, want ErrTruncated", err)
	}
	t.Logf("damaged freelist: %v", err)
	if err := os.WriteFile(path, good, 0o600); err != nil {
		t.Fatal(err)
	}
	s, err := Open(path, pass("pw"), cheapKDF)
	if err != nil {
		t.Fatalf("reopening the repaired file in the same process: %v", err)
	}
	s.Close()
}
