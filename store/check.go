package store

import (
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"strconv"

	bolt "go.etcd.io/bbolt"

	"github.com/facegate/facegate/internal/seal"
	"github.com/facegate/facegate/template"
)

// maxCheckErrors bounds how many problems Check reports individually.
const maxCheckErrors = 100

// parseRecKey splits a records-bucket key into subject, class and name.
func parseRecKey(k []byte) (subject, class, name string, ok bool) {
	subject, rest, ok := parseKeyKey(k)
	if !ok {
		return "", "", "", false
	}
	r := []byte(rest)
	n, w := binary.Uvarint(r)
	if w <= 0 || n > uint64(len(r)-w) {
		return "", "", "", false
	}
	return subject, string(r[w : w+int(n)]), string(r[w+int(n):]), true
}

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
		subs.ForEach(func(k, v []byte) error {
			if len(v) != 8 {
				report(&TamperedError{Record: fmt.Sprintf("subject %q sequence", k), Err: seal.ErrFormat})
			}
			return nil
		})
		keys := map[[2]string]*seal.Key{}
		defer func() {
			for _, k := range keys {
				k.Wipe()
			}
		}()
		tx.Bucket(bucketKeys).ForEach(func(k, w []byte) error {
			subject, class, ok := parseKeyKey(k)
			if !ok {
				report(&TamperedError{Record: fmt.Sprintf("key name %x", k), Err: seal.ErrFormat})
				return nil
			}
			if subs.Get([]byte(subject)) == nil {
				report(&TamperedError{Record: fmt.Sprintf("data key %q/%q of an unknown subject", subject, class), Err: ErrUnknownSubject})
				return nil
			}
			dk, err := s.unwrapDataKey(subject, class, w)
			if err != nil {
				report(err)
				return nil
			}
			keys[[2]string{subject, class}] = dk
			return nil
		})
		tx.Bucket(bucketRecords).ForEach(func(k, v []byte) error {
			subject, class, name, ok := parseRecKey(k)
			if !ok {
				report(&TamperedError{Record: fmt.Sprintf("record name %x", k), Err: seal.ErrFormat})
				return nil
			}
			dk := keys[[2]string{subject, class}]
			if dk == nil {
				report(&TamperedError{Record: fmt.Sprintf("record %q/%q/%q without a data key", subject, class, name), Err: ErrNotFound})
				return nil
			}
			pt, err := s.openRecord(dk, subject, class, name, v)
			if err != nil {
				report(err)
				return nil
			}
			defer seal.Zero(pt)
			if class != ClassFace {
				return nil
			}
			if _, err := strconv.ParseUint(name, 16, 64); err != nil || len(name) != 16 {
				report(&TamperedError{Record: fmt.Sprintf("template name %q/%q", subject, name), Err: seal.ErrFormat})
			}
			if _, err := template.Decode(pt); err != nil {
				report(fmt.Errorf("store: template %q/%q: %w", subject, name, err))
			}
			return nil
		})
		if more > 0 {
			errs = append(errs, fmt.Errorf("store: %d more problems", more))
		}
		return errors.Join(errs...)
	})
}
