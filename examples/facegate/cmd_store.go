package main

import (
	"flag"
	"fmt"
	"strings"

	"github.com/facegate/facegate/examples/internal/exitcode"
	"github.com/facegate/facegate/examples/internal/site"
	"github.com/facegate/facegate/facematch/probe"
	"github.com/facegate/facegate/store"
)

func (a *app) cmdInit(fs *flag.FlagSet, args []string) error {
	backend := fs.String("model", probe.DefaultBackend, "face backend of the store: "+strings.Join(probe.Names(), ", "))
	if err := parse(fs, args, 0, 0); err != nil {
		return err
	}
	if err := probe.Check(*backend); err != nil {
		return fmt.Errorf("%w: --model: %w", exitcode.ErrUsage, err)
	}
	if a.storePath == "" {
		return fmt.Errorf("%w: no store given: use --store or %s", exitcode.ErrUsage, site.StoreEnv)
	}
	sec, err := a.secrets().Read(a.keyFile, store.KeyEnv, site.PassphraseEnv, "new store passphrase", true)
	if err != nil {
		return err
	}
	defer sec.Wipe()
	if err := sec.CheckStrength(); err != nil {
		return err
	}
	if err := site.Create(a.storePath, sec, *backend, store.DefaultKDFParams); err != nil {
		return err
	}
	kind := "a 32-byte key"
	if sec.IsPassphrase() {
		kind = "a passphrase (Argon2id)"
	}
	a.print(map[string]any{"store": a.storePath, "backend": *backend, "secret": kind},
		fmt.Sprintf("created store %s (face backend %s), unlocked by %s", a.storePath, *backend, kind))
	return nil
}

func (a *app) cmdRekey(fs *flag.FlagSet, args []string) error {
	transform := fs.Bool("transform", false, "renew the revocable template transform instead (templates copied out before become useless)")
	newKeyFile := fs.String("new-key-file", "", "file holding the new store key (else FACEGATE_NEW_KEY, FACEGATE_NEW_PASSPHRASE or a prompt)")
	s, err := a.parseOpen(fs, args, nil)
	if err != nil {
		return err
	}
	defer s.Close()
	if *transform {
		if err := s.Store.RekeyTransform(); err != nil {
			return err
		}
		a.print(map[string]any{"rekeyed": "transform"}, "renewed the template transform: every template was moved to a new key without re-capture; copies taken before no longer match")
		return nil
	}
	sec, err := a.secrets().Read(*newKeyFile, site.NewKeyEnv, site.NewPassphraseEnv, "new store passphrase", true)
	if err != nil {
		return err
	}
	defer sec.Wipe()
	if err := sec.CheckStrength(); err != nil {
		return err
	}
	if err := s.Store.RotateKEK(sec, nil); err != nil {
		return err
	}
	a.print(map[string]any{"rekeyed": "kek"}, "rotated the store key: data keys re-wrapped, old key no longer opens the store")
	return nil
}
