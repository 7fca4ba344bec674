package accesslog

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/facegate/facegate/gate/records/recordstest"
)

var t0 = time.Date(2026, 11, 1, 8, 30, 42, 123, time.UTC)

func newLog(t *testing.T, opt Options) (*Log, *recordstest.Store, *recordstest.Clock) {
	t.Helper()
	c := recordstest.NewClock(t0)
	opt.Clock = c.Now
	st := recordstest.New()
	l, err := New(st, opt)
	if err != nil {
		t.Fatal(err)
	}
	return l, st, c
}

// TestAccessLogUnlinkableAfterRetention ages a log day by day and checks
// that a day's events link to their subject exactly while the day is inside
// the retention window, and that afterwards the period key opens nowhere in
// the store, so nobody can link them.
func TestAccessLogUnlinkableAfterRetention(t *testing.T) {
	for _, days := range []int{1, 3, 7, 14} {
		t.Run(fmt.Sprintf("retention=%dd", days), func(t *testing.T) {
			retention := time.Duration(days) * Period
			l, st, c := newLog(t, Options{Retention: retention, HardLimit: 40 * Period})
			const n = 20
			keys := map[string][]byte{} // copies of every period key, for the raw check
			logged := make([]time.Time, 0, n)
			for i := range n {
				if err := l.Append(Entry{Gate: "north", Method: "card", Admitted: true, Subject: "flat-12b"}); err != nil {
					t.Fatal(err)
				}
				if err := l.Append(Entry{Gate: "north", Method: "card", Admitted: true, Subject: "flat-3a"}); err != nil {
					t.Fatal(err)
				}
				now := c.Now()
				logged = append(logged, now)
				l.mu.Lock()
				keys[dayOf(now)] = bytes.Clone(l.keys[dayOf(now)])
				l.mu.Unlock()

				// Check every day logged so far at this moment.
				found, err := l.Find("flat-12b")
				if err != nil {
					t.Fatal(err)
				}
				wantFound := 0
				for _, d := range logged {
					start, _ := dayStart(dayOf(d))
					linkable := now.Before(start.Add(retention))
					p, err := l.Pseudonym("flat-12b", d)
					switch {
					case linkable && err != nil:
						t.Fatalf("day %d at day %d: pseudonym: %v, want linkable", len(logged)-1, i, err)
					case !linkable && !errors.Is(err, ErrKeyDestroyed):
						t.Fatalf("day %s at %s: pseudonym err = %v, want ErrKeyDestroyed", dayOf(d), now, err)
					}
					if linkable {
						wantFound++
						events, err := l.Events(d)
						if err != nil {
							t.Fatal(err)
						}
						if !hasPseudonym(events, p) {
							t.Fatalf("day %s: no event carries the subject's pseudonym", dayOf(d))
						}
					}
					if !linkable && st.Opens(keys[dayOf(d)]) != 0 {
						t.Fatalf("day %s: destroyed period key still opens in the store", dayOf(d))
					}
					if linkable && st.Opens(keys[dayOf(d)]) == 0 {
						t.Fatalf("day %s: live period key does not open; the raw check is blind", dayOf(d))
					}
				}
				if len(found) != wantFound {
					t.Fatalf("at day %d Find returned %d events, want %d (retention %v)", i, len(found), wantFound, retention)
				}
				c.Add(Period)
			}
			// Events outside the window are kept (until the hard limit) but
			// carry only pseudonyms nobody can compute any more.
			if ev, err := l.Events(logged[0]); err != nil || len(ev) != 2 {
				t.Fatalf("oldest day: %d events, %v; want 2 kept until the hard limit", len(ev), err)
			}
		})
	}
}

func hasPseudonym(events []Event, p string) bool {
	for _, e := range events {
		if e.Pseudonym == p {
			return true
		}
	}
	return false
}

// TestAccessLogPseudonymsDifferAcrossDays checks that one subject gets a
// different pseudonym every day, and two subjects different pseudonyms on
// the same day: events of different days cannot be joined.
func TestAccessLogPseudonymsDifferAcrossDays(t *testing.T) {
	l, _, c := newLog(t, Options{})
	seen := map[string]string{}
	for day := range 7 {
		for _, s := range []string{"flat-1", "flat-2", "flat-3"} {
			if err := l.Append(Entry{Gate: "g", Method: "pin", Admitted: true, Subject: s}); err != nil {
				t.Fatal(err)
			}
			p, err := l.Pseudonym(s, c.Now())
			if err != nil {
				t.Fatal(err)
			}
			who := fmt.Sprintf("%s on day %d", s, day)
			if prev, ok := seen[p]; ok {
				t.Fatalf("%s shares pseudonym %s with %s", who, p, prev)
			}
			seen[p] = who
		}
		c.Add(Period)
	}
}

// TestAccessLogPurgesAfterHardLimit checks that nothing of a day is kept
// once the day is older than the hard limit.
func TestAccessLogPurgesAfterHardLimit(t *testing.T) {
	tests := []struct{ retention, limit time.Duration }{
		{7 * Period, 7 * Period},
		{7 * Period, 30 * Period},
		{2 * Period, 5 * Period},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.retention, tt.limit), func(t *testing.T) {
			l, st, c := newLog(t, Options{Retention: tt.retention, HardLimit: tt.limit})
			first := c.Now()
			if err := l.Append(Entry{Gate: "g", Method: "qr", Admitted: false, Reason: "replayed", Subject: "canary-subject"}); err != nil {
				t.Fatal(err)
			}
			start, _ := dayStart(dayOf(first))
			c.Set(start.Add(tt.limit - time.Minute))
			if _, err := l.Expire(); err != nil {
				t.Fatal(err)
			}
			if ev, _ := l.Events(first); len(ev) != 1 {
				t.Fatalf("a minute before the hard limit: %d events, want 1", len(ev))
			}
			c.Set(start.Add(tt.limit))
			rep, err := l.Expire()
			if err != nil {
				t.Fatal(err)
			}
			if len(rep.Purged) != 1 {
				t.Fatalf("Expire purged %v, want the first day", rep.Purged)
			}
			if ev, _ := l.Events(first); len(ev) != 0 {
				t.Fatalf("at the hard limit: %d events remain, want 0", len(ev))
			}
			if days, _ := l.Days(); len(days) != 0 {
				t.Fatalf("days still indexed: %v", days)
			}
			if n := st.Opens([]byte(`"gate":"g"`)); n != 0 {
				t.Fatalf("%d purged events still open in the store", n)
			}
		})
	}
}

// TestAccessLogKeepsMinutesAndNoSubjectIDs checks that stored events hold
// the time to the minute only and never the subject ID.
func TestAccessLogKeepsMinutesAndNoSubjectIDs(t *testing.T) {
	l, st, c := newLog(t, Options{})
	if err := l.Append(Entry{Gate: "east", Method: "face", Admitted: true, Subject: "resident-canary-42"}); err != nil {
		t.Fatal(err)
	}
	ev, err := l.Events(c.Now())
	if err != nil || len(ev) != 1 {
		t.Fatalf("events: %v, %v", ev, err)
	}
	if want := c.Now().Truncate(time.Minute); !ev[0].Time.Equal(want) {
		t.Errorf("event time %v, want %v", ev[0].Time, want)
	}
	if ev[0].Gate != "east" || ev[0].Method != "face" || !ev[0].Admitted || ev[0].Pseudonym == "" {
		t.Errorf("event = %+v", ev[0])
	}
	if n := st.Opens([]byte("resident-canary-42")); n != 0 {
		t.Errorf("the subject ID is stored in %d records", n)
	}
	if n := st.Opens([]byte(`"gate":"east"`)); n != 1 {
		t.Errorf("the event opens in %d records, want 1; the check is blind", n)
	}
}

// TestAccessLogUnrecognisedAttempt checks that an attempt with no subject
// is logged without a pseudonym.
func TestAccessLogUnrecognisedAttempt(t *testing.T) {
	l, _, c := newLog(t, Options{})
	if err := l.Append(Entry{Gate: "g", Method: "face", Reason: "unknown face"}); err != nil {
		t.Fatal(err)
	}
	ev, _ := l.Events(c.Now())
	if len(ev) != 1 || ev[0].Pseudonym != "" || ev[0].Admitted {
		t.Fatalf("events = %+v", ev)
	}
}

func TestNewRejectsBadOptions(t *testing.T) {
	for _, opt := range []Options{
		{Retention: time.Hour},
		{Retention: 8 * Period, HardLimit: 7 * Period},
		{HardLimit: Period},
	} {
		if _, err := New(recordstest.New(), opt); !errors.Is(err, ErrOptions) {
			t.Errorf("New(%+v) err = %v, want ErrOptions", opt, err)
		}
	}
}

// TestAppendExpiresWithoutExplicitCall checks that keys are destroyed on
// time by Append alone.
func TestAppendExpiresWithoutExplicitCall(t *testing.T) {
	l, _, c := newLog(t, Options{Retention: 2 * Period})
	first := c.Now()
	l.Append(Entry{Gate: "g", Method: "card", Admitted: true, Subject: "s"})
	c.Add(2 * Period)
	l.Append(Entry{Gate: "g", Method: "card", Admitted: true, Subject: "s"})
	l.mu.Lock()
	_, cached := l.keys[dayOf(first)]
	l.mu.Unlock()
	if cached {
		t.Fatal("expired period key still cached in memory")
	}
	if _, err := l.Pseudonym("s", first); !errors.Is(err, ErrKeyDestroyed) {
		t.Fatalf("err = %v, want ErrKeyDestroyed", err)
	}
}

func TestConcurrentAppend(t *testing.T) {
	l, _, c := newLog(t, Options{})
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 25 {
				if err := l.Append(Entry{Gate: fmt.Sprint(g), Method: "card", Admitted: true, Subject: fmt.Sprint(i)}); err != nil {
					t.Error(err)
				}
			}
		}()
	}
	wg.Wait()
	if ev, _ := l.Events(c.Now()); len(ev) != 100 {
		t.Fatalf("%d events, want 100", len(ev))
	}
}

func FuzzDecodeEvent(f *testing.F) {
	f.Add([]byte(`{"time":"2026-11-01T08:30:00Z","gate":"g","method":"card","admitted":true,"pseudonym":"00112233445566778899aabbccddeeff"}`))
	f.Add([]byte(`{"time":"2026-11-01T08:30:01Z"}`))
	f.Add([]byte(`{"time":"2026-11-01T08:30:00Z","pseudonym":"zz"}`))
	f.Add([]byte(`{} {}`))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, data []byte) {
		ev, err := DecodeEvent(data)
		if err != nil {
			if !errors.Is(err, ErrCorrupt) {
				t.Fatalf("error %v does not match ErrCorrupt", err)
			}
			return
		}
		if ev.Time.Second() != 0 || ev.Time.Nanosecond() != 0 {
			t.Fatalf("accepted sub-minute time %v", ev.Time)
		}
		if b, err := hex.DecodeString(ev.Pseudonym); err != nil || (ev.Pseudonym != "" && len(b) != 16) {
			t.Fatalf("accepted pseudonym %q", ev.Pseudonym)
		}
		// What was accepted must survive the encoding Append writes.
		data2, err := json.Marshal(ev)
		if err != nil {
			t.Fatalf("re-encoding %+v: %v", ev, err)
		}
		ev2, err := DecodeEvent(data2)
		if err != nil || !ev2.Time.Equal(ev.Time) || ev2.Gate != ev.Gate || ev2.Method != ev.Method ||
			ev2.Admitted != ev.Admitted || ev2.Reason != ev.Reason || ev2.Pseudonym != ev.Pseudonym {
			t.Fatalf("%+v re-encodes as %s, decoded as %+v, %v", ev, data2, ev2, err)
		}
	})
}
