package store_test

import (
	"fmt"
	"log"
	"os"
	"path/filepath"
	"time"

	"github.com/facegate/facegate/crypto"
	"github.com/facegate/facegate/store"
)

func Example() {
	dir, _ := os.MkdirTemp("", "facegate-example")
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "gate.db")

	// A passphrase is stretched with Argon2id; tests use cheap parameters.
	secret := crypto.Passphrase([]byte("correct horse battery staple"))
	s, err := store.Create(path, secret, &store.Options{KDF: crypto.KDFParams{Time: 1, MemoryKiB: 64, Threads: 1}})
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
