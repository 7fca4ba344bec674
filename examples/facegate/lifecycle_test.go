package main

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/facegate/facegate/facematch/probe"
	"github.com/facegate/facegate/internal/testenv"
)

// built is the facegate binary, built once for all the tests of a run.
var built struct {
	once sync.Once
	dir  string
	bin  string
	err  error
	out  []byte
}

// TestMain removes the binary buildCLI built.
func TestMain(m *testing.M) {
	code := m.Run()
	if built.dir != "" {
		os.RemoveAll(built.dir)
	}
	os.Exit(code)
}

// buildCLI builds the facegate binary into a temporary directory, once per
// test run, and returns its path.
func buildCLI(t *testing.T) string {
	t.Helper()
	built.once.Do(func() {
		built.dir, built.err = os.MkdirTemp("", "facegate-cli-")
		if built.err != nil {
			return
		}
		built.bin = filepath.Join(built.dir, "facegate")
		built.out, built.err = exec.Command("go", "build", "-o", built.bin, ".").CombinedOutput()
	})
	if built.err != nil {
		t.Fatalf("go build: %v\n%s", built.err, built.out)
	}
	return built.bin
}

// cli runs the built binary with a fixed store and key.
type cli struct {
	t   *testing.T
	bin string
	env []string
}

type result struct {
	code           int
	stdout, stderr string
}

func (c *cli) run(stdin []byte, args ...string) result {
	c.t.Helper()
	cmd := exec.Command(c.bin, args...)
	cmd.Env = append(os.Environ(), c.env...)
	if stdin != nil {
		cmd.Stdin = bytes.NewReader(stdin)
	}
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	r := result{stdout: out.String(), stderr: errb.String()}
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		r.code = ee.ExitCode()
	case err != nil:
		c.t.Fatalf("run %v: %v", args, err)
	}
	return r
}

// want runs a command and checks its exit code.
func (c *cli) want(code int, stdin []byte, args ...string) result {
	c.t.Helper()
	r := c.run(stdin, args...)
	if r.code != code {
		c.t.Fatalf("facegate %s: exit %d, want %d\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), r.code, code, r.stdout, r.stderr)
	}
	return r
}

// decode parses a command's --json output.
func decode(t *testing.T, r result, v any) {
	t.Helper()
	if err := json.Unmarshal([]byte(r.stdout), v); err != nil {
		t.Fatalf("output is not JSON: %v\n%s", err, r.stdout)
	}
}

// TestLifecycle drives the built CLI through a subject's whole life on the
// shared photos: init, consent, enroll (refused until a non-face way in
// exists), verify (accept and reject), identify, a card, admission by card
// without a face, withdrawal, verify failing, and an export with no
// template left.
func TestLifecycle(t *testing.T) {
	faces := testenv.Faces(t)
	models := testenv.Models(t, probe.Files(probe.DefaultBackend)...)
	bin := buildCLI(t)
	dir := t.TempDir()
	key := make([]byte, 32)
	for i := range key {
		key[i] = byte(i * 7)
	}
	c := &cli{t: t, bin: bin, env: []string{
		"FACEGATE_STORE=" + filepath.Join(dir, "gate.db"),
		"FACEGATE_KEY=" + hex.EncodeToString(key),
		"FACEGATE_MODELS=" + models,
		"FACEGATE_PASSPHRASE=",
	}}
	photo := func(id, name string) string { return filepath.Join(faces, id, name) }

	// Usage errors and help.
	c.want(2, nil)
	c.want(2, nil, "frobnicate")
	c.want(0, nil, "verify", "--help")
	c.want(2, nil, "verify", "--id", "obama") // no photo
	c.want(4, nil, "list")                    // no store yet

	c.want(0, nil, "init")
	c.want(4, nil, "init") // exists
	r := c.run(nil, "list")
	if r.code != 0 || !strings.Contains(r.stdout, "0 subjects") {
		t.Fatalf("list on a new store: %d %q", r.code, r.stdout)
	}

	// A wrong key is a store/key error.
	wrong := &cli{t: t, bin: bin, env: append(append([]string{}, c.env...), "FACEGATE_KEY="+strings.Repeat("ab", 32))}
	wrong.want(4, nil, "list")

	// Face enrollment needs face consent, and a card or PIN first.
	c.want(3, nil, "consent", "record", "--id", "obama", "--purpose", "entry", "--birth-year", "1961") // no --how
	c.want(0, nil, "consent", "record", "--id", "obama", "--purpose", "entry", "--how", "signed form", "--birth-year", "1961")
	r = c.want(3, nil, "enroll", "--json", "--id", "obama", photo("obama", "1.jpg"))
	var failure struct {
		Error, Hint string
		Exit        int
	}
	decode(t, r, &failure)
	if failure.Exit != 3 || !strings.Contains(failure.Error, "consent") || failure.Hint == "" {
		t.Fatalf("enroll without face consent: %+v", failure)
	}
	c.want(0, nil, "consent", "record", "--id", "obama", "--purpose", "face", "--how", "signed form", "--birth-year", "1961")
	r = c.want(3, nil, "enroll", "--id", "obama", photo("obama", "1.jpg"))
	if !strings.Contains(r.stderr, "card or PIN") {
		t.Fatalf("enroll without a non-face way in: stderr %q", r.stderr)
	}
	c.want(3, []byte("12\n"), "credential", "pin", "--id", "obama") // too short
	c.want(0, []byte("2580\n"), "credential", "pin", "--id", "obama")
	c.want(3, nil, "enroll", "--id", "obama", photo("../GROUPS.tsv", "")) // not a photo
	r = c.want(0, nil, "enroll", "--json", "--id", "obama", photo("obama", "1.jpg"))
	var enrolled struct{ Enrolled, Photos int }
	decode(t, r, &enrolled)
	if enrolled.Enrolled != 1 || enrolled.Photos != 1 {
		t.Fatalf("enroll: %+v", enrolled)
	}

	// A second subject, enrolled from standard input.
	c.want(0, nil, "consent", "record", "--id", "biden", "--purpose", "entry,face", "--how", "app", "--birth-year", "1942")
	c.want(0, nil, "credential", "card", "--id", "biden", "--uid", "0badcafe")
	photoBytes, err := os.ReadFile(photo("biden", "1.jpg"))
	if err != nil {
		t.Fatal(err)
	}
	c.want(0, photoBytes, "enroll", "--id", "biden", "-")

	// Verify: the same person is accepted, another one rejected.
	type verdict struct {
		Subject             string
		Match               bool
		Distance, Threshold float32
	}
	var v verdict
	decode(t, c.want(0, nil, "verify", "--json", "--id", "obama", photo("obama", "5.jpg")), &v)
	if !v.Match || v.Distance > v.Threshold {
		t.Fatalf("genuine verify: %+v", v)
	}
	decode(t, c.want(1, photoBytes, "verify", "--json", "--id", "obama", "-"), &v)
	if v.Match || v.Distance <= v.Threshold {
		t.Fatalf("impostor verify: %+v", v)
	}
	c.want(3, nil, "verify", "--id", "nobody", photo("obama", "5.jpg"))

	// Identify finds obama among the two.
	var id struct {
		Matches []struct {
			Subject  string
			Distance float32
		}
	}
	decode(t, c.want(0, nil, "identify", "--json", photo("obama", "6.jpg")), &id)
	if len(id.Matches) == 0 || id.Matches[0].Subject != "obama" {
		t.Fatalf("identify: %+v", id)
	}

	// A card, and admission by card alone; an unknown card is denied.
	c.want(0, nil, "credential", "card", "--id", "obama", "--uid", "04:a1:b2:c3")
	c.want(3, nil, "credential", "card", "--id", "obama", "--uid", "zz")
	type decision struct {
		Admit   bool
		Method  string
		Subject string
		Reason  string
	}
	var d decision
	decode(t, c.want(0, nil, "admit", "--json", "--card", "04a1b2c3"), &d)
	if !d.Admit || d.Method != "card" || d.Subject != "obama" {
		t.Fatalf("admit by card: %+v", d)
	}
	decode(t, c.want(1, nil, "admit", "--json", "--card", "deadbeef"), &d)
	if d.Admit {
		t.Fatalf("unknown card admitted: %+v", d)
	}
	// PIN with the subject ID typed; face+card policy refuses a card alone.
	decode(t, c.want(0, []byte("2580\n"), "admit", "--json", "--pin", "--id", "obama"), &d)
	if !d.Admit || d.Method != "pin" {
		t.Fatalf("admit by PIN: %+v", d)
	}
	decode(t, c.want(1, nil, "admit", "--json", "--policy", "face+card", "--card", "04a1b2c3"), &d)
	if d.Admit {
		t.Fatalf("card alone admitted under face+card: %+v", d)
	}
	// A still photo has no liveness verdict: the face does not count
	// unless the door's policy says so (--no-liveness).
	decode(t, c.want(1, nil, "admit", "--json", "--policy", "face+card", "--card", "04a1b2c3", "--photo", photo("obama", "5.jpg")), &d)
	if d.Admit || d.Reason != "liveness not checked" {
		t.Fatalf("face+card without liveness: %+v", d)
	}
	decode(t, c.want(0, nil, "admit", "--json", "--policy", "face+card", "--no-liveness", "--card", "04a1b2c3", "--photo", photo("obama", "5.jpg")), &d)
	if !d.Admit || d.Method != "face+card" {
		t.Fatalf("face+card: %+v", d)
	}
	// A one-time QR code opens once.
	var qr struct{ QR string }
	decode(t, c.want(0, nil, "credential", "qr", "--json", "--id", "biden"), &qr)
	c.want(0, nil, "admit", "--qr", qr.QR)
	c.want(1, nil, "admit", "--qr", qr.QR)

	// Renewing the template transform moves the stored templates to a new
	// key without re-capture: the face still verifies.
	c.want(0, nil, "rekey", "--transform")
	decode(t, c.want(0, nil, "verify", "--json", "--id", "obama", photo("obama", "5.jpg")), &v)
	if !v.Match {
		t.Fatalf("genuine verify after the transform re-key: %+v", v)
	}

	// Withdrawal: a verified receipt; face verification now fails; the
	// card still works; the export lists no template.
	var w struct {
		Receipt struct {
			Subject   string
			Templates int
		}
		MACVerified bool `json:"mac_verified"`
	}
	decode(t, c.want(0, nil, "consent", "withdraw", "--json", "--id", "obama", "--purpose", "face"), &w)
	if w.Receipt.Subject != "obama" || w.Receipt.Templates != 1 || !w.MACVerified {
		t.Fatalf("withdraw receipt: %+v", w)
	}
	decode(t, c.want(1, nil, "verify", "--json", "--id", "obama", photo("obama", "5.jpg")), &v)
	if v.Match {
		t.Fatalf("verify after withdrawal matched: %+v", v)
	}
	decode(t, c.want(1, nil, "identify", "--json", photo("obama", "5.jpg")), &id)
	if len(id.Matches) != 0 {
		t.Fatalf("identify after withdrawal: %+v", id)
	}
	decode(t, c.want(0, nil, "admit", "--json", "--card", "04a1b2c3"), &d)
	if !d.Admit {
		t.Fatalf("card after withdrawal: %+v", d)
	}
	c.want(3, nil, "enroll", "--id", "obama", photo("obama", "1.jpg")) // consent withdrawn

	r = c.want(0, nil, "export", "--id", "obama")
	var export struct {
		Subject       string
		FaceTemplates []json.RawMessage `json:"face_templates"`
		Card          *struct{ MAC string }
		AccessEvents  []struct{ Method string } `json:"access_events"`
	}
	decode(t, r, &export)
	if export.Subject != "obama" || len(export.FaceTemplates) != 0 || export.Card == nil || len(export.AccessEvents) == 0 {
		t.Fatalf("export after withdrawal: %s", r.stdout)
	}
	if strings.Contains(r.stdout, "04a1b2c3") || strings.Contains(r.stdout, "2580") {
		t.Fatalf("export holds the card UID or the PIN:\n%s", r.stdout)
	}

	// The list, the audit log, and erasure.
	var list []struct {
		Subject   string
		Templates int `json:"face_templates"`
	}
	decode(t, c.want(0, nil, "list", "--json"), &list)
	if len(list) != 2 || list[0].Subject != "biden" || list[0].Templates != 1 || list[1].Templates != 0 {
		t.Fatalf("list: %+v", list)
	}
	var events []struct {
		Admitted  bool
		Pseudonym string
	}
	decode(t, c.want(0, nil, "audit", "--json"), &events)
	if len(events) < 8 {
		t.Fatalf("audit: %d events, want every admit attempt", len(events))
	}
	for _, e := range events {
		if strings.Contains(e.Pseudonym, "obama") {
			t.Fatalf("audit event names a subject: %+v", e)
		}
	}
	c.want(0, nil, "delete", "--id", "biden")
	c.want(3, nil, "export", "--id", "biden")
	newKey := strings.Repeat("cd", 32)
	c.env = append(c.env, "FACEGATE_NEW_KEY="+newKey)
	c.want(0, nil, "rekey")
	c.want(4, nil, "list")
	c.env = append(c.env, "FACEGATE_KEY="+newKey)
	c.want(0, nil, "list")
}

// TestDemo runs `facegate demo --json` on a small copy of the shared set
// (symbolic links: two identities per group, one with a single photo) and
// checks the table and the per-group summary it reports.
func TestDemo(t *testing.T) {
	faces := testenv.Faces(t)
	models := testenv.Models(t, probe.Files(probe.DefaultBackend)...)
	bin := buildCLI(t)
	set := t.TempDir()
	ids := map[string]string{"obama": "other", "kate_siegel": "other", "tzuyu": "east-asian", "elkie": "east-asian"}
	tsv := "identity\tgroup\n"
	for _, id := range sortedKeys(ids) {
		tsv += id + "\t" + ids[id] + "\n"
		if err := os.Symlink(filepath.Join(faces, id), filepath.Join(set, id)); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(set, "GROUPS.tsv"), []byte(tsv), 0o644); err != nil {
		t.Fatal(err)
	}
	c := &cli{t: t, bin: bin, env: []string{"FACEGATE_MODELS=" + models, "FACEGATE_STORE=", "FACEGATE_KEY="}}
	r := c.want(0, nil, "demo", "--json", "--faces", set)
	var out struct {
		Rows []struct {
			Identity, Group     string
			Claim               string `json:"claimed_id"`
			Genuine             bool
			Distance, Threshold float32
			Accept, Correct     bool
			Note                string
		}
		Groups []struct {
			Group    string
			Enrolled int
		}
		Withdrawal struct {
			ReceiptVerified bool `json:"receipt_verified"`
			FaceAdmitted    bool `json:"face_admitted"`
			CardAdmitted    bool `json:"card_admitted"`
			TemplatesAfter  int  `json:"templates_after"`
		}
	}
	decode(t, r, &out)
	if len(out.Groups) != 2 || out.Groups[0].Group != "east-asian" || out.Groups[0].Enrolled+out.Groups[1].Enrolled != len(ids) {
		t.Fatalf("groups: %+v\n%s", out.Groups, r.stderr)
	}
	genuine, impostor := 0, 0
	for _, row := range out.Rows {
		if row.Note != "" {
			continue
		}
		if row.Accept != (row.Distance <= row.Threshold) || row.Correct != (row.Accept == row.Genuine) {
			t.Errorf("inconsistent row %+v", row)
		}
		if row.Genuine {
			genuine++
		} else {
			impostor++
			if ids[row.Claim] != row.Group {
				t.Errorf("impostor claim across groups: %+v", row)
			}
		}
	}
	// obama has 5 held-out photos and tzuyu 1, each claimed as themselves
	// and as the one other enrolled identity of their group.
	if genuine != 6 || impostor != 6 {
		t.Errorf("%d genuine and %d impostor rows, want 6 and 6", genuine, impostor)
	}
	w := out.Withdrawal
	if !w.ReceiptVerified || w.FaceAdmitted || !w.CardAdmitted || w.TemplatesAfter != 0 {
		t.Errorf("withdrawal: %+v", w)
	}
	if !strings.Contains(r.stderr, "Per-group summary") || !strings.Contains(r.stderr, "random 32-byte key") {
		t.Errorf("human report missing on stderr:\n%s", r.stderr)
	}
}
