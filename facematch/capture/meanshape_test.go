package capture

import (
	"fmt"
	"math"
	"os"
	"strings"
	"testing"

	"github.com/facegate/facegate/facematch"
)

// TestPrintMeanShape prints the mean of the shared photos' landmarks, each
// set first aligned (similarity) so that its eye centres sit at (280, 200)
// and (360, 200): the synth.MeanFace literal. Only with FACEGATE_MEASURE=1.
func TestPrintMeanShape(t *testing.T) {
	if os.Getenv("FACEGATE_MEASURE") != "1" {
		t.Skip("measurement run only (FACEGATE_MEASURE=1)")
	}
	e := extractor(t)
	var sum [68][2]float64
	n := 0
	for _, p := range photos(t) {
		m := loadFrame(t, p.path)
		f, err := facematch.One(extract(t, e, m))
		wipeMat(&m)
		if err != nil {
			t.Fatal(err)
		}
		var lx, ly, rx, ry float64
		for i := 36; i < 42; i++ {
			lx += float64(f.Landmarks[i].X) / 6
			ly += float64(f.Landmarks[i].Y) / 6
			rx += float64(f.Landmarks[i+6].X) / 6
			ry += float64(f.Landmarks[i+6].Y) / 6
		}
		// Similarity taking (lx,ly)->(280,200), (rx,ry)->(360,200).
		dx, dy := rx-lx, ry-ly
		s := 80 / math.Hypot(dx, dy)
		a := -math.Atan2(dy, dx)
		c, sn := s*math.Cos(a), s*math.Sin(a)
		for i, q := range f.Landmarks {
			x, y := float64(q.X)-lx, float64(q.Y)-ly
			sum[i][0] += 280 + c*x - sn*y
			sum[i][1] += 200 + sn*x + c*y
		}
		n++
	}
	var b strings.Builder
	for i := range sum {
		fmt.Fprintf(&b, "{%d, %d}, ", int(math.Round(sum[i][0]/float64(n))), int(math.Round(sum[i][1]/float64(n))))
		if i%8 == 7 {
			b.WriteString("\n")
		}
	}
	t.Logf("mean of %d faces:\n%s", n, b.String())
}
