package gate

import (
	"errors"
	"fmt"
)

// Liveness is the verdict of the liveness check on the face of an
// Attempt: whether the face in front of the camera was shown to be a live
// person and not a photo, a screen or a mask. The library's probe pipeline
// (facematch/probe) computes it from the active challenge and the passive
// check; the gate only reads it, applies the door's policy and logs it.
type Liveness uint8

const (
	// LivenessUnchecked means no liveness check ran (a single photo, or a
	// camera without the check). Under a policy that requires liveness the
	// face is not counted.
	LivenessUnchecked Liveness = iota
	// NotLive means a check ran and did not find a live person: a
	// presentation attack, or a sequence it could not judge.
	NotLive
	// Live means the checks found a live person.
	Live
)

// String returns "unchecked", "not-live" or "live"; the access log stores
// these words.
func (l Liveness) String() string {
	switch l {
	case LivenessUnchecked:
		return "unchecked"
	case NotLive:
		return "not-live"
	case Live:
		return "live"
	}
	return fmt.Sprintf("liveness(%d)", uint8(l))
}

// ErrNotLive is the failure of a face whose liveness check found no live
// person; ErrLivenessUnchecked that of a face presented without a check
// under a policy that requires one. Neither face is matched.
var (
	ErrNotLive           = errors.New("gate: face failed the liveness check")
	ErrLivenessUnchecked = errors.New("gate: face presented without a liveness check")
)

// liveness returns why a face with verdict l cannot count under p, or nil.
func (p Policy) liveness(l Liveness) error {
	switch {
	case l == Live, p&FaceWithoutLiveness != 0:
		return nil
	case l == NotLive:
		return ErrNotLive
	}
	return ErrLivenessUnchecked
}
