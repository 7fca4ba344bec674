// Package site wires FaceGate's library packages into one compound's
// deployment for the example programs: the encrypted store file, the
// operator keys kept sealed inside it, the face extractor and gallery, the
// access log and the gate.
//
// It uses only the public API of the library packages. What it adds is
// the deployment's own bookkeeping, sealed in the store under subjects
// with a "/" that no gate subject ID can take: the operator secret the
// gate's card, QR and receipt keys derive from, and the face backend the
// store was created for (one backend per store, since templates of two
// models can never be compared).
package site

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"time"

	"github.com/facegate/facegate/crypto"
	"github.com/facegate/facegate/examples/internal/exitcode"
	"github.com/facegate/facegate/facematch"
	"github.com/facegate/facegate/gate"
	"github.com/facegate/facegate/gate/accesslog"
	"github.com/facegate/facegate/gate/records"
	"github.com/facegate/facegate/store"
)

// StoreEnv is the environment variable naming the store file when no
// --store flag is given.
const StoreEnv = "FACEGATE_STORE"

// ModelsEnv is the environment variable naming the model directory.
const ModelsEnv = "FACEGATE_MODELS"

// Where the site's own records live in the store.
const (
	siteSubject    = "facegate-site/config"
	siteClass      = "site"
	operatorRecord = "operator-secret"
	settingsRecord = "settings"
)

// Settings are the deployment choices fixed when the store is created.
type Settings struct {
	// Backend is the face backend: "dlib", "arcface-<network>" or
	// "faceplugin+<network>" (site.Backends).
	Backend string `json:"backend"`
	// Created is when the store was created.
	Created time.Time `json:"created"`
}

// Config says where a site's parts are and how its gate behaves.
type Config struct {
	// Store is the store file's path.
	Store string
	// Models is the model directory; "" means $FACEGATE_MODELS or ./models.
	Models string
	// Faces opens the face extractor and gallery. Commands that only touch
	// consents, credentials or the log leave it false and start faster.
	Faces bool
	// Workers is the extractor's pool size; 0 means one per CPU.
	Workers int
	// Policy is the default door policy.
	Policy gate.Policy
	// Clock returns the current time; nil means time.Now.
	Clock func() time.Time
	// Retention is the access log's retention window; 0 means the default.
	Retention time.Duration
	// Keys, if set, replace the operator keys kept in the store: a gate of
	// a compound uses the compound's (compound.Key.GateKeys).
	Keys *gate.Keys
	// WrapFaces, if set, wraps the gallery before the gate gets it (a
	// compound gate's compound.NewGallery switch).
	WrapFaces func(gate.Gallery) gate.Gallery
}

// Site is an opened deployment.
type Site struct {
	// Store is the encrypted store.
	Store *store.Store
	// Gate is the policy layer on the store.
	Gate *gate.Gate
	// Log is the access log in the store.
	Log *accesslog.Log
	// Keys are the operator keys (card, QR, receipt).
	Keys gate.Keys
	// Settings are the store's deployment settings.
	Settings Settings
	// Backend is the face backend, nil unless Config.Faces.
	Backend *Backend
	// Gallery holds the protected templates of every subject with valid
	// face consent, nil unless Config.Faces.
	Gallery *facematch.Gallery
}

// ModelDir returns dir, or $FACEGATE_MODELS, or "models".
func ModelDir(dir string) string {
	if dir != "" {
		return dir
	}
	if d := os.Getenv(ModelsEnv); d != "" {
		return d
	}
	return "models"
}

// Create makes a new store at path unlocked by secret, with a fresh random
// operator secret and the given face backend, and closes it.
func Create(path string, secret crypto.Secret, backend string, kdf crypto.KDFParams) error {
	if err := CheckBackend(backend); err != nil {
		return err
	}
	st, err := store.Create(path, secret, &store.Options{KDF: kdf})
	if err != nil {
		return fmt.Errorf("create store %s: %w", path, err)
	}
	op, err := crypto.NewKey()
	if err != nil {
		st.Close()
		return err
	}
	settings, _ := json.Marshal(Settings{Backend: backend, Created: time.Now().UTC()})
	err = st.Update(func(b records.Batch) error {
		if err := b.PutRecord(siteSubject, siteClass, operatorRecord, op.Bytes()); err != nil {
			return err
		}
		return b.PutRecord(siteSubject, siteClass, settingsRecord, settings)
	})
	op.Wipe()
	if err != nil {
		st.Close()
		os.Remove(path)
		return fmt.Errorf("create store %s: %w", path, err)
	}
	return st.Close()
}

// Open opens the site whose store is at cfg.Store with secret.
func Open(cfg Config, secret crypto.Secret) (*Site, error) {
	if cfg.Store == "" {
		return nil, fmt.Errorf("%w: no store given: use --store or %s", exitcode.ErrUsage, StoreEnv)
	}
	if _, err := os.Stat(cfg.Store); errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%w: %s", exitcode.ErrNoStore, cfg.Store)
	}
	st, err := store.Open(cfg.Store, secret, nil)
	if err != nil {
		return nil, fmt.Errorf("open store %s: %w", cfg.Store, err)
	}
	s := &Site{Store: st}
	if err := s.open(cfg); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

func (s *Site) open(cfg Config) error {
	raw, err := s.Store.GetRecord(siteSubject, siteClass, settingsRecord)
	if records.NotFound(err) {
		return fmt.Errorf("%w: the store has no site settings (was it made by `facegate init`?)", store.ErrNotStore)
	}
	if err != nil {
		return err
	}
	if err := json.Unmarshal(raw, &s.Settings); err != nil {
		return fmt.Errorf("%w: site settings: %v", gate.ErrCorrupt, err)
	}
	op, err := s.Store.GetRecord(siteSubject, siteClass, operatorRecord)
	if err != nil {
		return fmt.Errorf("operator secret: %w", err)
	}
	s.Keys, err = gate.DeriveKeys(op)
	crypto.Zero(op)
	if err != nil {
		return err
	}
	if cfg.Keys != nil {
		s.Keys = *cfg.Keys
	}
	s.Log, err = accesslog.New(s.Store, accesslog.Options{Clock: cfg.Clock, Retention: cfg.Retention})
	if err != nil {
		return err
	}
	gcfg := gate.Config{Records: s.Store, Keys: s.Keys, Log: s.Log, Clock: cfg.Clock, Policy: cfg.Policy}
	if cfg.Faces {
		s.Backend, err = OpenBackend(s.Settings.Backend, ModelDir(cfg.Models), cfg.Workers)
		if err != nil {
			return err
		}
		m := s.Backend.Model()
		s.Gallery, err = facematch.NewGallery(m, nil)
		if err != nil {
			return err
		}
		gcfg.Faces, gcfg.Model = s.Gallery, m
		if cfg.WrapFaces != nil {
			gcfg.Faces = cfg.WrapFaces(s.Gallery)
		}
	}
	s.Gate, err = gate.New(gcfg)
	return err
}

// Close closes the backend and the store.
func (s *Site) Close() error {
	var errs []error
	if s.Backend != nil {
		errs = append(errs, s.Backend.Close())
	}
	if s.Store != nil {
		errs = append(errs, s.Store.Close())
	}
	return errors.Join(errs...)
}

// Model returns the face model of the site's backend.
func (s *Site) Model() facematch.Model { return s.Backend.Model() }

// protect maps a raw descriptor into the store's protected space, where
// the gallery's templates live.
func (s *Site) protect(descriptor []float32) (facematch.Embedding, error) {
	m := s.Model()
	tr, err := s.Store.Transform(m.ID, m.Dim)
	if err != nil {
		return facematch.Embedding{}, err
	}
	p, err := tr.Apply(descriptor)
	if err != nil {
		return facematch.Embedding{}, fmt.Errorf("%w: %w", gate.ErrInvalidDescriptor, err)
	}
	return m.Embedding(p), nil
}

// Verify compares a face descriptor with the templates of subject and
// returns the distance to the closest and whether it is within the
// threshold. A subject without templates in the gallery (never enrolled,
// or face consent withdrawn or expired) gives an error wrapping
// gate.ErrNoFace.
func (s *Site) Verify(subject string, descriptor []float32) (float32, bool, error) {
	if err := gate.CheckSubject(subject); err != nil {
		return 0, false, err
	}
	e, err := s.protect(descriptor)
	if err != nil {
		return 0, false, err
	}
	defer clear(e.Vector)
	if s.Gallery.Templates(subject) == 0 {
		if _, err := s.Gate.Consent(subject, gate.PurposeEntry); errors.Is(err, gate.ErrNoConsent) {
			return 0, false, fmt.Errorf("%w: %q", gate.ErrUnknownSubject, subject)
		}
		if err := s.faceConsent(subject); err != nil {
			return 0, false, err
		}
		return 0, false, fmt.Errorf("%w: %q has none", gate.ErrNoFace, subject)
	}
	d, ok, err := s.Gallery.Verify(subject, e)
	return d, ok, err
}

// faceConsent returns why subject's face cannot be matched, or nil.
func (s *Site) faceConsent(subject string) error {
	c, err := s.Gate.Consent(subject, gate.PurposeFace)
	if err != nil {
		return err
	}
	return c.ValidAt(time.Now())
}

// Search returns the k enrolled subjects closest to descriptor whatever
// their distance (for reports); access decisions use Gate.Admit.
func (s *Site) Search(descriptor []float32, k int) ([]facematch.Match, error) {
	e, err := s.protect(descriptor)
	if err != nil {
		return nil, err
	}
	defer clear(e.Vector)
	return s.Gallery.Search(e, k)
}

// Identify returns up to k subjects within the threshold of descriptor,
// closest first.
func (s *Site) Identify(descriptor []float32, k int) ([]facematch.Match, error) {
	e, err := s.protect(descriptor)
	if err != nil {
		return nil, err
	}
	defer clear(e.Vector)
	return s.Gallery.Identify(e, k)
}
