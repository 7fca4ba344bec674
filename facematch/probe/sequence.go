package probe

import (
	"fmt"
	"strings"
	"time"

	"github.com/facegate/facegate/facematch/antispoof"
	"github.com/facegate/facegate/facematch/liveness"
	"github.com/facegate/facegate/gate"
)

// Rule is how a gate decides liveness from a sequence of probes of one
// face. It fuses the active challenge (Active: the blink challenge and/or
// the non-planar motion check of facematch/liveness) with the passive
// check (the median per-frame bona fide score of facematch/antispoof must
// reach PassiveMin) by AND: the face is Live only when every configured
// check passes. AND, not a weighted sum, because the two stop different
// attacks: the active challenge stops a still print or a photo on a screen
// (no blink, planar motion) but not a replayed video; the passive network
// looks for print and screen texture in every frame but, alone, misses
// many attacks at a BPCER a gate can live with (docs/pad.md has the
// measured figures and the operating point). A rule with neither check
// gives LivenessUnchecked.
type Rule struct {
	// Active is the active challenge; nil has none.
	Active liveness.Liveness
	// Passive enables the passive check with threshold PassiveMin (the
	// pipeline must then have a passive network, or every frame scores 0
	// and fails).
	Passive    bool
	PassiveMin float64
	// Frames is how many consecutive probes of one face make a decision.
	Frames int
}

// DefaultRule is the blink challenge (liveness.DefaultBlink) and the
// non-planar motion check, fused with the passive check at
// antispoof.Default's Threshold, over 45 frames (3 s at 15 fps: time
// for one blink and a slight head turn).
var DefaultRule = Rule{
	Active:     liveness.All{liveness.DefaultBlink, liveness.DefaultMotion},
	Passive:    true,
	PassiveMin: antispoof.Default.Threshold,
	Frames:     45,
}

// Verdict is a Rule's decision on a sequence.
type Verdict struct {
	// Liveness is the gate's verdict, to put in gate.Attempt.
	Liveness gate.Liveness
	// Result is the checks' decision with their evidence (for the audit).
	Result liveness.Result
	// Err is set when the frames could not be judged (then NotLive).
	Err error
}

// Sequence collects the probes of one face until its Rule can decide. It
// is not safe for concurrent use. The descriptor of the last probe is kept
// for the attempt; Reset zeroes it.
type Sequence struct {
	rule   Rule
	frames []liveness.Frame
	last   []float32
}

// NewSequence returns an empty sequence judged by r.
func NewSequence(r Rule) *Sequence { return &Sequence{rule: r} }

// Add appends the probe p taken at time t and reports whether the
// sequence now has the rule's number of frames.
func (s *Sequence) Add(t time.Duration, p Probe) bool {
	s.frames = append(s.frames, liveness.Frame{Time: t, Landmarks: p.Face.Landmarks, Passive: max(p.Passive, 0)})
	clear(s.last)
	s.last = p.Face.Descriptor
	return len(s.frames) >= max(s.rule.Frames, 1)
}

// Len is the number of frames collected.
func (s *Sequence) Len() int { return len(s.frames) }

// Descriptor is the descriptor of the last probe added (owned by the
// sequence until Reset).
func (s *Sequence) Descriptor() []float32 { return s.last }

// Reset forgets the frames and zeroes the kept landmarks and descriptor.
func (s *Sequence) Reset() {
	for i := range s.frames {
		clear(s.frames[i].Landmarks)
	}
	s.frames = s.frames[:0]
	clear(s.last)
	s.last = nil
}

// Verdict judges the frames collected.
func (s *Sequence) Verdict() Verdict {
	var checks liveness.All
	if s.rule.Active != nil {
		checks = append(checks, s.rule.Active)
	}
	if s.rule.Passive {
		checks = append(checks, liveness.Passive{MinScore: s.rule.PassiveMin})
	}
	if len(checks) == 0 {
		return Verdict{Liveness: gate.LivenessUnchecked}
	}
	r, err := checks.Check(s.frames)
	if err != nil {
		return Verdict{Liveness: gate.NotLive, Err: err}
	}
	v := Verdict{Liveness: gate.NotLive, Result: r}
	if r.Live {
		v.Liveness = gate.Live
	}
	return v
}

// Message is what the gate's screen shows the person at the door for the
// verdict (nothing that names anyone), before the door's decision.
func (v Verdict) Message() string {
	switch v.Liveness {
	case gate.Live:
		return "thank you"
	case gate.LivenessUnchecked:
		return "look at the camera"
	}
	if v.Err != nil {
		return "hold still and look at the camera, then try again"
	}
	failed := map[string]bool{}
	for _, e := range v.Result.Evidence {
		if !e.Pass {
			failed[e.Check] = true
		}
	}
	switch {
	case failed["passive"] && (failed["blink"] || failed["motion"]):
		return "no live face seen: face the camera yourself, or use your card or PIN"
	case failed["passive"]:
		return "photo or screen suspected: remove it and face the camera, or use your card or PIN"
	case failed["blink"] && failed["motion"]:
		return "please blink once and turn your head slightly while looking at the camera"
	case failed["blink"]:
		return "please blink once while looking at the camera"
	case failed["motion"]:
		return "please turn your head slightly while looking at the camera"
	}
	return "not accepted: use your card or PIN"
}

// Why is the verdict's failed checks with their values, for the operator's
// log ("" when Live).
func (v Verdict) Why() string {
	if v.Err != nil {
		return v.Err.Error()
	}
	var ev []string
	for _, e := range v.Result.Evidence {
		if !e.Pass {
			ev = append(ev, fmt.Sprintf("%s %.4f < %.4f", e.Check, e.Value, e.Threshold))
		}
	}
	return strings.Join(ev, ", ")
}
