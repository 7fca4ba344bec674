package store

import (
	"errors"
	"math/rand/v2"
	"testing"

	"github.com/facegate/facegate/internal/seal"
	"github.com/facegate/facegate/template"
)

// TestRekeyTransformTo: two stores re-keyed to the same secret share one
// transform, so a template protected by one is accepted by the other and
// matches there; re-keying to the secret in use keeps every template where
// it was.
func TestRekeyTransformTo(t *testing.T) {
	a, _ := newStore(t)
	b, _ := newStore(t)
	sec, err := seal.NewKey()
	if err != nil {
		t.Fatal(err)
	}
	defer sec.Wipe()
	r := rand.New(rand.NewPCG(3, 3))
	v := randUnit(r, 64)
	if _, err := b.AddTemplate("x", protect(t, a, v)); !errors.Is(err, template.ErrWrongTransform) {
		t.Fatalf("stores with their own transforms: %v", err)
	}
	if _, err := a.AddTemplate("early", protect(t, a, v)); err != nil {
		t.Fatal(err)
	}
	for _, s := range []*Store{a, b} {
		if err := s.RekeyTransformTo(sec); err != nil {
			t.Fatal(err)
		}
	}
	tp := protect(t, a, v)
	if _, err := b.AddTemplate("x", tp); err != nil {
		t.Fatalf("shared transform refused: %v", err)
	}
	trB, err := b.Transform(testModel, 64)
	if err != nil {
		t.Fatal(err)
	}
	if trB.ID() != tp.TransformID() {
		t.Fatal("transform IDs differ")
	}
	es, err := a.Templates("early")
	if err != nil || len(es) != 1 {
		t.Fatal(err)
	}
	if d := dist(es[0].Template.Vector(), tp.Vector()); d > 1e-5 {
		t.Fatalf("template moved by the re-key is %g from a fresh one", d)
	}
	// Again to the same secret: nothing moves.
	if err := a.RekeyTransformTo(sec); err != nil {
		t.Fatal(err)
	}
	again, err := a.Templates("early")
	if err != nil {
		t.Fatal(err)
	}
	if again[0].Template.TransformID() != es[0].Template.TransformID() || dist(again[0].Template.Vector(), es[0].Template.Vector()) > 1e-5 {
		t.Fatal("re-key to the secret in use moved the template")
	}
}
