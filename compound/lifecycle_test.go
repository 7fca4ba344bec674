package compound

import (
	"context"
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/facegate/facegate/gate"
)

func copyFile(t testing.TB, from, to string) {
	t.Helper()
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, b, 0o600); err != nil {
		t.Fatal(err)
	}
}

// TestRestoredOldStoreRefused: a gate whose store is replaced by an older
// copy finds that the server holds acknowledgements past the store's state
// and refuses to run (ErrRolledBack), with its face path closed.
func TestRestoredOldStoreRefused(t *testing.T) {
	c := newCompound(t, 1)
	g := c.gates[0]
	c.startGate(g)
	res := residents(4, 4)
	c.enroll(res[0])
	c.waitApplied(c.office.LastSequence())
	c.stopGate(g)
	old := g.path + ".old"
	copyFile(t, g.path, old)

	c.startGate(g)
	c.enroll(res[1])
	c.waitApplied(c.office.LastSequence())
	c.stopGate(g)
	copyFile(t, old, g.path) // restore the old copy

	c.openGate(g)
	_, err := g.agent.Step(context.Background())
	if !errors.Is(err, ErrRolledBack) {
		t.Fatalf("old store: %v, want ErrRolledBack", err)
	}
	if s := g.agent.Status(); s.FaceOpen || !errors.Is(s.Halted, ErrRolledBack) || !strings.Contains(s.Line(), "restored copy") {
		t.Fatalf("rolled-back store: %+v %q", s, s.Line())
	}
	if d := g.g.Admit(gate.Attempt{Liveness: gate.Live, Face: res[0].face}); d.Admit || !errors.Is(d.Err, ErrStale) {
		t.Fatalf("face admitted on a rolled-back store: %+v", d)
	}
	if d := g.g.Admit(gate.Attempt{Card: res[0].card}); !d.Admit {
		t.Fatalf("card refused: %+v", d)
	}
}

// TestGateKilledMidStream: a gate stopped while changes stream in, and
// restarted on its store, catches up with nothing lost and nothing
// applied twice.
func TestGateKilledMidStream(t *testing.T) {
	c := newCompound(t, 2)
	for _, g := range c.gates {
		c.startGate(g)
	}
	victim := c.gates[1]
	res := residents(30, 5)
	for i, r := range res {
		c.enroll(r)
		if i == 10 {
			c.stopGate(victim) // mid-stream, whatever it was doing
		}
		if i == 20 {
			c.startGate(victim)
		}
	}
	c.waitApplied(c.office.LastSequence())
	for _, g := range c.gates {
		c.sameAsOffice(g)
		if twice := c.appliedTwice(g); len(twice) > 0 {
			t.Errorf("%s: changes applied twice: %v", g.id, twice)
		}
	}
	// Every sequence was applied exactly once over both lives.
	victim.mu.Lock()
	defer victim.mu.Unlock()
	for seq := uint64(1); seq <= c.office.LastSequence(); seq++ {
		if victim.applied[seq] != 1 {
			t.Fatalf("sequence %d applied %d times", seq, victim.applied[seq])
		}
	}
}

// TestOfflineGateWithdrawal: a gate offline during a withdrawal comes back
// with its face path closed, refuses the withdrawn face before it admits
// anyone by face, and the office's receipt lists it as pending until then.
func TestOfflineGateWithdrawal(t *testing.T) {
	c := newCompound(t, 2)
	for _, g := range c.gates {
		c.startGate(g)
	}
	res := residents(3, 6)
	for _, r := range res {
		c.enroll(r)
	}
	c.waitApplied(c.office.LastSequence())
	away := c.gates[1]
	c.stopGate(away)

	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	w, err := c.office.Withdraw(context.Background(), res[0].id, gate.PurposeFace)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.office.AwaitWithdrawal(ctx, w); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("await with a gate offline: %v", err)
	}
	if len(w.Confirmed) != 1 || len(w.Pending) != 1 || w.Pending[0] != away.id || w.Complete {
		t.Fatalf("receipt with a gate offline: %+v", w)
	}

	// Back after 10 minutes: the gate opens its store and gallery, which
	// still hold the withdrawn face, but does not match faces until it
	// has caught up.
	c.clock.Add(10 * time.Minute)
	c.openGate(away)
	if away.gal.Templates(res[0].id) == 0 {
		t.Fatal("test premise: the returning gate's gallery should still hold the face")
	}
	for _, r := range res {
		if d := away.g.Admit(gate.Attempt{Liveness: gate.Live, Face: r.face}); d.Admit || !errors.Is(d.Err, ErrStale) {
			t.Fatalf("face admitted before catching up: %+v", d)
		}
	}
	if d := away.g.Admit(gate.Attempt{Card: res[0].card}); !d.Admit {
		t.Fatalf("card refused while catching up: %+v", d)
	}
	if line := away.agent.Status().Line(); line == "" || away.agent.FaceOpen() {
		t.Fatalf("status while catching up: %q", line)
	}
	for !away.agent.FaceOpen() {
		if _, err := away.agent.Step(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	if d := away.g.Admit(gate.Attempt{Liveness: gate.Live, Face: res[0].face}); d.Admit {
		t.Fatal("withdrawn face admitted after catching up")
	}
	if d := away.g.Admit(gate.Attempt{Liveness: gate.Live, Face: res[1].face}); !d.Admit {
		t.Fatalf("other resident refused after catching up: %+v", d)
	}
	ctx2, cancel2 := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel2()
	if err := c.office.AwaitWithdrawal(ctx2, w); err != nil || !w.Complete || len(w.Confirmed) != 2 {
		t.Fatalf("after the gate returned: %+v, %v", w, err)
	}
}

// TestStaleGateClosesFacePath: a gate that hears nothing from the stream
// for StaleAfter closes its face path (cards still work) and says so;
// once it hears from the stream again it reopens.
func TestStaleGateClosesFacePath(t *testing.T) {
	c := newCompound(t, 1)
	g := c.gates[0]
	c.openGate(g)
	res := residents(1, 7)
	c.enroll(res[0])
	for !g.agent.FaceOpen() {
		if _, err := g.agent.Step(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	if d := g.g.Admit(gate.Attempt{Liveness: gate.Live, Face: res[0].face}); !d.Admit {
		t.Fatalf("in step: %+v", d)
	}
	c.clock.Add(DefaultStaleAfter - time.Second)
	if !g.agent.FaceOpen() {
		t.Fatal("closed before StaleAfter")
	}
	c.hub.Close() // the network is cut
	c.clock.Add(2 * time.Second)
	if _, err := g.agent.Step(context.Background()); err == nil {
		t.Fatal("step succeeded with the hub down")
	}
	if g.agent.FaceOpen() {
		t.Fatal("face path open after StaleAfter without word from the stream")
	}
	d := g.g.Admit(gate.Attempt{Liveness: gate.Live, Face: res[0].face})
	if d.Admit || !errors.Is(d.Err, ErrStale) || d.Reason != "face recognition not available" {
		t.Fatalf("stale face: %+v", d)
	}
	if d := g.g.Admit(gate.Attempt{Card: res[0].card}); !d.Admit {
		t.Fatalf("card refused on a stale gate: %+v", d)
	}
	s := g.agent.Status()
	if s.FaceOpen || s.Line() == "" {
		t.Fatalf("status: %+v %q", s, s.Line())
	}
	t.Log("screen line:", s.Line())
	c.startHub()
	deadline := time.Now().Add(15 * time.Second)
	for !g.agent.FaceOpen() {
		if time.Now().After(deadline) {
			t.Fatal("did not reopen after the hub came back")
		}
		g.agent.Step(context.Background())
	}
	if d := g.g.Admit(gate.Attempt{Liveness: gate.Live, Face: res[0].face}); !d.Admit {
		t.Fatalf("face refused after catching up: %+v", d)
	}
}

// TestServerRestartMidStream: the hub shut down and restarted on the same
// directory while the office publishes loses no acknowledged change; the
// gates catch up with all of them.
func TestServerRestartMidStream(t *testing.T) {
	c := newCompound(t, 2)
	for _, g := range c.gates {
		c.startGate(g)
	}
	res := residents(20, 8)
	acked := map[uint64]bool{}
	for i, r := range res {
		if i == 9 {
			c.hub.Close()
			done := make(chan struct{})
			go func() { // restart while the office retries this publish
				time.Sleep(300 * time.Millisecond)
				c.startHub()
				close(done)
			}()
			c.enroll(r)
			<-done
		} else {
			c.enroll(r)
		}
		acked[c.office.LastSequence()] = true
	}
	last := c.office.LastSequence()
	info, err := c.office.chg.Info(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if info.State.LastSeq != last || info.State.Msgs != last {
		t.Fatalf("stream holds %d messages up to %d, office acknowledged up to %d", info.State.Msgs, info.State.LastSeq, last)
	}
	c.waitApplied(last)
	for _, g := range c.gates {
		c.sameAsOffice(g)
		if twice := c.appliedTwice(g); len(twice) > 0 {
			t.Errorf("%s: applied twice: %v", g.id, twice)
		}
	}
}

// TestGateJoinsAfterErasure: a gate whose consumer starts after a
// withdrawal was erased from the stream meets a hole in the sequence: it
// applies across it (the erased messages are gone for good) and ends equal
// to the office.
func TestGateJoinsAfterErasure(t *testing.T) {
	c := newCompound(t, 2)
	early, late := c.gates[0], c.gates[1]
	c.office.cfg.Gates = []string{early.id} // late is not yet part of the compound
	c.startGate(early)
	res := residents(3, 15)
	for _, r := range res {
		c.enroll(r)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	w, err := c.office.Withdraw(ctx, res[1].id, gate.PurposeFace)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.office.AwaitWithdrawal(ctx, w); err != nil || w.Erased == 0 {
		t.Fatalf("erased %d: %v", w.Erased, err)
	}
	c.enroll(residents(4, 15)[3])
	c.startGate(late)
	c.waitApplied(c.office.LastSequence())
	for _, g := range c.gates {
		c.sameAsOffice(g)
	}
	if d := late.g.Admit(gate.Attempt{Liveness: gate.Live, Face: res[1].face}); d.Admit {
		t.Fatal("withdrawn face admitted at the late gate")
	}
	// Only the face channel was erased: registration and card survive.
	if d := late.g.Admit(gate.Attempt{Card: res[1].card}); !d.Admit || d.Subject != res[1].id {
		t.Fatalf("late gate refused the withdrawn resident's card: %+v", d)
	}
	if d := late.g.Admit(gate.Attempt{Liveness: gate.Live, Face: res[2].face}); !d.Admit {
		t.Fatalf("late gate refused a resident: %+v", d)
	}
}
