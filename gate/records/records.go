// Package records defines the sealed-record store the gate layer builds on:
// named records grouped by subject and class, where every (subject, class)
// pair is sealed under its own data key so that one class can be
// crypto-shredded while the others survive, plus the subject's protected
// face templates in the reserved class ClassFace.
//
// FaceGate's encrypted bbolt store (*store.Store) satisfies Store, and the
// in-memory recordstest.Store does too, with the same errors, for fast
// tests and examples.
package records

import (
	"errors"

	"github.com/facegate/facegate/store"
	"github.com/facegate/facegate/template"
)

// Classes of records written by the gate layer. Each is sealed under its own
// data key per subject, so shredding one never touches the others.
const (
	// ClassFace holds a subject's face templates (store.ClassFace). Generic
	// record calls refuse it; withdrawing face consent shreds it.
	ClassFace = store.ClassFace
	// ClassConsent holds a subject's consent records, one per purpose.
	ClassConsent = "consent"
	// ClassCredential holds a subject's card MAC and PIN hash.
	ClassCredential = "credential"
)

// Sealed is the generic record part of a store. Subjects, classes and names
// are non-empty strings of at most store.MaxNameLen bytes (for example
// "accesslog/2026-11-24", "key", "period"). Implementations are safe for
// concurrent use.
type Sealed interface {
	// PutRecord seals plaintext and stores it under (subject, class, name),
	// replacing any record there and creating the subject and the class's
	// data key on first use.
	PutRecord(subject, class, name string, plaintext []byte) error
	// GetRecord opens the record (subject, class, name). A missing subject
	// gives store.ErrUnknownSubject, a missing class or record
	// store.ErrNotFound (see NotFound).
	GetRecord(subject, class, name string) ([]byte, error)
	// DeleteRecord removes one record; missing ones give the errors of
	// GetRecord.
	DeleteRecord(subject, class, name string) error
	// ListRecords returns the names of the records of (subject, class) in
	// byte order; a missing subject gives store.ErrUnknownSubject.
	ListRecords(subject, class string) ([]string, error)
	// ShredClass destroys the data key of (subject, class) and its records:
	// anything sealed under that key that lingers on disk no longer opens.
	// The subject's other classes are untouched.
	ShredClass(subject, class string) error
	// DeleteSubject crypto-shreds every class of subject.
	DeleteSubject(subject string) error
}

// Store is a Sealed store that also holds protected face templates.
type Store interface {
	Sealed
	// AddTemplate seals a protected template under subject's face key.
	AddTemplate(subject string, t template.Template) (uint64, error)
	// Templates returns subject's templates in ID order.
	Templates(subject string) ([]store.Entry, error)
	// Transform returns the store's current revocable transform for a
	// model and dimension.
	Transform(modelID string, dim int) (*template.Transform, error)
}

var _ Store = (*store.Store)(nil)

// NotFound reports whether err says a subject, class or record does not
// exist (store.ErrUnknownSubject or store.ErrNotFound).
func NotFound(err error) bool {
	return errors.Is(err, store.ErrNotFound) || errors.Is(err, store.ErrUnknownSubject)
}
