package gate

import (
	"github.com/facegate/facegate/gate/records"
	"github.com/facegate/facegate/template"
)

// DefaultFaceSlots is how many face templates a subject's fixed slots
// hold by default; a subject enrolled with more shows it in the file.
const DefaultFaceSlots = 3

// setShape gives a store that keeps one (the bbolt store) the fixed set of
// records every subject holds, so that a reader of the file without the
// key sees the same entries and sizes for every flat whatever it holds:
// both consents, card and PIN (empty slots until set, and again once
// removed) and FaceSlots face templates (empty when withdrawn or never
// enrolled). The gate's own subjects (index, QR marks, access log) hold a
// "/" and are not covered.
func (g *Gate) setShape() {
	sh, ok := g.cfg.Records.(records.Shaper)
	if !ok {
		return
	}
	shape := records.Shape{
		Covers: func(subject string) bool { return CheckSubject(subject) == nil },
		Records: map[string][]string{
			records.ClassConsent:    {string(PurposeEntry), string(PurposeFace)},
			records.ClassCredential: {cardName, pinName},
		},
	}
	if g.cfg.Faces != nil {
		shape.FaceSlots = g.cfg.FaceSlots
		shape.TemplateSize = template.EncodedSize(g.cfg.Model.ID, g.cfg.Model.Dim)
	}
	sh.SetShape(shape)
}

// The card and QR indexes (subject indexSubject) hold one entry per card
// and per issued QR handle, so their sizes would count the flats holding
// each. Every registered subject holds one entry in each instead: its card
// (QR handle) once it has one, a placeholder named placeholderName until
// then and again after its card is removed. Card MACs and QR handles are
// hex, so a placeholder's name never collides with them.
func placeholderName(subject string) string { return "none/" + subject }

// putPlaceholder writes subject's placeholder in index class c.
func putPlaceholder(b records.Batch, c, subject string) error {
	return b.PutRecord(indexSubject, c, placeholderName(subject), nil)
}

// dropPlaceholder deletes subject's placeholder in index class c (a
// subject registered before placeholders has none).
func dropPlaceholder(b records.Batch, c, subject string) error {
	if err := b.DeleteRecord(indexSubject, c, placeholderName(subject)); err != nil && !records.NotFound(err) {
		return err
	}
	return nil
}
