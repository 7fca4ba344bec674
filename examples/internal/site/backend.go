package site

import (
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/facegate/facegate/examples/internal/exitcode"
	"github.com/facegate/facegate/facematch"
	"github.com/facegate/facegate/facematch/arcface"
	"github.com/facegate/facegate/facematch/dlib"
	"github.com/facegate/facegate/facematch/faceplugin"
)

// DefaultBackend is the face backend of a new store. It is chosen by the
// rule of issue 13 — the best East-Asian TAR at FAR ≤ 1 % among backends
// within one point of the best TAR on the other group — applied to the
// measurements in docs/arcface.md: fr_feature (faceplugin-face-recognition-js,
// MIT) behind the all-ONNX front end of facematch/faceplugin. On the grey
// LFW set it accepts 99.2 % of East-Asian genuine pairs at FAR 0.1 %; on the
// small colour set 8 of 12 at FAR ≤ 1 % (dlib and arcface-faceres: 3 and 4).
// The front end replaces dlib's detector and Debian's non-commercial
// 68-point predictor, and is as accurate as dlib's on both sets.
const DefaultBackend = "faceplugin+fr_feature"

// Backends lists the backend names CheckBackend accepts: dlib, every
// ArcFace-class network behind dlib's faces and landmarks
// ("arcface-<network>"), and every one behind the all-ONNX front end
// ("faceplugin+<network>").
func Backends() []string {
	n := []string{"dlib"}
	for _, s := range arcface.Specs {
		n = append(n, "arcface-"+s.Name, "faceplugin+"+s.Name)
	}
	return n
}

// CheckBackend returns an error wrapping exitcode.ErrUsage unless name is
// one of Backends.
func CheckBackend(name string) error {
	for _, n := range Backends() {
		if n == name {
			return nil
		}
	}
	return fmt.Errorf("%w: unknown --model %q (have %s)", exitcode.ErrUsage, name, strings.Join(Backends(), ", "))
}

// spec returns the ArcFace-class network of a backend name and whether its
// front end is faceplugin's.
func spec(name string) (s arcface.Spec, faceplugin, ok bool) {
	for _, s := range arcface.Specs {
		switch name {
		case "arcface-" + s.Name:
			return s, false, true
		case "faceplugin+" + s.Name:
			return s, true, true
		}
	}
	return arcface.Spec{}, false, false
}

// ModelFiles lists the files the named backend needs in the model
// directory (an ArcFace-class backend also needs its front end's), or nil
// if name is not one of Backends.
func ModelFiles(name string) []string {
	if name == "dlib" {
		return dlib.ModelFiles
	}
	s, fp, ok := spec(name)
	switch {
	case !ok:
		return nil
	case fp:
		return append(append([]string{}, faceplugin.ModelFiles...), s.File)
	}
	return append(append([]string{}, dlib.ModelFiles...), s.File)
}

// Backend is an opened face extractor: dlib's ResNet, or an ArcFace-class
// network with dlib or faceplugin as its face and landmark finder. Either
// way the faces it returns carry 68 iBUG landmarks, which the quality gate
// and the liveness checks need.
type Backend struct {
	facematch.Extractor
	front io.Closer // the front end behind an ArcFace one
}

// OpenBackend opens the named backend from the model directory dir with a
// pool of workers (0: one per CPU).
func OpenBackend(name, dir string, workers int) (*Backend, error) {
	if err := CheckBackend(name); err != nil {
		return nil, err
	}
	if name == "dlib" {
		d, err := dlib.Open(dir, dlib.Config{Workers: workers})
		if err != nil {
			return nil, fmt.Errorf("%w: %w", exitcode.ErrSetup, err)
		}
		return &Backend{Extractor: d}, nil
	}
	s, fp, _ := spec(name)
	var lm arcface.Landmarker
	var front io.Closer
	if fp {
		d, err := faceplugin.Open(dir, faceplugin.Config{Workers: workers})
		if err != nil {
			return nil, fmt.Errorf("%w: %w", exitcode.ErrSetup, err)
		}
		lm, front = d, d
	} else {
		d, err := dlib.Open(dir, dlib.Config{Workers: workers})
		if err != nil {
			return nil, fmt.Errorf("%w: %w", exitcode.ErrSetup, err)
		}
		lm, front = d, d
	}
	a, err := arcface.Open(dir, s, lm, arcface.Config{Workers: workers})
	if err != nil {
		front.Close()
		return nil, fmt.Errorf("%w: %w", exitcode.ErrSetup, err)
	}
	return &Backend{Extractor: a, front: front}, nil
}

// Close releases the networks.
func (b *Backend) Close() error {
	err := b.Extractor.Close()
	if b.front != nil {
		err = errors.Join(err, b.front.Close())
	}
	return err
}
