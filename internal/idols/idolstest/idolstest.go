// Package idolstest gives tests go-face's reference descriptor file from the
// shared test data (../shared/testdata/dlib-reference/idols.json), skipping
// the test when it is missing unless FACEGATE_REQUIRE_MODELS=1, as
// internal/testenv does for the other shared resources.
package idolstest

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/facegate/facegate/internal/idols"
	"github.com/facegate/facegate/internal/testenv"
)

// Path returns the path of the shared idols.json after checking it exists.
func Path(t testing.TB) string {
	t.Helper()
	path := filepath.Join(testenv.SharedDir(), "testdata", "dlib-reference", "idols.json")
	if _, err := os.Stat(path); err != nil {
		if testenv.Required() {
			t.Fatalf("missing the shared reference descriptors: %v", err)
		}
		t.Skipf("skipped: missing the shared reference descriptors (../shared beside the checkout): %v", err)
	}
	return path
}

// Load reads the shared idols.json and checks that its descriptors have dim
// values each.
func Load(t testing.TB, dim int) *idols.Set {
	t.Helper()
	path := Path(t)
	s, err := idols.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if s.Dim() != dim {
		t.Fatalf("%s: descriptors of %d values, want %d", path, s.Dim(), dim)
	}
	return s
}
