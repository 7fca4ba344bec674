package store

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"hash"
	"sync"

	"github.com/facegate/facegate/internal/seal"
)

// Keyed names (format 3).
//
// No subject, class or record name appears in the file. Every bucket key
// is made of tags, each the first 16 bytes of HMAC-SHA256 under the
// store's name key:
//
//	subjects  S                 S = tag('s', subject)
//	keys      S ‖ C             C = tag('c', subject, class)
//	records   S ‖ C ‖ N         N = tag('n', subject, class, name)
//
// and the names themselves live only inside sealed values (see body.go).
// The name key is random, wrapped by the KEK like the transform secret
// (meta "name-key"), so RotateKEK re-wraps it and no name changes.
//
// The tags of a class and a name include the subject (and class), so two
// subjects' "face" classes, or two classes' "pin" records, never share a
// tag: a reader without the key cannot tell which class or record is
// which, nor match them across subjects. The prefix S ‖ C is kept so that a
// subject's or a class's entries stay one contiguous range (ListRecords,
// ShredClass, DeleteSubject and the manifest groups are prefix scans). What
// the prefix leaks is linkability, not identity: a keyless reader sees
// which entries belong to the same (unnamed) subject and class, so the
// number of classes and records of each subject. Fixed slots (see Shape)
// make those numbers the same for every subject that holds one.
//
// Tags are deterministic: the same subject always has the same S, so a
// reader comparing two copies of the file sees which subject's entries
// changed between them (never whose). 16 bytes keep collisions out of
// reach (2^64 names for an even chance).
const tagSize = 16

// namer computes tags under the name key. It is safe for concurrent use.
type namer struct {
	pool sync.Pool
}

func newNamer(key []byte) *namer {
	k := append([]byte(nil), key...)
	n := &namer{}
	n.pool.New = func() any { return hmac.New(sha256.New, k) }
	return n
}

func (n *namer) tag(dst []byte, kind byte, parts ...string) []byte {
	h := n.pool.Get().(hash.Hash)
	h.Reset()
	var l [binary.MaxVarintLen64]byte
	h.Write([]byte{kind})
	for _, p := range parts {
		h.Write(l[:binary.PutUvarint(l[:], uint64(len(p)))])
		h.Write([]byte(p))
	}
	var sum [sha256.Size]byte
	out := append(dst, h.Sum(sum[:0])[:tagSize]...)
	n.pool.Put(h)
	return out
}

func (s *Store) subjKey(subject string) []byte {
	return s.names.tag(make([]byte, 0, 3*tagSize), 's', subject)
}

func (s *Store) keyKey(subject, class string) []byte {
	return s.names.tag(s.subjKey(subject), 'c', subject, class)
}

func (s *Store) recKey(subject, class, name string) []byte {
	return s.names.tag(s.keyKey(subject, class), 'n', subject, class, name)
}

// Sub-keys of the name key: the HMAC key of the tags, and the key that
// seals subject entries (which hold the subjects' names).
const (
	labelTags        = "facegate/store/names/tags"
	labelSubjectSeal = "facegate/store/names/subjects"
)

func subKey(nk *seal.Key, label string) []byte {
	m := hmac.New(sha256.New, nk.Bytes())
	m.Write([]byte(label))
	return m.Sum(nil)
}

func (s *Store) nameKeyAD() []byte {
	return seal.AD(seal.KindManifest, s.hdr.storeID[:], "", "names", "")
}

// setNameKey derives the tag and subject-sealing keys from nk (which the
// caller keeps and wipes).
func (s *Store) setNameKey(nk *seal.Key) error {
	tk := subKey(nk, labelTags)
	s.names = newNamer(tk)
	seal.Zero(tk)
	sk := subKey(nk, labelSubjectSeal)
	defer seal.Zero(sk)
	k, err := seal.KeyFromBytes(sk)
	if err != nil {
		return err
	}
	s.skey = k
	return nil
}
