package store

import (
	"bytes"
	"encoding/binary"
	"fmt"

	bolt "go.etcd.io/bbolt"
)

// rawWalk calls fn for every key and value of the bucket whose root page
// is root, in key order, reading the pages straight from the file rather
// than through bbolt's cursors: verifying the manifest at Open reads every
// entry once, and this costs a fraction of a cursor walk (no node or
// page-check work per element), and can run beside another walk. It also
// checks what bbolt's lookups rely on and a cursor walk cannot see: that
// every key under child i of a branch page lies in [key i, key i+1) (a
// damaged branch key would make existing records "not found") and that
// keys increase (bbolt finds them by binary search).
func rawWalk(r pageReader, hwm, root uint64, fn func(k, v []byte)) error {
	w := walker{r: r, hwm: hwm, fn: fn}
	return w.walk(root, nil, nil, 0)
}

// walkInline walks an inline bucket (no page of its own, so small) with
// bbolt, checking that its keys increase.
func walkInline(tx *bolt.Tx, name []byte, fn func(k, v []byte)) error {
	var prev []byte
	return tx.Bucket(name).ForEach(func(k, v []byte) error {
		if prev != nil && bytes.Compare(prev, k) >= 0 {
			return fmt.Errorf("%w: bucket %s: key %q follows %q", ErrTruncated, name, k, prev)
		}
		prev = k
		fn(k, v)
		return nil
	})
}

type walker struct {
	r    pageReader
	hwm  uint64
	fn   func(k, v []byte)
	prev []byte
	seen bool
}

// walk visits the subtree at page id, whose keys must lie in [lo, hi)
// (nil: unbounded).
func (w *walker) walk(id uint64, lo, hi []byte, depth int) error {
	if depth > 16 {
		return fmt.Errorf("tree deeper than 16 levels")
	}
	if id < 2 || id >= w.hwm {
		return fmt.Errorf("page %d outside the file (%d pages)", id, w.hwm)
	}
	p, err := w.r.page(id)
	if err != nil {
		return err
	}
	if got := binary.LittleEndian.Uint64(p); got != id {
		return fmt.Errorf("page %d: header says page %d", id, got)
	}
	le := binary.LittleEndian
	flags, count := le.Uint16(p[8:]), int(le.Uint16(p[10:]))
	if boltPageHeader+16*count > len(p) {
		return fmt.Errorf("page %d: %d elements do not fit", id, count)
	}
	switch flags {
	case pageBranch:
		// Read the keys and children first: a recursive read may reuse
		// the reader's buffer.
		keys, children := make([][]byte, count), make([]uint64, count)
		for i := range count {
			k, c, err := elem(p, i)
			if err != nil {
				return fmt.Errorf("page %d: %v", id, err)
			}
			keys[i], children[i] = bytes.Clone(k), c
		}
		for i := range count {
			clo, chi := lo, hi
			if i > 0 {
				clo = keys[i]
				if bytes.Compare(keys[i-1], keys[i]) >= 0 {
					return fmt.Errorf("page %d: branch keys %d and %d out of order", id, i-1, i)
				}
			}
			if i+1 < count {
				chi = keys[i+1]
			}
			if err := w.walk(children[i], clo, chi, depth+1); err != nil {
				return err
			}
		}
		return nil
	case pageLeaf:
		for i := range count {
			e := boltPageHeader + 16*i
			eflags := le.Uint32(p[e:])
			pos, ksize, vsize := uint64(le.Uint32(p[e+4:])), uint64(le.Uint32(p[e+8:])), uint64(le.Uint32(p[e+12:]))
			if uint64(e)+pos+ksize+vsize > uint64(len(p)) {
				return fmt.Errorf("page %d: element %d outside the page", id, i)
			}
			if eflags&leafBucket != 0 {
				return fmt.Errorf("page %d: element %d is a nested bucket", id, i)
			}
			k := p[uint64(e)+pos : uint64(e)+pos+ksize]
			v := p[uint64(e)+pos+ksize : uint64(e)+pos+ksize+vsize]
			if lo != nil && bytes.Compare(k, lo) < 0 || hi != nil && bytes.Compare(k, hi) >= 0 {
				return fmt.Errorf("page %d: key %q outside its branch range [%q, %q): a lookup would not find it", id, k, lo, hi)
			}
			if w.seen && bytes.Compare(w.prev, k) >= 0 {
				return fmt.Errorf("page %d: key %q follows %q", id, k, w.prev)
			}
			w.prev, w.seen = append(w.prev[:0], k...), true
			w.fn(k, v)
		}
		return nil
	}
	return fmt.Errorf("page %d: type %#x where a branch or leaf page belongs", id, flags)
}
