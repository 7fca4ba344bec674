package gate

import (
	"bytes"
	"encoding/binary"
	"errors"
	"math"
	"math/rand/v2"
	"path/filepath"
	"testing"
	"time"

	"github.com/facegate/facegate/facematch"
	"github.com/facegate/facegate/facematch/gallery"
	"github.com/facegate/facegate/gate/accesslog"
	"github.com/facegate/facegate/gate/records"
	"github.com/facegate/facegate/gate/records/recordstest"
	"github.com/facegate/facegate/store"
)

var testModel = facematch.Model{ID: "test-model-128", Dim: 128, Metric: facematch.Euclidean, Threshold: 0.6}

// fastPIN keeps Argon2id cheap in tests; the parameters are stored with
// each hash, so this changes nothing else.
var fastPIN = PINParams{Time: 1, Memory: 64, Threads: 1}

var t0 = time.Date(2026, 11, 24, 8, 0, 0, 0, time.UTC)

type env struct {
	g     *Gate
	st    records.Store
	mem   *recordstest.Store // nil on the real store
	faces *gallery.Gallery
	clock *recordstest.Clock
	keys  Keys
	log   *accesslog.Log
}

type option func(*Config)

func withPolicy(p Policy) option { return func(c *Config) { c.Policy = p } }
func withoutFaces() option       { return func(c *Config) { c.Faces = nil } }
func withMaxPIN(n int) option    { return func(c *Config) { c.MaxPINFailures = n } }

func testKeys(t testing.TB) Keys {
	k, err := DeriveKeys(bytes.Repeat([]byte{7}, KeySize))
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// newEnv builds a gate on st (nil: a fresh in-memory store).
func newEnv(t testing.TB, st records.Store, opts ...option) *env {
	t.Helper()
	e := &env{st: st, clock: recordstest.NewClock(t0), keys: testKeys(t)}
	if st == nil {
		e.mem = recordstest.New()
		e.st = e.mem
	}
	faces, err := gallery.New(testModel, nil)
	if err != nil {
		t.Fatal(err)
	}
	e.faces = faces
	e.log, err = accesslog.New(e.st, accesslog.Options{Clock: e.clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	cfg := Config{Records: e.st, Keys: e.keys, Faces: faces, Model: testModel, Log: e.log,
		Clock: e.clock.Now, PINParams: fastPIN}
	for _, o := range opts {
		o(&cfg)
	}
	e.g, err = New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func adult(p Purpose) Consent {
	return Consent{Purpose: p, How: "signed form", BirthYear: 1980}
}

// register adds subject with entry consent, and face consent when face.
func (e *env) register(t testing.TB, subject string, face bool) {
	t.Helper()
	if err := e.g.Register(subject, adult(PurposeEntry)); err != nil {
		t.Fatal(err)
	}
	if face {
		if err := e.g.GiveConsent(subject, adult(PurposeFace)); err != nil {
			t.Fatal(err)
		}
	}
}

// vector returns a reproducible random unit descriptor for seed.
func vector(seed uint64) []float32 {
	r := rand.New(rand.NewPCG(seed, 99))
	v := make([]float32, testModel.Dim)
	var n float64
	for i := range v {
		v[i] = float32(r.NormFloat64())
		n += float64(v[i] * v[i])
	}
	for i := range v {
		v[i] /= float32(math.Sqrt(n))
	}
	return v
}

// near returns v with a little noise: the same face captured again.
func near(v []float32, seed uint64) []float32 {
	r := rand.New(rand.NewPCG(seed, 7))
	w := make([]float32, len(v))
	for i := range v {
		w[i] = v[i] + float32(r.NormFloat64()*0.01)
	}
	return w
}

func mustAdmit(t *testing.T, d Decision, subject string) {
	t.Helper()
	if !d.Admit || d.Subject != subject {
		t.Fatalf("decision %+v, want %s admitted", d, subject)
	}
}

func mustDeny(t *testing.T, d Decision, want error) {
	t.Helper()
	if d.Admit {
		t.Fatalf("admitted %+v, want denied with %v", d, want)
	}
	if want != nil && !errors.Is(d.Err, want) {
		t.Fatalf("denied with %v, want %v", d.Err, want)
	}
}

func floatBytes(v []float32) []byte {
	b := make([]byte, 0, 4*len(v))
	for _, x := range v {
		b = binary.LittleEndian.AppendUint32(b, math.Float32bits(x))
	}
	return b
}

// cheapKDF keeps store creation fast in tests.
var cheapKDF = &store.Options{KDF: store.KDFParams{Time: 1, MemoryKiB: 64, Threads: 1}}

func newStore(t testing.TB) *store.Store {
	t.Helper()
	s, err := store.Create(filepath.Join(t.TempDir(), "gate.db"), store.Passphrase([]byte("test passphrase")), cheapKDF)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}
