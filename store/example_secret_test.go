package store_test

import (
	"errors"
	"fmt"
	"os"

	"github.com/facegate/facegate/store"
)

func ExampleSecretFromEnv() {
	// FACEGATE_KEY holds 64 hex digits, e.g. from `openssl rand -hex 32`.
	os.Setenv(store.KeyEnv, "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f")
	defer os.Unsetenv(store.KeyEnv)
	s, err := store.SecretFromEnv()
	fmt.Println(err, s.IsPassphrase())
	os.Setenv(store.KeyEnv, "too short")
	_, err = store.SecretFromEnv()
	fmt.Println(errors.Is(err, store.ErrKeyEncoding))
	// Output:
	// <nil> false
	// true
}

func ExampleSecret_CheckStrength() {
	// A new store's passphrase is checked before Create; Open takes any.
	for _, p := range []string{"gate1234", "aaaaaaaaaaaaaaaa", "kowloon walled city gate"} {
		err := store.Passphrase([]byte(p)).CheckStrength()
		fmt.Println(p, errors.Is(err, store.ErrWeakPassphrase))
	}
	// Output:
	// gate1234 true
	// aaaaaaaaaaaaaaaa true
	// kowloon walled city gate false
}
