// Package rawstore lets gate tests look at a FaceGate store file the way a
// thief holding the disk would: as raw bytes. It reads a copy of the file
// with bbolt directly, below the store's API, to find the wrapped data key
// and the sealed records of one (subject, class); tests then check that
// after a shred none of those bytes are left anywhere in the file.
//
// It relies on the store's documented layout: bucket "subjects", one
// bucket per subject holding "k" (class → wrapped data key) and "r"
// (class → bucket of name → sealed record).
package rawstore

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	bolt "go.etcd.io/bbolt"
)

// Class returns the wrapped data key and the sealed records of (subject,
// class) as they sit in the store file at path. The store may be open: the
// file is copied first.
func Class(t testing.TB, path, subject, class string) (wrappedKey []byte, sealed [][]byte) {
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
	defer db.Close()
	err = db.View(func(tx *bolt.Tx) error {
		sb := tx.Bucket([]byte("subjects")).Bucket([]byte(subject))
		if sb == nil {
			return nil
		}
		if kb := sb.Bucket([]byte("k")); kb != nil {
			wrappedKey = bytes.Clone(kb.Get([]byte(class)))
		}
		if rb := sb.Bucket([]byte("r")); rb != nil {
			if cb := rb.Bucket([]byte(class)); cb != nil {
				return cb.ForEach(func(_, v []byte) error {
					sealed = append(sealed, bytes.Clone(v))
					return nil
				})
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return wrappedKey, sealed
}

// Contains reports whether the raw store file at path holds b anywhere.
func Contains(t testing.TB, path string, b []byte) bool {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return bytes.Contains(data, b)
}
