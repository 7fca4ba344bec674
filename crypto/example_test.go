package crypto_test

import (
	"fmt"
	"log"

	"github.com/facegate/facegate/crypto"
)

func ExampleKey_Seal() {
	dk, err := crypto.NewKey()
	if err != nil {
		log.Fatal(err)
	}
	defer dk.Wipe()
	storeID := []byte("0123456789abcdef")
	ad := crypto.AD(crypto.KindRecord, storeID, "resident/0042", "consent", "v1")
	sealed, err := dk.Seal([]byte("consent given 2026-11-24"), ad)
	if err != nil {
		log.Fatal(err)
	}
	pt, err := dk.Open(sealed, ad)
	fmt.Println(string(pt), err)
	// Moved to another subject, the record no longer opens.
	_, err = dk.Open(sealed, crypto.AD(crypto.KindRecord, storeID, "resident/0043", "consent", "v1"))
	fmt.Println(err == crypto.ErrAuth)
	// Output:
	// consent given 2026-11-24 <nil>
	// true
}

func ExampleKey_Wrap() {
	kek, _ := crypto.NewKey()
	dk, _ := crypto.NewKey()
	ad := crypto.AD(crypto.KindDataKey, []byte("store"), "resident/0042", "face", "")
	w, _ := kek.Wrap(dk, ad)
	back, err := kek.Unwrap(w, ad)
	fmt.Println(len(w) == crypto.WrappedSize, back.Equal(dk), err)
	// Output: true true <nil>
}

func ExampleDeriveKEK() {
	salt := make([]byte, crypto.SaltSize) // a store keeps a random salt in its header
	s := crypto.Passphrase([]byte("correct horse battery staple"))
	defer s.Wipe()
	kek, err := crypto.DeriveKEK(s, salt, crypto.KDFParams{Time: 1, MemoryKiB: 64, Threads: 1})
	if err != nil {
		log.Fatal(err)
	}
	defer kek.Wipe()
	fmt.Println(len(kek.Bytes()))
	// Output: 32
}
