package gate

import (
	"bytes"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	bolt "go.etcd.io/bbolt"

	"github.com/facegate/facegate/gate/internal/rawstore"
	"github.com/facegate/facegate/store"
)

// keylessView is what a reader of the raw file without the key can say
// about it, once the opaque names are abstracted away: the meta entries
// (fixed names) and their sizes, and the shape of every subject — how many
// classes it has and the sizes of each class's key and records, as the
// 16-byte tag prefixes group them — as a sorted list, so that two files
// with the same shapes compare equal whatever the tags are.
type keylessView struct {
	meta     []string
	groups   int
	subjects []string // one signature per subject, sorted
}

// keylessDump reads a copy of the bbolt file at path with bbolt alone and
// returns its keylessView. It also returns the whole file.
func keylessDump(t *testing.T, path string) (keylessView, []byte) {
	t.Helper()
	db, data := rawstore.OpenCopy(t, path)
	const tag = 16
	var v keylessView
	type class struct {
		key   int
		sizes []int
	}
	subjects := map[string]map[string]*class{} // subject tag → class tag → class
	cls := func(k []byte) *class {
		s := subjects[string(k[:tag])]
		if s == nil {
			s = map[string]*class{}
			subjects[string(k[:tag])] = s
		}
		c := s[string(k[tag:2*tag])]
		if c == nil {
			c = &class{}
			s[string(k[tag:2*tag])] = c
		}
		return c
	}
	err := db.View(func(tx *bolt.Tx) error {
		return tx.ForEach(func(name []byte, b *bolt.Bucket) error {
			return b.ForEach(func(k, val []byte) error {
				switch string(name) {
				case "meta":
					v.meta = append(v.meta, fmt.Sprintf("%s:%d", k, len(val)))
				case "groups":
					v.groups++
				case "subjects":
					if len(k) != tag {
						t.Errorf("subject key of %d bytes", len(k))
					}
					if subjects[string(k)] == nil {
						subjects[string(k)] = map[string]*class{}
					}
					subjects[string(k)][""] = &class{key: len(val)}
				case "keys":
					if len(k) != 2*tag {
						t.Errorf("key name of %d bytes", len(k))
						return nil
					}
					cls(k).key = len(val)
				case "records":
					if len(k) != 3*tag {
						t.Errorf("record name of %d bytes", len(k))
						return nil
					}
					c := cls(k)
					c.sizes = append(c.sizes, len(val))
				default:
					t.Errorf("unexpected bucket %q", name)
				}
				return nil
			})
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range subjects {
		var sig []string
		for _, c := range s {
			slices.Sort(c.sizes)
			sig = append(sig, fmt.Sprint(c.key, c.sizes))
		}
		slices.Sort(sig)
		v.subjects = append(v.subjects, strings.Join(sig, " "))
	}
	slices.Sort(v.subjects)
	return v, data
}

// TestKeylessDumpHidesStates is the issue's must-show test: the keyless
// dump of a store whose ten flats are in ten different states (face
// enrolled, withdrawn, never enrolled; card, removed card, none; PIN,
// locked PIN; QR issued, used; one more flat registered and erased) is
// indistinguishable, in names and size classes, from that of a store whose
// ten flats all hold the same credentials. What still shows, and is the
// same in both by construction of the test, is documented in
// docs/privacy.md: the number of subjects, of access events per day and
// of QR codes used in the last day.
func TestKeylessDumpHidesStates(t *testing.T) {
	build := func(varied bool) string {
		path := filepath.Join(t.TempDir(), "gate.db")
		st, err := store.Create(path, store.Passphrase([]byte("test passphrase")), cheapKDF)
		if err != nil {
			t.Fatal(err)
		}
		defer st.Close()
		e := newEnv(t, st, withMaxPIN(3))
		must := func(err error) {
			t.Helper()
			if err != nil {
				t.Fatal(err)
			}
		}
		full := func(i int) {
			s := fmt.Sprintf("flat-%d", i)
			e.register(t, s, true)
			must(e.g.SetCard(s, []byte("card-"+s)))
			must(e.g.SetPIN(s, "2468"))
			_, err := e.g.EnrollFace(s, vector(uint64(i)), 0.9)
			must(err)
			_, _, err = e.g.IssueQR(s)
			must(err)
		}
		if !varied {
			for i := range 10 {
				full(i)
			}
			// Four access events, one of them a QR code used: the same
			// counts as below.
			code, _, err := e.g.IssueQR("flat-0")
			must(err)
			mustAdmit(t, e.g.Admit(Attempt{QR: code}), "flat-0")
			for i := 1; i < 4; i++ {
				s := fmt.Sprintf("flat-%d", i)
				mustAdmit(t, e.g.Admit(Attempt{Card: []byte("card-" + s)}), s)
			}
			return path
		}
		full(0) // everything
		full(1)
		_, err = e.g.Withdraw("flat-1", PurposeFace) // face and its consent withdrawn
		must(err)
		e.register(t, "flat-2", false) // card only, no face consent
		must(e.g.SetCard("flat-2", []byte("card-flat-2")))
		e.register(t, "flat-3", true) // PIN only, face consent but no face
		must(e.g.SetPIN("flat-3", "1357"))
		e.register(t, "flat-4", false) // PIN locked
		must(e.g.SetPIN("flat-4", "1111"))
		for range 3 {
			e.g.Admit(Attempt{Subject: "flat-4", PIN: "0000"})
		}
		e.register(t, "flat-5", false) // QR code used
		code, _, err := e.g.IssueQR("flat-5")
		must(err)
		mustAdmit(t, e.g.Admit(Attempt{QR: code}), "flat-5")
		e.register(t, "flat-6", false) // registered, nothing else
		e.register(t, "flat-7", true)  // card set and removed, PIN, two faces
		must(e.g.SetCard("flat-7", []byte("card-flat-7")))
		must(e.g.SetPIN("flat-7", "7777"))
		for k := range 2 {
			_, err := e.g.EnrollFace("flat-7", near(vector(7), uint64(k)), 0.9)
			must(err)
		}
		must(e.g.RemoveCard("flat-7"))
		e.register(t, "flat-8", true) // face enrolled, then the face deleted by a shred
		must(e.g.SetPIN("flat-8", "8888"))
		_, err = e.g.EnrollFace("flat-8", vector(8), 0.9)
		must(err)
		must(st.ShredClass("flat-8", "face"))
		e.register(t, "flat-9", false) // QR issued, unused
		_, _, err = e.g.IssueQR("flat-9")
		must(err)
		full(10) // a flat registered with everything, then erased
		_, err = e.g.Erase("flat-10")
		must(err)
		return path
	}
	varied, file := keylessDump(t, build(true))
	same, _ := keylessDump(t, build(false))
	if len(varied.subjects) != len(same.subjects) {
		t.Fatalf("%d subjects against %d", len(varied.subjects), len(same.subjects))
	}
	if !slices.Equal(varied.meta, same.meta) || varied.groups != same.groups {
		t.Errorf("meta differs:\n%v\n%v", varied.meta, same.meta)
	}
	for i := range varied.subjects {
		if varied.subjects[i] != same.subjects[i] {
			t.Errorf("subject shapes differ:\nvaried %q\nsame   %q", varied.subjects[i], same.subjects[i])
		}
	}
	t.Logf("%d subjects; shapes: %q", len(same.subjects), same.subjects)
	for _, plain := range []string{"flat-", "accesslog", "gate/", "credential", "consent", "2026"} {
		if bytes.Contains(file, []byte(plain)) {
			t.Errorf("the file holds %q in the clear", plain)
		}
	}
}
