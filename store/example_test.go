package store_test

import (
	"errors"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"time"

	"github.com/facegate/facegate/gate/records"
	"github.com/facegate/facegate/store"
	"github.com/facegate/facegate/template"
)

func Example() {
	dir, _ := os.MkdirTemp("", "facegate-example")
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "gate.db")

	// A passphrase is stretched with Argon2id; tests use cheap parameters.
	secret := store.Passphrase([]byte("correct horse battery staple"))
	s, err := store.Create(path, secret, &store.Options{KDF: store.KDFParams{Time: 1, MemoryKiB: 64, Threads: 1}})
	if err != nil {
		log.Fatal(err)
	}
	defer s.Close()

	// Enroll: protect the model's descriptor with the store's transform.
	descriptor := make([]float32, 128)
	descriptor[0] = 1
	tr, err := s.Transform("dlib-resnet-v1", 128)
	if err != nil {
		log.Fatal(err)
	}
	t, err := tr.Protect(descriptor, 0.9, time.Now())
	if err != nil {
		log.Fatal(err)
	}
	if _, err := s.AddTemplate("resident/0042", t); err != nil {
		log.Fatal(err)
	}
	// A credential in its own class survives withdrawal of face consent.
	if err := s.PutRecord("resident/0042", "credential", "pin", []byte("hashed-pin")); err != nil {
		log.Fatal(err)
	}
	if err := s.ShredClass("resident/0042", store.ClassFace); err != nil {
		log.Fatal(err)
	}
	ts, _ := s.Templates("resident/0042")
	pin, _ := s.GetRecord("resident/0042", "credential", "pin")
	fmt.Println(len(ts), string(pin))
	// Output: 0 hashed-pin
}

func ExampleOpen() {
	dir, _ := os.MkdirTemp("", "facegate-example")
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "gate.db")
	key := make([]byte, store.KeySize) // in production: store.ReadKeyFile or store.SecretFromEnv
	secret, _ := store.RawKey(key)
	s, err := store.Create(path, secret, nil)
	if err != nil {
		log.Fatal(err)
	}
	s.Close()

	other, _ := store.RawKey(append(key[:31:31], 1))
	_, err = store.Open(path, other, nil)
	fmt.Println(errors.Is(err, store.ErrWrongKey))
	s, err = store.Open(path, secret, nil)
	fmt.Println(err)
	s.Close()
	// Output:
	// true
	// <nil>
}

func ExampleStore_Update() {
	dir, _ := os.MkdirTemp("", "facegate-example")
	defer os.RemoveAll(dir)
	secret, _ := store.RawKey(make([]byte, store.KeySize))
	s, err := store.Create(filepath.Join(dir, "gate.db"), secret, nil)
	if err != nil {
		log.Fatal(err)
	}
	defer s.Close()
	tr, _ := s.Transform("dlib-resnet-v1", 3)
	// One transaction and one fsync for many enrollments.
	err = s.Update(func(b records.Batch) error {
		for i, d := range [][]float32{{1, 0, 0}, {0, 1, 0}, {0, 0, 1}} {
			t, err := tr.Protect(d, 1, time.Now())
			if err != nil {
				return err
			}
			if _, err := b.AddTemplate(fmt.Sprintf("resident/%04d", i), t); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		log.Fatal(err)
	}
	// Load the gallery, subject by subject.
	subjects, err := s.Subjects()
	if err != nil {
		log.Fatal(err)
	}
	for _, subject := range subjects {
		entries, err := s.Templates(subject)
		if err != nil {
			log.Fatal(err)
		}
		for _, e := range entries {
			fmt.Println(e.Subject, e.Template.Dim()) // IDs are random
		}
	}
	// Output:
	// resident/0000 3
	// resident/0001 3
	// resident/0002 3
}

func ExampleStore_DeleteSubject() {
	dir, _ := os.MkdirTemp("", "facegate-example")
	defer os.RemoveAll(dir)
	secret, _ := store.RawKey(make([]byte, store.KeySize))
	s, _ := store.Create(filepath.Join(dir, "gate.db"), secret, nil)
	defer s.Close()
	s.PutRecord("audit/2026-11-24", "audit", "000001", []byte("gate 1 opened by card"))
	// Crypto-shred a whole day of the access log.
	if err := s.DeleteSubject("audit/2026-11-24"); err != nil {
		log.Fatal(err)
	}
	_, err := s.GetRecord("audit/2026-11-24", "audit", "000001")
	fmt.Println(errors.Is(err, store.ErrUnknownSubject))
	// Output: true
}

func ExampleStore_RekeyTransform() {
	dir, _ := os.MkdirTemp("", "facegate-example")
	defer os.RemoveAll(dir)
	secret, _ := store.RawKey(make([]byte, store.KeySize))
	s, _ := store.Create(filepath.Join(dir, "gate.db"), secret, nil)
	defer s.Close()
	tr, _ := s.Transform("m", 2)
	t, _ := tr.Protect([]float32{0.6, 0.8}, 1, time.Now())
	s.AddTemplate("resident/0001", t)
	stolen := t // a copy that leaked

	if err := s.RekeyTransform(); err != nil {
		log.Fatal(err)
	}
	tr, _ = s.Transform("m", 2) // fetch again after a re-key
	ts, _ := s.Templates("resident/0001")
	fmt.Println(ts[0].Template.TransformID() == tr.ID(), stolen.TransformID() == tr.ID())
	_, err := s.AddTemplate("resident/0001", stolen)
	fmt.Println(errors.Is(err, template.ErrWrongTransform))
	// Output:
	// true false
	// true
}

func ExampleStore_Check() {
	dir, _ := os.MkdirTemp("", "facegate-example")
	defer os.RemoveAll(dir)
	secret, _ := store.RawKey(make([]byte, store.KeySize))
	s, _ := store.Create(filepath.Join(dir, "gate.db"), secret, nil)
	defer s.Close()
	s.PutRecord("resident/0001", "credential", "card", []byte("card uid"))
	// Verify every key, record and template, e.g. after restoring a backup.
	fmt.Println(s.Check())
	// Output: <nil>
}
