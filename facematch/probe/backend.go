package probe

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/facegate/facegate/facematch"
	"github.com/facegate/facegate/facematch/arcface"
	"github.com/facegate/facegate/facematch/dlib"
	"github.com/facegate/facegate/facematch/faceplugin"
)

// DefaultBackend is the face backend of a new store and of bench. It is
// chosen by the rule of issue 13 — the best East-Asian TAR at FAR ≤ 1 %
// among backends within one point of the best TAR on the other group —
// applied to the measurements in docs/arcface.md: fr_feature
// (faceplugin-face-recognition-js, MIT) behind the all-ONNX front end of
// facematch/faceplugin. On the grey LFW set it accepts 99.2 % of
// East-Asian genuine pairs at FAR 0.1 %; on the small colour set 8 of 12
// at FAR ≤ 1 % (dlib and arcface-faceres: 3 and 4). The front end
// replaces dlib's detector and Debian's non-commercial 68-point
// predictor, and is as accurate as dlib's on both sets.
const DefaultBackend = "faceplugin+fr_feature"

// ErrUnknownBackend is returned by Open and Check for a name that is not
// one of Names.
var ErrUnknownBackend = errors.New("probe: unknown face backend")

// A backend is a front end (which finds faces and their 68 landmarks) and
// an embedder (which turns an aligned face into a descriptor). Its name is
// "dlib" for dlib's own descriptors, "arcface-<network>" for an
// ArcFace-class network on dlib's front end (the names stores have always
// recorded), and "<front end>+<network>" on any other front end
// ("faceplugin+fr_feature").

// FrontEnd finds faces and their 68 iBUG landmarks.
type FrontEnd struct {
	// Name names the front end in backend names.
	Name string
	// Files are the files it needs in the model directory.
	Files []string
	// Embeds reports that the front end's own faces carry descriptors
	// (dlib computes its ResNet descriptor with its landmarks), so that it
	// is also an embedder of that name.
	Embeds bool
	// Open opens it from the model directory with a pool of workers (0:
	// one per CPU).
	Open func(dir string, workers int) (Landmarker, error)
}

// A Landmarker is an opened front end: it finds faces with their Box and
// 68 Landmarks (descriptors, if any, are its own).
type Landmarker interface {
	arcface.Landmarker
	// Close releases the front end.
	Close() error
}

// Embedder turns the faces a front end finds into descriptors.
type Embedder struct {
	// Name names the embedder in backend names.
	Name string
	// Spec is the ArcFace-class network; nil means the front end's own
	// descriptors (dlib).
	Spec *arcface.Spec
}

// FrontEnds lists the front ends, default first. A new front end (the
// all-ONNX one of issue 13) is one more entry.
var FrontEnds = []FrontEnd{
	{
		Name: "dlib", Files: dlib.ModelFiles, Embeds: true,
		Open: func(dir string, workers int) (Landmarker, error) {
			return dlib.Open(dir, dlib.Config{Workers: workers})
		},
	},
	{
		Name: "faceplugin", Files: faceplugin.ModelFiles,
		Open: func(dir string, workers int) (Landmarker, error) {
			return faceplugin.Open(dir, faceplugin.Config{Workers: workers})
		},
	},
}

// Embedders returns the ArcFace-class embedders, one per arcface.Specs
// entry, named by the network.
func Embedders() []Embedder {
	var e []Embedder
	for _, s := range arcface.Specs {
		e = append(e, Embedder{Name: s.Name, Spec: &s})
	}
	return e
}

// Names lists every backend name Open accepts.
func Names() []string {
	var n []string
	for _, fe := range FrontEnds {
		if fe.Embeds {
			n = append(n, name(fe, Embedder{Name: fe.Name}))
		}
		for _, e := range Embedders() {
			n = append(n, name(fe, e))
		}
	}
	return n
}

func name(fe FrontEnd, e Embedder) string {
	switch {
	case e.Spec == nil:
		return e.Name
	case fe.Name == "dlib":
		return "arcface-" + e.Name
	}
	return fe.Name + "+" + e.Name
}

// parse splits a backend name into its front end and embedder.
func parse(n string) (FrontEnd, Embedder, error) {
	for _, fe := range FrontEnds {
		if fe.Embeds && n == name(fe, Embedder{Name: fe.Name}) {
			return fe, Embedder{Name: fe.Name}, nil
		}
		for _, e := range Embedders() {
			if n == name(fe, e) {
				return fe, e, nil
			}
		}
	}
	return FrontEnd{}, Embedder{}, fmt.Errorf("%w %q (have %s)", ErrUnknownBackend, n, strings.Join(Names(), ", "))
}

// Check returns an error wrapping ErrUnknownBackend unless n is one of
// Names.
func Check(n string) error {
	_, _, err := parse(n)
	return err
}

// Files lists the files backend n needs in the model directory, or nil
// when n is not one of Names.
func Files(n string) []string {
	fe, e, err := parse(n)
	if err != nil {
		return nil
	}
	f := slices.Clone(fe.Files)
	if e.Spec != nil {
		f = append(f, e.Spec.File)
	}
	return f
}

// Backend is an opened face backend: a facematch.Extractor whose faces
// carry 68 landmarks (which the quality gate and the liveness checks
// need) and the embedder's descriptors.
type Backend struct {
	facematch.Extractor
	// Name is the backend's name; FrontEnd and Embedder its parts.
	Name, FrontEnd, Embedder string
	// Workers is the front end's pool size.
	Workers int

	mat arcface.MatLandmarker // the front end, when it decodes and finds faces in a gocv.Mat

	closers []func() error
}

// Open opens backend n from the model directory dir with a pool of
// workers (0: one per CPU).
func Open(n, dir string, workers int) (*Backend, error) {
	fe, e, err := parse(n)
	if err != nil {
		return nil, err
	}
	lm, err := fe.Open(dir, workers)
	if err != nil {
		return nil, err
	}
	b := &Backend{Name: n, FrontEnd: fe.Name, Embedder: e.Name, Workers: workers, closers: []func() error{lm.Close}}
	b.mat, _ = lm.(arcface.MatLandmarker)
	if w, ok := lm.(interface{ Workers() int }); ok {
		b.Workers = w.Workers()
	}
	if e.Spec == nil {
		ex, ok := lm.(facematch.Extractor)
		if !ok {
			lm.Close()
			return nil, fmt.Errorf("%w: front end %s computes no descriptors", ErrUnknownBackend, fe.Name)
		}
		b.Extractor = ex
		return b, nil
	}
	a, err := arcface.Open(dir, *e.Spec, lm, arcface.Config{Workers: workers})
	if err != nil {
		lm.Close()
		return nil, err
	}
	b.Extractor = a
	b.closers = append([]func() error{a.Close}, b.closers...)
	return b, nil
}

// Close releases the embedder and the front end.
func (b *Backend) Close() error {
	var errs []error
	for _, c := range b.closers {
		errs = append(errs, c())
	}
	return errors.Join(errs...)
}
