package store

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"testing"

	bolt "go.etcd.io/bbolt"
)

var flipExtra = flag.Int("flip-flats", 0, "extra flats in the store TestByteFlipsNeverSilent damages (200 give every bucket branch pages)")

var flips = flag.Int("flips", 400, "byte flips TestByteFlipsNeverSilent makes (the issue asks for ≥ 10,000: go test -run TestByteFlipsNeverSilent -flips 10000 ./store)")

// flipState is what a store shows through its API: the records read back,
// the lists of record names, the subjects and their template IDs.
func flipState(s *Store, names []recName, subjects []string) (logical, map[string]error) {
	got, errs := readLogical(s, names, subjects)
	classes := map[[2]string]bool{}
	for _, n := range names {
		classes[[2]string{n.subject, n.class}] = true
	}
	for c := range classes {
		k := "list " + c[0] + "/" + c[1]
		l, err := s.ListRecords(c[0], c[1])
		switch {
		case err == nil:
			got[k] = fmt.Sprint(l)
		case errors.Is(err, ErrUnknownSubject):
		default:
			errs[k] = err
		}
	}
	if subs, err := s.Subjects(); err != nil {
		errs["subjects"] = err
	} else {
		got["subjects"] = fmt.Sprint(subs)
	}
	return got, errs
}

// usedPages returns the IDs of the pages of the file at path that hold
// live data (meta, freelist, branch and leaf pages and their overflow).
func usedPages(t testing.TB, path string) ([]int, map[string]int) {
	db, err := bolt.Open(path, 0o600, &bolt.Options{ReadOnly: true, PreLoadFreelist: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var pages []int
	types := map[string]int{}
	db.View(func(tx *bolt.Tx) error {
		pages = append(pages, 0, 1)
		n := int(tx.Size() / 4096)
		for id := 2; id < n; {
			info, err := tx.Page(id)
			if err != nil || info == nil {
				break
			}
			if info.Type == "free" {
				id++
				continue
			}
			types[info.Type]++
			for k := 0; k <= info.OverflowCount; k++ {
				pages = append(pages, id+k)
			}
			id += 1 + info.OverflowCount
		}
		return nil
	})
	return pages, types
}

// TestByteFlipsNeverSilent flips one random byte (random value) of a used
// page of a store file, -flips times, and opens and reads the result. Each
// flip must either change nothing the store shows, or be reported by a
// typed error on Open or on the read it affects: never change or hide
// content silently.
func TestByteFlipsNeverSilent(t *testing.T) {
	sc := newAttackScenarioN(t, *flipExtra)
	s, err := Open(sc.path, pass("pw"), cheapKDF)
	if err != nil {
		t.Fatal(err)
	}
	want, errs := flipState(s, sc.names, sc.subjects)
	s.Close()
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	good, err := os.ReadFile(sc.path)
	if err != nil {
		t.Fatal(err)
	}
	pages, types := usedPages(t, sc.path)
	r := rand.New(rand.NewPCG(2026, 12))
	outcomes := map[string]int{}
	var silent []string
	p := t.TempDir() + "/flipped.db"
	for i := 0; i < *flips; i++ {
		b := bytes.Clone(good)
		page := pages[r.IntN(len(pages))]
		off := page*4096 + r.IntN(4096)
		b[off] ^= byte(1 + r.IntN(255))
		if err := os.WriteFile(p, b, 0o600); err != nil {
			t.Fatal(err)
		}
		st, err := Open(p, pass("pw"), cheapKDF)
		if err != nil {
			if !typedDamage(err) && !errors.Is(err, ErrLocked) {
				t.Errorf("flip at %d (page %d): Open: untyped error %v", off, page, err)
			}
			outcomes["Open refused"]++
			continue
		}
		got, errs := flipState(st, sc.names, sc.subjects)
		damage := len(st.Damage())
		st.Close()
		for k, e := range errs {
			if !typedDamage(e) {
				t.Errorf("flip at %d (page %d): %s: untyped error %v", off, page, k, e)
			}
		}
		if ch := silentChanges(want, got, errs); len(ch) > 0 {
			silent = append(silent, fmt.Sprintf("flip at %d (page %d): %v", off, page, ch))
			outcomes["SILENT change"]++
			continue
		}
		switch {
		case len(errs) > 0:
			outcomes["reads refused with a typed error"]++
		case damage > 0:
			outcomes["content intact, damage reported"]++
		default:
			outcomes["content intact"]++
		}
	}
	t.Logf("%d flips over %d used pages %v: %v", *flips, len(pages), types, outcomes)
	slices.Sort(silent)
	for _, s := range silent {
		t.Error(s)
	}
}

// TestDamagedGroupDigestRepaired damages a stored group digest: the
// entries still match the manifest root, so nothing is refused, and the
// next write puts the right digest back (a later Open finds all in order).
func TestDamagedGroupDigestRepaired(t *testing.T) {
	sc := newAttackScenario(t)
	e := rawEntry{"groups", string(groupKey(sc.keys.classGroup("flat-1", "credential")))}
	d := bytes.Clone(sc.after[e])
	d[3] ^= 0x10
	rawWrite(t, sc.path, map[rawEntry][]byte{e: d})
	s, err := Open(sc.path, pass("pw"), cheapKDF)
	if err != nil {
		t.Fatal(err)
	}
	if v, err := s.GetRecord("flat-1", "credential", "pin"); err != nil || string(v) != "failures=5 locked" {
		t.Fatalf("record of a group with a damaged digest: %q, %v", v, err)
	}
	if err := s.PutRecord("flat-1", "credential", "pin", []byte("failures=0")); err != nil {
		t.Fatal(err)
	}
	s.Close()
	s, err = Open(sc.path, pass("pw"), cheapKDF)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.Check(); err != nil || len(s.stale) != 0 || len(s.bad) != 0 {
		t.Fatalf("after the repairing write: Check %v, %d stale, %d bad", err, len(s.stale), len(s.bad))
	}
}
