package main

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/facegate/facegate/examples/internal/site"
	"github.com/facegate/facegate/facematch/probe"
	"github.com/facegate/facegate/facematch/quality"
	"github.com/facegate/facegate/gate"
	"github.com/facegate/facegate/internal/testenv"
	"github.com/facegate/facegate/store"
)

// setup builds the gate binary and a store in which "obama" is enrolled
// from obama/1.jpg with card 04a1b2c3 and PIN 2580, and returns the
// binary and the environment that opens the store.
func setup(t *testing.T) (bin string, env []string) {
	t.Helper()
	faces := testenv.Faces(t)
	models := testenv.Models(t, probe.Files(probe.DefaultBackend)...)
	dir := t.TempDir()
	bin = filepath.Join(dir, "gate")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	key := bytes.Repeat([]byte{0x5a}, 32)
	sec, err := store.RawKey(key)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "gate.db")
	if err := site.Create(path, sec, probe.DefaultBackend, store.DefaultKDFParams); err != nil {
		t.Fatal(err)
	}
	s, err := site.Open(site.Config{Store: path, Models: models, Faces: true, Workers: 1}, sec)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	c := gate.Consent{Purpose: gate.PurposeEntry, How: "test", BirthYear: 1961}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(s.Gate.Register("obama", c))
	must(s.Gate.SetCard("obama", []byte{0x04, 0xa1, 0xb2, 0xc3}))
	must(s.Gate.SetPIN("obama", "2580"))
	c.Purpose = gate.PurposeFace
	must(s.Gate.GiveConsent("obama", c))
	data, err := os.ReadFile(filepath.Join(faces, "obama", "1.jpg"))
	must(err)
	p, err := s.Probes(quality.Enrollment).Photo(data)
	must(err)
	_, err = s.Gate.EnrollFace("obama", p.Face.Descriptor, p.Score)
	must(err)
	return bin, []string{"FACEGATE_STORE=" + path, "FACEGATE_KEY=" + hex.EncodeToString(key), "FACEGATE_MODELS=" + models, "FACEGATE_PASSPHRASE="}
}

// frameDir makes a directory of symlinks to shared photos, in the order
// given (the gate reads a directory in name order).
func frameDir(t *testing.T, photos ...string) string {
	t.Helper()
	dir := t.TempDir()
	for i, p := range photos {
		if err := os.Symlink(p, filepath.Join(dir, fmt.Sprintf("%03d%s", i, filepath.Ext(p)))); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

type line struct {
	Admit    bool
	Method   string
	Subject  string
	Reason   string
	Source   string
	Distance *float32
	Liveness string
}

// runGate runs the binary and returns its decision lines.
func runGate(t *testing.T, bin string, env []string, stdin string, args ...string) []line {
	t.Helper()
	cmd := exec.Command(bin, append([]string{"--json", "--show-subject"}, args...)...)
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdin = strings.NewReader(stdin)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		t.Fatalf("gate %v: %v\nstderr:\n%s", args, err, errb.String())
	}
	var lines []line
	for _, s := range strings.Split(strings.TrimSpace(out.String()), "\n") {
		if s == "" {
			continue
		}
		var l line
		if err := json.Unmarshal([]byte(s), &l); err != nil {
			t.Fatalf("decision line %q: %v", s, err)
		}
		lines = append(lines, l)
	}
	t.Logf("gate %v:\n%s\nstderr:\n%s", args, out.String(), errb.String())
	return lines
}

// TestGateLoop runs the gate on an image directory — the enrolled person,
// someone else, a group photo, the enrolled person again — with scripted
// card and PIN lines, under both policies, and a still photo replayed as
// a sequence under the liveness check.
func TestGateLoop(t *testing.T) {
	bin, env := setup(t)
	faces := testenv.Faces(t)
	groupDir := testenv.Group(t)
	groups, _ := filepath.Glob(filepath.Join(groupDir, "*.jp*g"))
	photos := []string{filepath.Join(faces, "obama", "5.jpg"), filepath.Join(faces, "biden", "2.jpg")}
	if len(groups) > 0 {
		photos = append(photos, groups[0]) // several faces: no attempt
	}
	photos = append(photos, filepath.Join(faces, "obama", "6.jpg"))
	frames := frameDir(t, photos...)

	type want struct {
		admit   bool
		method  string
		subject string
		source  string // prefix
	}
	check := func(t *testing.T, got []line, wants []want) {
		t.Helper()
		if len(got) != len(wants) {
			t.Fatalf("%d decision lines, want %d: %+v", len(got), len(wants), got)
		}
		for i, w := range wants {
			g := got[i]
			if g.Admit != w.admit || g.Method != w.method || g.Subject != w.subject || !strings.HasPrefix(g.Source, w.source) {
				t.Errorf("line %d: %+v, want %+v", i, g, w)
			}
			if g.Admit && strings.Contains(g.Method, "face") && g.Distance == nil {
				t.Errorf("line %d: face admission without a distance", i)
			}
			// Lines run with --show-subject: no subject means no face matched.
			if !g.Admit && g.Subject == "" && g.Distance != nil {
				t.Errorf("line %d: unmatched face printed distance %v", i, *g.Distance)
			}
		}
	}
	last := len(photos) - 1

	t.Run("any", func(t *testing.T) {
		got := runGate(t, bin, env, "card 04a1b2c3\ncard deadbeef\npin 2580 id obama\nnonsense\n",
			"--dir", frames, "--liveness", "off", "--policy", "any")
		check(t, got, []want{
			{true, "card", "obama", "reader line 1"},
			{false, "card", "", "reader line 2"},
			{true, "pin", "obama", "reader line 3"},
			{true, "face", "obama", "frame 0"},
			{false, "face", "", "frame 1"},
			{true, "face", "obama", fmt.Sprintf("frame %d", last)},
		})
	})
	t.Run("face+card", func(t *testing.T) {
		got := runGate(t, bin, env, "card 04a1b2c3\ncard 04a1b2c3 pin 2580\n",
			"--dir", frames, "--liveness", "off", "--policy", "face+card")
		check(t, got, []want{
			{true, "card+pin", "obama", "reader line 2"},
			{true, "face+card", "obama", "frame 0 + reader line 1"},
			{false, "face", "", "frame 1"},
			{false, "face", "obama", fmt.Sprintf("frame %d", last)}, // the face alone is not enough here
		})
	})
	t.Run("qr", func(t *testing.T) {
		// A one-time code issued through the library, scanned twice, with
		// a forged variant between: only the first scan admits.
		code := issueQR(t, env, "obama")
		forged := []byte(code)
		forged[len(forged)/2] ^= 1
		if forged[len(forged)/2] == ' ' || forged[len(forged)/2] == '\n' {
			forged[len(forged)/2] ^= 3
		}
		got := runGate(t, bin, env, "qr "+code+"\nqr "+string(forged)+"\nqr "+code+"\n",
			"--dir", frameDir(t, filepath.Join(faces, "biden", "2.jpg")), "--liveness", "off", "--policy", "any")
		check(t, got, []want{
			{true, "qr", "obama", "reader line 1"},
			{false, "qr", "", "reader line 2"},
			{false, "qr", "", "reader line 3"},
			{false, "face", "", "frame 0"},
		})
		if len(got) == 4 && !strings.Contains(got[2].Reason, "already used") {
			t.Errorf("replayed code: reason %q, want it to say the code was already used", got[2].Reason)
		}
	})
	t.Run("writes-no-file", func(t *testing.T) {
		// Run from an empty working directory with an empty TMPDIR, and
		// check that nothing appears in either, in the frame directory or
		// beside the store (whose own file may change: it holds the log).
		work, tmp := t.TempDir(), t.TempDir()
		storeDir := filepath.Dir(strings.TrimPrefix(env[0], "FACEGATE_STORE="))
		before := listing(t, storeDir, frames, work, tmp)
		cmd := exec.Command(bin, "--dir", frames, "--liveness", "off")
		cmd.Env = append(os.Environ(), append(env, "TMPDIR="+tmp)...)
		cmd.Dir = work
		cmd.Stdin = strings.NewReader("card 04a1b2c3\n")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("gate: %v\n%s", err, out)
		}
		if after := listing(t, storeDir, frames, work, tmp); after != before {
			t.Fatalf("files changed:\nbefore:\n%s\nafter:\n%s", before, after)
		}
	})
	t.Run("usage", func(t *testing.T) {
		for _, args := range [][]string{{}, {"--dir", frames, "--camera", "0"}, {"--dir", frames, "--policy", "all"}, {"--dir", frames, "extra"}} {
			cmd := exec.Command(bin, args...)
			cmd.Env = append(os.Environ(), env...)
			err := cmd.Run()
			var ee *exec.ExitError
			if !errors.As(err, &ee) || ee.ExitCode() != 2 {
				t.Errorf("gate %v: %v, want exit 2", args, err)
			}
		}
		if err := exec.Command(bin, "--help").Run(); err != nil {
			t.Errorf("gate --help: %v", err)
		}
	})
	t.Run("still-photo-replay", func(t *testing.T) {
		var still []string
		for range 10 {
			still = append(still, filepath.Join(faces, "obama", "5.jpg"))
		}
		got := runGate(t, bin, env, "", "--dir", frameDir(t, still...), "--liveness", "motion", "--frames", "10")
		if len(got) != 1 || got[0].Admit || got[0].Reason != "liveness check failed" || !strings.HasPrefix(got[0].Liveness, "motion not-live: motion ") {
			t.Fatalf("a still photo replayed as 10 frames: %+v, want one liveness denial", got)
		}
	})
}

// issueQR opens the store named by env and issues a one-time QR code for
// subject, as `facegate credential qr` does.
func issueQR(t *testing.T, env []string, subject string) string {
	t.Helper()
	var storePath, models string
	var key []byte
	for _, e := range env {
		k, v, _ := strings.Cut(e, "=")
		switch k {
		case "FACEGATE_STORE":
			storePath = v
		case "FACEGATE_MODELS":
			models = v
		case "FACEGATE_KEY":
			var err error
			if key, err = hex.DecodeString(v); err != nil {
				t.Fatal(err)
			}
		}
	}
	sec, err := store.RawKey(key)
	if err != nil {
		t.Fatal(err)
	}
	s, err := site.Open(site.Config{Store: storePath, Models: models}, sec)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	code, _, err := s.Gate.IssueQR(subject)
	if err != nil {
		t.Fatal(err)
	}
	return code
}

// listing names every file under dirs (the store file itself excepted).
func listing(t *testing.T, dirs ...string) string {
	t.Helper()
	var b strings.Builder
	for _, d := range dirs {
		err := filepath.Walk(d, func(p string, info os.FileInfo, err error) error {
			if err != nil {
				return err
			}
			if filepath.Base(p) != "gate.db" {
				fmt.Fprintf(&b, "%s %v %d\n", p, info.Mode(), info.Size())
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	return b.String()
}
