package capture

import (
	"image"
	"math"
	"os"
	"sort"
	"testing"

	"gocv.io/x/gocv"

	"github.com/facegate/facegate/facematch"
	"github.com/facegate/facegate/facematch/quality"
)

// degradation makes a worse frame from a good one, in memory.
type degradation struct {
	kind  string
	level float64
	apply func(src gocv.Mat, iod float64) gocv.Mat
}

func blurred(sigma float64) func(gocv.Mat, float64) gocv.Mat {
	return func(src gocv.Mat, _ float64) gocv.Mat {
		dst := gocv.NewMat()
		gocv.GaussianBlur(src, &dst, image.Pt(0, 0), sigma, sigma, gocv.BorderReplicate)
		return dst
	}
}

// scaled multiplies every pixel by gain (with saturation): gain < 1 is an
// underexposed frame, > 1 an overexposed one.
func scaled(gain float64) func(gocv.Mat, float64) gocv.Mat {
	return func(src gocv.Mat, _ float64) gocv.Mat {
		dst := gocv.NewMat()
		src.ConvertToWithParams(&dst, gocv.MatTypeCV8UC3, float32(gain), 0)
		return dst
	}
}

// shrunk downscales the frame so that the face's inter-ocular distance
// becomes target pixels.
func shrunk(target float64) func(gocv.Mat, float64) gocv.Mat {
	return func(src gocv.Mat, iod float64) gocv.Mat {
		s := target / iod
		dst := gocv.NewMat()
		gocv.Resize(src, &dst, image.Pt(int(float64(src.Cols())*s+0.5), int(float64(src.Rows())*s+0.5)), 0, 0, gocv.InterpolationArea)
		return dst
	}
}

func degradations() []degradation {
	var ds []degradation
	for _, t := range []float64{16, 20, 24, 28, 32, 40} {
		ds = append(ds, degradation{"inter-ocular px", t, shrunk(t)})
	}
	for _, s := range []float64{1, 1.5, 2, 3, 4} {
		ds = append(ds, degradation{"blur sigma", s, blurred(s)})
	}
	for _, g := range []float64{0.6, 0.4, 0.3, 0.2, 0.12} {
		ds = append(ds, degradation{"gain (dark)", g, scaled(g)})
	}
	for _, g := range []float64{1.4, 1.8, 2.2, 2.6} {
		ds = append(ds, degradation{"gain (bright)", g, scaled(g)})
	}
	return ds
}

// TestDegradationDrift degrades each shared photo in memory (smaller face,
// Gaussian blur, under- and overexposure), and for each level records the
// quality metric the gate sees and how far the descriptor moves from the
// clean frame's, in the backend's own distance (dlib L2, fr_feature
// cosine; the model's match threshold is logged). This table is where the
// gate's limits come from (docs/capture.md). It runs once per study
// backend, on every photo with FACEGATE_MEASURE=1 and on every fourth one
// otherwise.
func TestDegradationDrift(t *testing.T) {
	for _, b := range studyBackends {
		t.Run(b.name, func(t *testing.T) { degradationDrift(t, b.open(t)) })
	}
}

func degradationDrift(t *testing.T, e facematch.Extractor) {
	dist := e.Model().Metric.Distance
	t.Logf("%s: distance %v, match threshold %.3f", e.Model().ID, e.Model().Metric, e.Model().Threshold)
	ps := photos(t)
	step := 4
	if os.Getenv("FACEGATE_MEASURE") == "1" {
		step = 1
	}
	type cell struct {
		metric, clip, drift  []float64
		lost, enroll, verify int
		byGroup              map[string][]float64
	}
	ds := degradations()
	cells := make([]cell, len(ds))
	for pi := 0; pi < len(ps); pi += step {
		m := loadFrame(t, ps[pi].path)
		base, err := facematch.One(extract(t, e, m))
		if err != nil {
			wipeMat(&m)
			t.Fatalf("%s: %v", ps[pi].path, err)
		}
		q0, err := Measure(m, []facematch.Face{base})
		if err != nil {
			t.Fatal(err)
		}
		for di, d := range ds {
			if d.kind == "inter-ocular px" && d.level >= q0.InterOcular {
				continue
			}
			dm := d.apply(m, q0.InterOcular)
			faces := extract(t, e, dm)
			f, err := facematch.One(faces)
			if err != nil {
				cells[di].lost++
				wipeMat(&dm)
				continue
			}
			q, err := Measure(dm, faces)
			wipeMat(&dm)
			if err != nil {
				t.Fatal(err)
			}
			var metric, clip float64
			switch d.kind {
			case "inter-ocular px":
				metric = q.InterOcular
			case "blur sigma":
				metric = q.Sharpness
			case "gain (dark)":
				metric, clip = q.Brightness, q.Dark
			default:
				metric, clip = q.Brightness, q.Bright
			}
			if quality.Enrollment.Check(q) == nil {
				cells[di].enroll++
			}
			if quality.Verification.Check(q) == nil {
				cells[di].verify++
			}
			cells[di].metric = append(cells[di].metric, metric)
			cells[di].clip = append(cells[di].clip, clip)
			dr := float64(dist(base.Descriptor, f.Descriptor))
			cells[di].drift = append(cells[di].drift, dr)
			if cells[di].byGroup == nil {
				cells[di].byGroup = map[string][]float64{}
			}
			cells[di].byGroup[ps[pi].group] = append(cells[di].byGroup[ps[pi].group], dr)
		}
		wipeMat(&m)
	}
	t.Logf("| degradation | level | faces | lost | metric p50 | clipped p50 | drift p50 | drift p90 | drift max | p50 east-asian | p50 other | pass enroll | pass verify |")
	t.Logf("|---|---|---|---|---|---|---|---|---|---|---|---|---|")
	for i, d := range ds {
		c := cells[i]
		t.Logf("| %s | %.2f | %d | %d | %.1f | %.3f | %.3f | %.3f | %.3f | %.3f | %.3f | %d | %d |", d.kind, d.level, len(c.drift), c.lost,
			median(c.metric), median(c.clip), quantile(c.drift, 0.5), quantile(c.drift, 0.9), quantile(c.drift, 1),
			median(c.byGroup["east-asian"]), median(c.byGroup["other"]), c.enroll, c.verify)
	}
}

func median(v []float64) float64 { return quantile(v, 0.5) }

func quantile(v []float64, p float64) float64 {
	if len(v) == 0 {
		return math.NaN()
	}
	s := append([]float64(nil), v...)
	sort.Float64s(s)
	return s[int(p*float64(len(s)-1)+0.5)]
}
