// Package records defines the sealed-record store the gate layer builds on:
// named records grouped by subject and class, where every (subject, class)
// pair is sealed under its own data key so that one class can be
// crypto-shredded while the others survive, plus the subject's protected
// face templates in the reserved class ClassFace.
//
// The package holds only the contract — interfaces, the template entry
// type and the errors every implementation returns — and imports none of
// them. FaceGate's encrypted bbolt store (*store.Store) satisfies Store,
// and the in-memory recordstest.Store does too, with the same errors, for
// fast tests and examples.
package records

import (
	"errors"

	"github.com/facegate/facegate/template"
)

// ClassFace is the class holding a subject's face templates. Generic
// record calls refuse it (ErrReservedClass); withdrawing face consent
// shreds it.
const ClassFace = "face"

// Classes of records written by the gate layer. Each is sealed under its own
// data key per subject, so shredding one never touches the others.
const (
	// ClassConsent holds a subject's consent records, one per purpose.
	ClassConsent = "consent"
	// ClassCredential holds a subject's card MAC and PIN hash.
	ClassCredential = "credential"
)

// MaxNameLen is the longest subject, class or record name, in bytes.
const MaxNameLen = 255

// Errors every implementation returns (wrapped with the names concerned);
// test with errors.Is.
var (
	// ErrUnknownSubject reports a subject with no data in the store.
	ErrUnknownSubject = errors.New("store: unknown subject")
	// ErrNotFound reports a missing record or template, or a class with no
	// key for the subject.
	ErrNotFound = errors.New("store: not found")
	// ErrInvalidName reports an empty or oversized subject, class or record
	// name.
	ErrInvalidName = errors.New("store: invalid name")
	// ErrReservedClass reports generic record access to ClassFace, which
	// holds templates only.
	ErrReservedClass = errors.New("store: class is reserved for templates")
	// ErrDamaged is matched (errors.Is) by every error an implementation
	// returns for a record it cannot trust: modified, replayed, added or
	// deleted behind its back, or on a damaged page. The gate skips such a
	// subject (and reports it) instead of refusing everyone.
	ErrDamaged = errors.New("records: record damaged or tampered with")
	// ErrReadOnly reports a write to a store opened read-only. Nothing was
	// written.
	ErrReadOnly = errors.New("store: opened read-only")
)

// Entry is one stored template with its owner and ID.
type Entry struct {
	// Subject is the template's owner.
	Subject string
	// ID identifies the template within its subject.
	ID uint64
	// Template is the protected template.
	Template template.Template
}

// Reader reads records. Subjects, classes and names are non-empty strings
// of at most MaxNameLen bytes (for example "accesslog/2026-11-24", "key",
// "period").
type Reader interface {
	// GetRecord opens the record (subject, class, name). A missing subject
	// gives ErrUnknownSubject, a missing class or record ErrNotFound (see
	// NotFound).
	GetRecord(subject, class, name string) ([]byte, error)
	// ListRecords returns the names of the records of (subject, class) in
	// byte order; a missing subject gives ErrUnknownSubject.
	ListRecords(subject, class string) ([]string, error)
}

// Writer changes records.
type Writer interface {
	// PutRecord seals plaintext and stores it under (subject, class, name),
	// replacing any record there and creating the subject and the class's
	// data key on first use.
	PutRecord(subject, class, name string, plaintext []byte) error
	// DeleteRecord removes one record; missing ones give the errors of
	// GetRecord.
	DeleteRecord(subject, class, name string) error
	// ShredClass destroys the data key of (subject, class) and its records:
	// anything sealed under that key that lingers on disk no longer opens.
	// The subject's other classes are untouched.
	ShredClass(subject, class string) error
	// DeleteSubject crypto-shreds every class of subject.
	DeleteSubject(subject string) error
}

// Sealed is the generic record part of a store. Implementations are safe
// for concurrent use; each call is one transaction.
type Sealed interface {
	Reader
	Writer
}

// Batch is one transaction of a Store: its reads see its own writes, and
// its writes commit together when the function given to Store.Update
// returns nil, or not at all. A Batch must not be used after that function
// returns, nor from other goroutines.
type Batch interface {
	Reader
	Writer
	// AddTemplate seals a protected template under subject's face key.
	AddTemplate(subject string, t template.Template) (uint64, error)
	// Templates returns subject's templates in ID order.
	Templates(subject string) ([]Entry, error)
}

// Store is a Sealed store that also holds protected face templates.
type Store interface {
	Sealed
	// AddTemplate seals a protected template under subject's face key.
	AddTemplate(subject string, t template.Template) (uint64, error)
	// Templates returns subject's templates in ID order.
	Templates(subject string) ([]Entry, error)
	// Transform returns the store's current revocable transform for a
	// model and dimension.
	Transform(modelID string, dim int) (*template.Transform, error)
	// Update runs fn in one transaction: every write fn makes through the
	// Batch commits together (with one fsync for the bbolt store) if fn
	// returns nil, and none does otherwise. A crash leaves all or nothing.
	Update(fn func(Batch) error) error
}

// NotFound reports whether err says a subject, class or record does not
// exist (ErrUnknownSubject or ErrNotFound).
func NotFound(err error) bool {
	return errors.Is(err, ErrNotFound) || errors.Is(err, ErrUnknownSubject)
}

// Shape is the fixed set of records a store keeps for every subject it
// covers, so that a reader of the raw file without the key sees the same
// entries, in the same size classes, for every such subject whatever it
// holds: a record of the shape that is absent is kept as an empty slot of
// the same size (GetRecord gives ErrNotFound, ListRecords leaves it out),
// and a subject's face templates occupy FaceSlots fixed slots, an empty
// one sealing to the size of a template.
type Shape struct {
	// Covers reports whether a subject gets the shape.
	Covers func(subject string) bool
	// Records lists, per class, the record names every covered subject
	// holds (as empty slots until written).
	Records map[string][]string
	// FaceSlots is how many face template slots every covered subject
	// holds; more templates are stored beside them (and show).
	FaceSlots int
	// TemplateSize is the encoded size of one template
	// (template.EncodedSize of the gate's model), so that an empty face
	// slot pads to a template's size class.
	TemplateSize int
}

// Shaper is implemented by stores that keep a Shape (the bbolt store
// does; recordstest does not need to). The gate sets its shape when it
// starts.
type Shaper interface {
	SetShape(Shape)
}

// TemplateIDAdder is implemented by a Batch whose store gives templates
// random IDs (the bbolt store does, so that an ID says nothing about how
// many templates a subject ever had): a replica stores a template under
// the ID its origin gave it. It fails if the subject holds that ID.
type TemplateIDAdder interface {
	AddTemplateID(subject string, id uint64, t template.Template) error
}
