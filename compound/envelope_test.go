package compound

import (
	"bytes"
	"errors"
	"testing"
	"time"
)

func sampleChange() Change {
	return Change{Kind: KindCardSet, Subject: "flat-0001", Generation: 1, Published: time.Unix(0, 1234567890),
		Ops: []Op{
			{Type: OpPut, Subject: indexSubject, Class: "card", Name: "abcd", Data: []byte("flat-0001")},
			{Type: OpPut, Subject: "flat-0001", Class: "credential", Name: "card", Data: []byte(`{"mac":"..."}`)},
		}}
}

func mustKey(t testing.TB) *Key {
	k, err := NewKey()
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func TestChangeRoundTrip(t *testing.T) {
	s := sealer{"lotus", mustKey(t)}
	c := sampleChange()
	subj := "fg.lotus.chg.x.entry"
	msg, err := s.sealChange(subj, 42, &c)
	if err != nil {
		t.Fatal(err)
	}
	got, err := s.openChange(subj, 42, msg)
	if err != nil {
		t.Fatal(err)
	}
	if got.Kind != c.Kind || got.Subject != c.Subject || got.Generation != 1 || !got.Published.Equal(c.Published) ||
		len(got.Ops) != 2 || !bytes.Equal(got.Ops[1].Data, c.Ops[1].Data) || got.Ops[0].Subject != indexSubject {
		t.Fatalf("round trip: %+v", got)
	}
	if bytes.Contains(msg, []byte("flat-0001")) || bytes.Contains(msg, []byte("credential")) {
		t.Fatal("sealed message holds plaintext")
	}
}

// TestOpenRefuses: each kind of bad message gives its typed error.
func TestOpenRefuses(t *testing.T) {
	k := mustKey(t)
	s := sealer{"lotus", k}
	c := sampleChange()
	subj := "fg.lotus.chg.x.entry"
	msg, err := s.sealChange(subj, 42, &c)
	if err != nil {
		t.Fatal(err)
	}
	other := sealer{"lotus", mustKey(t)}
	foreign, _ := other.sealChange(subj, 42, &c)
	unknown := sampleChange()
	unknown.Kind = 200
	unk, _ := s.sealChange(subj, 42, &unknown)
	bad := sampleChange()
	bad.Ops = append(bad.Ops, Op{Type: OpPut, Subject: "flat-0002", Class: "credential", Name: "card"})
	badOps, _ := s.sealChange(subj, 42, &bad)
	tampered := bytes.Clone(msg)
	tampered[len(tampered)-20] ^= 1
	kindFlip := bytes.Clone(msg)
	kindFlip[4] = byte(KindPINSet)
	for _, tc := range []struct {
		name    string
		subj    string
		seq     uint64
		compund string
		msg     []byte
		want    error
	}{
		{"another compound's key", subj, 42, "lotus", foreign, ErrAuth},
		{"another compound's name", subj, 42, "orchid", msg, ErrAuth},
		{"tampered", subj, 42, "lotus", tampered, ErrAuth},
		{"kind changed", subj, 42, "lotus", kindFlip, ErrAuth},
		{"replayed at another sequence", subj, 43, "lotus", msg, ErrAuth},
		{"moved to another subject", "fg.lotus.chg.y.entry", 42, "lotus", msg, ErrAuth},
		{"truncated", subj, 42, "lotus", msg[:len(msg)-17], ErrAuth},
		{"truncated below the header", subj, 42, "lotus", msg[:30], ErrTruncated},
		{"empty", subj, 42, "lotus", nil, ErrTruncated},
		{"not a change", subj, 42, "lotus", []byte("hello world, this is not a sealed change message at all"), ErrFormat},
		{"unknown kind", subj, 42, "lotus", unk, ErrUnknownKind},
		{"op on another subject", subj, 42, "lotus", badOps, ErrFormat},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := sealer{tc.compund, k}.openChange(tc.subj, tc.seq, tc.msg)
			if !errors.Is(err, tc.want) {
				t.Fatalf("got %v, want %v", err, tc.want)
			}
		})
	}
}

func TestValidateKinds(t *testing.T) {
	for _, tc := range []struct {
		name string
		c    Change
	}{
		{"template in a card change", Change{Kind: KindCardSet, Subject: "a", Face: true, Ops: []Op{{Type: OpAddTemplate, Subject: "a", TemplateID: 1}}}},
		{"shred in an add", Change{Kind: KindConsentGiven, Subject: "a", Ops: []Op{{Type: OpShred, Subject: "a", Class: "face"}}}},
		{"subject deleted by a card change", Change{Kind: KindCardRevoked, Subject: "a", Ops: []Op{{Type: OpDeleteSubject, Subject: "a"}}}},
		{"rekey with ops", Change{Kind: KindRekey, Generation: 2, Ops: []Op{{Type: OpPut, Subject: "a", Class: "c", Name: "n"}}}},
		{"rekey to generation 1", Change{Kind: KindRekey, Generation: 1}},
		{"no ops", Change{Kind: KindPINSet, Subject: "a"}},
		{"template off the face channel", Change{Kind: KindTemplateAdded, Subject: "a", Ops: []Op{{Type: OpAddTemplate, Subject: "a", TemplateID: 1}}}},
		{"face shredded off the face channel", Change{Kind: KindConsentWithdrawn, Subject: "a", Ops: []Op{{Type: OpShred, Subject: "a", Class: faceClass}}}},
		{"unknown op", Change{Kind: KindPINSet, Subject: "a", Ops: []Op{{Type: 99, Subject: "a", Class: "c", Name: "n"}}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := tc.c.validate(); !errors.Is(err, ErrFormat) {
				t.Fatalf("got %v", err)
			}
		})
	}
}

func TestAckRoundTrip(t *testing.T) {
	s := sealer{"lotus", mustKey(t)}
	at := time.Unix(1700000000, 5)
	msg, err := s.sealAck("fg.lotus.ack.gate1", 99, at)
	if err != nil {
		t.Fatal(err)
	}
	seq, got, err := s.openAck("fg.lotus.ack.gate1", msg)
	if err != nil || seq != 99 || !got.Equal(at) {
		t.Fatalf("%d %v %v", seq, got, err)
	}
	// One gate cannot speak for another.
	if _, _, err := s.openAck("fg.lotus.ack.gate2", msg); !errors.Is(err, ErrAuth) {
		t.Fatalf("ack moved to another gate: %v", err)
	}
}

// FuzzOpenChange: the decoder never panics, and whatever it accepts
// re-seals to a message it accepts again with the same content.
func FuzzOpenChange(f *testing.F) {
	k, _ := KeyFromBytes(bytes.Repeat([]byte{7}, KeySize))
	s := sealer{"lotus", k}
	c := sampleChange()
	msg, _ := s.sealChange("fg.lotus.chg.x.entry", 1, &c)
	f.Add(msg)
	f.Add(msg[:40])
	f.Add([]byte("FGC1"))
	f.Fuzz(func(t *testing.T, b []byte) {
		got, err := s.openChange("fg.lotus.chg.x.entry", 1, b)
		if err != nil {
			return
		}
		again, err := s.sealChange("fg.lotus.chg.x.entry", 1, &got)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.openChange("fg.lotus.chg.x.entry", 1, again); err != nil {
			t.Fatal(err)
		}
	})
}

// FuzzDecodeBody fuzzes the body decoder below the seal, where a bug
// could only be reached with the compound key.
func FuzzDecodeBody(f *testing.F) {
	c := sampleChange()
	f.Add(uint8(KindCardSet), encodeBody(&c))
	f.Add(uint8(KindRekey), encodeBody(&Change{Kind: KindRekey, Generation: 2}))
	f.Fuzz(func(t *testing.T, kind uint8, b []byte) {
		got, err := decodeBody(Kind(kind), b)
		if err != nil {
			return
		}
		if !bytes.Equal(encodeBody(&got), b) {
			t.Fatalf("decoded body does not re-encode to its input")
		}
	})
}
