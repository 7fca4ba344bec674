package gate

import (
	"errors"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/facegate/facegate/crypto"
	"github.com/facegate/facegate/facematch"
	"github.com/facegate/facegate/gate/internal/rawstore"
	"github.com/facegate/facegate/store"
	"github.com/facegate/facegate/template"
)

// cheapKDF keeps store creation fast in tests.
var cheapKDF = &store.Options{KDF: crypto.KDFParams{Time: 1, MemoryKiB: 64, Threads: 1}}

func newStore(t testing.TB) *store.Store {
	t.Helper()
	s, err := store.Create(filepath.Join(t.TempDir(), "gate.db"), crypto.Passphrase([]byte("test passphrase")), cheapKDF)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// TestWithdrawalLeavesNothingThatOpens withdraws face consent on the real
// bbolt store and reads the raw file: the wrapped face data key and every
// sealed template are gone from it, so nothing of the face can be opened
// even with the store's passphrase, while the subject's credentials still
// open and work.
func TestWithdrawalLeavesNothingThatOpens(t *testing.T) {
	st := newStore(t)
	e := newEnv(t, st)
	e.register(t, "flat-21", true)
	e.register(t, "flat-22", true)
	for k, s := range []string{"flat-21", "flat-22"} {
		if err := e.g.SetCard(s, []byte("card-"+s)); err != nil {
			t.Fatal(err)
		}
		for i := range 3 {
			if _, err := e.g.EnrollFace(s, near(vector(uint64(21+k)), uint64(i)), 0.9); err != nil {
				t.Fatal(err)
			}
		}
	}
	var vectors [][]byte
	tmpls, _ := st.Templates("flat-21")
	for _, tp := range tmpls {
		vectors = append(vectors, floatBytes(tp.Template.Vector))
	}
	before := rawstore.Values(t, st.Path())

	r, err := e.g.Withdraw("flat-21", PurposeFace)
	if err != nil {
		t.Fatal(err)
	}
	if err := VerifyReceipt(e.keys.Receipt, r); err != nil || r.Templates != 3 {
		t.Fatalf("receipt %+v: %v", r, err)
	}
	gone := rawstore.Gone(before, rawstore.Values(t, st.Path()))
	// Sealed values are store version ‖ format version ‖ 24-byte nonce ‖
	// ciphertext ‖ 16-byte tag.
	sealedTemplate := store.SealedTemplateSize(template.EncodedSize(testModel.ID, testModel.Dim))
	sizes := rawstore.Sizes(gone)
	if sizes[sealedTemplate] != 3 || sizes[store.WrappedKeySize] < 1 {
		t.Fatalf("values gone from the file by size: %v; want 3 sealed templates (%d bytes) and the wrapped face key (%d bytes)",
			sizes, sealedTemplate, store.WrappedKeySize)
	}
	for i, b := range gone {
		if rawstore.Contains(t, st.Path(), b) {
			t.Fatalf("value %d (%d bytes) removed by the withdrawal is still in the file", i, len(b))
		}
	}
	for _, v := range vectors {
		if rawstore.Contains(t, st.Path(), v) {
			t.Fatal("a protected vector is in the file in plain")
		}
	}
	if got, err := st.Templates("flat-21"); err != nil || len(got) != 0 {
		t.Fatalf("store still lists %d templates (%v)", len(got), err)
	}
	mustDeny(t, e.g.Admit(Attempt{Liveness: Live, Face: near(vector(21), 50)}), ErrUnknownSubject)
	mustAdmit(t, e.g.Admit(Attempt{Card: []byte("card-flat-21")}), "flat-21")
	mustAdmit(t, e.g.Admit(Attempt{Liveness: Live, Face: near(vector(22), 50)}), "flat-22")

	// After a restart nothing comes back.
	e2 := newEnv(t, st)
	if n := e2.faces.Templates("flat-21"); n != 0 {
		t.Fatalf("reloaded gallery holds %d templates of the withdrawn subject", n)
	}
	if n := e2.faces.Templates("flat-22"); n != 3 {
		t.Fatalf("reloaded gallery holds %d templates of the other subject, want 3", n)
	}
}

// TestRealStoreErrors checks the gate's reading of the store's errors.
func TestRealStoreErrors(t *testing.T) {
	st := newStore(t)
	e := newEnv(t, st)
	if _, err := e.g.Export("nobody"); !errors.Is(err, ErrUnknownSubject) {
		t.Fatalf("Export(nobody) = %v", err)
	}
	if subjects, err := e.g.Subjects(); err != nil || len(subjects) != 0 {
		t.Fatalf("Subjects on an empty store = %v, %v", subjects, err)
	}
	e.register(t, "s", false)
	if err := e.g.Maintain(); err != nil {
		t.Fatal(err)
	}
	if _, err := e.g.Withdraw("s", PurposeFace); !errors.Is(err, ErrNoConsent) {
		t.Fatalf("Withdraw without face consent = %v", err)
	}
	if _, err := e.g.Erase("s"); err != nil {
		t.Fatalf("Erase of a subject with no credentials: %v", err)
	}
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
	faces, err := facematch.NewGallery(other, nil)
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
	var faces *facematch.Gallery
	e := newEnv(t, st, func(c *Config) {
		var err error
		faces, err = facematch.NewGallery(testModel, &facematch.GalleryConfig{
			Precision: facematch.Int8,
			Originals: func(id string) ([]facematch.Embedding, error) {
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
		want, _ := testModel.Distance(p.Vector, orig[0].Vector)
		ms, err := faces.Identify(testModel.Embedding(p.Vector), 1)
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
