package accesslog

import (
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/facegate/facegate/gate/internal/rawstore"
	"github.com/facegate/facegate/gate/records/recordstest"
	"github.com/facegate/facegate/store"
)

// TestAccessLogKeyShreddedOnDisk checks that events are sealed in the real
// bbolt file, then ages the log past the retention window and reads the
// raw file: the period key's wrapped
// data key and sealed record are gone from it, so the day's pseudonyms can
// never be recomputed, while the day's events are still there until the
// hard limit, when they go too.
func TestAccessLogKeyShreddedOnDisk(t *testing.T) {
	st, err := store.Create(filepath.Join(t.TempDir(), "log.db"), store.Passphrase([]byte("pw")),
		&store.Options{KDF: store.KDFParams{Time: 1, MemoryKiB: 64, Threads: 1}})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	c := recordstest.NewClock(t0)
	l, err := New(st, Options{Clock: c.Now, Retention: 3 * Period, HardLimit: 10 * Period})
	if err != nil {
		t.Fatal(err)
	}
	for range 3 {
		if err := l.Append(Entry{Gate: "north", Method: "pin", Admitted: true, Subject: "flat-3c"}); err != nil {
			t.Fatal(err)
		}
	}
	if found, _ := l.Find("flat-3c"); len(found) != 3 {
		t.Fatalf("Find = %d events, want 3", len(found))
	}
	// Sealed at rest: no event text is in the file in plain.
	for _, plain := range []string{`"gate":"north"`, `"method":"pin"`, "flat-3c"} {
		if rawstore.Contains(t, st.Path(), []byte(plain)) {
			t.Fatalf("%s is in the file in plain", plain)
		}
	}
	before := rawstore.Values(t, st.Path())

	c.Set(dayStartMust(t, t0).Add(3 * Period))
	if _, err := l.Expire(); err != nil {
		t.Fatal(err)
	}
	after := rawstore.Values(t, st.Path())
	gone := rawstore.Gone(before, after)
	// The key class's wrapped data key (store.WrappedKeySize bytes) and the
	// sealed 32-byte period key (padded: store.SealedSize(32, len(keyName))). The
	// manifest changes with them.
	if sizes := rawstore.Sizes(gone); sizes[store.WrappedKeySize] != 1 || sizes[store.SealedSize(keySize, len(keyName))] != 1 {
		t.Fatalf("values gone at the retention window by size: %v, want the wrapped key and the sealed period key", sizes)
	}
	for i, b := range gone {
		if rawstore.Contains(t, st.Path(), b) {
			t.Fatalf("value %d of the destroyed period key is still in the file", i)
		}
	}
	if _, err := l.Pseudonym("flat-3c", t0); !errors.Is(err, ErrKeyDestroyed) {
		t.Fatalf("Pseudonym = %v", err)
	}
	if ev, err := l.Events(t0); err != nil || len(ev) != 3 {
		t.Fatalf("events kept until the hard limit: %d, %v", len(ev), err)
	}

	c.Set(dayStartMust(t, t0).Add(10 * Period))
	if _, err := l.Expire(); err != nil {
		t.Fatal(err)
	}
	gone = rawstore.Gone(after, rawstore.Values(t, st.Path()))
	if len(gone) < 4 {
		t.Fatalf("%d values gone at the hard limit, want at least the 3 events and their key", len(gone))
	}
	for i, b := range gone {
		if rawstore.Contains(t, st.Path(), b) {
			t.Fatalf("purged value %d is still in the file", i)
		}
	}
	if days, err := l.Days(); err != nil || len(days) != 0 {
		t.Fatalf("days after purge: %v, %v", days, err)
	}
}

func dayStartMust(t *testing.T, tm time.Time) time.Time {
	s, err := dayStart(dayOf(tm))
	if err != nil {
		t.Fatal(err)
	}
	return s
}
