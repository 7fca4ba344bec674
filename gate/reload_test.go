package gate

import (
	"errors"
	"testing"

	"github.com/facegate/facegate/facematch/gallery"
	"github.com/facegate/facegate/gate/records"
	"github.com/facegate/facegate/template"
)

// TestReloadSubject: after another writer changed a subject's records in
// the store, ReloadSubject brings the gallery back in line: templates added
// behind the gate's back appear, shredded ones go, an unknown subject is not
// an error.
func TestReloadSubject(t *testing.T) {
	e := newEnv(t, nil)
	e.register(t, "flat-1", true)
	if err := e.g.SetCard("flat-1", []byte{1, 2, 3, 4}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.g.EnrollFace("flat-1", vector(1), 0.9); err != nil {
		t.Fatal(err)
	}
	e.faces.Remove("flat-1") // the gallery lost it
	if err := e.g.ReloadSubject("flat-1"); err != nil {
		t.Fatal(err)
	}
	if n := e.faces.Templates("flat-1"); n != 1 {
		t.Fatalf("after reload: %d templates", n)
	}
	// Another writer shreds the face class: the reload drops the face.
	if err := e.st.ShredClass("flat-1", records.ClassFace); err != nil {
		t.Fatal(err)
	}
	if err := e.g.ReloadSubject("flat-1"); err != nil {
		t.Fatal(err)
	}
	if n := e.faces.Templates("flat-1"); n != 0 {
		t.Fatalf("after shred and reload: %d templates", n)
	}
	if err := e.g.ReloadSubject("nobody"); err != nil {
		t.Fatalf("unknown subject: %v", err)
	}
	if err := e.g.ReloadSubject("bad/id"); !errors.Is(err, ErrInvalidSubject) {
		t.Fatalf("invalid subject: %v", err)
	}
}

// offGallery is a gallery switched off, as a stale compound gate's.
type offGallery struct{ *gallery.Gallery }

func (offGallery) Identify(template.Protected, int) ([]gallery.Match, error) {
	return nil, ErrNoFace
}

// TestGalleryOff: a gallery that answers ErrNoFace makes a face attempt
// fail with ErrNoFace ("face recognition not available"), not as an
// unusable probe; the card still opens.
func TestGalleryOff(t *testing.T) {
	e := newEnv(t, nil, func(c *Config) {
		g, _ := gallery.New(testModel, nil)
		c.Faces = offGallery{g}
	})
	e.register(t, "flat-1", true)
	if err := e.g.SetCard("flat-1", []byte{1, 2, 3, 4}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.g.EnrollFace("flat-1", vector(1), 0.9); err != nil {
		t.Fatal(err)
	}
	d := e.g.Admit(Attempt{Liveness: Live, Face: vector(1)})
	if d.Admit || !errors.Is(d.Err, ErrNoFace) || errors.Is(d.Err, ErrInvalidDescriptor) || d.Reason != "face recognition not available" {
		t.Fatalf("switched-off gallery: %+v", d)
	}
	mustAdmit(t, e.g.Admit(Attempt{Card: []byte{1, 2, 3, 4}}), "flat-1")
}
