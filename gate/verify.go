package gate

import (
	"errors"
	"fmt"

	"github.com/facegate/facegate/facematch"
	"github.com/facegate/facegate/facematch/gallery"
)

// Verify compares a face descriptor (unprotected; the gate protects it)
// with the templates of one subject, 1:1, and returns the smallest
// distance and whether it is within the model's threshold. It checks the
// subject's face consent first: a subject who never consented, or whose
// consent was withdrawn or expired, gives ErrNoConsent or
// ErrConsentExpired; one with consent but no templates ErrNoFace; an
// unregistered subject ErrUnknownSubject; a gate without a gallery, or
// one whose gallery is no Verifier, ErrNoFace. Verify decides nothing at a door
// and logs nothing: doors use Admit.
func (g *Gate) Verify(subject string, descriptor []float32) (float32, bool, error) {
	v, ok := g.cfg.Faces.(Verifier)
	if !ok {
		return 0, false, fmt.Errorf("%w: the gate's gallery cannot verify 1:1", ErrNoFace)
	}
	if err := g.exists(subject); err != nil {
		return 0, false, err
	}
	if err := g.consentValid(subject, PurposeFace); err != nil {
		return 0, false, err
	}
	probe, err := g.transform().Apply(descriptor)
	if err != nil {
		return 0, false, fmt.Errorf("%w: %w", ErrInvalidDescriptor, err)
	}
	defer probe.Wipe()
	d, ok, err := v.Verify(subject, probe)
	switch {
	case errors.Is(err, facematch.ErrUnknownID):
		return 0, false, fmt.Errorf("%w: %q has none", ErrNoFace, subject)
	case err != nil:
		return 0, false, fmt.Errorf("%w: %w", ErrInvalidDescriptor, err)
	}
	return d, ok, nil
}

// Identify returns up to k subjects within the model's threshold of a
// face descriptor (unprotected; the gate protects it), closest first. The
// gallery holds only subjects whose face consent was valid when it was
// loaded or enrolled. It decides nothing at a door and logs nothing: doors
// use Admit.
func (g *Gate) Identify(descriptor []float32, k int) ([]gallery.Match, error) {
	if g.cfg.Faces == nil {
		return nil, fmt.Errorf("%w: the gate has no gallery", ErrNoFace)
	}
	probe, err := g.transform().Apply(descriptor)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidDescriptor, err)
	}
	defer probe.Wipe()
	m, err := g.cfg.Faces.Identify(probe, k)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidDescriptor, err)
	}
	return m, nil
}
