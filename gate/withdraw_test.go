package gate

import (
	"errors"
	"fmt"
	"testing"

	"github.com/facegate/facegate/gate/internal/rawstore"
	"github.com/facegate/facegate/gate/records/recordstest"
	"github.com/facegate/facegate/store"
	"github.com/facegate/facegate/template"
)

// TestWithdrawalDeletesEveryFaceTemplate checks that withdrawing face
// consent deletes all of a subject's templates at once: the gallery no
// longer matches them, no template opens in the store (not even old
// copies), the receipt verifies, and the subject's card and PIN survive.
func TestWithdrawalDeletesEveryFaceTemplate(t *testing.T) {
	for _, n := range []int{1, 3} {
		t.Run(fmt.Sprintf("%d templates", n), func(t *testing.T) {
			e := newEnv(t, nil)
			e.register(t, "flat-9", true)
			e.register(t, "flat-10", true)
			for _, s := range []string{"flat-9", "flat-10"} {
				if err := e.g.SetCard(s, []byte(s)); err != nil {
					t.Fatal(err)
				}
				if err := e.g.SetPIN(s, "4711"); err != nil {
					t.Fatal(err)
				}
			}
			var stored [][]byte // protected vectors as they sit in the records
			for i := range n {
				if _, err := e.g.EnrollFace("flat-9", near(vector(9), uint64(i)), 0.8); err != nil {
					t.Fatal(err)
				}
			}
			e.g.EnrollFace("flat-10", vector(10), 0.8)
			tmpls, _ := e.st.Templates("flat-9")
			for _, tp := range tmpls {
				stored = append(stored, floatBytes(tp.Template.Vector()))
			}
			for _, b := range stored {
				if e.mem.Opens(b) == 0 {
					t.Fatal("stored template does not open before withdrawal; the check is blind")
				}
			}
			mustAdmit(t, e.g.Admit(Attempt{Liveness: Live, Face: near(vector(9), 100)}), "flat-9")

			r, err := e.g.Withdraw("flat-9", PurposeFace)
			if err != nil {
				t.Fatal(err)
			}
			if r.Templates != n || r.Subject != "flat-9" || r.Purpose != PurposeFace {
				t.Fatalf("receipt %+v, want %d templates of flat-9", r, n)
			}
			if err := VerifyReceipt(e.keys.Receipt, r); err != nil {
				t.Fatal(err)
			}
			// The gallery no longer matches the face.
			mustDeny(t, e.g.Admit(Attempt{Liveness: Live, Face: near(vector(9), 100)}), ErrUnknownSubject)
			if got, err := e.faces.Identify(stored0(t, e), 5); err != nil || len(got) != 0 {
				t.Fatalf("gallery still identifies the stored vector: %v %v", got, err)
			}
			// Nothing of it opens in the store, old copies included.
			for _, b := range stored {
				if k := e.mem.Opens(b); k != 0 {
					t.Fatalf("a withdrawn template still opens in %d records", k)
				}
			}
			if got, _ := e.g.Templates("flat-9"); len(got) != 0 {
				t.Fatalf("%d templates listed after withdrawal", len(got))
			}
			// The other credentials survive, and the other subject is untouched.
			mustAdmit(t, e.g.Admit(Attempt{Card: []byte("flat-9")}), "flat-9")
			mustAdmit(t, e.g.Admit(Attempt{Subject: "flat-9", PIN: "4711"}), "flat-9")
			mustAdmit(t, e.g.Admit(Attempt{Liveness: Live, Face: near(vector(10), 5)}), "flat-10")
			// Face enrolment stays closed until consent is given again.
			if _, err := e.g.EnrollFace("flat-9", vector(9), 0.9); !errors.Is(err, ErrNoConsent) {
				t.Fatalf("enrolling after withdrawal: %v", err)
			}
		})
	}
}

// stored0 returns a vector known to have been in the gallery: the protected
// form of flat-9's face, recomputed from the store's transform.
func stored0(t *testing.T, e *env) template.Protected {
	tr, err := e.st.Transform(testModel.ID, testModel.Dim)
	if err != nil {
		t.Fatal(err)
	}
	p, err := tr.Apply(near(vector(9), 0))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// TestEraseDeletesEverything checks that erasing a subject removes every
// record of theirs and every credential stops working.
func TestEraseDeletesEverything(t *testing.T) {
	e := newEnv(t, nil)
	e.register(t, "gone", true)
	e.g.SetCard("gone", []byte("card-gone"))
	e.g.SetPIN("gone", "5555")
	e.g.EnrollFace("gone", vector(4), 0.9)
	code, _, _ := e.g.IssueQR("gone")
	r, err := e.g.Erase("gone")
	if err != nil {
		t.Fatal(err)
	}
	if err := VerifyReceipt(e.keys.Receipt, r); err != nil || r.Templates != 1 {
		t.Fatalf("receipt %+v: %v", r, err)
	}
	mustDeny(t, e.g.Admit(Attempt{Card: []byte("card-gone")}), ErrUnknownSubject)
	mustDeny(t, e.g.Admit(Attempt{Subject: "gone", PIN: "5555"}), ErrUnknownSubject)
	mustDeny(t, e.g.Admit(Attempt{QR: code}), ErrUnknownSubject)
	mustDeny(t, e.g.Admit(Attempt{Liveness: Live, Face: vector(4)}), ErrUnknownSubject)
	if _, err := e.g.Export("gone"); !errors.Is(err, ErrUnknownSubject) {
		t.Fatalf("Export = %v", err)
	}
	for _, needle := range [][]byte{[]byte(`"how":"signed form"`), []byte("gone")} {
		if n := e.mem.Opens(needle); n != 0 {
			t.Fatalf("%q still opens in %d records", needle, n)
		}
	}
	// The ID can be registered afresh.
	e.register(t, "gone", false)
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
		vectors = append(vectors, floatBytes(tp.Template.Vector()))
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

// TestWithdrawAndEraseShareOnePath runs Withdraw of either purpose and
// Erase through the guarantees of their one path: a write failing at any
// point of the transaction leaves the store exactly as it was, no receipt,
// and the subject's face back in the gallery, with their card still
// working; without a failure the receipt verifies and the face (for
// PurposeEntry, the card too) no longer gets in.
func TestWithdrawAndEraseShareOnePath(t *testing.T) {
	ops := []struct {
		name     string
		run      func(g *Gate) (Receipt, error)
		purpose  Purpose
		keepCard bool
	}{
		{"Withdraw face", func(g *Gate) (Receipt, error) { return g.Withdraw("flat-1", PurposeFace) }, PurposeFace, true},
		{"Withdraw entry", func(g *Gate) (Receipt, error) { return g.Withdraw("flat-1", PurposeEntry) }, PurposeEntry, false},
		{"Erase", func(g *Gate) (Receipt, error) { return g.Erase("flat-1") }, PurposeEntry, false},
	}
	face := Attempt{Liveness: Live, Face: near(vector(1), 1)}
	card := Attempt{Card: []byte("card-1")}
	for _, op := range ops {
		t.Run(op.name, func(t *testing.T) {
			for k := 1; ; k++ {
				fs := &failingStore{Store: recordstest.New()}
				e := newEnv(t, fs)
				e.register(t, "flat-1", true)
				if err := e.g.SetCard("flat-1", card.Card); err != nil {
					t.Fatal(err)
				}
				if _, err := e.g.EnrollFace("flat-1", vector(1), 0.9); err != nil {
					t.Fatal(err)
				}
				before := fs.State()
				fs.writes, fs.failAt = 0, k
				r, err := op.run(e.g)
				fs.failAt = 0
				if fs.writes < k {
					// The whole withdrawal went through.
					if err != nil {
						t.Fatalf("without a failure: %v", err)
					}
					if k < 3 {
						t.Fatalf("the withdrawal made only %d write(s)", fs.writes)
					}
					if r.Purpose != op.purpose || r.Templates != 1 {
						t.Fatalf("receipt %+v, want %s and 1 template", r, op.purpose)
					}
					if err := VerifyReceipt(e.keys.Receipt, r); err != nil {
						t.Fatal(err)
					}
					if e.faces.Subjects() != 0 {
						t.Fatalf("gallery holds %d subjects after the withdrawal", e.faces.Subjects())
					}
					mustDeny(t, e.g.Admit(face), nil)
					if op.keepCard {
						mustAdmit(t, e.g.Admit(card), "flat-1")
					} else {
						mustDeny(t, e.g.Admit(card), ErrUnknownSubject)
					}
					break
				}
				if !errors.Is(err, errInjected) {
					t.Fatalf("write %d failed, the withdrawal returned %v", k, err)
				}
				if r.MAC != nil || r.Subject != "" {
					t.Fatalf("write %d failed and a receipt was issued: %+v", k, r)
				}
				if after := fs.State(); after != before {
					t.Fatalf("a failure at write %d left a half-done withdrawal:\nbefore:\n%s\nafter:\n%s", k, before, after)
				}
				if e.faces.Subjects() != 1 {
					t.Fatalf("after a failure at write %d the gallery holds %d subjects, want 1", k, e.faces.Subjects())
				}
				mustAdmit(t, e.g.Admit(face), "flat-1")
				mustAdmit(t, e.g.Admit(card), "flat-1")
			}
		})
	}
}
