package store

import (
	"bytes"
	"errors"
	"flag"
	"math/rand/v2"
	"os"
	"strings"
	"testing"

	bolt "go.etcd.io/bbolt"
)

func TestCheck(t *testing.T) {
	s, path := newStore(t)
	r := rand.New(rand.NewPCG(10, 10))
	for i := 0; i < 30; i++ {
		if _, err := s.AddTemplate(subjectName(i), protect(t, s, randUnit(r, 128))); err != nil {
			t.Fatal(err)
		}
		if err := s.PutRecord(subjectName(i), "consent", "v1", []byte("yes")); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Check(); err != nil {
		t.Fatalf("Check of a sound store: %v", err)
	}
	// Misplace values as an attacker with write access could.
	bob := rawValue(t, s, subjectName(1), "r", "consent", "v1")
	err := s.db.Update(func(tx *bolt.Tx) error {
		rb := tx.Bucket(bucketRecords)
		if err := rb.Put(s.recKey(subjectName(0), "consent", "v1"), bob); err != nil { // moved record
			return err
		}
		if err := rb.Put(s.recKey(subjectName(2), "credential", "pin"), bob); err != nil { // record without a key
			return err
		}
		return tx.Bucket(bucketKeys).Put(s.keyKey(subjectName(3), "consent"), bytes.Repeat([]byte{1}, 73)) // forged key
	})
	if err != nil {
		t.Fatal(err)
	}
	err = s.Check()
	if !errors.Is(err, ErrTampered) {
		t.Fatalf("Check after tampering: %v", err)
	}
	msg := err.Error()
	for _, want := range []string{
		`record "resident/AAA"/"consent"/`,
		`record "resident/CAA"/"credential"/`,
		`data key "resident/DAA"/"consent"`,
	} {
		if !strings.Contains(msg, want) {
			t.Errorf("Check does not report %s:\n%s", want, msg)
		}
	}
	// The manifest names the three groups changed behind its back.
	if !errors.Is(err, ErrRolledBack) || strings.Count(msg, "manifest group") != 3 {
		t.Errorf("Check does not report the three manifest groups:\n%s", msg)
	}
	if n := strings.Count(msg, "\n") + 1; n != 7 { // the forged key also orphans DAA's consent record
		t.Errorf("Check reported %d problems, want 7:\n%s", n, msg)
	}

	// Structural damage: garble the page header of a leaf holding records.
	leaf := rawValue(t, s, subjectName(20), "r", "consent", "v1")
	s.Close()
	file, _ := os.ReadFile(path)
	// Every page holding the value (a stale copy may sit in a free page).
	for off := 0; ; {
		i := bytes.Index(file[off:], leaf)
		if i < 0 {
			break
		}
		page := (off + i) / 4096 * 4096
		file[page+8], file[page+9] = 0xff, 0xff // page flags
		off = page + 4096
	}
	os.WriteFile(path, file, 0o600)
	s2, err := Open(path, pass("pw"), cheapKDF)
	if err != nil {
		t.Logf("Open of a store with a garbled leaf page: %v", err)
		return
	}
	defer s2.Close()
	err = s2.Check()
	t.Logf("Check of a garbled leaf page: %.200v", err)
	if !errors.Is(err, ErrTruncated) {
		t.Errorf("Check of a garbled leaf page: %v, want ErrTruncated", err)
	}
	// Ordinary reads fail with an error too, instead of crashing the process.
	if err := s2.each(func(Entry) error { return nil }); !errors.Is(err, ErrTruncated) {
		t.Errorf("Each over a garbled leaf page: %v, want ErrTruncated", err)
	}
}

// TestDamagedPagesNeverCrash garbles the header of every page of a small
// store in turn (type flags, element count, overflow count) and runs Open,
// Check and a gallery load: each must return (typed errors for damage) and
// never panic or crash the process.
func TestDamagedPagesNeverCrash(t *testing.T) {
	s, path := newStore(t)
	r := rand.New(rand.NewPCG(12, 12))
	for i := 0; i < 40; i++ {
		s.AddTemplate(subjectName(i), protect(t, s, randUnit(r, 128)))
		s.PutRecord(subjectName(i), "consent", "v1", []byte("yes"))
	}
	s.Close()
	good, _ := os.ReadFile(path)
	m0, _ := parseBoltMeta(good)
	m1, _ := parseBoltMeta(good[4096:])
	pages := int(max(m0.pgid, m1.pgid))
	garbles := []struct {
		name string
		off  int
		val  []byte
	}{
		{"flags", 8, []byte{0xff, 0xff}},
		{"count", 10, []byte{0xff, 0x7f}},
		{"overflow", 12, []byte{0xff, 0xff, 0xff, 0x00}},
		{"first element", 16, []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}},
	}
	outcomes := map[string]int{}
	for p := 2; p < pages; p++ {
		for _, g := range garbles {
			b := bytes.Clone(good)
			copy(b[p*4096+g.off:], g.val)
			if bytes.Equal(b, good) {
				continue
			}
			fpath := t.TempDir() + "/d.db"
			os.WriteFile(fpath, b, 0o600)
			st, err := Open(fpath, pass("pw"), cheapKDF)
			if err != nil {
				if !errors.Is(err, ErrTruncated) && !errors.Is(err, ErrNotStore) && !errors.Is(err, ErrWrongKey) && !errors.Is(err, ErrLocked) && !errors.Is(err, ErrTampered) && !errors.Is(err, ErrRolledBack) {
					t.Errorf("page %d %s: Open: untyped error %v", p, g.name, err)
				}
				outcomes["open fails"]++
				continue
			}
			cerr := st.Check()
			eerr := st.each(func(Entry) error { return nil })
			st.Close()
			switch {
			case cerr == nil && eerr == nil:
				outcomes["unaffected (free page or unused field)"]++
			case cerr == nil:
				t.Errorf("page %d %s: Check passed but loading failed: %v", p, g.name, eerr)
			default:
				outcomes["Check reports damage"]++
			}
		}
	}
	t.Logf("%d pages × %d garbles: %v", pages-2, len(garbles), outcomes)
}

// damagedSeed is the store file FuzzDamagedStore damages: fixed bytes, so
// that an input the fuzzer finds fails the same way on every run and
// machine (a store made afresh would hold new random keys each time).
// go test -run TestDamagedSeed -update-seed ./store rewrites it.
const damagedSeed = "testdata/damaged-seed.db"

var updateSeed = flag.Bool("update-seed", false, "rewrite "+damagedSeed)

// TestDamagedSeed checks that the fixed store file FuzzDamagedStore starts
// from opens with passphrase "pw", passes Check and holds its ten
// subjects (and with -update-seed makes it anew).
func TestDamagedSeed(t *testing.T) {
	if *updateSeed {
		path := t.TempDir() + "/seed.db"
		s, err := Create(path, pass("pw"), cheapKDF)
		if err != nil {
			t.Fatal(err)
		}
		r := rand.New(rand.NewPCG(13, 13))
		for i := 0; i < 10; i++ {
			if _, err := s.AddTemplate(subjectName(i), protect(t, s, randUnit(r, 32))); err != nil {
				t.Fatal(err)
			}
			if err := s.PutRecord(subjectName(i), "consent", "v1", []byte("yes")); err != nil {
				t.Fatal(err)
			}
		}
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(damagedSeed, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	b, err := os.ReadFile(damagedSeed)
	if err != nil {
		t.Fatal(err)
	}
	path := t.TempDir() + "/seed.db"
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	s, err := Open(path, pass("pw"), cheapKDF)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.Check(); err != nil {
		t.Fatal(err)
	}
	n := 0
	if err := s.each(func(Entry) error { n++; return nil }); err != nil || n != 10 {
		t.Fatalf("Each: %d templates, %v; want 10", n, err)
	}
}

// FuzzDamagedStore flips bytes of a small store file (damagedSeed) and
// checks that Open, Check and a gallery load return (typed errors for
// damage) and never crash.
func FuzzDamagedStore(f *testing.F) {
	good, err := os.ReadFile(damagedSeed)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(uint32(2*4096+10), byte(0x7f), uint32(0), byte(0))
	f.Add(uint32(3*4096+20), byte(0xff), uint32(3*4096+8), byte(0xff))
	f.Add(uint32(4096+40), byte(1), uint32(0), byte(0))
	f.Fuzz(func(t *testing.T, off1 uint32, x1 byte, off2 uint32, x2 byte) {
		b := bytes.Clone(good)
		b[int(off1)%len(b)] ^= x1
		b[int(off2)%len(b)] ^= x2
		p := t.TempDir() + "/f.db"
		if err := os.WriteFile(p, b, 0o600); err != nil {
			t.Fatal(err)
		}
		st, err := Open(p, pass("pw"), cheapKDF)
		if err != nil {
			if !errors.Is(err, ErrTruncated) && !errors.Is(err, ErrNotStore) && !errors.Is(err, ErrWrongKey) && !errors.Is(err, ErrVersion) && !errors.Is(err, ErrTampered) && !errors.Is(err, ErrRolledBack) {
				t.Fatalf("Open: untyped error %v", err)
			}
			return
		}
		defer st.Close()
		cerr := st.Check()
		eerr := st.each(func(Entry) error { return nil })
		if cerr == nil && eerr != nil {
			t.Fatalf("Check passed but loading failed: %v", eerr)
		}
		if cerr != nil && !errors.Is(cerr, ErrTruncated) && !errors.Is(cerr, ErrTampered) && !errors.Is(cerr, ErrRolledBack) {
			t.Fatalf("Check: untyped error %v", cerr)
		}
	})
}
