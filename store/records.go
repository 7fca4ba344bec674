package store

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"strconv"

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

// Layout: four top-level buckets.
//
//	meta      "header", "check", "transform", "manifest-key", "manifest"
//	subjects  subject → last template sequence (uint64, big-endian)
//	keys      P(subject) ‖ class → version ‖ wrapped data key
//	records   P(subject) ‖ uvarint(len(class)) ‖ class ‖ name → version ‖ sealed record
//	groups    uint16 group → digest of the group's entries (see manifest.go)
//
// where P(s) = uvarint(len(s)) ‖ s. The length prefixes make every prefix
// unambiguous, so a subject's or class's entries are one contiguous range.
// Flat buckets keep a subject at about one template's size on disk (nested
// per-subject buckets cost a page each).

// fillPercent is how full bbolt packs pages when it splits them. Enrollment
// writes mostly append, so dense pages waste less than bbolt's default 0.5.
const fillPercent = 0.9

func subjPrefix(subject string) []byte {
	b := binary.AppendUvarint(make([]byte, 0, len(subject)+2), uint64(len(subject)))
	return append(b, subject...)
}

func keyKey(subject, class string) []byte {
	return append(subjPrefix(subject), class...)
}

func recPrefix(subject, class string) []byte {
	b := binary.AppendUvarint(subjPrefix(subject), uint64(len(class)))
	return append(b, class...)
}

func recKey(subject, class, name string) []byte {
	return append(recPrefix(subject, class), name...)
}

// parseKeyKey splits a keys-bucket key into subject and class.
func parseKeyKey(k []byte) (subject, class string, ok bool) {
	n, w := binary.Uvarint(k)
	if w <= 0 || n > uint64(len(k)-w) {
		return "", "", false
	}
	return string(k[w : w+int(n)]), string(k[w+int(n):]), true
}

// subjectExists returns ErrUnknownSubject if subject has no entry, or a
// *RolledBackError if it has none but its manifest group failed.
func (s *Store) subjectExists(tx *bolt.Tx, subject string) error {
	if tx.Bucket(bucketSubjects).Get([]byte(subject)) == nil {
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

// dataKey unwraps the data key of subject/class. The caller wipes the key.
func (s *Store) dataKey(tx *bolt.Tx, subject, class string) (*seal.Key, error) {
	if tx.Bucket(bucketSubjects).Get([]byte(subject)) == nil {
		return nil, fmt.Errorf("%w: %q", ErrUnknownSubject, subject)
	}
	w := tx.Bucket(bucketKeys).Get(keyKey(subject, class))
	if w == nil {
		return nil, fmt.Errorf("%w: subject %q has no %q key", ErrNotFound, subject, class)
	}
	return s.unwrapDataKey(subject, class, w)
}

func (s *Store) unwrapDataKey(subject, class string, stored []byte) (*seal.Key, error) {
	ver, w, err := splitVersion(stored)
	if err == nil {
		var dk *seal.Key
		if dk, err = s.kek.Unwrap(w, s.keyAD(subject, class, ver)); err == nil {
			return dk, nil
		}
	}
	return nil, &TamperedError{Record: fmt.Sprintf("data key %q/%q", subject, class), Err: err}
}

// dataKey unwraps or makes the data key of subject/class, creating the
// subject on first use. The Batch wipes its keys when it ends.
func (b *Batch) dataKey(subject, class string) (*seal.Key, error) {
	k := [2]string{subject, class}
	if dk, ok := b.keys[k]; ok {
		return dk, nil
	}
	if b.tx.Bucket(bucketSubjects).Get([]byte(subject)) == nil {
		if err := b.putEntry(bucketSubjects, leafSubject, []byte(subject), make([]byte, 8)); err != nil {
			return nil, fmt.Errorf("store: creating subject %q: %w", subject, err)
		}
	}
	kk := keyKey(subject, class)
	var dk *seal.Key
	if w := b.tx.Bucket(bucketKeys).Get(kk); w != nil {
		var err error
		if dk, err = b.s.unwrapDataKey(subject, class, w); err != nil {
			return nil, err
		}
	} else {
		var err error
		if dk, err = seal.NewKey(); err != nil {
			return nil, err
		}
		w, err := b.s.kek.Wrap(dk, b.s.keyAD(subject, class, b.version))
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

func (b *Batch) put(subject, class, name string, plaintext []byte) error {
	dk, err := b.dataKey(subject, class)
	if err != nil {
		return err
	}
	if class != ClassFace {
		plaintext = pad(plaintext)
		defer seal.Zero(plaintext)
	}
	sealed, err := dk.Seal(plaintext, b.s.recordAD(subject, class, name, b.version))
	if err != nil {
		return err
	}
	if err := b.putEntry(bucketRecords, leafRecord, recKey(subject, class, name), versioned(b.version, sealed)); err != nil {
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
	return b.put(subject, class, name, plaintext)
}

func templateName(id uint64) string { return fmt.Sprintf("%016x", id) }

// AddTemplate seals t under subject's face key and returns its ID. t must
// have been protected with the store's current transform
// ([Store.Transform]); otherwise AddTemplate returns
// template.ErrWrongTransform.
func (b *Batch) AddTemplate(subject string, t template.Template) (uint64, error) {
	if err := checkName("subject", subject); err != nil {
		return 0, err
	}
	enc, err := template.Encode(&t)
	if err != nil {
		return 0, err
	}
	tr, err := b.s.transform(b.tx, t.ModelID(), t.Dim())
	if err != nil {
		return 0, err
	}
	if tr.ID() != t.TransformID() {
		return 0, fmt.Errorf("%w: template has transform %x, store's current is %x (re-protect or reload after RekeyTransform)", template.ErrWrongTransform, t.TransformID(), tr.ID())
	}
	if err := b.s.checkSubject(subject); err != nil {
		return 0, err // its template sequence may be an older copy
	}
	if _, err := b.dataKey(subject, ClassFace); err != nil {
		return 0, err
	}
	subs := b.tx.Bucket(bucketSubjects)
	seq := subs.Get([]byte(subject))
	if len(seq) != 8 {
		return 0, &TamperedError{Record: fmt.Sprintf("subject %q sequence", subject), Err: ErrNotFound}
	}
	id := binary.BigEndian.Uint64(seq) + 1
	if err := b.putEntry(bucketSubjects, leafSubject, []byte(subject), binary.BigEndian.AppendUint64(nil, id)); err != nil {
		return 0, err
	}
	if err := b.put(subject, ClassFace, templateName(id), enc); err != nil {
		return 0, err
	}
	return id, nil
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

func (s *Store) openRecord(dk *seal.Key, subject, class, name string, stored []byte) ([]byte, error) {
	ver, sealed, err := splitVersion(stored)
	if err == nil {
		var pt []byte
		if pt, err = dk.Open(sealed, s.recordAD(subject, class, name, ver)); err == nil {
			if class == ClassFace {
				return pt, nil
			}
			var v []byte
			if v, err = unpad(pt); err == nil {
				return v, nil
			}
		}
	}
	return nil, &TamperedError{Record: fmt.Sprintf("record %q/%q/%q", subject, class, name), Err: err}
}

// GetRecord returns the opened record subject/class/name. It returns
// ErrUnknownSubject, ErrNotFound (no such class key or record), or a
// *TamperedError.
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

func (s *Store) getRecord(tx *bolt.Tx, subject, class, name string) ([]byte, error) {
	sealed, err := s.recordValue(tx, subject, class, name)
	if err != nil {
		return nil, err
	}
	dk, err := s.dataKey(tx, subject, class)
	if err != nil {
		return nil, err
	}
	defer dk.Wipe()
	return s.openRecord(dk, subject, class, name, sealed)
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

func (s *Store) recordValue(tx *bolt.Tx, subject, class, name string) ([]byte, error) {
	if err := s.subjectExists(tx, subject); err != nil {
		return nil, err
	}
	if err := s.checkClass(subject, class, fmt.Sprintf("record %q/%q/%q", subject, class, name)); err != nil {
		return nil, err
	}
	v := tx.Bucket(bucketRecords).Get(recKey(subject, class, name))
	if v == nil {
		return nil, fmt.Errorf("%w: record %q/%q/%q", ErrNotFound, subject, class, name)
	}
	return v, nil
}

// ListRecords returns the names of subject's records in class, in byte
// order (empty if the class has none).
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

func (s *Store) listRecords(tx *bolt.Tx, subject, class string) ([]string, error) {
	if err := s.subjectExists(tx, subject); err != nil {
		return nil, err
	}
	if err := s.checkClass(subject, class, fmt.Sprintf("records %q/%q", subject, class)); err != nil {
		return nil, err
	}
	var names []string
	p := recPrefix(subject, class)
	c := tx.Bucket(bucketRecords).Cursor()
	for k, _ := c.Seek(p); k != nil && bytes.HasPrefix(k, p); k, _ = c.Next() {
		names = append(names, string(k[len(p):]))
	}
	return names, nil
}

// DeleteRecord deletes subject/class/name and scrubs the file's free pages.
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
	k := recKey(subject, class, name)
	if b.tx.Bucket(bucketRecords).Get(k) == nil {
		return fmt.Errorf("%w: record %q/%q/%q", ErrNotFound, subject, class, name)
	}
	return b.deleteEntry(bucketRecords, leafRecord, k)
}

// Subjects returns every subject in the store, in byte order. If Open
// found manifest groups that fail (see Damage), it returns a
// *RolledBackError instead: the list could hide a deleted subject or show
// an added one.
func (s *Store) Subjects() ([]string, error) {
	if err := s.checkComplete("subject list"); err != nil {
		return nil, err
	}
	var out []string
	err := s.view(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketSubjects).ForEach(func(k, _ []byte) error {
			out = append(out, string(k))
			return nil
		})
	})
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
	if err := b.deletePrefix(bucketKeys, leafKey, subjPrefix(subject)); err != nil {
		return err
	}
	if err := b.deletePrefix(bucketRecords, leafRecord, subjPrefix(subject)); err != nil {
		return err
	}
	b.dropKeys(subject, "")
	return b.deleteEntry(bucketSubjects, leafSubject, []byte(subject))
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
// free pages scrubbed; the subject's other classes are untouched. It returns
// ErrUnknownSubject or ErrNotFound (no such class).
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
	kk, rp := keyKey(subject, class), recPrefix(subject, class)
	recs := prefixKeys(b.tx.Bucket(bucketRecords), rp)
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
	return nil
}

// eachTemplate calls fn for each template of one subject, in ID order.
func (s *Store) eachTemplate(tx *bolt.Tx, subject string, fn func(Entry) error) error {
	if err := s.checkClass(subject, ClassFace, fmt.Sprintf("face templates of %q", subject)); err != nil {
		return err
	}
	p := recPrefix(subject, ClassFace)
	c := tx.Bucket(bucketRecords).Cursor()
	k, v := c.Seek(p)
	if k == nil || !bytes.HasPrefix(k, p) {
		return nil
	}
	dk, err := s.dataKey(tx, subject, ClassFace)
	if err != nil {
		return err
	}
	defer dk.Wipe()
	for ; k != nil && bytes.HasPrefix(k, p); k, v = c.Next() {
		name := string(k[len(p):])

		pt, err := s.openRecord(dk, subject, ClassFace, name, v)
		if err != nil {
			return err
		}
		t, err := template.Decode(pt)
		seal.Zero(pt)
		if err != nil {
			return fmt.Errorf("store: template %q/%q: %w", subject, name, err)
		}
		id, err := strconv.ParseUint(name, 16, 64)
		if err != nil || len(name) != 16 {
			return &TamperedError{Record: fmt.Sprintf("template name %q/%q", subject, name), Err: ErrNotFound}
		}
		if err := fn(Entry{Subject: subject, ID: id, Template: t}); err != nil {
			return err
		}
	}
	return nil
}

// Templates returns subject's templates in ID order. It returns
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
