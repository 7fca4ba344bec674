package modelfile

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
)

func TestCheck(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "net.onnx")
	if err := os.WriteFile(path, []byte("abc"), 0o644); err != nil {
		t.Fatal(err)
	}
	const abc = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
	bad := errors.New("bad network file")
	tests := []struct {
		name, path, want string
		is               error
	}{
		{"right checksum", path, abc, nil},
		{"wrong checksum", path, "00" + abc[2:], bad},
		{"missing file", filepath.Join(dir, "none.onnx"), abc, fs.ErrNotExist},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := Check(tt.path, tt.want, bad)
			if tt.is == nil && err != nil || tt.is != nil && !errors.Is(err, tt.is) {
				t.Fatalf("Check = %v, want %v", err, tt.is)
			}
		})
	}
}
