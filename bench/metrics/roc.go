// Package metrics computes the verification figures of FaceGate's benchmark:
// ROC and DET curves, the equal error rate, the true accept rate at fixed false
// accept rates, distance histograms, and the seeded choice of impostor pairs.
//
// Scores are distances: smaller means more alike, and a pair is accepted at
// threshold t when its distance is at most t. Every function is pure Go and
// deterministic.
package metrics

import (
	"errors"
	"math"
	"slices"
)

var (
	// ErrNoGenuine is returned when a figure needs genuine scores and there are none.
	ErrNoGenuine = errors.New("metrics: no genuine scores")
	// ErrNoImpostor is returned when a figure needs impostor scores and there are none.
	ErrNoImpostor = errors.New("metrics: no impostor scores")
	// ErrNotFinite is returned when a score is NaN or infinite.
	ErrNotFinite = errors.New("metrics: score is NaN or infinite")
	// ErrTarget is returned for a false accept rate target outside (0, 1).
	ErrTarget = errors.New("metrics: false accept rate target outside (0, 1)")
)

// Point is one operating point of a verifier: accepting every pair whose
// distance is at most Threshold yields the listed rates and counts.
type Point struct {
	// Threshold is the distance threshold of the point.
	Threshold float64 `json:"threshold"`
	// FAR is the false accept rate: impostor pairs accepted / impostor pairs.
	FAR float64 `json:"far"`
	// TAR is the true accept rate: genuine pairs accepted / genuine pairs.
	// The false reject rate is 1 − TAR.
	TAR float64 `json:"tar"`
	// GenuineAccepted is the number of genuine pairs at or under Threshold.
	GenuineAccepted int `json:"genuine_accepted"`
	// ImpostorAccepted is the number of impostor pairs at or under Threshold.
	ImpostorAccepted int `json:"impostor_accepted"`
}

// FRR returns the false reject rate of p, 1 − TAR.
func (p Point) FRR() float64 { return 1 - p.TAR }

// Curve is a verifier's ROC: its operating points in increasing threshold
// order, from accepting nothing to accepting everything. A DET curve plots the
// same points as FRR against FAR.
type Curve struct {
	// Genuine and Impostor are the numbers of scores of each kind.
	Genuine  int `json:"genuine"`
	Impostor int `json:"impostor"`
	// Points holds one point per distinct score, preceded by a point that
	// accepts nothing (FAR = TAR = 0).
	Points []Point `json:"points"`
}

// ROC returns the operating points of the verifier whose genuine and impostor
// pair distances are given. Tied scores of both kinds enter at the same
// threshold, so the curve moves diagonally across a tie. The inputs are not
// modified.
func ROC(genuine, impostor []float32) (Curve, error) {
	if len(genuine) == 0 {
		return Curve{}, ErrNoGenuine
	}
	if len(impostor) == 0 {
		return Curve{}, ErrNoImpostor
	}
	g, err := sorted(genuine)
	if err != nil {
		return Curve{}, err
	}
	im, err := sorted(impostor)
	if err != nil {
		return Curve{}, err
	}
	c := Curve{Genuine: len(g), Impostor: len(im)}
	lowest := min(g[0], im[0])
	c.Points = append(c.Points, Point{Threshold: float64(math.Nextafter32(lowest, float32(math.Inf(-1))))})
	i, j := 0, 0
	for i < len(g) || j < len(im) {
		var t float32
		switch {
		case i == len(g):
			t = im[j]
		case j == len(im):
			t = g[i]
		default:
			t = min(g[i], im[j])
		}
		for i < len(g) && g[i] <= t {
			i++
		}
		for j < len(im) && im[j] <= t {
			j++
		}
		c.Points = append(c.Points, Point{
			Threshold:        float64(t),
			FAR:              float64(j) / float64(len(im)),
			TAR:              float64(i) / float64(len(g)),
			GenuineAccepted:  i,
			ImpostorAccepted: j,
		})
	}
	return c, nil
}

func sorted(s []float32) ([]float32, error) {
	out := slices.Clone(s)
	for _, v := range out {
		if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
			return nil, ErrNotFinite
		}
	}
	slices.Sort(out)
	return out, nil
}

// EER is the equal error rate of a curve: where the false accept rate and the
// false reject rate are equal.
type EER struct {
	// Rate is the equal error rate, linearly interpolated between the two
	// operating points whose FAR − FRR changes sign.
	Rate float64 `json:"rate"`
	// Threshold is the distance threshold interpolated the same way.
	Threshold float64 `json:"threshold"`
}

// EqualErrorRate returns the equal error rate of c. When FAR and FRR cross
// between two operating points (a, b) the rate and threshold are interpolated
// linearly along the segment from a to b, at the point where FAR = FRR.
func (c Curve) EqualErrorRate() (EER, error) {
	if c.Genuine == 0 {
		return EER{}, ErrNoGenuine
	}
	if c.Impostor == 0 {
		return EER{}, ErrNoImpostor
	}
	// d = FRR − FAR falls from 1 (accept nothing) to −1 (accept everything).
	prev := c.Points[0]
	for _, p := range c.Points[1:] {
		d0 := prev.FRR() - prev.FAR
		d1 := p.FRR() - p.FAR
		if d1 <= 0 {
			if d1 == 0 {
				return EER{Rate: p.FAR, Threshold: p.Threshold}, nil
			}
			a := d0 / (d0 - d1)
			return EER{
				Rate:      prev.FAR + a*(p.FAR-prev.FAR),
				Threshold: prev.Threshold + a*(p.Threshold-prev.Threshold),
			}, nil
		}
		prev = p
	}
	// Unreachable: the last point accepts everything (FRR 0, FAR 1).
	return EER{}, errors.New("metrics: curve does not end by accepting every pair")
}

// AtFAR is the best operating point whose false accept rate does not exceed a
// target.
type AtFAR struct {
	// Target is the requested false accept rate.
	Target float64 `json:"target"`
	// Point is the operating point with the highest threshold whose FAR is at
	// most Target. Its counts show how many pairs the figure rests on.
	Point
	// Genuine and Impostor are the numbers of pairs of each kind.
	Genuine  int `json:"genuine"`
	Impostor int `json:"impostor"`
	// MinImpostor is the number of impostor pairs the target needs to be
	// measurable at all: ⌈1/Target⌉, the count at which one false accept
	// equals the target.
	MinImpostor int `json:"min_impostor"`
	// Enough reports whether Impostor ≥ MinImpostor. When it is false the
	// figure is not a measurement of the target FAR and must be reported as
	// "not enough pairs".
	Enough bool `json:"enough"`
}

// TARAtFAR returns the operating point of c with the highest threshold whose
// false accept rate is at most target, for a target in (0, 1).
func (c Curve) TARAtFAR(target float64) (AtFAR, error) {
	if !(target > 0 && target < 1) {
		return AtFAR{}, ErrTarget
	}
	if c.Genuine == 0 {
		return AtFAR{}, ErrNoGenuine
	}
	if c.Impostor == 0 {
		return AtFAR{}, ErrNoImpostor
	}
	best := c.Points[0]
	for _, p := range c.Points {
		if p.FAR > target {
			break
		}
		best = p
	}
	need := MinImpostorPairs(target)
	return AtFAR{
		Target:      target,
		Point:       best,
		Genuine:     c.Genuine,
		Impostor:    c.Impostor,
		MinImpostor: need,
		Enough:      c.Impostor >= need,
	}, nil
}

// MinImpostorPairs returns ⌈1/far⌉, the number of impostor pairs below which a
// false accept rate of far cannot be observed: a single false accept among
// fewer pairs already exceeds it.
func MinImpostorPairs(far float64) int {
	// Round before the ceiling so that 1/0.0001 = 10000.000000000002 stays 10000.
	return int(math.Ceil(math.Round(1/far*1e6) / 1e6))
}

// Probit returns the standard normal quantile of p in (0, 1), the axis scale
// of a DET plot: √2 · erfinv(2p − 1). It returns ±Inf at 1 and 0.
func Probit(p float64) float64 {
	return math.Sqrt2 * math.Erfinv(2*p-1)
}

// Thin returns a copy of c with fewer points, for plots and JSON: it keeps the
// first and last point and every point whose TAR moved by at least 1/n, or
// whose FAR grew by at least a factor 10^(1/n) (any first non-zero FAR
// counts), since the last kept point: at most about n points plus n per decade
// of FAR.
func (c Curve) Thin(n int) Curve {
	if n < 1 || len(c.Points) <= 2*n {
		return c
	}
	out := Curve{Genuine: c.Genuine, Impostor: c.Impostor}
	step := 1 / float64(n)
	ratio := math.Pow(10, 1/float64(n))
	last := c.Points[0]
	out.Points = append(out.Points, last)
	for _, p := range c.Points[1 : len(c.Points)-1] {
		if p.TAR-last.TAR >= step || (p.FAR > 0 && (last.FAR == 0 || p.FAR >= last.FAR*ratio)) {
			out.Points = append(out.Points, p)
			last = p
		}
	}
	out.Points = append(out.Points, c.Points[len(c.Points)-1])
	return out
}

// At returns the operating point of c at a distance threshold t: the last
// point whose threshold is at most t (the accept-nothing point when t is
// below every score). Scores are float32, so t is compared after rounding to
// float32.
func (c Curve) At(t float64) Point {
	if len(c.Points) == 0 {
		return Point{Threshold: t}
	}
	t32 := float64(float32(t))
	i, _ := slices.BinarySearchFunc(c.Points, t32, func(p Point, t float64) int {
		if p.Threshold <= t {
			return -1
		}
		return 1
	})
	p := c.Points[max(i-1, 0)]
	p.Threshold = t
	return p
}
