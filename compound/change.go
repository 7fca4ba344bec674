package compound

import (
	"encoding/binary"
	"fmt"
	"time"

	"github.com/facegate/facegate/store"
)

// Kind says what a change does.
type Kind uint8

// Change kinds. The values are part of the wire format.
const (
	KindConsentGiven     Kind = 1  // a subject registered, or a consent given or renewed
	KindConsentWithdrawn Kind = 2  // face consent withdrawn (templates shredded) or entry consent withdrawn (subject erased)
	KindTemplateAdded    Kind = 3  // a protected face template enrolled
	KindTemplateRemoved  Kind = 4  // face templates removed
	KindCardSet          Kind = 5  // a card enrolled (its MAC only)
	KindCardRevoked      Kind = 6  // a card removed
	KindPINSet           Kind = 7  // a PIN set (its Argon2id hash only)
	KindPINRevoked       Kind = 8  // a PIN removed
	KindQRSet            Kind = 9  // a one-time QR code issued
	KindRekey            Kind = 10 // the template transform moved to a new generation
	maxKind                   = KindRekey
)

var kindNames = [...]string{"", "consent-given", "consent-withdrawn", "template-added", "template-removed",
	"card-set", "card-revoked", "pin-set", "pin-revoked", "qr-set", "rekey"}

// String names the kind.
func (k Kind) String() string {
	if k.Known() {
		return kindNames[k]
	}
	return fmt.Sprintf("kind(%d)", uint8(k))
}

// Known reports whether k is a kind this build knows.
func (k Kind) Known() bool { return k >= 1 && k <= maxKind }

// face reports whether changes of kind k may change what the gallery holds
// for their subject (gates reload the subject's gallery entries).
func (k Kind) face() bool {
	switch k {
	case KindConsentGiven, KindConsentWithdrawn, KindTemplateAdded, KindTemplateRemoved:
		return true
	}
	return false
}

// OpType is one store write of a change.
type OpType uint8

// Store writes a change replays, mirroring records.Store.
const (
	OpPut           OpType = 1 // PutRecord(Subject, Class, Name, Data)
	OpDelete        OpType = 2 // DeleteRecord(Subject, Class, Name)
	OpShred         OpType = 3 // ShredClass(Subject, Class)
	OpDeleteSubject OpType = 4 // DeleteSubject(Subject)
	OpAddTemplate   OpType = 5 // AddTemplate(Subject, decoded Data) giving TemplateID
)

// Op is one store write the office made, replayed by every gate.
type Op struct {
	Type    OpType
	Subject string
	Class   string
	Name    string
	// Data is the record's plaintext (OpPut) or the encoded protected
	// template (OpAddTemplate).
	Data []byte
	// TemplateID is the ID the office's store gave the template.
	TemplateID uint64
}

// Change is one change of a compound: the store writes of one office
// operation.
type Change struct {
	Kind Kind
	// Subject is the resident the change is about ("" for KindRekey).
	Subject string
	// Face says the change goes on the subject's face channel: it carries
	// face consent or templates, and is erased from the stream after the
	// subject's face withdrawal. Everything else goes on the entry channel.
	Face bool
	// Generation is the template transform generation in force after the
	// change.
	Generation uint64
	// Published is the office's clock when the change was sealed.
	Published time.Time
	Ops       []Op
}

// Limits of the body decoder.
const (
	maxOps   = 64
	maxField = 1 << 16
	bodyV1   = 1
)

func appendField(b []byte, s []byte) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

// encodeBody encodes c (without its kind, which the envelope carries).
//
//	version(1) ‖ flags(1: bit 0 face channel) ‖ uvarint generation ‖
//	varint published (Unix ns) ‖ field subject ‖ uvarint len(ops) ‖ ops
//	op: type(1) ‖ field subject ‖ field class ‖ field name ‖ uvarint template ID ‖ field data
//
// where field = uvarint length ‖ bytes.
func encodeBody(c *Change) []byte {
	var flags byte
	if c.Face {
		flags |= 1
	}
	b := []byte{bodyV1, flags}
	b = binary.AppendUvarint(b, c.Generation)
	b = binary.AppendVarint(b, c.Published.UnixNano())
	b = appendField(b, []byte(c.Subject))
	b = binary.AppendUvarint(b, uint64(len(c.Ops)))
	for _, op := range c.Ops {
		b = append(b, byte(op.Type))
		b = appendField(b, []byte(op.Subject))
		b = appendField(b, []byte(op.Class))
		b = appendField(b, []byte(op.Name))
		b = binary.AppendUvarint(b, op.TemplateID)
		b = appendField(b, op.Data)
	}
	return b
}

type reader struct {
	b   []byte
	err error
}

func (r *reader) fail(what string) {
	if r.err == nil {
		r.err = fmt.Errorf("%w: body: bad %s", ErrFormat, what)
	}
}

func (r *reader) byte(what string) byte {
	if r.err != nil || len(r.b) < 1 {
		r.fail(what)
		return 0
	}
	c := r.b[0]
	r.b = r.b[1:]
	return c
}

func (r *reader) uvarint(what string) uint64 {
	if r.err != nil {
		return 0
	}
	v, n := binary.Uvarint(r.b)
	if n <= 0 || n != len(binary.AppendUvarint(nil, v)) { // minimal encodings only: one message, one body
		r.fail(what)
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *reader) varint(what string) int64 {
	if r.err != nil {
		return 0
	}
	v, n := binary.Varint(r.b)
	if n <= 0 || n != len(binary.AppendVarint(nil, v)) {
		r.fail(what)
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *reader) field(what string) []byte {
	n := r.uvarint(what)
	if r.err != nil || n > maxField || n > uint64(len(r.b)) {
		r.fail(what)
		return nil
	}
	f := r.b[:n:n]
	r.b = r.b[n:]
	return f
}

// decodeBody decodes an opened body; it never panics.
func decodeBody(kind Kind, b []byte) (Change, error) {
	r := &reader{b: b}
	if v := r.byte("version"); r.err == nil && v != bodyV1 {
		return Change{}, fmt.Errorf("%w: body version %d", ErrFormat, v)
	}
	c := Change{Kind: kind}
	switch r.byte("flags") {
	case 0:
	case 1:
		c.Face = true
	default:
		r.fail("flags")
	}
	c.Generation = r.uvarint("generation")
	c.Published = time.Unix(0, r.varint("time"))
	c.Subject = string(r.field("subject"))
	n := r.uvarint("op count")
	if r.err == nil && n > maxOps {
		return Change{}, fmt.Errorf("%w: %d ops, at most %d", ErrFormat, n, maxOps)
	}
	for i := uint64(0); i < n && r.err == nil; i++ {
		var op Op
		op.Type = OpType(r.byte("op type"))
		op.Subject = string(r.field("op subject"))
		op.Class = string(r.field("op class"))
		op.Name = string(r.field("op name"))
		op.TemplateID = r.uvarint("template ID")
		op.Data = r.field("op data")
		c.Ops = append(c.Ops, op)
	}
	if r.err != nil {
		return Change{}, r.err
	}
	if len(r.b) != 0 {
		return Change{}, fmt.Errorf("%w: %d bytes after the body", ErrFormat, len(r.b))
	}
	return c, c.validate()
}

// indexSubject is where the gate keeps its card and QR indexes and its
// subject list (gate.Gate's layout); changes may write there besides their
// own subject.
const indexSubject = "gate/index"

// faceClass is the store class of face templates (store.ClassFace).
const faceClass = store.ClassFace

// validate checks that the change's writes fit its kind: a change touches
// only its own subject and the gate's indexes, only template changes add
// templates, only withdrawals and removals shred or delete a subject.
func (c *Change) validate() error {
	if !c.Kind.Known() {
		return nil // reported as ErrUnknownKind by the caller
	}
	if c.Kind == KindRekey {
		if c.Subject != "" || c.Face || len(c.Ops) != 0 || c.Generation < 2 {
			return fmt.Errorf("%w: rekey with subject, ops or generation %d", ErrFormat, c.Generation)
		}
		return nil
	}
	if c.Subject == "" || len(c.Ops) == 0 {
		return fmt.Errorf("%w: %v change without subject or ops", ErrFormat, c.Kind)
	}
	for i, op := range c.Ops {
		bad := func(why string) error {
			return fmt.Errorf("%w: %v change, op %d (type %d): %s", ErrFormat, c.Kind, i, op.Type, why)
		}
		if op.Subject != c.Subject && op.Subject != indexSubject {
			return bad("touches another subject")
		}
		switch op.Type {
		case OpPut, OpDelete:
			if op.Class == "" || op.Name == "" {
				return bad("record without class or name")
			}
		case OpShred:
			if op.Class == "" || op.Subject != c.Subject {
				return bad("shred of no class or of the index")
			}
			if op.Class == faceClass && !c.Face {
				return bad("face templates shredded off the face channel")
			}
			if c.Kind != KindConsentWithdrawn && c.Kind != KindTemplateRemoved && c.Kind != KindCardRevoked && c.Kind != KindPINRevoked {
				return bad("shred in a change that adds")
			}
		case OpDeleteSubject:
			if op.Subject != c.Subject || c.Kind != KindConsentWithdrawn {
				return bad("subject deleted outside a withdrawal")
			}
		case OpAddTemplate:
			if op.Subject != c.Subject || c.Kind != KindTemplateAdded || op.TemplateID == 0 {
				return bad("template outside a template-added change")
			}
			if !c.Face {
				return bad("template off the face channel")
			}
		default:
			return bad("unknown op type")
		}
	}
	return nil
}
