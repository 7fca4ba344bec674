package site

import (
	"bytes"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/facegate/facegate/examples/internal/exitcode"
	"github.com/facegate/facegate/facematch/probe"
	"github.com/facegate/facegate/gate"
	"github.com/facegate/facegate/store"
)

func TestSecretsRead(t *testing.T) {
	key := bytes.Repeat([]byte{7}, 32)
	dir := t.TempDir()
	keyFile := filepath.Join(dir, "key")
	if err := os.WriteFile(keyFile, []byte(hex.EncodeToString(key)+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	devnull, err := os.Open(os.DevNull)
	if err != nil {
		t.Fatal(err)
	}
	defer devnull.Close()
	s := Secrets{In: devnull, Out: &bytes.Buffer{}}
	for _, tc := range []struct {
		name           string
		keyFile        string
		key, pass      string
		newKey         bool
		wantErr        error
		wantPassphrase bool
	}{
		{name: "key file", keyFile: keyFile},
		{name: "key env", key: hex.EncodeToString(key)},
		{name: "new key env", key: hex.EncodeToString(key), newKey: true},
		{name: "bad key env", key: "abc", wantErr: store.ErrKeyEncoding},
		{name: "bad new key env", key: "zz" + hex.EncodeToString(key)[2:], newKey: true, wantErr: store.ErrKeyEncoding},
		{name: "passphrase env", pass: "correct horse", wantPassphrase: true},
		{name: "nothing and no terminal", wantErr: store.ErrNoSecret},
		{name: "missing key file", keyFile: filepath.Join(dir, "nope"), wantErr: os.ErrNotExist},
	} {
		t.Run(tc.name, func(t *testing.T) {
			keyEnv := store.KeyEnv
			if tc.newKey {
				keyEnv = NewKeyEnv
			}
			t.Setenv(store.KeyEnv, "")
			t.Setenv(NewKeyEnv, "")
			t.Setenv(keyEnv, tc.key)
			t.Setenv(PassphraseEnv, tc.pass)
			sec, err := s.Read(tc.keyFile, keyEnv, PassphraseEnv, "passphrase", false)
			if tc.wantErr != nil {
				if !errors.Is(err, tc.wantErr) {
					t.Fatalf("error %v, want %v", err, tc.wantErr)
				}
				return
			}
			if err != nil || sec.IsZero() || sec.IsPassphrase() != tc.wantPassphrase {
				t.Fatalf("secret zero=%v passphrase=%v err=%v", sec.IsZero(), sec.IsPassphrase(), err)
			}
		})
	}
}

// TestCreateOpen creates a store, opens it without faces, and checks the
// operator keys survive a reopen and the typed errors of bad opens.
func TestCreateOpen(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "s.db")
	sec, _ := store.RawKey(bytes.Repeat([]byte{1}, 32))
	if err := Create(path, sec, "nonsense", store.DefaultKDFParams); !errors.Is(err, exitcode.ErrUsage) {
		t.Fatalf("Create with an unknown backend: %v", err)
	}
	if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("a refused Create left a file: %v", err)
	}
	if err := Create(path, sec, probe.DefaultBackend, store.DefaultKDFParams); err != nil {
		t.Fatal(err)
	}
	if err := Create(path, sec, probe.DefaultBackend, store.DefaultKDFParams); !errors.Is(err, store.ErrExists) {
		t.Fatalf("second Create: %v", err)
	}
	s, err := Open(Config{Store: path}, sec)
	if err != nil {
		t.Fatal(err)
	}
	if s.Settings.Backend != probe.DefaultBackend || s.Backend != nil || s.Gallery != nil {
		t.Fatalf("settings %+v backend %v", s.Settings, s.Backend)
	}
	if err := s.Gate.Register("flat-1", gate.Consent{Purpose: gate.PurposeEntry, How: "test", BirthYear: 1980}); err != nil {
		t.Fatal(err)
	}
	if err := s.Gate.SetCard("flat-1", []byte{1, 2, 3}); err != nil {
		t.Fatal(err)
	}
	r, err := s.Gate.Erase("flat-1")
	if err != nil {
		t.Fatal(err)
	}
	s.Close()

	s, err = Open(Config{Store: path}, sec)
	if err != nil {
		t.Fatal(err)
	}
	if err := gate.VerifyReceipt(s.Keys.Receipt, r); err != nil {
		t.Fatalf("a receipt does not verify after reopening: the operator keys changed: %v", err)
	}
	s.Close()

	wrong, _ := store.RawKey(bytes.Repeat([]byte{2}, 32))
	if _, err := Open(Config{Store: path}, wrong); !errors.Is(err, store.ErrWrongKey) {
		t.Fatalf("wrong key: %v", err)
	}
	if _, err := Open(Config{Store: filepath.Join(dir, "none.db")}, sec); !errors.Is(err, exitcode.ErrNoStore) {
		t.Fatalf("missing store: %v", err)
	}
	if _, err := Open(Config{}, sec); !errors.Is(err, exitcode.ErrUsage) {
		t.Fatalf("no store path: %v", err)
	}
}
