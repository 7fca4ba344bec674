package seal_test

import (
	"errors"
	"fmt"
	"log"
	"os"

	"github.com/facegate/facegate/internal/seal"
)

func ExampleKey_Seal() {
	dk, err := seal.NewKey()
	if err != nil {
		log.Fatal(err)
	}
	defer dk.Wipe()
	storeID := []byte("0123456789abcdef")
	ad := seal.AD(seal.KindRecord, storeID, "resident/0042", "consent", "v1")
	sealed, err := dk.Seal([]byte("consent given 2026-11-24"), ad)
	if err != nil {
		log.Fatal(err)
	}
	pt, err := dk.Open(sealed, ad)
	fmt.Println(string(pt), err)
	// Moved to another subject, the record no longer opens.
	_, err = dk.Open(sealed, seal.AD(seal.KindRecord, storeID, "resident/0043", "consent", "v1"))
	fmt.Println(err == seal.ErrAuth)
	// Output:
	// consent given 2026-11-24 <nil>
	// true
}

func ExampleKey_Wrap() {
	kek, _ := seal.NewKey()
	dk, _ := seal.NewKey()
	ad := seal.AD(seal.KindDataKey, []byte("store"), "resident/0042", "face", "")
	w, _ := kek.Wrap(dk, ad)
	back, err := kek.Unwrap(w, ad)
	fmt.Println(len(w) == seal.WrappedSize, back.Equal(dk), err)
	// Output: true true <nil>
}

func ExampleDeriveKEK() {
	salt := make([]byte, seal.SaltSize) // a store keeps a random salt in its header
	s := seal.Passphrase([]byte("correct horse battery staple"))
	defer s.Wipe()
	kek, err := seal.DeriveKEK(s, salt, seal.KDFParams{Time: 1, MemoryKiB: 64, Threads: 1})
	if err != nil {
		log.Fatal(err)
	}
	defer kek.Wipe()
	fmt.Println(len(kek.Bytes()))
	// Output: 32
}

func ExampleSecretFromEnv() {
	// FACEGATE_KEY holds 64 hex digits, e.g. from `openssl rand -hex 32`.
	os.Setenv(seal.KeyEnv, "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f")
	defer os.Unsetenv(seal.KeyEnv)
	s, err := seal.SecretFromEnv()
	fmt.Println(err, s.IsPassphrase())
	os.Setenv(seal.KeyEnv, "too short")
	_, err = seal.SecretFromEnv()
	fmt.Println(errors.Is(err, seal.ErrKeyEncoding))
	// Output:
	// <nil> false
	// true
}
