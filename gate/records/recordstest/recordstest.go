// Package recordstest provides an in-memory records.Store for tests and
// examples. It keeps the semantics and errors of FaceGate's bbolt store
// (package store) — per (subject, class) data keys, shredding one class
// leaves the others, face templates only through AddTemplate — and
// remembers every sealed record written since the last deletion — replaced
// versions linger as they do in a file's free pages until the store scrubs
// them on the next deletion — so that tests can check that shredded data no
// longer opens.
package recordstest

import (
	"bytes"
	"crypto/rand"
	"fmt"
	"slices"
	"sync"

	"golang.org/x/crypto/chacha20poly1305"

	"github.com/facegate/facegate/store"
	"github.com/facegate/facegate/template"
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
	mu         sync.Mutex
	subjects   map[string]bool
	keys       map[classKey][]byte
	recs       map[classKey]map[string][]byte // sealed: nonce || ciphertext
	seq        map[string]uint64              // template sequence per subject
	ghosts     []ghost                        // every sealed record ever written
	secret     []byte                         // transform secret
	transforms map[string]*template.Transform
}

// New returns an empty Store with a random transform secret.
func New() *Store {
	s := &Store{subjects: map[string]bool{}, keys: map[classKey][]byte{}, recs: map[classKey]map[string][]byte{},
		seq: map[string]uint64{}, secret: make([]byte, 32), transforms: map[string]*template.Transform{}}
	rand.Read(s.secret)
	return s
}

func ad(k classKey, name string) []byte {
	return fmt.Appendf(nil, "%q/%q/%q", k.subject, k.class, name)
}

func checkNames(names ...string) error {
	for _, n := range names {
		if n == "" || len(n) > store.MaxNameLen {
			return fmt.Errorf("%w: %d bytes", store.ErrInvalidName, len(n))
		}
	}
	return nil
}

func checkGeneric(subject, class string) error {
	if err := checkNames(subject, class); err != nil {
		return err
	}
	if class == store.ClassFace {
		return fmt.Errorf("%w: %q", store.ErrReservedClass, class)
	}
	return nil
}

// put seals and stores a record. s.mu must be held.
func (s *Store) put(subject, class, name string, plaintext []byte) error {
	k := classKey{subject, class}
	s.subjects[subject] = true
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
	s.ghosts = append(s.ghosts, ghost{k, name, sealed})
	return nil
}

// get opens a record. s.mu must be held.
func (s *Store) get(subject, class, name string) ([]byte, error) {
	if !s.subjects[subject] {
		return nil, fmt.Errorf("%w: %q", store.ErrUnknownSubject, subject)
	}
	k := classKey{subject, class}
	sealed, ok := s.recs[k][name]
	if !ok {
		return nil, fmt.Errorf("%w: record %q/%q/%q", store.ErrNotFound, subject, class, name)
	}
	aead, err := chacha20poly1305.NewX(s.keys[k])
	if err != nil {
		return nil, err
	}
	n := aead.NonceSize()
	return aead.Open(nil, sealed[:n], sealed[n:], ad(k, name))
}

// PutRecord implements records.Store.
func (s *Store) PutRecord(subject, class, name string, plaintext []byte) error {
	if err := checkGeneric(subject, class); err != nil {
		return err
	}
	if err := checkNames(name); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.put(subject, class, name, plaintext)
}

// GetRecord implements records.Store.
func (s *Store) GetRecord(subject, class, name string) ([]byte, error) {
	if err := checkGeneric(subject, class); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.get(subject, class, name)
}

// DeleteRecord implements records.Store.
func (s *Store) DeleteRecord(subject, class, name string) error {
	if err := checkGeneric(subject, class); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, err := s.get(subject, class, name); err != nil {
		return err
	}
	delete(s.recs[classKey{subject, class}], name)
	s.scrub()
	return nil
}

// scrub forgets every sealed record that is no longer current, as the
// bbolt store overwrites its free pages after every deletion. s.mu must be
// held.
func (s *Store) scrub() {
	live := s.ghosts[:0]
	for _, g := range s.ghosts {
		if cur, ok := s.recs[g.k][g.name]; ok && bytes.Equal(cur, g.sealed) {
			live = append(live, g)
		}
	}
	clear(s.ghosts[len(live):])
	s.ghosts = live
}

// ListRecords implements records.Store.
func (s *Store) ListRecords(subject, class string) ([]string, error) {
	if err := checkNames(subject, class); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.subjects[subject] {
		return nil, fmt.Errorf("%w: %q", store.ErrUnknownSubject, subject)
	}
	var names []string
	for name := range s.recs[classKey{subject, class}] {
		names = append(names, name)
	}
	slices.Sort(names)
	return names, nil
}

// ShredClass implements records.Store.
func (s *Store) ShredClass(subject, class string) error {
	if err := checkNames(subject, class); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.subjects[subject] {
		return fmt.Errorf("%w: %q", store.ErrUnknownSubject, subject)
	}
	k := classKey{subject, class}
	key, ok := s.keys[k]
	if !ok {
		return fmt.Errorf("%w: subject %q has no class %q", store.ErrNotFound, subject, class)
	}
	clear(key)
	delete(s.keys, k)
	delete(s.recs, k)
	s.scrub()
	return nil
}

// DeleteSubject implements records.Store.
func (s *Store) DeleteSubject(subject string) error {
	if err := checkNames(subject); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.subjects[subject] {
		return fmt.Errorf("%w: %q", store.ErrUnknownSubject, subject)
	}
	for k, key := range s.keys {
		if k.subject == subject {
			clear(key)
			delete(s.keys, k)
			delete(s.recs, k)
		}
	}
	delete(s.subjects, subject)
	delete(s.seq, subject)
	s.scrub()
	return nil
}

// Transform implements records.Store: the transform for a model and
// dimension under the store's random secret.
func (s *Store) Transform(modelID string, dim int) (*template.Transform, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	key := fmt.Sprintf("%s/%d", modelID, dim)
	if t, ok := s.transforms[key]; ok {
		return t, nil
	}
	t, err := template.NewTransform(s.secret, modelID, dim)
	if err != nil {
		return nil, err
	}
	s.transforms[key] = t
	return t, nil
}

// AddTemplate implements records.Store.
func (s *Store) AddTemplate(subject string, t template.Template) (uint64, error) {
	if err := checkNames(subject); err != nil {
		return 0, err
	}
	enc, err := template.Encode(&t)
	if err != nil {
		return 0, err
	}
	tr, err := s.Transform(t.ModelID, t.Dim())
	if err != nil {
		return 0, err
	}
	if tr.ID() != t.TransformID {
		return 0, fmt.Errorf("%w: template has transform %x, store's is %x", template.ErrWrongTransform, t.TransformID, tr.ID())
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.seq[subject]++
	id := s.seq[subject]
	return id, s.put(subject, store.ClassFace, fmt.Sprintf("%016x", id), enc)
}

// Templates implements records.Store.
func (s *Store) Templates(subject string) ([]store.Entry, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.subjects[subject] {
		return nil, fmt.Errorf("%w: %q", store.ErrUnknownSubject, subject)
	}
	var names []string
	for name := range s.recs[classKey{subject, store.ClassFace}] {
		names = append(names, name)
	}
	slices.Sort(names)
	var out []store.Entry
	for _, n := range names {
		pt, err := s.get(subject, store.ClassFace, n)
		if err != nil {
			return nil, err
		}
		t, err := template.Decode(pt)
		if err != nil {
			return nil, err
		}
		var id uint64
		fmt.Sscanf(n, "%x", &id)
		out = append(out, store.Entry{Subject: subject, ID: id, Template: t})
	}
	return out, nil
}

// Opens reports how many of the sealed records the store still holds —
// including replaced versions not yet scrubbed, as free pages of a file
// keep them — open under a live data key and contain needle. A test that
// deletes data checks that this is zero for a marker of that data.
func (s *Store) Opens(needle []byte) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, g := range s.ghosts {
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
