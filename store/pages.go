package store

import (
	"encoding/binary"
	"fmt"
	"os"

	bolt "go.etcd.io/bbolt"
)

// bbolt page layout (see file.go): a 16-byte header (id uint64, flags
// uint16, count uint16, overflow uint32), then count 16-byte elements. A
// leaf element is flags, pos, ksize, vsize (uint32 each), its key and value
// at pos bytes from the element; a branch element is pos, ksize (uint32)
// and a child pgid (uint64). A leaf element with flag 1 is a bucket whose
// value starts with its root pgid and sequence; root 0 means the bucket's
// page is inline in the value.
const (
	pageBranch   = 0x01
	pageLeaf     = 0x02
	pageMeta     = 0x04
	pageFreelist = 0x10
	leafBucket   = 0x01
)

// scanPages checks that every allocated page of tx has a known type, an
// overflow inside the file, and elements, keys, values, child pages and
// inline buckets inside their page, so that bbolt can walk the file without
// reading out of bounds. It reports the first damaged page.
func scanPages(tx *bolt.Tx, path string, pageSize int) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("store: check: %w", err)
	}
	defer f.Close()
	hwm := int(tx.Size() / int64(pageSize))
	for id := 2; id < hwm; {
		info, err := tx.Page(id)
		if err != nil {
			return fmt.Errorf("store: check: %w", err)
		}
		if info == nil {
			break
		}
		if info.Type == "free" {
			id++
			continue
		}
		n := 1 + info.OverflowCount
		if info.OverflowCount < 0 || id+n > hwm {
			return fmt.Errorf("%w: page %d: overflow %d beyond the end (%d pages)", ErrTruncated, id, info.OverflowCount, hwm)
		}
		buf := make([]byte, n*pageSize)
		if _, err := f.ReadAt(buf, int64(id)*int64(pageSize)); err != nil {
			return fmt.Errorf("%w: page %d: %v", ErrTruncated, id, err)
		}
		if got := binary.LittleEndian.Uint64(buf); got != uint64(id) {
			return fmt.Errorf("%w: page %d: header says page %d", ErrTruncated, id, got)
		}
		if err := checkPage(buf, hwm, 0); err != nil {
			return fmt.Errorf("%w: page %d: %v", ErrTruncated, id, err)
		}
		id += n
	}
	return nil
}

// checkPage checks one page (or an inline bucket page) held in buf.
func checkPage(buf []byte, hwm, depth int) error {
	if len(buf) < boltPageHeader {
		return fmt.Errorf("page shorter than its header")
	}
	le := binary.LittleEndian
	flags, count := le.Uint16(buf[8:]), int(le.Uint16(buf[10:]))
	switch flags {
	case pageMeta, pageFreelist:
		return nil
	case pageBranch, pageLeaf:
	default:
		return fmt.Errorf("unknown page type %#x", flags)
	}
	if boltPageHeader+16*count > len(buf) {
		return fmt.Errorf("%d elements do not fit in %d bytes", count, len(buf))
	}
	for i := 0; i < count; i++ {
		e := boltPageHeader + 16*i
		if flags == pageBranch {
			pos, ksize, child := int(le.Uint32(buf[e:])), int(le.Uint32(buf[e+4:])), le.Uint64(buf[e+8:])
			if e+pos+ksize > len(buf) || pos < 0 {
				return fmt.Errorf("branch element %d key outside the page", i)
			}
			if child < 2 || child >= uint64(hwm) {
				return fmt.Errorf("branch element %d points to page %d (of %d)", i, child, hwm)
			}
			continue
		}
		eflags := le.Uint32(buf[e:])
		pos, ksize, vsize := uint64(le.Uint32(buf[e+4:])), uint64(le.Uint32(buf[e+8:])), uint64(le.Uint32(buf[e+12:]))
		if uint64(e)+pos+ksize+vsize > uint64(len(buf)) {
			return fmt.Errorf("leaf element %d key or value outside the page", i)
		}
		if eflags&leafBucket == 0 {
			continue
		}
		v := buf[uint64(e)+pos+ksize : uint64(e)+pos+ksize+vsize]
		if len(v) < 16 {
			return fmt.Errorf("leaf element %d: bucket header of %d bytes", i, len(v))
		}
		root := le.Uint64(v)
		if root == 0 {
			if depth > 8 {
				return fmt.Errorf("inline buckets nested too deep")
			}
			if err := checkPage(v[16:], hwm, depth+1); err != nil {
				return fmt.Errorf("inline bucket in leaf element %d: %v", i, err)
			}
		} else if root < 2 || root >= uint64(hwm) {
			return fmt.Errorf("leaf element %d: bucket root page %d (of %d)", i, root, hwm)
		}
	}
	return nil
}
