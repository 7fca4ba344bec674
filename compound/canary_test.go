package compound

import (
	"bytes"
	"context"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
)

// tap is a loopback TCP proxy that keeps a copy of every byte it carries,
// both ways.
type tap struct {
	ln  net.Listener
	mu  sync.Mutex
	buf bytes.Buffer
}

func newTap(t testing.TB, target string) *tap {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	tp := &tap{ln: ln}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			s, err := net.Dial("tcp", target)
			if err != nil {
				c.Close()
				continue
			}
			go tp.pipe(c, s)
			go tp.pipe(s, c)
		}
	}()
	t.Cleanup(func() { ln.Close() })
	return tp
}

func (tp *tap) pipe(dst, src net.Conn) {
	defer dst.Close()
	b := make([]byte, 32<<10)
	for {
		n, err := src.Read(b)
		if n > 0 {
			tp.mu.Lock()
			tp.buf.Write(b[:n])
			tp.mu.Unlock()
			if _, werr := dst.Write(b[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}

func (tp *tap) url() string { return "nats://" + tp.ln.Addr().String() }

func (tp *tap) bytes() []byte {
	tp.mu.Lock()
	defer tp.mu.Unlock()
	return bytes.Clone(tp.buf.Bytes())
}

// TestNoPlaintextOnWireOrDisk enrolls residents with faces, cards and PINs
// through an office and a gate whose connections both run through a tap,
// then scans everything that crossed the wire and every file of the
// server's JetStream directory for the residents' IDs, card numbers, PINs,
// any 16-byte run of their descriptors or of their protected templates.
// None may be there; the scan itself is shown to find a planted needle.
func TestNoPlaintextOnWireOrDisk(t *testing.T) {
	c := newCompound(t, 1)
	u, err := url.Parse(c.hub.URL())
	if err != nil {
		t.Fatal(err)
	}
	tp := newTap(t, u.Host)
	// Reconnect the office through the tap.
	c.oconn.Close()
	if c.oconn, err = DialOffice(tp.url(), c.id, filepath.Join(c.dir, "office.nk")); err != nil {
		t.Fatal(err)
	}
	office, err := NewOffice(context.Background(), c.office.cfg.withConn(c.oconn))
	if err != nil {
		t.Fatal(err)
	}
	c.office = office
	g := c.gates[0]
	c.openGate(g)
	g.conn.Close()
	if g.conn, err = DialGate(tp.url(), c.id, g.id, g.seed); err != nil {
		t.Fatal(err)
	}
	g.agent.cfg.Conn = g.conn
	if g.agent, err = NewAgent(g.agent.cfg); err != nil {
		t.Fatal(err)
	}

	res := residents(6, 14)
	pins := map[string]string{}
	for i, r := range res {
		c.enroll(r)
		pin := strconv.Itoa(73915528 + i*1111)
		pins[r.id] = pin
		if _, err := c.office.SetPIN(context.Background(), r.id, pin); err != nil {
			t.Fatal(err)
		}
	}
	for !g.agent.FaceOpen() || g.agent.Status().Applied < c.office.LastSequence() {
		if _, err := g.agent.Step(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	c.sameAsOffice(g)
	wire := tp.bytes()
	c.hub.Close() // flush the file store
	defer c.startHub()
	var disk []byte
	filepath.WalkDir(c.hub.Dir(), func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			b, _ := os.ReadFile(p)
			disk = append(disk, b...)
		}
		return nil
	})
	if len(wire) < 10000 || len(disk) < 10000 {
		t.Fatalf("too little captured: wire %d bytes, disk %d", len(wire), len(disk))
	}
	protected := map[string][]float32{}
	for _, e := range storeTemplates(t, c.ostore) {
		protected[e.Subject] = e.Template.Vector()
	}
	for where, hay := range map[string][]byte{"wire": wire, "JetStream directory": disk} {
		for _, r := range res {
			for what, needle := range map[string][]byte{
				"resident ID": []byte(r.id),
				"card number": r.card,
				"PIN":         []byte(pins[r.id]),
			} {
				if bytes.Contains(hay, needle) {
					t.Errorf("%s holds %s's %s", where, r.id, what)
				}
			}
			if windowFound(hay, f32le(r.face), 16) {
				t.Errorf("%s holds bytes of %s's descriptor", where, r.id)
			}
			if windowFound(hay, f32le(protected[r.id]), 16) {
				t.Errorf("%s holds bytes of %s's protected template", where, r.id)
			}
		}
		planted := append(bytes.Clone(hay[:len(hay)/2]), f32le(res[0].face)[20:40]...)
		if !windowFound(planted, f32le(res[0].face), 16) {
			t.Fatal("the scan cannot find a planted descriptor")
		}
	}
}
