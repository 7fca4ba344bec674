package store

import (
	"bytes"
	"encoding/binary"
	"fmt"

	bolt "go.etcd.io/bbolt"

	"github.com/facegate/facegate/internal/seal"
	"github.com/facegate/facegate/template"
)

// transformSecret unwraps the transform secret of generation gen.
func (s *Store) transformSecret(tx *bolt.Tx, kek *seal.Key, gen uint64) (*seal.Key, error) {
	w := tx.Bucket(bucketMeta).Get(keyTransform)
	if w == nil {
		return nil, &TamperedError{Record: "transform secret", Err: ErrNotFound}
	}
	k, err := kek.Unwrap(w, s.transformAD(gen))
	if err != nil {
		return nil, &TamperedError{Record: "transform secret", Err: err}
	}
	return k, nil
}

// transform returns the cached current transform for modelID and dim.
func (s *Store) transform(tx *bolt.Tx, modelID string, dim int) (*template.Transform, error) {
	key := transformKey{gen: s.hdr.generation, model: modelID, dim: dim}
	s.tmu.Lock()
	defer s.tmu.Unlock()
	if t, ok := s.transforms[key]; ok {
		return t, nil
	}
	sec, err := s.transformSecret(tx, s.kek, s.hdr.generation)
	if err != nil {
		return nil, err
	}
	defer sec.Wipe()
	t, err := template.NewTransform(sec.Bytes(), modelID, dim)
	if err != nil {
		return nil, err
	}
	s.transforms[key] = t
	return t, nil
}

// Transform returns the store's current revocable transform for a model and
// dimension. Protect enrollment descriptors and probes with it
// (Transform.Protect / Transform.Apply) so both live in the same protected
// space. The returned Transform is shared and safe for concurrent use; the
// store never wipes it (a gallery may keep matching after Close). After
// RekeyTransform the store hands out the new transform and AddTemplate
// refuses templates made with the old one (template.ErrWrongTransform):
// fetch it again and reload the gallery.
func (s *Store) Transform(modelID string, dim int) (*template.Transform, error) {
	var t *template.Transform
	err := s.view(func(tx *bolt.Tx) error {
		var err error
		t, err = s.transform(tx, modelID, dim)
		return err
	})
	return t, err
}

// dropTransforms forgets the cached transforms without wiping them: callers
// may still hold them.
func (s *Store) dropTransforms() {
	s.tmu.Lock()
	defer s.tmu.Unlock()
	clear(s.transforms)
}

// RekeyTransform replaces the transform secret with a fresh random one and
// moves every template to the new transform, from the protected templates
// alone (no re-capture), in one transaction; then it scrubs the free pages.
// Templates copied out of the store before the re-key no longer match
// anything in it. Transforms obtained earlier from [Store.Transform] keep
// working but no longer match the stored templates: fetch them again and
// reload galleries.
func (s *Store) RekeyTransform() error {
	newSec, err := seal.NewKey()
	if err != nil {
		return err
	}
	defer newSec.Wipe()
	return s.RekeyTransformTo(newSec)
}

// RekeyTransformTo is [Store.RekeyTransform] to a given transform secret
// instead of a random one. Stores whose templates must match each other's
// (the gates of one compound, kept in step by package compound) derive the
// same secret from a key they share; the caller keeps and wipes newSec.
// Re-keying to the secret already in use leaves every template as it was.
// newSec's type is internal (internal/seal): only packages of this module,
// in practice compound, can call it.
func (s *Store) RekeyTransformTo(newSec *seal.Key) error {
	var newHdr header
	err := s.updateScrub(func(b *Batch) error {
		oldSec, err := s.transformSecret(b.tx, s.kek, s.hdr.generation)
		if err != nil {
			return err
		}
		defer oldSec.Wipe()
		type md struct {
			model string
			dim   int
		}
		rekeyers := map[md]*template.Rekeyer{}
		defer func() {
			for _, r := range rekeyers {
				r.Wipe()
			}
		}()
		get := func(k md) (*template.Rekeyer, error) {
			if r, ok := rekeyers[k]; ok {
				return r, nil
			}
			from, err := template.NewTransform(oldSec.Bytes(), k.model, k.dim)
			if err != nil {
				return nil, err
			}
			defer from.Wipe()
			to, err := template.NewTransform(newSec.Bytes(), k.model, k.dim)
			if err != nil {
				return nil, err
			}
			defer to.Wipe()
			r, err := template.NewRekeyer(from, to)
			if err != nil {
				return nil, err
			}
			rekeyers[k] = r
			return r, nil
		}
		subjects, err := s.subjects(b.tx)
		if err != nil {
			return err
		}
		for _, subj := range subjects {
			entries, err := s.faceEntries(b.tx, subj)
			if err != nil {
				return err
			}
			for _, e := range entries {
				rk, err := get(md{e.Template.ModelID(), e.Template.Dim()})
				if err != nil {
					return err
				}
				nt, err := rk.Rekey(&e.Template)
				if err != nil {
					return fmt.Errorf("store: rekeying template %q/%d: %w", subj, e.ID, err)
				}
				enc, err := template.Encode(&nt)
				if err != nil {
					return err
				}
				bd := makeBody(bodyTemplate, e.name, binary.BigEndian.AppendUint64(nil, e.ID), enc)
				seal.Zero(enc)
				err = b.put(subj, ClassFace, e.name, bd, s.faceMin(subj))
				seal.Zero(bd)
				if err != nil {
					return err
				}
			}
		}
		newHdr = s.hdr
		newHdr.generation++
		meta := b.tx.Bucket(bucketMeta)
		if err := s.putHeader(meta, newHdr, s.kek); err != nil {
			return err
		}
		w, err := s.kek.Wrap(newSec, s.transformAD(newHdr.generation))
		if err != nil {
			return err
		}
		return meta.Put(keyTransform, w)
	}, func() {
		s.hdr = newHdr
		s.dropTransforms()
	})
	return err
}

// RotateKEK re-wraps every data key and the transform secret under a KEK
// derived from newSecret (with a fresh salt; opts.KDF for a passphrase),
// without re-sealing any record, in one transaction; then it scrubs the
// free pages so the keys wrapped under the old KEK are gone from the file.
func (s *Store) RotateKEK(newSecret Secret, opts *Options) error {
	h, err := newHeader(newSecret, opts)
	if err != nil {
		return err
	}
	newKEK, err := deriveKEK(newSecret, h.salt[:], h.kdf)
	if err != nil {
		return err
	}
	committed := false
	err = s.updateScrub(func(b *Batch) error {
		// Under the exclusive lock: s.hdr cannot change any more.
		h.storeID = s.hdr.storeID
		h.generation = s.hdr.generation
		kb := b.tx.Bucket(bucketKeys)
		type kv struct{ k, w []byte }
		var rewrapped []kv
		if err := kb.ForEach(func(k, w []byte) error {
			dk, err := s.unwrapDataKey(k, w, func() string { return fmt.Sprintf("data key %x", k) })
			if err != nil {
				return err
			}
			nw, err := newKEK.Wrap(dk, s.keyAD(k, b.version))
			dk.Wipe()
			if err != nil {
				return err
			}
			rewrapped = append(rewrapped, kv{bytes.Clone(k), versioned(b.version, nw)})
			return nil
		}); err != nil {
			return err
		}
		for _, e := range rewrapped {
			if err := b.putEntry(bucketKeys, leafKey, e.k, e.w); err != nil {
				return err
			}
		}
		sec, err := s.transformSecret(b.tx, s.kek, s.hdr.generation)
		if err != nil {
			return err
		}
		defer sec.Wipe()
		w, err := newKEK.Wrap(sec, s.transformAD(h.generation))
		if err != nil {
			return err
		}
		meta := b.tx.Bucket(bucketMeta)
		if err := meta.Put(keyTransform, w); err != nil {
			return err
		}
		if w, err = newKEK.Wrap(s.mkey, s.manifestKeyAD()); err != nil {
			return err
		}
		if err := meta.Put(keyManifestKey, w); err != nil {
			return err
		}
		nk, err := s.loadNameKey(b.tx, s.kek)
		if err != nil {
			return err
		}
		defer nk.Wipe()
		if w, err = newKEK.Wrap(nk, s.nameKeyAD()); err != nil {
			return err
		}
		if err := meta.Put(keyNameKey, w); err != nil {
			return err
		}
		return s.putHeader(meta, h, newKEK)
	}, func() {
		s.kek.Wipe()
		s.kek = newKEK
		s.hdr = h
		committed = true
	})
	if err != nil && !committed {
		newKEK.Wipe()
	}
	return err
}
