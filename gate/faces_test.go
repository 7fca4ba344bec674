package gate

import (
	"errors"
	"fmt"
	"testing"

	"github.com/facegate/facegate/facematch"
	"github.com/facegate/facegate/facematch/gallery"
	"github.com/facegate/facegate/gate/records"
	"github.com/facegate/facegate/template"
)

// TestGalleryReloadsFromStore checks that a new Gate on an existing store
// loads the faces with valid consent, and only those.
func TestGalleryReloadsFromStore(t *testing.T) {
	e := newEnv(t, nil)
	e.register(t, "a", true)
	e.register(t, "b", true)
	for _, s := range []string{"a", "b"} {
		e.g.SetCard(s, []byte(s))
	}
	e.g.EnrollFace("a", vector(1), 0.9)
	e.g.EnrollFace("b", vector(2), 0.9)
	e.g.Withdraw("b", PurposeFace)
	e2 := newEnv(t, e.st)
	if e2.faces.Subjects() != 1 {
		t.Fatalf("reloaded gallery has %d subjects, want 1", e2.faces.Subjects())
	}
	mustAdmit(t, e2.g.Admit(Attempt{Liveness: Live, Face: near(vector(1), 1)}), "a")
}

// TestReloadFacesAfterRekey re-keys the store's transform. The gate owns
// its transform: until ReloadFaces it keeps protecting probes with the old
// one, in step with the gallery it loaded, so doors keep working; then
// ReloadFaces moves both to the new key without re-capture.
func TestReloadFacesAfterRekey(t *testing.T) {
	st := newStore(t)
	e := newEnv(t, st)
	e.register(t, "flat-30", true)
	e.g.SetCard("flat-30", []byte("c30"))
	if _, err := e.g.EnrollFace("flat-30", vector(30), 0.9); err != nil {
		t.Fatal(err)
	}
	mustAdmit(t, e.g.Admit(Attempt{Liveness: Live, Face: near(vector(30), 1)}), "flat-30")
	old := e.g.transform().ID()
	if err := st.RekeyTransform(); err != nil {
		t.Fatal(err)
	}
	mustAdmit(t, e.g.Admit(Attempt{Liveness: Live, Face: near(vector(30), 1)}), "flat-30")
	if err := e.g.ReloadFaces(); err != nil {
		t.Fatal(err)
	}
	if e.g.transform().ID() == old {
		t.Fatal("ReloadFaces kept the transform of before the re-key")
	}
	mustAdmit(t, e.g.Admit(Attempt{Liveness: Live, Face: near(vector(30), 1)}), "flat-30")
	if n := e.faces.Templates("flat-30"); n != 1 {
		t.Fatalf("gallery holds %d templates after reload, want 1", n)
	}
}

// TestOtherModelTemplatesNeverMatched: a gate loads only the templates of
// its own model. A template enrolled under another model (same dimension,
// so nothing but its label tells the spaces apart) stays in the store and in
// the subject's list, but never enters the gallery, so it is never compared
// with this model's probes.
func TestOtherModelTemplatesNeverMatched(t *testing.T) {
	st := newStore(t)
	e := newEnv(t, st)
	e.register(t, "flat-31", true)
	e.g.SetCard("flat-31", []byte("c31"))
	if _, err := e.g.EnrollFace("flat-31", vector(31), 0.9); err != nil {
		t.Fatal(err)
	}
	mustAdmit(t, e.g.Admit(Attempt{Liveness: Live, Face: near(vector(31), 1)}), "flat-31")

	other := testModel
	other.ID = "other-model-128"
	faces, err := gallery.New(other, nil)
	if err != nil {
		t.Fatal(err)
	}
	g2, err := New(Config{Records: st, Keys: e.keys, Faces: faces, Model: other, Log: e.log,
		Clock: e.clock.Now, PINParams: fastPIN})
	if err != nil {
		t.Fatalf("a gate of another model cannot open the store: %v", err)
	}
	if n := faces.Templates("flat-31"); n != 0 {
		t.Fatalf("gallery of %s holds %d templates of %s", other.ID, n, testModel.ID)
	}
	// The probe of the other model, numerically next to the stored vector,
	// still finds nobody: the stored template was never loaded.
	mustDeny(t, g2.Admit(Attempt{Liveness: Live, Face: near(vector(31), 1)}), ErrUnknownSubject)
	infos, err := g2.Templates("flat-31")
	if err != nil {
		t.Fatal(err)
	}
	if len(infos) != 1 || infos[0].Model != testModel.ID {
		t.Fatalf("templates listed by the other gate: %+v, want the one %s template", infos, testModel.ID)
	}
	// The card still opens the door under the other model's gate.
	mustAdmit(t, g2.Admit(Attempt{Card: []byte("c31")}), "flat-31")
}

// TestInt8GalleryWithOriginals runs a gate on an Int8 gallery whose
// GalleryConfig.Originals is Gate.Originals, on the bbolt store: every
// face decision is taken on the stored templates read back from the store
// (the gallery's distance equals the one computed from Originals), a
// withdrawn subject is no longer matched, and Originals answers unknown
// subjects and subjects without templates with facematch.ErrUnknownID.
func TestInt8GalleryWithOriginals(t *testing.T) {
	st := newStore(t)
	var gt *Gate
	calls := 0
	var faces *gallery.Gallery
	e := newEnv(t, st, func(c *Config) {
		var err error
		faces, err = gallery.New(testModel, &gallery.Config{
			Precision: gallery.Int8,
			Originals: func(id string) ([]template.Protected, error) {
				calls++
				return gt.Originals(id)
			},
		})
		if err != nil {
			t.Fatal(err)
		}
		c.Faces = faces
	})
	gt = e.g
	const n = 40
	for i := range n {
		s := fmt.Sprint("flat-", i)
		e.register(t, s, true)
		if err := e.g.SetCard(s, []byte(s)); err != nil {
			t.Fatal(err)
		}
		if _, err := e.g.EnrollFace(s, vector(uint64(i)), 0.9); err != nil {
			t.Fatal(err)
		}
	}
	tr, err := st.Transform(testModel.ID, testModel.Dim)
	if err != nil {
		t.Fatal(err)
	}
	for i := range n {
		s := fmt.Sprint("flat-", i)
		probe := near(vector(uint64(i)), uint64(i))
		calls = 0
		mustAdmit(t, e.g.Admit(Attempt{Liveness: Live, Face: probe}), s)
		if calls == 0 {
			t.Fatal("the gallery decided without calling Originals")
		}
		// The distance the gallery reports is the one to the stored template.
		p, err := tr.Protect(probe, 0.9, t0)
		if err != nil {
			t.Fatal(err)
		}
		orig, err := e.g.Originals(s)
		if err != nil || len(orig) != 1 {
			t.Fatalf("Originals(%s) = %d templates, %v", s, len(orig), err)
		}
		// As a Float32 gallery of the originals computes it.
		ref, _ := gallery.New(testModel, nil)
		if err := ref.Add(s, orig[0]); err != nil {
			t.Fatal(err)
		}
		want, _, _ := ref.Verify(s, p.Protected)
		ms, err := faces.Identify(p.Protected, 1)
		if err != nil || len(ms) != 1 || ms[0].ID != s || ms[0].Distance != want {
			t.Fatalf("Identify = %v, %v; want %s at %v", ms, err, s, want)
		}
	}
	mustDeny(t, e.g.Admit(Attempt{Liveness: Live, Face: vector(1000)}), ErrUnknownSubject)

	if _, err := e.g.Withdraw("flat-7", PurposeFace); err != nil {
		t.Fatal(err)
	}
	mustDeny(t, e.g.Admit(Attempt{Liveness: Live, Face: near(vector(7), 7)}), ErrUnknownSubject)
	for _, s := range []string{"flat-7", "nobody"} {
		if _, err := e.g.Originals(s); !errors.Is(err, facematch.ErrUnknownID) {
			t.Errorf("Originals(%s): %v, want ErrUnknownID", s, err)
		}
	}
	mustAdmit(t, e.g.Admit(Attempt{Card: []byte("flat-7")}), "flat-7")
}

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
