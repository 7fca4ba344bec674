package store

import (
	"bytes"
	"crypto/rand"
	"encoding/binary"
	"fmt"
	"slices"

	bolt "go.etcd.io/bbolt"

	"github.com/facegate/facegate/gate/records"
	"github.com/facegate/facegate/internal/seal"
	"github.com/facegate/facegate/template"
)

// Entry is one stored template with its owner and ID (see Templates).
type Entry = records.Entry

// Batch is one write transaction: all its writes commit together with a
// single fsync when the function given to [Store.Update] returns nil, and
// none of them if it returns an error. Its reads see its own writes. A
// Batch must not be used after that function returns, nor from other
// goroutines. It implements records.Batch.
var _ records.Batch = (*Batch)(nil)

var _ records.Store = (*Store)(nil)

// Batch is one write transaction (see above).
type Batch struct {
	s       *Store
	tx      *bolt.Tx
	keys    map[[2]string]*seal.Key
	version uint64 // of every value this Batch writes
	man     manifestUpdate
	shreds  bool // a deletion: scrub the free pages after the commit
}

// putEntry stores one entry of the subjects, keys or records bucket and
// folds the change into the manifest.
func (b *Batch) putEntry(bucket []byte, kind byte, key, value []byte) error {
	bk := b.tx.Bucket(bucket)
	bk.FillPercent = fillPercent
	if b.man.m != nil {
		b.man.change(kind, key, bk.Get(key), value)
	}
	return bk.Put(key, value)
}

// deleteEntry deletes one entry (if present) and folds the change into the
// manifest.
func (b *Batch) deleteEntry(bucket []byte, kind byte, key []byte) error {
	bk := b.tx.Bucket(bucket)
	old := bk.Get(key)
	if old == nil {
		return nil
	}
	if b.man.m != nil {
		b.man.change(kind, key, old, nil)
	}
	b.shreds = true
	return bk.Delete(key)
}

// versioned prefixes a sealed value with the version it was sealed under.
func versioned(version uint64, sealed []byte) []byte {
	return append(binary.BigEndian.AppendUint64(make([]byte, 0, versionSize+len(sealed)), version), sealed...)
}

// splitVersion splits a stored value into its version and sealed part.
func splitVersion(v []byte) (uint64, []byte, error) {
	if len(v) < versionSize {
		return 0, nil, fmt.Errorf("%w: %d bytes, no version", seal.ErrFormat, len(v))
	}
	return binary.BigEndian.Uint64(v), v[versionSize:], nil
}

func (b *Batch) wipe() {
	for k, dk := range b.keys {
		dk.Wipe()
		delete(b.keys, k)
	}
}

// Layout: four top-level buckets, every key made of keyed tags (see
// names.go), every value of the subjects, keys and records buckets
// version ‖ sealed.
//
//	meta      "header", "check", "transform", "manifest-key", "name-key", "manifest"
//	subjects  S          → version ‖ sealed(subject entry: the subject's name)
//	keys      S ‖ C      → version ‖ wrapped data key
//	records   S ‖ C ‖ N  → version ‖ sealed(record, template or empty slot)
//	groups    uint16 group → digest of the group's entries (see manifest.go)
//
// Every sealed plaintext is a body (padding.go) padded to a size class.
// Flat buckets keep a subject at about one template's size on disk (nested
// per-subject buckets cost a page each).

// fillPercent is how full bbolt packs pages when it splits them. Enrollment
// writes mostly append, so dense pages waste less than bbolt's default 0.5.
const fillPercent = 0.9

// subjectExists returns ErrUnknownSubject if subject has no entry, or a
// *RolledBackError if it has none but its manifest group failed.
func (s *Store) subjectExists(tx *bolt.Tx, subject string) error {
	if tx.Bucket(bucketSubjects).Get(s.subjKey(subject)) == nil {
		if err := s.checkSubject(subject); err != nil {
			return err
		}
		return fmt.Errorf("%w: %q", ErrUnknownSubject, subject)
	}
	return nil
}

// prefixKeys returns copies of the keys of b that start with prefix.
func prefixKeys(b *bolt.Bucket, prefix []byte) [][]byte {
	var ks [][]byte
	c := b.Cursor()
	for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
		ks = append(ks, bytes.Clone(k))
	}
	return ks
}

// sealSubject seals the entry of subject stored under sk.
func (s *Store) sealSubject(sk []byte, subject string, version uint64) ([]byte, error) {
	pt := pad(makeBody(bodySubject, subject), 0)
	defer seal.Zero(pt)
	sealed, err := s.skey.Seal(pt, s.subjectAD(sk, version))
	if err != nil {
		return nil, err
	}
	return versioned(version, sealed), nil
}

// openSubject opens the subject entry v stored under sk and returns the
// subject's name.
func (s *Store) openSubject(sk, v []byte) (string, error) {
	ver, sealed, err := splitVersion(v)
	if err == nil {
		var pt []byte
		if pt, err = s.skey.Open(sealed, s.subjectAD(sk, ver)); err == nil {
			var b []byte
			if b, err = unpad(pt); err == nil {
				var bd body
				// The associated data binds the tag sk, and only the store
				// seals, under a key only it holds: the name inside is the
				// one sk was made from (Check verifies it anyway).
				if bd, err = parseBody(b); err == nil {
					if bd.kind == bodySubject {
						return bd.name, nil
					}
					err = fmt.Errorf("%w: not a subject entry", seal.ErrFormat)
				}
			}
		}
	}
	return "", &TamperedError{Record: fmt.Sprintf("subject entry %x", sk), Err: err}
}

// dataKey unwraps the data key of subject/class. The caller wipes the key.
func (s *Store) dataKey(tx *bolt.Tx, subject, class string) (*seal.Key, error) {
	return s.dataKeyAt(tx, s.keyKey(subject, class), subject, class)
}

// dataKeyAt is dataKey with the key's bucket key kk already computed.
func (s *Store) dataKeyAt(tx *bolt.Tx, kk []byte, subject, class string) (*seal.Key, error) {
	if tx.Bucket(bucketSubjects).Get(kk[:tagSize]) == nil {
		return nil, fmt.Errorf("%w: %q", ErrUnknownSubject, subject)
	}
	w := tx.Bucket(bucketKeys).Get(kk)
	if w == nil {
		return nil, fmt.Errorf("%w: subject %q has no %q key", ErrNotFound, subject, class)
	}
	return s.unwrapDataKey(kk, w, func() string { return fmt.Sprintf("data key %q/%q", subject, class) })
}

// unwrapDataKey unwraps the data key stored as stored under kk; what names
// it in errors.
func (s *Store) unwrapDataKey(kk, stored []byte, what func() string) (*seal.Key, error) {
	ver, w, err := splitVersion(stored)
	if err == nil {
		var dk *seal.Key
		if dk, err = s.kek.Unwrap(w, s.keyAD(kk, ver)); err == nil {
			return dk, nil
		}
	}
	return nil, &TamperedError{Record: what(), Err: err}
}

// ensureSubject creates subject's entry if it has none, and the empty
// slots of the shape if the shape covers it.
func (b *Batch) ensureSubject(subject string) error {
	sk := b.s.subjKey(subject)
	if b.tx.Bucket(bucketSubjects).Get(sk) != nil {
		return nil
	}
	v, err := b.s.sealSubject(sk, subject, b.version)
	if err == nil {
		err = b.putEntry(bucketSubjects, leafSubject, sk, v)
	}
	if err != nil {
		return fmt.Errorf("store: creating subject %q: %w", subject, err)
	}
	return b.fillShape(subject, "")
}

// dataKey unwraps or makes the data key of subject/class, creating the
// subject on first use. The Batch wipes its keys when it ends.
func (b *Batch) dataKey(subject, class string) (*seal.Key, error) {
	k := [2]string{subject, class}
	if dk, ok := b.keys[k]; ok {
		return dk, nil
	}
	if err := b.ensureSubject(subject); err != nil {
		return nil, err
	}
	if dk, ok := b.keys[k]; ok { // made by the shape
		return dk, nil
	}
	kk := b.s.keyKey(subject, class)
	var dk *seal.Key
	if w := b.tx.Bucket(bucketKeys).Get(kk); w != nil {
		var err error
		if dk, err = b.s.unwrapDataKey(kk, w, func() string { return fmt.Sprintf("data key %q/%q", subject, class) }); err != nil {
			return nil, err
		}
	} else {
		var err error
		if dk, err = seal.NewKey(); err != nil {
			return nil, err
		}
		w, err := b.s.kek.Wrap(dk, b.s.keyAD(kk, b.version))
		if err == nil {
			err = b.putEntry(bucketKeys, leafKey, kk, versioned(b.version, w))
		}
		if err != nil {
			dk.Wipe()
			return nil, fmt.Errorf("store: storing key %q/%q: %w", subject, class, err)
		}
	}
	b.keys[k] = dk
	return dk, nil
}

// put seals body (padded to at least min bytes) under subject's key for
// class and stores it under name.
func (b *Batch) put(subject, class, name string, bd []byte, min int) error {
	dk, err := b.dataKey(subject, class)
	if err != nil {
		return err
	}
	pt := pad(bd, min)
	defer seal.Zero(pt)
	rk := b.s.recKey(subject, class, name)
	sealed, err := dk.Seal(pt, b.s.recordAD(rk, b.version))
	if err != nil {
		return err
	}
	if err := b.putEntry(bucketRecords, leafRecord, rk, versioned(b.version, sealed)); err != nil {
		return fmt.Errorf("store: storing record %q/%q/%q: %w", subject, class, name, err)
	}
	return nil
}

// PutRecord seals plaintext under subject's key for class and stores it
// under name, replacing any record of that name. The subject and its class
// key are created on first use.
func (b *Batch) PutRecord(subject, class, name string, plaintext []byte) error {
	if err := checkNames(subject, class); err != nil {
		return err
	}
	if err := checkName("record name", name); err != nil {
		return err
	}
	if class == ClassFace {
		return fmt.Errorf("%w: %q", ErrReservedClass, class)
	}
	bd := makeBody(bodyRecord, name, plaintext)
	defer seal.Zero(bd)
	return b.put(subject, class, name, bd, 0)
}

// templateName names the record of an unslotted template: its random ID.
func templateName(id uint64) string { return fmt.Sprintf("%016x", id) }

// newTemplateID returns a random non-zero template ID. IDs are random so
// that they say nothing about how many templates a subject ever had.
func newTemplateID() (uint64, error) {
	var b [8]byte
	for {
		if _, err := rand.Read(b[:]); err != nil {
			return 0, err
		}
		if id := binary.BigEndian.Uint64(b[:]); id != 0 {
			return id, nil
		}
	}
}

// AddTemplate seals t under subject's face key and returns its ID (random).
// t must have been protected with the store's current transform
// ([Store.Transform]); otherwise AddTemplate returns
// template.ErrWrongTransform. A subject covered by the store's Shape keeps
// its templates in fixed slots while it has a free one.
func (b *Batch) AddTemplate(subject string, t template.Template) (uint64, error) {
	id, err := newTemplateID()
	if err != nil {
		return 0, err
	}
	return id, b.addTemplate(subject, id, t)
}

// AddTemplateID is AddTemplate under a given non-zero ID: a replica
// applying another store's changes (package compound) stores each template
// under the ID the other store gave it. It implements
// records.TemplateIDAdder.
func (b *Batch) AddTemplateID(subject string, id uint64, t template.Template) error {
	if id == 0 {
		return fmt.Errorf("%w: template ID 0", ErrInvalidName)
	}
	return b.addTemplate(subject, id, t)
}

var _ records.TemplateIDAdder = (*Batch)(nil)

func (b *Batch) addTemplate(subject string, id uint64, t template.Template) error {
	if err := checkName("subject", subject); err != nil {
		return err
	}
	enc, err := template.Encode(&t)
	if err != nil {
		return err
	}
	defer seal.Zero(enc)
	tr, err := b.s.transform(b.tx, t.ModelID(), t.Dim())
	if err != nil {
		return err
	}
	if tr.ID() != t.TransformID() {
		return fmt.Errorf("%w: template has transform %x, store's current is %x (re-protect or reload after RekeyTransform)", template.ErrWrongTransform, t.TransformID(), tr.ID())
	}
	if err := b.s.checkSubject(subject); err != nil {
		return err
	}
	if err := b.s.checkClass(subject, ClassFace, fmt.Sprintf("face templates of %q", subject)); err != nil {
		return err
	}
	if _, err := b.dataKey(subject, ClassFace); err != nil {
		return err
	}
	name, free := templateName(id), ""
	err = b.s.eachFace(b.tx, subject, func(rname string, bd body) (bool, error) {
		switch {
		case bd.kind == bodyTemplate && binary.BigEndian.Uint64(bd.payload) == id:
			return false, fmt.Errorf("%w: subject %q already holds template %016x", ErrExists, subject, id)
		case bd.kind == bodyEmpty && free == "":
			free = rname
		}
		return true, nil
	})
	if err != nil {
		return err
	}
	if free != "" {
		name = free
	}
	bd := makeBody(bodyTemplate, name, binary.BigEndian.AppendUint64(nil, id), enc)
	defer seal.Zero(bd)
	return b.put(subject, ClassFace, name, bd, b.s.faceMin(subject))
}

// Update runs fn in one write transaction (see [Batch]): use it to enroll
// many subjects with one fsync, or to make several changes that must not
// be separated by a crash. fn receives a *Batch. If fn deleted anything,
// the free pages are scrubbed after the commit.
func (s *Store) Update(fn func(records.Batch) error) error {
	shreds := false
	err := s.update(func(b *Batch) error {
		err := fn(b)
		shreds = b.shreds
		return err
	})
	if err != nil || !shreds {
		return err
	}
	return s.Scrub()
}

// AddTemplate seals t under subject's face key in its own transaction and
// returns the template's ID. See [Batch.AddTemplate].
func (s *Store) AddTemplate(subject string, t template.Template) (id uint64, err error) {
	err = s.update(func(b *Batch) error {
		id, err = b.AddTemplate(subject, t)
		return err
	})
	return id, err
}

// PutRecord seals plaintext under subject's key for class and stores it
// under name in its own transaction. See [Batch.PutRecord].
func (s *Store) PutRecord(subject, class, name string, plaintext []byte) error {
	return s.update(func(b *Batch) error { return b.PutRecord(subject, class, name, plaintext) })
}

// openBody opens the value stored under rk with dk. The body's payload
// aliases pt, which the caller zeroes when done. what names the record in
// errors.
func (s *Store) openBody(dk *seal.Key, rk, stored []byte, what func() string) (bd body, pt []byte, err error) {
	ver, sealed, err := splitVersion(stored)
	if err == nil {
		if pt, err = dk.Open(sealed, s.recordAD(rk, ver)); err == nil {
			var b []byte
			if b, err = unpad(pt); err == nil {
				if bd, err = parseBody(b); err == nil {
					return bd, pt, nil
				}
			}
			seal.Zero(pt)
		}
	}
	return body{}, nil, &TamperedError{Record: what(), Err: err}
}

// GetRecord returns the opened record subject/class/name. It returns
// ErrUnknownSubject, ErrNotFound (no such class key or record, or an empty
// slot), or a *TamperedError.
func (s *Store) GetRecord(subject, class, name string) ([]byte, error) {
	if err := checkNames(subject, class); err != nil {
		return nil, err
	}
	if class == ClassFace {
		return nil, fmt.Errorf("%w: %q", ErrReservedClass, class)
	}
	var pt []byte
	err := s.view(func(tx *bolt.Tx) error {
		var err error
		pt, err = s.getRecord(tx, subject, class, name)
		return err
	})
	return pt, err
}

func recordWhat(subject, class, name string) func() string {
	return func() string { return fmt.Sprintf("record %q/%q/%q", subject, class, name) }
}

func (s *Store) getRecord(tx *bolt.Tx, subject, class, name string) ([]byte, error) {
	rk := s.recKey(subject, class, name)
	sealed, err := s.recordValue(tx, rk, subject, class, name)
	if err != nil {
		return nil, err
	}
	dk, err := s.dataKey(tx, subject, class)
	if err != nil {
		return nil, err
	}
	defer dk.Wipe()
	bd, pt, err := s.openBody(dk, rk, sealed, recordWhat(subject, class, name))
	if err != nil {
		return nil, err
	}
	defer seal.Zero(pt)
	return s.recordPayload(bd, subject, class, name)
}

// recordPayload returns a copy of a generic record's payload, ErrNotFound
// for an empty slot.
func (s *Store) recordPayload(bd body, subject, class, name string) ([]byte, error) {
	if bd.name != name {
		return nil, &TamperedError{Record: fmt.Sprintf("record %q/%q/%q", subject, class, name), Err: fmt.Errorf("%w: holds the name of another record", seal.ErrFormat)}
	}
	switch bd.kind {
	case bodyEmpty:
		return nil, fmt.Errorf("%w: record %q/%q/%q", ErrNotFound, subject, class, name)
	case bodyRecord:
		return bytes.Clone(bd.payload), nil
	}
	return nil, &TamperedError{Record: fmt.Sprintf("record %q/%q/%q", subject, class, name), Err: fmt.Errorf("%w: body kind %q", seal.ErrFormat, bd.kind)}
}

// GetRecord opens subject/class/name as the batch sees it (see
// [Store.GetRecord]).
func (b *Batch) GetRecord(subject, class, name string) ([]byte, error) {
	if err := checkNames(subject, class); err != nil {
		return nil, err
	}
	if class == ClassFace {
		return nil, fmt.Errorf("%w: %q", ErrReservedClass, class)
	}
	return b.s.getRecord(b.tx, subject, class, name)
}

// ListRecords lists subject's records in class as the batch sees them
// (see [Store.ListRecords]).
func (b *Batch) ListRecords(subject, class string) ([]string, error) {
	if err := checkNames(subject, class); err != nil {
		return nil, err
	}
	return b.s.listRecords(b.tx, subject, class)
}

// DeleteRecord deletes subject/class/name (see [Store.DeleteRecord]); the
// free pages are scrubbed after the commit.
func (b *Batch) DeleteRecord(subject, class, name string) error {
	if err := checkNames(subject, class); err != nil {
		return err
	}
	if class == ClassFace {
		return fmt.Errorf("%w: %q", ErrReservedClass, class)
	}
	return b.deleteRecord(subject, class, name)
}

// Templates returns subject's templates as the batch sees them (see
// [Store.Templates]).
func (b *Batch) Templates(subject string) ([]Entry, error) {
	return b.s.templates(b.tx, subject)
}

func (s *Store) recordValue(tx *bolt.Tx, rk []byte, subject, class, name string) ([]byte, error) {
	if err := s.subjectExists(tx, subject); err != nil {
		return nil, err
	}
	if err := s.checkClass(subject, class, fmt.Sprintf("record %q/%q/%q", subject, class, name)); err != nil {
		return nil, err
	}
	v := tx.Bucket(bucketRecords).Get(rk)
	if v == nil {
		return nil, fmt.Errorf("%w: record %q/%q/%q", ErrNotFound, subject, class, name)
	}
	return v, nil
}

// ListRecords returns the names of subject's records in class, in byte
// order (empty if the class has none). The names are sealed in the
// records, so listing opens every record of the class.
func (s *Store) ListRecords(subject, class string) ([]string, error) {
	if err := checkNames(subject, class); err != nil {
		return nil, err
	}
	var names []string
	err := s.view(func(tx *bolt.Tx) error {
		var err error
		names, err = s.listRecords(tx, subject, class)
		return err
	})
	return names, err
}

// eachBody calls fn with the name and body of every record of
// subject/class (an empty class calls nothing) until fn returns false.
func (s *Store) eachBody(tx *bolt.Tx, subject, class string, fn func(name string, bd body) (bool, error)) error {
	p := s.keyKey(subject, class)
	c := tx.Bucket(bucketRecords).Cursor()
	k, v := c.Seek(p)
	if k == nil || !bytes.HasPrefix(k, p) {
		return nil
	}
	dk, err := s.dataKeyAt(tx, p, subject, class)
	if err != nil {
		return err
	}
	defer dk.Wipe()
	for ; k != nil && bytes.HasPrefix(k, p); k, v = c.Next() {
		// The associated data binds k, so the name sealed inside is the
		// one k was made from (see openSubject).
		bd, pt, err := s.openBody(dk, k, v, func() string { return fmt.Sprintf("record %q/%q/%x", subject, class, k[2*tagSize:]) })
		if err != nil {
			return err
		}
		more, err := fn(bd.name, bd)
		seal.Zero(pt)
		if err != nil || !more {
			return err
		}
	}
	return nil
}

func (s *Store) listRecords(tx *bolt.Tx, subject, class string) ([]string, error) {
	if err := s.subjectExists(tx, subject); err != nil {
		return nil, err
	}
	if err := s.checkClass(subject, class, fmt.Sprintf("records %q/%q", subject, class)); err != nil {
		return nil, err
	}
	var names []string
	err := s.eachBody(tx, subject, class, func(name string, bd body) (bool, error) {
		if bd.kind != bodyEmpty {
			names = append(names, name)
		}
		return true, nil
	})
	slices.Sort(names)
	return names, err
}

// DeleteRecord deletes subject/class/name and scrubs the file's free pages.
// A record of the store's Shape becomes an empty slot instead.
func (s *Store) DeleteRecord(subject, class, name string) error {
	if err := checkNames(subject, class); err != nil {
		return err
	}
	if class == ClassFace {
		return fmt.Errorf("%w: %q", ErrReservedClass, class)
	}
	return s.updateScrub(func(b *Batch) error { return b.deleteRecord(subject, class, name) }, nil)
}

func (b *Batch) deleteRecord(subject, class, name string) error {
	if err := b.s.subjectExists(b.tx, subject); err != nil {
		return err
	}
	rk := b.s.recKey(subject, class, name)
	if b.tx.Bucket(bucketRecords).Get(rk) == nil {
		return fmt.Errorf("%w: record %q/%q/%q", ErrNotFound, subject, class, name)
	}
	if !b.s.slotted(subject, class, name) {
		return b.deleteEntry(bucketRecords, leafRecord, rk)
	}
	if _, err := b.s.getRecord(b.tx, subject, class, name); err != nil {
		return err // an empty slot is not found
	}
	b.shreds = true
	return b.put(subject, class, name, makeBody(bodyEmpty, name), 0)
}

func (b *Batch) deleteTemplate(subject string, id uint64) error {
	if err := b.s.subjectExists(b.tx, subject); err != nil {
		return err
	}
	found := ""
	err := b.s.eachFace(b.tx, subject, func(name string, bd body) (bool, error) {
		if bd.kind == bodyTemplate && binary.BigEndian.Uint64(bd.payload) == id {
			found = name
			return false, nil
		}
		return true, nil
	})
	if err != nil {
		return err
	}
	if found == "" {
		return fmt.Errorf("%w: template %q/%016x", ErrNotFound, subject, id)
	}
	if !b.s.slotted(subject, ClassFace, found) {
		return b.deleteEntry(bucketRecords, leafRecord, b.s.recKey(subject, ClassFace, found))
	}
	b.shreds = true
	return b.put(subject, ClassFace, found, makeBody(bodyEmpty, found), b.s.faceMin(subject))
}

// Subjects returns every subject in the store, in byte order. If Open
// found manifest groups that fail (see Damage), it returns a
// *RolledBackError instead: the list could hide a deleted subject or show
// an added one. The names are sealed, so this opens every subject entry.
func (s *Store) Subjects() ([]string, error) {
	if err := s.checkComplete("subject list"); err != nil {
		return nil, err
	}
	var out []string
	err := s.view(func(tx *bolt.Tx) error {
		var err error
		out, err = s.subjects(tx)
		return err
	})
	return out, err
}

// subjects opens every subject entry and returns the names, sorted.
func (s *Store) subjects(tx *bolt.Tx) ([]string, error) {
	var out []string
	err := tx.Bucket(bucketSubjects).ForEach(func(k, v []byte) error {
		name, err := s.openSubject(k, v)
		if err != nil {
			return err
		}
		out = append(out, name)
		return nil
	})
	slices.Sort(out)
	return out, err
}

// DeleteSubject crypto-shreds subject: its wrapped data keys and all its
// records are deleted and the file's free pages scrubbed, so no copy of its
// keys remains in the file. It returns ErrUnknownSubject if there is no such
// subject.
func (s *Store) DeleteSubject(subject string) error {
	if err := checkName("subject", subject); err != nil {
		return err
	}
	return s.updateScrub(func(b *Batch) error { return b.DeleteSubject(subject) }, nil)
}

// DeleteSubject crypto-shreds subject within the batch (see
// [Store.DeleteSubject]); the free pages are scrubbed after the commit.
func (b *Batch) DeleteSubject(subject string) error {
	if err := checkName("subject", subject); err != nil {
		return err
	}
	if err := b.s.subjectExists(b.tx, subject); err != nil {
		return err
	}
	sk := b.s.subjKey(subject)
	if err := b.deletePrefix(bucketKeys, leafKey, sk); err != nil {
		return err
	}
	if err := b.deletePrefix(bucketRecords, leafRecord, sk); err != nil {
		return err
	}
	b.dropKeys(subject, "")
	return b.deleteEntry(bucketSubjects, leafSubject, sk)
}

// dropKeys forgets (and wipes) the cached data keys of subject (of class,
// or all classes if class is "") after they were deleted.
func (b *Batch) dropKeys(subject, class string) {
	for k, dk := range b.keys {
		if k[0] == subject && (class == "" || k[1] == class) {
			dk.Wipe()
			delete(b.keys, k)
		}
	}
}

func (b *Batch) deletePrefix(bucket []byte, kind byte, prefix []byte) error {
	for _, k := range prefixKeys(b.tx.Bucket(bucket), prefix) {
		if err := b.deleteEntry(bucket, kind, k); err != nil {
			return err
		}
	}
	return nil
}

// ShredClass crypto-shreds one class of subject (e.g. ClassFace after
// consent is withdrawn): its data key and records are deleted and the file's
// free pages scrubbed; the subject's other classes are untouched. A class
// of the store's Shape gets a fresh key and empty slots in the same
// transaction. It returns ErrUnknownSubject or ErrNotFound (no such class).
func (s *Store) ShredClass(subject, class string) error {
	if err := checkNames(subject, class); err != nil {
		return err
	}
	return s.updateScrub(func(b *Batch) error { return b.ShredClass(subject, class) }, nil)
}

// ShredClass crypto-shreds one class of subject within the batch (see
// [Store.ShredClass]); the free pages are scrubbed after the commit.
func (b *Batch) ShredClass(subject, class string) error {
	if err := checkNames(subject, class); err != nil {
		return err
	}
	if err := b.s.subjectExists(b.tx, subject); err != nil {
		return err
	}
	kk := b.s.keyKey(subject, class)
	recs := prefixKeys(b.tx.Bucket(bucketRecords), kk)
	if b.tx.Bucket(bucketKeys).Get(kk) == nil && len(recs) == 0 {
		return fmt.Errorf("%w: subject %q has no class %q", ErrNotFound, subject, class)
	}
	if err := b.deleteEntry(bucketKeys, leafKey, kk); err != nil {
		return err
	}
	for _, k := range recs {
		if err := b.deleteEntry(bucketRecords, leafRecord, k); err != nil {
			return err
		}
	}
	b.dropKeys(subject, class)
	return b.fillShape(subject, class)
}

// eachFace calls fn for every face record of subject (templates and empty
// slots) until fn returns false.
func (s *Store) eachFace(tx *bolt.Tx, subject string, fn func(name string, bd body) (bool, error)) error {
	if err := s.checkClass(subject, ClassFace, fmt.Sprintf("face templates of %q", subject)); err != nil {
		return err
	}
	return s.eachBody(tx, subject, ClassFace, func(name string, bd body) (bool, error) {
		if bd.kind != bodyTemplate && bd.kind != bodyEmpty {
			return false, &TamperedError{Record: fmt.Sprintf("template %q/%q", subject, name), Err: fmt.Errorf("%w: body kind %q", seal.ErrFormat, bd.kind)}
		}
		return fn(name, bd)
	})
}

// faceEntry is one decoded template with the name of the record holding
// it.
type faceEntry struct {
	Entry
	name string
}

// faceEntries returns subject's templates in ID order.
func (s *Store) faceEntries(tx *bolt.Tx, subject string) ([]faceEntry, error) {
	var out []faceEntry
	err := s.eachFace(tx, subject, func(name string, bd body) (bool, error) {
		if bd.kind == bodyEmpty {
			return true, nil
		}
		t, err := template.Decode(bd.payload[8:])
		if err != nil {
			return false, fmt.Errorf("store: template %q/%q: %w", subject, name, err)
		}
		out = append(out, faceEntry{Entry{Subject: subject, ID: binary.BigEndian.Uint64(bd.payload), Template: t}, name})
		return true, nil
	})
	slices.SortFunc(out, func(a, b faceEntry) int {
		if a.ID < b.ID {
			return -1
		}
		if a.ID > b.ID {
			return 1
		}
		return 0
	})
	return out, err
}

// eachTemplate calls fn for each template of one subject, in ID order.
func (s *Store) eachTemplate(tx *bolt.Tx, subject string, fn func(Entry) error) error {
	es, err := s.faceEntries(tx, subject)
	if err != nil {
		return err
	}
	for _, e := range es {
		if err := fn(e.Entry); err != nil {
			return err
		}
	}
	return nil
}

// Templates returns subject's templates in ID order (IDs are random, so
// this is not the order of enrollment: see Template.Created). It returns
// ErrUnknownSubject if there is no such subject, and an empty slice if the
// subject has no templates (e.g. after ShredClass(subject, ClassFace)).
func (s *Store) Templates(subject string) ([]Entry, error) {
	var out []Entry
	err := s.view(func(tx *bolt.Tx) error {
		var err error
		out, err = s.templates(tx, subject)
		return err
	})
	return out, err
}

func (s *Store) templates(tx *bolt.Tx, subject string) ([]Entry, error) {
	if err := s.subjectExists(tx, subject); err != nil {
		return nil, err
	}
	var out []Entry
	err := s.eachTemplate(tx, subject, func(e Entry) error {
		out = append(out, e)
		return nil
	})
	return out, err
}
