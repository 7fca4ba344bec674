package store

import (
	"errors"
	"fmt"

	"github.com/facegate/facegate/gate/records"
)

// Errors returned by the store; test with errors.Is. Errors are wrapped with
// the path, subject, class or record they concern.
var (
	// ErrWrongKey reports a passphrase or key that does not unlock the store.
	ErrWrongKey = errors.New("store: wrong passphrase or key")
	// ErrTampered reports a record, wrapped key or header that failed
	// authentication although the key is right. The error is a
	// *TamperedError naming the record.
	ErrTampered = errors.New("store: record failed authentication (modified)")
	// ErrRolledBack reports authentic data that is not the store's current
	// state: an older sealed copy of a record put back in its place, a
	// record deleted or added behind the store's back (the manifest does not
	// cover it), or — through a Counter — a whole file older than the last
	// one written. The error is a *RolledBackError naming what failed.
	ErrRolledBack = errors.New("store: record replayed, added or deleted (state rolled back)")
	// ErrNotStore reports a file that is not a FaceGate store (empty, another
	// format, or a bbolt file without a FaceGate header). The file is left
	// untouched.
	ErrNotStore = errors.New("store: not a FaceGate store")
	// ErrTruncated reports a store file shorter than its own metadata says,
	// or whose bbolt metadata is damaged. The file is left untouched.
	ErrTruncated = fmt.Errorf("store: file truncated or damaged%w", damaged{})
	// ErrHeaderTampered reports a store header whose key-derivation
	// parameters are outside what Create writes (see MaxKDF): it was
	// forged or damaged. Open returns it before deriving any key.
	ErrHeaderTampered = fmt.Errorf("store: header tampered (Argon2id parameters outside what the store writes)%w", damaged{})
	// ErrVersion reports a store format version this build cannot read.
	// Stores of format 1 (before the manifest) and 2 (names in the clear)
	// are refused with it, not migrated: a format-1 file carries nothing
	// that proves it was not rolled back, so there is no state to migrate
	// from that could be trusted, and a format-2 file has already shown
	// its names to whoever copied it. Export the subjects with the release
	// that wrote the file and re-enroll them into a new store.
	ErrVersion = errors.New("store: unsupported store format version")
	// ErrExists reports Create on a path that already exists.
	ErrExists = errors.New("store: file already exists")
	// ErrClosed reports use of a closed Store.
	ErrClosed = errors.New("store: closed")
	// ErrUnknownSubject is records.ErrUnknownSubject (see package records).
	ErrUnknownSubject = records.ErrUnknownSubject
	// ErrNotFound is records.ErrNotFound (see package records).
	ErrNotFound = records.ErrNotFound
	// ErrInvalidName is records.ErrInvalidName (see package records).
	ErrInvalidName = records.ErrInvalidName
	// ErrReservedClass is records.ErrReservedClass (see package records).
	ErrReservedClass = records.ErrReservedClass
	// ErrReadOnly reports a write to a store opened read-only (see
	// Options.ReadOnly). Nothing was written.
	ErrReadOnly = records.ErrReadOnly
	// ErrLocked reports a store file held open by another process.
	ErrLocked = errors.New("store: file is locked by another process")
)

// TamperedError reports a record that failed authentication although the
// store key is right. errors.Is(err, ErrTampered) is true.
type TamperedError struct {
	// Record names what failed, e.g. `record "alice"/"face"/"0000000000000001"`
	// or `data key "alice"/"consent"`.
	Record string
	// Err is the underlying cause (a failed authentication or a malformed value).
	Err error
}

// Error describes the tampered record.
func (e *TamperedError) Error() string {
	return fmt.Sprintf("store: %s failed authentication (modified or moved): %v", e.Record, e.Err)
}

// Is reports whether target is ErrTampered or records.ErrDamaged.
func (e *TamperedError) Is(target error) bool {
	return target == ErrTampered || target == records.ErrDamaged
}

// Unwrap returns the underlying cause.
func (e *TamperedError) Unwrap() error { return e.Err }

// RolledBackError reports a record (or the whole store) whose sealed value
// is authentic but not current: replayed, added or deleted behind the
// store's back. errors.Is(err, ErrRolledBack) is true.
type RolledBackError struct {
	// Record names what failed, e.g. `record "alice"/"credential"/"pin"`,
	// `manifest group 17 (holding …)` or `store manifest`.
	Record string
	// Err says what was found.
	Err error
}

// Error describes the rolled-back record.
func (e *RolledBackError) Error() string {
	return fmt.Sprintf("store: %s is not the current state (replayed, added or deleted): %v", e.Record, e.Err)
}

// Is reports whether target is ErrRolledBack or records.ErrDamaged.
func (e *RolledBackError) Is(target error) bool {
	return target == ErrRolledBack || target == records.ErrDamaged
}

// Unwrap returns the underlying cause.
func (e *RolledBackError) Unwrap() error { return e.Err }

// damaged lets ErrTruncated match records.ErrDamaged without changing its
// message.
type damaged struct{}

func (damaged) Error() string        { return "" }
func (damaged) Is(target error) bool { return target == records.ErrDamaged }
