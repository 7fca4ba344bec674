package store

import (
	"errors"
	"fmt"
	"slices"

	bolt "go.etcd.io/bbolt"

	"github.com/facegate/facegate/crypto"
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
			} else {
				names[string(k)] = n
			}
			return nil
		})
		of := func(k []byte) string {
			if n, ok := names[string(k[:tagSize])]; ok {
				return fmt.Sprintf("%x of subject %q", k, n)
			}
			return fmt.Sprintf("%x", k)
		}
		keys := map[string]*crypto.Key{}
		defer func() {
			for _, k := range keys {
				k.Wipe()
			}
		}()
		tx.Bucket(bucketKeys).ForEach(func(k, w []byte) error {
			if len(k) != 2*tagSize {
				report(&TamperedError{Record: fmt.Sprintf("key name %x", k), Err: crypto.ErrFormat})
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
				report(&TamperedError{Record: fmt.Sprintf("record name %x", k), Err: crypto.ErrFormat})
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
			defer crypto.Zero(pt)
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
