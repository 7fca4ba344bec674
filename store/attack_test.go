package store

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"strings"
	"testing"

	bolt "go.etcd.io/bbolt"

	"github.com/facegate/facegate/gate/records"
)

// The attacks below act on a closed store file the way someone with write
// access to the file and no key would: through bbolt or the raw bytes,
// copying, deleting and replaying whole values they cannot read.

// rawEntry addresses one value of a bbolt file by top-level bucket and key.
type rawEntry struct{ bucket, key string }

func (e rawEntry) String() string { return fmt.Sprintf("%s/%x", e.bucket, e.key) }

// rawSnapshot returns every value of the bbolt file at path (a copy of the
// file is read, so the store may be open).
func rawSnapshot(t testing.TB, path string) map[rawEntry][]byte {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	cp := t.TempDir() + "/snap.db"
	if err := os.WriteFile(cp, data, 0o600); err != nil {
		t.Fatal(err)
	}
	db, err := bolt.Open(cp, 0o600, &bolt.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	out := map[rawEntry][]byte{}
	err = db.View(func(tx *bolt.Tx) error {
		return tx.ForEach(func(name []byte, b *bolt.Bucket) error {
			return b.ForEach(func(k, v []byte) error {
				out[rawEntry{string(name), string(k)}] = bytes.Clone(v)
				return nil
			})
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// rawWrite sets (v != nil) or deletes (v == nil) entries of the closed
// file at path.
func rawWrite(t testing.TB, path string, entries map[rawEntry][]byte) {
	t.Helper()
	db, err := bolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	err = db.Update(func(tx *bolt.Tx) error {
		for e, v := range entries {
			b := tx.Bucket([]byte(e.bucket))
			if v == nil {
				if err := b.Delete([]byte(e.key)); err != nil {
					return err
				}
			} else if err := b.Put([]byte(e.key), v); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// diff lists the entries that differ between two snapshots (changed,
// added or removed).
func diff(a, b map[rawEntry][]byte) []rawEntry {
	var out []rawEntry
	for e, v := range a {
		if w, ok := b[e]; !ok || !bytes.Equal(v, w) {
			out = append(out, e)
		}
	}
	for e := range b {
		if _, ok := a[e]; !ok {
			out = append(out, e)
		}
	}
	slices.SortFunc(out, func(x, y rawEntry) int {
		if c := cmpStr(x.bucket, y.bucket); c != 0 {
			return c
		}
		return cmpStr(x.key, y.key)
	})
	return out
}

func cmpStr(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// logical is what a store holds, as the API shows it: every record's
// plaintext and every subject's template IDs.
type logical map[string]string

type recName struct{ subject, class, name string }

// readLogical reads the records names and the templates of subjects.
func readLogical(s *Store, names []recName, subjects []string) (logical, map[string]error) {
	got, errs := logical{}, map[string]error{}
	for _, n := range names {
		k := n.subject + "/" + n.class + "/" + n.name
		v, err := s.GetRecord(n.subject, n.class, n.name)
		switch {
		case err == nil:
			got[k] = string(v)
		case errors.Is(err, ErrNotFound), errors.Is(err, ErrUnknownSubject):
		default:
			errs[k] = err
		}
	}
	for _, subj := range subjects {
		k := subj + "/face"
		es, err := s.Templates(subj)
		switch {
		case err == nil:
			ids := ""
			for _, e := range es {
				ids += fmt.Sprint(e.ID, ",")
			}
			if ids != "" {
				got[k] = ids
			}
		case errors.Is(err, ErrUnknownSubject):
		default:
			errs[k] = err
		}
	}
	return got, errs
}

// silentChanges returns what reads back differently from want without an
// error saying so: the attack succeeded on those.
func silentChanges(want, got logical, errs map[string]error) []string {
	var out []string
	for k, v := range want {
		if errs[k] != nil {
			continue
		}
		if g, ok := got[k]; !ok || g != v {
			out = append(out, fmt.Sprintf("%s: %q, want %q", k, g, v))
		}
	}
	for k, g := range got {
		if _, ok := want[k]; !ok && errs[k] == nil {
			out = append(out, fmt.Sprintf("%s: %q appeared", k, g))
		}
	}
	slices.Sort(out)
	return out
}

// typedDamage reports whether err is one of the store's typed errors for
// a damaged or tampered file.
func typedDamage(err error) bool {
	return errors.Is(err, ErrTampered) || errors.Is(err, ErrRolledBack) || errors.Is(err, ErrTruncated) ||
		errors.Is(err, ErrNotStore) || errors.Is(err, ErrWrongKey) || errors.Is(err, ErrVersion) ||
		errors.Is(err, ErrHeaderTampered)
}

// attackScenario writes a store through two states: before (what an
// attacker copies) and after (the current file). Between them a PIN
// record records a lockout, a QR code is marked used, a face is withdrawn
// (its class shredded) and an access event is written.
type attackScenario struct {
	path          string
	before, after map[rawEntry][]byte
	want          logical
	names         []recName
	subjects      []string
	keys          *Store // computes the store's bucket keys (names only)
}

func newAttackScenario(t *testing.T) *attackScenario { return newAttackScenarioN(t, 0) }

// newAttackScenarioN is newAttackScenario with extra flats holding a PIN
// and a consent each (enough of them give the buckets branch pages).
func newAttackScenarioN(t *testing.T, extra int) *attackScenario {
	s, path := newStore(t)
	sc := &attackScenario{path: path, subjects: []string{"flat-1", "flat-2", "flat-3"}, keys: &Store{names: s.names}}
	put := func(subject, class, name, v string) {
		t.Helper()
		if err := s.PutRecord(subject, class, name, []byte(v)); err != nil {
			t.Fatal(err)
		}
	}
	for i, subj := range sc.subjects {
		put(subj, "credential", "pin", "failures=0")
		put(subj, "consent", "face", "given")
		put("gate/index", "subjects", subj, "")
		if _, err := s.AddTemplate(subj, protect(t, s, randUnit(newRand(i), 32))); err != nil {
			t.Fatal(err)
		}
	}
	put("accesslog/2026-12-04", "event", "0900-a", "admitted")
	err := s.Update(func(b records.Batch) error {
		for i := range extra {
			subj := fmt.Sprintf("flat-x%03d", i)
			for _, n := range []recName{{subj, "credential", "pin"}, {subj, "consent", "entry"}, {"gate/index", "subjects", subj}} {
				if err := b.PutRecord(n.subject, n.class, n.name, []byte(subj+" "+n.name)); err != nil {
					return err
				}
				sc.names = append(sc.names, n)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	sc.before = rawSnapshot(t, path)
	s, err = Open(path, pass("pw"), cheapKDF)
	if err != nil {
		t.Fatal(err)
	}
	put("flat-1", "credential", "pin", "failures=5 locked")
	put("gate/qr-used", "used", "code-1", "expires 09:05")
	put("flat-2", "consent", "face", "withdrawn")
	if err := s.ShredClass("flat-2", ClassFace); err != nil {
		t.Fatal(err)
	}
	put("accesslog/2026-12-04", "event", "0901-b", "refused")
	for _, subj := range sc.subjects {
		for _, n := range []recName{{subj, "credential", "pin"}, {subj, "consent", "face"}, {"gate/index", "subjects", subj}} {
			sc.names = append(sc.names, n)
		}
	}
	sc.names = append(sc.names, recName{"gate/qr-used", "used", "code-1"}, recName{"accesslog/2026-12-04", "event", "0900-a"},
		recName{"accesslog/2026-12-04", "event", "0901-b"}, recName{"flat-3", "credential", "card"})
	var errs map[string]error
	sc.want, errs = readLogical(s, sc.names, sc.subjects)
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	s.Close()
	sc.after = rawSnapshot(t, path)
	return sc
}

// attack applies edits to a copy of the current file, opens it and
// returns what reads back silently changed ("" if the attack was caught or
// changed nothing).
func (sc *attackScenario) attack(t *testing.T, edits map[rawEntry][]byte) []string {
	t.Helper()
	data, err := os.ReadFile(sc.path)
	if err != nil {
		t.Fatal(err)
	}
	p := t.TempDir() + "/attacked.db"
	if err := os.WriteFile(p, data, 0o600); err != nil {
		t.Fatal(err)
	}
	rawWrite(t, p, edits)
	s, err := Open(p, pass("pw"), cheapKDF)
	if err != nil {
		if !typedDamage(err) {
			t.Errorf("Open: untyped error %v", err)
		}
		return nil
	}
	defer s.Close()
	got, errs := readLogical(s, sc.names, sc.subjects)
	for k, e := range errs {
		if !typedDamage(e) {
			t.Errorf("%s: untyped error %v", k, e)
		}
	}
	silent := silentChanges(sc.want, got, errs)
	if len(silent) > 0 || len(errs) == 0 {
		return silent
	}
	// Caught: Check reports it too, naming what failed.
	if cerr := s.Check(); cerr == nil {
		t.Errorf("reads fail (%v) but Check passes", errs)
	}
	return nil
}

// TestAttackReplayOneEntry puts back, one at a time, the older copy of
// every entry that changed between two states of the file (a PIN record
// before its lockout, a face key and template before withdrawal, …), or
// deletes it if it did not exist before: none may change what the store
// reads back without a typed error.
func TestAttackReplayOneEntry(t *testing.T) {
	sc := newAttackScenario(t)
	changed := diff(sc.before, sc.after)
	if len(changed) < 8 {
		t.Fatalf("only %d entries changed", len(changed))
	}
	for _, e := range changed {
		if silent := sc.attack(t, map[rawEntry][]byte{e: sc.before[e]}); len(silent) > 0 {
			t.Errorf("replaying %v went unnoticed: %v", e, silent)
		}
	}
}

// TestAttackReplaySets replays related entries together, as an attacker
// who knows the layout would: the withdrawn face's key and template with
// the subject's consent, and everything outside the manifest at once.
func TestAttackReplaySets(t *testing.T) {
	sc := newAttackScenario(t)
	changed := diff(sc.before, sc.after)
	sets := map[string]func(rawEntry) bool{
		"all data (subjects, keys, records)": func(e rawEntry) bool { return e.bucket != "meta" && e.bucket != "groups" },
		"records only":                       func(e rawEntry) bool { return e.bucket == "records" },
		"keys and records":                   func(e rawEntry) bool { return e.bucket == "keys" || e.bucket == "records" },
		"all but the manifest":               func(e rawEntry) bool { return e.key != "manifest" },
		"manifest and groups only":           func(e rawEntry) bool { return e.bucket == "groups" || e.key == "manifest" },
	}
	for name, in := range sets {
		edits := map[rawEntry][]byte{}
		for _, e := range changed {
			if in(e) {
				edits[e] = sc.before[e]
			}
		}
		if silent := sc.attack(t, edits); len(silent) > 0 {
			t.Errorf("replaying %s went unnoticed: %v", name, silent)
		}
	}
}

// TestAttackDeleteOneEntry deletes every data entry of the current file in
// turn (the QR "used" mark, an access event, a PIN, a subject, a key).
func TestAttackDeleteOneEntry(t *testing.T) {
	sc := newAttackScenario(t)
	n := 0
	for e := range sc.after {
		if e.bucket == "meta" && e.key != "manifest" {
			continue // header, check, wrapped secrets: fail Open as a wrong key or damage
		}
		if e.bucket == "groups" && e.key[1]%64 != 0 {
			continue // 16 of the 1,024 group digests are enough
		}
		n++
		if silent := sc.attack(t, map[rawEntry][]byte{e: nil}); len(silent) > 0 {
			t.Errorf("deleting %v went unnoticed: %v", e, silent)
		}
	}
	t.Logf("%d deletions, all caught", n)
}

// TestAttackAddEntry copies sealed values to names they were not written
// under: one flat's PIN record as another's card, a QR "used" mark as
// another code's, an access event under a second name.
func TestAttackAddEntry(t *testing.T) {
	sc := newAttackScenario(t)
	rec := func(subject, class, name string) rawEntry {
		return rawEntry{"records", string(sc.keys.recKey(subject, class, name))}
	}
	cases := map[string]map[rawEntry][]byte{
		"pin as another flat's card": {rec("flat-3", "credential", "card"): sc.after[rec("flat-1", "credential", "pin")]},
		"second copy of an event":    {rec("accesslog/2026-12-04", "event", "0902-c"): sc.after[rec("accesslog/2026-12-04", "event", "0901-b")]},
		"withdrawn face key back":    {{"keys", string(sc.keys.keyKey("flat-2", ClassFace))}: sc.before[rawEntry{"keys", string(sc.keys.keyKey("flat-2", ClassFace))}]},
	}
	for name, edits := range cases {
		for e, v := range edits {
			if v == nil {
				t.Fatalf("%s: no value for %v", name, e)
			}
		}
		sc.names = append(sc.names, recName{"accesslog/2026-12-04", "event", "0902-c"})
		if silent := sc.attack(t, edits); len(silent) > 0 {
			t.Errorf("adding %s went unnoticed: %v", name, silent)
		}
	}
}

// TestAttackWholeFileRollback shows the limit of the manifest: a whole
// older file is consistent in itself, so the file alone cannot tell it is
// old. Only a Counter kept outside the file can (see TestCounterRollback).
func TestAttackWholeFileRollback(t *testing.T) {
	sc := newAttackScenario(t)
	edits := map[rawEntry][]byte{}
	for _, e := range diff(sc.before, sc.after) {
		edits[e] = sc.before[e]
	}
	if silent := sc.attack(t, edits); len(silent) == 0 {
		t.Fatal("a whole-file rollback was caught without a counter; update the docs")
	}
}

// TestOldFormatsRefused opens stores of format 1 (no manifest) and 2
// (names in the clear): each is refused with ErrVersion naming its format,
// not migrated, and the file is untouched.
func TestOldFormatsRefused(t *testing.T) {
	for _, format := range []string{"1", "2"} {
		b, err := os.ReadFile("testdata/format" + format + ".db")
		if err != nil {
			t.Fatal(err)
		}
		p := t.TempDir() + "/old.db"
		if err := os.WriteFile(p, b, 0o600); err != nil {
			t.Fatal(err)
		}
		_, err = Open(p, pass("pw"), cheapKDF)
		if !errors.Is(err, ErrVersion) || !strings.Contains(err.Error(), "format "+format) {
			t.Fatalf("Open of a format-%s store: %v, want ErrVersion", format, err)
		}
		if after, _ := os.ReadFile(p); !bytes.Equal(after, b) {
			t.Errorf("Open changed a format-%s file", format)
		}
		t.Log(err)
	}
}

func newRand(i int) *rand.Rand { return rand.New(rand.NewPCG(uint64(i), 99)) }
