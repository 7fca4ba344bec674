package capture

import (
	"fmt"
	"math"
	"sort"
	"strings"
	"testing"

	"github.com/facegate/facegate/facematch"
	"github.com/facegate/facegate/facematch/quality"
)

// TestMeasureSharedFaces measures every quality metric on the shared photos
// (as 640×480 frames) and prints their distribution; these are the numbers
// the limits of quality.Enrollment and quality.Verification were set from
// (docs/capture.md). Every photo must pass the verification gate, whose
// limits were set outside this distribution; the stricter enrollment gate
// asks some of them (small faces at 640×480, strong turns) for a better
// capture, and the test reports which. It runs once per study backend:
// the landmarks (and so the pose) come from the backend's front end.
func TestMeasureSharedFaces(t *testing.T) {
	for _, b := range studyBackends {
		t.Run(b.name, func(t *testing.T) { measureSharedFaces(t, b.open(t)) })
	}
}

func measureSharedFaces(t *testing.T, e facematch.Extractor) {
	var iod, yaw, pitch, roll, sharp, mean, dark, bright, ears []float64
	var lines []string
	enrollRejected := 0
	perGroup := map[string]map[string][]float64{}
	add := func(g, metric string, v float64) {
		if perGroup[g] == nil {
			perGroup[g] = map[string][]float64{}
		}
		perGroup[g][metric] = append(perGroup[g][metric], v)
	}
	for _, p := range photos(t) {
		m := loadFrame(t, p.path)
		faces := extract(t, e, m)
		q, err := Measure(m, faces)
		wipeMat(&m)
		if err != nil {
			t.Fatalf("%s: %v", p.path, err)
		}
		if q.Faces != 1 {
			t.Errorf("%s: %d faces, want 1", p.path, q.Faces)
			continue
		}
		if l, r, err := quality.EyeAspectRatio(faces[0].Landmarks); err == nil {
			ears = append(ears, (l+r)/2)
		}
		add(p.group, "inter-ocular px", q.InterOcular)
		add(p.group, "sharpness", q.Sharpness)
		add(p.group, "mean grey", q.Brightness)
		add(p.group, "|yaw| deg", math.Abs(q.Pose.Yaw))
		add(p.group, "pitch deg", q.Pose.Pitch)
		add(p.group, "|roll| deg", math.Abs(q.Pose.Roll))
		iod = append(iod, q.InterOcular)
		yaw = append(yaw, math.Abs(q.Pose.Yaw))
		pitch = append(pitch, math.Abs(q.Pose.Pitch))
		roll = append(roll, math.Abs(q.Pose.Roll))
		sharp = append(sharp, q.Sharpness)
		mean = append(mean, q.Brightness)
		dark = append(dark, q.Dark)
		bright = append(bright, q.Bright)
		lines = append(lines, fmt.Sprintf("%-28s iod=%6.1f %v sharp=%7.1f mean=%5.1f dark=%.3f bright=%.3f",
			strings.TrimPrefix(p.path, testenvFacesPrefix(p.path)), q.InterOcular, q.Pose, q.Sharpness, q.Brightness, q.Dark, q.Bright))
		if err := quality.Verification.Check(q); err != nil {
			t.Errorf("%s fails Verification: %v (%+v)", p.path, err, q)
		}
		if err := quality.Enrollment.Check(q); err != nil {
			enrollRejected++
			t.Logf("%s: enrollment gate asks for a better capture: %v", p.path, err)
		}
	}
	for _, l := range lines {
		t.Log(l)
	}
	t.Logf("enrollment gate rejects %d of %d photos; verification gate rejects none", enrollRejected, len(iod))
	for _, d := range []struct {
		name string
		v    []float64
	}{{"inter-ocular px", iod}, {"|yaw| deg", yaw}, {"|pitch| deg", pitch}, {"|roll| deg", roll},
		{"sharpness", sharp}, {"mean grey", mean}, {"dark fraction", dark}, {"bright fraction", bright},
		{"eye-aspect ratio", ears}} {
		t.Logf("%-16s %s", d.name, summary(d.v))
	}
	for _, g := range []string{"east-asian", "other"} {
		for _, m := range []string{"inter-ocular px", "sharpness", "mean grey", "|yaw| deg", "pitch deg", "|roll| deg"} {
			t.Logf("%-10s %-16s %s", g, m, summary(perGroup[g][m]))
		}
	}
}

func testenvFacesPrefix(p string) string {
	i := strings.LastIndex(p, "/faces/")
	if i < 0 {
		return ""
	}
	return p[:i+len("/faces/")]
}

// summary formats min, p10, median, p90 and max of v.
func summary(v []float64) string {
	if len(v) == 0 {
		return "no values"
	}
	s := append([]float64(nil), v...)
	sort.Float64s(s)
	q := func(p float64) float64 { return s[int(p*float64(len(s)-1)+0.5)] }
	return fmt.Sprintf("n=%d min=%.3f p10=%.3f median=%.3f p90=%.3f max=%.3f", len(s), s[0], q(0.1), q(0.5), q(0.9), s[len(s)-1])
}
