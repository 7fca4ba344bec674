package template

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestWriteFuzzCorpus rewrites testdata/fuzz/FuzzDecode from badInputs when
// FACEGATE_WRITE_CORPUS=1, so the checked-in corpus matches the table.
func TestWriteFuzzCorpus(t *testing.T) {
	if os.Getenv("FACEGATE_WRITE_CORPUS") != "1" {
		t.Skip("set FACEGATE_WRITE_CORPUS=1 to rewrite testdata/fuzz/FuzzDecode")
	}
	dir := filepath.Join("testdata", "fuzz", "FuzzDecode")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for i, tc := range badInputs() {
		body := fmt.Sprintf("go test fuzz v1\n[]byte(%q)\n", tc.in)
		name := fmt.Sprintf("%02d-%s", i, strings.ReplaceAll(tc.name, " ", "-"))
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}
