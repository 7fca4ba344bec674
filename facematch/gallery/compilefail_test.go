package gallery

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"testing"
)

// TestRawDescriptorDoesNotCompile builds testdata/rawdescriptor, which hands
// raw descriptors ([]float32) to the gallery and to a template, and checks
// that the compiler refuses every such line with a type error: a raw
// descriptor cannot reach the matching engine or the store by mistake.
func TestRawDescriptorDoesNotCompile(t *testing.T) {
	src := filepath.Join("testdata", "rawdescriptor", "main.go")
	text, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	var want []int
	for i, line := range strings.Split(string(text), "\n") {
		if strings.HasSuffix(line, "// want") {
			want = append(want, i+1)
		}
	}
	if len(want) == 0 {
		t.Fatal("no line of testdata/rawdescriptor is marked // want")
	}
	gobin := filepath.Join(runtime.GOROOT(), "bin", "go")
	cmd := exec.Command(gobin, "build", "-o", os.DevNull, "./testdata/rawdescriptor")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err == nil {
		t.Fatalf("testdata/rawdescriptor compiled; it must not:\n%s", out.String())
	}
	got := map[int]string{}
	re := regexp.MustCompile(`main\.go:(\d+):\d+: (.*)`)
	for _, m := range re.FindAllStringSubmatch(out.String(), -1) {
		var n int
		for _, c := range m[1] {
			n = 10*n + int(c-'0')
		}
		got[n] = m[2]
	}
	for _, n := range want {
		msg, ok := got[n]
		if !ok {
			t.Errorf("line %d: no compile error; go build said:\n%s", n, out.String())
			continue
		}
		if !strings.Contains(msg, "cannot use") || !strings.Contains(msg, "[]float32") {
			t.Errorf("line %d: %s; want a type error about []float32", n, msg)
		}
	}
	if len(got) != len(want) {
		t.Errorf("%d errors for %d marked lines:\n%s", len(got), len(want), out.String())
	}
}
