package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/facegate/facegate/examples/internal/site"
	"github.com/facegate/facegate/facematch/capture"
	"github.com/facegate/facegate/facematch/probe"
	"github.com/facegate/facegate/facematch/quality"
	"github.com/facegate/facegate/gate"
)

// frameResult is what the capture goroutine made of one frame: a probe
// that passed the verification gate, or why not. The frame itself is
// closed (its pixels zeroed) before the result is sent.
type frameResult struct {
	index int
	time  time.Duration
	probe probe.Probe
	err   error // quality rejection or extraction error
	fatal error // the source failed; no more frames
}

// loop is one running gate.
type loop struct {
	o     options
	site  *site.Site
	out   io.Writer // decision lines
	log   io.Writer // hints, relay and reader messages
	relay Relay
	pipe  *probe.Pipeline

	seq      *probe.Sequence // the face's frames until the liveness rule decides
	pending  *gate.Attempt
	deadline time.Time
	pendLine int
	quietTil time.Duration // frames before this time are skipped (cooldown)
	lastHint string
}

// frames runs the source until it ends, sending one result per frame.
func (l *loop) frames(src capture.Source, stop <-chan struct{}) <-chan frameResult {
	ch := make(chan frameResult)
	go func() {
		defer close(ch)
		for {
			f, err := src.Next()
			if errors.Is(err, io.EOF) {
				return
			}
			var r frameResult
			switch {
			case errors.Is(err, capture.ErrEmpty):
				r = frameResult{index: -1, err: err} // an undecodable image: skip it
			case err != nil:
				r = frameResult{fatal: err}
			default:
				r = frameResult{index: f.Index, time: f.Time}
				r.probe, r.err = l.pipe.Frame(f)
				f.Close()
			}
			select {
			case ch <- r:
			case <-stop:
				return
			}
			if r.fatal != nil {
				return
			}
		}
	}()
	return ch
}

func (l *loop) run(src capture.Source, lines <-chan readerLine) error {
	l.pipe = l.site.Probes(quality.Verification)
	l.seq = probe.NewSequence(l.o.rule)
	defer l.seq.Reset()
	stop := make(chan struct{})
	defer close(stop)
	frames := l.frames(src, stop)
	sig := interrupted()
	tick := time.NewTicker(250 * time.Millisecond)
	defer tick.Stop()
	for frames != nil || lines != nil {
		select {
		case r, ok := <-frames:
			if !ok {
				frames = nil
				continue
			}
			if r.fatal != nil {
				return r.fatal
			}
			l.frame(r)
		case ln, ok := <-lines:
			if !ok {
				lines = nil
				continue
			}
			l.line(ln)
		case <-tick.C:
			if l.pending != nil && time.Now().After(l.deadline) {
				l.decidePending("no face within the pair window")
			}
		case <-sig:
			fmt.Fprintln(l.log, "gate: interrupted")
			frames, lines = nil, nil
		}
	}
	if l.pending != nil {
		l.decidePending("no face came")
	}
	return nil
}

// hint tells the person at the door what to do, once per change.
func (l *loop) hint(s string) {
	if s != l.lastHint {
		fmt.Fprintf(l.log, "screen: %s\n", s)
		l.lastHint = s
	}
}

func (l *loop) reset() { l.seq.Reset() }

func (l *loop) frame(r frameResult) {
	if r.index >= 0 && r.time < l.quietTil {
		return
	}
	if r.err != nil {
		var rej *quality.Rejection
		switch {
		case errors.As(r.err, &rej):
			if !errors.Is(r.err, quality.NoFace) || l.seq.Len() > 0 {
				l.hint(rej.Message())
			}
		default:
			fmt.Fprintf(l.log, "frame %d: %v\n", r.index, r.err)
		}
		l.reset() // the face left or changed: start the sequence again
		return
	}
	l.hint("hold still, look at the camera")
	n := l.seq.Len() + 1
	if !l.seq.Add(r.time, r.probe) {
		return
	}
	source := fmt.Sprintf("frames %d-%d", r.index-n+1, r.index)
	if n == 1 {
		source = fmt.Sprintf("frame %d", r.index)
	}
	v := l.seq.Verdict()
	a := gate.Attempt{Door: l.o.door, Face: l.seq.Descriptor(), Liveness: v.Liveness}
	if v.Liveness == gate.NotLive {
		// The gate refuses the face without matching it and logs the
		// verdict; the screen says what to do.
		l.hint(v.Message())
		l.decide(a, source, v)
		l.reset()
		l.quietTil = r.time + l.o.cooldown
		return
	}
	if l.pending != nil {
		a.Card, a.PIN, a.Subject, a.QR = l.pending.Card, l.pending.PIN, l.pending.Subject, l.pending.QR
		source += fmt.Sprintf(" + reader line %d", l.pendLine)
		l.pending = nil
	}
	l.decide(a, source, v)
	l.reset()
	l.quietTil = r.time + l.o.cooldown
}

func (l *loop) line(ln readerLine) {
	if ln.err != nil {
		fmt.Fprintf(l.log, "reader line %d: %v\n", ln.n, ln.err)
		return
	}
	a := ln.attempt
	a.Door = l.o.door
	alone := (a.Card != nil) != (a.PIN != "") && a.QR == ""
	if l.o.policy&^gate.FaceWithoutLiveness == gate.FaceAndCardOrPIN && alone {
		if l.pending != nil {
			l.decidePending("replaced by another reader")
		}
		l.pending, l.pendLine, l.deadline = &a, ln.n, time.Now().Add(l.o.pairWindow)
		l.hint("now look at the camera")
		return
	}
	l.decide(a, fmt.Sprintf("reader line %d", ln.n), probe.Verdict{})
}

func (l *loop) decidePending(why string) {
	a := *l.pending
	l.pending = nil
	l.decide(a, fmt.Sprintf("reader line %d (%s)", l.pendLine, why), probe.Verdict{})
}

// decisionLine is one printed decision.
type decisionLine struct {
	Time     time.Time `json:"time"`
	Door     string    `json:"door"`
	Admit    bool      `json:"admit"`
	Method   string    `json:"method"`
	Subject  string    `json:"subject,omitempty"`
	Reason   string    `json:"reason"`
	Distance *float32  `json:"distance,omitempty"`
	Source   string    `json:"source"`
	Liveness string    `json:"liveness,omitempty"`
}

func (l *loop) decide(a gate.Attempt, source string, v probe.Verdict) {
	d := l.site.Gate.Admit(a)
	line := decisionLine{Time: time.Now().UTC(), Door: a.Door, Admit: d.Admit, Method: d.Method.String(), Reason: d.Reason, Source: source}
	if l.o.showSubject {
		line.Subject = d.Subject
	}
	if a.Face != nil {
		// gate.Decision.Distance is set only when the face matched someone;
		// a stranger's face has no distance to report (printing 0 would
		// read as a perfect match).
		if d.Distance > 0 {
			dist := d.Distance
			line.Distance = &dist
		}
		line.Liveness = l.o.liveName + " " + a.Liveness.String()
		if why := v.Why(); a.Liveness == gate.NotLive && why != "" {
			line.Liveness += ": " + why
		}
	}
	l.print(line)
	if d.Admit {
		if err := l.relay.Open(a.Door); err != nil {
			fmt.Fprintf(l.log, "relay: %v\n", err)
		}
		l.hint("welcome")
	} else if a.Liveness != gate.NotLive {
		l.hint("not admitted: " + d.Reason)
	}
}

func (l *loop) print(d decisionLine) {
	if l.o.json {
		b, _ := json.Marshal(d)
		fmt.Fprintf(l.out, "%s\n", b)
		return
	}
	word := "DENY"
	if d.Admit {
		word = "ADMIT"
	}
	s := fmt.Sprintf("%s door=%s %s method=%s", d.Time.Format(time.RFC3339), d.Door, word, d.Method)
	if d.Subject != "" {
		s += " subject=" + d.Subject
	}
	if d.Distance != nil && *d.Distance > 0 {
		s += fmt.Sprintf(" distance=%.3f", *d.Distance)
	}
	if d.Liveness != "" {
		s += " liveness=" + strings.ReplaceAll(d.Liveness, " ", "-")
	}
	s += fmt.Sprintf(" reason=%q source=%q", d.Reason, d.Source)
	fmt.Fprintln(l.out, s)
}
