package compound

import (
	"errors"
	"fmt"

	"github.com/facegate/facegate/gate"
)

// Errors of the package; test with errors.Is.
var (
	// ErrKey reports an unusable compound key or key file.
	ErrKey = errors.New("compound: invalid compound key")
	// ErrInvalidID reports a compound or gate ID outside [A-Za-z0-9_-]{1,32}.
	ErrInvalidID = errors.New("compound: invalid compound or gate ID")
	// ErrTruncated reports a message shorter than its header and tag.
	ErrTruncated = errors.New("compound: message truncated")
	// ErrFormat reports a message that is not a sealed FaceGate change or
	// ack, or whose opened body does not decode or does not fit its kind.
	ErrFormat = errors.New("compound: malformed message")
	// ErrAuth reports a message that failed authentication: sealed under
	// another compound's key, modified, or moved to another subject or
	// stream sequence (a replayed copy lands at a new sequence).
	ErrAuth = errors.New("compound: message failed authentication (wrong compound key, tampered or replayed)")
	// ErrUnknownKind reports an authentic change of a kind this build does
	// not know.
	ErrUnknownKind = errors.New("compound: unknown change kind")
	// ErrReplayed reports a change at or below the sequence the gate has
	// already applied.
	ErrReplayed = errors.New("compound: change older than the gate's state (replayed or out of order)")
	// ErrOutOfOrder reports a change that does not follow the gate's state
	// (a transform generation that skips one, say).
	ErrOutOfOrder = errors.New("compound: change out of order")
	// ErrRolledBack reports a gate store older than what the gate has
	// already acknowledged to the server: an old copy of the store was
	// restored. The agent refuses to run on it.
	ErrRolledBack = errors.New("compound: gate store is older than the stream says it applied (restored old copy?)")
	// ErrDiverged reports a gate store that cannot take a change the way the
	// office made it (a template ID or transform that differs): the stores
	// are no longer copies of each other.
	ErrDiverged = errors.New("compound: gate store diverged from the office")
	// ErrNotPublished reports an office change that is committed in the
	// office's store but not yet acknowledged by the stream; it is
	// published again before the next change.
	ErrNotPublished = errors.New("compound: change not yet acknowledged by the stream")
)

// ErrStale is returned (inside a denied face Decision's error) by a gate
// whose face path is closed because it has not heard from the stream for
// longer than its StaleAfter, or has not caught up since it started. It
// matches gate.ErrNoFace: cards, PINs and QR codes still work.
var ErrStale = fmt.Errorf("%w: compound gate not in step with the office", gate.ErrNoFace)

// checkID validates a compound or gate ID: it is a NATS subject token and a
// stream name part.
func checkID(what, id string) error {
	if len(id) == 0 || len(id) > 32 {
		return fmt.Errorf("%w: %s ID %q is %d bytes, want 1..32", ErrInvalidID, what, id, len(id))
	}
	for _, c := range []byte(id) {
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_' || c == '-') {
			return fmt.Errorf("%w: %s ID %q holds %q", ErrInvalidID, what, id, c)
		}
	}
	return nil
}
