package store

import (
	"encoding/binary"
	"fmt"
)

// pageReader reads pages of the file bbolt has open.
type pageReader interface {
	page(id uint64) ([]byte, error) // the page and its overflow
	close()
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
