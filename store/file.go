package store

import (
	"encoding/binary"
	"fmt"
	"hash/fnv"
	"io"
	"os"
)

// bbolt's on-disk meta page (format version 2), read here without bbolt so
// that a foreign or truncated file is rejected before bbolt maps or writes
// it. A page starts with a 16-byte header (id, flags, count, overflow); the
// meta follows: magic, version, page size, flags (uint32 each), root bucket
// (pgid, sequence), freelist pgid, high-water pgid, txid, checksum (uint64
// each), in the machine's byte order (little-endian on every platform
// FaceGate targets). The checksum is FNV-64a of the 56 bytes before it.
const (
	boltMagic      = 0xED0CDAED
	boltVersion    = 2
	boltPageHeader = 16
	boltMetaSize   = 64
)

type boltMeta struct {
	pageSize uint32
	freelist uint64
	pgid     uint64
	txid     uint64
}

func parseBoltMeta(b []byte) (boltMeta, bool) {
	if len(b) < boltPageHeader+boltMetaSize {
		return boltMeta{}, false
	}
	m := b[boltPageHeader : boltPageHeader+boltMetaSize]
	le := binary.LittleEndian
	if le.Uint32(m[0:]) != boltMagic || le.Uint32(m[4:]) != boltVersion {
		return boltMeta{}, false
	}
	h := fnv.New64a()
	h.Write(m[:56])
	if h.Sum64() != le.Uint64(m[56:]) {
		return boltMeta{}, false
	}
	return boltMeta{pageSize: le.Uint32(m[8:]), freelist: le.Uint64(m[32:]), pgid: le.Uint64(m[40:]), txid: le.Uint64(m[48:])}, true
}

// checkFile validates the bbolt layer of an existing file without writing:
// it must start with a valid bbolt meta page and be at least as long as its
// newest valid meta page says.
//
// bbolt keeps two meta pages and writes transaction t's to page t%2; when
// the newest fails its checksum, bbolt silently opens the transaction
// before it — an acknowledged write lost without a word. checkFile
// refuses that (a *RolledBackError naming the meta page) unless the
// damaged page provably held the older transaction, or allowFallback is
// set (after a crash during a commit, when the lost transaction was never
// acknowledged).
func checkFile(path string, allowFallback bool) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("store: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return fmt.Errorf("store: %w", err)
	}
	if !fi.Mode().IsRegular() {
		return fmt.Errorf("%w: %s is not a regular file", ErrNotStore, path)
	}
	size := fi.Size()
	if size == 0 {
		return fmt.Errorf("%w: %s is empty", ErrNotStore, path)
	}
	buf := make([]byte, boltPageHeader+boltMetaSize)
	n, err := f.ReadAt(buf, 0)
	if err != nil && err != io.EOF {
		return fmt.Errorf("store: reading %s: %w", path, err)
	}
	if n < 20 || binary.LittleEndian.Uint32(buf[16:]) != boltMagic {
		return fmt.Errorf("%w: %s has no bbolt signature", ErrNotStore, path)
	}
	m0, ok0 := parseBoltMeta(buf[:n])
	ps := int64(4096)
	if ok0 {
		ps = int64(m0.pageSize)
	}
	if ps < 512 || ps > 1<<20 || ps&(ps-1) != 0 {
		return fmt.Errorf("%w: %s: page size %d", ErrTruncated, path, ps)
	}
	buf1 := make([]byte, boltPageHeader+boltMetaSize)
	n1, err := f.ReadAt(buf1, ps)
	if err != nil && err != io.EOF {
		return fmt.Errorf("store: reading %s: %w", path, err)
	}
	m1, ok1 := parseBoltMeta(buf1[:n1])
	if ok1 && int64(m1.pageSize) != ps {
		ok1 = false
	}
	var m boltMeta
	switch {
	case ok0 && ok1:
		m = m0
		if m1.txid > m0.txid {
			m = m1
		}
	case ok0:
		m = m0
		if err := metaFallback(buf1[:n1], m, 1, allowFallback); err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
	case ok1:
		m = m1
		if err := metaFallback(buf[:n], m, 0, allowFallback); err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
	default:
		return fmt.Errorf("%w: %s: both bbolt meta pages are invalid", ErrTruncated, path)
	}
	if m.pgid < 4 || m.freelist < 2 || (m.freelist >= m.pgid && m.freelist != ^uint64(0)) {
		return fmt.Errorf("%w: %s: bbolt meta out of range", ErrTruncated, path)
	}
	if need := int64(m.pgid) * ps; size < need || need/ps != int64(m.pgid) {
		return fmt.Errorf("%w: %s is %d bytes, its metadata needs %d", ErrTruncated, path, size, need)
	}
	if m.freelist != ^uint64(0) {
		if err := checkFreelist(f, m, ps); err != nil {
			return fmt.Errorf("%w: %s: freelist page %d: %v", ErrTruncated, path, m.freelist, err)
		}
	}
	return nil
}

// checkFreelist bounds the freelist page bbolt reads when it opens the
// file: a damaged element count makes bbolt allocate (and walk) as many
// page IDs as it says — up to 2^64 when the count overflows into the first
// element — which kills the process with an out-of-memory error no recover
// can catch. The page must be a freelist whose IDs fit in the page and its
// overflow, and whose overflow stays below the high-water mark.
func checkFreelist(f *os.File, m boltMeta, ps int64) error {
	hdr := make([]byte, boltPageHeader+8)
	if _, err := f.ReadAt(hdr, int64(m.freelist)*ps); err != nil {
		return err
	}
	le := binary.LittleEndian
	flags, count, overflow := le.Uint16(hdr[8:]), uint64(le.Uint16(hdr[10:])), uint64(le.Uint32(hdr[12:]))
	if flags != pageFreelist {
		return fmt.Errorf("type %#x, want a freelist", flags)
	}
	if m.freelist+overflow >= m.pgid {
		return fmt.Errorf("overflow %d beyond the high-water mark %d", overflow, m.pgid)
	}
	room := (uint64(overflow)+1)*uint64(ps) - boltPageHeader
	if count == 0xffff { // the real count is the first element
		count = le.Uint64(hdr[boltPageHeader:])
		room -= 8
	}
	if count > room/8 {
		return fmt.Errorf("%d free page IDs do not fit in %d bytes", count, room)
	}
	return nil
}

// metaFallback decides whether bbolt may open valid, the only meta page
// that passes its checksum, when page bad fails it: only if bad held the
// transaction before valid's (its raw txid says valid.txid-1 and it sits
// on that transaction's page), or if allowFallback.
func metaFallback(bad []byte, valid boltMeta, page int, allowFallback bool) error {
	if len(bad) < boltPageHeader+boltMetaSize {
		return fmt.Errorf("%w: bbolt meta page %d is cut off", ErrTruncated, page)
	}
	if allowFallback {
		return nil
	}
	if valid.txid > 0 {
		txid := binary.LittleEndian.Uint64(bad[boltPageHeader+48:])
		if txid+1 == valid.txid && int(txid%2) == page {
			return nil
		}
	}
	return &RolledBackError{Record: fmt.Sprintf("bbolt meta page %d", page), Err: fmt.Errorf("it fails its checksum and may have held the newest transaction (after %d); opening would silently fall back to the one before it. After a crash during a commit, open with Options.AllowMetaFallback", valid.txid)}
}
