// Package testenv locates what FaceGate's tests need outside the repository:
// the model directory built by `make setup` and the shared test photos that
// lie beside the checkout (../shared/testdata).
//
// When a resource is missing a test is skipped with a message naming the fix,
// unless FACEGATE_REQUIRE_MODELS=1 (set by `make test`), in which case it fails:
// CI must never pass by skipping.
package testenv

import (
	"os"
	"path/filepath"
	"runtime"
	"testing"
)

// Root returns the module's root directory.
func Root() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Clean(filepath.Join(filepath.Dir(file), "..", ".."))
}

// ModelDir returns $FACEGATE_MODELS, or the module's models/ directory.
func ModelDir() string {
	if d := os.Getenv("FACEGATE_MODELS"); d != "" {
		return d
	}
	return filepath.Join(Root(), "models")
}

// SharedDir returns $FACEGATE_SHARED, or ../shared beside the module root.
func SharedDir() string {
	if d := os.Getenv("FACEGATE_SHARED"); d != "" {
		return d
	}
	return filepath.Join(Root(), "..", "shared")
}

// Faces returns the labelled face set, ../shared/testdata/faces.
func Faces(t testing.TB) string {
	t.Helper()
	return need(t, filepath.Join(SharedDir(), "testdata", "faces"), "the shared test photos (../shared beside the checkout)")
}

// Group returns the multi-face photo directory, ../shared/testdata/group.
func Group(t testing.TB) string {
	t.Helper()
	return need(t, filepath.Join(SharedDir(), "testdata", "group"), "the shared test photos (../shared beside the checkout)")
}

// Pad returns the presentation-attack photo set, ../shared/testdata/pad.
func Pad(t testing.TB) string {
	t.Helper()
	return filepath.Dir(need(t, filepath.Join(SharedDir(), "testdata", "pad", "MANIFEST.tsv"), "the shared presentation-attack photos (../shared beside the checkout)"))
}

// Model returns the path of the named file in the model directory.
func Model(t testing.TB, name string) string {
	t.Helper()
	return need(t, filepath.Join(ModelDir(), name), "model "+name+" (run `make setup`)")
}

// Models returns the model directory after checking that every named file is in it.
func Models(t testing.TB, names ...string) string {
	t.Helper()
	for _, n := range names {
		Model(t, n)
	}
	return ModelDir()
}

// Required reports whether missing resources fail tests instead of skipping them.
func Required() bool { return os.Getenv("FACEGATE_REQUIRE_MODELS") == "1" }

func need(t testing.TB, path, what string) string {
	t.Helper()
	if _, err := os.Stat(path); err != nil {
		if Required() {
			t.Fatalf("missing %s: %v", what, err)
		}
		t.Skipf("skipped: missing %s at %s", what, path)
	}
	return path
}
