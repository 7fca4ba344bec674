package probe_test

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/facegate/facegate/facematch"
	"github.com/facegate/facegate/facematch/gallery"
	"github.com/facegate/facegate/facematch/liveness"
	"github.com/facegate/facegate/facematch/liveness/synth"
	"github.com/facegate/facegate/facematch/probe"
	"github.com/facegate/facegate/gate"
	"github.com/facegate/facegate/gate/accesslog"
	"github.com/facegate/facegate/gate/records/recordstest"
)

var model = facematch.Model{ID: "test-model", Dim: 8, Metric: facematch.Euclidean, Threshold: 0.3}

func unit(seed uint64) []float32 {
	r := rand.New(rand.NewPCG(seed, 1))
	v := make([]float32, model.Dim)
	var n float64
	for i := range v {
		v[i] = float32(r.NormFloat64())
		n += float64(v[i]) * float64(v[i])
	}
	for i := range v {
		v[i] /= float32(math.Sqrt(n))
	}
	return v
}

// replay is a photo held to the camera and moved: one face's landmarks
// under a small random rotation, scale and shift per frame (a plane moves
// by a homography; this is its affine part), with detector noise.
func replay(lm []image.Point, n int, rng *rand.Rand) []liveness.Frame {
	fs := make([]liveness.Frame, n)
	for i := range fs {
		a, s := 0.05*rng.NormFloat64(), 1+0.03*rng.NormFloat64()
		dx, dy := 5*rng.NormFloat64(), 5*rng.NormFloat64()
		p := make([]image.Point, len(lm))
		for j, q := range lm {
			x, y := float64(q.X)-320, float64(q.Y)-240
			p[j] = image.Pt(int(math.Round(320+dx+s*(x*math.Cos(a)-y*math.Sin(a))+0.5*rng.NormFloat64())),
				int(math.Round(240+dy+s*(x*math.Sin(a)+y*math.Cos(a))+0.5*rng.NormFloat64())))
		}
		fs[i] = liveness.Frame{Time: time.Duration(i) * time.Second / 15, Landmarks: p}
	}
	return fs
}

// TestDoorPoliciesRequireLiveness runs, under every door policy that
// requires liveness, three presentations of an enrolled resident's face
// through probe.Sequence with the default fused rule and into the gate: a
// still photo (the same frame over and over), a photo replayed as a moving
// sequence, and a live synthetic sequence (head turn and a blink). The two
// attacks must be refused without matching the face, the live sequence
// admitted, and the access log must carry each verdict. Passive scores are
// set to a live-looking 0.9 on every frame: the test is about the fusion
// and the gate, and shows that the active challenge alone stops attacks
// the passive network misses.
func TestDoorPoliciesRequireLiveness(t *testing.T) {
	h, err := synth.Lift(synth.MeanFace)
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(3, 4))
	live := synth.Params{Frames: 45, FPS: 15, Sway: 8, Drift: 2, BlinkAt: 15, BlinkFrames: 3, Noise: 0.5}
	type presentation struct {
		name   string
		frames []liveness.Frame
		want   gate.Liveness
	}
	// Each policy gets fresh sequences: Sequence.Reset zeroes the
	// landmarks it was given.
	presentations := func() []presentation {
		still := make([]liveness.Frame, 45)
		photo := h.Project(synth.Pose{})
		for i := range still {
			still[i] = liveness.Frame{Time: time.Duration(i) * time.Second / 15, Landmarks: slices.Clone(photo)}
		}
		return []presentation{
			{"still photo", still, gate.NotLive},
			{"replayed photo", replay(photo, 45, rng), gate.NotLive},
			{"live", synth.BonaFide(h, live, rng), gate.Live},
		}
	}
	for _, pol := range gate.Policies {
		t.Run(pol.String(), func(t *testing.T) {
			cases := presentations()
			st := recordstest.New()
			clock := recordstest.NewClock(time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC))
			keys, err := gate.DeriveKeys(bytes.Repeat([]byte{9}, gate.KeySize))
			if err != nil {
				t.Fatal(err)
			}
			faces, err := gallery.New(model, nil)
			if err != nil {
				t.Fatal(err)
			}
			log, err := accesslog.New(st, accesslog.Options{Clock: clock.Now})
			if err != nil {
				t.Fatal(err)
			}
			g, err := gate.New(gate.Config{Records: st, Keys: keys, Faces: faces, Model: model, Log: log, Clock: clock.Now, Policy: pol, PINParams: gate.PINParams{Time: 1, Memory: 64, Threads: 1}})
			if err != nil {
				t.Fatal(err)
			}
			c := gate.Consent{Purpose: gate.PurposeEntry, Given: clock.Now(), How: "signed form", BirthYear: 1980}
			if err := g.Register("flat-1", c); err != nil {
				t.Fatal(err)
			}
			c.Purpose = gate.PurposeFace
			if err := g.GiveConsent("flat-1", c); err != nil {
				t.Fatal(err)
			}
			if err := g.SetCard("flat-1", []byte("card-1")); err != nil {
				t.Fatal(err)
			}
			if err := g.SetPIN("flat-1", "1357"); err != nil {
				t.Fatal(err)
			}
			if _, err := g.EnrollFace("flat-1", unit(1), 0.9); err != nil {
				t.Fatal(err)
			}
			for _, tc := range cases {
				seq := probe.NewSequence(probe.DefaultRule)
				done := false
				for _, f := range tc.frames {
					done = seq.Add(f.Time, probe.Probe{Face: facematch.Face{Landmarks: f.Landmarks, Descriptor: unit(1)}, Passive: 0.9})
				}
				if !done {
					t.Fatalf("%s: sequence of %d frames not complete", tc.name, len(tc.frames))
				}
				v := seq.Verdict()
				if v.Liveness != tc.want {
					t.Fatalf("%s: verdict %v (%s), want %v", tc.name, v.Liveness, v.Why(), tc.want)
				}
				if v.Message() == "" {
					t.Errorf("%s: no screen message", tc.name)
				}
				a := gate.Attempt{Door: "lobby", Face: seq.Descriptor(), Liveness: v.Liveness}
				if pol == gate.FaceAndCardOrPIN {
					a.Card = []byte("card-1")
				}
				d := g.Admit(a)
				seq.Reset()
				if d.Admit != (tc.want == gate.Live) {
					t.Fatalf("%s: decision %+v", tc.name, d)
				}
				if tc.want != gate.Live && (!errors.Is(d.Err, gate.ErrNotLive) || d.Distance != 0) {
					t.Fatalf("%s: denied with %v at distance %v, want ErrNotLive without a match", tc.name, d.Err, d.Distance)
				}
			}
			ev, err := log.Events(clock.Now())
			if err != nil || len(ev) != len(cases) {
				t.Fatalf("log: %d events, %v", len(ev), err)
			}
			// Events of one minute are not kept in order: compare as sets.
			logged := map[string]int{}
			for _, e := range ev {
				logged[fmt.Sprintf("%s/%v", e.Liveness, e.Admitted)]++
			}
			for _, tc := range cases {
				k := fmt.Sprintf("%s/%v", tc.want, tc.want == gate.Live)
				if logged[k] == 0 {
					t.Errorf("%s: no event %s in %+v", tc.name, k, ev)
				}
				logged[k]--
			}
		})
	}
}

// TestVerdictMessages checks the screen message of each outcome of the
// fused rule.
func TestVerdictMessages(t *testing.T) {
	ev := func(checks ...string) probe.Verdict {
		v := probe.Verdict{Liveness: gate.NotLive}
		for _, c := range []string{"blink", "motion", "passive"} {
			pass := true
			for _, f := range checks {
				pass = pass && f != c
			}
			v.Result.Evidence = append(v.Result.Evidence, liveness.Evidence{Check: c, Pass: pass})
		}
		return v
	}
	for _, tc := range []struct {
		v    probe.Verdict
		want string
	}{
		{probe.Verdict{Liveness: gate.Live}, "thank you"},
		{probe.Verdict{Liveness: gate.LivenessUnchecked}, "look at the camera"},
		{ev("blink"), "please blink once while looking at the camera"},
		{ev("motion"), "please turn your head slightly while looking at the camera"},
		{ev("passive"), "photo or screen suspected: remove it and face the camera, or use your card or PIN"},
		{ev("blink", "motion"), "please blink once and turn your head slightly while looking at the camera"},
		{ev("passive", "blink"), "no live face seen: face the camera yourself, or use your card or PIN"},
		{ev("passive", "motion"), "no live face seen: face the camera yourself, or use your card or PIN"},
		{ev("passive", "blink", "motion"), "no live face seen: face the camera yourself, or use your card or PIN"},
		{probe.Verdict{Liveness: gate.NotLive, Err: liveness.ErrFrames}, "hold still and look at the camera, then try again"},
	} {
		if got := tc.v.Message(); got != tc.want {
			t.Errorf("%+v: %q, want %q", tc.v, got, tc.want)
		}
	}
}
