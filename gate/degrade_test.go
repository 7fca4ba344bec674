package gate

import (
	"bytes"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	bolt "go.etcd.io/bbolt"

	"github.com/facegate/facegate/gate/records"
	"github.com/facegate/facegate/store"
)

// flipRaw flips one byte in the middle of the value stored under key in
// bucket of the closed bbolt file at path, as someone with write access to
// the file and no key would (the test finds the key with
// store.RawLocation, the attacker by trying), and returns how many values
// it hit.
func flipRaw(t *testing.T, path, bucket string, key []byte) int {
	t.Helper()
	db, err := bolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	n := 0
	err = db.Update(func(tx *bolt.Tx) error {
		return tx.ForEach(func(name []byte, b *bolt.Bucket) error {
			if string(name) != bucket {
				return nil
			}
			type kv struct{ k, v []byte }
			var hits []kv
			b.ForEach(func(k, v []byte) error {
				if !bytes.Equal(k, key) {
					return nil
				}
				v = bytes.Clone(v)
				v[len(v)/2] ^= 0x20
				hits = append(hits, kv{bytes.Clone(k), v})
				return nil
			})
			for _, h := range hits {
				if err := b.Put(h.k, h.v); err != nil {
					return err
				}
				n++
			}
			return nil
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// TestOneDamagedFlatNeverLocksOutTheBuilding damages, in the raw file, one
// flat's face data key and another flat's PIN record. The gate must still
// start; every other flat gets in by face, card and PIN; the flat with the
// damaged face key still gets in by card and PIN; the damaged PIN is
// refused with a typed error while that flat's card works; Damaged and the
// store's Check name what broke.
func TestOneDamagedFlatNeverLocksOutTheBuilding(t *testing.T) {
	path := filepath.Join(t.TempDir(), "gate.db")
	secret := store.Passphrase([]byte("test passphrase"))
	st, err := store.Create(path, secret, cheapKDF)
	if err != nil {
		t.Fatal(err)
	}
	e := newEnv(t, st)
	flats := 6
	for i := range flats {
		s := fmt.Sprintf("flat-%d", i)
		e.register(t, s, true)
		if err := e.g.SetCard(s, []byte("card-"+s)); err != nil {
			t.Fatal(err)
		}
		if err := e.g.SetPIN(s, fmt.Sprintf("%04d", 1000+i)); err != nil {
			t.Fatal(err)
		}
		if _, err := e.g.EnrollFace(s, vector(uint64(100+i)), 0.9); err != nil {
			t.Fatal(err)
		}
	}
	faceKeyBucket, faceKey := st.RawLocation("flat-2", records.ClassFace, "")
	pinBucket, pinKey := st.RawLocation("flat-4", records.ClassCredential, pinName)
	st.Close()
	if n := flipRaw(t, path, faceKeyBucket, faceKey); n != 1 { // the wrapped face key
		t.Fatalf("damaged %d entries of flat-2's faces", n)
	}
	if n := flipRaw(t, path, pinBucket, pinKey); n != 1 {
		t.Fatalf("damaged %d PIN entries", n)
	}

	st, err = store.Open(path, secret, cheapKDF)
	if err != nil {
		t.Fatalf("Open after one flat's damage: %v", err)
	}
	defer st.Close()
	e = newEnv(t, st)
	dmg := e.g.Damaged()
	if len(dmg) != 1 || !errors.Is(dmg[0], records.ErrDamaged) || !strings.Contains(dmg[0].Error(), `"flat-2"`) {
		t.Fatalf("Damaged() = %v, want flat-2's faces", dmg)
	}
	for i := range flats {
		s := fmt.Sprintf("flat-%d", i)
		if i != 2 {
			mustAdmit(t, e.g.Admit(Attempt{Liveness: Live, Face: near(vector(uint64(100+i)), 1)}), s)
		}
		mustAdmit(t, e.g.Admit(Attempt{Card: []byte("card-" + s)}), s)
		if i != 4 {
			mustAdmit(t, e.g.Admit(Attempt{Subject: s, PIN: fmt.Sprintf("%04d", 1000+i)}), s)
		}
	}
	if d := e.g.Admit(Attempt{Liveness: Live, Face: near(vector(102), 1)}); d.Admit {
		t.Fatal("a face whose key is damaged was admitted")
	}
	d := e.g.Admit(Attempt{Subject: "flat-4", PIN: "1004"})
	if d.Admit || !errors.Is(d.Err, records.ErrDamaged) || !errors.Is(d.Err, store.ErrTampered) {
		t.Fatalf("damaged PIN record: %+v, want a refusal with store.ErrTampered", d)
	}
	cerr := st.Check()
	for _, want := range []string{`"flat-2"/"face"`, `"flat-4"/"credential"/"pin"`} {
		if cerr == nil || !strings.Contains(cerr.Error(), want) {
			t.Errorf("Check does not name %s: %v", want, cerr)
		}
	}
}
