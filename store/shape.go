package store

import (
	"fmt"
	"slices"

	"github.com/facegate/facegate/gate/records"
)

// Fixed slots. Keyed names hide what a record is, but not how many a
// subject has: a flat with a card and a PIN would show two more records
// than one without. A Shape (set by the gate, which knows its layout)
// makes every covered subject hold the same records: created with the
// subject as empty slots (sealed, padded like the records they stand for),
// overwritten by PutRecord, put back empty by DeleteRecord, refilled with
// a fresh data key and empty slots by ShredClass. Face templates take
// FaceSlots slots padded to a template's size class, so a withdrawn face,
// a face never enrolled and an enrolled one look alike. Records outside
// the shape (a renewed consent's history, templates beyond the slots) are
// stored as usual and show.

var _ records.Shaper = (*Store)(nil)

// SetShape sets the fixed slots of the subjects sh covers (see
// records.Shape). It applies to subjects created, and classes shredded,
// from then on: set it before enrolling anyone. The shape is not stored in
// the file; the gate sets it each time it starts.
func (s *Store) SetShape(sh records.Shape) {
	s.shapeMu.Lock()
	defer s.shapeMu.Unlock()
	cp := sh
	cp.Records = map[string][]string{}
	for c, ns := range sh.Records {
		if c != ClassFace {
			cp.Records[c] = slices.Clone(ns)
		}
	}
	s.shape = &cp
}

// shapeFor returns the shape covering subject, or nil.
func (s *Store) shapeFor(subject string) *records.Shape {
	s.shapeMu.RLock()
	sh := s.shape
	s.shapeMu.RUnlock()
	if sh == nil || sh.Covers == nil || !sh.Covers(subject) {
		return nil
	}
	return sh
}

// slotted reports whether subject/class/name is a slot of the shape.
func (s *Store) slotted(subject, class, name string) bool {
	sh := s.shapeFor(subject)
	if sh == nil {
		return false
	}
	if class == ClassFace {
		for i := range sh.FaceSlots {
			if name == faceSlot(i) {
				return true
			}
		}
		return false
	}
	return slices.Contains(sh.Records[class], name)
}

func faceSlot(i int) string { return fmt.Sprintf("slot/%d", i) }

// faceMin is the padded size of subject's face records: that of a
// template of the shape's size, so that an empty slot and a template seal
// to the same size (0 for a subject the shape does not cover).
func (s *Store) faceMin(subject string) int {
	sh := s.shapeFor(subject)
	if sh == nil || sh.FaceSlots == 0 {
		return 0
	}
	return paddedSize(bodySize(len(templateName(0)), 8+sh.TemplateSize), 0)
}

// fillShape writes the empty slots of subject's shape that are missing (of
// class only, or of every class if class is ""), creating their data keys.
func (b *Batch) fillShape(subject, class string) error {
	sh := b.s.shapeFor(subject)
	if sh == nil {
		return nil
	}
	fill := func(c string, names []string, min int) error {
		if class != "" && c != class || len(names) == 0 {
			return nil
		}
		if _, err := b.dataKey(subject, c); err != nil {
			return err
		}
		for _, n := range names {
			if b.tx.Bucket(bucketRecords).Get(b.s.recKey(subject, c, n)) != nil {
				continue
			}
			if err := b.put(subject, c, n, makeBody(bodyEmpty, n), min); err != nil {
				return err
			}
		}
		return nil
	}
	classes := make([]string, 0, len(sh.Records))
	for c := range sh.Records {
		classes = append(classes, c)
	}
	slices.Sort(classes)
	for _, c := range classes {
		if err := fill(c, sh.Records[c], 0); err != nil {
			return err
		}
	}
	slots := make([]string, sh.FaceSlots)
	for i := range slots {
		slots[i] = faceSlot(i)
	}
	return fill(ClassFace, slots, b.s.faceMin(subject))
}
