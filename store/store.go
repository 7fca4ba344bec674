// Package store is FaceGate's embedded encrypted store: one bbolt file
// holding subjects, their wrapped data keys, sealed templates and sealed
// generic records (consent, credentials, audit logs).
//
// # Layout
//
// Every subject (an arbitrary non-empty string of at most MaxNameLen bytes,
// e.g. "resident/0042" or "audit/2026-11-24") has one random data key per
// class ("face" for templates, "consent", "credential", "audit", …), wrapped
// by the store's KEK. Records are sealed with XChaCha20-Poly1305 under their
// class's key, bound by associated data to the store ID, their place and
// their version (see package crypto). Nothing in the file is plaintext
// biometric data, and no name is in it either: subjects, classes and
// records are stored under keyed tags (names.go), their names sealed
// inside the values, every value padded to a size class (padding.go), and
// the subjects a Shape covers hold the same fixed slots (shape.go).
//
// # Crypto-shredding
//
// [Store.ShredClass] destroys one class key (and its records) of a subject,
// e.g. the face templates after consent is withdrawn, while its credentials
// survive; [Store.DeleteSubject] destroys all of a subject's keys. Because
// bbolt copies pages on write, old versions of any value linger in free
// pages (still sealed); after every deletion, rotation or re-key the store
// overwrites all free pages with zeros (a "scrub"), so a deleted subject's
// wrapped keys cannot be recovered from the file even by someone holding
// the KEK. Copies below the file system (SSD remapping, snapshots, backups
// of the file) are out of reach of any scrub: only destroying the KEK
// shreds those. The scrub leaves bbolt's older meta page pointing at zeroed
// pages; bbolt only falls back to it if the newest, already synced, meta
// page is damaged.
//
// # Transform secret
//
// The secret of the revocable template transform (package template) is a
// random 32-byte key, wrapped by the KEK under its own kind and kept apart
// from the subjects' records in the meta bucket. [Store.RekeyTransform]
// replaces it and moves every template to the new transform from the
// protected templates alone; [Store.RotateKEK] re-wraps the data keys and
// the transform secret under a new KEK without re-sealing any record.
//
// # Concurrency and crash safety
//
// A Store is safe for concurrent use. Every write is one bbolt transaction,
// fsynced before the call returns; a crash loses at most the write in
// flight.
package store

import (
	"bytes"
	"crypto/rand"
	"errors"
	"fmt"
	"os"
	"runtime/debug"
	"sync"
	"time"

	bolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"

	"github.com/facegate/facegate/gate/records"
	"github.com/facegate/facegate/internal/seal"
	"github.com/facegate/facegate/template"
)

// ClassFace is the class holding a subject's face templates. Generic record
// calls refuse it (ErrReservedClass); use AddTemplate and Templates.
const ClassFace = records.ClassFace

// MaxNameLen is the longest subject, class or record name, in bytes.
const MaxNameLen = records.MaxNameLen

var (
	bucketMeta     = []byte("meta")
	bucketSubjects = []byte("subjects")
	keyHeader      = []byte("header")
	keyCheck       = []byte("check")
	keyTransform   = []byte("transform")
	bucketKeys     = []byte("keys")
	bucketRecords  = []byte("records")
	checkPlaintext = []byte("facegate store key check v1")
)

// Options tune Create and Open. A nil *Options means the defaults.
type Options struct {
	// KDF is the Argon2id cost used by Create and RotateKEK for passphrase
	// secrets; the zero value means DefaultKDFParams. Open reads the
	// parameters from the file.
	KDF KDFParams
	// LockTimeout is how long Open and Create wait for another process to
	// release the file; zero means one second.
	LockTimeout time.Duration
	// AllowMetaFallback lets Open use the file's older bbolt meta page when
	// the newest one is damaged, losing the last transaction (what bbolt
	// does by itself). Open refuses such a file otherwise
	// (ErrRolledBack): set it only after a crash during a commit, when the
	// transaction lost was never acknowledged.
	AllowMetaFallback bool
	// Counter, if set, is a monotonic counter outside the file that every
	// write advances and Open checks, so that a whole older copy of the
	// file is refused with ErrRolledBack (see Counter). Create starts the
	// store's versions at the counter's value.
	Counter Counter
	// ReadOnly opens the store without ever writing to the file: listing,
	// reading, Check and exporting work, every write gives ErrReadOnly.
	// Open also opens read-only, by itself, a file it may not write (mode
	// without write permission, or a read-only file system).
	ReadOnly bool
}

func (o *Options) readOnly() bool { return o != nil && o.ReadOnly }

func (o *Options) counter() Counter {
	if o == nil {
		return nil
	}
	return o.Counter
}

func (o *Options) kdf() KDFParams {
	if o == nil || o.KDF == (KDFParams{}) {
		return DefaultKDFParams
	}
	return o.KDF
}

func (o *Options) lockTimeout() time.Duration {
	if o == nil || o.LockTimeout == 0 {
		return time.Second
	}
	return o.LockTimeout
}

// Store is an open FaceGate store.
type Store struct {
	mu   sync.RWMutex // exclusive for Close and scrubs; shared otherwise
	db   *bolt.DB
	path string
	hdr  header
	kek  *seal.Key
	mkey *seal.Key // manifest key (see manifest.go)
	// names computes the keyed tags of subjects, classes and records, and
	// skey seals subject entries (see names.go).
	names *namer
	skey  *seal.Key
	// readOnly: the file was opened read-only; writes give ErrReadOnly.
	readOnly bool
	shapeMu  sync.RWMutex
	shape    *records.Shape
	// counter is the rollback counter outside the file, or nil.
	counter Counter
	closed  bool
	// bad holds the manifest groups that failed verification at Open;
	// records in them are refused on reading. Set before the Store is
	// shared, read-only afterwards.
	bad map[uint16]*groupProblem
	// stale holds group digests to repair on the next write (see
	// verification.stale).
	staleMu sync.Mutex
	stale   map[uint16]digest

	tmu        sync.Mutex
	transforms map[transformKey]*template.Transform

	noScrub bool // tests only: shows what a scrub removes
}

type transformKey struct {
	gen   uint64
	model string
	dim   int
}

func newHeader(secret Secret, opts *Options) (header, error) {
	var h header
	if secret.IsZero() {
		return h, ErrNoSecret
	}
	if _, err := rand.Read(h.storeID[:]); err != nil {
		return h, fmt.Errorf("store: %w", err)
	}
	if _, err := rand.Read(h.salt[:]); err != nil {
		return h, fmt.Errorf("store: %w", err)
	}
	h.kind = kindRawKey
	if secret.IsPassphrase() {
		h.kind = kindPassphrase
		h.kdf = opts.kdf()
		if err := checkKDFBound(h.kdf); err != nil {
			return h, err
		}
	}
	return h, nil
}

// Create makes a new store file at path (mode 0600) unlocked by secret and
// returns it open. It fails with ErrExists if path exists.
func Create(path string, secret Secret, opts *Options) (*Store, error) {
	if _, err := os.Lstat(path); err == nil {
		return nil, fmt.Errorf("%w: %s", ErrExists, path)
	} else if !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("store: %w", err)
	}
	h, err := newHeader(secret, opts)
	if err != nil {
		return nil, err
	}
	kek, err := deriveKEK(secret, h.salt[:], h.kdf)
	if err != nil {
		return nil, err
	}
	ts, err := seal.NewKey()
	if err != nil {
		kek.Wipe()
		return nil, err
	}
	defer ts.Wipe()
	mkey, err := seal.NewKey()
	if err != nil {
		kek.Wipe()
		return nil, err
	}
	nk, err := seal.NewKey()
	if err != nil {
		kek.Wipe()
		mkey.Wipe()
		return nil, err
	}
	defer nk.Wipe()
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: opts.lockTimeout()})
	if err != nil {
		kek.Wipe()
		mkey.Wipe()
		return nil, fmt.Errorf("store: creating %s: %w", path, err)
	}
	s := &Store{db: db, path: path, hdr: h, kek: kek, mkey: mkey, counter: opts.counter(), transforms: map[transformKey]*template.Transform{}}
	if err := s.setNameKey(nk); err != nil {
		db.Close()
		kek.Wipe()
		mkey.Wipe()
		os.Remove(path)
		return nil, err
	}
	var start uint64
	if s.counter != nil {
		if start, err = s.counter.Read(); err != nil {
			db.Close()
			kek.Wipe()
			mkey.Wipe()
			os.Remove(path)
			return nil, err
		}
	}
	err = db.Update(func(tx *bolt.Tx) error {
		meta, err := tx.CreateBucket(bucketMeta)
		if err != nil {
			return err
		}
		for _, name := range [][]byte{bucketSubjects, bucketKeys, bucketRecords} {
			if _, err := tx.CreateBucket(name); err != nil {
				return err
			}
		}
		if err := s.putHeader(meta, h, kek); err != nil {
			return err
		}
		w, err := kek.Wrap(ts, s.transformAD(h.generation))
		if err != nil {
			return err
		}
		if err := meta.Put(keyTransform, w); err != nil {
			return err
		}
		if w, err = kek.Wrap(mkey, s.manifestKeyAD()); err != nil {
			return err
		}
		if err := meta.Put(keyManifestKey, w); err != nil {
			return err
		}
		if w, err = kek.Wrap(nk, s.nameKeyAD()); err != nil {
			return err
		}
		if err := meta.Put(keyNameKey, w); err != nil {
			return err
		}
		return s.initManifest(tx, newManifestMAC(mkey.Bytes()), start)
	})
	if err != nil {
		db.Close()
		kek.Wipe()
		mkey.Wipe()
		s.skey.Wipe()
		os.Remove(path)
		return nil, fmt.Errorf("store: initializing %s: %w", path, err)
	}
	return s, nil
}

// putHeader writes h and its key-check value (sealed under kek, bound to the
// header bytes).
func (s *Store) putHeader(meta *bolt.Bucket, h header, kek *seal.Key) error {
	hb := h.encode()
	check, err := kek.Seal(checkPlaintext, seal.AD(seal.KindCheck, h.storeID[:], "", "", string(hb)))
	if err != nil {
		return err
	}
	if err := meta.Put(keyHeader, hb); err != nil {
		return err
	}
	return meta.Put(keyCheck, check)
}

// Open opens the store at path with secret. It validates the file before
// writing anything: a foreign or empty file gives ErrNotStore, a truncated or
// damaged one ErrTruncated, a wrong secret (or a modified header)
// ErrWrongKey, and in each case the file is left untouched. It then checks
// the store's authenticated state (see manifest.go): a manifest that fails
// gives a *TamperedError or *RolledBackError and no Store; manifest groups
// whose records were replayed, added or deleted are listed by
// [Store.Damage] and their records refused on reading, while the rest of
// the store opens. Whatever fails, the file is released before Open
// returns.
func Open(path string, secret Secret, opts *Options) (*Store, error) {
	if secret.IsZero() {
		return nil, ErrNoSecret
	}
	if err := preCheck(path, opts != nil && opts.AllowMetaFallback); err != nil {
		return nil, err
	}
	// Read-only first: bbolt may write to a file it opens read-write.
	var hb, check []byte
	err := openGuarded(path, &bolt.Options{ReadOnly: true, Timeout: opts.lockTimeout()}, func(ro *bolt.DB) error {
		defer ro.Close()
		return ro.View(func(tx *bolt.Tx) error {
			meta := tx.Bucket(bucketMeta)
			if meta == nil || tx.Bucket(bucketSubjects) == nil || tx.Bucket(bucketKeys) == nil || tx.Bucket(bucketRecords) == nil {
				return fmt.Errorf("%w: %s has no FaceGate buckets", ErrNotStore, path)
			}
			hb = bytes.Clone(meta.Get(keyHeader))
			check = bytes.Clone(meta.Get(keyCheck))
			return nil
		})
	})
	if err != nil {
		return nil, err
	}
	h, err := decodeHeader(hb)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if (h.kind == kindPassphrase) != secret.IsPassphrase() {
		want := "a key"
		if h.kind == kindPassphrase {
			want = "a passphrase"
		}
		return nil, fmt.Errorf("%w: %s is unlocked by %s", ErrWrongKey, path, want)
	}
	kek, err := deriveKEK(secret, h.salt[:], h.kdf)
	if err != nil {
		return nil, err
	}
	if pt, err := kek.Open(check, seal.AD(seal.KindCheck, h.storeID[:], "", "", string(hb))); err != nil || !seal.Equal(pt, checkPlaintext) {
		kek.Wipe()
		return nil, fmt.Errorf("%w: %s", ErrWrongKey, path)
	}
	s := &Store{path: path, hdr: h, kek: kek, counter: opts.counter(), transforms: map[transformKey]*template.Transform{}}
	s.readOnly = opts.readOnly() || !writable(path)
	// Check needs the freelist, which bbolt does not load read-only
	// unless asked.
	err = openGuarded(path, &bolt.Options{Timeout: opts.lockTimeout(), ReadOnly: s.readOnly, PreLoadFreelist: s.readOnly}, func(db *bolt.DB) error {
		s.db = db
		return db.View(func(tx *bolt.Tx) error {
			mk, err := s.loadManifestKey(tx, kek)
			if err != nil {
				return err
			}
			s.mkey = mk
			nk, err := s.loadNameKey(tx, kek)
			if err != nil {
				return err
			}
			defer nk.Wipe()
			if err := s.setNameKey(nk); err != nil {
				return err
			}
			if manifestOff {
				return nil
			}
			v, err := s.verifyManifest(tx, newManifestMAC(mk.Bytes()))
			s.bad, s.stale = v.bad, v.stale
			if err != nil {
				return err
			}
			return s.checkCounter(v.version)
		})
	})
	if err != nil {
		if s.db != nil {
			s.db.Close()
		}
		kek.Wipe()
		s.mkey.Wipe()
		s.skey.Wipe()
		return nil, err
	}
	return s, nil
}

// writable reports whether this process may write the file at path: its
// mode has a write bit (root may write a 0400 file, but a file made
// read-only says it must not be changed) and opening it for writing works.
func writable(path string) bool {
	fi, err := os.Stat(path)
	if err != nil || fi.Mode().Perm()&0o222 == 0 {
		return false
	}
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return false
	}
	f.Close()
	return true
}

// ReadOnly reports whether the store was opened read-only (see
// Options.ReadOnly).
func (s *Store) ReadOnly() bool { return s.readOnly }

// openGuarded opens path with bbolt and runs fn on it, turning faults and
// panics on a damaged file into ErrTruncated. bbolt locks the file when it
// opens it; if it panics before returning the DB (a damaged freelist, say),
// the file it opened is closed here, which releases the lock, so that a
// later Open in the same process does not fail with a misleading ErrLocked.
// fn owns the DB once bbolt returns it.
func openGuarded(path string, o *bolt.Options, fn func(*bolt.DB) error) error {
	var f *os.File
	var db *bolt.DB
	o.OpenFile = func(name string, flag int, mode os.FileMode) (*os.File, error) {
		var err error
		f, err = os.OpenFile(name, flag, mode)
		return f, err
	}
	err := guard(func() error {
		var err error
		db, err = bolt.Open(path, 0o600, o)
		if err != nil {
			return openErr(path, err)
		}
		return nil
	})
	if err != nil {
		if db == nil && f != nil {
			// The mapping bbolt may have made stays (it is not reachable
			// from here), but the lock and the descriptor go.
			releaseLock(f)
			f.Close()
		}
		return err
	}
	return guard(func() error { return fn(db) })
}

// preCheck is checkFile; tests replace it to reach bbolt with damage
// checkFile would have refused.
var preCheck = checkFile

func openErr(path string, err error) error {
	switch {
	case errors.Is(err, berrors.ErrTimeout):
		return fmt.Errorf("%w: %s", ErrLocked, path)
	case errors.Is(err, berrors.ErrInvalid), errors.Is(err, berrors.ErrChecksum), errors.Is(err, berrors.ErrVersionMismatch):
		return fmt.Errorf("%w: %s: %v", ErrTruncated, path, err)
	}
	return fmt.Errorf("store: opening %s: %w", path, err)
}

// Close closes the store and wipes its keys (the KEK; data keys are wiped
// after each use). Close is idempotent.
func (s *Store) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil
	}
	s.closed = true
	s.kek.Wipe()
	s.mkey.Wipe()
	s.skey.Wipe()
	s.dropTransforms()
	return s.db.Close()
}

// Path returns the store file's path.
func (s *Store) Path() string { return s.path }

func (s *Store) transformAD(gen uint64) []byte {
	return seal.AD(seal.KindTransform, s.hdr.storeID[:], "", "transform", fmt.Sprint(gen))
}

// The associated data of data keys, records and subject entries binds
// their bucket key (the keyed tags of subject, class and name, which stand
// for the names: no one without the name key can make the tags of other
// names) and their version.

func (s *Store) keyAD(kk []byte, version uint64) []byte {
	return seal.VersionedAD(seal.KindDataKey, s.hdr.storeID[:], string(kk[:min(tagSize, len(kk))]), string(kk[min(tagSize, len(kk)):]), "", version)
}

func (s *Store) recordAD(rk []byte, version uint64) []byte {
	a, b := min(tagSize, len(rk)), min(2*tagSize, len(rk))
	return seal.VersionedAD(seal.KindRecord, s.hdr.storeID[:], string(rk[:a]), string(rk[a:b]), string(rk[b:]), version)
}

func (s *Store) subjectAD(sk []byte, version uint64) []byte {
	return seal.VersionedAD(seal.KindRecord, s.hdr.storeID[:], string(sk), "", "subject entry", version)
}

func checkName(what, n string) error {
	if n == "" || len(n) > MaxNameLen {
		return fmt.Errorf("%w: %s is %d bytes, want 1..%d", ErrInvalidName, what, len(n), MaxNameLen)
	}
	return nil
}

func checkNames(subject, class string) error {
	if err := checkName("subject", subject); err != nil {
		return err
	}
	return checkName("class", class)
}

// recoverDamage turns a bbolt panic on a damaged page into ErrTruncated
// (bbolt rolls the transaction back before the panic reaches here). Callers
// also enable debug.SetPanicOnFault, so that a damaged page pointing outside
// the mapping panics instead of crashing the process.
func recoverDamage(err *error) {
	if r := recover(); r != nil {
		*err = fmt.Errorf("%w: reading the file panicked: %v", ErrTruncated, r)
	}
}

// guard runs fn with faults turned into panics and panics into ErrTruncated.
func guard(fn func() error) (err error) {
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer recoverDamage(&err)
	return fn()
}

// view runs fn in a read transaction under the shared lock.
func (s *Store) view(fn func(*bolt.Tx) error) (err error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return ErrClosed
	}
	return guard(func() error { return s.db.View(fn) })
}

// update runs fn in a write transaction under the shared lock.
func (s *Store) update(fn func(*Batch) error) (err error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return ErrClosed
	}
	if s.readOnly {
		return fmt.Errorf("%w: %s", ErrReadOnly, s.path)
	}
	var version uint64
	if err := guard(func() error { return s.db.Update(s.batch(fn, &version)) }); err != nil {
		return err
	}
	return s.advanceCounter(version)
}

// batch wraps fn into a bbolt update function: it opens a Batch at the
// next version, runs fn and, if fn succeeds, folds the Batch's changes into
// the manifest in the same transaction.
func (s *Store) batch(fn func(*Batch) error, version *uint64) func(*bolt.Tx) error {
	return func(tx *bolt.Tx) error {
		if manifestOff {
			b := &Batch{s: s, tx: tx, keys: map[[2]string]*seal.Key{}, version: 1}
			defer b.wipe()
			return fn(b)
		}
		m := newManifestMAC(s.mkey.Bytes())
		st, err := s.readManifest(tx, m)
		if err != nil {
			return err
		}
		b := &Batch{s: s, tx: tx, keys: map[[2]string]*seal.Key{}, version: st.version + 1,
			man: manifestUpdate{m: m, delta: map[uint16]*digest{}}}
		defer b.wipe()
		if err := fn(b); err != nil {
			return err
		}
		*version = b.version
		return b.man.commit(s, tx, st, b.version)
	}
}

// updateScrub runs fn in a write transaction under the exclusive lock, calls
// commit (if not nil) once the transaction has committed, then scrubs the
// free pages.
func (s *Store) updateScrub(fn func(*Batch) error, commit func()) (err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return ErrClosed
	}
	if s.readOnly {
		return fmt.Errorf("%w: %s", ErrReadOnly, s.path)
	}
	var version uint64
	err = guard(func() error { return s.db.Update(s.batch(fn, &version)) })
	if err != nil {
		return err
	}
	if commit != nil {
		commit()
	}
	return errors.Join(s.scrubLocked(), s.advanceCounter(version))
}

// Scrub overwrites every free page of the file with zeros, so that no old
// version of a deleted or replaced value lingers. Deletions, rotations and
// re-keys scrub by themselves; Scrub is for callers who replaced records
// with PutRecord and want the old versions gone.
func (s *Store) Scrub() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return ErrClosed
	}
	if s.readOnly {
		return fmt.Errorf("%w: %s", ErrReadOnly, s.path)
	}
	return s.scrubLocked()
}

// scrubLocked zeroes free pages. The caller holds s.mu exclusively, so no
// read transaction is open and bbolt releases every pending page when the
// write transaction below begins: the pages it reports free are referenced
// by no live transaction. Only the older of bbolt's two meta pages may still
// point at them, and it is used only if the newest, already synced, meta
// page is damaged.
func (s *Store) scrubLocked() error {
	if s.noScrub {
		return nil
	}
	tx, err := s.db.Begin(true)
	if err != nil {
		return fmt.Errorf("store: scrub: %w", err)
	}
	defer tx.Rollback()
	ps := int64(s.db.Info().PageSize)
	n := int(tx.Size() / ps)
	f, err := os.OpenFile(s.path, os.O_WRONLY, 0)
	if err != nil {
		return fmt.Errorf("store: scrub: %w", err)
	}
	defer f.Close()
	var zero []byte
	flush := func(start, end int) error {
		if end <= start {
			return nil
		}
		const chunk = 64 // pages per write
		if zero == nil {
			zero = make([]byte, chunk*ps)
		}
		for p := start; p < end; p += chunk {
			k := min(chunk, end-p)
			if _, err := f.WriteAt(zero[:int64(k)*ps], int64(p)*ps); err != nil {
				return err
			}
		}
		return nil
	}
	start := -1
	for id := 2; id < n; id++ {
		info, err := tx.Page(id)
		if err != nil {
			return fmt.Errorf("store: scrub: %w", err)
		}
		free := info != nil && info.Type == "free"
		switch {
		case free && start < 0:
			start = id
		case !free && start >= 0:
			if err := flush(start, id); err != nil {
				return fmt.Errorf("store: scrub: %w", err)
			}
			start = -1
		}
	}
	if start >= 0 {
		if err := flush(start, n); err != nil {
			return fmt.Errorf("store: scrub: %w", err)
		}
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("store: scrub: %w", err)
	}
	return nil
}
