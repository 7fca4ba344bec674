package compound

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/facegate/facegate/gate"
)

// rawPublish publishes data on subj with the office's connection, as a
// compromised server or a forger with office credentials could, and moves
// the office past it.
func (c *testCompound) rawPublish(subj string, data []byte) uint64 {
	c.t.Helper()
	js, err := jetstream.New(c.oconn)
	if err != nil {
		c.t.Fatal(err)
	}
	ack, err := js.Publish(context.Background(), subj, data)
	if err != nil {
		c.t.Fatal(err)
	}
	c.office.mu.Lock()
	c.office.last = ack.Sequence
	c.office.mu.Unlock()
	return ack.Sequence
}

// waitRejected waits until g has refused n messages in all.
func waitRejected(t *testing.T, g *testGate, n uint64) Status {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		s := g.agent.Status()
		if s.Rejected >= n {
			return s
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: %d messages refused, want %d", g.id, s.Rejected, n)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestBadMessages: messages sealed under another compound's key, truncated,
// tampered, replayed, of an unknown kind or out of order are refused with
// their typed error, counted, and leave the gate's store and state as they
// were; good changes after them still apply.
func TestBadMessages(t *testing.T) {
	c := newCompound(t, 1)
	g := c.gates[0]
	c.startGate(g)
	res := residents(3, 2)
	c.enroll(res[0])
	c.waitApplied(c.office.LastSequence())

	victimSubj := c.office.n.channel(c.key.token(res[0].id), true)
	good, err := c.office.chg.GetMsg(context.Background(), c.office.LastSequence())
	if err != nil {
		t.Fatal(err)
	}
	other := sealer{c.id, mustKey(t)}
	mine := sealer{c.id, c.key}
	next := func() uint64 { return c.office.LastSequence() + 1 }
	tpl := Change{Kind: KindTemplateAdded, Subject: res[0].id, Face: true, Generation: 1, Ops: []Op{{Type: OpAddTemplate, Subject: res[0].id, TemplateID: 9, Data: []byte("x")}}}
	unknown := Change{Kind: 77, Subject: res[0].id, Face: true, Generation: 1, Ops: tpl.Ops}
	skip := Change{Kind: KindRekey, Generation: 3}
	oldGen := tpl
	oldGen.Generation = 7

	cases := []struct {
		name string
		subj string
		data func() []byte
		want error
	}{
		{"another compound's key", victimSubj, func() []byte { b, _ := other.sealChange(victimSubj, next(), &tpl); return b }, ErrAuth},
		{"truncated", victimSubj, func() []byte { return good.Data[:len(good.Data)/2] }, ErrAuth},
		{"truncated below the header", victimSubj, func() []byte { return good.Data[:20] }, ErrTruncated},
		{"tampered", victimSubj, func() []byte {
			b := append([]byte(nil), good.Data...)
			b[len(b)/2] ^= 0x40
			return b
		}, ErrAuth},
		{"replayed copy", victimSubj, func() []byte { return good.Data }, ErrAuth},
		{"unknown kind", victimSubj, func() []byte { b, _ := mine.sealChange(victimSubj, next(), &unknown); return b }, ErrUnknownKind},
		{"re-key skipping a generation", c.office.n.rekey(), func() []byte { b, _ := mine.sealChange(c.office.n.rekey(), next(), &skip); return b }, ErrOutOfOrder},
		{"made under another generation", victimSubj, func() []byte { b, _ := mine.sealChange(victimSubj, next(), &oldGen); return b }, ErrOutOfOrder},
		{"template that does not decode", victimSubj, func() []byte { b, _ := mine.sealChange(victimSubj, next(), &tpl); return b }, ErrFormat},
		{"on another subject's channel", c.office.n.channel(c.key.token(res[1].id), true), func() []byte {
			s := c.office.n.channel(c.key.token(res[1].id), true)
			b, _ := mine.sealChange(s, next(), &tpl)
			return b
		}, ErrFormat},
	}
	before := storeContents(t, g.st)
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			applied := g.agent.Status().Applied
			c.rawPublish(tc.subj, tc.data())
			s := waitRejected(t, g, uint64(i+1))
			if !errors.Is(s.LastRejection, tc.want) {
				t.Fatalf("refused with %v, want %v", s.LastRejection, tc.want)
			}
			if s.Applied != applied {
				t.Fatalf("state moved from %d to %d", applied, s.Applied)
			}
		})
	}
	after := storeContents(t, g.st)
	if len(after) != len(before) {
		t.Fatalf("store changed: %d templates, was %d", len(after), len(before))
	}
	// Good changes still apply after the bad ones.
	c.enroll(res[1])
	c.waitApplied(c.office.LastSequence())
	c.sameAsOffice(g)
	if d := g.g.Admit(gate.Attempt{Liveness: gate.Live, Face: res[1].face}); !d.Admit {
		t.Fatalf("resident enrolled after bad messages not admitted: %+v", d)
	}
}

// fakeMsg is a JetStream message delivered to the agent by hand.
type fakeMsg struct {
	jetstream.Msg
	subj      string
	data      []byte
	seq       uint64
	delivered uint64
	acked     string
}

func (m *fakeMsg) Subject() string { return m.subj }
func (m *fakeMsg) Data() []byte    { return m.data }
func (m *fakeMsg) Metadata() (*jetstream.MsgMetadata, error) {
	return &jetstream.MsgMetadata{Sequence: jetstream.SequencePair{Stream: m.seq}, NumDelivered: m.delivered}, nil
}
func (m *fakeMsg) Ack() error  { m.acked = "ack"; return nil }
func (m *fakeMsg) Term() error { m.acked = "term"; return nil }
func (m *fakeMsg) Nak() error  { m.acked = "nak"; return nil }

// TestOlderChangeRefused: a change at or below the applied sequence is
// refused as replayed the first time it is delivered, and skipped quietly
// (without applying it twice) when it is a redelivery.
func TestOlderChangeRefused(t *testing.T) {
	c := newCompound(t, 1)
	g := c.gates[0]
	c.startGate(g)
	res := residents(1, 3)
	c.enroll(res[0])
	c.waitApplied(c.office.LastSequence())
	c.stopGate(g)
	c.openGate(g) // not running: messages are handed in below
	last := c.office.LastSequence()
	m, err := c.office.chg.GetMsg(context.Background(), last)
	if err != nil {
		t.Fatal(err)
	}
	replay := &fakeMsg{subj: m.Subject, data: m.Data, seq: last, delivered: 1}
	redelivery := &fakeMsg{subj: m.Subject, data: m.Data, seq: last, delivered: 2}
	n, err := g.agent.process(context.Background(), []jetstream.Msg{replay, redelivery})
	if err != nil || n != 0 {
		t.Fatalf("applied %d, %v", n, err)
	}
	s := g.agent.Status()
	if s.Rejected != 1 || !errors.Is(s.LastRejection, ErrReplayed) || replay.acked != "term" {
		t.Fatalf("replay: %+v, %s", s.Stats, replay.acked)
	}
	if s.Redelivered != 1 || redelivery.acked != "ack" || s.Applied != last {
		t.Fatalf("redelivery: %+v, %s", s.Stats, redelivery.acked)
	}
	if twice := c.appliedTwice(g); len(twice) > 0 {
		t.Fatalf("applied twice: %v", twice)
	}
}
