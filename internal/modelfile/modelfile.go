// Package modelfile checks a model file against its pinned sha256 before a
// backend hands it to a native loader (OpenCV, dlib), which would abort the
// process on a file it cannot parse.
package modelfile

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
)

// Check returns nil if the file at path has the hex sha256 want. A file
// that cannot be read gives an error wrapping the os error (fs.ErrNotExist
// for a missing one); a file with another checksum gives an error wrapping
// bad, the calling backend's own error for a wrong model file. Both errors
// name the file and say to run `make setup`.
func Check(path, want string, bad error) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("%w (run `make setup`)", err)
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	if got := hex.EncodeToString(h.Sum(nil)); got != want {
		return fmt.Errorf("%w: %s has sha256 %s, want %s (run `make setup`)", bad, path, got, want)
	}
	return nil
}
