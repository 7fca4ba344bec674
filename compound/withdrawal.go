package compound

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/facegate/facegate/gate"
)

// GateProgress is what a gate last reported on its ack subject.
type GateProgress struct {
	// Gate is the gate's ID.
	Gate string
	// Applied is the stream sequence the gate has applied through.
	Applied uint64
	// Reported is the gate's clock when it reported (zero: never).
	Reported time.Time
	// Lag is how many sequences the gate is behind the office's last
	// change.
	Lag uint64
}

// Progress returns each gate's last progress report, in the order of
// OfficeConfig.Gates. A report that fails to open is an error (ErrAuth: not
// sealed under this compound's key for that gate's subject).
func (o *Office) Progress(ctx context.Context) ([]GateProgress, error) {
	return progress(ctx, o.ack, o.s, o.n, o.cfg.Gates, o.LastSequence())
}

// Lag returns each gate's progress against the change stream's last
// sequence, over the office's connection (for a hub operator's display).
func Lag(ctx context.Context, nc *nats.Conn, compound string, key *Key, gates []string) ([]GateProgress, error) {
	if err := checkID("compound", compound); err != nil {
		return nil, err
	}
	js, err := jetstream.New(nc)
	if err != nil {
		return nil, fmt.Errorf("compound: %w", err)
	}
	n := names{compound}
	chg, err := js.Stream(ctx, n.stream())
	if err != nil {
		return nil, fmt.Errorf("compound: change stream: %w", err)
	}
	ack, err := js.Stream(ctx, n.ackStream())
	if err != nil {
		return nil, fmt.Errorf("compound: ack stream: %w", err)
	}
	return progress(ctx, ack, sealer{compound, key}, n, gates, chg.CachedInfo().State.LastSeq)
}

func progress(ctx context.Context, ack jetstream.Stream, s sealer, n names, gates []string, last uint64) ([]GateProgress, error) {
	out := make([]GateProgress, 0, len(gates))
	for _, g := range gates {
		p := GateProgress{Gate: g, Lag: last}
		m, err := ack.GetLastMsgForSubject(ctx, n.ack(g))
		switch {
		case errors.Is(err, jetstream.ErrMsgNotFound):
		case err != nil:
			return nil, fmt.Errorf("compound: progress of gate %s: %w", g, err)
		default:
			applied, at, err := s.openAck(n.ack(g), m.Data)
			if err != nil {
				return nil, err
			}
			p.Applied, p.Reported = applied, at
			p.Lag = 0
			if applied < last {
				p.Lag = last - applied
			}
		}
		out = append(out, p)
	}
	return out, nil
}

// Withdrawal is the office's record of a withdrawal spreading through the
// compound.
type Withdrawal struct {
	// Subject and Purpose say what was withdrawn.
	Subject string
	Purpose gate.Purpose
	// Seq is the stream sequence of the withdrawal.
	Seq uint64
	// Receipt is the office's own deletion receipt (gate.VerifyReceipt).
	Receipt gate.Receipt
	// Confirmed lists the gates that have applied the withdrawal, Pending
	// the ones that have not yet, as of the last AwaitWithdrawal.
	Confirmed, Pending []string
	// Erased counts the earlier messages of the subject's channel(s)
	// securely erased from the stream once every gate confirmed.
	Erased int
	// Complete says every gate confirmed and the stream was erased.
	Complete bool
}

// Withdraw withdraws subject's consent for purpose at the office (face:
// templates crypto-shredded; entry: the subject erased) and publishes the
// change. Follow it with AwaitWithdrawal.
func (o *Office) Withdraw(ctx context.Context, subject string, purpose gate.Purpose) (*Withdrawal, error) {
	w := &Withdrawal{Subject: subject, Purpose: purpose, Pending: o.Gates()}
	seq, err := o.do(ctx, KindConsentWithdrawn, purpose == gate.PurposeFace, subject, func() error {
		var err error
		w.Receipt, err = o.g.Withdraw(subject, purpose)
		return err
	})
	w.Seq = seq
	if err != nil {
		return w, err
	}
	return w, nil
}

// AwaitWithdrawal waits until every gate has reported applying w (or ctx
// ends), filling in w.Confirmed and w.Pending. Once all have confirmed it
// securely erases (overwrites in the server's file store) every earlier
// message of the subject's face channel — of both channels for an entry
// withdrawal — so that no copy of a withdrawn template remains in the
// stream. It returns ctx's error if some gate has not confirmed in time;
// call it again later.
func (o *Office) AwaitWithdrawal(ctx context.Context, w *Withdrawal) error {
	if w.Seq == 0 {
		return fmt.Errorf("compound: withdrawal of %q was not published", w.Subject)
	}
	for {
		prog, err := o.Progress(ctx)
		if err != nil {
			return err
		}
		w.Confirmed, w.Pending = nil, nil
		for _, p := range prog {
			if p.Applied >= w.Seq {
				w.Confirmed = append(w.Confirmed, p.Gate)
			} else {
				w.Pending = append(w.Pending, p.Gate)
			}
		}
		if len(w.Pending) == 0 {
			break
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("compound: withdrawal %d: %d gates not confirmed: %w", w.Seq, len(w.Pending), ctx.Err())
		case <-time.After(20 * time.Millisecond):
		}
	}
	subj := o.n.channel(o.cfg.Key.token(w.Subject), true)
	if w.Purpose == gate.PurposeEntry {
		subj = o.n.channels(o.cfg.Key.token(w.Subject))
	}
	n, err := o.erase(ctx, subj, w.Seq)
	w.Erased += n
	if err != nil {
		return err
	}
	w.Complete = true
	o.log.Info("withdrawal complete", "sequence", w.Seq, "gates", len(w.Confirmed), "erased", w.Erased)
	return nil
}

// erase securely deletes every message on subj below sequence before.
// JetStream's purge only drops a message from the index; SecureDeleteMsg
// overwrites its bytes in the file store.
func (o *Office) erase(ctx context.Context, subj string, before uint64) (int, error) {
	n := 0
	for next := uint64(1); next < before; {
		m, err := o.chg.GetMsg(ctx, next, jetstream.WithGetMsgSubject(subj))
		if errors.Is(err, jetstream.ErrMsgNotFound) {
			break
		}
		if err != nil {
			return n, fmt.Errorf("compound: erase: %w", err)
		}
		if m.Sequence >= before {
			break
		}
		if err := o.chg.SecureDeleteMsg(ctx, m.Sequence); err != nil {
			return n, fmt.Errorf("compound: erase %d: %w", m.Sequence, err)
		}
		n++
		next = m.Sequence + 1
	}
	return n, nil
}
