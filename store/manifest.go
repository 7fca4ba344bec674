package store

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"hash"
	"hash/fnv"
	"slices"
	"strings"
	"sync"

	bolt "go.etcd.io/bbolt"

	"github.com/facegate/facegate/internal/seal"
)

// Authenticated state.
//
// Sealing a record proves that the store wrote it, not that it is the
// record the store holds now: an older sealed copy put back in place, a
// deleted record or one copied in from an old file all open. The manifest
// closes that gap for an attacker who can write the file but holds no key.
//
// Every write transaction has a version, one more than the last; each value
// it writes in the keys and records buckets is stored as version ‖ sealed,
// with the version bound into the value's associated data. Every entry of
// the subjects, keys and records buckets is a leaf
//
//	leaf = HMAC-SHA256(manifest key, bucket ‖ uvarint(len key) ‖ key ‖ auth)
//
// where auth is the version for sealed values and the whole value for the
// subjects bucket (which is not sealed). Entries fall into manifestGroups
// groups by an unkeyed hash of their key; a group's digest is the XOR of its
// leaves, kept in the groups bucket, and the store's root is the XOR over
// all groups of HMAC(manifest key, "group" ‖ id ‖ digest). The manifest
// (meta "manifest") holds the last version and the root under a MAC. Writes
// update the digests of the groups they touch and the root incrementally,
// in the same bbolt transaction as the values, so the manifest is never out
// of step with the data it covers.
//
// Open recomputes every group digest from the entries. If they match the
// root, all is well (whatever happened to the stored digests, which only
// serve to locate a difference). Otherwise, if the stored digests match the
// root, a group whose entries do not match its stored digest holds a
// replayed, added or deleted entry: its records are refused on reading
// (ErrRolledBack naming the record) while every other group stays usable,
// so one bad record never takes the building down. If neither matches,
// groups were replaced together with their entries: Open refuses the
// store. XOR of HMACs over distinct inputs is a MAC of the
// set (Bellare, Guérin and Rogaway's XOR-MAC); versions never repeat, so
// mixing entries from several old copies of the file gives a set no MAC in
// any copy covers. Putting back a whole older file (manifest included) is
// beyond what the file can tell: see [Counter].
//
// The manifest key is random, wrapped by the KEK like the transform secret,
// so RotateKEK re-wraps it and nothing else changes.
const manifestGroups = 1024

// manifestOff turns the manifest off — no verification at Open, no
// leaves or digests on writes — so that BenchmarkManifest can measure its
// cost against a baseline in the same run. Tests only; a store written
// with it set no longer verifies.
var manifestOff = false

var (
	bucketGroups     = []byte("groups")
	keyManifest      = []byte("manifest")
	keyManifestKey   = []byte("manifest-key")
	keyNameKey       = []byte("name-key")
	manifestMACLabel = "facegate/store/manifest/v2"
)

// Leaf kinds: the first byte of every leaf's MAC input.
const (
	leafSubject = 's'
	leafKey     = 'k'
	leafRecord  = 'r'
)

// versionSize is the length of the version prefix of sealed values.
const versionSize = 8

// On-disk sizes, for tests that look at the raw file.
const (
	// SealedOverhead is what the store adds to a record's plaintext on
	// disk: the 8-byte version and seal.Overhead.
	SealedOverhead = versionSize + seal.Overhead
	// WrappedKeySize is the size on disk of a wrapped data key.
	WrappedKeySize = versionSize + seal.WrappedSize
)

type digest [sha256.Size]byte

func (d *digest) xor(o *digest) {
	for i := range d {
		d[i] ^= o[i]
	}
}

// manifestMAC computes leaves, group MACs and the manifest MAC under the
// manifest key. It is not safe for concurrent use.
type manifestMAC struct {
	h   hash.Hash
	buf []byte
}

func newManifestMAC(key []byte) *manifestMAC {
	return &manifestMAC{h: hmac.New(sha256.New, key)}
}

func (m *manifestMAC) sum(parts ...[]byte) (d digest) {
	m.h.Reset()
	for _, p := range parts {
		m.h.Write(p)
	}
	m.buf = m.h.Sum(m.buf[:0])
	copy(d[:], m.buf)
	return d
}

// leafAuth returns the part of a value a leaf covers: its version.
func leafAuth(kind byte, v []byte) []byte {
	if len(v) < versionSize {
		return v
	}
	return v[:versionSize]
}

func (m *manifestMAC) leaf(kind byte, key, value []byte) digest {
	var hdr [1 + binary.MaxVarintLen64]byte
	hdr[0] = kind
	n := binary.PutUvarint(hdr[1:], uint64(len(key)))
	return m.sum(hdr[:1+n], key, leafAuth(kind, value))
}

func (m *manifestMAC) group(id uint16, d *digest) digest {
	return m.sum([]byte("group"), binary.BigEndian.AppendUint16(nil, id), d[:])
}

func (m *manifestMAC) manifest(storeID []byte, version uint64, root *digest) digest {
	return m.sum([]byte(manifestMACLabel), storeID, binary.BigEndian.AppendUint64(nil, version), root[:])
}

// groupOf returns the manifest group of an entry. A subject's entry falls
// in the group of its name; a data key and all the records of its class
// fall in the group of their (subject, class), so that a group that fails
// verification also covers a record deleted from that class, and
// ListRecords can say whether its list is complete. The grouping is FNV-1a
// and needs no secret (a leaf cannot be forged without the manifest key);
// it only has to be stable. Keys that do not parse fall in the group of
// their bytes.
func groupOf(kind byte, key []byte) uint16 {
	switch kind {
	case leafKey, leafRecord:
		if len(key) < 2*tagSize {
			break
		}
		return hashGroup('c', key[:tagSize], key[tagSize:2*tagSize])
	case leafSubject:
		return hashGroup('s', key, nil)
	}
	return hashGroup(kind, key, nil)
}

// classGroup is the group of subject's class key and records.
func (s *Store) classGroup(subject, class string) uint16 {
	kk := s.keyKey(subject, class)
	return hashGroup('c', kk[:tagSize], kk[tagSize:])
}

func hashGroup(tag byte, a, b []byte) uint16 {
	h := fnv.New64a()
	h.Write([]byte{tag})
	h.Write(a)
	h.Write(b)
	return uint16(h.Sum64() % manifestGroups)
}

func groupKey(id uint16) []byte { return binary.BigEndian.AppendUint16(nil, id) }

// manifestState is the decoded manifest: the last version and the root.
type manifestState struct {
	version uint64
	root    digest
}

const manifestSize = 8 + 2*sha256.Size

// readManifest reads and authenticates the manifest.
func (s *Store) readManifest(tx *bolt.Tx, m *manifestMAC) (manifestState, error) {
	var st manifestState
	v := tx.Bucket(bucketMeta).Get(keyManifest)
	if len(v) != manifestSize {
		return st, &TamperedError{Record: "store manifest", Err: fmt.Errorf("%w: %d bytes, want %d", seal.ErrFormat, len(v), manifestSize)}
	}
	st.version = binary.BigEndian.Uint64(v)
	copy(st.root[:], v[8:])
	want := m.manifest(s.hdr.storeID[:], st.version, &st.root)
	if !hmac.Equal(want[:], v[8+sha256.Size:]) {
		return st, &TamperedError{Record: "store manifest", Err: seal.ErrAuth}
	}
	return st, nil
}

func (s *Store) putManifest(tx *bolt.Tx, m *manifestMAC, st manifestState) error {
	tag := m.manifest(s.hdr.storeID[:], st.version, &st.root)
	v := binary.BigEndian.AppendUint64(make([]byte, 0, manifestSize), st.version)
	v = append(v, st.root[:]...)
	v = append(v, tag[:]...)
	return tx.Bucket(bucketMeta).Put(keyManifest, v)
}

// initManifest creates the groups bucket and the manifest of an empty
// store, whose versions start after start.
func (s *Store) initManifest(tx *bolt.Tx, m *manifestMAC, start uint64) error {
	gb, err := tx.CreateBucket(bucketGroups)
	if err != nil {
		return err
	}
	gb.FillPercent = 1
	var root, zero digest
	for id := uint16(0); id < manifestGroups; id++ {
		if err := gb.Put(groupKey(id), zero[:]); err != nil {
			return err
		}
		g := m.group(id, &zero)
		root.xor(&g)
	}
	return s.putManifest(tx, m, manifestState{version: start, root: root})
}

func (s *Store) manifestKeyAD() []byte {
	return seal.AD(seal.KindManifest, s.hdr.storeID[:], "", "manifest", "")
}

// loadNameKey unwraps the name key (see names.go).
func (s *Store) loadNameKey(tx *bolt.Tx, kek *seal.Key) (*seal.Key, error) {
	return loadMetaKey(tx, kek, keyNameKey, s.nameKeyAD(), "name key")
}

// loadManifestKey unwraps the manifest key.
func (s *Store) loadManifestKey(tx *bolt.Tx, kek *seal.Key) (*seal.Key, error) {
	return loadMetaKey(tx, kek, keyManifestKey, s.manifestKeyAD(), "manifest key")
}

// loadMetaKey unwraps the key wrapped under kek in meta[name].
func loadMetaKey(tx *bolt.Tx, kek *seal.Key, name, ad []byte, what string) (*seal.Key, error) {
	w := tx.Bucket(bucketMeta).Get(name)
	if w == nil {
		return nil, &TamperedError{Record: what, Err: ErrNotFound}
	}
	k, err := kek.Unwrap(w, ad)
	if err != nil {
		return nil, &TamperedError{Record: what, Err: err}
	}
	return k, nil
}

// GroupProblem is one manifest group whose entries do not match its digest.
type groupProblem struct {
	id      uint16
	entries []string // the entries the group holds now, described
}

// verification is what verifyManifest found.
type verification struct {
	bad     map[uint16]*groupProblem
	version uint64
	// stale holds the digests, computed from the entries, of groups whose
	// stored digest is damaged although the entries match the root; the
	// next write puts them back.
	stale map[uint16]digest
}

// verifyManifest recomputes every group digest and the root. It returns an
// error (the store must not be used) when the manifest, the groups bucket or
// the root fails, and the groups whose entries fail otherwise.
func (s *Store) verifyManifest(tx *bolt.Tx, m *manifestMAC) (verification, error) {
	var v verification
	st, err := s.readManifest(tx, m)
	if err != nil {
		return v, err
	}
	v.version = st.version
	gb := tx.Bucket(bucketGroups)
	if gb == nil {
		return v, &TamperedError{Record: "manifest groups", Err: ErrNotFound}
	}
	var stored [manifestGroups]digest
	var root digest
	n := 0
	if err := gb.ForEach(func(k, d []byte) error {
		if len(k) != 2 || binary.BigEndian.Uint16(k) >= manifestGroups || len(d) != sha256.Size {
			n = -1 << 20 // a malformed entry: the stored digests cannot be trusted
			return nil
		}
		id := binary.BigEndian.Uint16(k)
		copy(stored[id][:], d)
		g := m.group(id, &stored[id])
		root.xor(&g)
		n++
		return nil
	}); err != nil {
		return v, err
	}
	storedOK := n == manifestGroups && hmac.Equal(root[:], st.root[:])
	var got [manifestGroups]digest
	hwm := uint64(tx.Size() / int64(s.db.Info().PageSize))
	pr, err := openPages(s.path, s.db.Info().PageSize, hwm)
	if err != nil {
		return v, fmt.Errorf("store: %w", err)
	}
	defer pr.close()
	// Two walkers, each with its own MAC and digests (a store has two
	// cores or more): the subjects and keys buckets, and the records. The
	// bucket roots are read here, as a bbolt transaction is not for
	// concurrent use; the walks read only the file's pages.
	type job struct {
		kind byte
		name []byte
		root uint64
	}
	var parts [2][]job
	for i, b := range []job{{leafSubject, bucketSubjects, 0}, {leafKey, bucketKeys, 0}, {leafRecord, bucketRecords, 0}} {
		b.root = uint64(tx.Bucket(b.name).Root())
		if b.root == 0 { // inline: small, walked here with bbolt
			if err := walkInline(tx, b.name, func(k, val []byte) {
				l := m.leaf(b.kind, k, val)
				got[groupOf(b.kind, k)].xor(&l)
			}); err != nil {
				return v, err
			}
			continue
		}
		parts[i/2] = append(parts[i/2], b)
	}
	var (
		wg    sync.WaitGroup
		sums  [2][manifestGroups]digest
		errs  [2]error
		mkey  = s.mkey.Bytes()
		walks = func(w int) {
			defer wg.Done()
			wm := newManifestMAC(mkey)
			for _, b := range parts[w] {
				err := rawWalk(pr, hwm, b.root, func(k, val []byte) {
					l := wm.leaf(b.kind, k, val)
					sums[w][groupOf(b.kind, k)].xor(&l)
				})
				if err != nil {
					errs[w] = fmt.Errorf("%w: bucket %s: %v", ErrTruncated, b.name, err)
					return
				}
			}
		}
	)
	wg.Add(2)
	go walks(1)
	walks(0)
	wg.Wait()
	for w := range sums {
		if errs[w] != nil {
			return v, errs[w]
		}
		for id := range got {
			got[id].xor(&sums[w][id])
		}
	}
	// The stored digests only say where a difference is. If the entries
	// themselves match the root, they are what the manifest covers, whatever
	// happened to the stored digests (a damaged digest page, say).
	var computed digest
	for id := range got {
		g := m.group(uint16(id), &got[id])
		computed.xor(&g)
	}
	if hmac.Equal(computed[:], st.root[:]) {
		for id := range got {
			if got[id] != stored[id] {
				if v.stale == nil {
					v.stale = map[uint16]digest{}
				}
				v.stale[uint16(id)] = got[id]
			}
		}
		return v, nil
	}
	if !storedOK {
		return v, &RolledBackError{Record: "store manifest", Err: fmt.Errorf("neither the entries nor the manifest groups (%d of %d) match the manifest: groups were replaced, added or deleted together with their entries", n, manifestGroups)}
	}
	for id := range got {
		if got[id] != stored[id] {
			if v.bad == nil {
				v.bad = map[uint16]*groupProblem{}
			}
			v.bad[uint16(id)] = &groupProblem{id: uint16(id)}
		}
	}
	if len(v.bad) > 0 {
		describeBadGroups(tx, v.bad)
	}
	return v, nil
}

// describeBadGroups lists the entries each bad group holds, so errors can
// name the records that may have been replayed or added (a deleted one is
// named by its absence only).
func describeBadGroups(tx *bolt.Tx, bad map[uint16]*groupProblem) {
	for _, b := range []struct {
		kind byte
		name []byte
	}{{leafSubject, bucketSubjects}, {leafKey, bucketKeys}, {leafRecord, bucketRecords}} {
		tx.Bucket(b.name).ForEach(func(k, _ []byte) error {
			if p := bad[groupOf(b.kind, k)]; p != nil && len(p.entries) < 8 {
				p.entries = append(p.entries, describeEntry(b.kind, k))
			}
			return nil
		})
	}
}

// describeEntry names an entry by its tags: the names are sealed, and
// what is in a bad group cannot be trusted to open.
func describeEntry(kind byte, k []byte) string {
	switch kind {
	case leafSubject:
		return fmt.Sprintf("subject entry %x", k)
	case leafKey:
		return fmt.Sprintf("data key %x", k)
	case leafRecord:
		return fmt.Sprintf("record %x", k)
	}
	return fmt.Sprintf("entry %x", k)
}

func (p *groupProblem) error() error {
	what := "none left: one was deleted"
	if len(p.entries) > 0 {
		what = strings.Join(p.entries, ", ")
	}
	return &RolledBackError{Record: fmt.Sprintf("manifest group %d (holding %s)", p.id, what), Err: errGroupMismatch}
}

var errGroupMismatch = errors.New("the group's entries do not match its digest: one was replayed (an older copy), added or deleted")

// checkClass returns a *RolledBackError naming what if the group of
// subject's class failed verification at Open: a record of the class may
// have been replayed, added or deleted, so neither a value nor a "not
// found" can be trusted.
func (s *Store) checkClass(subject, class, what string) error {
	if len(s.bad) == 0 {
		return nil
	}
	if _, ok := s.bad[s.classGroup(subject, class)]; ok {
		return &RolledBackError{Record: what, Err: errGroupMismatch}
	}
	return nil
}

// checkComplete returns a *RolledBackError if any group failed at Open:
// a listing of all subjects cannot then say whether one was deleted.
func (s *Store) checkComplete(what string) error {
	if len(s.bad) == 0 {
		return nil
	}
	return &RolledBackError{Record: what, Err: fmt.Errorf("%d manifest groups failed at Open: an entry may have been deleted or added", len(s.bad))}
}

// checkSubject is checkClass for a subject's own entry.
func (s *Store) checkSubject(subject string) error {
	if len(s.bad) == 0 {
		return nil
	}
	if _, ok := s.bad[hashGroup('s', s.subjKey(subject), nil)]; ok {
		return &RolledBackError{Record: fmt.Sprintf("subject %q", subject), Err: errGroupMismatch}
	}
	return nil
}

// Damage returns what Open found wrong with the store's authenticated
// state: one *RolledBackError per manifest group whose entries do not match
// it (records in those groups are refused on reading; the rest of the store
// works). It is nil for a store in order. [Store.Check] reports the same and
// more.
func (s *Store) Damage() []error {
	s.mu.RLock()
	defer s.mu.RUnlock()
	ids := make([]int, 0, len(s.bad))
	for id := range s.bad {
		ids = append(ids, int(id))
	}
	slices.Sort(ids)
	var out []error
	for _, id := range ids {
		out = append(out, s.bad[uint16(id)].error())
	}
	return out
}

// manifestUpdate accumulates a write transaction's changes to the group
// digests.
type manifestUpdate struct {
	m     *manifestMAC
	delta map[uint16]*digest
}

func (u *manifestUpdate) change(kind byte, key, before, after []byte) {
	id := groupOf(kind, key)
	d := u.delta[id]
	if d == nil {
		d = new(digest)
		u.delta[id] = d
	}
	if before != nil {
		l := u.m.leaf(kind, key, before)
		d.xor(&l)
	}
	if after != nil {
		l := u.m.leaf(kind, key, after)
		d.xor(&l)
	}
}

// commit folds the accumulated deltas into the groups bucket and the root
// and writes the manifest with version.
func (u *manifestUpdate) commit(s *Store, tx *bolt.Tx, st manifestState, version uint64) error {
	gb := tx.Bucket(bucketGroups)
	s.staleMu.Lock()
	defer s.staleMu.Unlock()
	for id, d := range s.stale {
		// A damaged stored digest whose entries match the root: put the
		// right one back (the root already covers it).
		if err := gb.Put(groupKey(id), d[:]); err != nil {
			return err
		}
	}
	for id, d := range u.delta {
		if *d == (digest{}) {
			continue
		}
		k := groupKey(id)
		var old digest
		copy(old[:], gb.Get(k))
		nd := old
		nd.xor(d)
		lo, ln := u.m.group(id, &old), u.m.group(id, &nd)
		st.root.xor(&lo)
		st.root.xor(&ln)
		if err := gb.Put(k, nd[:]); err != nil {
			return err
		}
	}
	st.version = version
	if err := s.putManifest(tx, u.m, st); err != nil {
		return err
	}
	// If the transaction fails to commit after this, the stale digests are
	// lost from memory and the next Open finds them again.
	s.stale = nil
	return nil
}
