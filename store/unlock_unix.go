//go:build !windows && !plan9 && !solaris && !aix && !android

package store

import (
	"encoding/binary"
	"fmt"
	"os"
	"syscall"
)

// releaseLock drops the flock bbolt took on f. Closing f alone is not
// enough when bbolt panicked after mapping the file: the mapping keeps the
// open file description, and with it the lock, alive.
func releaseLock(f *os.File) {
	syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
}

// mmapPages reads pages through a read-only mapping of the file: checking
// branch keys touches a few bytes of many pages.
type mmapPages struct {
	data     []byte
	pageSize int
}

func openPages(path string, pageSize int, hwm uint64) (pageReader, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	size := int(hwm) * pageSize
	data, err := syscall.Mmap(int(f.Fd()), 0, size, syscall.PROT_READ, syscall.MAP_SHARED)
	if err != nil {
		return nil, err
	}
	return &mmapPages{data: data, pageSize: pageSize}, nil
}

func (m *mmapPages) page(id uint64) ([]byte, error) {
	start := id * uint64(m.pageSize)
	if start+boltPageHeader > uint64(len(m.data)) {
		return nil, fmt.Errorf("page %d outside the file", id)
	}
	overflow := uint64(binary.LittleEndian.Uint32(m.data[start+12:]))
	end := start + (overflow+1)*uint64(m.pageSize)
	if end > uint64(len(m.data)) || end < start {
		return nil, fmt.Errorf("page %d: overflow %d beyond the file", id, overflow)
	}
	return m.data[start:end], nil
}

func (m *mmapPages) close() { syscall.Munmap(m.data) }
