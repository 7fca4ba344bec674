//go:build windows || plan9 || solaris || aix || android

package store

import (
	"encoding/binary"
	"fmt"
	"os"
)

// releaseLock is a no-op where bbolt does not lock with flock.
func releaseLock(*os.File) {}

// filePages reads pages with ReadAt where the file is not mapped.
type filePages struct {
	f        *os.File
	pageSize int
	buf      []byte
}

func openPages(path string, pageSize int, _ uint64) (pageReader, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	return &filePages{f: f, pageSize: pageSize}, nil
}

func (r *filePages) page(id uint64) ([]byte, error) {
	hdr := make([]byte, boltPageHeader)
	if _, err := r.f.ReadAt(hdr, int64(id)*int64(r.pageSize)); err != nil {
		return nil, err
	}
	n := (int(binary.LittleEndian.Uint32(hdr[12:])) + 1) * r.pageSize
	if n <= 0 || n > 1<<30 {
		return nil, fmt.Errorf("page %d: overflow beyond the file", id)
	}
	b := make([]byte, n)
	if _, err := r.f.ReadAt(b, int64(id)*int64(r.pageSize)); err != nil {
		return nil, err
	}
	return b, nil
}

func (r *filePages) close() { r.f.Close() }
