package store

import (
	"bytes"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/facegate/facegate/internal/seal"
)

var cheap = KDFParams{Time: 1, MemoryKiB: 64, Threads: 1}

func TestDeriveKEK(t *testing.T) {
	salt1 := bytes.Repeat([]byte{1}, saltSize)
	salt2 := bytes.Repeat([]byte{2}, saltSize)
	raw, _ := RawKey(bytes.Repeat([]byte{0x42}, KeySize))
	pass := Passphrase([]byte("open sesame"))
	derive := func(s Secret, salt []byte, p KDFParams) *seal.Key {
		t.Helper()
		k, err := deriveKEK(s, salt, p)
		if err != nil {
			t.Fatal(err)
		}
		return k
	}
	if !derive(pass, salt1, cheap).Equal(derive(pass, salt1, cheap)) {
		t.Error("passphrase KEK is not deterministic")
	}
	if derive(pass, salt1, cheap).Equal(derive(pass, salt2, cheap)) {
		t.Error("salt does not change the passphrase KEK")
	}
	if derive(pass, salt1, cheap).Equal(derive(Passphrase([]byte("open sesamE")), salt1, cheap)) {
		t.Error("different passphrases give the same KEK")
	}
	if derive(pass, salt1, cheap).Equal(derive(pass, salt1, KDFParams{Time: 2, MemoryKiB: 64, Threads: 1})) {
		t.Error("Argon2 time does not change the KEK")
	}
	if !derive(raw, salt1, KDFParams{}).Equal(derive(raw, salt1, cheap)) {
		t.Error("raw-key KEK depends on KDF parameters")
	}
	if derive(raw, salt1, KDFParams{}).Equal(derive(raw, salt2, KDFParams{})) {
		t.Error("salt does not change the raw-key KEK")
	}
	if k := derive(raw, salt1, KDFParams{}); bytes.Equal(k.Bytes(), bytes.Repeat([]byte{0x42}, KeySize)) {
		t.Error("raw key used as KEK without expansion")
	}
	if _, err := deriveKEK(Secret{}, salt1, cheap); !errors.Is(err, ErrNoSecret) {
		t.Errorf("zero Secret: %v", err)
	}
	if _, err := deriveKEK(pass, salt1[:8], cheap); err == nil {
		t.Error("short salt accepted")
	}
	if _, err := deriveKEK(pass, salt1, KDFParams{Time: 0, MemoryKiB: 64, Threads: 1}); !errors.Is(err, ErrKDFParams) {
		t.Errorf("time 0: %v", err)
	}
}

// A raw key is the KEK's own size: HKDF expands it to one.
func TestKeySize(t *testing.T) {
	if KeySize != seal.KeySize {
		t.Errorf("KeySize %d, seal.KeySize %d", KeySize, seal.KeySize)
	}
}

func TestKDFParamsValidate(t *testing.T) {
	tests := []struct {
		p  KDFParams
		ok bool
	}{
		{DefaultKDFParams, true},
		{cheap, true},
		{KDFParams{}, false},
		{KDFParams{Time: 1, MemoryKiB: 7, Threads: 1}, false},
		{KDFParams{Time: 1, MemoryKiB: 64, Threads: 0}, false},
		{KDFParams{Time: 65, MemoryKiB: 64, Threads: 1}, false},
		{KDFParams{Time: 1, MemoryKiB: 1<<20 + 1, Threads: 1}, false},
		{KDFParams{Time: 1, MemoryKiB: 1 << 20, Threads: 4}, true},
	}
	for _, tc := range tests {
		if err := tc.p.validate(); (err == nil) != tc.ok {
			t.Errorf("%+v: validate() = %v, want ok=%v", tc.p, err, tc.ok)
		}
	}
}

func TestReadKeyFile(t *testing.T) {
	dir := t.TempDir()
	key := bytes.Repeat([]byte{0xAB}, KeySize)
	salt := make([]byte, saltSize)
	want, _ := RawKey(key)
	wantKEK, _ := deriveKEK(want, salt, KDFParams{})
	tests := []struct {
		name    string
		content []byte
		err     error
	}{
		{"raw", key, nil},
		{"hex", []byte(hex.EncodeToString(key)), nil},
		{"hex newline", []byte(hex.EncodeToString(key) + "\n"), nil},
		{"short", key[:31], ErrKeyEncoding},
		{"bad hex", bytes.Repeat([]byte("zz"), KeySize), ErrKeyEncoding},
		{"empty", nil, ErrKeyEncoding},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := filepath.Join(dir, tc.name)
			if err := os.WriteFile(p, tc.content, 0o600); err != nil {
				t.Fatal(err)
			}
			s, err := ReadKeyFile(p)
			if !errors.Is(err, tc.err) {
				t.Fatalf("ReadKeyFile: %v, want %v", err, tc.err)
			}
			if err != nil {
				return
			}
			k, err := deriveKEK(s, salt, KDFParams{})
			if err != nil {
				t.Fatal(err)
			}
			if !k.Equal(wantKEK) {
				t.Error("key file gives a different KEK")
			}
		})
	}
	if _, err := ReadKeyFile(filepath.Join(dir, "missing")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: %v", err)
	}
}

func TestSecretFromEnv(t *testing.T) {
	key := bytes.Repeat([]byte{0x5C}, KeySize)
	t.Setenv(KeyEnv, hex.EncodeToString(key))
	s, err := SecretFromEnv()
	if err != nil {
		t.Fatal(err)
	}
	if s.IsPassphrase() || s.IsZero() {
		t.Error("env secret is not a raw key")
	}
	t.Setenv(KeyEnv, "")
	if _, err := SecretFromEnv(); !errors.Is(err, ErrNoSecret) {
		t.Errorf("empty env: %v", err)
	}
	t.Setenv(KeyEnv, "1234")
	if _, err := SecretFromEnv(); !errors.Is(err, ErrKeyEncoding) {
		t.Errorf("short env: %v", err)
	}
}

func TestSecretWipe(t *testing.T) {
	p := []byte("pass")
	s := Passphrase(p)
	p[0] = 'X' // Passphrase copied its input
	inner := s.passphrase
	if string(inner) != "pass" {
		t.Fatal("Passphrase did not copy")
	}
	s.Wipe()
	if !s.IsZero() || !bytes.Equal(inner, make([]byte, 4)) {
		t.Error("Wipe left the passphrase")
	}
}

func TestCheckStrength(t *testing.T) {
	for _, tt := range []struct {
		p    string
		weak bool
	}{
		{"pw", true},
		{"aaaaaaaaaaaaaaaa", true},
		{"121212121212", true},
		{"correct horse", false},
		{"九龙城寨的门禁系统口令", true}, // 11 characters
		{"九龙城寨的门禁系统口令吧", false},
	} {
		err := Passphrase([]byte(tt.p)).CheckStrength()
		if got := errors.Is(err, ErrWeakPassphrase); got != tt.weak {
			t.Errorf("%q: %v, want weak=%v", tt.p, err, tt.weak)
		}
	}
	k, _ := RawKey(make([]byte, KeySize))
	if err := k.CheckStrength(); err != nil {
		t.Errorf("raw key: %v", err)
	}
}

// TestSecretErrors checks the errors an integrator meets when supplying a
// secret, through the public functions alone: each is one of this package's
// errors, so a caller never needs the internal key package to test for it.
func TestSecretErrors(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "s.db")
	s, err := Create(path, pass("correct horse"), cheapKDF)
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	raw, _ := RawKey(bytes.Repeat([]byte{7}, KeySize))
	_, shortErr := RawKey(make([]byte, KeySize-1))
	_, fileErr := ReadKeyFile(filepath.Join(dir, "s.db")) // a store is no key file
	_, createErr := Create(filepath.Join(dir, "t.db"), pass("correct horse"), &Options{KDF: KDFParams{Time: 1, MemoryKiB: 4, Threads: 1}})
	open := func(sec Secret) error {
		s, err := Open(path, sec, cheapKDF)
		if err == nil {
			s.Close()
		}
		return err
	}
	for _, tc := range []struct {
		name string
		err  error
		want error
	}{
		{"zero secret", open(Secret{}), ErrNoSecret},
		{"wrong passphrase", open(pass("correct horsE")), ErrWrongKey},
		{"raw key for a passphrase store", open(raw), ErrWrongKey},
		{"short raw key", shortErr, ErrKeySize},
		{"not a key file", fileErr, ErrKeyEncoding},
		{"Argon2id memory below 8 KiB per lane", createErr, ErrKDFParams},
		{"weak new passphrase", pass("gate").CheckStrength(), ErrWeakPassphrase},
	} {
		if !errors.Is(tc.err, tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, tc.err, tc.want)
		}
	}
	if err := open(pass("correct horse")); err != nil {
		t.Fatalf("right passphrase: %v", err)
	}
}
