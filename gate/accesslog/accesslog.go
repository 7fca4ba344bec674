// Package accesslog keeps a gate access log that does not watch people.
//
// Every event holds the time to the minute, the gate, the method, the
// decision and — instead of the subject — a pseudonym: HMAC-SHA256 of the
// subject ID under a random key of the event's period (one UTC day).
// Within the retention window (default 7 days) the operator can still link
// a pseudonym to a subject, for example to answer a subject's request for
// access. Once a period is older than the window its key is crypto-shredded
// through the store: its events remain, for counting, but no one can say
// whose they were, and events of two different days never share a
// pseudonym. Events older than the hard limit (default 30 days) are purged.
// Everything is sealed at rest by the records.Sealed.
package accesslog

import (
	"bytes"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/facegate/facegate/gate/records"
)

// Defaults for Options.
const (
	// DefaultRetention is how long a period key lives: after it, a day's
	// events can no longer be linked to anyone.
	DefaultRetention = 7 * 24 * time.Hour
	// DefaultHardLimit is how long events are kept at all.
	DefaultHardLimit = 30 * 24 * time.Hour
	// Period is the pseudonym period: one UTC day.
	Period = 24 * time.Hour
)

// Store layout: the index lives under subject indexSubject, class
// indexClass, one record per day ("2006-01-02"); each day's records live
// under subject dayPrefix+day with the key and the events in separate
// classes, so shredding the key leaves the events readable. Both subjects
// hold a "/", which gate subject IDs never do, so a resident's ID cannot
// collide with the log's.
const (
	indexSubject = "accesslog/days"
	indexClass   = "days"
	dayPrefix    = "accesslog/"
	keyClass     = "key"
	keyName      = "period"
	eventClass   = "event"
	dayLayout    = "2006-01-02"
	keySize      = 32
)

var (
	// ErrKeyDestroyed is returned when a pseudonym is asked for a period
	// whose key has been destroyed: its events are no longer linkable.
	ErrKeyDestroyed = errors.New("accesslog: period key destroyed, events of that period are unlinkable")
	// ErrNoPeriod is returned when the log holds nothing for a period.
	ErrNoPeriod = errors.New("accesslog: no events recorded for that period")
	// ErrOptions is returned by New for inconsistent Options.
	ErrOptions = errors.New("accesslog: invalid options")
	// ErrCorrupt is returned when a stored event or key does not decode.
	ErrCorrupt = errors.New("accesslog: corrupt record")
)

// Options configure a Log. The zero value selects the defaults.
type Options struct {
	// Clock returns the current time; nil means time.Now. Tests inject a
	// fake clock to age the log.
	Clock func() time.Time
	// Retention is how long a period's key (and so the link between its
	// events and subjects) survives, counted from the start of the period.
	// Zero means DefaultRetention; otherwise it must be at least one Period.
	Retention time.Duration
	// HardLimit is how long a period's events survive, counted from the
	// start of the period. Zero means DefaultHardLimit; it must be at
	// least Retention.
	HardLimit time.Duration
}

// Entry is what a gate reports for one decision. Subject is the gate's
// subject ID, or "" when nobody was recognised; it is never stored.
type Entry struct {
	// Gate is the door's ID.
	Gate string
	// Method names the factors that decided, e.g. "face+card".
	Method string
	// Admitted is the decision.
	Admitted bool
	// Reason is a fixed phrase (never an ID) saying why.
	Reason string
	// Liveness is the liveness verdict of the attempt's face ("live",
	// "not-live", "unchecked"), or "" when no face was presented.
	Liveness string
	// Subject is the subject recognised, or ""; only its pseudonym is
	// stored.
	Subject string
}

// Event is one stored access event.
type Event struct {
	// Time is the event's time in UTC, truncated to the minute.
	Time time.Time `json:"time"`
	// Gate is the gate's ID.
	Gate string `json:"gate"`
	// Method is how the subject identified ("face", "card", ...).
	Method string `json:"method"`
	// Admitted is the decision.
	Admitted bool `json:"admitted"`
	// Reason is why, in a few words.
	Reason string `json:"reason,omitempty"`
	// Liveness is the face's liveness verdict, "" without a face.
	Liveness string `json:"liveness,omitempty"`
	// Pseudonym is the subject keyed by the period key, hex encoded, or ""
	// when no subject was recognised.
	Pseudonym string `json:"pseudonym,omitempty"`
}

// Log is an access log on a records.Sealed. It is safe for concurrent use.
type Log struct {
	st        records.Sealed
	clock     func() time.Time
	retention time.Duration
	hardLimit time.Duration

	mu      sync.Mutex
	keys    map[string][]byte // day -> period key, live periods only
	expired string            // day of the last expiry pass
	indexed string            // day last written to the index
}

// New returns a Log on st. It destroys any period key already past the
// retention window before returning.
func New(st records.Sealed, opt Options) (*Log, error) {
	l := &Log{st: st, clock: opt.Clock, retention: opt.Retention, hardLimit: opt.HardLimit, keys: map[string][]byte{}}
	if l.clock == nil {
		l.clock = time.Now
	}
	if l.retention == 0 {
		l.retention = DefaultRetention
	}
	if l.hardLimit == 0 {
		l.hardLimit = DefaultHardLimit
	}
	if l.retention < Period || l.hardLimit < l.retention {
		return nil, fmt.Errorf("%w: retention %v must be at least %v and hard limit %v at least the retention", ErrOptions, l.retention, Period, l.hardLimit)
	}
	// A store opened read-only (records.ErrReadOnly) cannot expire
	// anything; Days, Events and Find leave out what Expire would have
	// deleted.
	if _, err := l.Expire(); err != nil && !errors.Is(err, records.ErrReadOnly) {
		return nil, err
	}
	return l, nil
}

// Retention returns the log's retention window.
func (l *Log) Retention() time.Duration { return l.retention }

// HardLimit returns how long events are kept.
func (l *Log) HardLimit() time.Duration { return l.hardLimit }

func dayOf(t time.Time) string { return t.UTC().Format(dayLayout) }

func dayStart(day string) (time.Time, error) {
	return time.Parse(dayLayout, day)
}

// Append records one decision at the current time. It first runs Expire if
// the day changed since the last pass, so keys are destroyed on time even
// when nobody calls Expire.
func (l *Log) Append(e Entry) error {
	now := l.clock().UTC()
	day := dayOf(now)
	l.mu.Lock()
	stale := l.expired != day
	l.mu.Unlock()
	if stale {
		if _, err := l.Expire(); err != nil {
			return err
		}
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	ev := Event{Time: now.Truncate(time.Minute), Gate: e.Gate, Method: e.Method, Admitted: e.Admitted, Reason: e.Reason, Liveness: e.Liveness}
	if e.Subject != "" {
		key, err := l.periodKey(day, true)
		if err != nil {
			return err
		}
		ev.Pseudonym = pseudonym(key, e.Subject)
	}
	data, err := json.Marshal(ev)
	if err != nil {
		return err
	}
	if l.indexed != day {
		if err := l.st.PutRecord(indexSubject, indexClass, day, nil); err != nil {
			return fmt.Errorf("accesslog: index %s: %w", day, err)
		}
		l.indexed = day
	}
	// Names sort by minute; the random tail keeps them unique without
	// recording the order of events within a minute.
	var tail [8]byte
	rand.Read(tail[:])
	name := fmt.Sprintf("%s-%x", ev.Time.Format("1504"), tail)
	if err := l.st.PutRecord(dayPrefix+day, eventClass, name, data); err != nil {
		return fmt.Errorf("accesslog: event %s/%s: %w", day, name, err)
	}
	return nil
}

// periodKey returns the key of day, creating it when create is set and the
// day has none. l.mu must be held.
func (l *Log) periodKey(day string, create bool) ([]byte, error) {
	if k, ok := l.keys[day]; ok {
		return k, nil
	}
	k, err := l.st.GetRecord(dayPrefix+day, keyClass, keyName)
	switch {
	case err == nil:
		if len(k) != keySize {
			return nil, fmt.Errorf("%w: period key of %s has %d bytes", ErrCorrupt, day, len(k))
		}
	case records.NotFound(err) && create:
		k = make([]byte, keySize)
		rand.Read(k)
		if err := l.st.PutRecord(dayPrefix+day, keyClass, keyName, k); err != nil {
			return nil, fmt.Errorf("accesslog: period key %s: %w", day, err)
		}
	default:
		return nil, err
	}
	l.keys[day] = k
	return k, nil
}

func pseudonym(key []byte, subject string) string {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(subject))
	return hex.EncodeToString(m.Sum(nil)[:16])
}

// live reports whether day's key is still inside the retention window.
func (l *Log) live(day string, now time.Time) bool {
	start, err := dayStart(day)
	return err == nil && now.Before(start.Add(l.retention))
}

// list lists records, a missing subject being an empty list.
func (l *Log) list(subject, class string) ([]string, error) {
	names, err := l.st.ListRecords(subject, class)
	if records.NotFound(err) {
		return nil, nil
	}
	return names, err
}

// Pseudonym returns subject's pseudonym in the period holding t. It returns
// ErrKeyDestroyed when that period is past the retention window and
// ErrNoPeriod when nothing was logged in it.
func (l *Log) Pseudonym(subject string, t time.Time) (string, error) {
	day := dayOf(t)
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.live(day, l.clock().UTC()) {
		return "", fmt.Errorf("%w (%s)", ErrKeyDestroyed, day)
	}
	key, err := l.periodKey(day, false)
	if records.NotFound(err) {
		return "", fmt.Errorf("%w (%s)", ErrNoPeriod, day)
	}
	if err != nil {
		return "", err
	}
	return pseudonym(key, subject), nil
}

// Days returns the start of every period the log still holds events for,
// oldest first. A period past the hard limit that a store opened read-only
// could not purge is left out.
func (l *Log) Days() ([]time.Time, error) {
	names, err := l.list(indexSubject, indexClass)
	if err != nil {
		return nil, err
	}
	now := l.clock().UTC()
	days := make([]time.Time, 0, len(names))
	for _, n := range names {
		t, err := dayStart(n)
		if err != nil {
			return nil, fmt.Errorf("%w: day index %q", ErrCorrupt, n)
		}
		if !now.Before(t.Add(l.hardLimit)) {
			continue
		}
		days = append(days, t)
	}
	return days, nil
}

// Events returns the events of the period holding t, in minute order.
func (l *Log) Events(t time.Time) ([]Event, error) {
	day := dayOf(t)
	names, err := l.list(dayPrefix+day, eventClass)
	if err != nil {
		return nil, err
	}
	events := make([]Event, 0, len(names))
	for _, n := range names {
		data, err := l.st.GetRecord(dayPrefix+day, eventClass, n)
		if err != nil {
			return nil, fmt.Errorf("accesslog: event %s/%s: %w", day, n, err)
		}
		ev, err := DecodeEvent(data)
		if err != nil {
			return nil, fmt.Errorf("accesslog: event %s/%s: %w", day, n, err)
		}
		events = append(events, ev)
	}
	return events, nil
}

// DecodeEvent decodes one stored event, checking its fields.
func DecodeEvent(data []byte) (Event, error) {
	var ev Event
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&ev); err != nil {
		return Event{}, fmt.Errorf("%w: %v", ErrCorrupt, err)
	}
	if dec.More() {
		return Event{}, fmt.Errorf("%w: trailing data", ErrCorrupt)
	}
	if ev.Time.IsZero() || !ev.Time.Equal(ev.Time.Truncate(time.Minute)) {
		return Event{}, fmt.Errorf("%w: time %v is not a whole minute", ErrCorrupt, ev.Time)
	}
	if ev.Pseudonym != "" {
		if b, err := hex.DecodeString(ev.Pseudonym); err != nil || len(b) != 16 {
			return Event{}, fmt.Errorf("%w: pseudonym %q", ErrCorrupt, ev.Pseudonym)
		}
	}
	return ev, nil
}

// Find returns the events still linkable to subject — those of periods
// inside the retention window — oldest first. It answers a subject's
// request for access; older events cannot be found by anyone.
func (l *Log) Find(subject string) ([]Event, error) {
	days, err := l.Days()
	if err != nil {
		return nil, err
	}
	var found []Event
	for _, d := range days {
		p, err := l.Pseudonym(subject, d)
		if errors.Is(err, ErrKeyDestroyed) || errors.Is(err, ErrNoPeriod) {
			continue
		}
		if err != nil {
			return nil, err
		}
		events, err := l.Events(d)
		if err != nil {
			return nil, err
		}
		for _, ev := range events {
			if hmac.Equal([]byte(ev.Pseudonym), []byte(p)) {
				found = append(found, ev)
			}
		}
	}
	return found, nil
}

// ExpireReport says what one Expire pass destroyed.
type ExpireReport struct {
	// KeysDestroyed lists the periods whose keys were shredded.
	KeysDestroyed []time.Time
	// Purged lists the periods whose events were deleted.
	Purged []time.Time
}

// Expire shreds the key of every period past the retention window and
// deletes every period past the hard limit. Append calls it once a day;
// calling it more often is harmless.
func (l *Log) Expire() (ExpireReport, error) {
	var rep ExpireReport
	now := l.clock().UTC()
	names, err := l.list(indexSubject, indexClass)
	if err != nil {
		return rep, err
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, day := range names {
		start, err := dayStart(day)
		if err != nil {
			return rep, fmt.Errorf("%w: day index %q", ErrCorrupt, day)
		}
		switch {
		case !now.Before(start.Add(l.hardLimit)):
			if err := l.st.DeleteSubject(dayPrefix + day); err != nil && !records.NotFound(err) {
				return rep, fmt.Errorf("accesslog: purge %s: %w", day, err)
			}
			if err := l.st.DeleteRecord(indexSubject, indexClass, day); err != nil {
				return rep, fmt.Errorf("accesslog: purge %s: %w", day, err)
			}
			rep.Purged = append(rep.Purged, start)
		case !now.Before(start.Add(l.retention)):
			if _, err := l.st.GetRecord(dayPrefix+day, keyClass, keyName); records.NotFound(err) {
				continue // destroyed by an earlier pass, or never made
			}
			if err := l.st.ShredClass(dayPrefix+day, keyClass); err != nil {
				return rep, fmt.Errorf("accesslog: destroy key %s: %w", day, err)
			}
			rep.KeysDestroyed = append(rep.KeysDestroyed, start)
		default:
			continue
		}
		if k, ok := l.keys[day]; ok {
			clear(k)
			delete(l.keys, day)
		}
	}
	l.expired = dayOf(now)
	return rep, nil
}
