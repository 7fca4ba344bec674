package template

import (
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"time"

	"golang.org/x/crypto/hkdf"
)

// MinSecretSize is the shortest transform secret NewTransform accepts.
const MinSecretSize = 16

// Errors about transforms; test with errors.Is.
var (
	// ErrDim reports a vector whose length differs from the transform's.
	ErrDim = errors.New("template: vector dimension does not match the transform")
	// ErrWrongTransform reports a template protected under another transform
	// key or model than the one given.
	ErrWrongTransform = errors.New("template: template was protected with a different transform")
	// ErrSecret reports a transform secret shorter than MinSecretSize.
	ErrSecret = errors.New("template: transform secret too short")
)

// Transform is a keyed, revocable, distance-preserving transform: a random
// orthonormal rotation of R^d derived from a per-deployment secret.
//
// Derivation: HKDF-SHA256(secret, info = label ‖ model ID ‖ d) gives a 32-byte
// seed for a ChaCha8 generator, which fills a d×d matrix with standard normal
// entries; modified Gram–Schmidt (two passes, in float64) orthonormalizes its
// rows. Gram–Schmidt on a Gaussian matrix is QR with a positive diagonal in R,
// which yields a Haar-distributed (uniformly random) rotation.
//
// Why a rotation rather than a permutation plus sign flips: both preserve
// Euclidean and cosine distances exactly, but a permutation with sign flips
// keeps the multiset of coordinate magnitudes, so sorting |v[i]| links the
// same face across deployments in O(d log d), and only 2^d·d! keys exist per
// structure. A Haar rotation maps a fixed vector to a uniformly random
// direction: for two independent keys, R2·R1ᵀ is itself Haar-distributed, so
// the similarity between the same face under two keys has exactly the
// distribution of the similarity between two unrelated random directions
// (TestUnlinkability measures this with a two-sample Kolmogorov–Smirnov test).
// For one fixed pair of deployments the same face's cross-key similarity has
// mean tr(R1ᵀR2)/d (tr ≈ N(0, 1)) instead of 0, a shift of about 1/√d
// standard deviations: detectable over thousands of pairs, useless for
// linking any one pair (ISO/IEC 30136 D↔sys measured at the estimator's
// noise floor).
// The rotation is invertible by whoever holds the secret, which is what
// makes re-keying ([Rekeyer]) possible without re-capture; the secret must therefore be
// kept apart from the templates (the store keeps it wrapped under its KEK).
type Transform struct {
	id      [8]byte
	modelID string
	dim     int
	m       []float64 // row-major dim×dim, orthonormal rows
}

// NewTransform derives the transform for one model and dimension from a
// deployment secret (at least MinSecretSize bytes; the store uses 32 random
// bytes). The same inputs always give the same transform.
func NewTransform(secret []byte, modelID string, dim int) (*Transform, error) {
	if len(secret) < MinSecretSize {
		return nil, fmt.Errorf("%w: %d bytes, want ≥ %d", ErrSecret, len(secret), MinSecretSize)
	}
	if modelID == "" || len(modelID) > 255 {
		return nil, fmt.Errorf("%w: model ID is %d bytes, want 1..255", ErrInvalid, len(modelID))
	}
	if dim < 1 || dim > MaxDim {
		return nil, fmt.Errorf("%w: dimension %d, want 1..%d", ErrInvalid, dim, MaxDim)
	}
	info := func(label string) []byte {
		b := append([]byte(label), byte(len(modelID)))
		b = append(b, modelID...)
		return binary.BigEndian.AppendUint32(b, uint32(dim))
	}
	var seed [32]byte
	if _, err := io.ReadFull(hkdf.New(sha256.New, secret, nil, info("facegate/template/rotation/v1")), seed[:]); err != nil {
		return nil, fmt.Errorf("template: hkdf: %w", err)
	}
	t := &Transform{modelID: modelID, dim: dim, m: make([]float64, dim*dim)}
	if _, err := io.ReadFull(hkdf.New(sha256.New, secret, nil, info("facegate/template/transform-id/v1")), t.id[:]); err != nil {
		return nil, fmt.Errorf("template: hkdf: %w", err)
	}
	rng := rand.New(rand.NewChaCha8(seed))
	clear(seed[:])
	for i := range t.m {
		t.m[i] = rng.NormFloat64()
	}
	for i := 0; i < dim; i++ {
		row := t.m[i*dim : (i+1)*dim]
		for pass := 0; pass < 2; pass++ {
			for j := 0; j < i; j++ {
				prev := t.m[j*dim : (j+1)*dim]
				var dot float64
				for k := range row {
					dot += row[k] * prev[k]
				}
				for k := range row {
					row[k] -= dot * prev[k]
				}
			}
		}
		var n float64
		for _, x := range row {
			n += x * x
		}
		n = math.Sqrt(n)
		if n < 1e-9 {
			return nil, fmt.Errorf("template: degenerate rotation row %d", i)
		}
		for k := range row {
			row[k] /= n
		}
	}
	return t, nil
}

// ID returns the transform's public identifier, derived from the secret
// under a separate label: it tells templates of different keys apart and
// reveals nothing about the rotation.
func (t *Transform) ID() [8]byte { return t.id }

// ModelID returns the model identifier the transform was derived for.
func (t *Transform) ModelID() string { return t.modelID }

// Dim returns the transform's dimension.
func (t *Transform) Dim() int { return t.dim }

// Wipe zeros the rotation matrix; the Transform is unusable afterwards.
func (t *Transform) Wipe() {
	clear(t.m)
	t.m = nil
	t.dim = 0
}

func (t *Transform) mul(v []float32, transpose bool) ([]float32, error) {
	if len(v) != t.dim || t.m == nil {
		return nil, fmt.Errorf("%w: got %d, want %d", ErrDim, len(v), t.dim)
	}
	d := t.dim
	out := make([]float32, d)
	if !transpose {
		for i := 0; i < d; i++ {
			row := t.m[i*d : (i+1)*d]
			var s float64
			for k, x := range v {
				s += row[k] * float64(x)
			}
			out[i] = float32(s)
		}
		return out, nil
	}
	acc := make([]float64, d)
	for i, x := range v {
		row := t.m[i*d : (i+1)*d]
		xf := float64(x)
		for k := range acc {
			acc[k] += row[k] * xf
		}
	}
	for k, s := range acc {
		out[k] = float32(s)
	}
	return out, nil
}

// Apply protects a probe descriptor: it returns the rotated copy of v,
// labelled with the transform's model and ID. Use the same Transform on
// probes and on enrolled descriptors: distances are unchanged. It returns
// ErrDim for a vector of another dimension and ErrInvalid for one holding
// a NaN or an infinity.
func (t *Transform) Apply(v []float32) (Protected, error) {
	for i, x := range v {
		if !finite(x) {
			return Protected{}, fmt.Errorf("%w: descriptor[%d] is %v", ErrInvalid, i, x)
		}
	}
	p, err := t.mul(v, false)
	if err != nil {
		return Protected{}, err
	}
	return Protected{model: t.modelID, transform: t.id, v: p}, nil
}

// Protect transforms a model descriptor and returns it as a Template. The
// descriptor itself is not retained.
func (t *Transform) Protect(descriptor []float32, quality float32, created time.Time) (Template, error) {
	p, err := t.Apply(descriptor)
	if err != nil {
		return Template{}, err
	}
	tp := Template{Version: Version, Protected: p, Quality: quality, Created: created}
	if err := tp.Validate(); err != nil {
		return Template{}, err
	}
	return tp, nil
}

// Rekeyer moves templates from one transform key to another with the single
// matrix to·fromᵀ, so the original descriptor is never reconstructed in
// memory and each template costs one matrix-vector product.
// Building it costs O(d³); use it for whole galleries.
type Rekeyer struct {
	fromID, toID [8]byte
	modelID      string
	dim          int
	m            []float64 // row-major d×d, to·fromᵀ
}

// NewRekeyer returns a Rekeyer from one transform to another of the same
// model and dimension, or ErrWrongTransform.
func NewRekeyer(from, to *Transform) (*Rekeyer, error) {
	if to.modelID != from.modelID || to.dim != from.dim || from.m == nil || to.m == nil {
		return nil, fmt.Errorf("%w: rekey from %s/%d to %s/%d", ErrWrongTransform, from.modelID, from.dim, to.modelID, to.dim)
	}
	d := from.dim
	m := make([]float64, d*d)
	// (to·fromᵀ)[i][j] = Σ_k to[i][k]·from[j][k]
	for i := 0; i < d; i++ {
		ti := to.m[i*d : (i+1)*d]
		for j := 0; j < d; j++ {
			fj := from.m[j*d : (j+1)*d]
			var s float64
			for k := range ti {
				s += ti[k] * fj[k]
			}
			m[i*d+j] = s
		}
	}
	return &Rekeyer{fromID: from.id, toID: to.id, modelID: from.modelID, dim: d, m: m}, nil
}

// Rekey moves tp from the Rekeyer's source transform to its target, keeping
// quality and creation time. It returns ErrWrongTransform if tp was not
// protected under the source transform.
func (r *Rekeyer) Rekey(tp *Template) (Template, error) {
	if tp.transform != r.fromID || tp.model != r.modelID {
		return Template{}, fmt.Errorf("%w: template %x/%s, transform %x/%s", ErrWrongTransform, tp.transform, tp.model, r.fromID, r.modelID)
	}
	d := r.dim
	if len(tp.v) != d || r.m == nil {
		return Template{}, fmt.Errorf("%w: got %d, want %d", ErrDim, len(tp.v), d)
	}
	p := make([]float32, d)
	for i := 0; i < d; i++ {
		row := r.m[i*d : (i+1)*d]
		var s float64
		for k, x := range tp.v {
			s += row[k] * float64(x)
		}
		p[i] = float32(s)
	}
	return Template{Version: Version, Protected: Protected{model: tp.model, transform: r.toID, v: p},
		Quality: tp.Quality, Created: tp.Created}, nil
}

// Wipe zeros the Rekeyer's matrix.
func (r *Rekeyer) Wipe() {
	clear(r.m)
	r.m = nil
}
