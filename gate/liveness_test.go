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
