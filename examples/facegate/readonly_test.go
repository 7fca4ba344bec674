package main

import (
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestReadOnlyStore makes the store file read-only (chmod 0400, as an
// auditor's copy would be): list, audit and export still work, and every
// command that writes fails with exit 4 and says the store is read-only,
// leaving the file as it was.
func TestReadOnlyStore(t *testing.T) {
	bin := buildCLI(t)
	dir := t.TempDir()
	path := filepath.Join(dir, "gate.db")
	key := make([]byte, 32)
	for i := range key {
		key[i] = byte(i*5 + 1)
	}
	c := &cli{t: t, bin: bin, env: []string{
		"FACEGATE_STORE=" + path,
		"FACEGATE_KEY=" + hex.EncodeToString(key),
		"FACEGATE_PASSPHRASE=",
	}}
	c.want(0, nil, "init")
	c.want(0, nil, "consent", "record", "--id", "flat-7", "--purpose", "entry", "--how", "signed form", "--birth-year", "1970")
	c.want(0, nil, "credential", "card", "--id", "flat-7", "--uid", "0badcafe")
	c.want(0, nil, "admit", "--card", "0badcafe")
	if err := os.Chmod(path, 0o400); err != nil {
		t.Fatal(err)
	}
	before, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}

	var rows []listEntry
	decode(t, c.want(0, nil, "list", "--json"), &rows)
	if len(rows) != 1 || rows[0].Subject != "flat-7" || !rows[0].Card {
		t.Errorf("list of a read-only store: %+v", rows)
	}
	if r := c.want(0, nil, "export", "--id", "flat-7"); !strings.Contains(r.stdout, "flat-7") {
		t.Errorf("export of a read-only store:\n%s", r.stdout)
	}
	var events []map[string]any
	decode(t, c.want(0, nil, "audit", "--json"), &events)
	if len(events) != 1 {
		t.Errorf("audit of a read-only store: %d events, want 1", len(events))
	}

	for _, args := range [][]string{
		{"credential", "card", "--id", "flat-7", "--uid", "0badf00d"},
		{"consent", "withdraw", "--id", "flat-7", "--purpose", "entry"},
		{"delete", "--id", "flat-7"},
	} {
		r := c.want(4, nil, args...)
		if !strings.Contains(r.stderr, "read-only") {
			t.Errorf("facegate %s on a read-only store: %s", strings.Join(args, " "), r.stderr)
		}
	}
	if after, _ := os.ReadFile(path); string(after) != string(before) {
		t.Error("a read-only store file changed")
	}
}
