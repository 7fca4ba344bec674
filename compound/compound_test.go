package compound

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/facegate/facegate/gate"
)

// TestEnrollAdmitWithdraw walks the compound's life: residents enrolled at
// the office reach every gate (stores and galleries equal to the office's)
// and are admitted by face everywhere; a face withdrawal is confirmed by
// every gate, refused by face everywhere afterwards while the card still
// works, and no copy of the template is left in the stream or in the
// server's file store.
func TestEnrollAdmitWithdraw(t *testing.T) {
	c := newCompound(t, 3)
	for _, g := range c.gates {
		c.startGate(g)
	}
	res := residents(40, 1)
	for _, r := range res {
		c.enroll(r)
	}
	c.waitApplied(c.office.LastSequence())
	for _, g := range c.gates {
		c.sameAsOffice(g)
		for _, r := range res[:5] {
			d := g.g.Admit(gate.Attempt{Door: "main", Liveness: gate.Live, Face: r.face})
			if !d.Admit || d.Subject != r.id {
				t.Fatalf("%s: %s not admitted by face: %+v", g.id, r.id, d)
			}
		}
	}

	// Capture what the stream and the file store hold of the victim's
	// face before the withdrawal: the sealed template message.
	victim := res[0]
	subj := c.office.n.channel(c.key.token(victim.id), true)
	var sealedTemplate []byte
	for seq := uint64(1); seq <= c.office.LastSequence(); seq++ {
		m, err := c.office.chg.GetMsg(context.Background(), seq)
		if err != nil {
			t.Fatal(err)
		}
		if m.Subject == subj && m.Data[4] == byte(KindTemplateAdded) {
			sealedTemplate = m.Data
		}
	}
	if sealedTemplate == nil {
		t.Fatal("victim's template message not found in the stream")
	}
	if !dirContains(t, c.hub.Dir(), sealedTemplate[40:72]) {
		t.Fatal("the scan cannot find the sealed template in the file store before the withdrawal")
	}

	protected, err := c.ostore.Templates(victim.id)
	if err != nil || len(protected) != 1 {
		t.Fatalf("victim's templates at the office: %d, %v", len(protected), err)
	}
	for _, g := range c.gates { // sealed: not even before the withdrawal
		noPlaintext(t, g.path, victim, protected[0].Template)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	w, err := c.office.Withdraw(ctx, victim.id, gate.PurposeFace)
	if err != nil {
		t.Fatal(err)
	}
	if err := gate.VerifyReceipt(mustKeys(t, c.key).Receipt, w.Receipt); err != nil {
		t.Fatal(err)
	}
	if err := c.office.AwaitWithdrawal(ctx, w); err != nil {
		t.Fatal(err)
	}
	if !w.Complete || len(w.Confirmed) != 3 || len(w.Pending) != 0 || w.Erased < 2 {
		t.Fatalf("withdrawal receipt: %+v", w)
	}
	for _, g := range c.gates {
		d := g.g.Admit(gate.Attempt{Door: "main", Liveness: gate.Live, Face: victim.face})
		if d.Admit {
			t.Fatalf("%s: withdrawn face admitted", g.id)
		}
		if d := g.g.Admit(gate.Attempt{Door: "main", Card: victim.card}); !d.Admit || d.Subject != victim.id {
			t.Fatalf("%s: card refused after face withdrawal: %+v", g.id, d)
		}
		if d := g.g.Admit(gate.Attempt{Door: "main", Liveness: gate.Live, Face: res[1].face}); !d.Admit {
			t.Fatalf("%s: another resident refused: %+v", g.id, d)
		}
		c.sameAsOffice(g)
	}
	// The stream holds no message of the victim's face channel before
	// the withdrawal, and the file store no copy of the sealed template.
	for seq := uint64(1); seq < w.Seq; seq++ {
		m, err := c.office.chg.GetMsg(context.Background(), seq)
		if err == nil && m.Subject == subj {
			t.Errorf("message %d of the withdrawn face channel still in the stream", seq)
		}
	}
	c.hub.Close() // flush everything to disk
	if dirContains(t, c.hub.Dir(), sealedTemplate[40:72]) {
		t.Error("the server's file store still holds the withdrawn template's message")
	}
	c.startHub()
	for _, g := range c.gates {
		c.stopGate(g)
		noPlaintext(t, g.path, victim, protected[0].Template)
	}
}

func mustKeys(t testing.TB, k *Key) gate.Keys {
	keys, err := k.GateKeys()
	if err != nil {
		t.Fatal(err)
	}
	return keys
}

// dirContains reports whether any file under dir holds b.
func dirContains(t testing.TB, dir string, b []byte) bool {
	t.Helper()
	found := false
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		if containsAny(data, b) {
			found = true
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return found
}

func containsAny(hay, b []byte) bool {
	return len(b) > 0 && indexOf(hay, b) >= 0
}
