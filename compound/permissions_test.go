package compound

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/facegate/facegate/facematch/gallery"
	"github.com/facegate/facegate/gate"
	"github.com/facegate/facegate/store"
)

// TestWhoMaySayWhat: on a hub serving two compounds, a gate's credentials
// can pull from its own consumer and report progress, but cannot publish
// a change, create a consumer, read its stream directly, or read anything
// of the other compound; an unknown key cannot connect at all.
func TestWhoMaySayWhat(t *testing.T) {
	dir := t.TempDir()
	id := func(name string) (string, string) {
		p := filepath.Join(dir, name+".nk")
		pub, err := NewIdentity(p)
		if err != nil {
			t.Fatal(err)
		}
		return p, pub
	}
	lotusOffice, lotusOfficePub := id("lotus-office")
	lotusGate, lotusGatePub := id("lotus-gate1")
	orchidOffice, orchidOfficePub := id("orchid-office")
	_, orchidGatePub := id("orchid-gate1")
	stranger, _ := id("stranger")
	hub, err := StartHub(HubConfig{Dir: filepath.Join(dir, "js"), Compounds: []Access{
		{Compound: "lotus", Office: lotusOfficePub, Gates: map[string]string{"gate1": lotusGatePub}},
		{Compound: "orchid", Office: orchidOfficePub, Gates: map[string]string{"gate1": orchidGatePub}},
	}})
	if err != nil {
		t.Fatal(err)
	}
	defer hub.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	offices := map[string]*Office{}
	for name, seed := range map[string]string{"lotus": lotusOffice, "orchid": orchidOffice} {
		nc, err := DialOffice(hub.URL(), name, seed)
		if err != nil {
			t.Fatal(err)
		}
		defer nc.Close()
		st, err := store.Create(filepath.Join(dir, name+".db"), testSecret(t), nil)
		if err != nil {
			t.Fatal(err)
		}
		defer st.Close()
		gal, _ := gallery.New(testModel, nil)
		key := mustKey(t)
		o, err := NewOffice(ctx, OfficeConfig{Compound: name, Key: key, Store: st, Conn: nc, Gates: []string{"gate1"},
			Faces: gal, Model: testModel, PINParams: fastPIN})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := o.Register(ctx, "flat-0001", gate.Consent{Purpose: gate.PurposeEntry, BirthYear: 1970, How: "test"}); err != nil {
			t.Fatal(err)
		}
		offices[name] = o
	}

	// The office of one compound cannot touch the other's stream.
	lotusConn, err := DialOffice(hub.URL(), "lotus", lotusOffice)
	if err != nil {
		t.Fatal(err)
	}
	defer lotusConn.Close()
	ljs, _ := jetstream.New(lotusConn)
	short := func() (context.Context, context.CancelFunc) { return context.WithTimeout(ctx, 500*time.Millisecond) }
	c1, cancel1 := short()
	if _, err := ljs.Stream(c1, "FG_orchid"); err == nil {
		t.Error("lotus office read orchid's stream")
	}
	cancel1()

	nc, err := DialGate(hub.URL(), "lotus", "gate1", lotusGate)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	// Allowed: its own consumer, and its ack subject.
	cons, err := js.Consumer(ctx, "FG_lotus", "gate1")
	if err != nil {
		t.Fatalf("gate cannot bind its own consumer: %v", err)
	}
	b, err := cons.Fetch(10, jetstream.FetchMaxWait(time.Second))
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for m := range b.Messages() {
		m.Ack()
		n++
	}
	if n == 0 {
		t.Fatal("gate fetched nothing from its own consumer")
	}
	if _, err := js.Publish(ctx, "fg.lotus.ack.gate1", []byte("x")); err != nil {
		t.Fatalf("gate cannot report progress: %v", err)
	}

	before := offices["lotus"].LastSequence()
	denied := []struct {
		name string
		try  func(context.Context) error
	}{
		{"publish a change", func(ctx context.Context) error {
			_, err := js.Publish(ctx, "fg.lotus.chg.0123456789abcdef0123456789abcdef.entry", []byte("FGC1 forged"))
			return err
		}},
		{"report for another gate", func(ctx context.Context) error {
			_, err := js.Publish(ctx, "fg.lotus.ack.gate2", []byte("x"))
			return err
		}},
		{"create a consumer", func(ctx context.Context) error {
			_, err := js.CreateConsumer(ctx, "FG_lotus", jetstream.ConsumerConfig{Durable: "spy"})
			return err
		}},
		{"read its stream directly", func(ctx context.Context) error {
			_, err := js.Stream(ctx, "FG_lotus")
			return err
		}},
		{"bind the other compound's consumer", func(ctx context.Context) error {
			_, err := js.Consumer(ctx, "FG_orchid", "gate1")
			return err
		}},
		{"read the other compound's stream", func(ctx context.Context) error {
			_, err := js.Stream(ctx, "FG_orchid")
			return err
		}},
	}
	for _, d := range denied {
		t.Run(d.name, func(t *testing.T) {
			c, cancel := short()
			defer cancel()
			if err := d.try(c); err == nil {
				t.Fatal("allowed")
			}
		})
	}
	if got := offices["lotus"].LastSequence(); got != before {
		t.Fatal("office's view moved")
	}
	info, err := offices["lotus"].chg.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if info.State.LastSeq != before {
		t.Fatalf("a gate's publish reached the stream: last sequence %d, want %d", info.State.LastSeq, before)
	}

	// Subscribing to the other compound's changes is refused by the server.
	errs := make(chan error, 4)
	nc2, err := DialGate(hub.URL(), "lotus", "gate1", lotusGate)
	if err != nil {
		t.Fatal(err)
	}
	defer nc2.Close()
	nc2.SetErrorHandler(func(_ *nats.Conn, _ *nats.Subscription, err error) { errs <- err })
	got := make(chan *nats.Msg, 4)
	if _, err := nc2.ChanSubscribe("fg.orchid.>", got); err != nil {
		t.Fatal(err)
	}
	nc2.Flush()
	if _, err := offices["orchid"].Register(ctx, "flat-0002", gate.Consent{Purpose: gate.PurposeEntry, BirthYear: 1970, How: "test"}); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-errs:
		if !errors.Is(err, nats.ErrPermissionViolation) && !strings.Contains(err.Error(), "Permissions Violation") {
			t.Fatalf("subscribe refused with %v", err)
		}
	case m := <-got:
		t.Fatalf("lotus gate received orchid's message on %s", m.Subject)
	case <-time.After(5 * time.Second):
		t.Fatal("no permission error")
	}

	// A key the hub does not know is refused.
	sc, err := nats.Connect(hub.URL(), mustNkey(t, stranger), nats.MaxReconnects(0))
	if err == nil {
		sc.Close()
		t.Fatal("unknown NKey connected")
	}
}

func mustNkey(t testing.TB, seed string) nats.Option {
	o, err := nats.NkeyOptionFromSeed(seed)
	if err != nil {
		t.Fatal(err)
	}
	return o
}
