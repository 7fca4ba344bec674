package store

import (
	"bytes"
	"errors"
	"fmt"
	"slices"

	bolt "go.etcd.io/bbolt"

	"github.com/facegate/facegate/gate/records"
	"github.com/facegate/facegate/internal/seal"
	"github.com/facegate/facegate/template"
)

// maxCheckErrors bounds how many problems Check reports individually.
const maxCheckErrors = 100

// Check reads the whole store and verifies it: bbolt's page structure, the
// transform secret, every wrapped data key, every sealed record and every
// template, and the manifest over them (see manifest.go). It returns nil, or
// the problems found joined with errors.Join (at most 100, then a count): a
// *TamperedError (errors.Is ErrTampered) for each value that fails
// authentication or is misplaced, a *RolledBackError (errors.Is
// ErrRolledBack) for each manifest group holding a replayed, added or
// deleted entry, and ErrTruncated for structural damage. Check does not write. It holds a read transaction for
// its whole run.
func (s *Store) Check() error {
	return s.view(func(tx *bolt.Tx) error {
		var errs []error
		more := 0
		report := func(e error) {
			if len(errs) < maxCheckErrors {
				errs = append(errs, e)
			} else {
				more++
			}
		}
		// Bound every page first: bbolt's own check trusts page headers and
		// runs in a goroutine where a fault would crash the process.
		if err := scanPages(tx, s.path, s.db.Info().PageSize); err != nil {
			return err
		}
		for e := range tx.Check() {
			report(fmt.Errorf("%w: bbolt: %v", ErrTruncated, e))
		}
		if len(errs) > 0 {
			return errors.Join(errs...)
		}
		sec, err := s.transformSecret(tx, s.kek, s.hdr.generation)
		if err != nil {
			report(err)
		} else {
			sec.Wipe()
		}
		if v, err := s.verifyManifest(tx, newManifestMAC(s.mkey.Bytes())); err != nil {
			report(err)
		} else {
			ids := make([]int, 0, len(v.bad))
			for id := range v.bad {
				ids = append(ids, int(id))
			}
			slices.Sort(ids)
			for _, id := range ids {
				report(v.bad[uint16(id)].error())
			}
		}
		subs := tx.Bucket(bucketSubjects)
		names := map[string]string{} // subject tag → name, to name what fails
		subs.ForEach(func(k, v []byte) error {
			if n, err := s.openSubject(k, v); err != nil {
				report(err)
			} else if !bytes.Equal(s.subjKey(n), k) {
				report(&TamperedError{Record: fmt.Sprintf("subject entry %x", k), Err: fmt.Errorf("%w: holds the name %q of another subject", seal.ErrFormat, n)})
			} else {
				names[string(k)] = n
			}
			return nil
		})
		known := s.knownNames(names)
		of := func(k []byte) string {
			if d, ok := known[string(k)]; ok {
				return d
			}
			if d, ok := known[string(k[:min(len(k), 2*tagSize)])]; ok && len(k) > 2*tagSize {
				return fmt.Sprintf("%s/%x", d, k[2*tagSize:])
			}
			if n, ok := names[string(k[:tagSize])]; ok {
				return fmt.Sprintf("%x of subject %q", k, n)
			}
			return fmt.Sprintf("%x", k)
		}
		keys := map[string]*seal.Key{}
		defer func() {
			for _, k := range keys {
				k.Wipe()
			}
		}()
		tx.Bucket(bucketKeys).ForEach(func(k, w []byte) error {
			if len(k) != 2*tagSize {
				report(&TamperedError{Record: fmt.Sprintf("key name %x", k), Err: seal.ErrFormat})
				return nil
			}
			if subs.Get(k[:tagSize]) == nil {
				report(&TamperedError{Record: fmt.Sprintf("data key %x of an unknown subject", k), Err: ErrUnknownSubject})
				return nil
			}
			dk, err := s.unwrapDataKey(k, w, func() string { return "data key " + of(k) })
			if err != nil {
				report(err)
				return nil
			}
			keys[string(k)] = dk
			return nil
		})
		tx.Bucket(bucketRecords).ForEach(func(k, v []byte) error {
			if len(k) != 3*tagSize {
				report(&TamperedError{Record: fmt.Sprintf("record name %x", k), Err: seal.ErrFormat})
				return nil
			}
			dk := keys[string(k[:2*tagSize])]
			if dk == nil {
				report(&TamperedError{Record: fmt.Sprintf("record %s without a data key", of(k)), Err: ErrNotFound})
				return nil
			}
			bd, pt, err := s.openBody(dk, k, v, func() string { return "record " + of(k) })
			if err != nil {
				report(err)
				return nil
			}
			defer seal.Zero(pt)
			if bd.kind == bodyTemplate {
				if _, err := template.Decode(bd.payload[8:]); err != nil {
					report(fmt.Errorf("store: template %x: %w", k, err))
				}
			}
			return nil
		})
		if more > 0 {
			errs = append(errs, fmt.Errorf("store: %d more problems", more))
		}
		return errors.Join(errs...)
	})
}

// knownNames maps the bucket keys of the classes and records Check can
// name without opening anything — the gate's classes and the slots of
// the shape, for every subject in subjects (tag → name) — to their
// descriptions, so that a value that fails to open is named as the API
// would name it.
func (s *Store) knownNames(subjects map[string]string) map[string]string {
	classes := map[string][]string{ClassFace: nil, records.ClassConsent: nil, records.ClassCredential: nil}
	s.shapeMu.RLock()
	if sh := s.shape; sh != nil {
		for c, ns := range sh.Records {
			classes[c] = append(classes[c], ns...)
		}
		for i := range sh.FaceSlots {
			classes[ClassFace] = append(classes[ClassFace], faceSlot(i))
		}
	}
	s.shapeMu.RUnlock()
	out := map[string]string{}
	for _, subj := range subjects {
		for c, ns := range classes {
			out[string(s.keyKey(subj, c))] = fmt.Sprintf("%q/%q", subj, c)
			for _, n := range ns {
				out[string(s.recKey(subj, c, n))] = fmt.Sprintf("%q/%q/%q", subj, c, n)
			}
		}
	}
	return out
}

// RawLocation returns the bucket and key under which the file holds
// subject/class/name — or, with name "", the wrapped data key of
// subject/class; with class and name "", the subject's entry. Names are
// keyed (see names.go), so only a holder of the store's key can tell where
// a record lives; tests and forensic tools that read the raw file use it.
func (s *Store) RawLocation(subject, class, name string) (bucket string, key []byte) {
	switch {
	case class == "":
		return string(bucketSubjects), s.subjKey(subject)
	case name == "":
		return string(bucketKeys), s.keyKey(subject, class)
	}
	return string(bucketRecords), s.recKey(subject, class, name)
}
