// Package records defines the narrow sealed-record store the gate layer
// builds on: named records grouped by subject and class, where every
// (subject, class) pair is sealed under its own data key so that one class
// can be crypto-shredded while the others survive.
//
// FaceGate's encrypted bbolt store (package store) satisfies Store; the
// in-memory recordstest.Store does too, for tests and examples.
package records

import "errors"

// Classes of records written by the gate layer. Each is sealed under its own
// data key per subject, so shredding one never touches the others.
const (
	// ClassFace holds a subject's face templates. Withdrawing face consent
	// shreds this class.
	ClassFace = "face"
	// ClassConsent holds a subject's consent records, one per purpose.
	ClassConsent = "consent"
	// ClassCredential holds a subject's card MAC, PIN hash and QR state.
	ClassCredential = "credential"
)

// ErrNotFound is matched (errors.Is) by the error a Store returns for a
// record, class or subject it does not hold.
var ErrNotFound = errors.New("records: not found")

// Store is a sealed record store. Subjects and classes are arbitrary
// non-empty strings (for example "accesslog/2026-11-24" and "key"); names
// are unique within a (subject, class) pair. Implementations are safe for
// concurrent use.
type Store interface {
	// PutRecord seals plaintext and stores it under (subject, class, name),
	// replacing any record already there.
	PutRecord(subject, class, name string, plaintext []byte) error
	// GetRecord opens the record stored under (subject, class, name). It
	// returns an error matching ErrNotFound when there is none.
	GetRecord(subject, class, name string) ([]byte, error)
	// DeleteRecord removes one record. Deleting a missing record is not an
	// error.
	DeleteRecord(subject, class, name string) error
	// ListRecords returns the names of the records of (subject, class) in
	// ascending order; none is not an error.
	ListRecords(subject, class string) ([]string, error)
	// ShredClass destroys the data key of (subject, class) and deletes its
	// records: anything sealed under that key that lingers on disk can no
	// longer be opened. The subject's other classes are untouched.
	ShredClass(subject, class string) error
	// DeleteSubject crypto-shreds every class of subject.
	DeleteSubject(subject string) error
}
