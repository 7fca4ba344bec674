package compound

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/facegate/facegate/facematch"
	"github.com/facegate/facegate/facematch/gallery"
	"github.com/facegate/facegate/gate"
	"github.com/facegate/facegate/store"
)

var (
	testModel = facematch.Model{ID: "test-model", Dim: 16, Metric: facematch.Euclidean, Threshold: 0.4}
	fastPIN   = gate.PINParams{Time: 1, Memory: 64, Threads: 1}
)

// clock is a settable test clock, safe for concurrent use.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

type testGate struct {
	id      string
	seed    string
	path    string
	secret  store.Secret
	st      *store.Store
	gal     *gallery.Gallery
	faces   *Gallery
	g       *gate.Gate
	conn    *nats.Conn
	agent   *Agent
	cancel  context.CancelFunc
	done    chan error
	mu      sync.Mutex
	applied map[uint64]int // sequence → times applied
}

type testCompound struct {
	t      testing.TB
	id     string
	dir    string
	key    *Key
	hub    *Hub
	hubCfg HubConfig
	clock  *clock
	office *Office
	ostore *store.Store
	ogal   *gallery.Gallery
	oconn  *nats.Conn
	gates  []*testGate
	log    *slog.Logger
	// onApplied, if set, is called by every gate's agent after each change.
	onApplied func(seq uint64, c *Change)
}

func testLogger(t testing.TB) *slog.Logger {
	if testing.Verbose() {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	}
	return slog.New(slog.DiscardHandler)
}

func testSecret(t testing.TB) store.Secret {
	b := make([]byte, 32)
	for i := range b {
		b[i] = byte(rand.Uint32())
	}
	s, err := store.RawKey(b)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// newCompound starts a hub in a temporary directory with an office and n
// gates (not yet running: see startGate).
func newCompound(t testing.TB, n int) *testCompound {
	t.Helper()
	c := &testCompound{t: t, id: "lotus", dir: t.TempDir(), clock: &clock{t: time.Date(2026, 12, 4, 9, 0, 0, 0, time.UTC)}, log: testLogger(t)}
	var err error
	if c.key, err = NewKey(); err != nil {
		t.Fatal(err)
	}
	access := Access{Compound: c.id, Gates: map[string]string{}}
	if access.Office, err = NewIdentity(filepath.Join(c.dir, "office.nk")); err != nil {
		t.Fatal(err)
	}
	var ids []string
	for i := range n {
		tg := &testGate{id: fmt.Sprintf("gate%d", i+1), applied: map[uint64]int{}}
		tg.seed = filepath.Join(c.dir, tg.id+".nk")
		if access.Gates[tg.id], err = NewIdentity(tg.seed); err != nil {
			t.Fatal(err)
		}
		tg.path = filepath.Join(c.dir, tg.id+".db")
		tg.secret = testSecret(t)
		c.gates = append(c.gates, tg)
		ids = append(ids, tg.id)
	}
	c.hubCfg = HubConfig{Dir: filepath.Join(c.dir, "jetstream"), Compounds: []Access{access}}
	c.startHub()
	t.Cleanup(func() {
		for _, g := range c.gates {
			c.stopGate(g)
		}
		if c.oconn != nil {
			c.oconn.Close()
		}
		if c.ostore != nil {
			c.ostore.Close()
		}
		c.hub.Close()
	})
	if c.oconn, err = DialOffice(c.hub.URL(), c.id, filepath.Join(c.dir, "office.nk")); err != nil {
		t.Fatal(err)
	}
	if c.ostore, err = store.Create(filepath.Join(c.dir, "office.db"), testSecret(t), nil); err != nil {
		t.Fatal(err)
	}
	if c.ogal, err = gallery.New(testModel, nil); err != nil {
		t.Fatal(err)
	}
	c.office, err = NewOffice(context.Background(), OfficeConfig{
		Compound: c.id, Key: c.key, Store: c.ostore, Conn: c.oconn, Gates: ids,
		Faces: c.ogal, Model: testModel, Policy: gate.AnyFactor, PINParams: fastPIN,
		Clock: c.clock.Now, Log: c.log,
	})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func (c *testCompound) startHub() {
	c.t.Helper()
	h, err := StartHub(c.hubCfg)
	if err != nil {
		c.t.Fatal(err)
	}
	c.hub = h
	c.hubCfg.Port = h.Port() // a restart comes back on the same port
}

// openGate opens (or creates) the gate's store and builds its gate and
// agent, without running it.
func (c *testCompound) openGate(g *testGate) {
	c.t.Helper()
	var err error
	if _, serr := os.Stat(g.path); serr == nil {
		g.st, err = store.Open(g.path, g.secret, nil)
	} else {
		g.st, err = store.Create(g.path, g.secret, nil)
	}
	if err != nil {
		c.t.Fatal(err)
	}
	if g.gal, err = gallery.New(testModel, nil); err != nil {
		c.t.Fatal(err)
	}
	g.faces = NewGallery(g.gal)
	keys, err := c.key.GateKeys()
	if err != nil {
		c.t.Fatal(err)
	}
	if g.g, err = gate.New(gate.Config{Records: g.st, Keys: keys, Faces: g.faces, Model: testModel,
		Clock: c.clock.Now, Policy: gate.AnyFactor, PINParams: fastPIN}); err != nil {
		c.t.Fatal(err)
	}
	if g.conn, err = DialGate(c.hub.URL(), c.id, g.id, g.seed); err != nil {
		c.t.Fatal(err)
	}
	g.agent, err = NewAgent(AgentConfig{Compound: c.id, GateID: g.id, Key: c.key, Store: g.st, Gate: g.g,
		Faces: g.faces, Conn: g.conn, Clock: c.clock.Now, Poll: 50 * time.Millisecond, Log: c.log,
		OnApplied: func(seq uint64, ch *Change) {
			g.mu.Lock()
			g.applied[seq]++
			g.mu.Unlock()
			if c.onApplied != nil {
				c.onApplied(seq, ch)
			}
		}})
	if err != nil {
		c.t.Fatal(err)
	}
}

// startGate opens the gate and runs its agent in the background.
func (c *testCompound) startGate(g *testGate) {
	c.t.Helper()
	c.openGate(g)
	ctx, cancel := context.WithCancel(context.Background())
	g.cancel, g.done = cancel, make(chan error, 1)
	go func() { g.done <- g.agent.Run(ctx) }()
}

// stopGate stops the agent and closes the gate's connection and store, as
// a killed process would leave them (nothing is flushed but the store's
// committed transactions).
func (c *testCompound) stopGate(g *testGate) {
	if g.cancel != nil {
		g.cancel()
		<-g.done
		g.cancel = nil
	}
	if g.conn != nil {
		g.conn.Close()
		g.conn = nil
	}
	if g.st != nil {
		g.st.Close()
		g.st = nil
	}
}

// waitApplied waits until every running gate has applied through seq.
func (c *testCompound) waitApplied(seq uint64, gates ...*testGate) {
	c.t.Helper()
	if len(gates) == 0 {
		gates = c.gates
	}
	deadline := time.Now().Add(30 * time.Second)
	for _, g := range gates {
		for g.agent.Status().Applied < seq || !g.agent.FaceOpen() {
			if time.Now().After(deadline) {
				s := g.agent.Status()
				c.t.Fatalf("%s: applied %d of %d after 30s (face open %v, rejected %d: %v)", g.id, s.Applied, seq, s.FaceOpen, s.Rejected, s.LastRejection)
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
}

func unit(r *rand.Rand, d int) []float32 {
	v := make([]float32, d)
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

type resident struct {
	id   string
	card []byte
	face []float32
}

func residents(n int, seed uint64) []resident {
	r := rand.New(rand.NewPCG(seed, seed))
	out := make([]resident, n)
	for i := range out {
		out[i] = resident{id: fmt.Sprintf("flat-%04d", i+1), card: []byte(fmt.Sprintf("CARD-UID-%08d", i+1)), face: unit(r, testModel.Dim)}
	}
	return out
}

// enroll registers res at the office with entry and face consent and a
// card, and enrolls the face: four changes.
func (c *testCompound) enroll(res resident) {
	c.t.Helper()
	ctx := context.Background()
	now := c.clock.Now()
	if _, err := c.office.Register(ctx, res.id, gate.Consent{Purpose: gate.PurposeEntry, Given: now, BirthYear: 1980, How: "office, in person"}); err != nil {
		c.t.Fatal(err)
	}
	if _, err := c.office.SetCard(ctx, res.id, res.card); err != nil {
		c.t.Fatal(err)
	}
	if _, err := c.office.GiveConsent(ctx, res.id, gate.Consent{Purpose: gate.PurposeFace, Given: now, BirthYear: 1980, How: "office, in person"}); err != nil {
		c.t.Fatal(err)
	}
	if _, _, err := c.office.EnrollFace(ctx, res.id, res.face, 0.9); err != nil {
		c.t.Fatal(err)
	}
}

// storeTemplates returns every template of st, subject by subject.
func storeTemplates(t testing.TB, st *store.Store) []store.Entry {
	t.Helper()
	subjects, err := st.Subjects()
	if err != nil {
		t.Fatal(err)
	}
	var out []store.Entry
	for _, s := range subjects {
		es, err := st.Templates(s)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, es...)
	}
	return out
}

// storeContents lists every template of st as subject/ID/vector bytes.
func storeContents(t testing.TB, st *store.Store) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	for _, e := range storeTemplates(t, st) {
		var b bytes.Buffer
		fmt.Fprint(&b, e.Template.TransformID(), e.Template.Vector())
		out[fmt.Sprintf("%s/%d", e.Subject, e.ID)] = b.Bytes()
	}
	return out
}

// sameAsOffice checks that g's store holds exactly the office's templates
// and its gallery as many subjects and templates as the office's.
func (c *testCompound) sameAsOffice(g *testGate) {
	c.t.Helper()
	want, got := storeContents(c.t, c.ostore), storeContents(c.t, g.st)
	if len(want) != len(got) {
		c.t.Errorf("%s: %d templates, office %d", g.id, len(got), len(want))
	}
	for k, v := range want {
		if !bytes.Equal(got[k], v) {
			c.t.Errorf("%s: template %s differs from the office's", g.id, k)
			break
		}
	}
	subjects, err := c.office.Gate().Subjects()
	if err != nil {
		c.t.Fatal(err)
	}
	if got, err := g.g.Subjects(); err != nil || fmt.Sprint(got) != fmt.Sprint(subjects) {
		c.t.Errorf("%s: %d subjects registered, office %d (%v)", g.id, len(got), len(subjects), err)
	}
	for _, s := range subjects {
		for _, class := range []string{"consent", "credential"} {
			want, _ := c.ostore.ListRecords(s, class)
			got, _ := g.st.ListRecords(s, class)
			if fmt.Sprint(got) != fmt.Sprint(want) {
				c.t.Errorf("%s: %s's %s records %v, office %v", g.id, s, class, got, want)
			}
		}
	}
	if g.gal.Len() != c.ogal.Len() || g.gal.Subjects() != c.ogal.Subjects() {
		c.t.Errorf("%s: gallery %d templates of %d subjects, office %d of %d (%+v)", g.id, g.gal.Len(), g.gal.Subjects(), c.ogal.Len(), c.ogal.Subjects(), g.agent.Status())
		subs, _ := c.ostore.Subjects()
		for _, s := range subs {
			if g.gal.Templates(s) != c.ogal.Templates(s) {
				cons, err := g.g.Consent(s, gate.PurposeFace)
				c.t.Errorf("%s: %s has %d templates in the gallery, office %d; consent %+v %v", g.id, s, g.gal.Templates(s), c.ogal.Templates(s), cons, err)
			}
		}
	}
}

func (c *testCompound) appliedTwice(g *testGate) []uint64 {
	g.mu.Lock()
	defer g.mu.Unlock()
	var twice []uint64
	for s, n := range g.applied {
		if n > 1 {
			twice = append(twice, s)
		}
	}
	return twice
}

// withConn returns cfg with another connection.
func (cfg OfficeConfig) withConn(nc *nats.Conn) OfficeConfig {
	cfg.Conn = nc
	return cfg
}
