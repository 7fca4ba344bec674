package compound

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/facegate/facegate/gate"
	"github.com/facegate/facegate/gate/records"
	"github.com/facegate/facegate/store"
	"github.com/facegate/facegate/template"
)

// DefaultStaleAfter is how long a gate may go without hearing from the
// stream before it closes its face path.
const DefaultStaleAfter = 5 * time.Minute

// AgentConfig configures a gate's sync Agent.
type AgentConfig struct {
	// Compound and GateID name the compound and this gate.
	Compound, GateID string
	// Key is the compound key. Required.
	Key *Key
	// Store is the gate's own store (its source of truth).
	Store *store.Store
	// Gate is the gate.Gate on Store whose gallery the agent keeps in step.
	Gate *gate.Gate
	// Faces is the switch around the gate's gallery, as given to gate.New.
	Faces *Gallery
	// Conn is the gate's connection to the hub (DialGate).
	Conn *nats.Conn
	// Clock returns the current time; nil means time.Now.
	Clock func() time.Time
	// StaleAfter closes the face path after that long without word from
	// the stream; zero means DefaultStaleAfter.
	StaleAfter time.Duration
	// Batch is the most changes fetched (and committed with one fsync) at
	// once; zero means 256.
	Batch int
	// Poll is how long a fetch waits for changes; zero means one second.
	Poll time.Duration
	// Log receives what the agent does; nil discards it.
	Log *slog.Logger
	// OnApplied, if set, is called after each change is committed to the
	// store and the gallery (tests and benchmarks).
	OnApplied func(seq uint64, c *Change)
}

// Stats counts what an agent did with the messages it received.
type Stats struct {
	// Applied counts changes applied.
	Applied uint64
	// Redelivered counts changes delivered again after they were applied
	// (an acknowledgement lost in a crash), acknowledged and skipped.
	Redelivered uint64
	// Rejected counts messages refused: failed authentication, malformed,
	// unknown kind, replayed or out of order. Each is logged.
	Rejected uint64
	// Gaps counts batches handed back because an earlier change was still
	// out (lost in flight, to be redelivered).
	Gaps uint64
	// LastRejection is the error of the last message refused.
	LastRejection error
}

// Status is a gate's view of its place in the compound.
type Status struct {
	// Applied is the stream sequence of the last change applied.
	Applied uint64
	// Pending is how many changes the server had not yet delivered at the
	// last look.
	Pending uint64
	// LastHeard is when the gate last heard from the stream.
	LastHeard time.Time
	// FaceOpen says whether the face path is open.
	FaceOpen bool
	// Halted is why the agent refuses to run (ErrRolledBack), or nil.
	Halted error
	Stats
}

// Agent is a gate's sync agent: it applies the compound's changes to the
// gate's store and gallery, reports its progress, and closes the face path
// when the gate falls out of step.
type Agent struct {
	cfg  AgentConfig
	n    names
	s    sealer
	js   jetstream.JetStream
	cons jetstream.Consumer
	log  *slog.Logger

	mu        sync.Mutex
	st        syncState
	seen      uint64 // highest sequence applied or refused
	lastHeard time.Time
	caughtUp  bool
	pending   uint64
	stats     Stats
	reported  uint64    // last progress published
	reportAt  time.Time // when
	halted    error     // ErrRolledBack: the agent will not run on this store
}

// NewAgent returns the agent of one gate. It reads the gate's sync state
// and, on a store that has none, adopts the compound's first transform
// generation; it does not touch the network (Step and Run do), so a gate
// starts even when the hub is out of reach, with its face path closed.
func NewAgent(cfg AgentConfig) (*Agent, error) {
	if err := checkID("compound", cfg.Compound); err != nil {
		return nil, err
	}
	if err := checkID("gate", cfg.GateID); err != nil {
		return nil, err
	}
	if cfg.Key == nil || cfg.Store == nil || cfg.Gate == nil || cfg.Faces == nil || cfg.Conn == nil {
		return nil, fmt.Errorf("compound: agent needs a key, a store, a gate, its gallery switch and a connection")
	}
	if cfg.Clock == nil {
		cfg.Clock = time.Now
	}
	if cfg.StaleAfter == 0 {
		cfg.StaleAfter = DefaultStaleAfter
	}
	if cfg.Batch == 0 {
		cfg.Batch = 256
	}
	if cfg.Poll == 0 {
		cfg.Poll = time.Second
	}
	a := &Agent{cfg: cfg, n: names{cfg.Compound}, s: sealer{cfg.Compound, cfg.Key}, log: cfg.Log}
	if a.log == nil {
		a.log = slog.New(slog.DiscardHandler)
	}
	a.log = a.log.With("compound", cfg.Compound, "gate", cfg.GateID)
	st, joined, err := joinState(cfg.Store, cfg.Key)
	if err != nil {
		return nil, err
	}
	if joined {
		if err := cfg.Gate.ReloadFaces(); err != nil {
			return nil, err
		}
	}
	a.st, a.seen = st, st.Last
	if a.js, err = jetstream.New(cfg.Conn); err != nil {
		return nil, fmt.Errorf("compound: %w", err)
	}
	cfg.Faces.bind(a.FaceOpen)
	return a, nil
}

// bind looks up the gate's durable consumer and checks the store against
// it: a store that has applied less than the gate has acknowledged is an
// old copy (ErrRolledBack).
func (a *Agent) bind(ctx context.Context) error {
	cons, err := a.js.Consumer(ctx, a.n.stream(), a.cfg.GateID)
	if err != nil {
		return fmt.Errorf("compound: consumer of gate %s: %w", a.cfg.GateID, err)
	}
	info := cons.CachedInfo()
	a.mu.Lock()
	last := a.st.Last
	a.mu.Unlock()
	if info.AckFloor.Stream > last {
		err := fmt.Errorf("%w: store applied through %d, gate acknowledged %d", ErrRolledBack, last, info.AckFloor.Stream)
		a.mu.Lock()
		a.halted = err
		a.mu.Unlock()
		return err
	}
	a.cons = cons
	return nil
}

// Run applies changes until ctx ends. Transport errors are logged and
// retried; it returns early only on ErrRolledBack or a store failure that
// persists.
func (a *Agent) Run(ctx context.Context) error {
	for ctx.Err() == nil {
		if _, err := a.Step(ctx); err != nil {
			if errors.Is(err, ErrRolledBack) {
				a.log.Error("refusing to run", "err", err)
				return err
			}
			if ctx.Err() != nil {
				break
			}
			a.log.Warn("sync step failed", "err", err)
			select {
			case <-ctx.Done():
			case <-time.After(a.cfg.Poll):
			}
		}
	}
	return nil
}

// Step fetches the changes waiting (waiting up to Poll for some), applies
// them, acknowledges them and reports progress. It returns how many
// changes it applied.
func (a *Agent) Step(ctx context.Context) (int, error) {
	if a.cons == nil {
		if err := a.bind(ctx); err != nil {
			return 0, err
		}
	}
	batch, err := a.cons.Fetch(a.cfg.Batch, jetstream.FetchMaxWait(a.cfg.Poll))
	if err != nil {
		return 0, fmt.Errorf("compound: fetch: %w", err)
	}
	// Apply what has arrived whenever the channel runs dry, so a change
	// is applied as soon as it arrives, and a burst commits together.
	n, got := 0, 0
	ch := batch.Messages()
	for m := range ch {
		chunk := []jetstream.Msg{m}
	drain:
		for len(chunk) < a.cfg.Batch {
			select {
			case m, ok := <-ch:
				if !ok {
					break drain
				}
				chunk = append(chunk, m)
			default:
				break drain
			}
		}
		got += len(chunk)
		k, err := a.process(ctx, chunk)
		n += k
		if err != nil {
			for m := range ch { // hand back the rest of the fetch too
				m.NakWithDelay(a.cfg.Poll)
			}
			return n, err
		}
		a.report(ctx)
	}
	if err := batch.Error(); err != nil && got == 0 && !errors.Is(err, nats.ErrTimeout) {
		return 0, fmt.Errorf("compound: fetch: %w", err)
	}
	if got == 0 || a.pending == 0 {
		// Nothing (more) waiting: ask the server, which is hearing from it.
		info, err := a.cons.Info(ctx)
		if err != nil {
			return n, fmt.Errorf("compound: consumer info: %w", err)
		}
		a.mu.Lock()
		a.pending = info.NumPending
		caught := info.NumPending == 0 && info.Delivered.Stream <= a.seen
		a.heard(caught)
		a.mu.Unlock()
	}
	a.report(ctx)
	return n, nil
}

// heard records word from the stream; a.mu is held.
func (a *Agent) heard(caughtUp bool) {
	a.lastHeard = a.cfg.Clock()
	if caughtUp && !a.caughtUp {
		a.log.Info("face path open: in step with the office", "applied", a.st.Last)
	}
	if caughtUp {
		a.caughtUp = true
	}
}

// FaceOpen reports whether the gate may match faces: it has caught up with
// the stream since it started, and heard from it within StaleAfter. Once
// closed, the path opens again only after the gate has caught up.
func (a *Agent) FaceOpen() bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.caughtUp && a.cfg.Clock().Sub(a.lastHeard) > a.cfg.StaleAfter {
		a.caughtUp = false
		a.log.Warn("face path closed: no word from the stream; card, PIN and QR only until caught up",
			"silent_for", a.cfg.Clock().Sub(a.lastHeard).Round(time.Second).String(), "stale_after", a.cfg.StaleAfter.String())
	}
	return a.caughtUp
}

// Status returns the agent's state.
func (a *Agent) Status() Status {
	open := a.FaceOpen()
	a.mu.Lock()
	defer a.mu.Unlock()
	return Status{Applied: a.st.Last, Pending: a.pending, LastHeard: a.lastHeard, FaceOpen: open, Halted: a.halted, Stats: a.stats}
}

// Line is the gate's screen line about the compound.
func (s Status) Line() string {
	if s.FaceOpen {
		return fmt.Sprintf("in step with the office (change %d): face, card, PIN, QR", s.Applied)
	}
	if s.Halted != nil {
		return fmt.Sprintf("store older than the office's stream (change %d; restored copy?): card, PIN, QR only — call the operator", s.Applied)
	}
	if s.LastHeard.IsZero() {
		return fmt.Sprintf("catching up with the office (change %d): card, PIN, QR only", s.Applied)
	}
	return fmt.Sprintf("out of step with the office since %s (change %d): card, PIN, QR only",
		s.LastHeard.UTC().Format(time.TimeOnly), s.Applied)
}

// report publishes the gate's progress on its ack subject when it moved,
// and at least every StaleAfter/5 to show it is alive.
func (a *Agent) report(ctx context.Context) {
	a.mu.Lock()
	last, now := a.st.Last, a.cfg.Clock()
	due := last != a.reported || now.Sub(a.reportAt) > a.cfg.StaleAfter/5
	a.mu.Unlock()
	if !due {
		return
	}
	body, err := a.s.sealAck(a.n.ack(a.cfg.GateID), last, now)
	if err == nil {
		_, err = a.js.Publish(ctx, a.n.ack(a.cfg.GateID), body)
	}
	if err != nil {
		a.log.Warn("progress report failed", "applied", last, "err", err)
		return
	}
	a.mu.Lock()
	a.reported, a.reportAt = last, now
	a.mu.Unlock()
}

type item struct {
	m   jetstream.Msg
	seq uint64
	c   Change
}

// putOnly reports whether every write of c is a record put or a template
// add: such changes of one batch commit together.
func putOnly(c *Change) bool {
	if c.Kind == KindRekey {
		return false
	}
	for _, op := range c.Ops {
		if op.Type != OpPut && op.Type != OpAddTemplate {
			return false
		}
	}
	return true
}

func (a *Agent) reject(m jetstream.Msg, seq uint64, err error) {
	a.mu.Lock()
	a.stats.Rejected++
	a.stats.LastRejection = err
	a.seen = max(a.seen, seq)
	a.mu.Unlock()
	a.log.Error("change refused", "sequence", seq, "subject", m.Subject(), "err", err)
	m.Term()
}

// process applies msgs in order. Changes that only put records and add
// templates are committed together, with the new state, in one store
// transaction; others one by one. A store failure stops it: the message
// that failed and all after it are handed back to the server (Nak), in
// order, for redelivery.
func (a *Agent) process(ctx context.Context, msgs []jetstream.Msg) (int, error) {
	var group []item
	applied := 0
	handBack := func(from int) {
		for _, m := range msgs[from:] {
			m.Nak()
		}
	}
	flush := func() error {
		if len(group) == 0 {
			return nil
		}
		err := a.commit(group)
		if err != nil {
			// Find the culprit: apply one by one (a malformed one is
			// refused, the others applied).
			for k, it := range group {
				if err := a.applyOne(it); err != nil {
					for _, rest := range group[k:] {
						rest.m.Nak()
					}
					group = group[:0]
					return err
				}
			}
		}
		applied += len(group)
		group = group[:0]
		return nil
	}
	a.mu.Lock()
	gen, seen := a.st.Generation, a.seen
	a.mu.Unlock()
	for i, m := range msgs {
		meta, err := m.Metadata()
		if err != nil {
			a.reject(m, 0, fmt.Errorf("%w: no JetStream metadata: %v", ErrFormat, err))
			continue
		}
		seq := meta.Sequence.Stream
		a.mu.Lock()
		a.pending = meta.NumPending
		a.mu.Unlock()
		if seq <= seen {
			if meta.NumDelivered > 1 {
				a.mu.Lock()
				a.stats.Redelivered++
				a.mu.Unlock()
				m.Ack()
				continue
			}
			a.reject(m, seq, fmt.Errorf("%w: sequence %d, applied through %d", ErrReplayed, seq, seen))
			continue
		}
		if seq > seen+1 {
			if err := flush(); err != nil {
				handBack(i)
				return applied, err
			}
			hole, err := a.hole(ctx, seq)
			if err != nil || !hole {
				// An earlier change is still out with us (lost in flight):
				// wait for its redelivery rather than apply past it.
				for _, m := range msgs[i:] {
					m.NakWithDelay(a.cfg.Poll)
				}
				a.mu.Lock()
				a.stats.Gaps++
				a.mu.Unlock()
				a.log.Warn("waiting for an earlier change", "sequence", seq, "expected", seen+1, "err", err)
				return applied, err
			}
		}
		c, err := a.open(m, seq, gen)
		if err != nil {
			a.reject(m, seq, err)
			seen = seq
			continue
		}
		seen = seq
		if putOnly(&c) {
			group = append(group, item{m, seq, c})
			continue
		}
		if err := flush(); err != nil {
			handBack(i)
			return applied, err
		}
		if err := a.applyOne(item{m, seq, c}); err != nil {
			handBack(i)
			return applied, err
		}
		applied++
		if c.Kind == KindRekey {
			gen = c.Generation
		}
	}
	if err := flush(); err != nil {
		return applied, err
	}
	if len(msgs) > 0 {
		a.mu.Lock()
		if a.pending == 0 {
			a.heard(true)
		} else {
			a.heard(false)
		}
		a.mu.Unlock()
	}
	return applied, nil
}

// hole reports whether the sequences missing before seq are a hole in the
// stream (messages erased after a withdrawal every gate then in the
// compound had applied: only a gate that joined later meets one) rather
// than deliveries lost in flight (a connection or the server dropped while
// a batch was on its way), which the server will redeliver. The consumer's
// ack floor says: it stays below the lowest message delivered and not yet
// acknowledged, and steps over sequences that no longer exist.
func (a *Agent) hole(ctx context.Context, seq uint64) (bool, error) {
	if err := a.cfg.Conn.Flush(); err != nil { // our acks before the question
		return false, err
	}
	for range 5 {
		info, err := a.cons.Info(ctx)
		if err != nil {
			return false, err
		}
		if info.AckFloor.Stream+1 >= seq {
			return true, nil
		}
		time.Sleep(10 * time.Millisecond) // acks are processed asynchronously
	}
	return false, nil
}

// open authenticates and decodes one message and checks it against the
// gate's state.
func (a *Agent) open(m jetstream.Msg, seq, gen uint64) (Change, error) {
	c, err := a.s.openChange(m.Subject(), seq, m.Data())
	if err != nil {
		return Change{}, err
	}
	want := a.n.rekey()
	if c.Kind != KindRekey {
		if err := gate.CheckSubject(c.Subject); err != nil {
			return Change{}, fmt.Errorf("change at sequence %d: %w: %v", seq, ErrFormat, err)
		}
		want = a.n.channel(a.cfg.Key.token(c.Subject), c.Face)
	}
	if m.Subject() != want {
		return Change{}, fmt.Errorf("change at sequence %d: %w: on the wrong channel", seq, ErrFormat)
	}
	switch {
	case c.Kind == KindRekey && c.Generation != gen+1:
		return Change{}, fmt.Errorf("change at sequence %d: %w: re-key to generation %d, gate is on %d", seq, ErrOutOfOrder, c.Generation, gen)
	case c.Kind != KindRekey && c.Generation != gen:
		return Change{}, fmt.Errorf("change at sequence %d: %w: made under transform generation %d, gate is on %d", seq, ErrOutOfOrder, c.Generation, gen)
	}
	return c, nil
}

// templateIDs returns the template IDs subject holds in the store.
func (a *Agent) templateIDs(subject string) (map[uint64]bool, error) {
	es, err := a.cfg.Store.Templates(subject)
	if err := ignoreNotFound(err); err != nil {
		return nil, err
	}
	ids := map[uint64]bool{}
	for _, e := range es {
		ids[e.ID] = true
	}
	return ids, nil
}

// putOps writes the puts and template adds of ops in one batch. A template
// the store already holds (a change applied before a crash lost its
// acknowledgement... but not its state; see commit) is skipped. A store
// with random template IDs (records.TemplateIDAdder) stores each under the
// office's ID; another must give the office's ID by itself, or the stores
// diverged.
func (a *Agent) putOps(b records.Batch, ops []Op, held map[string]map[uint64]bool) error {
	for _, op := range ops {
		switch op.Type {
		case OpPut:
			if err := b.PutRecord(op.Subject, op.Class, op.Name, op.Data); err != nil {
				return err
			}
		case OpAddTemplate:
			if held[op.Subject][op.TemplateID] {
				continue
			}
			t, err := template.Decode(op.Data)
			if err != nil {
				return fmt.Errorf("%w: template: %w", ErrFormat, err)
			}
			if ia, ok := b.(records.TemplateIDAdder); ok {
				if err := ia.AddTemplateID(op.Subject, op.TemplateID, t); err != nil {
					return fmt.Errorf("%w: %w", ErrDiverged, err)
				}
			} else {
				id, err := b.AddTemplate(op.Subject, t)
				if err != nil {
					return fmt.Errorf("%w: %w", ErrDiverged, err)
				}
				if id != op.TemplateID {
					return fmt.Errorf("%w: template of %q stored as %d, office has %d", ErrDiverged, op.Subject, id, op.TemplateID)
				}
			}
			if held[op.Subject] == nil {
				held[op.Subject] = map[uint64]bool{}
			}
			held[op.Subject][op.TemplateID] = true
		}
	}
	return nil
}

// floors returns the template IDs held by every subject items add a
// template to.
func (a *Agent) floors(items []item) (map[string]map[uint64]bool, error) {
	held := map[string]map[uint64]bool{}
	for _, it := range items {
		for _, op := range it.c.Ops {
			if _, ok := held[op.Subject]; op.Type == OpAddTemplate && !ok {
				ids, err := a.templateIDs(op.Subject)
				if err != nil {
					return nil, err
				}
				held[op.Subject] = ids
			}
		}
	}
	return held, nil
}

// commit applies a group of put-only changes and the new state in one
// transaction, then updates the gallery and acknowledges them.
func (a *Agent) commit(group []item) error {
	floor, err := a.floors(group)
	if err != nil {
		return err
	}
	a.mu.Lock()
	st := a.st
	a.mu.Unlock()
	st.Last = group[len(group)-1].seq
	err = a.cfg.Store.Update(func(b records.Batch) error {
		for _, it := range group {
			if err := a.putOps(b, it.c.Ops, floor); err != nil {
				return err
			}
		}
		return b.PutRecord(stateSubject, stateClass, stateName, st.encode())
	})
	if err != nil {
		return err
	}
	for _, it := range group {
		a.finish(it)
	}
	a.mu.Lock() // Status().Applied covers the store and the gallery
	a.st = st
	a.seen = max(a.seen, st.Last)
	a.mu.Unlock()
	return nil
}

// applyOne applies one change: the writes in order (deletes and shreds
// that find nothing left are done already), then the state. Withdrawals
// drop the subject from the gallery before anything else.
func (a *Agent) applyOne(it item) error {
	c := &it.c
	if c.Kind == KindConsentWithdrawn || c.Kind == KindTemplateRemoved {
		if err := a.cfg.Faces.drop(c.Subject); err != nil {
			return err
		}
	}
	floor, err := a.floors([]item{it})
	if err != nil {
		return err
	}
	st := a.cfg.Store
	for i := 0; i < len(c.Ops); {
		j := i
		for j < len(c.Ops) && (c.Ops[j].Type == OpPut || c.Ops[j].Type == OpAddTemplate) {
			j++
		}
		if j > i {
			if err := st.Update(func(b records.Batch) error { return a.putOps(b, c.Ops[i:j], floor) }); err != nil {
				if errors.Is(err, ErrFormat) || errors.Is(err, ErrDiverged) {
					a.reject(it.m, it.seq, fmt.Errorf("change at sequence %d: %w", it.seq, err))
					return nil
				}
				return err
			}
			i = j
			continue
		}
		op := c.Ops[i]
		switch op.Type {
		case OpDelete:
			err = st.DeleteRecord(op.Subject, op.Class, op.Name)
		case OpShred:
			err = st.ShredClass(op.Subject, op.Class)
		case OpDeleteSubject:
			err = st.DeleteSubject(op.Subject)
		}
		if err := ignoreNotFound(err); err != nil {
			return fmt.Errorf("compound: applying change %d: %w", it.seq, err)
		}
		i++
	}
	a.mu.Lock()
	next := a.st
	a.mu.Unlock()
	next.Last = it.seq
	if c.Kind == KindRekey {
		if err := adoptTransform(st, a.cfg.Key, c.Generation); err != nil {
			return err
		}
		next.Generation = c.Generation
	}
	if err := saveState(st, next); err != nil {
		return err
	}
	if c.Kind == KindRekey {
		if err := a.cfg.Gate.ReloadFaces(); err != nil {
			return err
		}
	}
	a.finish(it)
	a.mu.Lock()
	a.st = next
	a.seen = max(a.seen, it.seq)
	a.mu.Unlock()
	return nil
}

// finish updates the gallery after a change is committed and acknowledges
// it.
func (a *Agent) finish(it item) {
	if it.c.Kind.face() {
		if err := a.cfg.Gate.ReloadSubject(it.c.Subject); err != nil {
			a.log.Error("gallery reload failed", "sequence", it.seq, "err", err)
		}
	}
	it.m.Ack()
	a.mu.Lock()
	a.stats.Applied++
	a.mu.Unlock()
	if a.cfg.OnApplied != nil {
		a.cfg.OnApplied(it.seq, &it.c)
	}
}
