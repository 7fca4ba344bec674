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
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"time"

	"github.com/facegate/facegate/examples/internal/exitcode"
	"github.com/facegate/facegate/facematch"
	"github.com/facegate/facegate/facematch/antispoof"
	"github.com/facegate/facegate/facematch/gallery"
	"github.com/facegate/facegate/facematch/probe"
	"github.com/facegate/facegate/facematch/quality"
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
	// Passive also opens the passive presentation-attack check
	// (antispoof.Default), with Faces.
	Passive bool
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
	// ReadOnly opens the store read-only (store.Options.ReadOnly): reading
	// commands work on a file they may not write, and any write gives
	// store.ErrReadOnly. A file without write permission opens read-only
	// anyway.
	ReadOnly bool
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
	Backend *probe.Backend
	// Passive is the passive check, nil unless Config.Passive.
	Passive *antispoof.Net
	// Gallery holds the protected templates of every subject with valid
	// face consent, nil unless Config.Faces.
	Gallery *gallery.Gallery
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
func Create(path string, secret store.Secret, backend string, kdf store.KDFParams) error {
	if err := probe.Check(backend); err != nil {
		return fmt.Errorf("%w: --model: %w", exitcode.ErrUsage, err)
	}
	st, err := store.Create(path, secret, &store.Options{KDF: kdf})
	if err != nil {
		return fmt.Errorf("create store %s: %w", path, err)
	}
	op := make([]byte, 32)
	rand.Read(op) // never fails (crypto/rand)
	settings, _ := json.Marshal(Settings{Backend: backend, Created: time.Now().UTC()})
	err = st.Update(func(b records.Batch) error {
		if err := b.PutRecord(siteSubject, siteClass, operatorRecord, op); err != nil {
			return err
		}
		return b.PutRecord(siteSubject, siteClass, settingsRecord, settings)
	})
	clear(op)
	if err != nil {
		st.Close()
		os.Remove(path)
		return fmt.Errorf("create store %s: %w", path, err)
	}
	return st.Close()
}

// Open opens the site whose store is at cfg.Store with secret.
func Open(cfg Config, secret store.Secret) (*Site, error) {
	if cfg.Store == "" {
		return nil, fmt.Errorf("%w: no store given: use --store or %s", exitcode.ErrUsage, StoreEnv)
	}
	if _, err := os.Stat(cfg.Store); errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%w: %s", exitcode.ErrNoStore, cfg.Store)
	}
	st, err := store.Open(cfg.Store, secret, &store.Options{ReadOnly: cfg.ReadOnly})
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
	clear(op)
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
		if err := probe.Check(s.Settings.Backend); err != nil {
			return fmt.Errorf("%w: %w", exitcode.ErrUsage, err)
		}
		s.Backend, err = probe.Open(s.Settings.Backend, ModelDir(cfg.Models), cfg.Workers)
		if err != nil {
			return fmt.Errorf("%w: %w", exitcode.ErrSetup, err)
		}
		if cfg.Passive {
			if s.Passive, err = antispoof.Open(ModelDir(cfg.Models), antispoof.Default); err != nil {
				return fmt.Errorf("%w: %w", exitcode.ErrSetup, err)
			}
		}
		m := s.Backend.Model()
		s.Gallery, err = gallery.New(m, nil)
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
	if s.Passive != nil {
		errs = append(errs, s.Passive.Close())
	}
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

// Probes returns the site's probe pipeline under the quality gate q.
func (s *Site) Probes(q quality.Config) *probe.Pipeline {
	return &probe.Pipeline{Backend: s.Backend, Quality: q, Passive: s.Passive}
}
