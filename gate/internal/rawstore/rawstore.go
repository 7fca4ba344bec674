// Package rawstore lets gate tests look at a FaceGate store file the way a
// thief holding the disk would: as raw bytes. Values reads every value in
// a copy of the file with bbolt directly, below the store's API and without
// depending on the store's bucket layout; a test snapshots the values
// before a deletion, takes the ones that are gone after it, and checks that
// none of their bytes are left anywhere in the file.
package rawstore

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	bolt "go.etcd.io/bbolt"
)

// Values returns every value in the bbolt file at path, in all buckets at
// any depth. The store may be open: the file is copied first.
func Values(t testing.TB, path string) [][]byte {
	t.Helper()
	db, _ := OpenCopy(t, path)
	var out [][]byte
	var walk func(b *bolt.Bucket) error
	walk = func(b *bolt.Bucket) error {
		return b.ForEach(func(k, v []byte) error {
			if v == nil {
				return walk(b.Bucket(k))
			}
			out = append(out, bytes.Clone(v))
			return nil
		})
	}
	err := db.View(func(tx *bolt.Tx) error {
		return tx.ForEach(func(_ []byte, b *bolt.Bucket) error { return walk(b) })
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// OpenCopy copies the bbolt file at path (the store may be open) and opens
// the copy read-only with bbolt alone, as a reader without the key would.
// It returns the DB, closed when the test ends, and the file's bytes.
func OpenCopy(t testing.TB, path string) (*bolt.DB, []byte) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	cp := filepath.Join(t.TempDir(), "copy.db")
	if err := os.WriteFile(cp, data, 0o600); err != nil {
		t.Fatal(err)
	}
	db, err := bolt.Open(cp, 0o600, &bolt.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db, data
}

// Gone returns the values of before that after no longer holds anywhere.
func Gone(before, after [][]byte) [][]byte {
	have := map[string]bool{}
	for _, v := range after {
		have[string(v)] = true
	}
	var gone [][]byte
	for _, v := range before {
		if !have[string(v)] {
			gone = append(gone, v)
		}
	}
	return gone
}

// Sizes counts values by length.
func Sizes(values [][]byte) map[int]int {
	n := map[int]int{}
	for _, v := range values {
		n[len(v)]++
	}
	return n
}

// Contains reports whether the raw file at path holds b anywhere.
func Contains(t testing.TB, path string, b []byte) bool {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return bytes.Contains(data, b)
}
