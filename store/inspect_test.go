package store

import (
	"errors"
	"iter"

	bolt "go.etcd.io/bbolt"
)

// Test-only views of a store. A gate reads its templates subject by subject
// (Subjects, Templates: the records.Store interface) and deletes them by
// subject or class; these walk or delete at a finer grain for the tests'
// checks, over the same transactions and decoders.

// each calls fn for every template in the store, subject by subject (in
// the order of their keyed tags, not of their names), inside one read
// transaction, and stops at the first error (from the store or from fn).
// fn must not write to the store. Like Subjects, it refuses
// (*RolledBackError) a store in which Open found failing manifest groups;
// load subject by subject with Templates to skip just those.
func (s *Store) each(fn func(Entry) error) error {
	if err := s.checkComplete("template list"); err != nil {
		return err
	}
	return s.view(func(tx *bolt.Tx) error {
		c := tx.Bucket(bucketSubjects).Cursor()
		for k, v := c.First(); k != nil; k, v = c.Next() {
			name, err := s.openSubject(k, v)
			if err != nil {
				return err
			}
			if err := s.eachTemplate(tx, name, fn); err != nil {
				return err
			}
		}
		return nil
	})
}

var errStop = errors.New("stop")

// all returns an iterator over every template in the store (see each). On
// an error it yields a zero Entry with the error and stops. The loop body
// must not write to the store.
func (s *Store) all() iter.Seq2[Entry, error] {
	return func(yield func(Entry, error) bool) {
		err := s.each(func(e Entry) error {
			if !yield(e, nil) {
				return errStop
			}
			return nil
		})
		if err != nil && err != errStop {
			yield(Entry{}, err)
		}
	}
}

// hasSubject reports whether subject exists in the store.
func (s *Store) hasSubject(subject string) (bool, error) {
	var ok bool
	err := s.view(func(tx *bolt.Tx) error {
		ok = tx.Bucket(bucketSubjects).Get(s.subjKey(subject)) != nil
		return nil
	})
	return ok, err
}

// deleteTemplate deletes one template of subject (a slotted one leaves an
// empty slot) and scrubs the file's free pages.
func (s *Store) deleteTemplate(subject string, id uint64) error {
	if err := checkName("subject", subject); err != nil {
		return err
	}
	return s.updateScrub(func(b *Batch) error { return b.deleteTemplate(subject, id) }, nil)
}

// storeID returns the store's random 16-byte identifier (bound into every
// record's associated data).
func (s *Store) storeID() [16]byte {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.hdr.storeID
}
