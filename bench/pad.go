package main

import (
	"bufio"
	"errors"
	"flag"
	"fmt"
	"image"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/facegate/facegate/bench/metrics"
	"github.com/facegate/facegate/bench/report"
	"github.com/facegate/facegate/facematch"
	"github.com/facegate/facegate/facematch/antispoof"
	"github.com/facegate/facegate/facematch/capture"
	faceprobe "github.com/facegate/facegate/facematch/probe"
)

// padCurvePoints is the DET curves' resolution in the report: a few
// hundred bona fide and attack scores per line need fewer points than the
// accuracy curves (and four networks' reports stay small).
const padCurvePoints = 60

// padTarget is the ISO/IEC 30107-3 operating point the issue asks for:
// APCER and BPCER both at most 5 %.
const padTarget = 0.05

// padImage is one row of a PAD set's MANIFEST.tsv.
type padImage struct {
	path   string // relative to the set
	attack string // "" for bona fide, else print, replay, mask, unknown
	source string // source repository
}

// padScored is what the pipeline made of one image.
type padScored struct {
	padImage
	noFace bool
	// outs[k][o] are network k's raw outputs with channel order o (0 RGB,
	// 1 BGR).
	outs [][2][][]float32
	// fixed[k], when set, is network k's bona fide score with its Spec's
	// preparation, read from a --scores file (--rescore) instead of outs.
	fixed []float64
	// passive[k] and embed are network k's and the descriptor's time for
	// this image (the descriptor includes detection and landmarks).
	passive []time.Duration
	embed   time.Duration
}

func runPad(args []string) error {
	fs := flag.NewFlagSet("pad", flag.ContinueOnError)
	var c common
	c.register(fs, "pad")
	set := fs.String("set", "", "PAD set laid out like ../shared/testdata/pad, with its MANIFEST.tsv")
	bonafide := fs.String("bonafide", "", "comma-separated photo directories whose every image is bona fide (BPCER only), e.g. ../shared/testdata/faces,../shared/testdata/lfw")
	netNames := fs.String("net", antispoof.Default.Name, "comma-separated passive networks (facematch/antispoof Specs) scored on the same faces; with more than one, each report goes to OUT/<network>")
	threshold := fs.Float64("threshold", math.NaN(), "operating point: bona fide score at or over which a face passes (default: the network's Spec.Threshold; one --net only)")
	bgr := fs.Bool("bgr", false, "feed the network B,G,R (default: the Spec's order)")
	class := fs.Int("class", 0, "the output taken as the bona fide score (default: the Spec's)")
	limit := fs.Int("limit", 0, "read only every n-th image of the manifest (0 or 1: all), for a quick slice")
	workers := fs.Int("workers", 2, "images scored at once")
	boxScale := fs.Float64("box-scale", 1, "scale the front end's face box about its centre before the network's own widening (dlib's HOG boxes are tighter than the detector the network was trained with)")
	whole := fs.Bool("whole", false, "feed the whole image instead of the widened face box (most pad/ images are tight crops); the face must still be found")
	scoresOut := fs.String("scores", "", "also write every image's bona fide score per network to this TSV file (for studies such as the fused rule; not a report file)")
	rescore := fs.String("rescore", "", "read the scores of an earlier run's --scores file instead of running the front end and the networks (another --threshold or operating point; no preparation variants, no cost)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *set == "" || fs.NArg() > 0 {
		fs.Usage()
		return errors.New("pad needs --set DIR and no other arguments")
	}
	set2 := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set2[f.Name] = true })
	var specs []antispoof.Spec
	for _, n := range strings.Split(*netNames, ",") {
		spec, err := antispoof.Lookup(n)
		if err != nil {
			return err
		}
		if set2["bgr"] {
			spec.BGR = *bgr
		}
		if set2["class"] {
			spec.BonaFide = *class
		}
		if !math.IsNaN(*threshold) {
			if strings.Contains(*netNames, ",") {
				return errors.New("pad: --threshold needs a single --net")
			}
			spec.Threshold = *threshold
		}
		specs = append(specs, spec)
	}
	if *rescore != "" {
		return padRescore(*rescore, *set, c.out, specs)
	}
	images, err := readPadManifest(*set)
	if err != nil {
		return err
	}
	images = everyNth(images, *limit)
	var extra []padImage
	for _, d := range strings.Split(*bonafide, ",") {
		if d == "" {
			continue
		}
		ps, err := listBonafide(d)
		if err != nil {
			return err
		}
		extra = append(extra, everyNth(ps, *limit)...)
	}

	b, err := openBackend(c.model, c.models, *workers)
	if err != nil {
		return err
	}
	defer b.close()
	nets := make([][2]*antispoof.Net, len(specs))
	for k, spec := range specs {
		rgb, bgrSpec := spec, spec
		rgb.BGR, bgrSpec.BGR = false, true
		for i, s := range []antispoof.Spec{rgb, bgrSpec} {
			if spec.Output == antispoof.LeafScore && i != channelOrder(spec) {
				continue // 4.5 G multiply-adds a frame: only the order the package's code feeds
			}
			if nets[k][i], err = antispoof.Open(c.models, s); err != nil {
				return err
			}
			defer nets[k][i].Close()
		}
	}
	start := time.Now()
	load := report.LoadAverage()
	scored := scorePad(b.ex, nets, *set, images, *workers, *boxScale, *whole)
	extraScored := scorePad(b.ex, nets, "", extra, *workers, *boxScale, *whole)
	fmt.Fprintf(os.Stderr, "bench: scored %d images in %v\n", len(scored)+len(extraScored), time.Since(start).Round(time.Second))
	loadEnd := report.LoadAverage()
	if *scoresOut != "" {
		if err := writePadScores(*scoresOut, specs, scored, extraScored); err != nil {
			return err
		}
	}
	for k, spec := range specs {
		r := &report.Report{Kind: "pad", Command: commandLine(), Machine: report.ThisMachine(), Model: b.info}
		r.Machine.LoadStart, r.Machine.LoadEnd = load, loadEnd
		p, err := padFigures(spec, k, *set, scored, extraScored)
		if err != nil {
			return err
		}
		h, err := report.HashFile(filepath.Join(c.models, spec.File))
		if err != nil {
			return err
		}
		p.Files = []report.File{h}
		r.Pad = p
		r.Notes = padNotes(spec, p)
		out := c.out
		if len(specs) > 1 {
			out = filepath.Join(c.out, spec.Name)
		}
		if err := write(out, r); err != nil {
			return err
		}
	}
	return nil
}

// writePadScores writes one line per image: path, source, kind, and each
// network's bona fide score with its Spec's preparation ("" without a face).
func writePadScores(path string, specs []antispoof.Spec, sets ...[]padScored) error {
	var sb strings.Builder
	sb.WriteString("path\tsource\tkind")
	for _, s := range specs {
		sb.WriteString("\t" + s.Name)
	}
	sb.WriteString("\n")
	for _, set := range sets {
		for _, s := range set {
			kind := s.attack
			if kind == "" {
				kind = "bonafide"
			}
			fmt.Fprintf(&sb, "%s\t%s\t%s", s.path, s.source, kind)
			for k, spec := range specs {
				if s.noFace {
					sb.WriteString("\t")
					continue
				}
				fmt.Fprintf(&sb, "\t%.6g", 1-padScore(spec, s, k, channelOrder(spec), spec.BonaFide))
			}
			sb.WriteString("\n")
		}
	}
	return os.WriteFile(path, []byte(sb.String()), 0o644)
}

// padRescore writes the reports of specs from a --scores file: rows whose
// source ends in "/" are the bona fide directories, the others the set.
func padRescore(path, set, outDir string, specs []antispoof.Spec) error {
	raw, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	lines := strings.Split(strings.TrimRight(string(raw), "\n"), "\n")
	head := strings.Split(lines[0], "\t")
	col := make([]int, len(specs))
	for k, spec := range specs {
		col[k] = slices.Index(head, spec.Name)
		if len(head) < 4 || head[0] != "path" || col[k] < 3 {
			return fmt.Errorf("%s: no column %q in header %q", path, spec.Name, lines[0])
		}
	}
	var scored, extra []padScored
	for i, l := range lines[1:] {
		f := strings.Split(l, "\t")
		if len(f) != len(head) {
			return fmt.Errorf("%s line %d: %d columns, want %d", path, i+2, len(f), len(head))
		}
		s := padScored{padImage: padImage{path: f[0], source: f[1], attack: f[2]}, fixed: make([]float64, len(specs))}
		if s.attack == "bonafide" {
			s.attack = ""
		}
		for k := range specs {
			if f[col[k]] == "" {
				s.noFace = true
				continue
			}
			if s.fixed[k], err = strconv.ParseFloat(f[col[k]], 64); err != nil {
				return fmt.Errorf("%s line %d: %w", path, i+2, err)
			}
		}
		if strings.HasSuffix(s.source, "/") {
			extra = append(extra, s)
		} else {
			scored = append(scored, s)
		}
	}
	for k, spec := range specs {
		r := &report.Report{Kind: "pad", Command: commandLine(), Machine: report.ThisMachine()}
		p, err := padFigures(spec, k, set, scored, extra)
		if err != nil {
			return err
		}
		r.Pad = p
		r.Notes = append(padNotes(spec, p), "Rescored from the scores file "+path+" of an earlier run (same faces and networks): the preparation variants and the cost are in that run's report.")
		out := outDir
		if len(specs) > 1 {
			out = filepath.Join(outDir, spec.Name)
		}
		if err := write(out, r); err != nil {
			return err
		}
	}
	return nil
}

// channelOrder is the index of spec's channel order in padScored.outs.
func channelOrder(spec antispoof.Spec) int {
	if spec.BGR {
		return 1
	}
	return 0
}

// padScore is network k's score of s as a distance (low is bona fide),
// with channel order o and bona fide class class; 1 when the outputs
// cannot be read.
func padScore(spec antispoof.Spec, s padScored, k, o, class int) float32 {
	if s.fixed != nil {
		return float32(1 - s.fixed[k])
	}
	spec.BonaFide = class
	v, err := spec.ScoreOf(s.outs[k][o])
	if err != nil {
		return 1
	}
	return float32(1 - v)
}

// everyNth returns every n-th image from the first (all for n ≤ 1).
func everyNth(images []padImage, n int) []padImage {
	if n <= 1 {
		return images
	}
	var s []padImage
	for i := 0; i < len(images); i += n {
		s = append(s, images[i])
	}
	return s
}

// readPadManifest reads DIR/MANIFEST.tsv: path, label (bonafide|attack),
// attack_type, source_repo, ... with a header line.
func readPadManifest(dir string) ([]padImage, error) {
	f, err := os.Open(filepath.Join(dir, "MANIFEST.tsv"))
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []padImage
	sc := bufio.NewScanner(f)
	line := 0
	for sc.Scan() {
		line++
		cols := strings.Split(sc.Text(), "\t")
		if line == 1 && len(cols) > 0 && cols[0] == "path" {
			continue
		}
		if len(cols) < 4 {
			return nil, fmt.Errorf("%s line %d: %d columns, want at least 4", f.Name(), line, len(cols))
		}
		im := padImage{path: cols[0], source: cols[3]}
		switch cols[1] {
		case "bonafide":
		case "attack":
			im.attack = cols[2]
			if im.attack == "" {
				im.attack = "unknown"
			}
		default:
			return nil, fmt.Errorf("%s line %d: label %q, want bonafide or attack", f.Name(), line, cols[1])
		}
		out = append(out, im)
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%s: no images", f.Name())
	}
	return out, nil
}

// listBonafide lists every JPEG or PNG under dir as bona fide, with dir's
// base name as the source.
func listBonafide(dir string) ([]padImage, error) {
	var out []padImage
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		switch strings.ToLower(filepath.Ext(p)) {
		case ".jpg", ".jpeg", ".png":
			out = append(out, padImage{path: p, source: filepath.Base(filepath.Clean(dir)) + "/"})
		}
		return nil
	})
	return out, err
}

// scorePad runs detection and the passive network (both channel orders) on
// every image, largest face only.
func scorePad(ex facematch.Extractor, nets [][2]*antispoof.Net, dir string, images []padImage, workers int, boxScale float64, whole bool) []padScored {
	out := make([]padScored, len(images))
	var wg sync.WaitGroup
	next := make(chan int)
	for range max(workers, 1) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				out[i] = scoreOne(ex, nets, dir, images[i], boxScale, whole)
			}
		}()
	}
	for i := range images {
		next <- i
	}
	close(next)
	wg.Wait()
	return out
}

func scoreOne(ex facematch.Extractor, nets [][2]*antispoof.Net, dir string, im padImage, boxScale float64, whole bool) padScored {
	s := padScored{padImage: im}
	data, err := os.ReadFile(filepath.Join(dir, im.path))
	if err != nil {
		s.noFace = true
		return s
	}
	fr, err := capture.Decode(data)
	if err != nil {
		s.noFace = true
		return s
	}
	defer fr.Close()
	t0 := time.Now()
	faces, err := findFaces(ex, fr)
	s.embed = time.Since(t0)
	if err != nil || len(faces) == 0 {
		s.noFace = true
		return s
	}
	largest, _, _ := pickFace(faces, true)
	box := scaleBox(largest.Box, boxScale)
	if whole {
		box = image.Rect(0, 0, fr.Mat.Cols(), fr.Mat.Rows())
	}
	s.outs = make([][2][][]float32, len(nets))
	s.passive = make([]time.Duration, len(nets))
	for k, pair := range nets {
		for o, n := range pair {
			if n == nil {
				continue
			}
			t := time.Now()
			out, err := n.Outputs(fr.Mat, box)
			if o == channelOrder(n.Spec()) {
				s.passive[k] = time.Since(t)
			}
			if err != nil {
				s.noFace = true
				return s
			}
			s.outs[k][o] = out
		}
	}
	return s
}

// findFaces returns the faces of fr: boxes and landmarks only when the
// backend can skip the descriptor (facematch/probe Backend.Faces), else
// with descriptors (cleared).
func findFaces(ex facematch.Extractor, fr *capture.Frame) ([]facematch.Face, error) {
	var faces []facematch.Face
	var err error
	if b, ok := ex.(*faceprobe.Backend); ok {
		faces, err = b.Faces(fr)
	} else {
		img, ierr := capture.Image(fr.Mat)
		if ierr != nil {
			return nil, ierr
		}
		faces, err = ex.ExtractImage(img)
		capture.Wipe(img)
	}
	for _, f := range faces {
		clear(f.Descriptor)
	}
	return faces, err
}

// scaleBox scales r by k about its centre.
func scaleBox(r image.Rectangle, k float64) image.Rectangle {
	if k == 1 {
		return r
	}
	cx, cy := float64(r.Min.X+r.Max.X)/2, float64(r.Min.Y+r.Max.Y)/2
	w, h := k*float64(r.Dx())/2, k*float64(r.Dy())/2
	return image.Rect(int(cx-w), int(cy-h), int(cx+w), int(cy+h))
}

// padFigures computes the ISO/IEC 30107-3 figures of spec's scores.
func padFigures(spec antispoof.Spec, k int, set string, scored, extra []padScored) (*report.Pad, error) {
	order := channelOrder(spec)
	score := func(s padScored, o, class int) float32 { return padScore(spec, s, k, o, class) } // distance: low is bona fide
	p := &report.Pad{Set: set, Network: spec.ID(), Threshold: spec.Threshold, Target: padTarget}

	// Which preparation: every channel order × output, by EER on print+replay.
	classes := spec.Classes
	if spec.Output == antispoof.LeafScore {
		classes = 1 // one score, the leaf's
	}
	for o, name := range []string{"R,G,B", "B,G,R"} {
		for class := 0; class < classes; class++ {
			var bona, att []float32
			for _, s := range scored {
				if s.noFace || (s.fixed == nil && s.outs[k][o] == nil) ||
					(s.fixed != nil && (o != order || (classes > 1 && class != spec.BonaFide))) {
					continue // not run, or not kept in the scores file
				}
				if s.attack == "" {
					bona = append(bona, score(s, o, class))
				} else if s.attack == "print" || s.attack == "replay" {
					att = append(att, score(s, o, class))
				}
			}
			if len(bona) == 0 {
				continue // this channel order was not run
			}
			v := report.PadVariant{Order: name, Class: class, Chosen: o == order && (class == spec.BonaFide || classes == 1)}
			if classes == 1 {
				v.Output = "leaf score"
			}
			if c, err := metrics.ROC(bona, att); err == nil {
				if e, err := c.EqualErrorRate(); err == nil {
					v.EER = e.Rate
				}
				v.AUC = auc(c)
				v.APCERAtBPCER = apcerAtBPCER(c, padTarget)
			}
			p.Variants = append(p.Variants, v)
		}
	}

	// Per source and attack type at the operating point.
	t := float32(1 - spec.Threshold)
	cells := map[[2]string]*report.PadCell{}
	cell := func(source, kind string) *report.PadCell {
		k := [2]string{source, kind}
		if cells[k] == nil {
			cells[k] = &report.PadCell{Source: source, Kind: kind}
		}
		return cells[k]
	}
	add := func(s padScored, inSet bool) {
		kind := "bona fide"
		if s.attack != "" {
			kind = s.attack
		}
		srcs := []string{s.source}
		if inSet {
			srcs = append(srcs, "all")
		}
		for _, src := range srcs {
			c := cell(src, kind)
			c.Images++
			if s.noFace {
				c.NoFace++
				continue
			}
			c.Scored++
			if score(s, order, spec.BonaFide) <= t == (s.attack != "") {
				c.Errors++ // an attack passed, or a bona fide face was rejected
			}
		}
	}
	var bona, att, print, replay []float32
	var passive, embed []float64
	for _, s := range scored {
		add(s, true)
		if s.noFace {
			continue
		}
		if len(s.passive) > k { // not for rescored rows
			passive = append(passive, s.passive[k].Seconds()*1000)
			embed = append(embed, s.embed.Seconds()*1000)
		}
		d := score(s, order, spec.BonaFide)
		switch s.attack {
		case "":
			bona = append(bona, d)
		case "print":
			print = append(print, d)
			att = append(att, d)
		case "replay":
			replay = append(replay, d)
			att = append(att, d)
		}
	}
	for _, s := range extra {
		add(s, false)
	}
	// Each source's own separation (AUC of its bona fide against its
	// attacks, when it has both), so a source's label quality shows.
	bySource := map[string][2][]float32{}
	for _, s := range scored {
		if s.noFace || s.attack == "mask" {
			continue
		}
		v := bySource[s.source]
		if s.attack == "" {
			v[0] = append(v[0], score(s, order, spec.BonaFide))
		} else {
			v[1] = append(v[1], score(s, order, spec.BonaFide))
		}
		bySource[s.source] = v
	}
	for src, v := range bySource {
		if c, err := metrics.ROC(v[0], v[1]); err == nil {
			p.SourceAUC = append(p.SourceAUC, report.PadAUC{Source: src, BonaFide: len(v[0]), Attacks: len(v[1]), AUC: auc(c)})
		}
	}
	sort.Slice(p.SourceAUC, func(i, j int) bool { return p.SourceAUC[i].Source < p.SourceAUC[j].Source })
	for _, c := range cells {
		if c.Scored > 0 {
			c.Rate = float64(c.Errors) / float64(c.Scored)
		}
		p.Cells = append(p.Cells, *c)
	}
	sort.Slice(p.Cells, func(i, j int) bool {
		a, b := p.Cells[i], p.Cells[j]
		if (a.Source == "all") != (b.Source == "all") {
			return a.Source == "all"
		}
		if a.Source != b.Source {
			return a.Source < b.Source
		}
		return a.Kind < b.Kind
	})
	for _, l := range []struct {
		name string
		att  []float32
	}{{"print+replay", att}, {"print", print}, {"replay", replay}} {
		line := report.Line{Name: l.name, Faces: len(bona) + len(l.att)}
		c, err := metrics.ROC(bona, l.att)
		if err != nil {
			line.Problem = err.Error()
		} else {
			if e, err := c.EqualErrorRate(); err == nil {
				line.EER = &e
			}
			at := c.At(float64(t))
			line.AtThreshold = &at
			thin := c.Thin(padCurvePoints)
			line.Curve = &thin
		}
		if l.name == "print+replay" && err == nil {
			p.APCERAtBPCER = apcerAtBPCER(c, padTarget)
			p.ThresholdAtTarget = thresholdAtBPCER(c, padTarget)
		}
		p.Lines = append(p.Lines, line)
	}
	p.PassiveMS = metrics.Summarize(f32(passive))
	p.DescriptorMS = metrics.Summarize(f32(embed))
	return p, nil
}

func f32(v []float64) []float32 {
	out := make([]float32, len(v))
	for i, x := range v {
		out[i] = float32(x)
	}
	return out
}

// auc is the area under the ROC (TAR over FAR, trapezoids).
func auc(c metrics.Curve) float64 {
	var a float64
	for i := 1; i < len(c.Points); i++ {
		p, q := c.Points[i-1], c.Points[i]
		a += (q.FAR - p.FAR) * (q.TAR + p.TAR) / 2
	}
	return a
}

// thresholdAtBPCER is the bona fide score threshold of the curve's
// lowest-APCER point with BPCER at most bpcer.
func thresholdAtBPCER(c metrics.Curve, bpcer float64) float64 {
	best, t := 2.0, math.NaN()
	for _, pt := range c.Points {
		if pt.FRR() <= bpcer+1e-12 && pt.FAR < best {
			best, t = pt.FAR, 1-pt.Threshold
		}
	}
	return t
}

// apcerAtBPCER is the smallest APCER (FAR) of the curve's points whose
// BPCER (FRR) is at most bpcer.
func apcerAtBPCER(c metrics.Curve, bpcer float64) float64 {
	best := 1.0
	for _, pt := range c.Points {
		if pt.FRR() <= bpcer+1e-12 {
			best = math.Min(best, pt.FAR)
		}
	}
	return best
}

func padNotes(spec antispoof.Spec, p *report.Pad) []string {
	box := "the largest face box of the front end"
	if spec.Square {
		box += " made square about its centre"
	}
	if spec.Widen != 1 {
		box += fmt.Sprintf(", widened %g× about its centre", spec.Widen)
	}
	values := "raw 0–255"
	if spec.Scale != 1 || spec.Mean != 0 {
		values = fmt.Sprintf("(v − %g) × %.6g", spec.Mean, spec.Scale)
	}
	read := fmt.Sprintf("output %d taken as the bona fide probability", spec.BonaFide)
	if spec.Output == antispoof.LeafScore {
		read = "the leaf score s = Σ|pred|·mask read as the bona fide score 1/(1+s) (the package's live if s < 0.2 is a bona fide score over 0.833)"
	}
	n := []string{
		"ISO/IEC 30107-3 terms: APCER is the share of attack presentations of one type classified bona fide; BPCER the share of bona fide presentations classified as attacks. Both are counted over images where the front end found a face; images without a face are listed as 'no face' (a failure to acquire: the gate never reaches a decision on them) and are in neither rate.",
		fmt.Sprintf("The passive network (%s) sees %s, limited to the image and shifted inside it (antispoof.Crop), resized to %d×%d bilinear, %s; %s. Most pad/ images are tight face crops, so a widened box is cut to the whole image: the network sees less context than it was trained with.", spec.Name, box, spec.Size, spec.Size, values, read),
		"Many images per person and few people per source: the per-source rows are the honest unit; the 'all' rows weight sources by their image counts.",
	}
	pr := p.APCERAtBPCER
	if pr <= padTarget {
		n = append(n, fmt.Sprintf("Goal met on print+replay: APCER %.1f %% at BPCER ≤ 5 %%.", 100*pr))
	} else {
		n = append(n, fmt.Sprintf("Goal missed on print+replay: at BPCER ≤ 5 %% the best APCER is %.1f %%, %.1f points over the 5 %% goal.", 100*pr, 100*(pr-padTarget)))
	}
	return n
}
