package main

import (
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/facegate/facegate/facematch/probe"
	"github.com/facegate/facegate/internal/testenv"
)

// TestHelp runs --help (and -h) on every command of the built binary, and
// on each action of the commands that take one: each exits 0, runs nothing
// (no store is given) and prints the command's usage.
func TestHelp(t *testing.T) {
	bin := buildCLI(t)
	// No store, key or models: a command that ran instead of printing its
	// help would fail with exit 2 or 4.
	c := &cli{t: t, bin: bin, env: []string{"FACEGATE_STORE=", "FACEGATE_KEY=", "FACEGATE_PASSPHRASE=", "FACEGATE_MODELS="}}
	actions := map[string][]string{
		"consent":    {"record", "show", "withdraw"},
		"credential": {"card", "pin", "qr", "remove"},
	}
	type tc struct {
		args []string
		want string
	}
	var cases []tc
	for _, cmd := range commands {
		want := "Usage: facegate " + cmd.name
		cases = append(cases, tc{[]string{cmd.name, "--help"}, want}, tc{[]string{cmd.name, "-h"}, want})
		for _, act := range actions[cmd.name] {
			cases = append(cases, tc{[]string{cmd.name, act, "--help"}, want})
		}
	}
	if len(cases) < 2*len(commands) || len(commands) < 13 {
		t.Fatalf("only %d commands listed", len(commands))
	}
	for _, tc := range cases {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			c.t = t
			r := c.want(0, nil, tc.args...)
			out := r.stdout + r.stderr
			if !strings.Contains(out, tc.want) || !strings.Contains(out, "-json") {
				t.Errorf("help lacks %q or the --json flag:\nstdout:\n%s\nstderr:\n%s", tc.want, r.stdout, r.stderr)
			}
		})
	}
	// The top-level help lists every command.
	c.t = t
	r := c.want(0, nil, "--help")
	for _, cmd := range commands {
		if !strings.Contains(r.stderr, "  "+cmd.name+" ") {
			t.Errorf("facegate --help does not list %s:\n%s", cmd.name, r.stderr)
		}
	}
}

// TestEnrollDirectory enrolls a directory of subject directories built from
// symbolic links (one subject a linked directory, the other a real
// directory of linked photos, one per group) with --json, and checks that
// the JSON output (which a progress bar must not interleave with) reports
// every photo enrolled for both subjects.
func TestEnrollDirectory(t *testing.T) {
	c, root, want := enrollSetup(t)
	r := c.want(0, nil, "enroll", "--json", root)
	var out struct {
		Enrolled, Photos int
		Results          []struct {
			Subject, Photo, Template, Error string
		}
	}
	decode(t, r, &out)
	got := map[string]int{}
	for _, res := range out.Results {
		if res.Error != "" || res.Template == "" {
			t.Errorf("%s %s: not enrolled: %q", res.Subject, res.Photo, res.Error)
			continue
		}
		got[res.Subject]++
	}
	total := want["rose_leslie"] + want["tzuyu"]
	if out.Enrolled != total || out.Photos != total || len(got) != 2 || got["rose_leslie"] != want["rose_leslie"] || got["tzuyu"] != want["tzuyu"] {
		t.Fatalf("enrolled %d of %d photos, per subject %v; want %v\n%s", out.Enrolled, out.Photos, got, want, r.stdout)
	}
	if strings.Contains(r.stdout, "enrolling") || strings.Contains(r.stderr, "enrolling") {
		t.Errorf("a progress bar was drawn with --json:\nstdout:\n%s\nstderr:\n%s", r.stdout, r.stderr)
	}

	// Both subjects now hold one face template per photo.
	r = c.want(0, nil, "list", "--json")
	var rows []listEntry
	decode(t, r, &rows)
	listed := map[string]int{}
	for _, e := range rows {
		listed[e.Subject] = e.Templates
	}
	if len(listed) != 2 || listed["rose_leslie"] != want["rose_leslie"] || listed["tzuyu"] != want["tzuyu"] {
		t.Errorf("list --json: templates per subject %v, want %v", listed, want)
	}
}

// enrollSetup builds the CLI, a new store, and a directory of two subject
// directories made of symbolic links to shared photos: rose_leslie (the subject
// directory is a link) and tzuyu (a real directory of linked photos), with
// a stray file and a dangling link beside them. Both subjects have consent
// and a PIN. It returns the CLI, the directory, and the number of photos
// per subject.
func enrollSetup(t *testing.T) (*cli, string, map[string]int) {
	t.Helper()
	faces := testenv.Faces(t)
	models := testenv.Models(t, probe.Files(probe.DefaultBackend)...)
	bin := buildCLI(t)
	dir := t.TempDir()
	c := &cli{t: t, bin: bin, env: []string{
		"FACEGATE_STORE=" + filepath.Join(dir, "gate.db"),
		"FACEGATE_KEY=" + hex.EncodeToString([]byte(strings.Repeat("k", 32))),
		"FACEGATE_MODELS=" + models,
		"FACEGATE_PASSPHRASE=",
	}}

	root := filepath.Join(dir, "subjects")
	if err := os.MkdirAll(filepath.Join(root, "tzuyu"), 0o755); err != nil {
		t.Fatal(err)
	}
	// rose_leslie: the subject directory itself is a link.
	if err := os.Symlink(filepath.Join(faces, "rose_leslie"), filepath.Join(root, "rose_leslie")); err != nil {
		t.Fatal(err)
	}
	// tzuyu: a real directory whose photos are links.
	photos, err := filepath.Glob(filepath.Join(faces, "tzuyu", "*.jpg"))
	if err != nil || len(photos) == 0 {
		t.Fatalf("no tzuyu photos: %v", err)
	}
	for _, p := range photos {
		if err := os.Symlink(p, filepath.Join(root, "tzuyu", filepath.Base(p))); err != nil {
			t.Fatal(err)
		}
	}
	// A stray file and a dangling link at the top are not subjects.
	if err := os.WriteFile(filepath.Join(root, "README.txt"), []byte("not a subject"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(dir, "missing"), filepath.Join(root, "ghost")); err != nil {
		t.Fatal(err)
	}
	rosePhotos, _ := filepath.Glob(filepath.Join(faces, "rose_leslie", "*.jpg"))
	want := map[string]int{"rose_leslie": len(rosePhotos), "tzuyu": len(photos)}

	c.want(0, nil, "init")
	for id := range want {
		c.want(0, nil, "consent", "record", "--id", id, "--purpose", "entry,face", "--how", "signed form", "--birth-year", "1990")
		c.want(0, []byte("2580\n"), "credential", "pin", "--id", id)
	}
	return c, root, want
}

// onTerminal runs the CLI under script(1), which gives it a pseudo-terminal
// for its standard output and error (merged), and returns what it wrote with
// the terminal's CR LF line ends made LF.
func (c *cli) onTerminal(args ...string) (string, int) {
	c.t.Helper()
	script, err := exec.LookPath("script")
	if err != nil {
		c.t.Skip("script(1) (util-linux) not installed: cannot give the CLI a terminal")
	}
	quoted := []string{shellQuote(c.bin)}
	for _, a := range args {
		quoted = append(quoted, shellQuote(a))
	}
	cmd := exec.Command(script, "-q", "-e", "-c", strings.Join(quoted, " "), "/dev/null")
	cmd.Env = append(os.Environ(), append(c.env, "SHELL=/bin/sh")...)
	out, err := cmd.Output()
	code := 0
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		code = ee.ExitCode()
	case err != nil:
		c.t.Fatalf("script %v: %v", args, err)
	}
	return strings.ReplaceAll(string(out), "\r\n", "\n"), code
}

func shellQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

// TestEnrollProgressOnTerminal enrolls the symbolic-link directory with the
// CLI's output on a terminal: with --json the output is only the JSON
// document (no progress bar drawn into it); without --json, the control,
// the progress bar is drawn.
func TestEnrollProgressOnTerminal(t *testing.T) {
	c, root, want := enrollSetup(t)
	total := want["rose_leslie"] + want["tzuyu"]

	out, code := c.onTerminal("enroll", "--json", root)
	var res struct{ Enrolled, Photos int }
	if err := json.Unmarshal([]byte(out), &res); err != nil || code != 0 {
		t.Fatalf("enroll --json on a terminal: exit %d, output is not one JSON document (%v):\n%q", code, err, out)
	}
	if res.Enrolled != total || res.Photos != total || strings.Contains(out, "enrolling") {
		t.Fatalf("enroll --json on a terminal: %+v, want %d of %d enrolled and no progress bar:\n%s", res, total, total, out)
	}

	// The control, on a new store (the first already holds these templates).
	c, root, _ = enrollSetup(t)
	out, code = c.onTerminal("enroll", root)
	if code != 0 || !strings.Contains(out, "enrolling") || !strings.Contains(out, fmt.Sprintf("%d of %d photos enrolled", total, total)) {
		t.Fatalf("enroll on a terminal: exit %d, want the progress bar and %d of %d enrolled:\n%q", code, total, total, out)
	}
}
