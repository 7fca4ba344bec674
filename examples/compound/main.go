// Command compound walks a compound of gates through the life of a
// resident's face, on the loopback interface: it starts the office hub (an
// embedded NATS server with JetStream in a temporary directory), the office
// and three gates, each gate with its own encrypted store, and then
//
//  1. enrolls residents at the office (entry consent, card, face consent,
//     face template — four changes each);
//  2. admits each of them by face at every gate, and shows each gate's lag;
//  3. withdraws one resident's face consent at the office and waits for
//     every gate's confirmation (the withdrawal receipt), after which the
//     office erases the earlier messages of that face from the stream;
//  4. shows that the face is refused at every gate,
//  5. and that the resident's card still opens every gate.
//
// Faces are synthetic descriptors (random unit vectors) so that the
// walkthrough needs no camera or model: the gates receive descriptors
// exactly as a facematch extractor would hand them over. Exit code 0 when
// every step came out as it must, 1 otherwise.
//
// Usage:
//
//	compound [--residents N] [--v]
package main

import (
	"context"
	crand "crypto/rand"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/facegate/facegate/compound"
	"github.com/facegate/facegate/facematch"
	"github.com/facegate/facegate/facematch/gallery"
	"github.com/facegate/facegate/gate"
	"github.com/facegate/facegate/store"
)

func main() {
	residents := flag.Int("residents", 5, "residents to enroll")
	verbose := flag.Bool("v", false, "log what the office and the agents do")
	flag.Parse()
	dir, err := os.MkdirTemp("", "facegate-compound-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "compound:", err)
		os.Exit(1)
	}
	defer os.RemoveAll(dir)
	log := slog.New(slog.DiscardHandler)
	if *verbose {
		log = slog.New(slog.NewTextHandler(os.Stderr, nil))
	}
	if err := run(context.Background(), dir, *residents, os.Stdout, log); err != nil {
		fmt.Fprintln(os.Stderr, "compound:", err)
		os.Exit(1)
	}
}

var model = facematch.Model{ID: "synthetic-128", Dim: 128, Metric: facematch.Euclidean, Threshold: 0.4}

// door is one running gate.
type door struct {
	id     string
	st     *store.Store
	g      *gate.Gate
	agent  *compound.Agent
	conn   *nats.Conn
	cancel context.CancelFunc
	done   chan error
}

type person struct {
	id   string
	card []byte
	face []float32
}

func newSecret() (store.Secret, error) {
	k := make([]byte, store.KeySize)
	defer clear(k)
	crand.Read(k) // never fails (crypto/rand)
	return store.RawKey(k)
}

// run performs the walkthrough in dir, writing what happens to w.
func run(ctx context.Context, dir string, residents int, w io.Writer, log *slog.Logger) error {
	const id = "lotus-garden"
	gates := []string{"north-gate", "car-barrier", "lobby-b"}
	say := func(format string, args ...any) { fmt.Fprintf(w, format+"\n", args...) }

	// Provisioning, out of band: the compound key and one NKey per party.
	key, err := compound.NewKey()
	if err != nil {
		return err
	}
	access := compound.Access{Compound: id, Gates: map[string]string{}}
	if access.Office, err = compound.NewIdentity(filepath.Join(dir, "office.nk")); err != nil {
		return err
	}
	for _, g := range gates {
		if access.Gates[g], err = compound.NewIdentity(filepath.Join(dir, g+".nk")); err != nil {
			return err
		}
	}
	hub, err := compound.StartHub(compound.HubConfig{Dir: filepath.Join(dir, "jetstream"), Compounds: []compound.Access{access}})
	if err != nil {
		return err
	}
	defer hub.Close()
	say("office hub listening on %s, JetStream in %s", hub.URL(), hub.Dir())

	// The office.
	oconn, err := compound.DialOffice(hub.URL(), id, filepath.Join(dir, "office.nk"))
	if err != nil {
		return err
	}
	defer oconn.Close()
	osec, err := newSecret()
	if err != nil {
		return err
	}
	ost, err := store.Create(filepath.Join(dir, "office.db"), osec, nil)
	if err != nil {
		return err
	}
	defer ost.Close()
	ogal, err := gallery.New(model, nil)
	if err != nil {
		return err
	}
	office, err := compound.NewOffice(ctx, compound.OfficeConfig{Compound: id, Key: key, Store: ost, Conn: oconn,
		Gates: gates, Faces: ogal, Model: model, Log: log})
	if err != nil {
		return err
	}

	// The gates, each with its own store, gallery and sync agent.
	keys, err := key.GateKeys()
	if err != nil {
		return err
	}
	var doors []*door
	defer func() {
		for _, d := range doors {
			d.cancel()
			<-d.done
			d.conn.Close()
			d.st.Close()
		}
	}()
	for _, gid := range gates {
		d := &door{id: gid, done: make(chan error, 1)}
		sec, err := newSecret()
		if err != nil {
			return err
		}
		if d.st, err = store.Create(filepath.Join(dir, gid+".db"), sec, nil); err != nil {
			return err
		}
		gal, err := gallery.New(model, nil)
		if err != nil {
			return err
		}
		faces := compound.NewGallery(gal)
		// The walkthrough presents still photos, which carry no liveness
		// verdict: its doors let a face count without one, which a real
		// door must not (docs/pad.md).
		if d.g, err = gate.New(gate.Config{Records: d.st, Keys: keys, Faces: faces, Model: model, Policy: gate.AnyFactor | gate.FaceWithoutLiveness}); err != nil {
			return err
		}
		if d.conn, err = compound.DialGate(hub.URL(), id, gid, filepath.Join(dir, gid+".nk")); err != nil {
			return err
		}
		if d.agent, err = compound.NewAgent(compound.AgentConfig{Compound: id, GateID: gid, Key: key, Store: d.st,
			Gate: d.g, Faces: faces, Conn: d.conn, Poll: 100 * time.Millisecond, Log: log}); err != nil {
			return err
		}
		actx, cancel := context.WithCancel(ctx)
		d.cancel = cancel
		go func() { d.done <- d.agent.Run(actx) }()
		doors = append(doors, d)
	}
	say("three gates connected with their own NKeys: %v", gates)

	// 1. Enrollment at the office.
	r := rand.New(rand.NewPCG(1, 2))
	people := make([]person, residents)
	for i := range people {
		p := person{id: fmt.Sprintf("flat-%02d%c", 1+i/2, 'a'+i%2), card: fmt.Appendf(nil, "04a1b2%02x", i), face: unitVector(r)}
		people[i] = p
		given := time.Now()
		if _, err := office.Register(ctx, p.id, gate.Consent{Purpose: gate.PurposeEntry, Given: given, How: "signed form", BirthYear: 1984}); err != nil {
			return err
		}
		if _, err := office.SetCard(ctx, p.id, p.card); err != nil {
			return err
		}
		if _, err := office.GiveConsent(ctx, p.id, gate.Consent{Purpose: gate.PurposeFace, Given: given, How: "signed form, face section", BirthYear: 1984}); err != nil {
			return err
		}
		if _, _, err := office.EnrollFace(ctx, p.id, p.face, 0.9); err != nil {
			return err
		}
	}
	say("\n1. enrolled %d residents at the office: %d changes on the stream", residents, office.LastSequence())
	if err := caughtUp(ctx, office, doors, office.LastSequence()); err != nil {
		return err
	}
	if err := lag(ctx, office, w); err != nil {
		return err
	}

	// 2. Every gate admits every resident by face.
	say("\n2. admit by face")
	for _, d := range doors {
		for _, p := range people {
			dec := d.g.Admit(gate.Attempt{Door: d.id, Face: p.face})
			if !dec.Admit || dec.Subject != p.id {
				return fmt.Errorf("%s did not admit %s by face: %s", d.id, p.id, dec.Reason)
			}
		}
		say("   %-12s admitted all %d by face   [%s]", d.id, residents, d.agent.Status().Line())
	}

	// 3. Withdrawal at the office, confirmed by every gate.
	victim := people[0]
	wctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	wd, err := office.Withdraw(wctx, victim.id, gate.PurposeFace)
	if err != nil {
		return err
	}
	if err := office.AwaitWithdrawal(wctx, wd); err != nil {
		return err
	}
	if err := gate.VerifyReceipt(keys.Receipt, wd.Receipt); err != nil {
		return err
	}
	say("\n3. %s withdrew face consent (change %d): confirmed by %v, not yet by %v; %d earlier messages of that face erased from the stream",
		victim.id, wd.Seq, wd.Confirmed, wd.Pending, wd.Erased)
	for _, l := range wd.Receipt.Deleted {
		say("   office receipt: %s", l)
	}

	// 4. The face is refused everywhere; 5. the card still works.
	say("\n4. %s's face at every gate, 5. then the card", victim.id)
	for _, d := range doors {
		dec := d.g.Admit(gate.Attempt{Door: d.id, Face: victim.face})
		if dec.Admit {
			return fmt.Errorf("%s admitted %s's withdrawn face", d.id, victim.id)
		}
		card := d.g.Admit(gate.Attempt{Door: d.id, Card: victim.card})
		if !card.Admit || card.Subject != victim.id {
			return fmt.Errorf("%s refused %s's card: %s", d.id, victim.id, card.Reason)
		}
		say("   %-12s face: refused (%s)   card: %s", d.id, dec.Reason, card.Reason)
	}
	return lag(ctx, office, w)
}

// caughtUp waits until every gate has applied through seq and opened its
// face path, and the office has heard so from each.
func caughtUp(ctx context.Context, office *compound.Office, doors []*door, seq uint64) error {
	deadline := time.Now().Add(30 * time.Second)
	for _, d := range doors {
		for s := d.agent.Status(); s.Applied < seq || !s.FaceOpen; s = d.agent.Status() {
			if time.Now().After(deadline) {
				return fmt.Errorf("%s applied %d of %d changes in 30 s", d.id, s.Applied, seq)
			}
			if err := ctx.Err(); err != nil {
				return err
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	for {
		prog, err := office.Progress(ctx)
		if err != nil {
			return err
		}
		behind := 0
		for _, p := range prog {
			if p.Lag > 0 {
				behind++
			}
		}
		if behind == 0 {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%d gates have not reported catching up in 30 s", behind)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// lag prints each gate's progress as the office sees it.
func lag(ctx context.Context, office *compound.Office, w io.Writer) error {
	prog, err := office.Progress(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "   %-12s %8s %5s\n", "gate", "applied", "lag")
	for _, p := range prog {
		fmt.Fprintf(w, "   %-12s %8d %5d\n", p.Gate, p.Applied, p.Lag)
	}
	return nil
}

func unitVector(r *rand.Rand) []float32 {
	v := make([]float32, model.Dim)
	var n float64
	for i := range v {
		v[i] = float32(r.NormFloat64())
		n += float64(v[i]) * float64(v[i])
	}
	for i := range v {
		v[i] /= float32(math.Sqrt(n))
	}
	return v
}
