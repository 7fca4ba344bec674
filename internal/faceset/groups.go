// Package faceset reads the identity → group table (GROUPS.tsv) that labels
// a face photo set for per-group accuracy figures.
package faceset

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
)

// ErrGroupsFile is wrapped by the errors of ParseGroups.
var ErrGroupsFile = errors.New("faceset: bad groups file")

// ParseGroups reads a tab-separated identity → group table: one
// "identity<TAB>group" line per identity. A first line whose first field is
// "identity" is a header; blank lines and lines starting with # are ignored.
// A line without exactly two non-empty fields, or a second line for the same
// identity, gives an error wrapping ErrGroupsFile that names the line.
func ParseGroups(r io.Reader) (map[string]string, error) {
	out := map[string]string{}
	sc := bufio.NewScanner(r)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimRight(sc.Text(), "\r")
		if strings.TrimSpace(line) == "" || strings.HasPrefix(line, "#") {
			continue
		}
		f := strings.Split(line, "\t")
		if n == 1 && strings.EqualFold(strings.TrimSpace(f[0]), "identity") {
			continue
		}
		if len(f) != 2 {
			return nil, fmt.Errorf("%w: line %d has %d tab-separated fields, want 2 (identity, group)", ErrGroupsFile, n, len(f))
		}
		id, g := strings.TrimSpace(f[0]), strings.TrimSpace(f[1])
		if id == "" || g == "" {
			return nil, fmt.Errorf("%w: line %d has an empty identity or group", ErrGroupsFile, n)
		}
		if prev, ok := out[id]; ok {
			return nil, fmt.Errorf("%w: line %d: identity %q listed again (group %q, before %q)", ErrGroupsFile, n, id, g, prev)
		}
		out[id] = g
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrGroupsFile, err)
	}
	return out, nil
}

// ReadGroups is ParseGroups on the file at path. An unreadable file gives
// the os error; a malformed one an error wrapping ErrGroupsFile that names
// the file and the line.
func ReadGroups(path string) (map[string]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	g, err := ParseGroups(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return g, nil
}
