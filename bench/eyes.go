package main

import (
	"bufio"
	"errors"
	"flag"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"

	"github.com/facegate/facegate/bench/metrics"
	"github.com/facegate/facegate/facematch"
	"github.com/facegate/facegate/facematch/capture"
	"github.com/facegate/facegate/facematch/eyestate"
	"github.com/facegate/facegate/facematch/liveness"
)

// eyeRow is what the eyes study measured on one photo's largest face.
type eyeRow struct {
	path, source string
	noFace       bool
	closed       bool       // the label: eyes closed (from --labels), else open
	unsure       bool       // labelled unsure: left out
	ear          float64    // mean eye-aspect ratio of the landmarks
	net          [2]float64 // fr_eye's closed probability, right and left eye
}

// runEyes compares the two single-frame eye-state measures on labelled
// photos: the eye-aspect ratio of the front end's landmarks (what the
// blink challenge uses) and fr_eye.onnx (facematch/eyestate). Every photo
// of the --dirs directories is labelled open unless --closed lists it.
// The report (report.md) gives each measure's AUC for closed against open
// and its errors at its own fixed threshold.
func runEyes(args []string) error {
	fs := flag.NewFlagSet("eyes", flag.ContinueOnError)
	var c common
	c.register(fs, "eyes")
	dirs := fs.String("dirs", "", "comma-separated photo directories (every JPEG/PNG below them)")
	closedList := fs.String("labels", "", "file of labels, one photo a line: its path (matching any photo path it ends, e.g. lfw/x.jpg), a tab, and closed or unsure (left out); every other photo is labelled open (bench/testdata/eye-labels.tsv)")
	rows := fs.String("rows", "", "also write every photo's measures to this TSV file (not a report file)")
	workers := fs.Int("workers", 2, "photos measured at once")
	limit := fs.Int("limit", 0, "read only every n-th photo (0 or 1: all)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *dirs == "" || fs.NArg() > 0 {
		fs.Usage()
		return errors.New("eyes needs --dirs DIR,... and no other arguments")
	}
	closed := map[string]bool{} // path → closed (true) or unsure (false)
	if *closedList != "" {
		f, err := os.Open(*closedList)
		if err != nil {
			return err
		}
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			l := strings.TrimSpace(sc.Text())
			if l == "" || strings.HasPrefix(l, "#") {
				continue
			}
			f := strings.Fields(l)
			if len(f) != 2 || (f[1] != "closed" && f[1] != "unsure") {
				return fmt.Errorf("%s: line %q: want a path and closed or unsure", *closedList, l)
			}
			closed[f[0]] = f[1] == "closed"
		}
		f.Close()
		if err := sc.Err(); err != nil {
			return err
		}
	}
	var photos []padImage
	for _, d := range strings.Split(*dirs, ",") {
		ps, err := listBonafide(d)
		if err != nil {
			return err
		}
		photos = append(photos, everyNth(ps, *limit)...)
	}
	b, err := openBackend(c.model, c.models, *workers)
	if err != nil {
		return err
	}
	defer b.close()
	net, err := eyestate.Open(c.models)
	if err != nil {
		return err
	}
	defer net.Close()
	out := make([]eyeRow, len(photos))
	var wg sync.WaitGroup
	next := make(chan int)
	for range max(*workers, 1) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				out[i] = measureEyes(b.ex, net, photos[i])
				out[i].closed, out[i].unsure = label(closed, photos[i].path)
			}
		}()
	}
	for i := range photos {
		next <- i
	}
	close(next)
	wg.Wait()
	if *rows != "" {
		var sb strings.Builder
		sb.WriteString("path\tsource\tlabel\tear\tfr_eye_right\tfr_eye_left\n")
		for _, r := range out {
			if r.noFace {
				continue
			}
			l := "open"
			if r.closed {
				l = "closed"
			} else if r.unsure {
				l = "unsure"
			}
			fmt.Fprintf(&sb, "%s\t%s\t%s\t%.4f\t%.4f\t%.4f\n", r.path, r.source, l, r.ear, r.net[0], r.net[1])
		}
		if err := os.WriteFile(*rows, []byte(sb.String()), 0o644); err != nil {
			return err
		}
	}
	if err := os.MkdirAll(c.out, 0o755); err != nil {
		return err
	}
	md := eyesMarkdown(out)
	if err := os.WriteFile(filepath.Join(c.out, "report.md"), []byte(md), 0o644); err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "bench: wrote %s\n", filepath.Join(c.out, "report.md"))
	return nil
}

// label returns the label of path, or of a path it ends with, in labels:
// closed, unsure (left out), or neither (open).
func label(labels map[string]bool, path string) (closed, unsure bool) {
	p := filepath.ToSlash(path)
	for {
		if c, ok := labels[p]; ok {
			return c, !c
		}
		i := strings.IndexByte(p, '/')
		if i < 0 {
			return false, false
		}
		p = p[i+1:]
	}
}

func measureEyes(ex facematch.Extractor, net *eyestate.Net, im padImage) eyeRow {
	r := eyeRow{path: im.path, source: im.source, noFace: true}
	data, err := os.ReadFile(im.path)
	if err != nil {
		return r
	}
	fr, err := capture.Decode(data)
	if err != nil {
		return r
	}
	defer fr.Close()
	faces, err := findFaces(ex, fr)
	if err != nil || len(faces) == 0 {
		return r
	}
	f, _, _ := pickFace(faces, true)
	if r.ear, err = liveness.EAR(f.Landmarks); err != nil {
		return r
	}
	if r.net, err = net.Closed(fr.Mat, f.Landmarks); err != nil {
		return r
	}
	r.noFace = false
	return r
}

// eyeEARClosed is the eye-aspect ratio under which a single photo's eyes
// count as closed: liveness.DefaultBlink.MinOpenEAR, the narrowest open eye
// of the shared photos (a blink sequence uses a level relative to the
// person's own open eyes instead).
var eyeEARClosed = liveness.DefaultBlink.MinOpenEAR

func eyesMarkdown(rows []eyeRow) string {
	var sb strings.Builder
	p := func(f string, a ...any) { fmt.Fprintf(&sb, f, a...) }
	p("# FaceGate eyes benchmark\n\nRun with `%s`.\n\n", commandLine())
	p("Eye state of the largest face of every photo, two ways: the mean eye-aspect ratio (EAR) of the front end's 68 landmarks (what the blink challenge uses), and fr_eye.onnx (facematch/eyestate, the mean closed probability of both eyes). Labels from --labels: closed, unsure (left out), every other photo open.\n\n")
	type src struct{ n, noFace, unsure, closed, earFP, netFP int }
	srcs := map[string]*src{}
	var earOpen, earClosed, netOpen, netClosed []float32
	var earFP, earFN, netFP, netFN int
	for _, r := range rows {
		s := srcs[r.source]
		if s == nil {
			s = &src{}
			srcs[r.source] = s
		}
		s.n++
		if r.noFace {
			s.noFace++
			continue
		}
		if r.unsure {
			s.unsure++
			continue
		}
		netP := (r.net[0] + r.net[1]) / 2
		earSays, netSays := r.ear < eyeEARClosed, netP > 0.5
		// distances: low means "closed" for both (the closed class plays
		// the genuine side of the ROC)
		if r.closed {
			s.closed++
			earClosed, netClosed = append(earClosed, float32(r.ear)), append(netClosed, float32(1-netP))
			if !earSays {
				earFN++
			}
			if !netSays {
				netFN++
			}
		} else {
			earOpen, netOpen = append(earOpen, float32(r.ear)), append(netOpen, float32(1-netP))
			if earSays {
				earFP++
				s.earFP++
			}
			if netSays {
				netFP++
				s.netFP++
			}
		}
	}
	names := make([]string, 0, len(srcs))
	for k := range srcs {
		names = append(names, k)
	}
	sort.Strings(names)
	p("| photos | images | no face | unsure (left out) | judged | labelled closed | open called closed: EAR | fr_eye |\n|---|---|---|---|---|---|---|---|\n")
	for _, k := range names {
		s := srcs[k]
		p("| %s | %d | %d | %d | %d | %d | %d | %d |\n", k, s.n, s.noFace, s.unsure, s.n-s.noFace-s.unsure, s.closed, s.earFP, s.netFP)
	}
	aucOf := func(closed, open []float32) string {
		c, err := metrics.ROC(closed, open)
		if err != nil {
			return "—"
		}
		return fmt.Sprintf("%.3f", auc(c))
	}
	rate := func(k, n int) string {
		if n == 0 {
			return "—"
		}
		return fmt.Sprintf("%d of %d (%.1f %%)", k, n, 100*float64(k)/float64(n))
	}
	p("\n| measure | AUC closed vs open | closed missed | open called closed |\n|---|---|---|---|\n")
	p("| EAR < %.2f | %s | %s | %s |\n", eyeEARClosed, aucOf(earClosed, earOpen), rate(earFN, len(earClosed)), rate(earFP, len(earOpen)))
	p("| fr_eye closed probability > 0.5 | %s | %s | %s |\n", aucOf(netClosed, netOpen), rate(netFN, len(netClosed)), rate(netFP, len(netOpen)))
	med := func(v []float32) float64 {
		if len(v) == 0 {
			return math.NaN()
		}
		s := append([]float32(nil), v...)
		sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
		return float64(s[len(s)/2])
	}
	p("\nMedians: EAR open %.3f, closed %.3f; fr_eye closed probability open %.3f, closed %.3f.\n", med(earOpen), med(earClosed), 1-med(netOpen), 1-med(netClosed))
	return sb.String()
}
