package recordstest_test

import (
	"errors"
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/facegate/facegate/gate/records"
	"github.com/facegate/facegate/gate/records/recordstest"
	"github.com/facegate/facegate/store"
)

// TestMatchesRealStore runs the same calls on the in-memory store and on
// the bbolt store and checks that they return the same results and the
// same kinds of error, so tests on the fake say something about the real
// thing.
func TestMatchesRealStore(t *testing.T) {
	real, err := store.Create(filepath.Join(t.TempDir(), "s.db"), store.Passphrase([]byte("pw")),
		&store.Options{KDF: store.KDFParams{Time: 1, MemoryKiB: 64, Threads: 1}})
	if err != nil {
		t.Fatal(err)
	}
	defer real.Close()
	fake := recordstest.New()
	kinds := []error{store.ErrUnknownSubject, store.ErrNotFound, store.ErrReservedClass, store.ErrInvalidName}
	kind := func(err error) error {
		for _, k := range kinds {
			if errors.Is(err, k) {
				return k
			}
		}
		return err
	}
	type result struct {
		out  string
		kind error
	}
	steps := []struct {
		name string
		f    func(s records.Store) (string, error)
	}{
		{"get from missing subject", func(s records.Store) (string, error) { b, err := s.GetRecord("a", "c", "n"); return string(b), err }},
		{"list missing subject", func(s records.Store) (string, error) { n, err := s.ListRecords("a", "c"); return join(n), err }},
		{"put", func(s records.Store) (string, error) { return "", s.PutRecord("a", "c", "n", []byte("v")) }},
		{"put second", func(s records.Store) (string, error) { return "", s.PutRecord("a", "c", "m", []byte("w")) }},
		{"put other class", func(s records.Store) (string, error) { return "", s.PutRecord("a", "d", "n", []byte("x")) }},
		{"put face class", func(s records.Store) (string, error) { return "", s.PutRecord("a", store.ClassFace, "n", nil) }},
		{"put empty name", func(s records.Store) (string, error) { return "", s.PutRecord("a", "c", "", nil) }},
		{"get", func(s records.Store) (string, error) { b, err := s.GetRecord("a", "c", "n"); return string(b), err }},
		{"get missing record", func(s records.Store) (string, error) { b, err := s.GetRecord("a", "c", "z"); return string(b), err }},
		{"get missing class", func(s records.Store) (string, error) { b, err := s.GetRecord("a", "q", "n"); return string(b), err }},
		{"list", func(s records.Store) (string, error) { n, err := s.ListRecords("a", "c"); return join(n), err }},
		{"list empty class", func(s records.Store) (string, error) { n, err := s.ListRecords("a", "q"); return join(n), err }},
		{"delete", func(s records.Store) (string, error) { return "", s.DeleteRecord("a", "c", "m") }},
		{"delete missing", func(s records.Store) (string, error) { return "", s.DeleteRecord("a", "c", "m") }},
		{"templates none", func(s records.Store) (string, error) { e, err := s.Templates("a"); return itoa(len(e)), err }},
		{"templates missing subject", func(s records.Store) (string, error) { e, err := s.Templates("b"); return itoa(len(e)), err }},
		{"add template", func(s records.Store) (string, error) {
			tr, err := s.Transform("m", 4)
			if err != nil {
				return "", err
			}
			tp, err := tr.Protect([]float32{1, 2, 3, 4}, 0.5, time.Unix(100, 0))
			if err != nil {
				return "", err
			}
			id, err := s.AddTemplate("a", tp)
			return fmt.Sprint(id != 0), err // the store's IDs are random
		}},
		{"templates", func(s records.Store) (string, error) { e, err := s.Templates("a"); return itoa(len(e)), err }},
		{"shred class", func(s records.Store) (string, error) { return "", s.ShredClass("a", "c") }},
		{"shred class again", func(s records.Store) (string, error) { return "", s.ShredClass("a", "c") }},
		{"get shredded", func(s records.Store) (string, error) { b, err := s.GetRecord("a", "c", "n"); return string(b), err }},
		{"other class survives", func(s records.Store) (string, error) { b, err := s.GetRecord("a", "d", "n"); return string(b), err }},
		{"shred face", func(s records.Store) (string, error) { return "", s.ShredClass("a", store.ClassFace) }},
		{"templates after shred", func(s records.Store) (string, error) { e, err := s.Templates("a"); return itoa(len(e)), err }},
		{"update rolls back on error", func(s records.Store) (string, error) {
			errBoom := errors.New("boom")
			err := s.Update(func(b records.Batch) error {
				if err := b.PutRecord("a", "c", "rb", []byte("x")); err != nil {
					return err
				}
				if err := b.ShredClass("a", "d"); err != nil {
					return err
				}
				if v, err := b.GetRecord("a", "c", "rb"); err != nil || string(v) != "x" {
					return fmt.Errorf("batch does not read its own write: %q, %v", v, err)
				}
				if _, err := b.GetRecord("a", "d", "n"); !records.NotFound(err) {
					return fmt.Errorf("batch still reads a shredded class: %v", err)
				}
				return errBoom
			})
			if !errors.Is(err, errBoom) {
				return "", err
			}
			v, err := s.GetRecord("a", "d", "n") // the shred was undone
			if err != nil {
				return "", err
			}
			_, err = s.GetRecord("a", "c", "rb")
			return string(v), err
		}},
		{"update commits", func(s records.Store) (string, error) {
			err := s.Update(func(b records.Batch) error {
				if err := b.PutRecord("a", "c", "u1", []byte("1")); err != nil {
					return err
				}
				if err := b.PutRecord("b", "c", "u2", []byte("2")); err != nil {
					return err
				}
				return b.DeleteRecord("a", "c", "u1")
			})
			if err != nil {
				return "", err
			}
			n, err := s.ListRecords("b", "c")
			return join(n), err
		}},
		{"delete subject", func(s records.Store) (string, error) { return "", s.DeleteSubject("a") }},
		{"delete subject again", func(s records.Store) (string, error) { return "", s.DeleteSubject("a") }},
		{"get deleted subject", func(s records.Store) (string, error) { b, err := s.GetRecord("a", "d", "n"); return string(b), err }},
		{"shred missing subject", func(s records.Store) (string, error) { return "", s.ShredClass("a", "d") }},
	}
	for _, st := range steps {
		r, err1 := st.f(real)
		f, err2 := st.f(fake)
		got, want := result{f, kind(err2)}, result{r, kind(err1)}
		t.Logf("%s: %q %v / %q %v", st.name, f, err2, r, err1)
		if got.out != want.out || (got.kind == nil) != (want.kind == nil) || (got.kind != nil && !errors.Is(want.kind, got.kind)) {
			t.Errorf("%s: fake gives %q, %v; store gives %q, %v", st.name, got.out, err2, want.out, err1)
		}
	}
}

func join(n []string) string { return strings.Join(n, ",") }

func itoa(n int) string { return strconv.Itoa(n) }
