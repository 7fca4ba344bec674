package store

import (
	"bytes"
	"encoding/binary"
	"fmt"

	bolt "go.etcd.io/bbolt"
)

// Branch keys route lookups. bbolt finds a key by descending, at each
// branch page, into the last child whose branch key is not above it; a
// damaged branch key sends lookups for existing keys to the wrong child,
// where they are "not found", while ForEach (which follows child pointers
// in order) still sees every key, and so does the manifest. checkBranches
// closes that gap at Open: every key under child i of a branch page must
// lie in [key i, key i+1), which it checks on the smallest and largest key
// of each child's subtree.

// pageReader reads pages of the file bbolt has open.
type pageReader interface {
	page(id uint64) ([]byte, error) // the page and its overflow
	close()
}

// checkBranches checks the branch pages of tx (see above) and returns an
// ErrTruncated error naming the first one that misroutes.
func checkBranches(tx *bolt.Tx, path string, pageSize int) error {
	hwm := uint64(tx.Size() / int64(pageSize))
	r, err := openPages(path, pageSize, hwm)
	if err != nil {
		return fmt.Errorf("store: %w", err)
	}
	defer r.close()
	for id := uint64(2); id < hwm; {
		info, err := tx.Page(int(id))
		if err != nil {
			return fmt.Errorf("store: %w", err)
		}
		if info == nil {
			break
		}
		if info.Type == "branch" {
			if err := checkBranch(r, id, hwm); err != nil {
				return fmt.Errorf("%w: branch page %d: %v", ErrTruncated, id, err)
			}
		}
		if info.Type == "free" || info.OverflowCount < 0 {
			id++
		} else {
			id += 1 + uint64(info.OverflowCount)
		}
	}
	return nil
}

// elem returns element i's key (and, for a branch page, its child) of the
// page p, checking bounds.
func elem(p []byte, i int) (key []byte, child uint64, err error) {
	le := binary.LittleEndian
	flags, count := le.Uint16(p[8:]), int(le.Uint16(p[10:]))
	if i >= count || boltPageHeader+16*(i+1) > len(p) {
		return nil, 0, fmt.Errorf("element %d of %d outside the page", i, count)
	}
	e := boltPageHeader + 16*i
	var pos, ksize uint64
	switch flags {
	case pageBranch:
		pos, ksize, child = uint64(le.Uint32(p[e:])), uint64(le.Uint32(p[e+4:])), le.Uint64(p[e+8:])
	case pageLeaf:
		pos, ksize = uint64(le.Uint32(p[e+4:])), uint64(le.Uint32(p[e+8:]))
	default:
		return nil, 0, fmt.Errorf("page type %#x", flags)
	}
	if uint64(e)+pos+ksize > uint64(len(p)) {
		return nil, 0, fmt.Errorf("element %d key outside the page", i)
	}
	return p[uint64(e)+pos : uint64(e)+pos+ksize], child, nil
}

// edgeKey returns the smallest (last false) or largest (last true) key of
// the subtree rooted at page id.
func edgeKey(r pageReader, id, hwm uint64, last bool, depth int) ([]byte, error) {
	if depth > 16 {
		return nil, fmt.Errorf("tree deeper than 16")
	}
	if id < 2 || id >= hwm {
		return nil, fmt.Errorf("child page %d outside the file", id)
	}
	p, err := r.page(id)
	if err != nil {
		return nil, err
	}
	count := int(binary.LittleEndian.Uint16(p[10:]))
	if count == 0 {
		return nil, fmt.Errorf("page %d is empty", id)
	}
	i := 0
	if last {
		i = count - 1
	}
	key, child, err := elem(p, i)
	if err != nil {
		return nil, fmt.Errorf("page %d: %v", id, err)
	}
	if binary.LittleEndian.Uint16(p[8:]) == pageLeaf {
		return key, nil
	}
	return edgeKey(r, child, hwm, last, depth+1)
}

func checkBranch(r pageReader, id, hwm uint64) error {
	p, err := r.page(id)
	if err != nil {
		return err
	}
	count := int(binary.LittleEndian.Uint16(p[10:]))
	var prevKey []byte
	for i := 0; i < count; i++ {
		key, child, err := elem(p, i)
		if err != nil {
			return err
		}
		key = bytes.Clone(key) // r.page may reuse its buffer
		lo, err := edgeKey(r, child, hwm, false, 0)
		if err != nil {
			return err
		}
		if i > 0 && bytes.Compare(lo, key) < 0 {
			return fmt.Errorf("child %d starts at %q, below its branch key %q", i, lo, key)
		}
		hi, err := edgeKey(r, child, hwm, true, 0)
		if err != nil {
			return err
		}
		if i > 0 && bytes.Compare(prevKey, key) >= 0 {
			return fmt.Errorf("branch keys %d and %d out of order", i-1, i)
		}
		if i+1 < count {
			next, _, err := elem(p, i+1)
			if err != nil {
				return err
			}
			if bytes.Compare(hi, next) >= 0 {
				return fmt.Errorf("child %d ends at %q, not below the next branch key %q", i, hi, next)
			}
		}
		prevKey = key
		p, err = r.page(id) // edgeKey may have reused the buffer
		if err != nil {
			return err
		}
	}
	return nil
}
