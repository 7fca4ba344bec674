package compound

import (
	"errors"
	"sync/atomic"

	"github.com/facegate/facegate/facematch"
	"github.com/facegate/facegate/facematch/gallery"
	"github.com/facegate/facegate/gate"
	"github.com/facegate/facegate/template"
)

// Gallery is a gate's face gallery behind a switch its Agent controls:
// Identify answers only while the agent says the gate is in step with the
// office ([Agent.FaceOpen]); otherwise it returns ErrStale, and the gate's
// Admit falls back to card, PIN and QR. Until an agent is bound the switch
// is off. Pass the Gallery to gate.New as Config.Faces, then to NewAgent.
type Gallery struct {
	inner gate.Gallery
	open  atomic.Pointer[func() bool]
}

// NewGallery wraps inner (a *gallery.Gallery).
func NewGallery(inner gate.Gallery) *Gallery { return &Gallery{inner: inner} }

func (g *Gallery) bind(open func() bool) { g.open.Store(&open) }

// Add adds a protected template (no switch: the gallery is kept in step
// even while matching is off).
func (g *Gallery) Add(id string, p template.Protected) error { return g.inner.Add(id, p) }

// Remove drops every template of id.
func (g *Gallery) Remove(id string) error { return g.inner.Remove(id) }

// drop removes id, holding none not being an error.
func (g *Gallery) drop(id string) error {
	if err := g.inner.Remove(id); err != nil && !errors.Is(err, facematch.ErrUnknownID) {
		return err
	}
	return nil
}

// Identify matches a protected probe while the face path is open and
// returns ErrStale while it is closed.
func (g *Gallery) Identify(p template.Protected, k int) ([]gallery.Match, error) {
	if open := g.open.Load(); open == nil || !(*open)() {
		return nil, ErrStale
	}
	return g.inner.Identify(p, k)
}
