package arcface

import (
	"os"
	"path/filepath"
	"sort"
	"testing"

	"github.com/facegate/facegate/facematch"
	"github.com/facegate/facegate/facematch/faceplugin"
	"github.com/facegate/facegate/internal/faceset"
	"github.com/facegate/facegate/internal/testenv"
)

// setDescriptors embeds every photo (*.jpg, *.jpeg, *.png) of the labelled
// set dir (dir/<identity>/<photo>, dir/GROUPS.tsv) with the all-ONNX
// pipeline (faceplugin front end, spec), taking the largest face where the
// detector finds several (LFW's crops often show a second, partial face at
// an edge). It returns identities, groups and descriptors in the same
// order.
func setDescriptors(t *testing.T, dir string, spec Spec) (ids, groups []string, desc [][]float32) {
	t.Helper()
	gr, err := faceset.ReadGroups(filepath.Join(dir, "GROUPS.tsv"))
	if err != nil {
		t.Fatal(err)
	}
	det, err := faceplugin.Open(testenv.Models(t, faceplugin.ModelFiles...), faceplugin.Config{Workers: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer det.Close()
	e, err := Open(testenv.ModelDir(), spec, det, Config{Workers: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	names := make([]string, 0, len(gr))
	for id := range gr {
		names = append(names, id)
	}
	sort.Strings(names)
	for _, id := range names {
		var files []string
		for _, pat := range []string{"*.jpg", "*.jpeg", "*.png"} {
			f, _ := filepath.Glob(filepath.Join(dir, id, pat))
			files = append(files, f...)
		}
		sort.Strings(files)
		for _, p := range files {
			data, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			faces, err := e.Extract(data)
			if err != nil {
				t.Fatalf("%s: %v", p, err)
			}
			if len(faces) == 0 {
				t.Logf("%s: no face", p)
				continue
			}
			sort.SliceStable(faces, func(i, j int) bool { return faces[i].Box.Dx() > faces[j].Box.Dx() })
			ids = append(ids, id)
			groups = append(groups, gr[id])
			desc = append(desc, faces[0].Descriptor)
		}
	}
	return ids, groups, desc
}

// impostorsByGroup returns the distances of the different-person pairs
// within each group.
func impostorsByGroup(ids, groups []string, desc [][]float32) map[string][]float32 {
	imp := map[string][]float32{}
	for i := range desc {
		for j := i + 1; j < len(desc); j++ {
			if ids[i] != ids[j] && groups[i] == groups[j] {
				imp[groups[i]] = append(imp[groups[i]], facematch.CosineDistance(desc[i], desc[j]))
			}
		}
	}
	return imp
}

// TestFRFeatureThreshold recomputes FRFeature.Threshold: the smallest of
// the thresholds that bound false accepts within each group of each shared
// set at the lowest rate the set can resolve — 0.1 % on the LFW set (1,054
// grey photos, 341 people; 14,213 East-Asian impostor pairs) and 1 % on the
// colour set (241 East-Asian pairs) — each the largest multiple of 0.001
// at which at most that fraction of the group's different-person pairs
// match. The colour set's East-Asian group binds: its K-pop photos put
// different people much closer than LFW's (0.588 would accept 4 % of its
// East-Asian impostor pairs), and a gate must hold its false accepts on
// the hardest population it serves.
func TestFRFeatureThreshold(t *testing.T) {
	if testing.Short() {
		t.Skip("embeds the 1,054 LFW photos: not in -short mode")
	}
	sets := []struct {
		name string
		dir  string
		far  float64
	}{
		{"lfw", filepath.Join(testenv.SharedDir(), "testdata", "lfw"), 0.001},
		{"faces", testenv.Faces(t), 0.01},
	}
	got := float32(2)
	for _, set := range sets {
		imp := impostorsByGroup(setDescriptors(t, set.dir, FRFeature))
		for _, g := range []string{"east-asian", "other"} {
			tg := thresholdAtFAR(imp[g], set.far)
			t.Logf("%s %s: threshold %.3f for FAR %g from %d impostor pairs", set.name, g, tg, set.far, len(imp[g]))
			if float64(len(imp[g])) < 1/set.far {
				t.Fatalf("only %d %s impostor pairs in %s, too few to bound FAR at %g", len(imp[g]), g, set.name, set.far)
			}
			got = min(got, tg)
		}
	}
	if got != FRFeature.Threshold {
		t.Errorf("measured threshold %.3f, FRFeature.Threshold is %.3f", got, FRFeature.Threshold)
	}
}
