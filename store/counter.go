package store

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
)

// Counter is a monotonic counter kept outside the store file, against
// whole-file rollback. The manifest (see manifest.go) catches any record
// replayed, added or deleted inside a file, but a complete older copy of
// the file — a restored backup, a disk image taken last month — is
// consistent in itself: without something outside the file that remembers
// how far the store got, putting it back undoes every withdrawal, erasure
// and PIN lockout since the copy was made.
//
// With Options.Counter set, every committed write transaction advances the
// counter to the transaction's version, and Open refuses (ErrRolledBack) a
// file whose version is below the counter. A crash between the commit and
// the advance leaves the file ahead of the counter, which Open accepts and
// the next write repairs; the counter is never ahead of a file the store
// wrote.
//
// What a Counter protects against depends on where it lives:
//
//   - a TPM NV counter or a secure element: the counter survives any
//     change to the disk, so restoring the file, the partition or the whole
//     disk is caught; only someone who can also reset the chip can roll
//     back. Hardware counters wear: check the part's write endurance
//     against the number of writes a day (every access event is a write).
//   - in a compound, the sequence of the sync stream (NATS JetStream): a
//     gate that rejoins with a file older than the stream's last sequence
//     for it is caught, as long as the stream is not rolled back too.
//   - FileCounter, a file beside the store: it catches a store file put
//     back on its own (an operator restoring "the database"), but not a
//     restore of the directory or disk holding both. It is for tests and
//     for that one mistake, not for an attacker.
//
// Without a Counter, a restored backup silently undoes withdrawals: the
// README says so.
type Counter interface {
	// Read returns the counter's value (0 for a new counter).
	Read() (uint64, error)
	// Advance raises the counter to v, durably, before returning; a v
	// below the current value leaves it unchanged.
	Advance(v uint64) error
}

// FileCounter is a Counter kept in a small file (8 bytes, big-endian),
// replaced atomically (write, fsync, rename, fsync of the directory) on
// every advance. See Counter for what it does and does not protect
// against. It is safe for concurrent use within one process.
type FileCounter struct {
	path string
	mu   sync.Mutex
}

// NewFileCounter returns the counter kept at path; the file is created by
// the first Advance.
func NewFileCounter(path string) *FileCounter { return &FileCounter{path: path} }

// Read implements Counter.
func (c *FileCounter) Read() (uint64, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.read()
}

func (c *FileCounter) read() (uint64, error) {
	b, err := os.ReadFile(c.path)
	if errors.Is(err, os.ErrNotExist) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("store: counter: %w", err)
	}
	if len(b) != 8 {
		return 0, fmt.Errorf("store: counter %s is %d bytes, want 8", c.path, len(b))
	}
	return binary.BigEndian.Uint64(b), nil
}

// Advance implements Counter.
func (c *FileCounter) Advance(v uint64) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	cur, err := c.read()
	if err != nil {
		return err
	}
	if v <= cur {
		return nil
	}
	tmp := c.path + ".tmp"
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return fmt.Errorf("store: counter: %w", err)
	}
	_, err = f.Write(binary.BigEndian.AppendUint64(nil, v))
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, c.path)
	}
	if err != nil {
		os.Remove(tmp)
		return fmt.Errorf("store: counter: %w", err)
	}
	if d, err := os.Open(filepath.Dir(c.path)); err == nil {
		d.Sync()
		d.Close()
	}
	return nil
}

// checkCounter refuses a file older than the counter.
func (s *Store) checkCounter(version uint64) error {
	if s.counter == nil {
		return nil
	}
	c, err := s.counter.Read()
	if err != nil {
		return err
	}
	if version < c {
		return &RolledBackError{Record: "store file", Err: fmt.Errorf("the file is at version %d but the counter outside it says %d: an older copy of the whole file was put back", version, c)}
	}
	return nil
}

// advanceCounter records a committed version.
func (s *Store) advanceCounter(version uint64) error {
	if s.counter == nil {
		return nil
	}
	if err := s.counter.Advance(version); err != nil {
		return fmt.Errorf("store: committed version %d but could not advance the rollback counter (the next write retries): %w", version, err)
	}
	return nil
}
