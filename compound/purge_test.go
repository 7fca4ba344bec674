package compound

import (
	"context"
	"testing"

	"github.com/nats-io/nats.go/jetstream"
)

// TestPlainPurgeKeepsBytes records why AwaitWithdrawal erases with
// SecureDeleteMsg: JetStream's purge by subject drops the message from the
// stream, but its bytes stay in the server's block file. If a nats-server
// upgrade makes this test fail, the purge has become an erase.
func TestPlainPurgeKeepsBytes(t *testing.T) {
	c := newCompound(t, 1)
	for _, r := range residents(3, 1) {
		c.enroll(r)
	}
	m, err := c.office.chg.GetMsg(context.Background(), 4) // resident 1's template
	if err != nil {
		t.Fatal(err)
	}
	if err := c.office.chg.Purge(context.Background(), jetstream.WithPurgeSubject(m.Subject)); err != nil {
		t.Fatal(err)
	}
	if _, err := c.office.chg.GetMsg(context.Background(), 4); err == nil {
		t.Fatal("purged message still served")
	}
	c.hub.Close()
	defer c.startHub()
	if !dirContains(t, c.hub.Dir(), m.Data[40:72]) {
		t.Fatal("a plain purge now erases the bytes too")
	}
}
