package gallery

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"slices"
	"sync"

	"github.com/facegate/facegate/facematch"
	"github.com/facegate/facegate/template"
)

var (
	// ErrInvalidModel is returned by New for a model or configuration
	// it cannot hold: a dimension under 1 (or over 32768 in Int8 precision),
	// an unknown metric, a negative or non-finite scale or threshold.
	ErrInvalidModel = errors.New("gallery: invalid model or gallery configuration")
	// ErrInvalidID is returned for a subject ID that is empty or longer than
	// 255 bytes.
	ErrInvalidID = errors.New("gallery: subject ID is empty or longer than 255 bytes")
	// ErrZeroVector is returned when a descriptor of a cosine model is all
	// zeros and so has no direction.
	ErrZeroVector = errors.New("gallery: descriptor is all zeros")
	// ErrOutOfRange is returned by an Int8 gallery for a descriptor with a
	// component outside ±127·Scale. Such a vector is refused rather than
	// clipped: clipping moves it closer to every template and could turn a
	// stranger into a match. A larger Config.Scale accepts it.
	ErrOutOfRange = errors.New("gallery: descriptor component outside the int8 range")
	// ErrTooManyTemplates is returned when a subject already has 255
	// templates, the most a gallery keeps per subject.
	ErrTooManyTemplates = errors.New("gallery: subject has too many templates")
)

// Precision is how a Gallery stores its templates.
type Precision uint8

const (
	// Float32 stores every component as a float32: 4·Dim bytes per template,
	// exact distances.
	Float32 Precision = iota
	// Int8 stores every component as round(x/Scale) in [-127, 127] (one
	// global scale for the whole gallery): Dim bytes per template, four
	// times less memory and memory traffic, distances within a quantization
	// step of the float32 ones. The scan compares a probe quantized the same
	// way with the templates; the best subjects it finds (the k asked for
	// and 4 more) are then rescored with the unquantized probe, so the
	// distances returned, and Verify's, are exact for the stored templates.
	// With Config.Originals they are rescored with the unquantized
	// templates too, as a Float32 gallery scores them.
	// Vectors with a component outside ±127·Scale are refused
	// (ErrOutOfRange).
	Int8
)

// String returns "float32" or "int8".
func (p Precision) String() string {
	switch p {
	case Float32:
		return "float32"
	case Int8:
		return "int8"
	}
	return "unknown"
}

// DefaultInt8Scale is the quantization step an Int8 gallery uses when
// Config.Scale is 0: components in [-0.5, 0.5] are represented, larger
// ones are refused with ErrOutOfRange. It suits L2-normalised descriptors of 64 or more
// dimensions and dlib's descriptors (largest component 0.44 over the 1,286
// reference descriptors of testdata/dlib-reference/idols.json).
const DefaultInt8Scale = 1.0 / 254

// Config sets how a Gallery stores and matches templates. The zero
// value means float32 storage and the model's own threshold.
type Config struct {
	// Precision is the storage precision of the templates.
	Precision Precision
	// Scale is the Int8 quantization step (ignored for Float32); 0 means
	// DefaultInt8Scale.
	Scale float32
	// Threshold replaces Model.Threshold when it is not 0.
	Threshold float32
	// Originals, if not nil, returns the unquantized templates of the
	// subject id, the same vectors that were added (read back from the
	// encrypted store, say). An Int8 gallery then decides on them: its
	// int8 scan only shortlists subjects (the k asked for and
	// OriginalsExtra more), and the distances Identify, Search and Verify
	// return, and their decisions, are computed from the originals exactly
	// as a Float32 gallery computes them. Verify's answer is then always a
	// Float32 gallery's; Identify's and Search's are whenever the Float32
	// gallery's k best are among the int8 scan's k+OriginalsExtra best
	// (every time in the measurements of OriginalsExtra). The gallery's
	// memory stays that of its int8 rows. Ignored for Float32.
	//
	// Originals is called without the gallery's lock held, from the
	// goroutine calling Identify, Search or Verify, once per shortlisted
	// subject. A subject it reports as unknown (an error wrapping
	// ErrUnknownID) or with no template is taken as removed meanwhile and
	// left out; any other error fails the call, wrapped.
	Originals func(id string) ([]template.Protected, error)
}

// OriginalsExtra is how many subjects beyond the k asked for an Int8
// gallery with Config.Originals shortlists in its int8 scan and
// rescores with the originals: Identify(probe, 1) and Search(probe, 1) call
// Originals at most 1+OriginalsExtra times.
//
// Measured with TestInt8TopOneAgreement (10,000 dlib-like subjects, 5,000
// random probes: the hard case, where the closest subjects lie within a
// quantization step of each other; Euclidean / cosine): top-1 agreement
// with a Float32 gallery is 97.10 % / 96.82 % without originals, and with
// originals 96.26 % / 96.00 % with no extra subject, 99.80 % / 99.68 %
// with 1, 99.98 % / 99.98 % with 2, 100 % / 100 % with 4, 8 and 16. On
// 100,000 subjects and 2,000 random probes: 100 % with 4 (int8 alone:
// 95.8 %). It is set at twice the first count that reached the 99.9 % goal.
const OriginalsExtra = 4

// chunkBits sets the rows per storage chunk: 1024 rows, 512 KiB of 128-d
// float32 or 128 KiB of int8. Chunks never move once full, so growing the
// gallery never copies more than one chunk.
const (
	chunkBits = 10
	chunkRows = 1 << chunkBits
	// firstChunkRows is the capacity of the first chunk of a new gallery;
	// it doubles up to chunkRows, so a small gallery stays small.
	firstChunkRows = 64
)

// chunk holds up to chunkRows consecutive rows of a gallery.
type chunk struct {
	f32  []float32 // Float32 rows, row-major, len = rows·Dim
	i8   []int8    // Int8 rows, row-major, len = rows·Dim
	subj []uint32  // subject reference of each row
}

func (c *chunk) capRows() int { return cap(c.subj) }

// A Gallery is an in-memory set of enrolled templates, each the protected
// vector (template.Protected) of one subject under one model, searched
// exhaustively (no approximate
// index: deleting a subject removes it at once and entirely). A subject may
// have several templates; the closest one counts.
//
// Templates live in contiguous row-major chunks of 1024 rows, scanned by the
// fastest distance kernel the CPU supports (see KernelName); galleries
// holding 4 MiB of templates or more (8192 float32 or 32768 int8 rows of
// 128-d: the crossover measured in BenchmarkCrossover) are scanned on all
// cores (GOMAXPROCS), smaller ones on the calling goroutine.
//
// A Gallery is safe for concurrent use. Readers (Verify, Identify, Search,
// Len, ...) run concurrently with each other under a read lock. Writers (Add,
// Remove, SetThreshold) are serialized by a separate mutex and do all
// their allocation and bulk copying — growing a chunk, adding a chunk,
// growing the ID hash table, compacting the ID arena — before taking the
// read/write lock, working on private copies of what readers may be looking
// at. Under the write lock they only install the prepared structures
// (pointer swaps) and copy one row per template added or removed, so a
// writer never blocks readers for longer than that. (As with any
// sync.RWMutex, a reader that arrives while a writer waits for a long scan to
// finish waits too.)
type Gallery struct {
	model facematch.Model
	prec  Precision
	scale float32

	wmu sync.Mutex   // serializes writers
	mu  sync.RWMutex // readers vs. the installing step of a writer

	threshold float32
	originals func(id string) ([]template.Protected, error)
	chunks    []*chunk
	n         int // rows
	spare     *chunk
	ids       idTable
}

// New returns an empty gallery for protected vectors of model m
// (template.Protected.ModelID equal to m.ID; others are refused with
// facematch.ErrModelMismatch). cfg may
// be nil for the defaults. It returns an error wrapping ErrInvalidModel if m
// or cfg is unusable.
func New(m facematch.Model, cfg *Config) (*Gallery, error) {
	var c Config
	if cfg != nil {
		c = *cfg
	}
	if m.Dim < 1 {
		return nil, fmt.Errorf("%w: model %q has dimension %d", ErrInvalidModel, m.ID, m.Dim)
	}
	if m.Metric != facematch.Euclidean && m.Metric != facematch.Cosine {
		return nil, fmt.Errorf("%w: model %q has unknown metric %d", ErrInvalidModel, m.ID, m.Metric)
	}
	g := &Gallery{model: m, prec: c.Precision, threshold: m.Threshold, ids: newIDTable()}
	if c.Precision == Int8 {
		g.originals = c.Originals
	}
	if c.Threshold != 0 {
		g.threshold = c.Threshold
	}
	if !finite(g.threshold) || g.threshold < 0 {
		return nil, fmt.Errorf("%w: threshold %v", ErrInvalidModel, g.threshold)
	}
	switch c.Precision {
	case Float32:
	case Int8:
		if m.Dim > maxInt8Dim {
			return nil, fmt.Errorf("%w: dimension %d is over %d, the int8 limit", ErrInvalidModel, m.Dim, maxInt8Dim)
		}
		g.scale = c.Scale
		if g.scale == 0 {
			g.scale = DefaultInt8Scale
		}
		if !finite(g.scale) || g.scale <= 0 {
			return nil, fmt.Errorf("%w: int8 scale %v", ErrInvalidModel, c.Scale)
		}
	default:
		return nil, fmt.Errorf("%w: unknown precision %d", ErrInvalidModel, c.Precision)
	}
	return g, nil
}

// Model returns the model whose descriptors the gallery holds.
func (g *Gallery) Model() facematch.Model { return g.model }

// Precision returns the storage precision of the templates.
func (g *Gallery) Precision() Precision { return g.prec }

// Threshold returns the match threshold in use: a distance at or under it matches.
func (g *Gallery) Threshold() float32 {
	g.mu.RLock()
	defer g.mu.RUnlock()
	return g.threshold
}

// SetThreshold replaces the match threshold used by Verify and Identify. It
// returns an error wrapping ErrInvalidModel for a negative or non-finite t.
func (g *Gallery) SetThreshold(t float32) error {
	if !finite(t) || t < 0 {
		return fmt.Errorf("%w: threshold %v", ErrInvalidModel, t)
	}
	g.mu.Lock()
	g.threshold = t
	g.mu.Unlock()
	return nil
}

// Len returns the number of templates in the gallery.
func (g *Gallery) Len() int {
	g.mu.RLock()
	defer g.mu.RUnlock()
	return g.n
}

// Subjects returns the number of subjects in the gallery.
func (g *Gallery) Subjects() int {
	g.mu.RLock()
	defer g.mu.RUnlock()
	return g.ids.n
}

// Templates returns the number of templates enrolled for subject id (0 if
// the subject is unknown).
func (g *Gallery) Templates(id string) int {
	g.mu.RLock()
	defer g.mu.RUnlock()
	ref, _, ok := g.ids.find(id)
	if !ok {
		return 0
	}
	return len(g.ids.rows(ref)) / 4
}

// row is a prepared template: the stored form of one descriptor.
type row struct {
	f32 []float32
	i8  []int8
	// v is the validated descriptor, normalised for a cosine model, before
	// quantization: an Int8 gallery rescores its candidates with it.
	v []float32
}

// validated checks p and returns its vector as the gallery compares it: a
// copy the gallery owns, normalised for a cosine model.
func (g *Gallery) validated(p template.Protected) ([]float32, error) {
	if p.ModelID() != g.model.ID {
		return nil, fmt.Errorf("%w: vector of model %q, gallery of model %q", facematch.ErrModelMismatch, p.ModelID(), g.model.ID)
	}
	v := p.Vector()
	if err := check(g.model, v); err != nil {
		return nil, err
	}
	if g.model.Metric == facematch.Cosine {
		var ss float64
		for _, x := range v {
			ss += float64(x) * float64(x)
		}
		if ss == 0 {
			return nil, ErrZeroVector
		}
		inv := 1 / math.Sqrt(ss)
		for i, x := range v {
			v[i] = float32(float64(x) * inv)
		}
	}
	return v, nil
}

// prepare validates p and converts it to the stored form: normalised for a
// cosine model, quantized for an Int8 gallery.
func (g *Gallery) prepare(p template.Protected) (row, error) {
	v, err := g.validated(p)
	if err != nil {
		return row{}, err
	}
	if g.prec == Float32 {
		return row{f32: v}, nil
	}
	q := make([]int8, len(v))
	inv := 1 / float64(g.scale)
	for i, x := range v {
		r := math.Round(float64(x) * inv)
		if r < -127 || r > 127 {
			return row{}, fmt.Errorf("%w: component %d is %v, the gallery's scale %v represents ±%v", ErrOutOfRange, i, x, g.scale, 127*g.scale)
		}
		q[i] = int8(r)
	}
	return row{i8: q, v: v}, nil
}

// check validates v as a descriptor of model m.
func check(m facematch.Model, v []float32) error {
	if len(v) != m.Dim {
		return fmt.Errorf("%w: %d components, model %q has %d", facematch.ErrDimension, len(v), m.ID, m.Dim)
	}
	for i, x := range v {
		if !finite(x) {
			return fmt.Errorf("%w: component %d is %v", facematch.ErrNotFinite, i, x)
		}
	}
	return nil
}

func checkID(id string) error {
	if len(id) == 0 || len(id) > maxIDLen {
		return fmt.Errorf("%w: %d bytes", ErrInvalidID, len(id))
	}
	return nil
}

func (g *Gallery) chunkOf(r uint32) (*chunk, int) {
	return g.chunks[r>>chunkBits], int(r & (chunkRows - 1))
}

// rowsOf returns the rows of the subject at ref.
func (g *Gallery) rowsOf(ref uint32) []uint32 {
	b := g.ids.rows(ref)
	rs := make([]uint32, len(b)/4)
	for i := range rs {
		rs[i] = binary.LittleEndian.Uint32(b[4*i:])
	}
	return rs
}

// equalRow reports whether stored row r holds exactly p.
func (g *Gallery) equalRow(r uint32, p row) bool {
	c, i := g.chunkOf(r)
	d := g.model.Dim
	if g.prec == Float32 {
		return slices.Equal(c.f32[i*d:i*d+d], p.f32)
	}
	return slices.Equal(c.i8[i*d:i*d+d], p.i8)
}

func (g *Gallery) newChunk(rows int) *chunk {
	c := &chunk{subj: make([]uint32, 0, rows)}
	if g.prec == Float32 {
		c.f32 = make([]float32, 0, rows*g.model.Dim)
	} else {
		c.i8 = make([]int8, 0, rows*g.model.Dim)
	}
	return c
}

// grownChunk returns a copy of c with twice the capacity (at most chunkRows).
func (g *Gallery) grownChunk(c *chunk) *chunk {
	nc := g.newChunk(min(chunkRows, 2*c.capRows()))
	nc.f32 = append(nc.f32, c.f32...)
	nc.i8 = append(nc.i8, c.i8...)
	nc.subj = append(nc.subj, c.subj...)
	return nc
}

// Add enrolls the protected vector p for subject id. A subject may have several
// templates; adding one identical to a template the subject already has (the
// same stored row after normalisation and quantization) returns an error
// wrapping ErrDuplicateID and changes nothing. Other errors: ErrInvalidID,
// ErrModelMismatch, ErrDimension, ErrNotFinite, ErrZeroVector,
// ErrOutOfRange, ErrTooManyTemplates (all wrapped).
func (g *Gallery) Add(id string, v template.Protected) error {
	if err := checkID(id); err != nil {
		return err
	}
	p, err := g.prepare(v)
	if err != nil {
		return err
	}
	g.wmu.Lock()
	defer g.wmu.Unlock()

	// Only this writer mutates the gallery, so reading it without the
	// read lock is safe; everything below until g.mu.Lock only reads
	// shared state and allocates private copies.
	ref, _, known := g.ids.find(id)
	k := 0
	if known {
		rows := g.rowsOf(ref)
		for _, r := range rows {
			if g.equalRow(r, p) {
				return fmt.Errorf("%w: subject %q already has this template", facematch.ErrDuplicateID, id)
			}
		}
		k = len(rows)
		if k >= maxTemplates {
			return fmt.Errorf("%w: subject %q has %d", ErrTooManyTemplates, id, k)
		}
	}
	if g.n >= math.MaxUint32-1 {
		return fmt.Errorf("gallery: gallery is full (%d templates)", g.n)
	}
	var (
		newSlots   []uint32
		newArena   []byte
		replace    *chunk // grown copy of the last chunk
		appendable *chunk // new chunk to append
	)
	if !known && g.ids.needSlots() {
		newSlots = g.ids.grownSlots()
	}
	if g.ids.needChunk(entrySize(id, k+1)) {
		newArena = make([]byte, 0, arenaChunk)
	}
	if g.n == len(g.chunks)*chunkRows || len(g.chunks) == 0 {
		if g.spare != nil {
			appendable = g.spare
		} else if len(g.chunks) == 0 {
			appendable = g.newChunk(firstChunkRows)
		} else {
			appendable = g.newChunk(chunkRows)
		}
	} else if last := g.chunks[len(g.chunks)-1]; len(last.subj) == last.capRows() {
		replace = g.grownChunk(last)
	}

	g.mu.Lock()
	if newSlots != nil {
		g.ids.slots = newSlots
	}
	if newArena != nil {
		g.ids.arena = append(g.ids.arena, newArena)
	}
	if appendable != nil {
		if appendable == g.spare {
			g.spare = nil
		}
		g.chunks = append(g.chunks, appendable)
	}
	if replace != nil {
		g.chunks[len(g.chunks)-1] = replace
	}
	r := uint32(g.n)
	c := g.chunks[len(g.chunks)-1]
	c.f32 = append(c.f32, p.f32...)
	c.i8 = append(c.i8, p.i8...)
	var rs []byte
	if known {
		rs = g.ids.rows(ref)
	}
	_, slot, _ := g.ids.find(id) // the slot table may have been replaced
	ref = g.ids.put(id, slot, known, rs, r)
	c.subj = append(c.subj, ref)
	g.n++
	if known { // the subject's entry moved: repoint its other rows
		for _, o := range g.rowsOf(ref)[:k] {
			oc, oi := g.chunkOf(o)
			oc.subj[oi] = ref
		}
	}
	compact := g.ids.needCompact()
	g.mu.Unlock()
	if compact {
		g.compact()
	}
	return nil
}

// Remove deletes every template of subject id, in time proportional to the
// number of its templates: each row is overwritten by the gallery's last
// row. It returns an error wrapping ErrUnknownID when id is not enrolled.
func (g *Gallery) Remove(id string) error {
	g.wmu.Lock()
	defer g.wmu.Unlock()
	ref, slot, ok := g.ids.find(id)
	if !ok {
		return fmt.Errorf("%w: %q", facematch.ErrUnknownID, id)
	}
	rows := g.rowsOf(ref)
	// Removing from the highest row down guarantees that the last row,
	// which fills each hole, never belongs to the subject being removed.
	slices.Sort(rows)
	slices.Reverse(rows)

	g.mu.Lock()
	for _, r := range rows {
		g.swapRemove(r)
	}
	g.ids.remove(slot)
	// Drop chunks left empty, keeping one as a spare so that a gallery
	// oscillating around a chunk boundary does not reallocate.
	for len(g.chunks) > 0 && g.n <= (len(g.chunks)-1)*chunkRows {
		last := g.chunks[len(g.chunks)-1]
		g.chunks = g.chunks[:len(g.chunks)-1]
		if last.capRows() == chunkRows {
			g.spare = last
		}
	}
	compact := g.ids.needCompact()
	g.mu.Unlock()

	if compact {
		g.compact()
	}
	return nil
}

// swapRemove overwrites row r with the last row and shrinks the gallery by
// one row, rewriting the moved row's number in its subject's entry. Write
// lock held.
func (g *Gallery) swapRemove(r uint32) {
	last := uint32(g.n - 1)
	lc, li := g.chunkOf(last)
	if r != last {
		c, i := g.chunkOf(r)
		d := g.model.Dim
		if g.prec == Float32 {
			copy(c.f32[i*d:i*d+d], lc.f32[li*d:li*d+d])
		} else {
			copy(c.i8[i*d:i*d+d], lc.i8[li*d:li*d+d])
		}
		s := lc.subj[li]
		c.subj[i] = s
		g.ids.replaceRow(s, last, r)
	}
	d := g.model.Dim
	lc.f32 = lc.f32[:min(len(lc.f32), li*d)]
	lc.i8 = lc.i8[:min(len(lc.i8), li*d)]
	lc.subj = lc.subj[:li]
	g.n--
}

// compact rebuilds the ID arena without its dead entries (those of removed
// subjects, and the old entries of subjects that gained a template).
// The new arena, slot table and per-chunk subject columns are built outside
// the write lock; installing them is a few pointer swaps. Called with wmu held.
func (g *Gallery) compact() {
	arena, slots, moved := g.ids.compacted()
	subj := make([][]uint32, len(g.chunks))
	for k, c := range g.chunks {
		s := make([]uint32, len(c.subj), cap(c.subj))
		for i, ref := range c.subj {
			s[i] = moved[ref]
		}
		subj[k] = s
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	g.ids.arena, g.ids.slots = arena, slots
	g.ids.dead = 0
	for k, c := range g.chunks {
		c.subj = subj[k]
	}
}

func finite(x float32) bool { return !math.IsNaN(float64(x)) && !math.IsInf(float64(x), 0) }
