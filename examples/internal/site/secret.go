package site

import (
	"bufio"
	"crypto/subtle"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"strings"

	"golang.org/x/term"

	"github.com/facegate/facegate/store"
)

// PassphraseEnv is the environment variable a passphrase may come from
// when no key file is given and FACEGATE_KEY is unset (for scripts; a
// prompt is better on a shared machine).
const PassphraseEnv = "FACEGATE_PASSPHRASE"

// NewKeyEnv and NewPassphraseEnv give the new secret of a KEK rotation.
const (
	NewKeyEnv        = "FACEGATE_NEW_KEY"
	NewPassphraseEnv = "FACEGATE_NEW_PASSPHRASE"
)

// Secrets reads a store secret, never from a command-line value.
type Secrets struct {
	// In is where a prompted passphrase is read from (os.Stdin); a prompt
	// is shown only when it is a terminal.
	In *os.File
	// Out is where the prompt is written (os.Stderr).
	Out io.Writer
}

// Read returns the store secret from, in order: the key file keyFile (32
// raw bytes or 64 hex digits), the key in keyEnv (64 hex digits), the
// passphrase in passEnv, or a passphrase prompt on the terminal (asked
// twice when confirm). Without any of them it returns an error wrapping
// store.ErrNoSecret.
func (s Secrets) Read(keyFile, keyEnv, passEnv, what string, confirm bool) (store.Secret, error) {
	if keyFile != "" {
		return store.ReadKeyFile(keyFile)
	}
	if v := os.Getenv(keyEnv); strings.TrimSpace(v) != "" {
		if keyEnv == store.KeyEnv {
			return store.SecretFromEnv()
		}
		sec, err := secretFromHex(v)
		if err != nil {
			return store.Secret{}, fmt.Errorf("%s: %w", keyEnv, err)
		}
		return sec, nil
	}
	if v := os.Getenv(passEnv); v != "" {
		return store.Passphrase([]byte(v)), nil
	}
	if s.In == nil || !term.IsTerminal(int(s.In.Fd())) {
		return store.Secret{}, fmt.Errorf("%w: no --key-file, %s or %s, and no terminal to ask for a passphrase", store.ErrNoSecret, keyEnv, passEnv)
	}
	p, err := s.prompt(what + ": ")
	if err != nil {
		return store.Secret{}, err
	}
	defer clear(p)
	if len(p) == 0 {
		return store.Secret{}, fmt.Errorf("%w: empty passphrase", store.ErrNoSecret)
	}
	if confirm {
		q, err := s.prompt("again: ")
		if err != nil {
			return store.Secret{}, err
		}
		defer clear(q)
		if subtle.ConstantTimeCompare(p, q) != 1 {
			return store.Secret{}, fmt.Errorf("%w: the two passphrases differ", store.ErrNoSecret)
		}
	}
	return store.Passphrase(p), nil
}

func (s Secrets) prompt(text string) ([]byte, error) {
	fmt.Fprint(s.Out, text)
	p, err := term.ReadPassword(int(s.In.Fd()))
	fmt.Fprintln(s.Out)
	if err != nil {
		return nil, fmt.Errorf("read passphrase: %w", err)
	}
	return p, nil
}

// secretFromHex decodes a key given as 64 hex digits (crypto reads keys
// only from files and FACEGATE_KEY).
func secretFromHex(v string) (store.Secret, error) {
	v = strings.TrimSpace(v)
	if len(v) != 2*store.KeySize {
		return store.Secret{}, fmt.Errorf("%w: got %d characters", store.ErrKeyEncoding, len(v))
	}
	b, err := hex.DecodeString(v)
	if err != nil {
		return store.Secret{}, fmt.Errorf("%w: %v", store.ErrKeyEncoding, err)
	}
	defer clear(b)
	return store.RawKey(b)
}

// Line reads one line of a secret such as a PIN: from the terminal without
// echo when in is one, otherwise the first line of in.
func (s Secrets) Line(what string) (string, error) {
	if s.In != nil && term.IsTerminal(int(s.In.Fd())) {
		p, err := s.prompt(what + ": ")
		return string(p), err
	}
	line, err := bufio.NewReader(s.In).ReadString('\n')
	if err != nil && line == "" {
		return "", fmt.Errorf("read %s from standard input: %w", what, err)
	}
	return strings.TrimRight(line, "\r\n"), nil
}
