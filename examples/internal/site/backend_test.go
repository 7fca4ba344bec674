package site

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/facegate/facegate/examples/internal/exitcode"
	"github.com/facegate/facegate/facematch/arcface"
	"github.com/facegate/facegate/facematch/dlib"
	"github.com/facegate/facegate/internal/testenv"
)

func TestModelFiles(t *testing.T) {
	if err := CheckBackend(DefaultBackend); err != nil {
		t.Fatalf("DefaultBackend %q is not a backend: %v", DefaultBackend, err)
	}
	for _, tc := range []struct {
		name string
		want []string // nil: an unknown backend
	}{
		{"dlib", dlib.ModelFiles},
		{"arcface-faceres", append(slices.Clone(dlib.ModelFiles), arcface.FaceRes.File)},
		{"arcface-mobileface", append(slices.Clone(dlib.ModelFiles), arcface.MobileFace.File)},
		{"arcface-faceres-deep", append(slices.Clone(dlib.ModelFiles), arcface.FaceResDeep.File)},
		{"arcface-nonesuch", nil},
		{"", nil},
	} {
		if got := ModelFiles(tc.name); !slices.Equal(got, tc.want) {
			t.Errorf("ModelFiles(%q) = %q, want %q", tc.name, got, tc.want)
		}
	}
	for _, name := range Backends() {
		if ModelFiles(name) == nil {
			t.Errorf("ModelFiles(%q) = nil for a listed backend", name)
		}
	}
}

// TestOpenDefaultBackend opens DefaultBackend from the model directory, and
// from a directory holding every file it needs but one, which must be a
// setup error.
func TestOpenDefaultBackend(t *testing.T) {
	files := ModelFiles(DefaultBackend)
	models := testenv.Models(t, files...)
	b, err := OpenBackend(DefaultBackend, models, 1)
	if err != nil {
		t.Fatal(err)
	}
	id := b.Model().ID
	b.Close()
	if want := strings.TrimPrefix(DefaultBackend, "arcface-"); DefaultBackend != "dlib" && !strings.HasPrefix(id, "arcface/"+want+"/") {
		t.Errorf("DefaultBackend %q opened model %q", DefaultBackend, id)
	}

	for _, missing := range files {
		dir := t.TempDir()
		for _, f := range files {
			if f == missing {
				continue
			}
			if err := os.Symlink(filepath.Join(models, f), filepath.Join(dir, f)); err != nil {
				t.Fatal(err)
			}
		}
		if b, err := OpenBackend(DefaultBackend, dir, 1); !errors.Is(err, exitcode.ErrSetup) {
			if err == nil {
				b.Close()
			}
			t.Errorf("%s missing: OpenBackend = %v, want a setup error", missing, err)
		}
	}
}
