package capture

import (
	"errors"
	"image"
	"image/color"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"gocv.io/x/gocv"

	"github.com/facegate/facegate/internal/testenv"
)

func TestDirSource(t *testing.T) {
	dir := filepath.Join(testenv.Faces(t), "obama")
	d, err := OpenDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var n int
	for {
		f, err := d.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if f.Index != n || f.Time != DefaultInterval*time.Duration(n) || f.Mat.Empty() || f.Mat.Channels() != 3 {
			t.Errorf("frame %d: index %d time %v empty %v", n, f.Index, f.Time, f.Mat.Empty())
		}
		f.Close()
		f.Close() // twice is fine
		if f.Mat.Ptr() != nil {
			t.Error("Close left the Mat")
		}
		n++
	}
	if n != len(d.Files()) || n == 0 {
		t.Errorf("read %d frames of %d files", n, len(d.Files()))
	}
	d.Close()
	if _, err := d.Next(); !errors.Is(err, ErrClosed) {
		t.Errorf("Next after Close: %v, want ErrClosed", err)
	}
}

func TestDirSourceErrors(t *testing.T) {
	empty := t.TempDir()
	if _, err := OpenDir(empty); !errors.Is(err, ErrOpen) {
		t.Errorf("empty dir: %v, want ErrOpen", err)
	}
	if _, err := OpenDir(filepath.Join(empty, "missing")); !errors.Is(err, ErrOpen) {
		t.Errorf("missing dir: %v, want ErrOpen", err)
	}
	bad := t.TempDir()
	if err := os.WriteFile(filepath.Join(bad, "a.jpg"), []byte("not a jpeg"), 0o600); err != nil {
		t.Fatal(err)
	}
	good := gocv.NewMatWithSizeFromScalar(gocv.NewScalar(10, 20, 30, 0), 4, 4, gocv.MatTypeCV8UC3)
	defer good.Close()
	if !gocv.IMWrite(filepath.Join(bad, "b.png"), good) {
		t.Fatal("cannot write test PNG")
	}
	d, err := OpenDir(bad)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := d.Next(); !errors.Is(err, ErrEmpty) {
		t.Errorf("undecodable image: %v, want ErrEmpty", err)
	}
	f, err := d.Next()
	if err != nil || f.Mat.Rows() != 4 {
		t.Fatalf("image after a bad one: %v", err)
	}
	f.Close()
	if _, err := d.Next(); err != io.EOF {
		t.Errorf("after the last: %v, want io.EOF", err)
	}
}

func TestVideoSource(t *testing.T) {
	path := filepath.Join(t.TempDir(), "v.avi")
	w, err := gocv.VideoWriterFile(path, "MJPG", 15, 64, 48, true)
	if err != nil {
		t.Skipf("OpenCV here cannot write MJPG/AVI: %v", err)
	}
	for i := 0; i < 5; i++ {
		m := gocv.NewMatWithSizeFromScalar(gocv.NewScalar(float64(40*i), 0, 0, 0), 48, 64, gocv.MatTypeCV8UC3)
		w.Write(m)
		m.Close()
	}
	w.Close()
	v, err := OpenVideo(path)
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close()
	var n int
	var last = time.Duration(-1)
	for {
		f, err := v.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if f.Mat.Cols() != 64 || f.Index != n || time.Duration(f.Time) <= last {
			t.Errorf("frame %d: %dx%d index %d time %v", n, f.Mat.Cols(), f.Mat.Rows(), f.Index, f.Time)
		}
		last = time.Duration(f.Time)
		f.Close()
		n++
	}
	if n != 5 {
		t.Errorf("read %d frames, want 5", n)
	}
	if _, err := OpenVideo(filepath.Join(t.TempDir(), "none.avi")); !errors.Is(err, ErrOpen) {
		t.Errorf("missing video: %v, want ErrOpen", err)
	}
	junk := filepath.Join(t.TempDir(), "junk.avi")
	os.WriteFile(junk, []byte("junk"), 0o600)
	if _, err := OpenVideo(junk); !errors.Is(err, ErrOpen) {
		t.Errorf("undecodable video: %v, want ErrOpen", err)
	}
}

func TestCameraMissing(t *testing.T) {
	for _, i := range []int{-1, 63} {
		if c, err := OpenCamera(i); !errors.Is(err, ErrOpen) {
			t.Errorf("camera %d: %v, want ErrOpen", i, err)
			if c != nil {
				c.Close()
			}
		}
	}
}

func TestImageAndWipe(t *testing.T) {
	m := gocv.NewMatWithSizeFromScalar(gocv.NewScalar(10, 20, 30, 0), 3, 4, gocv.MatTypeCV8UC3) // BGR
	defer m.Close()
	img, err := Image(m)
	if err != nil {
		t.Fatal(err)
	}
	if img.Bounds() != image.Rect(0, 0, 4, 3) || img.RGBAAt(2, 1) != (color.RGBA{30, 20, 10, 255}) {
		t.Errorf("Image: bounds %v pixel %v, want RGB (30,20,10)", img.Bounds(), img.RGBAAt(2, 1))
	}
	g := gocv.NewMatWithSizeFromScalar(gocv.NewScalar(77, 0, 0, 0), 2, 2, gocv.MatTypeCV8UC1)
	defer g.Close()
	gi, err := Image(g)
	if err != nil || gi.RGBAAt(1, 1) != (color.RGBA{77, 77, 77, 255}) {
		t.Errorf("grey Image: %v %v", gi.RGBAAt(1, 1), err)
	}
	if _, err := Image(gocv.NewMat()); !errors.Is(err, ErrEmpty) {
		t.Errorf("empty Mat: %v, want ErrEmpty", err)
	}
	if !Wipe(img) {
		t.Fatal("Wipe did not know *image.RGBA")
	}
	for _, b := range img.Pix {
		if b != 0 {
			t.Fatal("Wipe left a non-zero byte")
		}
	}
	if Wipe(image.NewUniform(color.Black)) {
		t.Error("Wipe claimed to wipe an *image.Uniform")
	}
}
