package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/facegate/facegate/compound"
	"github.com/facegate/facegate/examples/internal/site"
	"github.com/facegate/facegate/facematch"
	"github.com/facegate/facegate/facematch/gallery"
	"github.com/facegate/facegate/facematch/probe"
	"github.com/facegate/facegate/gate"
	"github.com/facegate/facegate/internal/testenv"
	"github.com/facegate/facegate/store"
)

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// TestCompoundGate: a gate started with --hub takes the compound's keys,
// syncs a card enrolled at the office, says on its screen line that it is
// in step, and admits the card.
func TestCompoundGate(t *testing.T) {
	models := testenv.Models(t, probe.Files(probe.DefaultBackend)...)
	dir := t.TempDir()
	key, err := compound.NewKey()
	if err != nil {
		t.Fatal(err)
	}
	if err := key.WriteFile(filepath.Join(dir, "compound.key")); err != nil {
		t.Fatal(err)
	}
	acc := compound.Access{Compound: "lotus", Gates: map[string]string{}}
	if acc.Office, err = compound.NewIdentity(filepath.Join(dir, "office.nk")); err != nil {
		t.Fatal(err)
	}
	if acc.Gates["north"], err = compound.NewIdentity(filepath.Join(dir, "north.nk")); err != nil {
		t.Fatal(err)
	}
	b := []byte(`{"compound":"lotus","office":"` + acc.Office + `","gates":{"north":"` + acc.Gates["north"] + `"}}`)
	if err := os.WriteFile(filepath.Join(dir, "access.json"), b, 0o644); err != nil {
		t.Fatal(err)
	}
	hub, err := compound.StartHub(compound.HubConfig{Dir: filepath.Join(dir, "js"), Compounds: []compound.Access{acc}})
	if err != nil {
		t.Fatal(err)
	}
	defer hub.Close()

	// The office registers a resident with a card.
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	onc, err := compound.DialOffice(hub.URL(), "lotus", filepath.Join(dir, "office.nk"))
	if err != nil {
		t.Fatal(err)
	}
	defer onc.Close()
	ostore, err := store.Create(filepath.Join(dir, "office.db"), mustSecret(t, 1), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ostore.Close()
	m := facematch.Model{ID: "m", Dim: 4, Metric: facematch.Euclidean, Threshold: 0.5}
	ogal, _ := gallery.New(m, nil)
	office, err := compound.NewOffice(ctx, compound.OfficeConfig{Compound: "lotus", Key: key, Store: ostore, Conn: onc,
		Gates: []string{"north"}, Faces: ogal, Model: m})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := office.Register(ctx, "flat-12b", gate.Consent{Purpose: gate.PurposeEntry, How: "test", BirthYear: 1970}); err != nil {
		t.Fatal(err)
	}
	if _, err := office.SetCard(ctx, "flat-12b", []byte{0x04, 0xa1, 0xb2, 0xc3}); err != nil {
		t.Fatal(err)
	}

	// The gate, as run() wires it.
	sec := mustSecret(t, 2)
	path := filepath.Join(dir, "gate.db")
	if err := site.Create(path, sec, probe.DefaultBackend, store.DefaultKDFParams); err != nil {
		t.Fatal(err)
	}
	cg, err := newCompoundGate(dir, "north", hub.URL())
	if err != nil {
		t.Fatal(err)
	}
	cfg := site.Config{Store: path, Models: models, Faces: true, Workers: 1}
	cg.configure(&cfg)
	s, err := site.Open(cfg, sec)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	log := &lockedBuffer{}
	stop, err := cg.start(s, log)
	if err != nil {
		t.Fatal(err)
	}
	defer stop()
	for !strings.Contains(log.String(), "screen: in step with the office") {
		if ctx.Err() != nil {
			t.Fatalf("never in step:\n%s", log.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	if d := s.Gate.Admit(gate.Attempt{Card: []byte{0x04, 0xa1, 0xb2, 0xc3}}); !d.Admit || d.Subject != "flat-12b" {
		t.Fatalf("card enrolled at the office refused at the gate: %+v", d)
	}
	if _, err := newCompoundGate(dir, "south", hub.URL()); err == nil {
		t.Fatal("a gate not in the compound was accepted")
	}
}

func mustSecret(t *testing.T, b byte) store.Secret {
	s, err := store.RawKey(bytes.Repeat([]byte{b}, 32))
	if err != nil {
		t.Fatal(err)
	}
	return s
}
