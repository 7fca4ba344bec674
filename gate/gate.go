package gate

import (
	"fmt"
	"sync"
	"time"

	"github.com/facegate/facegate/facematch"
	"github.com/facegate/facegate/facematch/gallery"
	"github.com/facegate/facegate/gate/accesslog"
	"github.com/facegate/facegate/gate/records"
	"github.com/facegate/facegate/template"
)

// Gallery is the in-memory face matcher the gate keeps in step with the
// store; *gallery.Gallery satisfies it. It holds protected vectors only:
// the store's revocable transform preserves distances, so matching in the
// protected space gives the same answers.
type Gallery interface {
	// Add adds one more protected template for subject id.
	Add(id string, p template.Protected) error
	// Remove drops every template of id (facematch.ErrUnknownID when it
	// holds none).
	Remove(id string) error
	// Identify returns up to k subjects within the match threshold of the
	// protected probe, closest first.
	Identify(p template.Protected, k int) ([]gallery.Match, error)
}

// A Verifier is a Gallery that also compares a protected probe with one
// subject's templates (1:1), as *gallery.Gallery does; Gate.Verify
// needs one.
type Verifier interface {
	Gallery
	// Verify returns the smallest distance between p and id's templates
	// and whether it is within the threshold (facematch.ErrUnknownID when
	// id has none).
	Verify(id string, p template.Protected) (float32, bool, error)
}

// Store layout of the gate's own indexes, under subjects with a "/" that
// no subject ID can contain.
const (
	indexSubject   = "gate/index"
	subjectsClass  = "subjects"
	cardIndexClass = "card"
	qrIndexClass   = "qr"
	qrUsedSubject  = "gate/qr-used"
	qrUsedClass    = "used"
	cardName       = "card"
	pinName        = "pin"
)

// Config configures a Gate.
type Config struct {
	// Records is the sealed store. Required.
	Records records.Store
	// Keys are the operator's credential and receipt keys. Required.
	Keys Keys
	// Faces is the face gallery; nil runs the gate without faces (cards,
	// PINs and QR codes only).
	Faces Gallery
	// Model is the face model whose descriptors the gate receives (its ID
	// and Dim select the store's transform). Required with Faces.
	Model facematch.Model
	// Log receives every decision; nil keeps no log.
	Log *accesslog.Log
	// Clock returns the current time; nil means time.Now.
	Clock func() time.Time
	// Policy is the default door policy.
	Policy Policy
	// Doors sets the policy of individual doors by ID.
	Doors map[string]Policy
	// PINParams are the Argon2id parameters of new PINs; zero means
	// DefaultPINParams.
	PINParams PINParams
	// MaxPINFailures locks a PIN after that many failures in a row; zero
	// means DefaultMaxPINFailures.
	MaxPINFailures int
	// QRLifetime is how long issued QR codes live; zero means
	// DefaultQRLifetime.
	QRLifetime time.Duration
	// FaceSlots is how many face templates every subject's fixed slots
	// hold in a store that keeps a shape (see shape.go); zero means
	// DefaultFaceSlots.
	FaceSlots int
}

// Gate is a compound's access control: subjects, their consents and
// credentials, and decisions at the doors. It is safe for concurrent use.
type Gate struct {
	cfg Config
	// strictest is the door policy every enrolled face must have a
	// face-free alternative under.
	strictest Policy

	mu sync.Mutex // serialises changes to subjects and credential state

	// trMu guards tr, the store's transform for cfg.Model, loaded by New
	// and refreshed by ReloadFaces (after a re-key), so that matching a
	// probe does not read the store.
	trMu sync.RWMutex
	tr   *template.Transform

	// damaged lists what New could not load (see Damaged).
	damaged []error
}

// New returns a Gate on cfg. With a gallery it loads into it every face
// template of every subject whose face consent is valid. A subject whose
// records cannot be trusted (records.ErrDamaged: modified, replayed or
// deleted behind the store's back, or on a damaged page) is left out of
// the gallery and listed by Damaged, instead of keeping the gate from
// starting: everyone else's faces, and every card, PIN and QR code whose
// own records are sound, keep working.
func New(cfg Config) (*Gate, error) {
	if cfg.Records == nil {
		return nil, fmt.Errorf("%w: no record store", ErrConfig)
	}
	if err := cfg.Keys.check(); err != nil {
		return nil, err
	}
	if cfg.Faces != nil && (cfg.Model.ID == "" || cfg.Model.Dim < 1) {
		return nil, fmt.Errorf("%w: a gallery needs a model ID and dimension", ErrConfig)
	}
	if cfg.Clock == nil {
		cfg.Clock = time.Now
	}
	if cfg.PINParams == (PINParams{}) {
		cfg.PINParams = DefaultPINParams
	}
	if err := cfg.PINParams.check(); err != nil {
		return nil, err
	}
	if cfg.MaxPINFailures == 0 {
		cfg.MaxPINFailures = DefaultMaxPINFailures
	}
	if cfg.MaxPINFailures < 1 {
		return nil, fmt.Errorf("%w: MaxPINFailures %d", ErrConfig, cfg.MaxPINFailures)
	}
	if cfg.QRLifetime == 0 {
		cfg.QRLifetime = DefaultQRLifetime
	}
	if cfg.QRLifetime < time.Second || cfg.QRLifetime > 24*time.Hour {
		return nil, fmt.Errorf("%w: QR lifetime %v, want 1s..24h", ErrConfig, cfg.QRLifetime)
	}
	if cfg.FaceSlots == 0 {
		cfg.FaceSlots = DefaultFaceSlots
	}
	g := &Gate{cfg: cfg, strictest: cfg.Policy.rule()}
	g.setShape()
	for door, p := range cfg.Doors {
		if !p.Valid() {
			return nil, fmt.Errorf("%w: door %q has %v", ErrConfig, door, p)
		}
		g.strictest = max(g.strictest, p.rule())
	}
	if !cfg.Policy.Valid() {
		return nil, fmt.Errorf("%w: default %v", ErrConfig, cfg.Policy)
	}
	if cfg.Faces != nil {
		if err := g.loadTransform(); err != nil {
			return nil, err
		}
		if err := g.loadGallery(); err != nil {
			return nil, err
		}
	}
	return g, nil
}

func (g *Gate) now() time.Time { return g.cfg.Clock().UTC() }

func (g *Gate) policy(door string) Policy {
	if p, ok := g.cfg.Doors[door]; ok {
		return p
	}
	return g.cfg.Policy
}
