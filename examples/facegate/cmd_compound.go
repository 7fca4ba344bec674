package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/facegate/facegate/compound"
	"github.com/facegate/facegate/examples/internal/exitcode"
)

// A compound directory holds what `facegate compound init` provisions:
//
//	compound.key   the compound key (0600; copy to every gate out of band)
//	office.nk      the office's NKey seed (0600; stays at the office)
//	<gate>.nk      each gate's NKey seed (0600; copy to that gate only)
//	access.json    the compound ID and the public keys (the hub's user list)
//	jetstream/     the hub's JetStream store (created by `compound hub`)
const accessFile = "access.json"

func (a *app) cmdCompound(fs *flag.FlagSet, args []string) error {
	dir := fs.String("dir", "", "the compound directory (keys, identities, JetStream store)")
	if len(args) == 0 || strings.HasPrefix(args[0], "-") {
		if err := parse(fs, args, 0, 0); err != nil {
			return err // --help
		}
		return fmt.Errorf("%w: compound needs init, hub or lag", exitcode.ErrUsage)
	}
	switch args[0] {
	case "init":
		id := fs.String("id", "", "compound ID ([A-Za-z0-9_-], at most 32)")
		gates := fs.String("gates", "", "comma-separated gate IDs")
		if err := parse(fs, args[1:], 0, 0); err != nil {
			return err
		}
		return a.compoundInit(*dir, *id, *gates)
	case "hub":
		listen := fs.String("listen", "127.0.0.1:4222", "address the hub listens on")
		every := fs.Duration("every", 10*time.Second, "how often to print each gate's lag")
		syncAlways := fs.Bool("sync-always", false, "fsync every message before acknowledging it")
		if err := parse(fs, args[1:], 0, 0); err != nil {
			return err
		}
		return a.compoundHub(*dir, *listen, *every, *syncAlways)
	case "lag":
		url := fs.String("url", "nats://127.0.0.1:4222", "the hub's URL")
		if err := parse(fs, args[1:], 0, 0); err != nil {
			return err
		}
		return a.compoundLag(*dir, *url)
	}
	return fmt.Errorf("%w: unknown compound command %q (init, hub, lag)", exitcode.ErrUsage, args[0])
}

func readAccess(dir string) (compound.Access, error) {
	if dir == "" {
		return compound.Access{}, fmt.Errorf("%w: no --dir given", exitcode.ErrUsage)
	}
	acc, err := compound.ReadAccessFile(filepath.Join(dir, accessFile))
	if err != nil {
		return acc, fmt.Errorf("%w: %v (run `facegate compound init` first)", exitcode.ErrUsage, err)
	}
	return acc, nil
}

func (a *app) compoundInit(dir, id, gates string) error {
	if dir == "" || id == "" || gates == "" {
		return fmt.Errorf("%w: compound init needs --dir, --id and --gates", exitcode.ErrUsage)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	key, err := compound.NewKey()
	if err != nil {
		return err
	}
	defer key.Wipe()
	if err := key.WriteFile(filepath.Join(dir, "compound.key")); err != nil {
		return err
	}
	acc := compound.Access{Compound: id, Gates: map[string]string{}}
	if acc.Office, err = compound.NewIdentity(filepath.Join(dir, "office.nk")); err != nil {
		return err
	}
	for _, g := range strings.Split(gates, ",") {
		if acc.Gates[g], err = compound.NewIdentity(filepath.Join(dir, g+".nk")); err != nil {
			return err
		}
	}
	b, _ := json.MarshalIndent(acc, "", "  ")
	if err := os.WriteFile(filepath.Join(dir, accessFile), append(b, '\n'), 0o644); err != nil {
		return err
	}
	a.print(acc, fmt.Sprintf("provisioned compound %s in %s: compound.key, office.nk and one NKey per gate (%s).\n"+
		"Copy compound.key and <gate>.nk to each gate out of band; never pass them as flags.", id, dir, gates))
	return nil
}

func (a *app) compoundHub(dir, listen string, every time.Duration, syncAlways bool) error {
	acc, err := readAccess(dir)
	if err != nil {
		return err
	}
	host, port, err := splitHostPort(listen)
	if err != nil {
		return err
	}
	hub, err := compound.StartHub(compound.HubConfig{Dir: filepath.Join(dir, "jetstream"), Host: host, Port: port,
		SyncAlways: syncAlways, Compounds: []compound.Access{acc}})
	if err != nil {
		return err
	}
	defer hub.Close()
	nc, err := compound.DialOffice(hub.URL(), acc.Compound, filepath.Join(dir, "office.nk"))
	if err != nil {
		return err
	}
	defer nc.Close()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	gates := sortedKeys(acc.Gates)
	if err := compound.Setup(ctx, nc, acc.Compound, gates); err != nil {
		return err
	}
	key, err := compound.ReadKeyFile(filepath.Join(dir, "compound.key"))
	if err != nil {
		return err
	}
	defer key.Wipe()
	fmt.Fprintf(a.stderr, "hub for compound %s on %s, JetStream in %s; Ctrl-C stops it\n", acc.Compound, hub.URL(), hub.Dir())
	for {
		if err := a.printLag(ctx, nc, acc.Compound, key, gates); err != nil && ctx.Err() == nil {
			fmt.Fprintf(a.stderr, "facegate: lag: %v\n", err)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(every):
		}
	}
}

func (a *app) compoundLag(dir, url string) error {
	acc, err := readAccess(dir)
	if err != nil {
		return err
	}
	key, err := compound.ReadKeyFile(filepath.Join(dir, "compound.key"))
	if err != nil {
		return err
	}
	defer key.Wipe()
	nc, err := compound.DialOffice(url, acc.Compound, filepath.Join(dir, "office.nk"))
	if err != nil {
		return err
	}
	defer nc.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return a.printLag(ctx, nc, acc.Compound, key, sortedKeys(acc.Gates))
}

func (a *app) printLag(ctx context.Context, nc *nats.Conn, id string, key *compound.Key, gates []string) error {
	prog, err := compound.Lag(ctx, nc, id, key, gates)
	if err != nil {
		return err
	}
	if a.json {
		a.printJSON(prog)
		return nil
	}
	tw := tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "gate\tapplied\tlag\treported")
	for _, p := range prog {
		when := "never"
		if !p.Reported.IsZero() {
			when = p.Reported.Local().Format(time.DateTime)
		}
		fmt.Fprintf(tw, "%s\t%d\t%d\t%s\n", p.Gate, p.Applied, p.Lag, when)
	}
	return tw.Flush()
}

func splitHostPort(s string) (string, int, error) {
	i := strings.LastIndexByte(s, ':')
	if i < 0 {
		return "", 0, fmt.Errorf("%w: --listen %q is not host:port", exitcode.ErrUsage, s)
	}
	var port int
	if _, err := fmt.Sscanf(s[i+1:], "%d", &port); err != nil || port < 0 || port > 65535 {
		return "", 0, fmt.Errorf("%w: --listen %q has no valid port", exitcode.ErrUsage, s)
	}
	return s[:i], port, nil
}
