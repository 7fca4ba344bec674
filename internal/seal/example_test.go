package seal_test

import (
	"fmt"
	"log"

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
