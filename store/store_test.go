package store

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/facegate/facegate/gate/records"
	"github.com/facegate/facegate/template"
)

var cheapKDF = &Options{KDF: KDFParams{Time: 1, MemoryKiB: 64, Threads: 1}, LockTimeout: 200 * time.Millisecond}

const testModel = "dlib-resnet-v1/test"

func pass(s string) Secret { return Passphrase([]byte(s)) }

func newStore(t testing.TB) (*Store, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "gate.db")
	s, err := Create(path, pass("pw"), cheapKDF)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s, path
}

func randUnit(r *rand.Rand, dim int) []float32 {
	v := make([]float32, dim)
	var n float64
	for i := range v {
		x := r.NormFloat64()
		v[i] = float32(x)
		n += x * x
	}
	for i := range v {
		v[i] = float32(float64(v[i]) / math.Sqrt(n))
	}
	return v
}

func protect(t testing.TB, s *Store, v []float32) template.Template {
	t.Helper()
	tr, err := s.Transform(testModel, len(v))
	if err != nil {
		t.Fatal(err)
	}
	tp, err := tr.Protect(v, 0.8, time.Unix(1764000000, 0))
	if err != nil {
		t.Fatal(err)
	}
	return tp
}

func dist(a, b []float32) float64 {
	var s float64
	for i := range a {
		d := float64(a[i]) - float64(b[i])
		s += d * d
	}
	return math.Sqrt(s)
}

func fileHash(t testing.TB, path string) [32]byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return sha256.Sum256(b)
}

func TestCreateOpenRoundTrip(t *testing.T) {
	s, path := newStore(t)
	r := rand.New(rand.NewPCG(1, 1))
	v := randUnit(r, 128)
	tp := protect(t, s, v)
	id, err := s.AddTemplate("resident/0042", tp)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.PutRecord("resident/0042", "credential", "pin", []byte("pin-hash")); err != nil {
		t.Fatal(err)
	}
	if err := s.PutRecord("audit/2026-11-24", "audit", "000001", []byte("entry")); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if _, err := s.Templates("resident/0042"); !errors.Is(err, ErrClosed) {
		t.Errorf("use after Close: %v", err)
	}

	s2, err := Open(path, pass("pw"), cheapKDF)
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	if s2.storeID() != s.storeID() {
		t.Error("store ID changed")
	}
	ts, err := s2.Templates("resident/0042")
	if err != nil {
		t.Fatal(err)
	}
	if len(ts) != 1 || ts[0].ID != id || ts[0].Subject != "resident/0042" || dist(ts[0].Template.Vector(), tp.Vector()) != 0 {
		t.Fatalf("templates after reopen: %+v", ts)
	}
	// The stored vector is the protected one, not the descriptor.
	if dist(ts[0].Template.Vector(), v) < 0.5 {
		t.Error("stored vector is close to the raw descriptor")
	}
	tr, _ := s2.Transform(testModel, 128)
	probe, _ := tr.Apply(v)
	if d := dist(probe.Vector(), ts[0].Template.Vector()); d > 1e-5 {
		t.Errorf("probe under the reopened store's transform is %g from its template", d)
	}
	subs, err := s2.Subjects()
	if err != nil || strings.Join(subs, ",") != "audit/2026-11-24,resident/0042" {
		t.Errorf("Subjects = %v, %v", subs, err)
	}
	pin, err := s2.GetRecord("resident/0042", "credential", "pin")
	if err != nil || string(pin) != "pin-hash" {
		t.Errorf("GetRecord = %q, %v", pin, err)
	}
}

func TestCreateExisting(t *testing.T) {
	_, path := newStore(t)
	h := fileHash(t, path)
	if _, err := Create(path, pass("pw"), cheapKDF); !errors.Is(err, ErrExists) {
		t.Fatalf("Create over a store: %v", err)
	}
	if fileHash(t, path) != h {
		t.Error("failed Create modified the file")
	}
	if _, err := Create(filepath.Join(t.TempDir(), "x.db"), Secret{}, cheapKDF); !errors.Is(err, ErrNoSecret) {
		t.Errorf("Create without a secret: %v", err)
	}
}

func TestOpenWrongKey(t *testing.T) {
	s, path := newStore(t)
	if err := s.PutRecord("a", "consent", "c", []byte("x")); err != nil {
		t.Fatal(err)
	}
	s.Close()
	raw, _ := RawKey(bytes.Repeat([]byte{1}, 32))
	h := fileHash(t, path)
	for name, sec := range map[string]Secret{
		"wrong passphrase": pass("PW"),
		"raw key":          raw,
	} {
		if _, err := Open(path, sec, cheapKDF); !errors.Is(err, ErrWrongKey) {
			t.Errorf("%s: Open: %v, want ErrWrongKey", name, err)
		}
	}
	if fileHash(t, path) != h {
		t.Error("Open with a wrong key modified the file")
	}
	// A raw-key store rejects passphrases and other keys.
	kpath := filepath.Join(t.TempDir(), "k.db")
	ks, err := Create(kpath, raw, nil)
	if err != nil {
		t.Fatal(err)
	}
	ks.Close()
	raw2, _ := RawKey(bytes.Repeat([]byte{2}, 32))
	for _, sec := range []Secret{raw2, pass("pw")} {
		if _, err := Open(kpath, sec, nil); !errors.Is(err, ErrWrongKey) {
			t.Errorf("raw-key store: Open: %v, want ErrWrongKey", err)
		}
	}
	if s, err := Open(kpath, raw, nil); err != nil {
		t.Errorf("raw-key store with its key: %v", err)
	} else {
		s.Close()
	}
}

func TestOpenLocked(t *testing.T) {
	_, path := newStore(t) // still open
	if _, err := Open(path, pass("pw"), cheapKDF); !errors.Is(err, ErrLocked) {
		t.Fatalf("Open of a store open elsewhere: %v, want ErrLocked", err)
	}
}

func TestOpenBadFiles(t *testing.T) {
	s, good := newStore(t)
	r := rand.New(rand.NewPCG(2, 2))
	for i := 0; i < 50; i++ {
		if _, err := s.AddTemplate("s"+string(rune('a'+i%26))+string(rune('a'+i/26)), protect(t, s, randUnit(r, 128))); err != nil {
			t.Fatal(err)
		}
	}
	s.Close()
	goodBytes, _ := os.ReadFile(good)
	if len(goodBytes) < 5*4096 {
		t.Fatalf("store is only %d bytes", len(goodBytes))
	}
	// A bbolt file without FaceGate buckets.
	other := filepath.Join(t.TempDir(), "other.db")
	db, err := bolt.Open(other, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	db.Update(func(tx *bolt.Tx) error { _, err := tx.CreateBucket([]byte("x")); return err })
	db.Close()
	otherBytes, _ := os.ReadFile(other)

	withMetaZeroed := func(b []byte) []byte {
		b = bytes.Clone(b)
		clear(b[16:80])
		clear(b[4096+16 : 4096+80])
		return b
	}
	withMetaFlipped := func(b []byte) []byte { // checksums no longer match
		b = bytes.Clone(b)
		b[16+40] ^= 1
		b[4096+16+40] ^= 1
		return b
	}
	m0, _ := parseBoltMeta(goodBytes)
	m1, _ := parseBoltMeta(goodBytes[4096:])
	used := int(max(m0.pgid, m1.pgid)) * 4096 // bytes the newest meta page needs
	tests := []struct {
		name string
		data []byte
		want error
	}{
		{"empty", nil, ErrNotStore},
		{"text", []byte("hello, this is not a store\n"), ErrNotStore},
		{"jpeg", append([]byte{0xff, 0xd8, 0xff, 0xe0}, make([]byte, 9000)...), ErrNotStore},
		{"zeros", make([]byte, 32768), ErrNotStore},
		{"other bbolt", otherBytes, ErrNotStore},
		{"cut to 20 bytes", goodBytes[:20], ErrTruncated},
		{"cut to 100 bytes", goodBytes[:100], ErrTruncated},
		{"cut to one page", goodBytes[:4096], ErrTruncated},
		{"cut to two pages", goodBytes[:8192], ErrTruncated},
		{"cut in half", goodBytes[:used/2], ErrTruncated},
		{"cut last used page", goodBytes[:used-4096], ErrTruncated},
		{"cut last used byte", goodBytes[:used-1], ErrTruncated},
		{"both meta pages zeroed", withMetaZeroed(goodBytes), ErrNotStore},
		{"both meta checksums wrong", withMetaFlipped(goodBytes), ErrTruncated},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "f.db")
			if err := os.WriteFile(path, tc.data, 0o600); err != nil {
				t.Fatal(err)
			}
			h := fileHash(t, path)
			st, err := Open(path, pass("pw"), cheapKDF)
			if err == nil {
				st.Close()
			}
			if !errors.Is(err, tc.want) {
				t.Fatalf("Open: %v, want %v", err, tc.want)
			}
			if fileHash(t, path) != h {
				t.Error("failed Open modified the file")
			}
		})
	}
	if _, err := Open(filepath.Join(t.TempDir(), "missing.db"), pass("pw"), cheapKDF); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: %v", err)
	}
}

func TestRecords(t *testing.T) {
	s, _ := newStore(t)
	if err := s.PutRecord("alice", "consent", "2026-11-24", []byte("given")); err != nil {
		t.Fatal(err)
	}
	if err := s.PutRecord("alice", "consent", "2026-11-25", []byte("withdrawn")); err != nil {
		t.Fatal(err)
	}
	if err := s.PutRecord("alice", "consent", "2026-11-24", []byte("given v2")); err != nil {
		t.Fatal(err)
	}
	names, err := s.ListRecords("alice", "consent")
	if err != nil || strings.Join(names, ",") != "2026-11-24,2026-11-25" {
		t.Errorf("ListRecords = %v, %v", names, err)
	}
	if got, _ := s.GetRecord("alice", "consent", "2026-11-24"); string(got) != "given v2" {
		t.Errorf("replaced record = %q", got)
	}
	if names, err := s.ListRecords("alice", "credential"); err != nil || len(names) != 0 {
		t.Errorf("empty class: %v, %v", names, err)
	}
	if err := s.DeleteRecord("alice", "consent", "2026-11-25"); err != nil {
		t.Fatal(err)
	}
	if err := s.PutRecord("alice", "consent", "empty", nil); err != nil {
		t.Fatal(err)
	}
	if got, err := s.GetRecord("alice", "consent", "empty"); err != nil || len(got) != 0 {
		t.Errorf("empty record: %q, %v", got, err)
	}

	long := strings.Repeat("x", MaxNameLen+1)
	errTests := []struct {
		name string
		err  error
		want error
	}{
		{"get deleted", get(s, "alice", "consent", "2026-11-25"), ErrNotFound},
		{"delete deleted", s.DeleteRecord("alice", "consent", "2026-11-25"), ErrNotFound},
		{"get unknown subject", get(s, "bob", "consent", "x"), ErrUnknownSubject},
		{"get unknown class", get(s, "alice", "credential", "x"), ErrNotFound},
		{"list unknown subject", second(s.ListRecords("bob", "consent")), ErrUnknownSubject},
		{"templates unknown subject", second(s.Templates("bob")), ErrUnknownSubject},
		{"delete unknown subject", s.DeleteSubject("bob"), ErrUnknownSubject},
		{"shred unknown class", s.ShredClass("alice", "credential"), ErrNotFound},
		{"shred unknown subject", s.ShredClass("bob", "consent"), ErrUnknownSubject},
		{"put face class", s.PutRecord("alice", ClassFace, "x", nil), ErrReservedClass},
		{"get face class", get(s, "alice", ClassFace, "x"), ErrReservedClass},
		{"empty subject", s.PutRecord("", "consent", "x", nil), ErrInvalidName},
		{"empty class", s.PutRecord("alice", "", "x", nil), ErrInvalidName},
		{"empty name", s.PutRecord("alice", "consent", "", nil), ErrInvalidName},
		{"long subject", s.PutRecord(long, "consent", "x", nil), ErrInvalidName},
		{"long name", s.PutRecord("alice", "consent", long, nil), ErrInvalidName},
		{"delete template unknown", s.deleteTemplate("alice", 7), ErrNotFound},
	}
	for _, tc := range errTests {
		if !errors.Is(tc.err, tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, tc.err, tc.want)
		}
	}
	if ok, _ := s.hasSubject("alice"); !ok {
		t.Error("HasSubject(alice) = false")
	}
	if ok, _ := s.hasSubject("bob"); ok {
		t.Error("HasSubject(bob) = true")
	}
}

func get(s *Store, subject, class, name string) error {
	_, err := s.GetRecord(subject, class, name)
	return err
}

func second[T any](_ T, err error) error { return err }

func TestTemplatesAndShredClass(t *testing.T) {
	s, _ := newStore(t)
	r := rand.New(rand.NewPCG(3, 3))
	var ids []uint64
	for i := 0; i < 3; i++ {
		id, err := s.AddTemplate("alice", protect(t, s, randUnit(r, 128)))
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	if _, err := s.AddTemplate("bob", protect(t, s, randUnit(r, 128))); err != nil {
		t.Fatal(err)
	}
	if err := s.PutRecord("alice", "credential", "card", []byte("card-uid")); err != nil {
		t.Fatal(err)
	}
	if err := s.deleteTemplate("alice", ids[1]); err != nil {
		t.Fatal(err)
	}
	ts, _ := s.Templates("alice")
	want := []uint64{ids[0], ids[2]}
	slices.Sort(want)
	if len(ts) != 2 || ts[0].ID != want[0] || ts[1].ID != want[1] {
		t.Fatalf("after DeleteTemplate: %+v", ts)
	}
	n := 0
	for e, err := range s.all() {
		if err != nil {
			t.Fatal(err)
		}
		if e.Template.Dim() != 128 {
			t.Fatal("bad entry")
		}
		n++
	}
	if n != 3 {
		t.Errorf("All yielded %d templates, want 3", n)
	}
	for range s.all() {
		break // stopping early must not panic
	}
	// Withdrawn face consent: face data shredded, credential survives.
	if err := s.ShredClass("alice", ClassFace); err != nil {
		t.Fatal(err)
	}
	if ts, err := s.Templates("alice"); err != nil || len(ts) != 0 {
		t.Errorf("templates after shredding: %v, %v", ts, err)
	}
	if card, err := s.GetRecord("alice", "credential", "card"); err != nil || string(card) != "card-uid" {
		t.Errorf("credential after shredding face: %q, %v", card, err)
	}
	if ts, _ := s.Templates("bob"); len(ts) != 1 {
		t.Error("bob's template lost")
	}
	// Re-enrolling after a shred gets a new key.
	if _, err := s.AddTemplate("alice", protect(t, s, randUnit(r, 128))); err != nil {
		t.Fatal(err)
	}
	// Wrong-dimension or foreign-transform templates are refused.
	other, _ := template.NewTransform(bytes.Repeat([]byte{9}, 32), testModel, 128)
	foreign, _ := other.Protect(randUnit(r, 128), 1, time.Now())
	if _, err := s.AddTemplate("alice", foreign); !errors.Is(err, template.ErrWrongTransform) {
		t.Errorf("foreign template: %v", err)
	}
	if _, err := s.AddTemplate("alice", template.Template{}); !errors.Is(err, template.ErrInvalid) {
		t.Errorf("empty template: %v", err)
	}
}

func TestBatch(t *testing.T) {
	s, _ := newStore(t)
	r := rand.New(rand.NewPCG(4, 4))
	boom := errors.New("boom")
	err := s.Update(func(b records.Batch) error {
		if _, err := b.AddTemplate("a", protect(t, s, randUnit(r, 64))); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatal(err)
	}
	if ok, _ := s.hasSubject("a"); ok {
		t.Error("rolled-back batch left a subject")
	}
	err = s.Update(func(b records.Batch) error {
		for i := 0; i < 10; i++ {
			if _, err := b.AddTemplate("a", protect(t, s, randUnit(r, 64))); err != nil {
				return err
			}
			if err := b.PutRecord("a", "consent", "c", []byte{byte(i)}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	ts, _ := s.Templates("a")
	c, _ := s.GetRecord("a", "consent", "c")
	if len(ts) != 10 || !bytes.Equal(c, []byte{9}) {
		t.Errorf("batch: %d templates, consent %v", len(ts), c)
	}
}

func TestConcurrentUse(t *testing.T) {
	s, _ := newStore(t)
	tr, err := s.Transform(testModel, 32)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errc := make(chan error, 100)
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := rand.New(rand.NewPCG(uint64(g), 9))
			subj := "g" + string(rune('0'+g))
			for i := 0; i < 10; i++ {
				tp, err := tr.Protect(randUnit(r, 32), 1, time.Now())
				if err == nil {
					_, err = s.AddTemplate(subj, tp)
				}
				if err == nil {
					err = s.each(func(Entry) error { return nil })
				}
				if err == nil && i == 5 && g == 0 {
					err = s.DeleteSubject(subj)
				}
				if err != nil {
					errc <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errc)
	for err := range errc {
		t.Error(err)
	}
	n := 0
	if err := s.each(func(Entry) error { n++; return nil }); err != nil || n != 34 {
		t.Errorf("Each: %d templates, %v; want 34", n, err)
	}
}

// TestDefaultKDF creates and opens a passphrase store with the production
// Argon2id parameters (64 MiB), and a key-file store through FACEGATE_KEY.
func TestDefaultKDF(t *testing.T) {
	if testing.Short() {
		t.Skip("Argon2id with 64 MiB")
	}
	path := filepath.Join(t.TempDir(), "gate.db")
	began := time.Now()
	s, err := Create(path, pass("pw"), nil)
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	if s, err = Open(path, pass("pw"), nil); err != nil {
		t.Fatal(err)
	}
	s.Close()
	t.Logf("create+open with %+v took %v", DefaultKDFParams, time.Since(began).Round(time.Millisecond))

	t.Setenv(KeyEnv, strings.Repeat("ab", 32))
	sec, err := SecretFromEnv()
	if err != nil {
		t.Fatal(err)
	}
	kpath := filepath.Join(t.TempDir(), "k.db")
	if s, err = Create(kpath, sec, nil); err != nil {
		t.Fatal(err)
	}
	s.Close()
	t.Setenv(KeyEnv, strings.Repeat("ac", 32))
	other, _ := SecretFromEnv()
	if _, err := Open(kpath, other, nil); !errors.Is(err, ErrWrongKey) {
		t.Errorf("other FACEGATE_KEY: %v", err)
	}
}

// TestConcurrentMaintenance runs KEK rotation and transform re-keys while
// other goroutines enroll and load the gallery (run it with -race).
func TestConcurrentMaintenance(t *testing.T) {
	s, path := newStore(t)
	var wg sync.WaitGroup
	errc := make(chan error, 100)
	added := make([]int, 3)
	for g := 0; g < 3; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := rand.New(rand.NewPCG(uint64(g), 11))
			for i := 0; i < 15; i++ {
				tr, err := s.Transform(testModel, 32)
				if err != nil {
					errc <- err
					return
				}
				tp, err := tr.Protect(randUnit(r, 32), 1, time.Now())
				if err == nil {
					_, err = s.AddTemplate("g"+strconv.Itoa(g), tp)
				}
				switch {
				case errors.Is(err, template.ErrWrongTransform):
					// a re-key came between Transform and AddTemplate
				case err != nil:
					errc <- err
					return
				default:
					added[g]++
				}
				if err := s.each(func(Entry) error { return nil }); err != nil {
					errc <- err
					return
				}
			}
		}()
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 0; i < 3; i++ {
			if err := s.RekeyTransform(); err != nil {
				errc <- err
				return
			}
			if err := s.RotateKEK(pass("pw"), cheapKDF); err != nil {
				errc <- err
				return
			}
		}
	}()
	wg.Wait()
	close(errc)
	for err := range errc {
		t.Error(err)
	}
	if err := s.Check(); err != nil {
		t.Fatal(err)
	}
	tr, _ := s.Transform(testModel, 32)
	n := 0
	s.each(func(e Entry) error {
		if e.Template.TransformID() != tr.ID() {
			t.Errorf("%s/%d is under an old transform", e.Subject, e.ID)
		}
		n++
		return nil
	})
	if want := added[0] + added[1] + added[2]; n != want {
		t.Errorf("%d templates stored, %d acknowledged", n, want)
	}
	s.Close()
	s2, err := Open(path, pass("pw"), cheapKDF)
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	if err := s2.Check(); err != nil {
		t.Fatal(err)
	}
}

// TestNamesArePrefixFree checks that deleting or shredding one subject or
// class leaves those whose names extend it.
func TestNamesArePrefixFree(t *testing.T) {
	s, _ := newStore(t)
	subjects := []string{"a", "ab", "a\x00", "\x01a", strings.Repeat("a", 200)}
	classes := []string{"c", "cd", "c\x00"}
	for _, subj := range subjects {
		for _, class := range classes {
			for _, name := range []string{"n", "nn", "n\x00"} {
				if err := s.PutRecord(subj, class, name, []byte(subj+"|"+class+"|"+name)); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
	if err := s.DeleteSubject("a"); err != nil {
		t.Fatal(err)
	}
	if err := s.ShredClass("ab", "c"); err != nil {
		t.Fatal(err)
	}
	for _, subj := range subjects {
		for _, class := range classes {
			names, err := s.ListRecords(subj, class)
			gone := subj == "a" || (subj == "ab" && class == "c")
			switch {
			case gone && subj == "a":
				if !errors.Is(err, ErrUnknownSubject) {
					t.Errorf("%q/%q after DeleteSubject: %v", subj, class, err)
				}
			case gone:
				if err != nil || len(names) != 0 {
					t.Errorf("%q/%q after ShredClass: %v %v", subj, class, names, err)
				}
			default:
				if err != nil || len(names) != 3 {
					t.Errorf("%q/%q: %d records, %v; want 3", subj, class, len(names), err)
				}
				for _, name := range names {
					if got, err := s.GetRecord(subj, class, name); err != nil || string(got) != subj+"|"+class+"|"+name {
						t.Errorf("%q/%q/%q = %q, %v", subj, class, name, got, err)
					}
				}
			}
		}
	}
	if err := s.Check(); err != nil {
		t.Error(err)
	}
}
