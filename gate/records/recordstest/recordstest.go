// Package recordstest provides an in-memory records.Store for tests and
// examples. It keeps the semantics the gate layer depends on — per
// (subject, class) data keys, shredding one class leaves the others — and
// remembers every sealed record it ever held so that tests can check that a
// shredded record no longer opens.
package recordstest

import (
	"bytes"
	"crypto/rand"
	"errors"
	"fmt"
	"slices"
	"sync"

	"golang.org/x/crypto/chacha20poly1305"

	"github.com/facegate/facegate/gate/records"
)

type classKey struct{ subject, class string }

type ghost struct {
	k      classKey
	name   string
	sealed []byte
}

// Store is an in-memory records.Store sealing each record with
// XChaCha20-Poly1305 under a random data key per (subject, class). The zero
// value is not usable; call New.
type Store struct {
	mu    sync.Mutex
	keys  map[classKey][]byte
	recs  map[classKey]map[string][]byte // sealed: nonce || ciphertext
	ghost []ghost                        // every sealed record ever written, like free pages
}

// New returns an empty Store.
func New() *Store {
	return &Store{keys: map[classKey][]byte{}, recs: map[classKey]map[string][]byte{}}
}

func ad(k classKey, name string) []byte {
	return fmt.Appendf(nil, "%q/%q/%q", k.subject, k.class, name)
}

func check(subject, class string) error {
	if subject == "" || class == "" {
		return errors.New("recordstest: empty subject or class")
	}
	return nil
}

// PutRecord implements records.Store.
func (s *Store) PutRecord(subject, class, name string, plaintext []byte) error {
	if err := check(subject, class); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	k := classKey{subject, class}
	key, ok := s.keys[k]
	if !ok {
		key = make([]byte, chacha20poly1305.KeySize)
		rand.Read(key)
		s.keys[k] = key
		s.recs[k] = map[string][]byte{}
	}
	aead, err := chacha20poly1305.NewX(key)
	if err != nil {
		return err
	}
	nonce := make([]byte, aead.NonceSize(), aead.NonceSize()+len(plaintext)+aead.Overhead())
	rand.Read(nonce)
	sealed := aead.Seal(nonce, nonce, plaintext, ad(k, name))
	s.recs[k][name] = sealed
	s.ghost = append(s.ghost, ghost{k, name, sealed})
	return nil
}

// GetRecord implements records.Store.
func (s *Store) GetRecord(subject, class, name string) ([]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	k := classKey{subject, class}
	sealed, ok := s.recs[k][name]
	if !ok {
		return nil, fmt.Errorf("recordstest: %s/%s/%s: %w", subject, class, name, records.ErrNotFound)
	}
	aead, err := chacha20poly1305.NewX(s.keys[k])
	if err != nil {
		return nil, err
	}
	n := aead.NonceSize()
	return aead.Open(nil, sealed[:n], sealed[n:], ad(k, name))
}

// DeleteRecord implements records.Store.
func (s *Store) DeleteRecord(subject, class, name string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.recs[classKey{subject, class}], name)
	return nil
}

// ListRecords implements records.Store.
func (s *Store) ListRecords(subject, class string) ([]string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var names []string
	for name := range s.recs[classKey{subject, class}] {
		names = append(names, name)
	}
	slices.Sort(names)
	return names, nil
}

// ShredClass implements records.Store.
func (s *Store) ShredClass(subject, class string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	k := classKey{subject, class}
	if key, ok := s.keys[k]; ok {
		clear(key)
	}
	delete(s.keys, k)
	delete(s.recs, k)
	return nil
}

// DeleteSubject implements records.Store.
func (s *Store) DeleteSubject(subject string) error {
	s.mu.Lock()
	var classes []string
	for k := range s.keys {
		if k.subject == subject {
			classes = append(classes, k.class)
		}
	}
	s.mu.Unlock()
	for _, c := range classes {
		s.ShredClass(subject, c)
	}
	return nil
}

// Opens reports how many of the sealed records the store ever wrote —
// including deleted and overwritten ones, as free pages of a file keep
// them — still open under a live data key and contain needle. A test that
// withdraws data checks that this is zero for a marker of that data.
func (s *Store) Opens(needle []byte) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, g := range s.ghost {
		key, ok := s.keys[g.k]
		if !ok {
			continue
		}
		aead, err := chacha20poly1305.NewX(key)
		if err != nil {
			continue
		}
		ns := aead.NonceSize()
		if pt, err := aead.Open(nil, g.sealed[:ns], g.sealed[ns:], ad(g.k, g.name)); err == nil && bytes.Contains(pt, needle) {
			n++
		}
	}
	return n
}
