package compound

import (
	"context"
	"testing"
	"time"

	"github.com/facegate/facegate/gate"
)

// TestCredentialChanges: PINs, QR codes and card revocations made at the
// office take effect at every gate.
func TestCredentialChanges(t *testing.T) {
	c := newCompound(t, 2)
	for _, g := range c.gates {
		c.startGate(g)
	}
	res := residents(2, 11)
	for _, r := range res {
		c.enroll(r)
	}
	ctx := context.Background()
	if _, err := c.office.SetPIN(ctx, res[0].id, "2580"); err != nil {
		t.Fatal(err)
	}
	code, _, _, err := c.office.IssueQR(ctx, res[1].id)
	if err != nil {
		t.Fatal(err)
	}
	c.waitApplied(c.office.LastSequence())
	for _, g := range c.gates {
		if d := g.g.Admit(gate.Attempt{Subject: res[0].id, PIN: "2580"}); !d.Admit {
			t.Fatalf("%s: PIN set at the office refused: %+v", g.id, d)
		}
		if d := g.g.Admit(gate.Attempt{QR: code}); !d.Admit || d.Subject != res[1].id {
			t.Fatalf("%s: QR issued at the office refused: %+v", g.id, d)
		}
	}
	// res[0] keeps the PIN as face-free way in, so the card may go.
	if _, err := c.office.RemoveCard(ctx, res[0].id); err != nil {
		t.Fatal(err)
	}
	c.waitApplied(c.office.LastSequence())
	for _, g := range c.gates {
		if d := g.g.Admit(gate.Attempt{Card: res[0].card}); d.Admit {
			t.Fatalf("%s: revoked card admitted", g.id)
		}
		if d := g.g.Admit(gate.Attempt{Card: res[1].card}); !d.Admit {
			t.Fatalf("%s: other card refused: %+v", g.id, d)
		}
		c.sameAsOffice(g)
	}
}

// TestRekey: a transform re-key at the office carries only the new
// generation; every gate derives the same secret, moves its templates, and
// keeps admitting faces; templates enrolled afterwards arrive under the new
// transform.
func TestRekey(t *testing.T) {
	c := newCompound(t, 2)
	for _, g := range c.gates {
		c.startGate(g)
	}
	res := residents(3, 12)
	c.enroll(res[0])
	c.enroll(res[1])
	before := storeContents(t, c.ostore)
	if _, err := c.office.Rekey(context.Background()); err != nil {
		t.Fatal(err)
	}
	c.enroll(res[2])
	c.waitApplied(c.office.LastSequence())
	after := storeContents(t, c.ostore)
	for k, v := range before {
		if string(after[k]) == string(v) {
			t.Fatalf("template %s not moved by the re-key", k)
		}
	}
	for _, g := range c.gates {
		c.sameAsOffice(g)
		for _, r := range res {
			if d := g.g.Admit(gate.Attempt{Liveness: gate.Live, Face: r.face}); !d.Admit || d.Subject != r.id {
				t.Fatalf("%s: %s refused after the re-key: %+v", g.id, r.id, d)
			}
		}
		st, err := loadState(g.st)
		if err != nil || st.Generation != 2 {
			t.Fatalf("%s: state %+v %v", g.id, st, err)
		}
	}
}

// TestErase: withdrawing entry consent erases the subject at every gate
// (card refused too), and once every gate confirmed, both of the subject's
// channels are erased from the stream.
func TestErase(t *testing.T) {
	c := newCompound(t, 2)
	for _, g := range c.gates {
		c.startGate(g)
	}
	res := residents(2, 13)
	for _, r := range res {
		c.enroll(r)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	w, err := c.office.Withdraw(ctx, res[0].id, gate.PurposeEntry)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.office.AwaitWithdrawal(ctx, w); err != nil {
		t.Fatal(err)
	}
	if w.Erased != 4 {
		t.Fatalf("erased %d messages, want the 4 of the enrollment", w.Erased)
	}
	for _, g := range c.gates {
		if d := g.g.Admit(gate.Attempt{Card: res[0].card}); d.Admit {
			t.Fatalf("%s: erased subject's card admitted", g.id)
		}
		if subs, _ := g.g.Subjects(); len(subs) != 1 || subs[0] != res[1].id {
			t.Fatalf("%s: subjects %v", g.id, subs)
		}
		c.sameAsOffice(g)
	}
}
