package probe_test

import (
	"image"
	"os"
	"path/filepath"
	"testing"
	"time"

	"gocv.io/x/gocv"

	"github.com/facegate/facegate/facematch/antispoof"
	"github.com/facegate/facegate/facematch/capture"
	"github.com/facegate/facegate/facematch/eyestate"
	"github.com/facegate/facegate/facematch/probe"
	"github.com/facegate/facegate/facematch/quality"
	"github.com/facegate/facegate/internal/testenv"
)

// BenchmarkCheckCost times, on the same 640×480 frame in the same loop
// iteration, the default backend's probe (detection, 68 landmarks,
// quality, descriptor), every provisioned passive network of
// antispoof.Specs and the eye-state network (both eyes), and reports each
// step's ms/frame and its ratio to the probe ("x-probe"): the ratios are
// measured interleaved, so a loaded machine slows all steps alike. ns/op
// is the sum. bench/results/pad-cost.txt holds a run.
func BenchmarkCheckCost(b *testing.B) {
	models := testenv.Models(b, append(probe.Files(probe.DefaultBackend), eyestate.File)...)
	be, err := probe.Open(probe.DefaultBackend, models, 1)
	if err != nil {
		b.Fatal(err)
	}
	defer be.Close()
	var nets []*antispoof.Net
	for _, s := range antispoof.Specs {
		if _, err := os.Stat(filepath.Join(models, s.File)); err != nil {
			b.Logf("%s not provisioned: not timed", s.File)
			continue
		}
		n, err := antispoof.Open(models, s)
		if err != nil {
			b.Fatal(err)
		}
		defer n.Close()
		nets = append(nets, n)
	}
	eyes, err := eyestate.Open(models)
	if err != nil {
		b.Fatal(err)
	}
	defer eyes.Close()
	img := gocv.IMRead(filepath.Join(testenv.Faces(b), "obama", "4.jpg"), gocv.IMReadColor)
	if img.Empty() {
		b.Fatal("cannot read the photo")
	}
	defer img.Close()
	// scale to cover 640×480, crop the centre
	k := max(640/float64(img.Cols()), 480/float64(img.Rows()))
	big := gocv.NewMat()
	defer big.Close()
	gocv.Resize(img, &big, image.Pt(int(float64(img.Cols())*k+1), int(float64(img.Rows())*k+1)), 0, 0, gocv.InterpolationArea)
	x0, y0 := (big.Cols()-640)/2, (big.Rows()-480)/2
	roi := big.Region(image.Rect(x0, y0, x0+640, y0+480))
	frame := &capture.Frame{Mat: roi.Clone()}
	roi.Close()
	defer frame.Close()

	p := &probe.Pipeline{Backend: be, Quality: quality.Verification}
	pr, err := p.Frame(frame)
	if err != nil {
		b.Fatal(err)
	}
	times := make([]time.Duration, len(nets)+2) // probe, nets..., eyes
	b.ResetTimer()
	for range b.N {
		t := time.Now()
		pr, err = p.Frame(frame)
		if err != nil {
			b.Fatal(err)
		}
		times[0] += time.Since(t)
		for i, n := range nets {
			t = time.Now()
			if _, err := n.Score(frame.Mat, pr.Face.Box); err != nil {
				b.Fatal(err)
			}
			times[i+1] += time.Since(t)
		}
		t = time.Now()
		if _, err := eyes.Closed(frame.Mat, pr.Face.Landmarks); err != nil {
			b.Fatal(err)
		}
		times[len(times)-1] += time.Since(t)
	}
	ms := func(d time.Duration) float64 { return d.Seconds() * 1000 / float64(b.N) }
	b.ReportMetric(ms(times[0]), "probe-ms")
	for i, n := range nets {
		b.ReportMetric(ms(times[i+1]), n.Spec().Name+"-ms")
		b.ReportMetric(float64(times[i+1])/float64(times[0]), n.Spec().Name+"-x-probe")
	}
	b.ReportMetric(ms(times[len(times)-1]), "fr_eye-ms")
	b.ReportMetric(float64(times[len(times)-1])/float64(times[0]), "fr_eye-x-probe")
}
