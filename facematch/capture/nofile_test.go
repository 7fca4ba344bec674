package capture

import (
	"io"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/facegate/facegate/facematch"
	"github.com/facegate/facegate/facematch/dlib"
	"github.com/facegate/facegate/facematch/quality"
	"github.com/facegate/facegate/internal/testenv"
	"github.com/facegate/facegate/store"
)

type fileState struct {
	size  int64
	mtime time.Time
}

// snapshot records name, size and modification time of every file under
// each root.
func snapshot(t *testing.T, roots ...string) map[string]fileState {
	t.Helper()
	s := map[string]fileState{}
	for _, root := range roots {
		err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			info, err := d.Info()
			if err != nil {
				return err
			}
			s[p] = fileState{info.Size(), info.ModTime()}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	return s
}

// watch starts inotify on dirs for creations, writes, moves and
// deletions; the returned function reports the events seen.
func watch(t *testing.T, dirs ...string) func() []string {
	t.Helper()
	fd, err := unix.InotifyInit1(unix.IN_NONBLOCK | unix.IN_CLOEXEC)
	if err != nil {
		t.Fatalf("inotify: %v", err)
	}
	t.Cleanup(func() { unix.Close(fd) })
	names := map[int]string{}
	for _, d := range dirs {
		wd, err := unix.InotifyAddWatch(fd, d, unix.IN_CREATE|unix.IN_MODIFY|unix.IN_CLOSE_WRITE|unix.IN_MOVED_TO|unix.IN_DELETE|unix.IN_ATTRIB)
		if err != nil {
			t.Fatalf("inotify watch %s: %v", d, err)
		}
		names[wd] = d
	}
	return func() []string {
		var out []string
		buf := make([]byte, 64<<10)
		for {
			n, err := unix.Read(fd, buf)
			if n <= 0 || err != nil {
				return out
			}
			for off := 0; off+unix.SizeofInotifyEvent <= n; {
				ev := (*unix.InotifyEvent)(unsafePointer(&buf[off]))
				name := ""
				if ev.Len > 0 {
					b := buf[off+unix.SizeofInotifyEvent : off+unix.SizeofInotifyEvent+int(ev.Len)]
					for i, c := range b {
						if c == 0 {
							b = b[:i]
							break
						}
					}
					name = string(b)
				}
				out = append(out, filepath.Join(names[int(ev.Wd)], name))
				off += unix.SizeofInotifyEvent + int(ev.Len)
			}
		}
	}
}

// TestNoFileWritten runs a whole enroll + verify cycle — frames from a
// directory Source, the dlib extractor, the quality gate, the template
// transform and the encrypted store — and proves that no file other than
// the store was created or written: (name, size, mtime) snapshots of the
// working directory, the temp directory and the model directory before and
// after, plus inotify on each of them during the cycle. The process's temp
// directory is pointed (TMPDIR) at a fresh directory so that other
// processes' files in /tmp do not blur the picture.
func TestNoFileWritten(t *testing.T) {
	models := testenv.Models(t, dlib.ModelFiles...)
	faces := testenv.Faces(t)
	base := t.TempDir()
	tmp := filepath.Join(base, "tmp")
	storeDir := filepath.Join(base, "store")
	for _, d := range []string{tmp, storeDir} {
		if err := os.Mkdir(d, 0o700); err != nil {
			t.Fatal(err)
		}
	}
	t.Setenv("TMPDIR", tmp)
	if os.TempDir() != tmp {
		t.Fatalf("os.TempDir() = %s, want %s", os.TempDir(), tmp)
	}
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	storePath := filepath.Join(storeDir, "gate.db")
	before := snapshot(t, wd, tmp, models, storeDir)
	events := watch(t, wd, tmp, models, storeDir)

	// --- the cycle ---
	e, err := dlib.Open(models, dlib.Config{Workers: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	s, err := store.Create(storePath, store.Passphrase([]byte("test passphrase")), &store.Options{KDF: store.KDFParams{Time: 1, MemoryKiB: 64, Threads: 1}})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	tr, err := s.Transform(e.Model().ID, e.Model().Dim)
	if err != nil {
		t.Fatal(err)
	}
	src, err := OpenDir(filepath.Join(faces, "obama"))
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	enrolled, verified, rejected := 0, 0, 0
	for {
		f, err := src.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		frame := fit(f.Mat, FrameW, FrameH) // closes (and wipes) f.Mat
		f.Mat = frame
		img, err := Image(f.Mat)
		if err != nil {
			t.Fatal(err)
		}
		found, err := e.ExtractImage(img)
		Wipe(img)
		if err != nil {
			t.Fatal(err)
		}
		q, err := Measure(f.Mat, found)
		f.Close()
		if err != nil {
			t.Fatal(err)
		}
		gate := quality.Verification
		if enrolled == 0 {
			gate = quality.Enrollment
		}
		if err := gate.Check(q); err != nil {
			rejected++
			t.Logf("frame %d rejected: %v", f.Index, err)
			continue
		}
		face, _ := facematch.One(found)
		if enrolled == 0 {
			tp, err := tr.Protect(face.Descriptor, float32(q.Sharpness), time.Now())
			if err != nil {
				t.Fatal(err)
			}
			if _, err := s.AddTemplate("resident/0001", tp); err != nil {
				t.Fatal(err)
			}
			enrolled++
			continue
		}
		probe, err := tr.Apply(face.Descriptor)
		if err != nil {
			t.Fatal(err)
		}
		ts, err := s.Templates("resident/0001")
		if err != nil || len(ts) != 1 {
			t.Fatalf("templates: %d, %v", len(ts), err)
		}
		var d float64
		pv := probe.Vector()
		for i, v := range ts[0].Template.Vector() {
			x := float64(v - pv[i])
			d += x * x
		}
		if math.Sqrt(d) <= float64(e.Model().Threshold) {
			verified++
		}
		probe.Wipe()
		clear(pv)
		clear(face.Descriptor)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	e.Close()
	// --- end of the cycle ---

	t.Logf("enrolled %d, verified %d, rejected by the gate %d", enrolled, verified, rejected)
	if enrolled != 1 || verified == 0 {
		t.Fatalf("the cycle did not run: enrolled %d, verified %d", enrolled, verified)
	}
	after := snapshot(t, wd, tmp, models, storeDir)
	for p, st := range after {
		if p == storePath {
			continue
		}
		if b, ok := before[p]; !ok {
			t.Errorf("file created: %s", p)
		} else if b != st && p != storeDir { // the store's directory changes because the store was created in it
			t.Errorf("file changed: %s (%v -> %v)", p, b, st)
		}
	}
	for p := range before {
		if _, ok := after[p]; !ok {
			t.Errorf("file removed: %s", p)
		}
	}
	if _, ok := after[storePath]; !ok {
		t.Error("the store file was not written")
	}
	for _, ev := range events() {
		if ev != storePath {
			t.Errorf("file event on %s", ev)
		}
	}
}

// TestNoFileWrittenDetects is the control of TestNoFileWritten: a temp
// file created and removed, and a file written in place, must both show.
func TestNoFileWrittenDetects(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("TMPDIR", dir)
	keep := filepath.Join(dir, "keep")
	if err := os.WriteFile(keep, []byte("a"), 0o600); err != nil {
		t.Fatal(err)
	}
	before := snapshot(t, dir)
	events := watch(t, dir)
	f, err := os.CreateTemp("", "frame-*.jpg")
	if err != nil {
		t.Fatal(err)
	}
	f.Close()
	os.Remove(f.Name())
	time.Sleep(10 * time.Millisecond) // a coarse-mtime file system still sees a new size below
	if err := os.WriteFile(keep, []byte("ab"), 0o600); err != nil {
		t.Fatal(err)
	}
	after := snapshot(t, dir)
	if after[keep] == before[keep] {
		t.Error("snapshot missed a rewritten file")
	}
	seen := map[string]bool{}
	for _, ev := range events() {
		seen[ev] = true
	}
	if !seen[f.Name()] || !seen[keep] {
		t.Errorf("inotify missed the temp file or the rewrite: %v", seen)
	}
}
