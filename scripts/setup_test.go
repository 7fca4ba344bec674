// Package scripts_test tests the setup scripts of scripts/ by running them:
// a wrong or missing file must give one clear line naming it and the fix,
// with exit status 1, and a second run on a complete model directory must
// change nothing.
package scripts_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/facegate/facegate/internal/testenv"
)

// scriptTimeout bounds one run of a script: none of the runs here downloads
// or builds anything heavy.
const scriptTimeout = 2 * time.Minute

// The model files models.sh manages.
const (
	recognition = "dlib_face_recognition_resnet_model_v1.dat"
	landmarks   = "shape_predictor_5_face_landmarks.dat"
	mmod        = "mmod_human_face_detector.dat"
	// landmarksSrc is where models.sh copies the landmark model from.
	landmarksSrc = "/usr/share/dlib/shape_predictor_68_face_landmarks.dat"
)

// run runs the script with args under env (added to the environment without
// any FACEGATE_ variable) and returns its stderr and exit status; prefix,
// when set, is the command (and its arguments) the script runs under.
func run(t *testing.T, prefix []string, env []string, script string, args ...string) (stderr string, status int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), scriptTimeout)
	defer cancel()
	argv := append(append(append([]string(nil), prefix...), "bash", filepath.Join(testenv.Root(), "scripts", script)), args...)
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "FACEGATE_") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	cmd.Env = append(cmd.Env, env...)
	var errb bytes.Buffer
	cmd.Stdout = io.Discard
	cmd.Stderr = &errb
	err := cmd.Run()
	var exit *exec.ExitError
	switch {
	case err == nil:
		return errb.String(), 0
	case errors.As(err, &exit) && exit.ExitCode() >= 0:
		return errb.String(), exit.ExitCode()
	default:
		t.Fatalf("%s: %v\n%s", script, err, errb.String())
		return "", -1
	}
}

// lines returns the non-empty lines of s.
func lines(s string) []string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.TrimSpace(l) != "" {
			out = append(out, l)
		}
	}
	return out
}

// want returns the sha256 that scripts/models.sha256 lists for name.
func want(t *testing.T, name string) string {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(testenv.Root(), "scripts", "models.sha256"))
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range strings.Split(string(raw), "\n") {
		if f := strings.Fields(l); len(f) == 2 && f[1] == name {
			return f[0]
		}
	}
	t.Fatalf("scripts/models.sha256 lists no %s", name)
	return ""
}

func sum(t *testing.T, path string) string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// need skips the test (or fails it under FACEGATE_REQUIRE_MODELS=1) when
// path is missing.
func need(t *testing.T, path, fix string) {
	t.Helper()
	if _, err := os.Stat(path); err != nil {
		if testenv.Required() {
			t.Fatalf("missing %s (%s): %v", path, fix, err)
		}
		t.Skipf("skipped: missing %s (%s)", path, fix)
	}
}

// TestModelsBadFile runs models.sh on a scratch model directory whose
// recognition network is a symlink to the real one (so nothing is fetched or
// converted) and whose other files are wrong or missing, with
// FACEGATE_MMOD naming a missing or wrong detector. models.sh must repair
// what it can from local sources (the landmark model from libdlib-data),
// then stop with exit status 1 and exactly one line on stderr naming the
// detector file and the FACEGATE_MMOD fix, leaving no temporary file behind.
func TestModelsBadFile(t *testing.T) {
	rec := testenv.Model(t, recognition)
	wrongMMOD := filepath.Join(t.TempDir(), "wrong.dat")
	if err := os.WriteFile(wrongMMOD, []byte{0}, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		// landmarks is the landmark model's content: "" links the real
		// one, else the bytes written.
		landmarks  string
		mmodEnv    string
		wantInLine []string
	}{
		{
			name:       "corrupt landmarks, FACEGATE_MMOD missing",
			landmarks:  "x",
			mmodEnv:    "/nonexistent",
			wantInLine: []string{mmod, "FACEGATE_MMOD=/nonexistent is not a file", "point FACEGATE_MMOD at it"},
		},
		{
			name:       "FACEGATE_MMOD wrong",
			mmodEnv:    wrongMMOD,
			wantInLine: []string{mmod, "FACEGATE_MMOD=" + wrongMMOD, "want " + want(t, mmod)},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			if err := os.Symlink(rec, filepath.Join(dir, recognition)); err != nil {
				t.Fatal(err)
			}
			if tc.landmarks != "" {
				need(t, landmarksSrc, "install it with: sudo apt-get install libdlib-data")
				if err := os.WriteFile(filepath.Join(dir, landmarks), []byte(tc.landmarks), 0o644); err != nil {
					t.Fatal(err)
				}
			} else if err := os.Symlink(testenv.Model(t, landmarks), filepath.Join(dir, landmarks)); err != nil {
				t.Fatal(err)
			}
			stderr, status := run(t, nil, []string{
				"FACEGATE_MODELS=" + dir,
				"FACEGATE_BUILD=" + t.TempDir(),
				"FACEGATE_MMOD=" + tc.mmodEnv,
			}, "models.sh")
			if status != 1 {
				t.Errorf("exit status %d, want 1; stderr:\n%s", status, stderr)
			}
			ls := lines(stderr)
			if len(ls) != 1 {
				t.Fatalf("stderr has %d lines, want one:\n%s", len(ls), stderr)
			}
			for _, w := range tc.wantInLine {
				if !strings.Contains(ls[0], w) {
					t.Errorf("stderr line %q does not contain %q", ls[0], w)
				}
			}
			if got, w := sum(t, filepath.Join(dir, landmarks)), want(t, landmarks); got != w {
				t.Errorf("%s in the model directory has sha256 %s after the run, want %s", landmarks, got, w)
			}
			if _, err := os.Lstat(filepath.Join(dir, mmod)); !errors.Is(err, fs.ErrNotExist) {
				t.Errorf("%s was installed from a wrong or missing source (Lstat: %v)", mmod, err)
			}
			entries, err := os.ReadDir(dir)
			if err != nil {
				t.Fatal(err)
			}
			for _, e := range entries {
				if strings.HasPrefix(e.Name(), ".") {
					t.Errorf("temporary file %s left in the model directory", e.Name())
				}
			}
		})
	}
}

// fileState is what a run that changes nothing must leave as it was.
type fileState struct {
	size    int64
	modTime time.Time
	mode    fs.FileMode
}

// snapshot returns the state of every file and directory under dir.
func snapshot(t *testing.T, dir string) map[string]fileState {
	t.Helper()
	m := map[string]fileState{}
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, path)
		m[rel] = fileState{info.Size(), info.ModTime(), info.Mode()}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// TestModelsIdempotent runs models.sh twice on the real, complete model
// directory (testenv.ModelDir, with the real build cache): both runs must
// exit 0, print nothing to stderr, and leave every file of the directory
// (size, modification time, mode) as it was.
func TestModelsIdempotent(t *testing.T) {
	dir := testenv.Models(t, recognition, landmarks, mmod)
	env := []string{
		"FACEGATE_MODELS=" + dir,
		"FACEGATE_BUILD=" + filepath.Join(testenv.Root(), "build"),
	}
	before := snapshot(t, dir)
	for i := 1; i <= 2; i++ {
		stderr, status := run(t, nil, env, "models.sh")
		if status != 0 {
			t.Fatalf("run %d: exit status %d, want 0; stderr:\n%s", i, status, stderr)
		}
		if stderr != "" {
			t.Errorf("run %d on a complete model directory wrote to stderr:\n%s", i, stderr)
		}
		after := snapshot(t, dir)
		for name, b := range before {
			a, ok := after[name]
			switch {
			case !ok:
				t.Errorf("run %d removed %s", i, name)
			case !reflect.DeepEqual(a, b):
				t.Errorf("run %d changed %s: %+v, was %+v", i, name, a, b)
			}
		}
		for name := range after {
			if _, ok := before[name]; !ok {
				t.Errorf("run %d added %s", i, name)
			}
		}
	}
}

// unprivileged returns the command prefix that runs a script as the user
// nobody (uid and gid 65534), or nil when the test already runs as a
// non-root user. It skips the test when it runs as root and setpriv is
// absent.
func unprivileged(t *testing.T) []string {
	t.Helper()
	if os.Geteuid() != 0 {
		return nil
	}
	setpriv, err := exec.LookPath("setpriv")
	if err != nil {
		t.Skip("skipped: running as root and setpriv (util-linux) is not on PATH, so deps.sh cannot run as a non-root user")
	}
	return []string{setpriv, "--reuid=65534", "--regid=65534", "--clear-groups"}
}

// TestDepsNonRoot runs deps.sh as a non-root user. With every package
// present (this machine after `make setup`) it must exit 0 silently. With
// dpkg-query shimmed on PATH to report one package as not installed, it must
// exit 1 and name the package and the apt-get command that installs it; the
// shim is only ever used without root, where deps.sh installs nothing.
func TestDepsNonRoot(t *testing.T) {
	prefix := unprivileged(t)
	dpkgQuery, err := exec.LookPath("dpkg-query")
	if err != nil {
		t.Skip("skipped: dpkg-query not found: deps.sh supports Debian only")
	}

	t.Run("all present", func(t *testing.T) {
		stderr, status := run(t, prefix, nil, "deps.sh")
		if status != 0 {
			msg := "deps.sh as a non-root user: exit status %d; stderr:\n%s(run scripts/deps.sh as root: make setup)"
			if testenv.Required() {
				t.Fatalf(msg, status, stderr)
			}
			t.Skipf("skipped: "+msg, status, stderr)
		}
		if stderr != "" {
			t.Errorf("stderr is not empty with every package present:\n%s", stderr)
		}
	})

	t.Run("one missing", func(t *testing.T) {
		const pkg = "libjpeg-dev"
		// A directory nobody can read and enter, outside t.TempDir (0700).
		shim, err := os.MkdirTemp("", "facegate-deps-shim-")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { os.RemoveAll(shim) })
		if err := os.Chmod(shim, 0o755); err != nil {
			t.Fatal(err)
		}
		script := "#!/bin/sh\n# Reports " + pkg + " as not installed.\n" +
			"'" + dpkgQuery + "' \"$@\" | grep -v '^" + pkg + " '\n"
		if err := os.WriteFile(filepath.Join(shim, "dpkg-query"), []byte(script), 0o755); err != nil {
			t.Fatal(err)
		}
		stderr, status := run(t, prefix, []string{"PATH=" + shim + string(os.PathListSeparator) + os.Getenv("PATH")}, "deps.sh")
		if status != 1 {
			t.Errorf("exit status %d, want 1; stderr:\n%s", status, stderr)
		}
		fix := false
		for _, l := range lines(stderr) {
			if strings.Contains(l, "apt-get install") && strings.Contains(l, pkg) {
				fix = true
			}
		}
		if !strings.Contains(stderr, "missing Debian packages: "+pkg) || !fix {
			t.Errorf("stderr does not name %s and the apt-get install command:\n%s", pkg, stderr)
		}
	})
}

// TestFacepluginModelsRepair runs faceplugin-models.sh on a model directory
// where one network is damaged and one missing, with the pinned npm tarball
// already in the build cache: it must restore both from the tarball (and
// only those two), and a second run must print nothing and change nothing.
func TestFacepluginModelsRepair(t *testing.T) {
	const tgz = "faceplugin-face-recognition-js-0.0.1.tgz"
	src := filepath.Join(testenv.Root(), "build", "npm", tgz)
	if d := os.Getenv("FACEGATE_BUILD"); d != "" {
		src = filepath.Join(d, "npm", tgz)
	}
	data, err := os.ReadFile(src)
	if err != nil {
		if testenv.Required() {
			t.Fatalf("the pinned tarball is not in the build cache (run `make setup`): %v", err)
		}
		t.Skipf("skipped: %v (run `make setup`)", err)
	}
	build := t.TempDir()
	if err := os.MkdirAll(filepath.Join(build, "npm"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(build, "npm", tgz), data, 0o644); err != nil {
		t.Fatal(err)
	}
	models := t.TempDir()
	files := []string{"fr_detect.onnx", "fr_landmark.onnx", "fr_feature.onnx", "fr_liveness.onnx", "fr_eye.onnx", "fr_pose.onnx"}
	for _, f := range files[2:] {
		b, err := os.ReadFile(testenv.Model(t, f))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(models, f), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(models, files[0]), []byte("damaged"), 0o644); err != nil {
		t.Fatal(err)
	}
	kept := snapshot(t, models)
	env := []string{"FACEGATE_MODELS=" + models, "FACEGATE_BUILD=" + build}
	stderr, status := run(t, nil, env, "faceplugin-models.sh")
	if status != 0 {
		t.Fatalf("exit status %d, want 0; stderr:\n%s", status, stderr)
	}
	if got := lines(stderr); len(got) != 2 || !strings.Contains(got[0], files[0]) || !strings.Contains(got[1], files[1]) {
		t.Errorf("stderr %q, want one line each for %s and %s", got, files[0], files[1])
	}
	after := snapshot(t, models)
	for _, f := range files[2:] {
		if !reflect.DeepEqual(after[f], kept[f]) {
			t.Errorf("%s was rewritten though its checksum was right", f)
		}
	}
	for _, f := range files {
		want, _ := os.ReadFile(testenv.Model(t, f))
		got, _ := os.ReadFile(filepath.Join(models, f))
		if !bytes.Equal(got, want) {
			t.Errorf("%s differs from the pinned file after the repair", f)
		}
	}
	stderr, status = run(t, nil, env, "faceplugin-models.sh")
	if status != 0 || stderr != "" {
		t.Errorf("second run: exit status %d, stderr %q; want 0 and nothing", status, stderr)
	}
	if again := snapshot(t, models); !reflect.DeepEqual(again, after) {
		t.Error("second run changed the model directory")
	}
}
