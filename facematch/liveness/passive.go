package liveness

import (
	"fmt"
	"slices"
)

// Passive is the passive presentation-attack check over a sequence: the
// median of the frames' Passive scores (single-frame bona fide scores of
// facematch/antispoof) must reach MinScore. The median, not the mean or
// the minimum, so that one badly lit or blurred frame neither passes an
// attack nor rejects a live person.
type Passive struct {
	// MinScore is the smallest accepted median bona fide score.
	MinScore float64
}

// Check takes the median passive score of frames.
func (p Passive) Check(frames []Frame) (Result, error) {
	if len(frames) == 0 {
		return Result{}, &FrameError{Index: -1, Reason: "no frames"}
	}
	s := make([]float64, len(frames))
	for i, f := range frames {
		if !(f.Passive >= 0 && f.Passive <= 1) {
			return Result{}, &FrameError{Index: i, Reason: fmt.Sprintf("passive score %v outside [0, 1]", f.Passive)}
		}
		s[i] = f.Passive
	}
	slices.Sort(s)
	med := s[len(s)/2]
	if len(s)%2 == 0 {
		med = (s[len(s)/2-1] + s[len(s)/2]) / 2
	}
	ev := Evidence{Check: "passive", Value: med, Threshold: p.MinScore, Pass: med >= p.MinScore}
	ev.Detail = fmt.Sprintf("median bona fide score %.3f over %d frames (lowest %.3f, highest %.3f); a print or screen scores under %.3f",
		med, len(s), s[0], s[len(s)-1], p.MinScore)
	return result(ev), nil
}
