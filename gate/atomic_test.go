package gate

import (
	"errors"
	"testing"

	"github.com/facegate/facegate/gate/records"
	"github.com/facegate/facegate/gate/records/recordstest"
	"github.com/facegate/facegate/template"
)

var errInjected = errors.New("injected write failure")

// failingStore is a records.Store whose failAt-th write (counting writes
// inside Update batches too) fails, as a crash or a full disk would stop
// it. failAt 0 never fails.
type failingStore struct {
	*recordstest.Store
	writes, failAt int
}

func (f *failingStore) write() error {
	f.writes++
	if f.failAt > 0 && f.writes == f.failAt {
		return errInjected
	}
	return nil
}

func (f *failingStore) PutRecord(subject, class, name string, pt []byte) error {
	if err := f.write(); err != nil {
		return err
	}
	return f.Store.PutRecord(subject, class, name, pt)
}

func (f *failingStore) DeleteRecord(subject, class, name string) error {
	if err := f.write(); err != nil {
		return err
	}
	return f.Store.DeleteRecord(subject, class, name)
}

func (f *failingStore) ShredClass(subject, class string) error {
	if err := f.write(); err != nil {
		return err
	}
	return f.Store.ShredClass(subject, class)
}

func (f *failingStore) DeleteSubject(subject string) error {
	if err := f.write(); err != nil {
		return err
	}
	return f.Store.DeleteSubject(subject)
}

func (f *failingStore) AddTemplate(subject string, t template.Template) (uint64, error) {
	if err := f.write(); err != nil {
		return 0, err
	}
	return f.Store.AddTemplate(subject, t)
}

func (f *failingStore) Update(fn func(records.Batch) error) error {
	return f.Store.Update(func(b records.Batch) error { return fn(&failingBatch{b, f}) })
}

type failingBatch struct {
	records.Batch
	f *failingStore
}

func (b *failingBatch) PutRecord(subject, class, name string, pt []byte) error {
	if err := b.f.write(); err != nil {
		return err
	}
	return b.Batch.PutRecord(subject, class, name, pt)
}

func (b *failingBatch) DeleteRecord(subject, class, name string) error {
	if err := b.f.write(); err != nil {
		return err
	}
	return b.Batch.DeleteRecord(subject, class, name)
}

func (b *failingBatch) ShredClass(subject, class string) error {
	if err := b.f.write(); err != nil {
		return err
	}
	return b.Batch.ShredClass(subject, class)
}

func (b *failingBatch) DeleteSubject(subject string) error {
	if err := b.f.write(); err != nil {
		return err
	}
	return b.Batch.DeleteSubject(subject)
}

func (b *failingBatch) AddTemplate(subject string, t template.Template) (uint64, error) {
	if err := b.f.write(); err != nil {
		return 0, err
	}
	return b.Batch.AddTemplate(subject, t)
}

// TestOperationsAreAtomic stops every multi-write gate operation at each of
// its writes in turn: the store must be left exactly as before (all or
// nothing), and the operation must report the failure.
func TestOperationsAreAtomic(t *testing.T) {
	setup := func(t *testing.T, e *env) {
		e.register(t, "flat-1", true)
		if err := e.g.SetCard("flat-1", []byte("card-1")); err != nil {
			t.Fatal(err)
		}
		if err := e.g.SetPIN("flat-1", "1234"); err != nil {
			t.Fatal(err)
		}
		if _, err := e.g.EnrollFace("flat-1", vector(1), 0.9); err != nil {
			t.Fatal(err)
		}
		if _, _, err := e.g.IssueQR("flat-1"); err != nil {
			t.Fatal(err)
		}
		e.register(t, "flat-2", false)
		if err := e.g.SetCard("flat-2", []byte("card-2")); err != nil {
			t.Fatal(err)
		}
		if err := e.g.SetPIN("flat-2", "2345"); err != nil {
			t.Fatal(err)
		}
	}
	ops := []struct {
		name string
		run  func(e *env) error
	}{
		{"Register", func(e *env) error { return e.g.Register("flat-3", adult(PurposeEntry)) }},
		{"GiveConsent (renewal moves the old one to the history)", func(e *env) error { return e.g.GiveConsent("flat-1", adult(PurposeFace)) }},
		{"SetCard (replacing a card)", func(e *env) error { return e.g.SetCard("flat-1", []byte("card-1b")) }},
		{"RemoveCard", func(e *env) error { return e.g.RemoveCard("flat-2") }},
		{"Withdraw face", func(e *env) error { _, err := e.g.Withdraw("flat-1", PurposeFace); return err }},
		{"Erase", func(e *env) error { _, err := e.g.Erase("flat-1"); return err }},
	}
	for _, op := range ops {
		t.Run(op.name, func(t *testing.T) {
			most := 0
			for k := 1; ; k++ {
				fs := &failingStore{Store: recordstest.New()}
				e := newEnv(t, fs)
				setup(t, e)
				before := fs.State()
				fs.writes, fs.failAt = 0, k
				err := op.run(e)
				if fs.writes < k {
					if err != nil {
						t.Fatalf("without a failure: %v", err)
					}
					most = fs.writes
					break
				}
				if !errors.Is(err, errInjected) {
					t.Fatalf("write %d failed, the operation returned %v", k, err)
				}
				if after := fs.State(); after != before {
					t.Fatalf("a failure at write %d left a half-done change:\nbefore:\n%s\nafter:\n%s", k, before, after)
				}
			}
			if most < 2 {
				t.Logf("only %d write(s)", most)
			}
		})
	}
}
