package liveness

import (
	"image"
	"math"
)

// PlanarResidual returns the root-mean-square distance in pixels between
// the points b and the points a mapped by the plane homography that best
// takes a to b (a linear least-squares fit on Hartley-normalised points).
// Points of a flat object seen twice give a residual of about their
// detection noise; points of a 3D object that turned, or of a face that
// changed expression, give more. It returns NaN when a and b differ in
// length or have fewer than 5 points.
func PlanarResidual(a, b []image.Point) float64 {
	if len(a) != len(b) || len(a) < 5 {
		return math.NaN()
	}
	fa, fb := floats(a), floats(b)
	h, ok := fitHomography(fa, fb)
	if !ok {
		return math.NaN()
	}
	var sum float64
	for i, p := range fa {
		q := h.apply(p)
		dx, dy := q[0]-fb[i][0], q[1]-fb[i][1]
		sum += dx*dx + dy*dy
	}
	if math.IsNaN(sum) || math.IsInf(sum, 0) {
		return math.NaN()
	}
	return math.Sqrt(sum / float64(len(fa)))
}

func floats(p []image.Point) [][2]float64 {
	f := make([][2]float64, len(p))
	for i, q := range p {
		f[i] = [2]float64{float64(q.X), float64(q.Y)}
	}
	return f
}

// homography maps points through normalisation, a 3×3 matrix with h8 = 1
// and denormalisation.
type homography struct {
	h                [8]float64
	acx, acy, as     float64 // normalisation of the source
	bcx, bcy, bscale float64 // normalisation of the target
}

func (h homography) apply(p [2]float64) [2]float64 {
	x, y := (p[0]-h.acx)*h.as, (p[1]-h.acy)*h.as
	w := h.h[6]*x + h.h[7]*y + 1
	u := (h.h[0]*x + h.h[1]*y + h.h[2]) / w
	v := (h.h[3]*x + h.h[4]*y + h.h[5]) / w
	return [2]float64{u/h.bscale + h.bcx, v/h.bscale + h.bcy}
}

// fitHomography fits the homography taking a to b by linear least squares
// on Hartley-normalised points.
func fitHomography(a, b [][2]float64) (homography, bool) {
	var hm homography
	ax, ay, acx, acy, as := normalise(a)
	bx, by, bcx, bcy, bs := normalise(b)
	hm.acx, hm.acy, hm.as, hm.bcx, hm.bcy, hm.bscale = acx, acy, as, bcx, bcy, bs
	// Normal equations of the 8 unknowns h0..h7 (h8 = 1):
	// u = (h0 x + h1 y + h2) / (h6 x + h7 y + 1), v likewise with h3..h5.
	var ata [8][8]float64
	var atb [8]float64
	add := func(row [8]float64, rhs float64) {
		for i := 0; i < 8; i++ {
			if row[i] == 0 {
				continue
			}
			for j := 0; j < 8; j++ {
				ata[i][j] += row[i] * row[j]
			}
			atb[i] += row[i] * rhs
		}
	}
	for i := range a {
		x, y, u, v := ax[i], ay[i], bx[i], by[i]
		add([8]float64{x, y, 1, 0, 0, 0, -u * x, -u * y}, u)
		add([8]float64{0, 0, 0, x, y, 1, -v * x, -v * y}, v)
	}
	for i := 0; i < 8; i++ {
		ata[i][i] += 1e-9 // keeps collinear input solvable
	}
	h, ok := solve8(ata, atb)
	hm.h = h
	return hm, ok
}

// normalise moves p's centroid to the origin and scales it to a mean
// distance of √2 from it, returning the coordinates, the centroid and the
// scale.
func normalise(p [][2]float64) (xs, ys []float64, cx, cy, s float64) {
	n := float64(len(p))
	for _, q := range p {
		cx += q[0]
		cy += q[1]
	}
	cx, cy = cx/n, cy/n
	var d float64
	for _, q := range p {
		d += math.Hypot(q[0]-cx, q[1]-cy)
	}
	s = 1
	if d > 0 {
		s = math.Sqrt2 * n / d
	}
	xs, ys = make([]float64, len(p)), make([]float64, len(p))
	for i, q := range p {
		xs[i] = (q[0] - cx) * s
		ys[i] = (q[1] - cy) * s
	}
	return xs, ys, cx, cy, s
}

// solve8 solves a·x = b by Gaussian elimination with partial pivoting.
func solve8(a [8][8]float64, b [8]float64) ([8]float64, bool) {
	for c := 0; c < 8; c++ {
		p := c
		for r := c + 1; r < 8; r++ {
			if math.Abs(a[r][c]) > math.Abs(a[p][c]) {
				p = r
			}
		}
		if math.Abs(a[p][c]) < 1e-15 {
			return b, false
		}
		a[c], a[p] = a[p], a[c]
		b[c], b[p] = b[p], b[c]
		for r := c + 1; r < 8; r++ {
			f := a[r][c] / a[c][c]
			for k := c; k < 8; k++ {
				a[r][k] -= f * a[c][k]
			}
			b[r] -= f * b[c]
		}
	}
	var x [8]float64
	for r := 7; r >= 0; r-- {
		s := b[r]
		for k := r + 1; k < 8; k++ {
			s -= a[r][k] * x[k]
		}
		x[r] = s / a[r][r]
	}
	return x, true
}
