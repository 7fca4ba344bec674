package dlibconv_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// FuzzConvertManifest feeds arbitrary weights manifests (next to the real
// weight file) to the converter: it must either succeed and write the output,
// or fail with exit status 1, one "dlibconv:" line and no output. A crash,
// another status or a hang is a bug.
func FuzzConvertManifest(f *testing.F) {
	src := filepath.Join(faceAPI(f), "model")
	conv := converter(f)
	manifest, err := os.ReadFile(filepath.Join(src, "face_recognition_model-weights_manifest.json"))
	if err != nil {
		f.Fatal(err)
	}
	bin, err := os.ReadFile(filepath.Join(src, "face_recognition_model.bin"))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(manifest)
	f.Add(manifest[:len(manifest)/2])
	f.Add([]byte(`[{"paths":["face_recognition_model.bin"],"weights":[{"name":"x/filters","shape":[7,7,3,32],"dtype":"float32","quantization":{"dtype":"uint8","scale":1e308,"min":-1e308}}]}]`))
	f.Add([]byte(`[{"paths":[],"weights":[{"name":"a","shape":[-1],"dtype":"float32"}]}]`))
	f.Add([]byte(strings.Repeat("[", 100)))
	f.Add([]byte(`[{"paths":["face_recognition_model.bin"],"weights":[{"name":"x/filters","shape":[100000,100000,100000],"dtype":"float32"}]}]`))

	dir := f.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "face_recognition_model.bin"), bin, 0o644); err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, m []byte) {
		mpath := filepath.Join(dir, "m.json")
		out := filepath.Join(dir, "out.dat")
		os.Remove(out)
		if err := os.WriteFile(mpath, m, 0o644); err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, conv, "convert", mpath, out)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		err := cmd.Run()
		if err == nil {
			if _, err := os.Stat(out); err != nil {
				t.Fatalf("converter succeeded without output: %v", err)
			}
			return
		}
		var ee *exec.ExitError
		if !errors.As(err, &ee) || ee.ExitCode() != 1 {
			t.Fatalf("converter: %v, want exit status 0 or 1; stderr: %s", err, stderr.String())
		}
		msg := strings.TrimSpace(stderr.String())
		if strings.Contains(msg, "\n") || !strings.HasPrefix(msg, "dlibconv: ") {
			t.Fatalf("stderr %q, want one line starting with \"dlibconv: \"", msg)
		}
		if _, err := os.Stat(out); !os.IsNotExist(err) {
			t.Fatalf("output file exists after a failed conversion (stat: %v)", err)
		}
	})
}
