// Package recordstest provides an in-memory records.Store for tests and
// examples. It keeps the semantics and errors of FaceGate's bbolt store
// (package store), transactions included, — per (subject, class) data keys, shredding one class
// leaves the others, face templates only through AddTemplate — and
// remembers every sealed record written since the last deletion — replaced
// versions linger as they do in a file's free pages until the store scrubs
// them on the next deletion — so that tests can check that shredded data no
// longer opens.
package recordstest

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"

	"golang.org/x/crypto/chacha20poly1305"

	"github.com/facegate/facegate/gate/records"
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
		if n == "" || len(n) > records.MaxNameLen {
			return fmt.Errorf("%w: %d bytes", records.ErrInvalidName, len(n))
		}
	}
	return nil
}

func checkGeneric(subject, class string) error {
	if err := checkNames(subject, class); err != nil {
		return err
	}
	if class == records.ClassFace {
		return fmt.Errorf("%w: %q", records.ErrReservedClass, class)
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
		return nil, fmt.Errorf("%w: %q", records.ErrUnknownSubject, subject)
	}
	k := classKey{subject, class}
	sealed, ok := s.recs[k][name]
	if !ok {
		return nil, fmt.Errorf("%w: record %q/%q/%q", records.ErrNotFound, subject, class, name)
	}
	aead, err := chacha20poly1305.NewX(s.keys[k])
	if err != nil {
		return nil, err
	}
	n := aead.NonceSize()
	pt, err := aead.Open(nil, sealed[:n], sealed[n:], ad(k, name))
	if err != nil {
		return nil, fmt.Errorf("%w: record %q/%q/%q: %v", records.ErrDamaged, subject, class, name, err)
	}
	return pt, nil
}

func (s *Store) uPutRecord(subject, class, name string, plaintext []byte) error {
	if err := checkGeneric(subject, class); err != nil {
		return err
	}
	if err := checkNames(name); err != nil {
		return err
	}
	return s.put(subject, class, name, plaintext)
}

func (s *Store) uGetRecord(subject, class, name string) ([]byte, error) {
	if err := checkGeneric(subject, class); err != nil {
		return nil, err
	}
	return s.get(subject, class, name)
}

func (s *Store) uDeleteRecord(subject, class, name string) error {
	if err := checkGeneric(subject, class); err != nil {
		return err
	}
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

func (s *Store) uListRecords(subject, class string) ([]string, error) {
	if err := checkNames(subject, class); err != nil {
		return nil, err
	}
	if !s.subjects[subject] {
		return nil, fmt.Errorf("%w: %q", records.ErrUnknownSubject, subject)
	}
	var names []string
	for name := range s.recs[classKey{subject, class}] {
		names = append(names, name)
	}
	slices.Sort(names)
	return names, nil
}

func (s *Store) uShredClass(subject, class string) error {
	if err := checkNames(subject, class); err != nil {
		return err
	}
	if !s.subjects[subject] {
		return fmt.Errorf("%w: %q", records.ErrUnknownSubject, subject)
	}
	k := classKey{subject, class}
	key, ok := s.keys[k]
	if !ok {
		return fmt.Errorf("%w: subject %q has no class %q", records.ErrNotFound, subject, class)
	}
	clear(key)
	delete(s.keys, k)
	delete(s.recs, k)
	s.scrub()
	return nil
}

func (s *Store) uDeleteSubject(subject string) error {
	if err := checkNames(subject); err != nil {
		return err
	}
	if !s.subjects[subject] {
		return fmt.Errorf("%w: %q", records.ErrUnknownSubject, subject)
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
	return s.transform(modelID, dim)
}

func (s *Store) transform(modelID string, dim int) (*template.Transform, error) {
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

func (s *Store) uAddTemplate(subject string, t template.Template) (uint64, error) {
	if err := checkNames(subject); err != nil {
		return 0, err
	}
	enc, err := template.Encode(&t)
	if err != nil {
		return 0, err
	}
	tr, err := s.transform(t.ModelID(), t.Dim())
	if err != nil {
		return 0, err
	}
	if tr.ID() != t.TransformID() {
		return 0, fmt.Errorf("%w: template has transform %x, store's is %x", template.ErrWrongTransform, t.TransformID(), tr.ID())
	}
	s.seq[subject]++
	id := s.seq[subject]
	return id, s.put(subject, records.ClassFace, fmt.Sprintf("%016x", id), enc)
}

func (s *Store) uTemplates(subject string) ([]records.Entry, error) {
	if !s.subjects[subject] {
		return nil, fmt.Errorf("%w: %q", records.ErrUnknownSubject, subject)
	}
	var names []string
	for name := range s.recs[classKey{subject, records.ClassFace}] {
		names = append(names, name)
	}
	slices.Sort(names)
	var out []records.Entry
	for _, n := range names {
		pt, err := s.get(subject, records.ClassFace, n)
		if err != nil {
			return nil, err
		}
		t, err := template.Decode(pt)
		if err != nil {
			return nil, err
		}
		var id uint64
		fmt.Sscanf(n, "%x", &id)
		out = append(out, records.Entry{Subject: subject, ID: id, Template: t})
	}
	return out, nil
}

// PutRecord implements records.Store.
func (s *Store) PutRecord(subject, class, name string, plaintext []byte) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.uPutRecord(subject, class, name, plaintext)
}

// GetRecord implements records.Store.
func (s *Store) GetRecord(subject, class, name string) ([]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.uGetRecord(subject, class, name)
}

// DeleteRecord implements records.Store.
func (s *Store) DeleteRecord(subject, class, name string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.uDeleteRecord(subject, class, name)
}

// ListRecords implements records.Store.
func (s *Store) ListRecords(subject, class string) ([]string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.uListRecords(subject, class)
}

// ShredClass implements records.Store.
func (s *Store) ShredClass(subject, class string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.uShredClass(subject, class)
}

// DeleteSubject implements records.Store.
func (s *Store) DeleteSubject(subject string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.uDeleteSubject(subject)
}

// AddTemplate implements records.Store.
func (s *Store) AddTemplate(subject string, t template.Template) (uint64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.uAddTemplate(subject, t)
}

// Templates implements records.Store.
func (s *Store) Templates(subject string) ([]records.Entry, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.uTemplates(subject)
}

// Update implements records.Store: fn runs under the store's lock; if it
// fails, every change it made is undone.
func (s *Store) Update(fn func(records.Batch) error) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	saved := s.snapshot()
	b := &batch{s: s}
	err := fn(b)
	b.done = true
	if err != nil {
		s.restore(saved)
		return err
	}
	for _, key := range saved.keys {
		clear(key)
	}
	return nil
}

// snapshot copies the store's state (the sealed bytes are never modified
// in place, so sharing them is safe). s.mu must be held.
func (s *Store) snapshot() *Store {
	c := &Store{subjects: maps.Clone(s.subjects), keys: map[classKey][]byte{}, recs: map[classKey]map[string][]byte{},
		seq: maps.Clone(s.seq), ghosts: slices.Clone(s.ghosts)}
	for k, key := range s.keys {
		c.keys[k] = bytes.Clone(key) // shredding clears keys in place
	}
	for k, m := range s.recs {
		c.recs[k] = maps.Clone(m)
	}
	return c
}

// restore puts back a snapshot. s.mu must be held.
func (s *Store) restore(c *Store) {
	s.subjects, s.keys, s.recs, s.seq, s.ghosts = c.subjects, c.keys, c.recs, c.seq, c.ghosts
}

var (
	_ records.Store = (*Store)(nil)
	_ records.Batch = (*batch)(nil)
)

// batch is a records.Batch running under the store's lock.
type batch struct {
	s    *Store
	done bool
}

func (b *batch) live() {
	if b.done {
		panic("recordstest: Batch used after its Update returned")
	}
}

func (b *batch) PutRecord(subject, class, name string, plaintext []byte) error {
	b.live()
	return b.s.uPutRecord(subject, class, name, plaintext)
}

func (b *batch) GetRecord(subject, class, name string) ([]byte, error) {
	b.live()
	return b.s.uGetRecord(subject, class, name)
}

func (b *batch) DeleteRecord(subject, class, name string) error {
	b.live()
	return b.s.uDeleteRecord(subject, class, name)
}

func (b *batch) ListRecords(subject, class string) ([]string, error) {
	b.live()
	return b.s.uListRecords(subject, class)
}

func (b *batch) ShredClass(subject, class string) error {
	b.live()
	return b.s.uShredClass(subject, class)
}

func (b *batch) DeleteSubject(subject string) error {
	b.live()
	return b.s.uDeleteSubject(subject)
}

func (b *batch) AddTemplate(subject string, t template.Template) (uint64, error) {
	b.live()
	return b.s.uAddTemplate(subject, t)
}

func (b *batch) Templates(subject string) ([]records.Entry, error) {
	b.live()
	return b.s.uTemplates(subject)
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

// State describes everything the store holds — every subject, class,
// record name and a hash of its plaintext, in order — so that a test can
// check that a failed transaction left the store exactly as it was.
func (s *Store) State() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var lines []string
	for subject := range s.subjects {
		lines = append(lines, fmt.Sprintf("subject %q seq %d", subject, s.seq[subject]))
	}
	for k, recs := range s.recs {
		lines = append(lines, fmt.Sprintf("key %q/%q", k.subject, k.class))
		for name := range recs {
			pt, err := s.get(k.subject, k.class, name)
			lines = append(lines, fmt.Sprintf("record %q/%q/%q %x %v", k.subject, k.class, name, sha256.Sum256(pt), err))
		}
	}
	slices.Sort(lines)
	return strings.Join(lines, "\n")
}
