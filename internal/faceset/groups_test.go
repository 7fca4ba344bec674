package faceset

import (
	"errors"
	"maps"
	"strings"
	"testing"
)

func TestParseGroups(t *testing.T) {
	good := []struct {
		in   string
		want map[string]string
	}{
		{"identity\tgroup\nann\teast-asian\nbob\tother\n", map[string]string{"ann": "east-asian", "bob": "other"}},
		{"ann\tx\r\n\n# comment\nbob\ty", map[string]string{"ann": "x", "bob": "y"}},
		{"", map[string]string{}},
		// Only the first line can be a header; later it is an ordinary row.
		{"x\ty\nidentity\tgroup", map[string]string{"x": "y", "identity": "group"}},
	}
	for _, tt := range good {
		got, err := ParseGroups(strings.NewReader(tt.in))
		if err != nil || !maps.Equal(got, tt.want) {
			t.Errorf("ParseGroups(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
		}
	}
	for _, in := range []string{
		"ann\n",            // one field
		"ann\tx\ty\n",      // three fields
		"ann\t\n",          // empty group
		"\tx\n",            // empty identity
		"ann\tx\nann\ty\n", // listed twice
	} {
		_, err := ParseGroups(strings.NewReader(in))
		if !errors.Is(err, ErrGroupsFile) {
			t.Errorf("ParseGroups(%q) error %v, want ErrGroupsFile", in, err)
		}
	}
}

func FuzzParseGroups(f *testing.F) {
	f.Add("identity\tgroup\nann\teast-asian\nbob\tother\n")
	f.Add("ann\tx\r\n\n# c\n")
	f.Fuzz(func(t *testing.T, in string) {
		m, err := ParseGroups(strings.NewReader(in))
		if err != nil {
			if !errors.Is(err, ErrGroupsFile) {
				t.Fatalf("error %v does not wrap ErrGroupsFile", err)
			}
			return
		}
		for id, g := range m {
			if id == "" || g == "" || strings.ContainsAny(id+g, "\t\n") {
				t.Fatalf("bad entry %q → %q", id, g)
			}
		}
	})
}
