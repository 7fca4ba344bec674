package gate

import (
	"bytes"
	"fmt"
	"path/filepath"
	"testing"

	bolt "go.etcd.io/bbolt"

	"github.com/facegate/facegate/store"
)

// rawSizes returns the size of every record value in the closed bbolt
// file at path whose key holds all of parts, as a reader of the raw file
// without the key sees them.
func rawSizes(t *testing.T, path string, parts ...string) []int {
	t.Helper()
	db, err := bolt.Open(path, 0o600, &bolt.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var sizes []int
	db.View(func(tx *bolt.Tx) error {
		return tx.Bucket([]byte("records")).ForEach(func(k, v []byte) error {
			for _, p := range parts {
				if !bytes.Contains(k, []byte(p)) {
					return nil
				}
			}
			sizes = append(sizes, len(v))
			return nil
		})
	})
	return sizes
}

// TestRecordSizesHideState: in the raw file, a PIN record with and
// without a lockout, a face consent given and withdrawn, and access events
// admitted and refused have the same sizes.
func TestRecordSizesHideState(t *testing.T) {
	path := filepath.Join(t.TempDir(), "gate.db")
	st, err := store.Create(path, store.Passphrase([]byte("test passphrase")), cheapKDF)
	if err != nil {
		t.Fatal(err)
	}
	e := newEnv(t, st, withMaxPIN(3))
	for i := range 4 {
		s := fmt.Sprintf("flat-%d", i)
		e.register(t, s, true)
		if err := e.g.SetPIN(s, "2468"); err != nil {
			t.Fatal(err)
		}
	}
	for range 3 {
		e.g.Admit(Attempt{Subject: "flat-1", PIN: "0000"}) // flat-1 locked out, refused events
	}
	e.g.Admit(Attempt{Subject: "flat-0", PIN: "2468"}) // an admitted event
	if _, err := e.g.Withdraw("flat-3", PurposeFace); err != nil {
		t.Fatal(err)
	}
	st.Close()
	same := func(what string, a, b []int) {
		t.Helper()
		if len(a) == 0 || len(b) == 0 {
			t.Fatalf("%s: no records found (%v, %v)", what, a, b)
		}
		for _, x := range append(a, b...) {
			if x != a[0] {
				t.Errorf("%s: sizes %v and %v tell the states apart", what, a, b)
				return
			}
		}
	}
	same("PIN unlocked / locked", rawSizes(t, path, "flat-0", "credential", "pin"), rawSizes(t, path, "flat-1", "credential", "pin"))
	same("face consent given / withdrawn", rawSizes(t, path, "flat-2", "consent", "face"), rawSizes(t, path, "flat-3", "consent", "face"))
	ev := rawSizes(t, path, "accesslog/", "event")
	same("access events admitted / refused", ev[:1], ev[1:])
}
