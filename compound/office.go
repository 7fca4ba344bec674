package compound

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/facegate/facegate/facematch"
	"github.com/facegate/facegate/gate"
	"github.com/facegate/facegate/store"
)

// OfficeConfig configures an Office.
type OfficeConfig struct {
	// Compound is the compound's ID ([A-Za-z0-9_-], at most 32 bytes).
	Compound string
	// Key is the compound key. Required.
	Key *Key
	// Store is the office's own store, the compound's source of truth.
	Store *store.Store
	// Conn is the office's connection to the hub (DialOffice).
	Conn *nats.Conn
	// Gates are the IDs of the compound's gates: each gets a durable
	// consumer, and withdrawal receipts list them.
	Gates []string
	// Faces is the office's gallery (a *gallery.Gallery for Model).
	Faces gate.Gallery
	// Model is the face model of the compound.
	Model facematch.Model
	// Policy is the strictest door policy of the compound's gates: a face
	// is enrolled only for a subject with a face-free way in under it.
	Policy gate.Policy
	// PINParams are the Argon2id parameters of new PINs (zero: gate's
	// default).
	PINParams gate.PINParams
	// Clock returns the current time; nil means time.Now.
	Clock func() time.Time
	// Log receives what the office does; nil discards it.
	Log *slog.Logger
}

// Office is the enrolling side of a compound: a gate.Gate on the office's
// store whose every change is published on the compound's stream. It is
// safe for concurrent use; changes are published one at a time, in the
// order they were made.
type Office struct {
	cfg  OfficeConfig
	n    names
	s    sealer
	rec  *recorder
	g    *gate.Gate
	js   jetstream.JetStream
	chg  jetstream.Stream
	ack  jetstream.Stream
	log  *slog.Logger
	mu   sync.Mutex // one change at a time
	last uint64     // the stream's last sequence, as published by us
	gen  uint64     // transform generation
	// pending are changes committed in the office store but not yet
	// acknowledged by the stream, oldest first.
	pending []Change
}

// NewOffice creates (or updates) the compound's streams and the gates'
// durable consumers, brings the office store to the compound's transform,
// and returns the office.
func NewOffice(ctx context.Context, cfg OfficeConfig) (*Office, error) {
	if err := checkID("compound", cfg.Compound); err != nil {
		return nil, err
	}
	for _, g := range cfg.Gates {
		if err := checkID("gate", g); err != nil {
			return nil, err
		}
	}
	if cfg.Key == nil || cfg.Store == nil || cfg.Conn == nil {
		return nil, fmt.Errorf("compound: office needs a key, a store and a connection")
	}
	if cfg.Clock == nil {
		cfg.Clock = time.Now
	}
	o := &Office{cfg: cfg, n: names{cfg.Compound}, s: sealer{cfg.Compound, cfg.Key}, log: cfg.Log}
	if o.log == nil {
		o.log = slog.New(slog.DiscardHandler)
	}
	o.log = o.log.With("compound", cfg.Compound, "role", "office")
	var err error
	if o.js, err = jetstream.New(cfg.Conn); err != nil {
		return nil, fmt.Errorf("compound: %w", err)
	}
	if err := o.setup(ctx); err != nil {
		return nil, err
	}
	st, _, err := joinState(cfg.Store, cfg.Key)
	if err != nil {
		return nil, err
	}
	o.gen = st.Generation
	keys, err := cfg.Key.GateKeys()
	if err != nil {
		return nil, err
	}
	o.rec = &recorder{Store: cfg.Store}
	o.g, err = gate.New(gate.Config{Records: o.rec, Keys: keys, Faces: cfg.Faces, Model: cfg.Model,
		Clock: cfg.Clock, Policy: cfg.Policy, PINParams: cfg.PINParams})
	if err != nil {
		return nil, err
	}
	info, err := o.chg.Info(ctx)
	if err != nil {
		return nil, fmt.Errorf("compound: stream info: %w", err)
	}
	o.last = info.State.LastSeq
	return o, nil
}

func (o *Office) setup(ctx context.Context) error {
	var err error
	o.chg, o.ack, err = setup(ctx, o.js, o.n, o.cfg.Gates)
	return err
}

// Setup creates (or updates) compound's change and ack streams on the hub
// and a durable consumer for each gate, over the office's connection. The
// Office does it when it starts; a hub operator may do it before any
// office runs, so that gates can bind their consumers.
func Setup(ctx context.Context, nc *nats.Conn, compound string, gates []string) error {
	if err := checkID("compound", compound); err != nil {
		return err
	}
	for _, g := range gates {
		if err := checkID("gate", g); err != nil {
			return err
		}
	}
	js, err := jetstream.New(nc)
	if err != nil {
		return fmt.Errorf("compound: %w", err)
	}
	_, _, err = setup(ctx, js, names{compound}, gates)
	return err
}

func setup(ctx context.Context, js jetstream.JetStream, n names, gates []string) (chg, ack jetstream.Stream, err error) {
	chg, err = js.CreateOrUpdateStream(ctx, jetstream.StreamConfig{
		Name: n.stream(), Subjects: []string{n.changes()},
		Storage: jetstream.FileStorage, Retention: jetstream.LimitsPolicy,
		Discard: jetstream.DiscardNew, Duplicates: 2 * time.Minute,
		Description: "FaceGate compound changes (sealed)",
	})
	if err != nil {
		return nil, nil, fmt.Errorf("compound: change stream: %w", err)
	}
	ack, err = js.CreateOrUpdateStream(ctx, jetstream.StreamConfig{
		Name: n.ackStream(), Subjects: []string{n.acks()},
		Storage: jetstream.FileStorage, MaxMsgsPerSubject: 1,
		Description: "FaceGate gates' progress (sealed)",
	})
	if err != nil {
		return nil, nil, fmt.Errorf("compound: ack stream: %w", err)
	}
	for _, g := range gates {
		_, err := chg.CreateOrUpdateConsumer(ctx, jetstream.ConsumerConfig{
			Durable: g, AckPolicy: jetstream.AckExplicitPolicy, DeliverPolicy: jetstream.DeliverAllPolicy,
			AckWait:       5 * time.Second, // bounds the wait for a delivery lost in flight
			MaxAckPending: 20000, MaxRequestBatch: 1024,
			Description: "FaceGate gate " + g,
		})
		if err != nil {
			return nil, nil, fmt.Errorf("compound: consumer for gate %s: %w", g, err)
		}
	}
	return chg, ack, nil
}

// Gate returns the office's gate.Gate, for reading (Subjects, Consent,
// Templates, Export, VerifyReceipt keys). Change the compound only through
// the Office's methods: changes made on the Gate directly are not
// published.
func (o *Office) Gate() *gate.Gate { return o.g }

// Gates returns the IDs of the compound's gates.
func (o *Office) Gates() []string { return slices.Clone(o.cfg.Gates) }

// LastSequence returns the stream sequence of the last change the office
// published.
func (o *Office) LastSequence() uint64 {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.last
}

// do runs fn on the office gate while recording its store writes, then
// publishes them as one change. The change is published even if fn failed
// half-way: the gates mirror the office's store, whatever it holds.
func (o *Office) do(ctx context.Context, kind Kind, face bool, subject string, fn func() error) (uint64, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if err := o.flush(ctx); err != nil {
		return 0, err
	}
	o.rec.start()
	err := fn()
	ops := o.rec.stop()
	if len(ops) == 0 {
		return 0, err
	}
	o.pending = append(o.pending, Change{Kind: kind, Subject: subject, Face: face, Generation: o.gen, Ops: ops})
	if perr := o.flush(ctx); perr != nil {
		return 0, errors.Join(err, perr)
	}
	return o.last, err
}

// Flush publishes the changes committed at the office but not yet
// acknowledged by the stream (after a failed publish).
func (o *Office) Flush(ctx context.Context) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.flush(ctx)
}

func (o *Office) flush(ctx context.Context) error {
	for len(o.pending) > 0 {
		if err := o.publish(ctx, &o.pending[0]); err != nil {
			return fmt.Errorf("%w (%d waiting): %w", ErrNotPublished, len(o.pending), err)
		}
		o.pending = o.pending[1:]
	}
	return nil
}

func (o *Office) subjectOf(c *Change) string {
	if c.Kind == KindRekey {
		return o.n.rekey()
	}
	return o.n.channel(o.cfg.Key.token(c.Subject), c.Face)
}

// publish seals c for the next stream sequence and publishes it with that
// sequence as the expected last one plus one, retrying until the stream
// acknowledges it or ctx ends. A retry whose first attempt was stored but
// not acknowledged finds its message ID at that sequence.
func (o *Office) publish(ctx context.Context, c *Change) error {
	seq := o.last + 1
	subj := o.subjectOf(c)
	c.Published = o.cfg.Clock()
	body, err := o.s.sealChange(subj, seq, c)
	if err != nil {
		return err
	}
	id := fmt.Sprintf("%s-%d", o.cfg.Compound, seq)
	msg := &nats.Msg{Subject: subj, Data: body}
	wait := 50 * time.Millisecond
	for {
		ack, err := o.js.PublishMsg(ctx, msg, jetstream.WithExpectLastSequence(o.last), jetstream.WithMsgID(id))
		if err == nil {
			if ack.Sequence != seq {
				return fmt.Errorf("%w: change stored at sequence %d, sealed for %d", ErrDiverged, ack.Sequence, seq)
			}
			o.last = seq
			return nil
		}
		var apiErr *jetstream.APIError
		if errors.As(err, &apiErr) && apiErr.ErrorCode == jetstream.JSErrCodeStreamWrongLastSequence {
			// Stored by an attempt whose acknowledgement was lost?
			m, gerr := o.chg.GetMsg(ctx, seq)
			if gerr == nil && m.Header.Get(jetstream.MsgIDHeader) == id {
				o.last = seq
				return nil
			}
			return fmt.Errorf("%w: stream is not at sequence %d: %v", ErrDiverged, o.last, err)
		}
		o.log.Warn("publish failed, retrying", "sequence", seq, "kind", c.Kind.String(), "err", err)
		select {
		case <-ctx.Done():
			return fmt.Errorf("compound: publish sequence %d: %w (last: %v)", seq, ctx.Err(), err)
		case <-time.After(wait):
		}
		wait = min(2*wait, 2*time.Second)
	}
}

// Register registers subject with their consent to compound entry.
func (o *Office) Register(ctx context.Context, subject string, entry gate.Consent) (uint64, error) {
	return o.do(ctx, KindConsentGiven, false, subject, func() error { return o.g.Register(subject, entry) })
}

// GiveConsent records or renews a consent of subject.
func (o *Office) GiveConsent(ctx context.Context, subject string, c gate.Consent) (uint64, error) {
	return o.do(ctx, KindConsentGiven, c.Purpose == gate.PurposeFace, subject, func() error { return o.g.GiveConsent(subject, c) })
}

// SetCard enrolls subject's card; only its MAC is stored and published.
func (o *Office) SetCard(ctx context.Context, subject string, uid []byte) (uint64, error) {
	return o.do(ctx, KindCardSet, false, subject, func() error { return o.g.SetCard(subject, uid) })
}

// RemoveCard revokes subject's card.
func (o *Office) RemoveCard(ctx context.Context, subject string) (uint64, error) {
	return o.do(ctx, KindCardRevoked, false, subject, func() error { return o.g.RemoveCard(subject) })
}

// SetPIN sets subject's PIN; only its Argon2id hash is stored and
// published.
func (o *Office) SetPIN(ctx context.Context, subject, pin string) (uint64, error) {
	return o.do(ctx, KindPINSet, false, subject, func() error { return o.g.SetPIN(subject, pin) })
}

// RemovePIN revokes subject's PIN.
func (o *Office) RemovePIN(ctx context.Context, subject string) (uint64, error) {
	return o.do(ctx, KindPINRevoked, false, subject, func() error { return o.g.RemovePIN(subject) })
}

// IssueQR issues a one-time QR code for subject, valid at every gate.
func (o *Office) IssueQR(ctx context.Context, subject string) (code string, expires time.Time, seq uint64, err error) {
	seq, err = o.do(ctx, KindQRSet, false, subject, func() error {
		var err error
		code, expires, err = o.g.IssueQR(subject)
		return err
	})
	return code, expires, seq, err
}

// EnrollFace protects descriptor with the compound's transform, stores it
// at the office and publishes the protected template.
func (o *Office) EnrollFace(ctx context.Context, subject string, descriptor []float32, quality float32) (gate.TemplateInfo, uint64, error) {
	var info gate.TemplateInfo
	seq, err := o.do(ctx, KindTemplateAdded, true, subject, func() error {
		var err error
		info, err = o.g.EnrollFace(subject, descriptor, quality)
		return err
	})
	return info, seq, err
}

// Rekey moves the compound to the next generation of the template
// transform: the office re-keys its store, and every gate derives the same
// new secret from the compound key and re-keys its own. Only the
// generation number travels.
func (o *Office) Rekey(ctx context.Context) (uint64, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if err := o.flush(ctx); err != nil {
		return 0, err
	}
	gen := o.gen + 1
	if err := adoptTransform(o.cfg.Store, o.cfg.Key, gen); err != nil {
		return 0, err
	}
	if err := saveState(o.cfg.Store, syncState{Generation: gen}); err != nil {
		return 0, err
	}
	o.gen = gen
	if err := o.g.ReloadFaces(); err != nil {
		return 0, err
	}
	o.pending = append(o.pending, Change{Kind: KindRekey, Generation: gen})
	if err := o.flush(ctx); err != nil {
		return 0, err
	}
	return o.last, nil
}
