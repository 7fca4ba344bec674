package exitcode

import (
	"errors"
	"fmt"
	"io/fs"
	"testing"

	"github.com/facegate/facegate/facematch"
	"github.com/facegate/facegate/facematch/quality"
	"github.com/facegate/facegate/gate"
	"github.com/facegate/facegate/store"
)

func TestOf(t *testing.T) {
	for _, tc := range []struct {
		err  error
		code int
	}{
		{nil, OK},
		{fmt.Errorf("%w: bad flag", ErrUsage), Usage},
		{fmt.Errorf("%w: no match", ErrDenied), Denied},
		{fmt.Errorf("open: %w", store.ErrWrongKey), Store},
		{&store.TamperedError{Record: "x", Err: errors.New("auth")}, Store},
		{fmt.Errorf("%w: /x", ErrNoStore), Store},
		{store.ErrNoSecret, Store},
		{fmt.Errorf("%w: dlib", ErrSetup), Store},
		{fmt.Errorf("enroll: %w", gate.ErrNoConsent), BadInput},
		{gate.ErrNoAlternative, BadInput},
		{gate.ErrInvalidSubject, BadInput},
		{gate.ErrLockedOut, Denied},
		{gate.ErrReplayed, Denied},
		{gate.ErrNotEnoughFactors, Denied},
		{errors.Join(fmt.Errorf("card: %w", gate.ErrUnknownSubject)), BadInput},
		{&quality.Rejection{Reasons: []quality.Reason{quality.Blurred}}, BadInput},
		{&facematch.MultipleFacesError{N: 2}, BadInput},
		{fmt.Errorf("photo: %w", fs.ErrNotExist), BadInput},
		{errors.New("disk on fire"), Store},
	} {
		if got := Of(tc.err); got != tc.code {
			t.Errorf("Of(%v) = %d, want %d", tc.err, got, tc.code)
		}
	}
}

// TestHint checks that every failure has something to tell the operator
// and that the hint is the specific one, not the fallback.
func TestHint(t *testing.T) {
	if Hint(nil) != "" {
		t.Error("Hint(nil) is not empty")
	}
	fallback := Hint(errors.New("unknown"))
	if fallback == "" {
		t.Fatal("no fallback hint")
	}
	for _, r := range rules {
		if r.code == Denied && r.hint == "" || r.err == ErrInput {
			continue
		}
		h := Hint(fmt.Errorf("wrapped: %w", r.err))
		if h == "" || h == fallback {
			t.Errorf("Hint(%v) = %q", r.err, h)
		}
	}
	if h := Hint(&quality.Rejection{Reasons: []quality.Reason{quality.TooDark, quality.Blurred}}); h != Hint(quality.TooDark) {
		t.Errorf("a rejection's hint is %q, want the first reason's %q", h, Hint(quality.TooDark))
	}
}
