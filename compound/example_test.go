package compound_test

import (
	"context"
	"crypto/rand"
	"fmt"
	"os"
	"path/filepath"

	"github.com/facegate/facegate/compound"
	"github.com/facegate/facegate/facematch"
	"github.com/facegate/facegate/facematch/gallery"
	"github.com/facegate/facegate/gate"
	"github.com/facegate/facegate/store"
)

// An office and one gate on a loopback hub: a card enrolled at the office
// opens the gate once the gate's agent has caught up. Errors are elided.
func Example() {
	dir, _ := os.MkdirTemp("", "compound-example")
	defer os.RemoveAll(dir)
	ctx := context.Background()

	// Provisioned out of band: the compound key, and one NKey per party.
	key, _ := compound.NewKey()
	officePub, _ := compound.NewIdentity(filepath.Join(dir, "office.nk"))
	gatePub, _ := compound.NewIdentity(filepath.Join(dir, "north.nk"))
	hub, err := compound.StartHub(compound.HubConfig{Dir: filepath.Join(dir, "jetstream"),
		Compounds: []compound.Access{{Compound: "lotus", Office: officePub, Gates: map[string]string{"north": gatePub}}}})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer hub.Close()
	model := facematch.Model{ID: "demo", Dim: 4, Metric: facematch.Euclidean, Threshold: 0.5}
	newStore := func(name string) *store.Store {
		k := make([]byte, store.KeySize)
		rand.Read(k)
		sec, _ := store.RawKey(k)
		st, _ := store.Create(filepath.Join(dir, name), sec, nil)
		return st
	}

	// The office.
	onc, _ := compound.DialOffice(hub.URL(), "lotus", filepath.Join(dir, "office.nk"))
	defer onc.Close()
	ost := newStore("office.db")
	defer ost.Close()
	ogal, _ := gallery.New(model, nil)
	office, err := compound.NewOffice(ctx, compound.OfficeConfig{Compound: "lotus", Key: key, Store: ost, Conn: onc,
		Gates: []string{"north"}, Faces: ogal, Model: model})
	if err != nil {
		fmt.Println(err)
		return
	}
	office.Register(ctx, "flat-12b", gate.Consent{Purpose: gate.PurposeEntry, How: "signed form", BirthYear: 1985})
	seq, _ := office.SetCard(ctx, "flat-12b", []byte{0x04, 0xa1, 0xb2, 0xc3})

	// A gate: its own store, the compound's keys, a switched gallery.
	gst := newStore("north.db")
	defer gst.Close()
	keys, _ := key.GateKeys()
	gal, _ := gallery.New(model, nil)
	faces := compound.NewGallery(gal)
	g, _ := gate.New(gate.Config{Records: gst, Keys: keys, Faces: faces, Model: model})
	gnc, _ := compound.DialGate(hub.URL(), "lotus", "north", filepath.Join(dir, "north.nk"))
	defer gnc.Close()
	agent, _ := compound.NewAgent(compound.AgentConfig{Compound: "lotus", GateID: "north", Key: key,
		Store: gst, Gate: g, Faces: faces, Conn: gnc})
	fmt.Println(agent.Status().Line())
	for !agent.FaceOpen() {
		if _, err := agent.Step(ctx); err != nil { // Run(ctx) in a real gate
			fmt.Println(err)
			return
		}
	}
	fmt.Println(agent.Status().Line(), agent.Status().Applied == seq)
	d := g.Admit(gate.Attempt{Card: []byte{0x04, 0xa1, 0xb2, 0xc3}})
	fmt.Println(d.Admit, d.Subject)
	// Output:
	// catching up with the office (change 0): card, PIN, QR only
	// in step with the office (change 2): face, card, PIN, QR true
	// true flat-12b
}
