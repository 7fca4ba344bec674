// Package examples holds only this test; the example programs are in its
// subdirectories.
package examples

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// The face path (frame → probe → liveness verdict → door decision) belongs
// to the library; the examples only wire it. TestNoFaceProcessing enforces
// that on the examples' non-test sources by their syntax:
//
//   - they import no cgo face backend or pixel library (gocv, go-face,
//     facematch/dlib, facematch/arcface, image drawing): backends are opened
//     through facematch/probe's registry;
//   - from the library's face packages below the pipeline (capture,
//     quality, liveness, antispoof) they use only the names in allowed —
//     opening a camera, video or directory, naming a quality gate or
//     liveness check, matching a rejection to a hint — and never a function
//     that measures pixels or landmarks;
//   - they read no face's Landmarks and no frame's Mat (pixels).
//
// A failure names the file, line and identifier: move that logic into the
// library (facematch/probe is the place for the face path) and call it.
func TestNoFaceProcessing(t *testing.T) {
	problems, files, err := faceProcessing(".")
	if err != nil {
		t.Fatal(err)
	}
	if files < 10 {
		t.Fatalf("checked only %d files: is the test running in examples/?", files)
	}
	for _, p := range problems {
		t.Error(p)
	}
}

// TestNoFaceProcessingCatches runs the check on testdata/boundary, a
// program that measures landmarks and pixels itself, and wants each of its
// violations reported.
func TestNoFaceProcessingCatches(t *testing.T) {
	problems, files, err := faceProcessing(filepath.Join("testdata", "boundary"))
	if err != nil || files != 1 {
		t.Fatalf("%d files, %v", files, err)
	}
	got := strings.Join(problems, "\n")
	for _, want := range []string{"imports gocv.io/x/gocv", "imports github.com/facegate/facegate/facematch/dlib", "uses quality.EyeAspectRatio", "uses capture.Measure", "reads .Landmarks", "reads .Mat"} {
		if !strings.Contains(got, want) {
			t.Errorf("check missed %q; reported:\n%s", want, got)
		}
	}
	if strings.Contains(got, "capture.OpenDir") || strings.Contains(got, "quality.Verification") {
		t.Errorf("check reported an allowed name:\n%s", got)
	}
}

// faceProcessing walks the non-test Go files under root and returns every
// violation of the rules above, and the number of files read.
func faceProcessing(root string) ([]string, int, error) {
	var problems []string
	forbidden := map[string]bool{
		"gocv.io/x/gocv":                                 true,
		"github.com/Kagami/go-face":                      true,
		"github.com/facegate/facegate/facematch/dlib":    true,
		"github.com/facegate/facegate/facematch/arcface": true,
		"image/draw":              true,
		"golang.org/x/image/draw": true,
	}
	allowed := map[string]map[string]bool{
		"github.com/facegate/facegate/facematch/capture":   set("OpenCamera", "OpenVideo", "OpenDir", "Source", "Frame", "ErrEmpty", "ErrOpen", "ErrRead", "ErrClosed"),
		"github.com/facegate/facegate/facematch/quality":   set("Config", "Enrollment", "Verification", "Rejection", "NoFace", "MultipleFaces", "TooSmall", "PoseOff", "TooDark", "TooBright", "Blurred"),
		"github.com/facegate/facegate/facematch/liveness":  set("Liveness", "All", "DefaultBlink", "DefaultMotion"),
		"github.com/facegate/facegate/facematch/antispoof": set("Open", "Net", "FRLiveness", "Default"),
	}
	fields := set("Landmarks", "Mat")
	var files int
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err == nil && d.IsDir() && d.Name() == "testdata" && path != root {
			return filepath.SkipDir
		}
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return err
		}
		files++
		fset := token.NewFileSet()
		f, err := parser.ParseFile(fset, path, nil, parser.SkipObjectResolution)
		if err != nil {
			return err
		}
		names := map[string]string{} // local name → import path
		for _, im := range f.Imports {
			p, _ := strconv.Unquote(im.Path.Value)
			if forbidden[p] {
				problems = append(problems, fmt.Sprintf("%s: imports %s: open backends through facematch/probe", fset.Position(im.Pos()), p))
			}
			name := p[strings.LastIndex(p, "/")+1:]
			if im.Name != nil {
				name = im.Name.Name
			}
			names[name] = p
		}
		ast.Inspect(f, func(n ast.Node) bool {
			sel, ok := n.(*ast.SelectorExpr)
			if !ok {
				return true
			}
			if id, ok := sel.X.(*ast.Ident); ok {
				if ok, listed := allowed[names[id.Name]]; listed && !ok[sel.Sel.Name] {
					problems = append(problems, fmt.Sprintf("%s: uses %s.%s: face processing belongs in the library", fset.Position(sel.Pos()), id.Name, sel.Sel.Name))
				}
				if _, isPkg := names[id.Name]; isPkg {
					return true
				}
			}
			if fields[sel.Sel.Name] {
				problems = append(problems, fmt.Sprintf("%s: reads .%s: landmark and pixel work belongs in the library", fset.Position(sel.Pos()), sel.Sel.Name))
			}
			return true
		})
		return nil
	})
	return problems, files, err
}

func set(names ...string) map[string]bool {
	m := map[string]bool{}
	for _, n := range names {
		m[n] = true
	}
	return m
}
