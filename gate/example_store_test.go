package gate_test

import (
	"fmt"
	"log"
	"os"
	"path/filepath"

	"github.com/facegate/facegate/facematch"
	"github.com/facegate/facegate/facematch/gallery"
	"github.com/facegate/facegate/gate"
	"github.com/facegate/facegate/gate/accesslog"
	"github.com/facegate/facegate/store"
)

// A deployment wires the gate to the encrypted store file, a face gallery
// for its model, and an access log in the same store. The operator secret
// (here from a fixed string; in production 32 random bytes kept apart from
// the store) yields the card, QR and receipt keys.
func Example() {
	dir, _ := os.MkdirTemp("", "facegate-gate")
	defer os.RemoveAll(dir)
	st, err := store.Create(filepath.Join(dir, "gate.db"), store.Passphrase([]byte("store passphrase")),
		&store.Options{KDF: store.KDFParams{Time: 1, MemoryKiB: 64, Threads: 1}}) // cheap for the example
	if err != nil {
		log.Fatal(err)
	}
	defer st.Close()

	m := facematch.Model{ID: "dlib-resnet-v1", Dim: 128, Metric: facematch.Euclidean, Threshold: 0.6}
	faces, err := gallery.New(m, nil)
	if err != nil {
		log.Fatal(err)
	}
	accessLog, err := accesslog.New(st, accesslog.Options{}) // 7-day retention, 30-day hard limit
	if err != nil {
		log.Fatal(err)
	}
	keys, err := gate.DeriveKeys([]byte("an operator secret of 32+ bytes!"))
	if err != nil {
		log.Fatal(err)
	}
	g, err := gate.New(gate.Config{Records: st, Keys: keys, Faces: faces, Model: m, Log: accessLog})
	if err != nil {
		log.Fatal(err)
	}
	if err := g.Register("flat-12b", gate.Consent{Purpose: gate.PurposeEntry, How: "signed form", BirthYear: 1985}); err != nil {
		log.Fatal(err)
	}
	if err := g.SetCard("flat-12b", []byte{0x04, 0xa1, 0xb2, 0xc3}); err != nil {
		log.Fatal(err)
	}
	d := g.Admit(gate.Attempt{Door: "lobby", Card: []byte{0x04, 0xa1, 0xb2, 0xc3}})
	fmt.Println(d.Admit, d.Method, d.Subject)
	// Output: true card flat-12b
}
