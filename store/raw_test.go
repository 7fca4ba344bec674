package store

import (
	"bytes"
	"encoding/binary"
	"errors"
	"math"
	"math/rand/v2"
	"os"
	"strings"
	"testing"

	bolt "go.etcd.io/bbolt"

	"github.com/facegate/facegate/gate/records"
	"github.com/facegate/facegate/internal/seal"
	"github.com/facegate/facegate/template"
)

// rawLocation maps a subject and ("r", class, name) or ("k", class) to a
// bucket and key.
func rawLocation(s *Store, subject string, path ...string) ([]byte, []byte) {
	if path[0] == "r" {
		return bucketRecords, s.recKey(subject, path[1], path[2])
	}
	return bucketKeys, s.keyKey(subject, path[1])
}

// rawValue returns a copy of a stored value: ("r", class, name) for a
// sealed record, ("k", class) for a wrapped key.
func rawValue(t testing.TB, s *Store, subject string, path ...string) []byte {
	t.Helper()
	bucket, key := rawLocation(s, subject, path...)
	var v []byte
	err := s.db.View(func(tx *bolt.Tx) error {
		v = bytes.Clone(tx.Bucket(bucket).Get(key))
		return nil
	})
	if err != nil || v == nil {
		t.Fatalf("raw value %s/%v: %v", subject, path, err)
	}
	return v
}

// flipInFile flips one byte in the middle of every occurrence of needle in
// the closed store file (old copies of a page may linger in free pages until
// the next scrub; the live one is among them).
func flipInFile(t testing.TB, path string, needle []byte) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for off := 0; ; {
		i := bytes.Index(b[off:], needle)
		if i < 0 {
			break
		}
		b[off+i+len(needle)/2] ^= 0x40
		off += i + len(needle)
		n++
	}
	if n == 0 {
		t.Fatal("value not found in file")
	}
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
}

func TestTamperedRecordIsNamed(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 5))
	tests := []struct {
		name   string
		target func(s *Store) []byte
		check  func(s *Store) error
		record string
	}{
		{"consent record", func(s *Store) []byte { return rawValue(t, s, "alice", "r", "consent", "v1") },
			func(s *Store) error { _, err := s.GetRecord("alice", "consent", "v1"); return err },
			`record "alice"/"consent"/"v1"`},
		{"template", func(s *Store) []byte { return rawValue(t, s, "alice", "r", ClassFace, firstTemplate(t, s, "alice")) },
			func(s *Store) error { _, err := s.Templates("alice"); return err },
			`record "alice"/"face"/`},
		{"template via Each", func(s *Store) []byte { return rawValue(t, s, "alice", "r", ClassFace, firstTemplate(t, s, "alice")) },
			func(s *Store) error { return s.each(func(Entry) error { return nil }) },
			`record "alice"/"face"/`},
		{"wrapped consent key", func(s *Store) []byte { return rawValue(t, s, "alice", "k", "consent") },
			func(s *Store) error { _, err := s.GetRecord("alice", "consent", "v1"); return err },
			`data key "alice"/"consent"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, path := newStore(t)
			if _, err := s.AddTemplate("alice", protect(t, s, randUnit(r, 128))); err != nil {
				t.Fatal(err)
			}
			if err := s.PutRecord("alice", "consent", "v1", []byte("consent given by alice on 2026-11-24")); err != nil {
				t.Fatal(err)
			}
			if _, err := s.AddTemplate("bob", protect(t, s, randUnit(r, 128))); err != nil {
				t.Fatal(err)
			}
			target := tc.target(s)
			s.Close()
			flipInFile(t, path, target)
			s2, err := Open(path, pass("pw"), cheapKDF)
			if err != nil {
				t.Fatal(err)
			}
			defer s2.Close()
			err = tc.check(s2)
			var te *TamperedError
			if !errors.Is(err, ErrTampered) || !errors.As(err, &te) {
				t.Fatalf("got %v, want a *TamperedError", err)
			}
			if !strings.HasPrefix(te.Record, tc.record) {
				t.Errorf("TamperedError names %s, want %s", te.Record, tc.record)
			}
			// The rest of the store is still readable.
			if ts, err := s2.Templates("bob"); err != nil || len(ts) != 1 {
				t.Errorf("bob after tampering with alice: %v", err)
			}
		})
	}
}

// closedFileHeader closes a new store and returns its file and the offset
// of its header in it.
func closedFileHeader(t *testing.T) (path string, file []byte, at int) {
	s, path := newStore(t)
	var hb []byte
	s.db.View(func(tx *bolt.Tx) error { hb = bytes.Clone(tx.Bucket(bucketMeta).Get(keyHeader)); return nil })
	s.Close()
	b, _ := os.ReadFile(path)
	return path, b, bytes.Index(b, hb)
}

func TestTamperedHeaderIsWrongKey(t *testing.T) {
	path, b, i := closedFileHeader(t)
	// Flip a salt byte: the key check (bound to the header) fails.
	b[i+30] ^= 1
	os.WriteFile(path, b, 0o600)
	if _, err := Open(path, pass("pw"), cheapKDF); !errors.Is(err, ErrWrongKey) {
		t.Fatalf("Open with a modified header: %v, want ErrWrongKey", err)
	}
}

// TestRecordsAreBound copies sealed values to other places inside the file
// (as an attacker with write access could): they must not open there.
func TestRecordsAreBound(t *testing.T) {
	s, _ := newStore(t)
	r := rand.New(rand.NewPCG(6, 6))
	s.PutRecord("alice", "credential", "card", []byte("alice-card"))
	s.PutRecord("bob", "credential", "card", []byte("bob-card"))
	s.AddTemplate("alice", protect(t, s, randUnit(r, 64)))
	s.AddTemplate("bob", protect(t, s, randUnit(r, 64)))
	put := func(subject string, value []byte, path ...string) {
		t.Helper()
		bucket, key := rawLocation(s, subject, path...)
		err := s.db.Update(func(tx *bolt.Tx) error { return tx.Bucket(bucket).Put(key, value) })
		if err != nil {
			t.Fatal(err)
		}
	}
	aliceCard := rawValue(t, s, "alice", "r", "credential", "card")
	aliceKey := rawValue(t, s, "alice", "k", "credential")
	aliceFace := rawValue(t, s, "alice", "r", ClassFace, firstTemplate(t, s, "alice"))

	// Same subject, other name.
	put("alice", aliceCard, "r", "credential", "card2")
	if _, err := s.GetRecord("alice", "credential", "card2"); !errors.Is(err, ErrTampered) {
		t.Errorf("record renamed: %v", err)
	}
	// Other subject (bob's own key).
	put("bob", aliceCard, "r", "credential", "card")
	if _, err := s.GetRecord("bob", "credential", "card"); !errors.Is(err, ErrTampered) {
		t.Errorf("record moved to bob: %v", err)
	}
	// Alice's wrapped key given to bob, with alice's record: the key is bound
	// to alice and does not unwrap for bob.
	put("bob", aliceKey, "k", "credential")
	if _, err := s.GetRecord("bob", "credential", "card"); !errors.Is(err, ErrTampered) || !strings.Contains(err.Error(), "data key") {
		t.Errorf("key moved to bob: %v", err)
	}
	// A template swapped into bob's face class.
	put("bob", aliceFace, "r", ClassFace, firstTemplate(t, s, "bob"))
	if _, err := s.Templates("bob"); !errors.Is(err, ErrTampered) {
		t.Errorf("template moved to bob: %v", err)
	}
	// Alice's credential key moved to her consent class.
	put("alice", aliceKey, "k", "consent")
	put("alice", aliceCard, "r", "consent", "card")
	if _, err := s.GetRecord("alice", "consent", "card"); !errors.Is(err, ErrTampered) {
		t.Errorf("key and record moved to another class: %v", err)
	}
	// Alice's own data still opens.
	if c, err := s.GetRecord("alice", "credential", "card"); err != nil || string(c) != "alice-card" {
		t.Errorf("alice's record: %q %v", c, err)
	}
}

func f32le(v []float32) []byte {
	b := make([]byte, 0, 4*len(v))
	for _, x := range v {
		b = binary.LittleEndian.AppendUint32(b, math.Float32bits(x))
	}
	return b
}

// findWindows reports the first window of size w of needle found in hay.
func findWindows(hay, needle []byte, w, step int) (int, bool) {
	for i := 0; i+w <= len(needle); i += step {
		if bytes.Contains(hay, needle[i:i+w]) {
			return i, true
		}
	}
	return 0, false
}

// TestNoPlaintextBiometrics enrolls a known descriptor and stores a known
// "image" canary, then scans the raw file for any 16-byte run of the
// descriptor or the protected vector (float32 little-endian) and any 16-byte
// run of the canary. (Templates hold no int8 copy since format 2.)
func TestNoPlaintextBiometrics(t *testing.T) {
	s, path := newStore(t)
	r := rand.New(rand.NewPCG(7, 7))
	desc := randUnit(r, 128)
	tp := protect(t, s, desc)
	if _, err := s.AddTemplate("resident/0001", tp); err != nil {
		t.Fatal(err)
	}
	canary := []byte("\xff\xd8\xff\xe0\x00\x10JFIF\x00FACEGATE-CANARY-IMAGE")
	for i := 0; i < 4096; i++ {
		canary = append(canary, byte(r.Uint32()))
	}
	if err := s.PutRecord("resident/0001", "consent", "photo", canary); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 20; i++ { // more content around it
		if _, err := s.AddTemplate("resident/x"+string(rune('a'+i)), protect(t, s, randUnit(r, 128))); err != nil {
			t.Fatal(err)
		}
	}
	s.Close()
	file, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	needles := []struct {
		name   string
		b      []byte
		window int
	}{
		{"descriptor float32", f32le(desc), 16},
		{"protected float32", f32le(tp.Vector()), 16},
		{"image canary", canary, 16},
	}
	for _, n := range needles {
		if off, found := findWindows(file, n.b, n.window, 1); found {
			t.Errorf("%s: bytes %d..%d found in the store file", n.name, off, off+n.window)
		}
	}
	// The scan itself works: the canary is found in a file that holds it.
	if _, found := findWindows(append(bytes.Clone(file), canary[100:200]...), canary, 16, 1); !found {
		t.Fatal("scan cannot find a planted canary")
	}
}

type shredded struct {
	wrapped map[string][]byte // class → wrapped key
	keys    map[string]*seal.Key
	sealed  [][]byte
	ids     []uint64 // alice's template IDs
}

// firstTemplate names the record of subject's first template (in ID
// order) in a store without a Shape.
func firstTemplate(t testing.TB, s *Store, subject string) string {
	t.Helper()
	es, err := s.Templates(subject)
	if err != nil || len(es) == 0 {
		t.Fatalf("templates of %s: %v", subject, err)
	}
	return templateName(es[0].ID)
}

// enrollVictim stores alice's templates and records and returns copies of
// her wrapped keys, unwrapped data keys and sealed values.
func enrollVictim(t *testing.T, s *Store) shredded {
	r := rand.New(rand.NewPCG(8, 8))
	var ids []uint64
	for i := 0; i < 3; i++ {
		id, err := s.AddTemplate("alice", protect(t, s, randUnit(r, 128)))
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
		if _, err := s.AddTemplate("bob", protect(t, s, randUnit(r, 128))); err != nil {
			t.Fatal(err)
		}
	}
	s.PutRecord("alice", "consent", "v1", []byte("alice consents"))
	s.PutRecord("bob", "consent", "v1", []byte("bob consents"))
	v := shredded{wrapped: map[string][]byte{}, keys: map[string]*seal.Key{}, ids: ids}
	for _, class := range []string{ClassFace, "consent"} {
		v.wrapped[class] = rawValue(t, s, "alice", "k", class)
		k, err := s.unwrapDataKey(s.keyKey("alice", class), v.wrapped[class], func() string { return class })
		if err != nil {
			t.Fatal(err)
		}
		v.keys[class] = k
	}
	for _, id := range ids {
		v.sealed = append(v.sealed, rawValue(t, s, "alice", "r", ClassFace, templateName(id)))
	}
	v.sealed = append(v.sealed, rawValue(t, s, "alice", "r", "consent", "v1"))
	return v
}

// recoverable scans the raw file as a thief holding the KEK (and, for the
// strongest check, alice's old data keys) would: every offset that could
// start a wrapped key is tried with the KEK under alice's bindings, and
// every offset that could start a sealed template or record is tried with
// her old data keys. It returns what opened.
func recoverable(t *testing.T, s *Store, file []byte, v shredded) (keys, records int) {
	sizes := map[int]bool{}
	for _, b := range v.sealed {
		sizes[len(b)-versionSize] = true
	}
	// Every sealed value follows its 8-byte version.
	for i := versionSize; i < len(file); i++ {
		if file[i] != seal.FormatVersion {
			continue
		}
		ver := binary.BigEndian.Uint64(file[i-versionSize:])
		for class := range v.keys {
			if i+seal.WrappedSize <= len(file) {
				if _, err := s.kek.Unwrap(file[i:i+seal.WrappedSize], s.keyAD(s.keyKey("alice", class), ver)); err == nil {
					keys++
				}
			}
		}
		for n := range sizes {
			if i+n > len(file) {
				continue
			}
			for _, id := range v.ids {
				if _, err := v.keys[ClassFace].Open(file[i:i+n], s.recordAD(s.recKey("alice", ClassFace, templateName(id)), ver)); err == nil {
					records++
				}
			}
			if _, err := v.keys["consent"].Open(file[i:i+n], s.recordAD(s.recKey("alice", "consent", "v1"), ver)); err == nil {
				records++
			}
		}
	}
	return keys, records
}

// TestDeleteSubjectShredsRawFile deletes a subject and reads the raw file
// afterwards: none of her wrapped keys or sealed records may be left, so
// nothing can be opened even with the KEK. With scrubbing disabled the same
// scan recovers them, showing why the store scrubs.
func TestDeleteSubjectShredsRawFile(t *testing.T) {
	for _, scrub := range []bool{true, false} {
		name := "scrubbed"
		if !scrub {
			name = "control without scrub"
		}
		t.Run(name, func(t *testing.T) {
			s, path := newStore(t)
			s.noScrub = !scrub
			v := enrollVictim(t, s)
			before, _ := os.ReadFile(path)
			if k, rec := recoverable(t, s, before, v); k < 2 || rec < 4 {
				t.Fatalf("before deletion the scan finds %d keys and %d records, want at least 2 and 4", k, rec)
			}
			if err := s.DeleteSubject("alice"); err != nil {
				t.Fatal(err)
			}
			file, _ := os.ReadFile(path)
			keys, records := recoverable(t, s, file, v)
			lingering := 0
			for _, b := range append(v.sealed, v.wrapped[ClassFace], v.wrapped["consent"]) {
				if bytes.Contains(file, b) {
					lingering++
				}
			}
			t.Logf("after DeleteSubject: %d wrapped keys unwrap with the KEK, %d records open with the old data keys, %d of 6 values linger", keys, records, lingering)
			if scrub && (keys != 0 || records != 0 || lingering != 0) {
				t.Error("deleted subject's data recoverable from the raw file")
			}
			if !scrub && keys == 0 {
				t.Error("control: without scrubbing the deleted keys were expected to linger in free pages")
			}
			if ok, _ := s.hasSubject("alice"); ok {
				t.Error("alice still listed")
			}
			if ts, err := s.Templates("bob"); err != nil || len(ts) != 3 {
				t.Errorf("bob after alice's deletion: %d, %v", len(ts), err)
			}
			if c, err := s.GetRecord("bob", "consent", "v1"); err != nil || string(c) != "bob consents" {
				t.Errorf("bob's record: %v", err)
			}
			// The store survives reopening after a scrub.
			s.Close()
			s2, err := Open(path, pass("pw"), cheapKDF)
			if err != nil {
				t.Fatal(err)
			}
			defer s2.Close()
			n := 0
			if err := s2.each(func(Entry) error { n++; return nil }); err != nil || n != 3 {
				t.Errorf("after reopen: %d templates, %v", n, err)
			}
		})
	}
}

func TestShredClassRawFile(t *testing.T) {
	s, path := newStore(t)
	v := enrollVictim(t, s)
	s.PutRecord("alice", "credential", "card", []byte("alice-card"))
	if err := s.ShredClass("alice", ClassFace); err != nil {
		t.Fatal(err)
	}
	file, _ := os.ReadFile(path)
	if bytes.Contains(file, v.wrapped[ClassFace]) {
		t.Error("face key lingers after ShredClass")
	}
	for i := versionSize; i+seal.WrappedSize <= len(file); i++ {
		if _, err := s.kek.Unwrap(file[i:i+seal.WrappedSize], s.keyAD(s.keyKey("alice", ClassFace), binary.BigEndian.Uint64(file[i-versionSize:]))); err == nil {
			t.Fatal("shredded face key unwraps from the raw file")
		}
	}
	if c, err := s.GetRecord("alice", "credential", "card"); err != nil || string(c) != "alice-card" {
		t.Errorf("credential after ShredClass(face): %v", err)
	}
	if c, err := s.GetRecord("alice", "consent", "v1"); err != nil || string(c) != "alice consents" {
		t.Errorf("consent after ShredClass(face): %v", err)
	}
}

func TestRotateKEK(t *testing.T) {
	s, path := newStore(t)
	v := enrollVictim(t, s)
	var oldCheck []byte
	s.db.View(func(tx *bolt.Tx) error { oldCheck = bytes.Clone(tx.Bucket(bucketMeta).Get(keyCheck)); return nil })
	oldSealed := rawValue(t, s, "alice", "r", "consent", "v1")
	if err := s.RotateKEK(pass("new pw"), cheapKDF); err != nil {
		t.Fatal(err)
	}
	// Records were not re-sealed; keys were re-wrapped.
	if !bytes.Equal(rawValue(t, s, "alice", "r", "consent", "v1"), oldSealed) {
		t.Error("RotateKEK re-sealed a record")
	}
	if bytes.Equal(rawValue(t, s, "alice", "k", "consent"), v.wrapped["consent"]) {
		t.Error("RotateKEK did not re-wrap a key")
	}
	file, _ := os.ReadFile(path)
	for class, w := range v.wrapped {
		if bytes.Contains(file, w) {
			t.Errorf("key %s wrapped under the old KEK lingers", class)
		}
	}
	if bytes.Contains(file, oldCheck) {
		t.Error("old key check lingers")
	}
	s.Close()
	if _, err := Open(path, pass("pw"), cheapKDF); !errors.Is(err, ErrWrongKey) {
		t.Errorf("old passphrase after rotation: %v", err)
	}
	s2, err := Open(path, pass("new pw"), cheapKDF)
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	if c, err := s2.GetRecord("alice", "consent", "v1"); err != nil || string(c) != "alice consents" {
		t.Errorf("record after rotation: %v", err)
	}
	n := 0
	if err := s2.each(func(Entry) error { n++; return nil }); err != nil || n != 6 {
		t.Errorf("templates after rotation: %d, %v", n, err)
	}
	// Rotate to a raw key and back to a passphrase.
	raw, _ := RawKey(bytes.Repeat([]byte{7}, 32))
	if err := s2.RotateKEK(raw, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := s2.Templates("alice"); err != nil {
		t.Errorf("after rotation to a raw key: %v", err)
	}
}

// TestRekeyTransformStore moves a store to a new transform secret and checks
// that templates stolen before no longer match anything, while fresh probes
// under the new transform still match their owners.
func TestRekeyTransformStore(t *testing.T) {
	s, path := newStore(t)
	r := rand.New(rand.NewPCG(9, 9))
	const n = 200
	raw := make([][]float32, n)
	err := s.Update(func(b records.Batch) error {
		for i := range raw {
			raw[i] = randUnit(r, 128)
			if _, err := b.AddTemplate(subjectName(i), protect(t, s, raw[i])); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	var stolen []Entry
	for e, err := range s.all() {
		if err != nil {
			t.Fatal(err)
		}
		stolen = append(stolen, e)
	}
	oldTr, _ := s.Transform(testModel, 128)
	oldID := oldTr.ID()
	if err := s.RekeyTransform(); err != nil {
		t.Fatal(err)
	}
	s.Close()
	s, err = Open(path, pass("pw"), cheapKDF)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	newTr, _ := s.Transform(testModel, 128)
	if newTr.ID() == oldID {
		t.Fatal("transform ID unchanged after RekeyTransform")
	}
	var gallery []Entry
	s.each(func(e Entry) error { gallery = append(gallery, e); return nil })
	if len(gallery) != n {
		t.Fatalf("gallery has %d templates after rekey, want %d", len(gallery), n)
	}
	minStolen := math.Inf(1)
	for _, st := range stolen {
		for _, g := range gallery {
			minStolen = min(minStolen, dist(st.Template.Vector(), g.Template.Vector()))
		}
	}
	var maxGenuine float64
	for _, g := range gallery {
		var i int
		for i = range raw {
			if subjectName(i) == g.Subject {
				break
			}
		}
		probe, _ := newTr.Apply(raw[i])
		maxGenuine = max(maxGenuine, dist(probe.Vector(), g.Template.Vector()))
		if g.Template.TransformID() != newTr.ID() {
			t.Fatal("template not moved to the new transform")
		}
	}
	t.Logf("after RekeyTransform: stolen-to-gallery min distance %.3f (%d×%d pairs), fresh probes max distance %.2g", minStolen, n, n, maxGenuine)
	const matchDist = 0.6
	if minStolen <= matchDist {
		t.Errorf("a template stolen before the re-key matches at distance %.3f", minStolen)
	}
	if maxGenuine > 1e-5 {
		t.Errorf("fresh probes under the new transform are %.3g from their templates", maxGenuine)
	}
	if _, err := s.AddTemplate("late", stolen[0].Template); !errors.Is(err, template.ErrWrongTransform) {
		t.Errorf("adding a template under the old transform: %v", err)
	}
}

func subjectName(i int) string {
	return "resident/" + string(rune('A'+i%26)) + string(rune('A'+i/26%26)) + string(rune('A'+i/676))
}

func FuzzDecodeHeader(f *testing.F) {
	h := header{kind: kindPassphrase, kdf: KDFParams{Time: 1, MemoryKiB: 64, Threads: 1}, generation: 3}
	good := h.encode()
	f.Add(good)
	f.Add(good[:headerSize-1])
	f.Add(append(bytes.Clone(good), 0))
	f.Add([]byte("FGST\x02"))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		got, err := decodeHeader(b)
		if err != nil {
			if !errors.Is(err, ErrNotStore) && !errors.Is(err, ErrVersion) && !errors.Is(err, ErrTruncated) {
				t.Fatalf("untyped error %v", err)
			}
			return
		}
		if !bytes.Equal(got.encode(), b) {
			t.Fatalf("re-encoding differs")
		}
	})
}

func FuzzCheckFile(f *testing.F) {
	meta := make([]byte, 4096)
	binary.LittleEndian.PutUint32(meta[16:], boltMagic)
	f.Add(meta)
	f.Add([]byte("not a store"))
	f.Fuzz(func(t *testing.T, b []byte) {
		path := t.TempDir() + "/f"
		if err := os.WriteFile(path, b, 0o600); err != nil {
			t.Fatal(err)
		}
		err := checkFile(path, false)
		if err != nil && !errors.Is(err, ErrNotStore) && !errors.Is(err, ErrTruncated) {
			t.Fatalf("untyped error %v", err)
		}
	})
}

// TestForgedKDFParamsRefused forges the Argon2id parameters in the header
// of a closed store (1 GiB, 64 passes: 14 s and 1.1 GB on a gate before
// "wrong passphrase" without the bound): Open refuses the header with
// ErrHeaderTampered before deriving anything, and Create refuses such
// parameters too.
func TestForgedKDFParamsRefused(t *testing.T) {
	path, b, i := closedFileHeader(t)
	p := i + 5 + 16 + 1 + saltSize
	binary.BigEndian.PutUint32(b[p:], 64)
	binary.BigEndian.PutUint32(b[p+4:], 1<<20)
	os.WriteFile(path, b, 0o600)
	_, err := Open(path, pass("pw"), cheapKDF)
	if !errors.Is(err, ErrHeaderTampered) || errors.Is(err, ErrWrongKey) {
		t.Fatalf("Open with forged KDF parameters: %v, want ErrHeaderTampered", err)
	}
	t.Log(err)
	huge := &Options{KDF: KDFParams{Time: 64, MemoryKiB: 1 << 20, Threads: 1}}
	if _, err := Create(t.TempDir()+"/x.db", pass("pw"), huge); !errors.Is(err, ErrKDFParams) {
		t.Fatalf("Create with parameters above MaxKDF: %v", err)
	}
}
