package gate

import (
	"errors"
	"testing"
)

// TestLivenessPolicy runs every door policy against every liveness
// verdict: a face counts only when Live, unless the policy carries
// FaceWithoutLiveness; a face that does not count is not matched (no
// distance); card and PIN never depend on it; the access log records the
// verdict of every attempt with a face and none for one without.
func TestLivenessPolicy(t *testing.T) {
	type want struct {
		admit bool
		err   error
	}
	tests := []struct {
		policy   Policy
		liveness Liveness
		card     bool
		want     want
	}{
		{AnyFactor, Live, false, want{true, nil}},
		{AnyFactor, NotLive, false, want{false, ErrNotLive}},
		{AnyFactor, LivenessUnchecked, false, want{false, ErrLivenessUnchecked}},
		{AnyFactor, NotLive, true, want{true, nil}}, // the card alone opens
		{AnyFactor | FaceWithoutLiveness, LivenessUnchecked, false, want{true, nil}},
		{AnyFactor | FaceWithoutLiveness, NotLive, false, want{true, nil}},
		{FaceAndCardOrPIN, Live, true, want{true, nil}},
		{FaceAndCardOrPIN, NotLive, true, want{false, ErrNotLive}},
		{FaceAndCardOrPIN, LivenessUnchecked, true, want{false, ErrLivenessUnchecked}},
		{FaceAndCardOrPIN | FaceWithoutLiveness, LivenessUnchecked, true, want{true, nil}},
	}
	for _, tc := range tests {
		t.Run(tc.policy.String()+"/"+tc.liveness.String(), func(t *testing.T) {
			e := newEnv(t, nil, withPolicy(tc.policy))
			e.register(t, "flat-1", true)
			if err := e.g.SetCard("flat-1", []byte("c1")); err != nil {
				t.Fatal(err)
			}
			if err := e.g.SetPIN("flat-1", "2468"); err != nil {
				t.Fatal(err)
			}
			if _, err := e.g.EnrollFace("flat-1", vector(1), 0.9); err != nil {
				t.Fatal(err)
			}
			a := Attempt{Door: "d", Face: near(vector(1), 1), Liveness: tc.liveness}
			if tc.card {
				a.Card = []byte("c1")
			}
			d := e.g.Admit(a)
			if d.Admit != tc.want.admit {
				t.Fatalf("decision %+v, want admit=%v", d, tc.want.admit)
			}
			if tc.want.err != nil && !errors.Is(d.Err, tc.want.err) {
				t.Fatalf("denied with %v, want %v", d.Err, tc.want.err)
			}
			if d.Liveness != tc.liveness {
				t.Fatalf("decision liveness %v, want %v", d.Liveness, tc.liveness)
			}
			if want := map[error]string{ErrNotLive: "liveness check failed", ErrLivenessUnchecked: "liveness not checked"}[tc.want.err]; want != "" && d.Reason != want {
				t.Fatalf("reason %q, want %q", d.Reason, want)
			}
			if tc.want.err != nil && d.Distance != 0 {
				t.Fatalf("a face without liveness was matched (distance %v)", d.Distance)
			}
			ev, err := e.log.Events(e.clock.Now())
			if err != nil || len(ev) != 1 {
				t.Fatalf("log: %v, %d events", err, len(ev))
			}
			if ev[0].Liveness != tc.liveness.String() || ev[0].Admitted != tc.want.admit {
				t.Fatalf("logged %+v, want liveness %q admitted %v", ev[0], tc.liveness, tc.want.admit)
			}
		})
	}
}

// TestLivenessNotLoggedWithoutFace checks that an attempt without a face
// logs no verdict.
func TestLivenessNotLoggedWithoutFace(t *testing.T) {
	e := newEnv(t, nil)
	e.register(t, "flat-2", false)
	if err := e.g.SetCard("flat-2", []byte("c2")); err != nil {
		t.Fatal(err)
	}
	mustAdmit(t, e.g.Admit(Attempt{Card: []byte("c2"), Liveness: Live}), "flat-2")
	ev, err := e.log.Events(e.clock.Now())
	if err != nil || len(ev) != 1 || ev[0].Liveness != "" {
		t.Fatalf("log %+v, %v: want one event without liveness", ev, err)
	}
}

func TestPolicyString(t *testing.T) {
	for p, want := range map[Policy]string{
		AnyFactor:                              "any-factor",
		FaceAndCardOrPIN | FaceWithoutLiveness: "face-and-card-or-pin+face-without-liveness",
		Policy(5):                              "policy(5)",
		Policy(5) | FaceWithoutLiveness:        "policy(133)",
		AnyFactor | FaceWithoutLiveness:        "any-factor+face-without-liveness",
	} {
		if got := p.String(); got != want {
			t.Errorf("%d: %q, want %q", uint8(p), got, want)
		}
		if p.Valid() != (p.rule() <= FaceAndCardOrPIN) {
			t.Errorf("%v: Valid %v", p, p.Valid())
		}
	}
}

// TestVerify checks 1:1 verification: the enrolled subject matches its own
// face and not another's; consent and templates are checked with typed
// errors.
func TestVerify(t *testing.T) {
	e := newEnv(t, nil)
	e.register(t, "flat-3", true)
	e.register(t, "flat-4", true)
	e.register(t, "flat-5", false)
	for _, s := range []string{"flat-3", "flat-4", "flat-5"} {
		if err := e.g.SetCard(s, []byte("c"+s)); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := e.g.EnrollFace("flat-3", vector(3), 0.9); err != nil {
		t.Fatal(err)
	}
	if d, ok, err := e.g.Verify("flat-3", near(vector(3), 1)); err != nil || !ok || d <= 0 {
		t.Fatalf("own face: %v %v %v", d, ok, err)
	}
	if _, ok, err := e.g.Verify("flat-3", vector(4)); err != nil || ok {
		t.Fatalf("another face: %v %v", ok, err)
	}
	for _, tc := range []struct {
		subject string
		want    error
	}{
		{"flat-4", ErrNoFace},
		{"flat-5", ErrNoConsent},
		{"nobody", ErrUnknownSubject},
		{"bad id!", ErrInvalidSubject},
	} {
		if _, _, err := e.g.Verify(tc.subject, vector(3)); !errors.Is(err, tc.want) {
			t.Errorf("Verify(%q): %v, want %v", tc.subject, err, tc.want)
		}
	}
	if _, err := e.g.Withdraw("flat-3", PurposeFace); err != nil {
		t.Fatal(err)
	}
	if _, _, err := e.g.Verify("flat-3", near(vector(3), 1)); !errors.Is(err, ErrNoConsent) {
		t.Fatalf("after withdrawal: %v, want ErrNoConsent", err)
	}
}

func TestIdentify(t *testing.T) {
	e := newEnv(t, nil)
	e.register(t, "flat-6", true)
	if err := e.g.SetCard("flat-6", []byte("c6")); err != nil {
		t.Fatal(err)
	}
	if _, err := e.g.EnrollFace("flat-6", vector(6), 0.9); err != nil {
		t.Fatal(err)
	}
	m, err := e.g.Identify(near(vector(6), 2), 3)
	if err != nil || len(m) != 1 || m[0].ID != "flat-6" {
		t.Fatalf("own face: %+v, %v", m, err)
	}
	if m, err := e.g.Identify(vector(60), 3); err != nil || len(m) != 0 {
		t.Fatalf("stranger: %+v, %v", m, err)
	}
	if _, err := e.g.Identify([]float32{1}, 3); !errors.Is(err, ErrInvalidDescriptor) {
		t.Fatalf("short descriptor: %v", err)
	}
}
