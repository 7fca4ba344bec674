package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"sync"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/facegate/facegate/compound"
	"github.com/facegate/facegate/examples/internal/exitcode"
	"github.com/facegate/facegate/examples/internal/site"
	"github.com/facegate/facegate/gate"
)

// compoundGate is this gate's membership of a compound (--hub): the
// compound's keys, the switch around the gallery, and the sync agent that
// keeps the store in step with the office.
type compoundGate struct {
	dir, id, hub string
	access       compound.Access
	key          *compound.Key
	keys         gate.Keys
	faces        *compound.Gallery
	nc           *nats.Conn
}

// newCompoundGate reads the compound directory: access.json, compound.key
// and this gate's NKey seed <gate-id>.nk, all provisioned out of band.
func newCompoundGate(dir, id, hub string) (*compoundGate, error) {
	if dir == "" || id == "" {
		return nil, fmt.Errorf("%w: --hub needs --compound DIR and --gate-id", exitcode.ErrUsage)
	}
	c := &compoundGate{dir: dir, id: id, hub: hub}
	var err error
	if c.access, err = compound.ReadAccessFile(filepath.Join(dir, "access.json")); err != nil {
		return nil, err
	}
	if _, ok := c.access.Gates[id]; !ok {
		return nil, fmt.Errorf("%w: gate %q is not in compound %s", exitcode.ErrUsage, id, c.access.Compound)
	}
	if c.key, err = compound.ReadKeyFile(filepath.Join(dir, "compound.key")); err != nil {
		return nil, err
	}
	if c.keys, err = c.key.GateKeys(); err != nil {
		return nil, err
	}
	return c, nil
}

// configure makes the site use the compound's keys and the gallery switch.
func (c *compoundGate) configure(cfg *site.Config) {
	cfg.Keys = &c.keys
	cfg.WrapFaces = func(g gate.Gallery) gate.Gallery {
		c.faces = compound.NewGallery(g)
		return c.faces
	}
}

// start connects to the hub and runs the agent; the returned function
// stops it. The gate's screen line about the compound goes to log
// whenever it changes.
func (c *compoundGate) start(s *site.Site, log io.Writer) (func(), error) {
	var err error
	if c.nc, err = compound.DialGate(c.hub, c.access.Compound, c.id, filepath.Join(c.dir, c.id+".nk")); err != nil {
		return nil, err
	}
	agent, err := compound.NewAgent(compound.AgentConfig{Compound: c.access.Compound, GateID: c.id, Key: c.key,
		Store: s.Store, Gate: s.Gate, Faces: c.faces, Conn: c.nc, Log: slog.New(slog.NewTextHandler(log, nil))})
	if err != nil {
		c.nc.Close()
		return nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(2)
	go func() {
		defer wg.Done()
		if err := agent.Run(ctx); err != nil {
			fmt.Fprintf(log, "gate: compound sync stopped: %v\n", err)
		}
	}()
	go func() {
		defer wg.Done()
		last := ""
		t := time.NewTicker(time.Second)
		defer t.Stop()
		for {
			if l := agent.Status().Line(); l != last {
				fmt.Fprintf(log, "screen: %s\n", l)
				last = l
			}
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
		}
	}()
	return func() {
		cancel()
		wg.Wait()
		c.nc.Close()
		c.key.Wipe()
	}, nil
}

// syncWriter serialises writes from the loop and the agent.
type syncWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (w *syncWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.w.Write(p)
}
