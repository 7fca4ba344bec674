package compound

import (
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"strconv"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nkeys"

	"github.com/facegate/facegate/internal/seal"
)

// Access says who belongs to one compound: the NKey public keys of its
// office and of each of its gates (by gate ID).
type Access struct {
	Compound string            `json:"compound"`
	Office   string            `json:"office"`
	Gates    map[string]string `json:"gates"`
}

// ReadAccessFile reads an Access from a JSON file (as written by the
// operator's `facegate compound init`).
func ReadAccessFile(path string) (Access, error) {
	var a Access
	b, err := os.ReadFile(path)
	if err != nil {
		return a, fmt.Errorf("compound: access file: %w", err)
	}
	if err := json.Unmarshal(b, &a); err != nil {
		return a, fmt.Errorf("compound: access file %s: %w", path, err)
	}
	if err := checkID("compound", a.Compound); err != nil {
		return a, err
	}
	return a, nil
}

// HubConfig configures a Hub.
type HubConfig struct {
	// Dir is the JetStream store directory. Required.
	Dir string
	// Host is the address to listen on; "" means 127.0.0.1.
	Host string
	// Port is the client port; 0 means a random free port.
	Port int
	// SyncAlways fsyncs every message before acknowledging it (survives
	// power loss, not only a server crash, at the cost of throughput).
	SyncAlways bool
	// Compounds are the compounds served, with their identities.
	Compounds []Access
}

// Hub is an embedded NATS server with JetStream: the office's end of a
// compound, which the gates connect to.
type Hub struct {
	srv *server.Server
	dir string
}

// StartHub starts a hub and waits until it accepts connections.
func StartHub(cfg HubConfig) (*Hub, error) {
	if cfg.Dir == "" {
		return nil, fmt.Errorf("compound: hub: no JetStream directory")
	}
	if cfg.Host == "" {
		cfg.Host = "127.0.0.1"
	}
	port := cfg.Port
	if port == 0 {
		port = server.RANDOM_PORT
	}
	opts := &server.Options{
		ServerName: "facegate-hub", Host: cfg.Host, Port: port,
		JetStream: true, StoreDir: cfg.Dir, SyncAlways: cfg.SyncAlways,
		NoSigs: true, NoLog: true, MaxPayload: 1 << 20,
	}
	for _, a := range cfg.Compounds {
		if err := checkID("compound", a.Compound); err != nil {
			return nil, err
		}
		if !nkeys.IsValidPublicUserKey(a.Office) {
			return nil, fmt.Errorf("%w: office of %s has no valid NKey user public key", ErrKey, a.Compound)
		}
		opts.Nkeys = append(opts.Nkeys, &server.NkeyUser{Nkey: a.Office, Permissions: officePermissions(a.Compound)})
		for g, pub := range a.Gates {
			if err := checkID("gate", g); err != nil {
				return nil, err
			}
			if !nkeys.IsValidPublicUserKey(pub) {
				return nil, fmt.Errorf("%w: gate %s of %s has no valid NKey user public key", ErrKey, g, a.Compound)
			}
			opts.Nkeys = append(opts.Nkeys, &server.NkeyUser{Nkey: pub, Permissions: gatePermissions(a.Compound, g)})
		}
	}
	srv, err := server.NewServer(opts)
	if err != nil {
		return nil, fmt.Errorf("compound: hub: %w", err)
	}
	go srv.Start()
	if !srv.ReadyForConnections(10 * time.Second) {
		srv.Shutdown()
		return nil, fmt.Errorf("compound: hub did not start within 10s")
	}
	return &Hub{srv: srv, dir: cfg.Dir}, nil
}

// URL returns the URL clients connect to.
func (h *Hub) URL() string { return h.srv.ClientURL() }

// Port returns the client port the hub listens on.
func (h *Hub) Port() int {
	_, p, _ := net.SplitHostPort(h.srv.Addr().String())
	n, _ := strconv.Atoi(p)
	return n
}

// Dir returns the JetStream store directory.
func (h *Hub) Dir() string { return h.dir }

// Close shuts the server down (flushing the JetStream store) and waits for
// it to stop.
func (h *Hub) Close() {
	h.srv.Shutdown()
	h.srv.WaitForShutdown()
}

func allow(pub, sub []string) *server.Permissions {
	return &server.Permissions{
		Publish:   &server.SubjectPermission{Allow: pub},
		Subscribe: &server.SubjectPermission{Allow: sub},
	}
}

// officePermissions: the office publishes changes and manages its own
// compound's two streams and their consumers, nothing else.
func officePermissions(c string) *server.Permissions {
	n := names{c}
	s, a := n.stream(), n.ackStream()
	return allow([]string{
		"fg." + c + ".chg.>",
		"$JS.API.INFO",
		"$JS.API.STREAM.*." + s, "$JS.API.STREAM.*." + a,
		"$JS.API.STREAM.MSG.*." + s, "$JS.API.STREAM.MSG.*." + a,
		"$JS.API.CONSUMER.*." + s, "$JS.API.CONSUMER.*." + s + ".>",
		"$JS.API.CONSUMER.DURABLE.CREATE." + s + ".>",
	}, []string{n.officeInbox() + ".>"})
}

// gatePermissions: a gate pulls from and acknowledges its own durable
// consumer and reports its progress on its own ack subject. It cannot
// publish a change, create a consumer, read a stream directly, or
// subscribe to anything but its own inbox.
func gatePermissions(c, g string) *server.Permissions {
	n := names{c}
	s := n.stream()
	return allow([]string{
		"$JS.API.CONSUMER.INFO." + s + "." + g,
		"$JS.API.CONSUMER.MSG.NEXT." + s + "." + g,
		"$JS.ACK." + s + "." + g + ".>",
		"$JS.ACK.*.*." + s + "." + g + ".>",
		n.ack(g),
	}, []string{n.gateInbox(g) + ".>"})
}

// NewIdentity creates an NKey user seed file at path (mode 0600; it fails
// if the file exists) and returns its public key, which goes into the
// hub's Access.
func NewIdentity(path string) (string, error) {
	kp, err := nkeys.CreateUser()
	if err != nil {
		return "", fmt.Errorf("compound: nkey: %w", err)
	}
	seed, err := kp.Seed()
	if err != nil {
		return "", fmt.Errorf("compound: nkey: %w", err)
	}
	defer seal.Zero(seed)
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return "", fmt.Errorf("compound: identity file: %w", err)
	}
	_, err = f.Write(append(seed, '\n'))
	if err = errors.Join(err, f.Close()); err != nil {
		return "", fmt.Errorf("compound: identity file: %w", err)
	}
	return kp.PublicKey()
}

// IdentityPublicKey returns the public key of the NKey seed file at path.
func IdentityPublicKey(path string) (string, error) {
	opt, err := nats.NkeyOptionFromSeed(path)
	if err != nil {
		return "", fmt.Errorf("compound: identity file: %w", err)
	}
	var o nats.Options
	if err := opt(&o); err != nil {
		return "", err
	}
	return o.Nkey, nil
}

func dial(url, seedFile, inbox, name string) (*nats.Conn, error) {
	fi, err := os.Stat(seedFile)
	if err != nil {
		return nil, fmt.Errorf("compound: identity file: %w", err)
	}
	if fi.Mode().Perm()&0o077 != 0 {
		return nil, fmt.Errorf("%w: %s is readable by others (mode %v); chmod 600", ErrKey, seedFile, fi.Mode().Perm())
	}
	auth, err := nats.NkeyOptionFromSeed(seedFile)
	if err != nil {
		return nil, fmt.Errorf("compound: identity file: %w", err)
	}
	nc, err := nats.Connect(url, auth, nats.CustomInboxPrefix(inbox), nats.Name(name),
		nats.MaxReconnects(-1), nats.ReconnectWait(100*time.Millisecond), nats.RetryOnFailedConnect(true),
		nats.ReconnectBufSize(-1), // nothing is queued while disconnected: a gate must notice it is cut off
		nats.ErrorHandler(func(*nats.Conn, *nats.Subscription, error) {}))
	if err != nil {
		return nil, fmt.Errorf("compound: connect %s: %w", url, err)
	}
	return nc, nil
}

// DialOffice connects the office of compound to the hub at url with the
// NKey seed in seedFile.
func DialOffice(url, compound, seedFile string) (*nats.Conn, error) {
	if err := checkID("compound", compound); err != nil {
		return nil, err
	}
	return dial(url, seedFile, names{compound}.officeInbox(), "facegate office "+compound)
}

// DialGate connects gate g of compound to the hub at url with the NKey seed
// in seedFile.
func DialGate(url, compound, g, seedFile string) (*nats.Conn, error) {
	if err := checkID("compound", compound); err != nil {
		return nil, err
	}
	if err := checkID("gate", g); err != nil {
		return nil, err
	}
	return dial(url, seedFile, names{compound}.gateInbox(g), "facegate gate "+compound+"/"+g)
}
