package template

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

func secret(b byte) []byte {
	s := make([]byte, 32)
	for i := range s {
		s[i] = b + byte(i)
	}
	return s
}

func mustTransform(t testing.TB, sec []byte, model string, dim int) *Transform {
	t.Helper()
	tr, err := NewTransform(sec, model, dim)
	if err != nil {
		t.Fatal(err)
	}
	return tr
}

func randUnit(r *rand.Rand, dim int) []float32 {
	v := make([]float32, dim)
	var n float64
	for i := range v {
		x := r.NormFloat64()
		v[i] = float32(x)
		n += x * x
	}
	n = math.Sqrt(n)
	for i := range v {
		v[i] = float32(float64(v[i]) / n)
	}
	return v
}

func dist(a, b []float32) float64 {
	var s float64
	for i := range a {
		d := float64(a[i]) - float64(b[i])
		s += d * d
	}
	return math.Sqrt(s)
}

func cosine(a, b []float32) float64 {
	var ab, aa, bb float64
	for i := range a {
		ab += float64(a[i]) * float64(b[i])
		aa += float64(a[i]) * float64(a[i])
		bb += float64(b[i]) * float64(b[i])
	}
	return ab / math.Sqrt(aa*bb)
}

func TestTransformOrthonormal(t *testing.T) {
	for _, dim := range []int{1, 2, 64, 128} {
		tr := mustTransform(t, secret(1), "m", dim)
		var worst float64
		for i := 0; i < dim; i++ {
			for j := 0; j <= i; j++ {
				var dot float64
				for k := 0; k < dim; k++ {
					dot += tr.m[i*dim+k] * tr.m[j*dim+k]
				}
				if i == j {
					dot--
				}
				worst = max(worst, math.Abs(dot))
			}
		}
		if worst > 1e-12 {
			t.Errorf("dim %d: |M·Mᵀ − I| = %g", dim, worst)
		}
	}
}

func TestTransformPreservesDistances(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 7))
	for _, dim := range []int{128, 512} {
		tr := mustTransform(t, secret(2), "m", dim)
		var worstD, worstC, worstInv float64
		for i := 0; i < 200; i++ {
			// dlib-like scale: non-unit vectors with norm around 1.
			a, b := randUnit(r, dim), randUnit(r, dim)
			for k := range a {
				a[k] *= 1.3
			}
			ta := rotate(tr, a)
			tb := rotate(tr, b)
			worstD = max(worstD, math.Abs(dist(ta, tb)-dist(a, b)))
			worstC = max(worstC, math.Abs(cosine(ta, tb)-cosine(a, b)))
			back, _ := tr.invert(ta)
			worstInv = max(worstInv, dist(back, a))
		}
		t.Logf("dim %d: max |Δ euclidean| = %.2g, max |Δ cosine| = %.2g, max inversion error = %.2g", dim, worstD, worstC, worstInv)
		if worstD > 1e-5 || worstC > 1e-5 || worstInv > 1e-5 {
			t.Errorf("dim %d: distances not preserved within 1e-5", dim)
		}
	}
}

func TestTransformDeterministicAndKeyed(t *testing.T) {
	v := randUnit(rand.New(rand.NewPCG(1, 1)), 128)
	a := rotate(mustTransform(t, secret(3), "m", 128), v)
	b := rotate(mustTransform(t, secret(3), "m", 128), v)
	if !slices.Equal(a, b) {
		t.Fatal("same secret gives different transforms")
	}
	for name, tr := range map[string]*Transform{
		"other secret": mustTransform(t, secret(4), "m", 128),
		"other model":  mustTransform(t, secret(3), "m2", 128),
	} {
		c := rotate(tr, v)
		if cosine(a, c) > 0.5 {
			t.Errorf("%s: cosine %v to the original transform", name, cosine(a, c))
		}
	}
	if mustTransform(t, secret(3), "m", 128).ID() == mustTransform(t, secret(4), "m", 128).ID() {
		t.Error("different secrets share a transform ID")
	}
}

func TestTransformErrors(t *testing.T) {
	if _, err := NewTransform(make([]byte, MinSecretSize-1), "m", 8); !errors.Is(err, ErrSecret) {
		t.Errorf("short secret: %v", err)
	}
	if _, err := NewTransform(secret(1), "", 8); !errors.Is(err, ErrInvalid) {
		t.Errorf("empty model: %v", err)
	}
	for _, d := range []int{0, -1, MaxDim + 1} {
		if _, err := NewTransform(secret(1), "m", d); !errors.Is(err, ErrInvalid) {
			t.Errorf("dim %d: %v", d, err)
		}
	}
	tr := mustTransform(t, secret(1), "m", 8)
	if _, err := tr.Apply(make([]float32, 7)); !errors.Is(err, ErrDim) {
		t.Errorf("Apply short vector: %v", err)
	}
	if _, err := tr.Protect([]float32{1, 2, 3, 4, 5, 6, 7, float32(math.NaN())}, 1, time.Now()); !errors.Is(err, ErrInvalid) {
		t.Errorf("Protect NaN: %v", err)
	}
	if _, err := tr.Apply([]float32{1, 2, 3, 4, 5, 6, 7, float32(math.Inf(-1))}); !errors.Is(err, ErrInvalid) {
		t.Errorf("Apply -Inf: %v", err)
	}
	tr.Wipe()
	if _, err := tr.Apply(make([]float32, 8)); !errors.Is(err, ErrDim) {
		t.Errorf("Apply after Wipe: %v", err)
	}
}

// ksStat returns the two-sample Kolmogorov–Smirnov statistic D of a and b
// and the effective sample size n·m/(n+m).
func ksStat(a, b []float64) (d, ne float64) {
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	i, j := 0, 0
	for i < len(a) && j < len(b) {
		x := min(a[i], b[j])
		for i < len(a) && a[i] <= x {
			i++
		}
		for j < len(b) && b[j] <= x {
			j++
		}
		d = max(d, math.Abs(float64(i)/float64(len(a))-float64(j)/float64(len(b))))
	}
	return d, float64(len(a)) * float64(len(b)) / float64(len(a)+len(b))
}

// qks is the Kolmogorov distribution's survival function
// Q(λ) = 2 Σ (−1)^(k−1) exp(−2k²λ²).
func qks(lambda float64) float64 {
	if lambda < 0.2 {
		return 1
	}
	var p float64
	sign := 2.0
	for k := 1; k <= 100; k++ {
		term := sign * math.Exp(-2*float64(k*k)*lambda*lambda)
		p += term
		if math.Abs(term) < 1e-12 {
			break
		}
		sign = -sign
	}
	return max(0, min(1, p))
}

// ks returns the two-sample KS statistic and its asymptotic p-value with
// Stephens' small-sample correction (as in Numerical Recipes' kstwo).
func ks(a, b []float64) (d, p float64) {
	d, ne := ksStat(a, b)
	en := math.Sqrt(ne)
	return d, qks((en + 0.12 + 0.11/en) * d)
}

func TestKS(t *testing.T) {
	// Reference quantiles of the Kolmogorov distribution.
	for _, c := range []struct{ lambda, p float64 }{{0.8276, 0.50}, {1.2239, 0.10}, {1.3581, 0.05}, {1.6276, 0.01}} {
		if got := qks(c.lambda); math.Abs(got-c.p) > 5e-4 {
			t.Errorf("Q(%v) = %.5f, want %.2f", c.lambda, got, c.p)
		}
	}
	if d, _ := ksStat([]float64{1, 2, 3}, []float64{4, 5, 6}); d != 1 {
		t.Errorf("disjoint samples: D=%g, want 1", d)
	}
	if d, _ := ksStat([]float64{1, 2, 3, 4}, []float64{1, 2, 3, 4}); d != 0 {
		t.Errorf("equal samples: D=%g, want 0", d)
	}
	if d, _ := ksStat([]float64{1, 2, 3, 4}, []float64{3, 4, 5, 6}); d != 0.5 {
		t.Errorf("half-overlapping samples: D=%g, want 0.5", d)
	}
	r := rand.New(rand.NewPCG(3, 3))
	a, c := make([]float64, 2000), make([]float64, 2000)
	for i := range a {
		a[i], c[i] = r.NormFloat64(), r.NormFloat64()+0.3
	}
	if d, p := ks(a, c); p > 1e-6 {
		t.Errorf("shifted distribution not rejected: D=%g p=%g", d, p)
	}
}

// dSys estimates the global unlinkability measure D↔sys of Gomez-Barrero et
// al. (IEEE TIFS 2018, adopted by ISO/IEC 30136) from mated and non-mated
// score samples with a histogram of the given bins and equal priors: 0 means
// fully unlinkable, 1 fully linkable. With finite samples the estimate has a
// positive bias; compare it with two non-mated samples.
func dSys(mated, nonMated []float64, bins int) float64 {
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, x := range append(slices.Clone(mated), nonMated...) {
		lo, hi = min(lo, x), max(hi, x)
	}
	hm, hn := make([]float64, bins), make([]float64, bins)
	bin := func(x float64) int { return min(bins-1, int((x-lo)/(hi-lo)*float64(bins))) }
	for _, x := range mated {
		hm[bin(x)] += 1 / float64(len(mated))
	}
	for _, x := range nonMated {
		hn[bin(x)] += 1 / float64(len(nonMated))
	}
	var d float64
	for i := range hm {
		if hm[i] == 0 {
			continue
		}
		local := 1.0
		if hn[i] > 0 {
			lr := hm[i] / hn[i]
			local = max(0, 2*lr/(1+lr)-1)
		}
		d += hm[i] * local
	}
	return d
}

func meanVar(x []float64) (m, v float64) {
	for _, a := range x {
		m += a
	}
	m /= float64(len(x))
	for _, a := range x {
		v += (a - m) * (a - m)
	}
	return m, v / float64(len(x)-1)
}

// TestUnlinkability checks ISO/IEC 24745 unlinkability: the similarity of
// the same face protected under two deployment keys is distributed like the
// similarity of unrelated faces.
//
// For deployments with independent random keys this holds exactly (R2·R1ᵀ
// is Haar-distributed); the first subtest measures it with a KS test, a
// fresh key pair per sample. For one fixed pair of keys, cos(R1x, R2x) =
// xᵀQx with Q = R1ᵀR2, whose mean over faces is tr(Q)/d instead of 0 (the
// variance is the same ≈ 1/d): the second subtest measures that shift and
// bounds it. A control checks the KS test does reject linkable scores.
func TestUnlinkability(t *testing.T) {
	t.Run("random deployment pairs", func(t *testing.T) {
		const n, dim = 2000, 32
		r := rand.New(rand.NewPCG(21, 22))
		mated, nonMated := make([]float64, n), make([]float64, n)
		for i := 0; i < n; i++ {
			s1, s2 := make([]byte, 32), make([]byte, 32)
			for k := range s1 {
				s1[k], s2[k] = byte(r.Uint32()), byte(r.Uint32())
			}
			k1 := mustTransform(t, s1, "m", dim)
			k2 := mustTransform(t, s2, "m", dim)
			x, y := randUnit(r, dim), randUnit(r, dim)
			x1 := rotate(k1, x)
			x2 := rotate(k2, x)
			y1 := rotate(k1, y)
			mated[i] = cosine(x1, x2)
			nonMated[i] = cosine(x1, y1)
		}
		d, p := ks(mated, nonMated)
		t.Logf("same vector under two random keys vs unrelated vectors: KS D=%.4f p=%.3f (n=m=%d, dim %d)", d, p, n, dim)
		t.Logf("D↔sys (20 bins) = %.3f", dSys(mated, nonMated, 20))
		if p < 0.01 {
			t.Errorf("cross-key similarities distinguishable from unrelated ones: D=%.4f p=%.3g", d, p)
		}
	})
	t.Run("non-centred descriptors", func(t *testing.T) {
		// Real embeddings share a large common component (all faces look
		// alike to the model): x = normalize(0.8·μ + 0.6·g). Across two
		// deployments the attacker compares mated pairs with non-mated pairs
		// under the same two keys; under one key, unrelated faces score high
		// because of μ, so that is no reference here.
		const n, dim = 2000, 32
		r := rand.New(rand.NewPCG(23, 24))
		mu := randUnit(r, dim)
		face := func() []float32 {
			g := randUnit(r, dim)
			v := make([]float32, dim)
			for i := range v {
				v[i] = 0.8*mu[i] + 0.6*g[i]
			}
			return v
		}
		mated, crossNonMated, sameKeyNonMated := make([]float64, n), make([]float64, n), make([]float64, n)
		for i := 0; i < n; i++ {
			s1, s2 := make([]byte, 32), make([]byte, 32)
			for k := range s1 {
				s1[k], s2[k] = byte(r.Uint32()), byte(r.Uint32())
			}
			k1 := mustTransform(t, s1, "m", dim)
			k2 := mustTransform(t, s2, "m", dim)
			x, y := face(), face()
			x1 := rotate(k1, x)
			x2 := rotate(k2, x)
			y1 := rotate(k1, y)
			y2 := rotate(k2, y)
			mated[i] = cosine(x1, x2)
			crossNonMated[i] = cosine(x1, y2)
			sameKeyNonMated[i] = cosine(x1, y1)
		}
		d, p := ks(mated, crossNonMated)
		ds, ps := ks(mated, sameKeyNonMated)
		t.Logf("non-centred: mated two keys vs non-mated two keys: KS D=%.4f p=%.3f, D↔sys %.3f (n=m=%d, dim %d)", d, p, dSys(mated, crossNonMated, 20), n, dim)
		t.Logf("non-centred: mated two keys vs non-mated one key (wrong reference): KS D=%.4f p=%.3g", ds, ps)
		if p < 0.01 {
			t.Errorf("cross-key mated similarities distinguishable from cross-key non-mated: D=%.4f p=%.3g", d, p)
		}
	})
	t.Run("fixed deployment pair", func(t *testing.T) {
		const n, dim = 2000, 128
		r := rand.New(rand.NewPCG(11, 13))
		k1 := mustTransform(t, secret(10), "dlib", dim)
		k2 := mustTransform(t, secret(20), "dlib", dim)
		var trQ float64 // tr(R1ᵀR2) = Σ_ij R1[i][j]·R2[i][j]
		for i := range k1.m {
			trQ += k1.m[i] * k2.m[i]
		}
		mated, recaptured, nonMated, control := make([]float64, n), make([]float64, n), make([]float64, n), make([]float64, n)
		nonMated2 := make([]float64, n)        // a second non-mated sample: the D↔sys estimator's floor
		noisy := func(v []float32) []float32 { // a second capture of the same face
			w := make([]float32, len(v))
			for i := range v {
				w[i] = v[i] + float32(r.NormFloat64()*0.02)
			}
			return w
		}
		for i := 0; i < n; i++ {
			x, y := randUnit(r, dim), randUnit(r, dim)
			x1 := rotate(k1, x)
			x2 := rotate(k2, x)
			xn1 := rotate(k1, noisy(x))
			xn2 := rotate(k2, noisy(x))
			y1 := rotate(k1, y)
			mated[i] = cosine(x1, x2)
			recaptured[i] = cosine(x1, xn2)
			nonMated[i] = cosine(x1, y1)
			control[i] = cosine(x1, xn1)
			z := randUnit(r, dim)
			z2 := rotate(k2, z)
			nonMated2[i] = cosine(x1, z2) // unrelated faces across the two deployments
		}
		d, p := ks(mated, nonMated)
		d2, p2 := ks(recaptured, nonMated)
		dx, px := ks(mated, nonMated2)
		dc, pc := ks(control, nonMated)
		mm, vm := meanVar(mated)
		mn, vn := meanVar(nonMated)
		t.Logf("dim %d, n=%d: tr(R1ᵀR2) = %.3f, predicted mean shift tr/d = %.4f", dim, n, trQ, trQ/dim)
		t.Logf("same vector, two keys: mean %.4f sd %.4f; unrelated: mean %.4f sd %.4f; KS D=%.4f p=%.3g", mm, math.Sqrt(vm), mn, math.Sqrt(vn), d, p)
		t.Logf("recaptured face, two keys vs unrelated: KS D=%.4f p=%.3g", d2, p2)
		t.Logf("same vector, two keys vs unrelated faces across the two keys: KS D=%.4f p=%.3g", dx, px)
		t.Logf("control, recaptured face under one key vs unrelated: KS D=%.4f p=%.3g", dc, pc)
		dm, dr, dn, dc2 := dSys(mated, nonMated, 20), dSys(recaptured, nonMated, 20), dSys(nonMated2, nonMated, 20), dSys(control, nonMated, 20)
		t.Logf("D↔sys (20 bins): same vector two keys %.3f, recaptured two keys %.3f; floor (two non-mated samples) %.3f; control (same key) %.3f", dm, dr, dn, dc2)
		if dc2 < 0.99 {
			t.Errorf("control: D↔sys %.3f for same-key mated scores, want ≈ 1", dc2)
		}
		t.Logf("max cosine: same vector two keys %.3f, unrelated %.3f; min cosine same-key recapture %.3f",
			slices.Max(mated), slices.Max(nonMated), slices.Min(control))
		se := math.Sqrt(vn / n)
		if math.Abs(mm-trQ/dim) > 4*se {
			t.Errorf("mean cross-key similarity %.4f is not the predicted tr(Q)/d = %.4f (±%.4f)", mm, trQ/dim, 4*se)
		}
		if math.Abs(vm-vn) > 0.15*vn {
			t.Errorf("cross-key variance %.5f differs from unrelated %.5f by more than 15%%", vm, vn)
		}
		// tr(Q) of a Haar rotation is ≈ N(0, 1); |tr| > 5 has probability < 1e-6.
		if math.Abs(trQ) > 5 {
			t.Errorf("tr(R1ᵀR2) = %.2f: keys are related", trQ)
		}
		if slices.Max(mated) > 0.5 {
			t.Errorf("a cross-key pair has cosine %.3f", slices.Max(mated))
		}
		if pc > 1e-6 || dc < 0.9 {
			t.Errorf("control: the KS test failed to tell mated from unrelated pairs (D=%.4f p=%.3g)", dc, pc)
		}

		// Per-pair distinguishability across this one pair of deployments,
		// the ISO/IEC 30136 way: D↔sys of mated cross-key scores against
		// non-mated cross-key scores (mated vs nonMated2). The limit is set
		// from two things measured or derived here, never from the result:
		//
		//   - the estimator's noise floor: D↔sys of two independent
		//     non-mated samples of the same size and bins, replicated. Since
		//     R1, R2 are orthogonal, cos(R1x, R2z) = xᵀQz is distributed like
		//     x·z for independent uniform x, z, so the replicates use plain
		//     random unit vectors (no key needed);
		//   - the leak this test already predicts and bounds for a fixed key
		//     pair: a mean shift of tr(Q)/d with sd 1/√d, whose exact
		//     D↔sys for two normals is dSysShift(tr(Q)/√d). tr(Q) enters
		//     clamped to 5, the most independent keys produce (see the tr
		//     check above): a larger trace is a leak, not an allowance.
		//
		// limit = floor mean + 4·floor sd + dSysShift. Measured (seeds as
		// written, n=2000, d=128, 20 bins, 40 replicates): floor 0.0254 ±
		// 0.0057, shift term 0.0157 (tr(Q) = 0.850), limit 0.064; D↔sys of
		// mated vs cross-key non-mated 0.038, 2.3 floor sd above the floor
		// mean and below floor + shift (0.041): the KS D = 0.0575
		// (p = 0.0026) on the same two samples is the predicted tr(Q)/d shift
		// seen by a test with n = 2000, not a per-pair link. Mutations that
		// fail this assertion (each reverted): the same key twice (k2 = k1)
		// gives D↔sys 1.000 > 0.159; adding 0.03 (≈ 1/3 sd) to every mated
		// score gives 0.114 > 0.064.
		const reps = 40
		floor := make([]float64, reps)
		a, b := make([]float64, n), make([]float64, n)
		for k := range floor {
			for i := range a {
				a[i] = cosine(randUnit(r, dim), randUnit(r, dim))
				b[i] = cosine(randUnit(r, dim), randUnit(r, dim))
			}
			floor[k] = dSys(a, b, 20)
		}
		fm, fv := meanVar(floor)
		shift := dSysShift(min(math.Abs(trQ), 5) / math.Sqrt(dim))
		limit := fm + 4*math.Sqrt(fv) + shift
		dxs := dSys(mated, nonMated2, 20)
		t.Logf("D↔sys mated vs cross-key non-mated %.3f; floor %.4f ± %.4f over %d replicates, fixed-pair shift term %.4f, limit %.3f", dxs, fm, math.Sqrt(fv), reps, shift, limit)
		if dxs > limit {
			t.Errorf("mated cross-key scores are distinguishable from non-mated cross-key scores: D↔sys %.3f > %.3f (floor %.4f ± %.4f + shift %.4f)", dxs, limit, fm, math.Sqrt(fv), shift)
		}
	})
}

func TestDSysShift(t *testing.T) {
	if d := dSysShift(0); d != 0 {
		t.Errorf("dSysShift(0) = %g, want 0", d)
	}
	if d := dSysShift(20); d < 0.999 {
		t.Errorf("dSysShift(20) = %g, want ≈ 1", d)
	}
	prev := 0.0
	for _, delta := range []float64{0.1, 0.5, 1, 2, 4} {
		d := dSysShift(delta)
		if d <= prev || d >= 1 {
			t.Errorf("dSysShift(%g) = %g, want in (%g, 1)", delta, d, prev)
		}
		prev = d
	}
	// Against the histogram estimator on large samples (its bias is small
	// next to a shift of one sd).
	r := rand.New(rand.NewPCG(9, 9))
	a, b := make([]float64, 200000), make([]float64, 200000)
	for i := range a {
		a[i], b[i] = r.NormFloat64()+1, r.NormFloat64()
	}
	if want, got := dSysShift(1), dSys(a, b, 50); math.Abs(got-want) > 0.03 {
		t.Errorf("dSysShift(1) = %.3f, histogram estimate %.3f", want, got)
	}
}

// dSysShift returns the exact D↔sys of mated scores N(δ, 1) against
// non-mated scores N(0, 1): the integral over the mated density of
// max(0, (LR−1)/(LR+1)) with LR = exp(δz − δ²/2), by the trapezoid rule
// over ±10 sd.
func dSysShift(delta float64) float64 {
	const steps = 20000
	lo, hi := delta-10, delta+10
	h := (hi - lo) / steps
	var sum float64
	for i := 0; i <= steps; i++ {
		z := lo + float64(i)*h
		pm := math.Exp(-(z-delta)*(z-delta)/2) / math.Sqrt(2*math.Pi)
		f := pm * max(0, math.Tanh((delta*z-delta*delta/2)/2))
		if i == 0 || i == steps {
			f /= 2
		}
		sum += f
	}
	return sum * h
}

// TestRekey moves a gallery to a new key from the protected templates alone
// and checks templates stolen before the re-key no longer match anything.
func TestRekey(t *testing.T) {
	const n, dim = 500, 128
	r := rand.New(rand.NewPCG(5, 8))
	oldT := mustTransform(t, secret(30), "dlib", dim)
	newT := mustTransform(t, secret(40), "dlib", dim)
	raw := make([][]float32, n)
	stolen := make([]Template, n)
	gallery := make([]Template, n)
	for i := range raw {
		raw[i] = randUnit(r, dim)
		tp, err := oldT.Protect(raw[i], 0.9, time.Unix(1, 0))
		if err != nil {
			t.Fatal(err)
		}
		stolen[i] = tp
		g, err := rekey(&tp, oldT, newT)
		if err != nil {
			t.Fatal(err)
		}
		gallery[i] = g
	}
	// The re-keyed template equals a fresh enrollment under the new key.
	var worst float64
	for i := range raw {
		fresh := rotate(newT, raw[i])
		worst = max(worst, dist(fresh, gallery[i].v))
		if gallery[i].transform != newT.ID() || gallery[i].Quality != 0.9 {
			t.Fatal("re-keyed template fields wrong")
		}
	}
	if worst > 1e-5 {
		t.Errorf("re-keyed vs fresh enrollment: max distance %g", worst)
	}
	// Before: a stolen template matches its owner exactly. After: the closest
	// gallery entry to any stolen template is as far as unrelated faces.
	const matchDist = 0.6 // dlib's threshold; unit vectors at this distance have cosine 0.82
	minDist := math.Inf(1)
	for i := range stolen {
		for j := range gallery {
			minDist = min(minDist, dist(stolen[i].v, gallery[j].v))
		}
	}
	t.Logf("after re-key: closest stolen-to-gallery distance %.3f over %d×%d pairs (match threshold %.1f; unrelated unit vectors sit near √2)", minDist, n, n, matchDist)
	if minDist <= matchDist {
		t.Errorf("a stolen template still matches after re-key: distance %.3f", minDist)
	}
	// The composed Rekeyer gives the same result without the raw descriptor.
	rk, err := NewRekeyer(oldT, newT)
	if err != nil {
		t.Fatal(err)
	}
	var worstRk float64
	for i := range stolen {
		g, err := rk.Rekey(&stolen[i])
		if err != nil {
			t.Fatal(err)
		}
		worstRk = max(worstRk, dist(g.v, gallery[i].v))
		if g.transform != newT.ID() || g.Created != gallery[i].Created {
			t.Fatal("Rekeyer fields wrong")
		}
	}
	if worstRk > 1e-5 {
		t.Errorf("Rekeyer vs Rekey: max distance %g", worstRk)
	}
	if _, err := rk.Rekey(&gallery[0]); !errors.Is(err, ErrWrongTransform) {
		t.Errorf("Rekeyer on a template of the wrong key: %v", err)
	}
	if _, err := NewRekeyer(oldT, mustTransform(t, secret(40), "dlib", 64)); !errors.Is(err, ErrWrongTransform) {
		t.Errorf("NewRekeyer across dimensions: %v", err)
	}
	if _, err := rekey(&gallery[0], oldT, newT); !errors.Is(err, ErrWrongTransform) {
		t.Errorf("Rekey from the wrong key: %v", err)
	}
	other := mustTransform(t, secret(40), "dlib", 64)
	if _, err := rekey(&stolen[0], oldT, other); !errors.Is(err, ErrWrongTransform) {
		t.Errorf("Rekey to another dimension: %v", err)
	}
}

func BenchmarkNewTransform128(b *testing.B) {
	for b.Loop() {
		if _, err := NewTransform(secret(1), "m", 128); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkApply128(b *testing.B) {
	tr := mustTransform(b, secret(1), "m", 128)
	v := randUnit(rand.New(rand.NewPCG(1, 1)), 128)
	for b.Loop() {
		tr.Apply(v)
	}
}

// TestRotationResistsMagnitudeLinking backs the choice of a rotation over a
// keyed permutation with sign flips: the latter keeps the multiset of
// coordinate magnitudes, so sorting |v| links a face across deployments.
// For each of 500 faces protected under key 1, the attacker picks the
// candidate under key 2 (among all 500) whose sorted magnitudes are
// closest, and the test counts correct links.
func TestRotationResistsMagnitudeLinking(t *testing.T) {
	const n, dim = 500, 128
	r := rand.New(rand.NewPCG(31, 37))
	permSign := func(seed uint64) func([]float32) []float32 {
		pr := rand.New(rand.NewPCG(seed, seed))
		perm := pr.Perm(dim)
		sign := make([]float32, dim)
		for i := range sign {
			sign[i] = float32(1 - 2*pr.IntN(2))
		}
		return func(v []float32) []float32 {
			w := make([]float32, dim)
			for i, p := range perm {
				w[i] = sign[i] * v[p]
			}
			return w
		}
	}
	sortedAbs := func(v []float32) []float32 {
		w := make([]float32, len(v))
		for i, x := range v {
			w[i] = float32(math.Abs(float64(x)))
		}
		slices.Sort(w)
		return w
	}
	link := func(a, b [][]float32) int {
		sa, sb := make([][]float32, n), make([][]float32, n)
		for i := range a {
			sa[i], sb[i] = sortedAbs(a[i]), sortedAbs(b[i])
		}
		correct := 0
		for i := range sa {
			best, bestD := -1, math.Inf(1)
			for j := range sb {
				if d := dist(sa[i], sb[j]); d < bestD {
					best, bestD = j, d
				}
			}
			if best == i {
				correct++
			}
		}
		return correct
	}
	p1, p2 := permSign(1), permSign(2)
	r1, r2 := mustTransform(t, secret(50), "m", dim), mustTransform(t, secret(60), "m", dim)
	var pa, pb, ra, rb [][]float32
	for i := 0; i < n; i++ {
		x := randUnit(r, dim)
		pa, pb = append(pa, p1(x)), append(pb, p2(x))
		a := rotate(r1, x)
		b := rotate(r2, x)
		ra, rb = append(ra, a), append(rb, b)
	}
	permLinked, rotLinked := link(pa, pb), link(ra, rb)
	t.Logf("sorted-magnitude linking attack over %d faces: permutation+sign %d linked, rotation %d linked (chance: 1)", n, permLinked, rotLinked)
	if permLinked < n*9/10 {
		t.Errorf("attack control: permutation+sign only %d/%d linked", permLinked, n)
	}
	if rotLinked > 10 {
		t.Errorf("rotation: %d/%d faces linked by sorted magnitudes", rotLinked, n)
	}
}

// rotate returns the vector of tr.Apply(v), or nil for an error, for the
// tests that measure distances in the protected space.
func rotate(tr *Transform, v []float32) []float32 {
	p, err := tr.Apply(v)
	if err != nil {
		return nil
	}
	return p.v
}

// invert undoes Apply: only tests need the raw descriptor back.
func (t *Transform) invert(p []float32) ([]float32, error) { return t.mul(p, true) }

// rekey is the reference re-keying the Rekeyer is checked against: it
// reconstructs the descriptor with from's inverse, then applies to. It
// returns ErrWrongTransform if tp was not protected under from or the two
// transforms differ in model or dimension.
func rekey(tp *Template, from, to *Transform) (Template, error) {
	if tp.transform != from.id || tp.model != from.modelID {
		return Template{}, fmt.Errorf("%w: template %x/%s, transform %x/%s", ErrWrongTransform, tp.transform, tp.model, from.id, from.modelID)
	}
	if to.modelID != from.modelID || to.dim != from.dim {
		return Template{}, fmt.Errorf("%w: rekey from %s/%d to %s/%d", ErrWrongTransform, from.modelID, from.dim, to.modelID, to.dim)
	}
	raw, err := from.invert(tp.v)
	if err != nil {
		return Template{}, err
	}
	defer clear(raw)
	return to.Protect(raw, tp.Quality, tp.Created)
}
