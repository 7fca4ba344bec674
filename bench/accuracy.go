package main

import (
	"errors"
	"flag"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/schollz/progressbar/v3"

	"github.com/facegate/facegate/bench/metrics"
	"github.com/facegate/facegate/bench/report"
	"github.com/facegate/facegate/facematch"
	"github.com/facegate/facegate/facematch/dlib"
	"github.com/facegate/facegate/internal/idols"
)

// farTargets are the false accept rates the report gives the TAR at.
var farTargets = []float64{0.01, 0.001, 0.0001}

const (
	histBins    = 60
	curvePoints = 400 // Curve.Thin resolution for plots and JSON
)

type photo struct {
	path     string // relative to the set, identity/name
	identity string
}

type extracted struct {
	desc []float32
	skip string // why the photo is left out; "" when desc is set
	// largestOf is the number of faces the photo held when --largest chose
	// the largest of several, else 0.
	largestOf int
}

func runAccuracy(args []string) error {
	fs := flag.NewFlagSet("accuracy", flag.ContinueOnError)
	var c common
	c.register(fs, "accuracy")
	set := fs.String("set", "", "photo set: DIR/<identity>/<photo>")
	descriptors := fs.String("descriptors", "", "instead of --set: precomputed descriptors in go-face's reference JSON (testdata/dlib-reference/idols.json), compared as dlib's ResNet")
	label := fs.String("label", "all", "name of the whole-set population")
	groups := fs.String("groups", "", "TSV file identity<TAB>group (header line allowed): figures per group")
	seed := fs.Uint64("seed", 1, "seed of the impostor pair sample")
	maxImp := fs.Int("max-impostors", 2_000_000, "score every impostor pair of a population up to this many, else a seeded sample of this many")
	workers := fs.Int("workers", 0, "extraction workers (0: the backend's pool, one per CPU)")
	largest := fs.Bool("largest", false, "use the largest face of a photo with several instead of skipping it")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if (*set == "") == (*descriptors == "") || fs.NArg() > 0 {
		fs.Usage()
		return errors.New("accuracy needs exactly one of --set DIR and --descriptors FILE, and no other arguments")
	}
	groupOf, err := readGroups(*groups)
	if err != nil {
		return err
	}
	if *descriptors != "" {
		return accuracyOfDescriptors(*descriptors, *label, groupOf, *seed, *maxImp, c.out, *groups)
	}
	photos, b, err := openSet(*set, c, *workers)
	if err != nil {
		return err
	}
	defer b.close()

	loadStart := report.LoadAverage()
	start := time.Now()
	res := extractAll(b, *set, photos, *largest)
	elapsed := time.Since(start)

	acc := &report.Accuracy{
		Set: *set, GroupsFile: *groups, Photos: len(photos), Workers: b.workers,
		ExtractSeconds: elapsed.Seconds(), Seed: *seed, MaxImpostors: *maxImp,
		Largest: *largest, ByLargest: byLargest(photos, res),
	}
	notes, err := evaluate(acc, photos, res, groupOf, b.ex.Model(), *label)
	if err != nil {
		return err
	}

	r := &report.Report{
		Kind: "accuracy", Command: commandLine(), Machine: report.ThisMachine(),
		Model: b.info, Accuracy: acc, Notes: notes,
	}
	r.Machine.LoadStart, r.Machine.LoadEnd = loadStart, report.LoadAverage()
	return finish(c.out, r)
}

// finish prints the headline figures and writes the report.
func finish(out string, r *report.Report) error {
	for _, l := range r.Accuracy.Lines {
		if l.EER != nil {
			fmt.Fprintf(os.Stderr, "bench: %-12s EER %.2f %% at %.4f; %d genuine, %d impostor pairs\n", l.Name, 100*l.EER.Rate, l.EER.Threshold, l.Genuine.N, l.Impostor.N)
		}
	}
	return write(out, r)
}

// accuracyOfDescriptors is the accuracy command on a precomputed descriptor
// set: no extraction, dlib's model and threshold.
func accuracyOfDescriptors(path, label string, groupOf map[string]string, seed uint64, maxImp int, out, groupsFile string) error {
	ds, err := idols.ReadFile(path)
	if err != nil {
		return err
	}
	h, err := report.HashFile(path)
	if err != nil {
		return err
	}
	m := facematch.Model{ID: "dlib-resnet-v1/reference-descriptors", Dim: ds.Dim(), Metric: facematch.Euclidean, Threshold: dlib.Threshold}
	photos := make([]photo, len(ds.Faces))
	res := make([]extracted, len(ds.Faces))
	for i, f := range ds.Faces {
		photos[i] = photo{path: fmt.Sprintf("face %d", i), identity: f.Identity}
		res[i] = extracted{desc: f.Descriptor}
	}
	acc := &report.Accuracy{Set: path, GroupsFile: groupsFile, Photos: len(photos), Seed: seed, MaxImpostors: maxImp}
	notes, err := evaluate(acc, photos, res, groupOf, m, label)
	if err != nil {
		return err
	}
	info := modelInfo(m)
	info.Source = fmt.Sprintf("precomputed descriptors read from %s (%d faces, %d identities listed), not computed by this run. "+
		"For go-face's testdata/dlib-reference/idols.json these are go-face's reference descriptors of Korean and Chinese people, "+
		"computed with dlib's original float ResNet weights (FaceGate's converted uint8 weights move descriptors by about 0.04).", path, len(ds.Faces), ds.Listed)
	info.ThresholdPolicy = fmt.Sprintf("the default threshold %.3f is facematch/dlib.Threshold, derived from idols.json itself "+
		"(largest distance with at most 1 %% of its different-person pairs accepted): on that file the FAR at the default threshold is in-sample.", m.Threshold)
	info.Files = []report.File{h}
	r := &report.Report{
		Kind: "accuracy", Command: commandLine(), Machine: report.ThisMachine(),
		Model: info, Accuracy: acc, Notes: notes,
	}
	r.Machine.LoadEnd = report.LoadAverage()
	return finish(out, r)
}

// evaluate labels the extracted faces of photos (res in photo order), scores
// every population's pairs with model m's distance and fills acc.Lines (the
// whole set, named label, first), acc.Skipped, acc.Faces and acc.Identities.
// groupOf (nil without --groups) maps identities to groups. It returns
// remarks for the report.
func evaluate(acc *report.Accuracy, photos []photo, res []extracted, groupOf map[string]string, m facematch.Model, label string) ([]string, error) {
	acc.Skipped = []report.Skip{}
	var notes []string
	// Faces that entered the pairs, with their labels.
	var descs [][]float32
	var idNames, groupNames []string
	idIndex, groupIndex := map[string]int{}, map[string]int{}
	var labels metrics.Labels
	ungrouped := map[string]bool{}
	for _, g := range sortedValues(groupOf) {
		groupIndex[g] = len(groupNames)
		groupNames = append(groupNames, g)
	}
	for i, p := range photos {
		if res[i].skip != "" {
			acc.Skipped = append(acc.Skipped, report.Skip{Path: p.path, Reason: res[i].skip})
			continue
		}
		id, ok := idIndex[p.identity]
		if !ok {
			id = len(idNames)
			idIndex[p.identity] = id
			idNames = append(idNames, p.identity)
		}
		descs = append(descs, res[i].desc)
		labels.Identity = append(labels.Identity, id)
		if groupOf != nil {
			g, ok := groupOf[p.identity]
			if !ok {
				g = "ungrouped"
				ungrouped[p.identity] = true
			}
			gi, ok := groupIndex[g]
			if !ok {
				gi = len(groupNames)
				groupIndex[g] = gi
				groupNames = append(groupNames, g)
			}
			labels.Group = append(labels.Group, gi)
		}
	}
	if len(ungrouped) > 0 {
		notes = append(notes, fmt.Sprintf("identities missing from %s, put in group \"ungrouped\": %s", acc.GroupsFile, strings.Join(sortedKeys(ungrouped), ", ")))
	}
	acc.Faces, acc.Identities = len(descs), len(idNames)

	var distErr error
	dist := func(a, b int) float32 {
		d, err := m.Distance(descs[a], descs[b])
		if err != nil && distErr == nil {
			distErr = fmt.Errorf("distance of %s and %s: %w", faceName(photos, res, a), faceName(photos, res, b), err)
		}
		return d
	}

	type scope struct {
		name          string
		genuine, imps int // metrics scope of the genuine and impostor pairs
	}
	scopes := []scope{{label, metrics.AllGroups, metrics.AllGroups}}
	if groupOf != nil {
		for gi, g := range groupNames {
			scopes = append(scopes, scope{g, gi, gi})
		}
		if len(groupNames) > 1 {
			scopes = append(scopes, scope{"cross-group", metrics.AllGroups, metrics.CrossGroup})
		}
	}
	var lines []report.Line
	var top float32 // the largest score, for the common histogram range
	var scores [][2][]float32
	for _, s := range scopes {
		var gen []float32
		var pairs []metrics.ScoredPair[int] // by identity, for the leave-one-identity-out figures
		labels.GenuinePairs(s.genuine, func(a, b int) {
			d := dist(a, b)
			gen = append(gen, d)
			pairs = append(pairs, scored(labels, a, b, d))
		})
		sample, err := labels.Impostors(s.imps, acc.MaxImpostors, acc.Seed)
		if err != nil {
			return nil, err
		}
		imp := make([]float32, 0, sample.Len())
		sample.ForEach(func(a, b int) {
			d := dist(a, b)
			imp = append(imp, d)
			pairs = append(pairs, scored(labels, a, b, d))
		})
		if distErr != nil {
			return nil, distErr
		}
		if s.name != "cross-group" {
			acc.LOIO = append(acc.LOIO, loioLines(s.name, pairs)...)
		}
		l := report.Line{
			Name: s.name, ImpostorTotal: sample.Total, Sampled: sample.Sampled(),
			Genuine: metrics.Summarize(gen), Impostor: metrics.Summarize(imp),
		}
		l.Identities, l.Faces = population(labels, s.imps)
		if s.name == "cross-group" {
			l.Note = "genuine pairs are all genuine pairs of the set; impostor pairs join faces of different groups"
		}
		fillLine(&l, gen, imp, float64(m.Threshold))
		lines = append(lines, l)
		scores = append(scores, [2][]float32{gen, imp})
		for _, v := range [][]float32{gen, imp} {
			if len(v) > 0 {
				top = max(top, slices.Max(v))
			}
		}
	}
	hi := max(0.1, math.Ceil(float64(top)*10)/10)
	for i := range lines {
		gh, err1 := metrics.NewHistogram(scores[i][0], 0, hi, histBins)
		ih, err2 := metrics.NewHistogram(scores[i][1], 0, hi, histBins)
		if err := errors.Join(err1, err2); err != nil {
			return nil, err
		}
		lines[i].GenuineHist, lines[i].ImpostorHist = &gh, &ih
	}
	acc.Lines = lines
	return notes, nil
}

// faceName returns the photo path of the i-th face that entered the pairs.
func faceName(photos []photo, res []extracted, i int) string {
	for k, r := range res {
		if r.skip != "" {
			continue
		}
		if i == 0 {
			return photos[k].path
		}
		i--
	}
	return fmt.Sprintf("face %d", i)
}

// fillLine computes the curve figures of a population from its scores.
func fillLine(l *report.Line, gen, imp []float32, threshold float64) {
	c, err := metrics.ROC(gen, imp)
	if err != nil {
		l.Problem = strings.TrimPrefix(err.Error(), "metrics: ")
		return
	}
	if e, err := c.EqualErrorRate(); err == nil {
		l.EER = &e
	}
	for _, far := range farTargets {
		a, err := c.TARAtFAR(far)
		if err != nil {
			panic(err) // targets are constants in (0, 1) and both kinds exist
		}
		l.AtFAR = append(l.AtFAR, a)
	}
	p := c.At(threshold)
	l.AtThreshold = &p
	thin := c.Thin(curvePoints)
	l.Curve = &thin
}

// population counts the identities and faces an impostor scope's pairs are
// drawn from.
func population(l metrics.Labels, imps int) (ids, faces int) {
	seen := map[int]bool{}
	for i, id := range l.Identity {
		if imps >= 0 && l.Group[i] != imps {
			continue
		}
		faces++
		seen[id] = true
	}
	return len(seen), faces
}

// listSet returns the photos of DIR/<identity>/<photo>, sorted by path.
// Files directly in DIR (such as GROUPS.tsv) and hidden entries are ignored.
func listSet(dir string) ([]photo, error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var out []photo
	for _, e := range ents {
		if !e.IsDir() || strings.HasPrefix(e.Name(), ".") {
			continue
		}
		files, err := os.ReadDir(filepath.Join(dir, e.Name()))
		if err != nil {
			return nil, err
		}
		for _, f := range files {
			if f.IsDir() || strings.HasPrefix(f.Name(), ".") {
				continue
			}
			out = append(out, photo{path: e.Name() + "/" + f.Name(), identity: e.Name()})
		}
	}
	slices.SortFunc(out, func(a, b photo) int { return strings.Compare(a.path, b.path) })
	return out, nil
}

// extractAll extracts the single face of every photo with b.workers
// goroutines, showing a progress bar on stderr. Results are in photo order.
func extractAll(b *backend, dir string, photos []photo, largest bool) []extracted {
	res := make([]extracted, len(photos))
	bar := progressbar.NewOptions(len(photos),
		progressbar.OptionSetWriter(os.Stderr),
		progressbar.OptionSetDescription("extracting"),
		progressbar.OptionShowCount(),
		progressbar.OptionShowIts(),
		progressbar.OptionSetItsString("photos"),
		progressbar.OptionThrottle(200*time.Millisecond),
		progressbar.OptionOnCompletion(func() { fmt.Fprintln(os.Stderr) }),
	)
	jobs := make(chan int)
	var wg sync.WaitGroup
	for range max(b.workers, 1) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range jobs {
				res[i] = extractOne(b.ex, filepath.Join(dir, filepath.FromSlash(photos[i].path)), largest)
				bar.Add(1)
			}
		}()
	}
	for i := range photos {
		jobs <- i
	}
	close(jobs)
	wg.Wait()
	bar.Finish()
	return res
}

func extractOne(ex facematch.Extractor, path string, largest bool) extracted {
	data, err := os.ReadFile(path)
	if err != nil {
		return extracted{skip: "read error: " + err.Error()}
	}
	faces, err := ex.Extract(data)
	if err != nil {
		if errors.Is(err, facematch.ErrDecode) {
			return extracted{skip: "decode error: " + err.Error()}
		}
		return extracted{skip: "extraction error: " + err.Error()}
	}
	f, decided, err := pickFace(faces, largest)
	var multi *facematch.MultipleFacesError
	switch {
	case errors.Is(err, facematch.ErrNoFace):
		return extracted{skip: "no face"}
	case errors.As(err, &multi):
		return extracted{skip: fmt.Sprintf("several faces (%d)", multi.N)}
	case err != nil:
		return extracted{skip: err.Error()}
	}
	if decided {
		return extracted{desc: f.Descriptor, largestOf: len(faces)}
	}
	return extracted{desc: f.Descriptor}
}

func sortedValues(m map[string]string) []string {
	set := map[string]bool{}
	for _, v := range m {
		set[v] = true
	}
	return sortedKeys(set)
}

func sortedKeys(m map[string]bool) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
