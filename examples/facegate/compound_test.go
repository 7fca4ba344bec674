package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/facegate/facegate/compound"
)

// TestCompoundCommands provisions a compound with `compound init`, serves
// it on a loopback hub and reads each gate's lag with `compound lag`.
func TestCompoundCommands(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "lotus")
	var out, errs bytes.Buffer
	a := &app{stdout: &out, stderr: &errs}
	if code := a.run([]string{"compound", "init", "--dir", dir, "--id", "lotus", "--gates", "north,lobby"}); code != 0 {
		t.Fatalf("init: exit %d\n%s", code, errs.String())
	}
	for _, f := range []string{"compound.key", "office.nk", "north.nk", "lobby.nk"} {
		fi, err := os.Stat(filepath.Join(dir, f))
		if err != nil || fi.Mode().Perm() != 0o600 {
			t.Fatalf("%s: %v %v", f, fi.Mode(), err)
		}
	}
	acc, err := readAccess(dir)
	if err != nil || acc.Compound != "lotus" || len(acc.Gates) != 2 {
		t.Fatalf("access: %+v %v", acc, err)
	}
	hub, err := compound.StartHub(compound.HubConfig{Dir: filepath.Join(dir, "jetstream"), Compounds: []compound.Access{acc}})
	if err != nil {
		t.Fatal(err)
	}
	defer hub.Close()
	nc, err := compound.DialOffice(hub.URL(), "lotus", filepath.Join(dir, "office.nk"))
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := compound.Setup(ctx, nc, "lotus", []string{"lobby", "north"}); err != nil {
		t.Fatal(err)
	}
	out.Reset()
	if code := a.run([]string{"compound", "lag", "--dir", dir, "--url", hub.URL()}); code != 0 {
		t.Fatalf("lag: exit %d\n%s", code, errs.String())
	}
	for _, want := range []string{"gate", "lobby", "north", "never"} {
		if !strings.Contains(out.String(), want) {
			t.Fatalf("lag output lacks %q:\n%s", want, out.String())
		}
	}
	if code := a.run([]string{"compound", "init", "--dir", dir, "--id", "lotus", "--gates", "north"}); code == 0 {
		t.Fatal("init over an existing compound succeeded")
	}
}
