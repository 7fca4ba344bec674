package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"

	"github.com/facegate/facegate/examples/internal/exitcode"
	"github.com/facegate/facegate/examples/internal/site"
	"github.com/facegate/facegate/facematch/probe"
	"github.com/facegate/facegate/facematch/quality"
	"github.com/facegate/facegate/gate"
)

// maxPhoto bounds how much of a photo file or standard input is read.
const maxPhoto = 64 << 20

// readPhoto reads a photo file, or standard input for "-". Nothing is
// written anywhere.
func (a *app) readPhoto(path string) ([]byte, error) {
	var r io.Reader
	if path == "-" {
		r = a.stdin
	} else {
		f, err := os.Open(path)
		if err != nil {
			return nil, fmt.Errorf("%w: photo: %w", exitcode.ErrInput, err)
		}
		defer f.Close()
		r = f
	}
	b, err := io.ReadAll(io.LimitReader(r, maxPhoto+1))
	if err != nil {
		return nil, fmt.Errorf("%w: read photo %s: %w", exitcode.ErrInput, path, err)
	}
	if len(b) > maxPhoto {
		return nil, fmt.Errorf("%w: photo %s is larger than %d MiB", exitcode.ErrInput, path, maxPhoto>>20)
	}
	return b, nil
}

// isImage reports whether name has an image extension enroll reads.
func isImage(name string) bool {
	switch strings.ToLower(filepath.Ext(name)) {
	case ".jpg", ".jpeg", ".png":
		return true
	}
	return false
}

// images lists the image files of dir in name order.
func images(dir string) ([]string, error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", exitcode.ErrInput, err)
	}
	var out []string
	for _, e := range ents {
		if !e.IsDir() && isImage(e.Name()) {
			out = append(out, filepath.Join(dir, e.Name()))
		}
	}
	return out, nil
}

// enrollJob is one photo to enroll for one subject.
type enrollJob struct {
	Subject string `json:"subject"`
	Photo   string `json:"photo"`
}

// enrollResult is what became of one enrollJob.
type enrollResult struct {
	enrollJob
	Template string  `json:"template,omitempty"`
	Quality  float32 `json:"quality,omitempty"`
	Error    string  `json:"error,omitempty"`
	Hint     string  `json:"hint,omitempty"`
	err      error
}

func (a *app) cmdEnroll(fs *flag.FlagSet, args []string) error {
	id := fs.String("id", "", "subject ID (without it, DIR holds one sub-directory of photos per subject, named by the subject ID)")
	if err := parse(fs, args, 1, 1); err != nil {
		return err
	}
	path := fs.Arg(0)
	var jobs []enrollJob
	switch st, err := os.Stat(path); {
	case path == "-":
		if err := needID(*id); err != nil {
			return err
		}
		jobs = []enrollJob{{*id, "-"}}
	case err != nil:
		return fmt.Errorf("%w: %w", exitcode.ErrInput, err)
	case !st.IsDir():
		if err := needID(*id); err != nil {
			return err
		}
		jobs = []enrollJob{{*id, path}}
	case *id != "":
		files, err := images(path)
		if err != nil {
			return err
		}
		for _, f := range files {
			jobs = append(jobs, enrollJob{*id, f})
		}
	default:
		ents, err := os.ReadDir(path)
		if err != nil {
			return fmt.Errorf("%w: %w", exitcode.ErrInput, err)
		}
		for _, e := range ents {
			if st, err := os.Stat(filepath.Join(path, e.Name())); err != nil || !st.IsDir() {
				continue // follows symbolic links to directories
			}
			files, err := images(filepath.Join(path, e.Name()))
			if err != nil {
				return err
			}
			for _, f := range files {
				jobs = append(jobs, enrollJob{e.Name(), f})
			}
		}
	}
	if len(jobs) == 0 {
		return fmt.Errorf("%w: no .jpg, .jpeg or .png photo under %s", exitcode.ErrInput, path)
	}
	workers := 1 // one photo needs one recognizer, which loads faster
	if len(jobs) > 1 {
		workers = 0
	}
	s, err := a.open(site.Config{Faces: true, Workers: workers})
	if err != nil {
		return err
	}
	defer s.Close()

	results := a.enrollAll(s, jobs)
	var first error
	n := 0
	var b strings.Builder
	for _, r := range results {
		if r.err != nil {
			if first == nil {
				first = r.err
			}
			fmt.Fprintf(&b, "%s %s: NOT enrolled: %v\n", r.Subject, r.Photo, r.err)
			if r.Hint != "" {
				fmt.Fprintf(&b, "  what to do: %s\n", r.Hint)
			}
			continue
		}
		n++
		fmt.Fprintf(&b, "%s %s: enrolled template %s (quality %.2f)\n", r.Subject, r.Photo, r.Template, r.Quality)
	}
	fmt.Fprintf(&b, "%d of %d photos enrolled", n, len(results))
	if len(results) == 1 && first != nil {
		return first // reported once, by fail
	}
	a.print(map[string]any{"enrolled": n, "photos": len(results), "results": results}, b.String())
	if first != nil {
		// Already reported per photo: only the exit code is left.
		return fmt.Errorf("%w: %w", errSilent, first)
	}
	return nil
}

// errSilent marks an error already reported to the operator.
var errSilent = errors.New("reported")

// enrollAll extracts the photos concurrently on the backend's pool and
// enrolls them in order, with a progress bar on a terminal.
func (a *app) enrollAll(s *site.Site, jobs []enrollJob) []enrollResult {
	results := make([]enrollResult, len(jobs))
	probes := make([]chan probe.Probe, len(jobs))
	errs := make([]error, len(jobs))
	for i := range probes {
		probes[i] = make(chan probe.Probe, 1)
	}
	var bar *progressbar.ProgressBar
	if len(jobs) > 1 && !a.json && isTerminal(a.stderr) {
		bar = progressbar.NewOptions(len(jobs), progressbar.OptionSetWriter(a.stderr), progressbar.OptionSetDescription("enrolling"),
			progressbar.OptionShowCount(), progressbar.OptionClearOnFinish())
	}
	next := make(chan int)
	var wg sync.WaitGroup
	for range runtime.NumCPU() {
		wg.Go(func() {
			for i := range next {
				data, err := a.readPhoto(jobs[i].Photo)
				var p probe.Probe
				if err == nil {
					p, err = s.Probes(quality.Enrollment).Photo(data)
					err = probe.Explain(err)
				}
				errs[i] = err
				probes[i] <- p
			}
		})
	}
	go func() {
		for i := range jobs {
			next <- i
		}
		close(next)
	}()
	for i, j := range jobs {
		p := <-probes[i]
		r := enrollResult{enrollJob: j, err: errs[i]}
		if r.err == nil {
			info, err := s.Gate.EnrollFace(j.Subject, p.Face.Descriptor, p.Score)
			r.err = err
			r.Template, r.Quality = info.ID, info.Quality
		}
		clear(p.Face.Descriptor)
		if r.err != nil {
			r.Error, r.Hint = r.err.Error(), exitcode.Hint(r.err)
		}
		results[i] = r
		if bar != nil {
			bar.Add(1)
		}
	}
	wg.Wait()
	if bar != nil {
		bar.Finish()
	}
	return results
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// probe reads a photo and extracts its face under the verification gate.
func (a *app) probe(s *site.Site, path string) ([]float32, error) {
	data, err := a.readPhoto(path)
	if err != nil {
		return nil, err
	}
	p, err := s.Probes(quality.Verification).Photo(data)
	if err != nil {
		return nil, fmt.Errorf("photo %s: %w", path, probe.Explain(err))
	}
	return p.Face.Descriptor, nil
}

// openProbe opens the store with its face backend and extracts the face of
// the photo at path, as verify and identify need. The caller closes the site
// and clears the descriptor.
func (a *app) openProbe(path string) (*site.Site, []float32, error) {
	s, err := a.open(site.Config{Faces: true, Workers: 1})
	if err != nil {
		return nil, nil, err
	}
	d, err := a.probe(s, path)
	if err != nil {
		s.Close()
		return nil, nil, err
	}
	return s, d, nil
}

func (a *app) cmdVerify(fs *flag.FlagSet, args []string) error {
	id := fs.String("id", "", "the subject the photo claims to be")
	if err := parse(fs, args, 1, 1); err != nil {
		return err
	}
	if err := needID(*id); err != nil {
		return err
	}
	if err := gate.CheckSubject(*id); err != nil {
		return err
	}
	s, d, err := a.openProbe(fs.Arg(0))
	if err != nil {
		return err
	}
	defer s.Close()
	defer clear(d)
	dist, ok, err := s.Gate.Verify(*id, d)
	if errors.Is(err, gate.ErrNoFace) || errors.Is(err, gate.ErrNoConsent) || errors.Is(err, gate.ErrConsentExpired) {
		a.print(map[string]any{"subject": *id, "match": false, "reason": err.Error()},
			fmt.Sprintf("NO MATCH: %v\n  (cards, PINs and QR codes still work)", err))
		return fmt.Errorf("%w: %w", exitcode.ErrDenied, err)
	}
	if err != nil {
		return err
	}
	th := s.Gallery.Threshold()
	word := "MATCH"
	if !ok {
		word = "NO MATCH"
	}
	a.print(map[string]any{"subject": *id, "match": ok, "distance": dist, "threshold": th, "model": s.Model().ID},
		fmt.Sprintf("%s: %s at distance %.3f (threshold %.3f, %s)", word, *id, dist, th, s.Model().ID))
	if !ok {
		return fmt.Errorf("%w: no match", exitcode.ErrDenied)
	}
	return nil
}

func (a *app) cmdIdentify(fs *flag.FlagSet, args []string) error {
	k := fs.Int("k", 3, "report up to k subjects within the threshold")
	if err := parse(fs, args, 1, 1); err != nil {
		return err
	}
	if *k < 1 {
		return fmt.Errorf("%w: --k must be at least 1", exitcode.ErrUsage)
	}
	s, d, err := a.openProbe(fs.Arg(0))
	if err != nil {
		return err
	}
	defer s.Close()
	defer clear(d)
	ms, err := s.Gate.Identify(d, *k)
	if err != nil {
		return err
	}
	type match struct {
		Subject  string  `json:"subject"`
		Distance float32 `json:"distance"`
	}
	out := []match{}
	var b strings.Builder
	for _, m := range ms {
		out = append(out, match{m.ID, m.Distance})
		fmt.Fprintf(&b, "%s\t%.3f\n", m.ID, m.Distance)
	}
	th := s.Gallery.Threshold()
	if len(ms) == 0 {
		fmt.Fprintf(&b, "nobody within the threshold %.3f (%d subjects with faces)", th, s.Gallery.Subjects())
	}
	a.print(map[string]any{"matches": out, "threshold": th, "model": s.Model().ID}, b.String())
	if len(ms) == 0 {
		return fmt.Errorf("%w: no match", exitcode.ErrDenied)
	}
	return nil
}

// policyFlag parses --policy.
func policyFlag(s string) (gate.Policy, error) {
	switch s {
	case "any", "any-factor":
		return gate.AnyFactor, nil
	case "face+card", "face-and-card-or-pin":
		return gate.FaceAndCardOrPIN, nil
	}
	return 0, fmt.Errorf("%w: --policy %q: want any or face+card", exitcode.ErrUsage, s)
}

func (a *app) cmdAdmit(fs *flag.FlagSet, args []string) error {
	photo := fs.String("photo", "", "a photo of the face at the door (- for standard input)")
	card := fs.String("card", "", "the UID of the card presented, as hex digits")
	pin := fs.Bool("pin", false, "a PIN is typed: read it from the terminal, or the first line of standard input")
	id := fs.String("id", "", "the subject ID typed with the PIN (optional when the face or card names the subject)")
	qr := fs.String("qr", "", "the text of a scanned QR code")
	door := fs.String("door", "lobby", "the door's ID (logged)")
	policy := fs.String("policy", "any", "door policy: any (one factor) or face+card (face and card or PIN; card and PIN also open)")
	noLive := fs.Bool("no-liveness", false, "let the photo's face count without a liveness check (a still photo has none; without this flag the door refuses it, as a real door does)")
	if err := parse(fs, args, 0, 0); err != nil {
		return err
	}
	pol, err := policyFlag(*policy)
	if err != nil {
		return err
	}
	if *noLive {
		pol |= gate.FaceWithoutLiveness
	}
	if *photo == "-" && *pin {
		return fmt.Errorf("%w: the photo and the PIN cannot both come from standard input", exitcode.ErrUsage)
	}
	s, err := a.open(site.Config{Faces: *photo != "", Workers: 1, Policy: pol})
	if err != nil {
		return err
	}
	defer s.Close()
	at := gate.Attempt{Door: *door, Subject: *id, QR: *qr}
	if *photo != "" {
		if at.Face, err = a.probe(s, *photo); err != nil {
			return err
		}
		defer clear(at.Face)
	}
	if *card != "" {
		if at.Card, err = cardUID(*card); err != nil {
			return err
		}
	}
	if *pin {
		if at.PIN, err = a.secrets().Line("PIN"); err != nil {
			return fmt.Errorf("%w: %w", exitcode.ErrInput, err)
		}
		if at.PIN == "" {
			return fmt.Errorf("%w: empty PIN", gate.ErrInvalidPIN)
		}
	}
	d := s.Gate.Admit(at)
	out := map[string]any{"admit": d.Admit, "method": d.Method.String(), "subject": d.Subject, "reason": d.Reason, "door": *door, "policy": pol.String()}
	text := fmt.Sprintf("ADMIT %s by %s at %s (%s)", d.Subject, d.Method, *door, pol)
	if at.Face != nil {
		out["distance"] = d.Distance
	}
	if !d.Admit {
		text = fmt.Sprintf("DENY at %s (%s): %s [presented %s]", *door, pol, d.Reason, d.Method)
		if h := exitcode.Hint(d.Err); d.Err != nil && h != "" && exitcode.Of(d.Err) != exitcode.Store {
			text += "\n  what to do: " + h
			out["hint"] = h
		}
	}
	a.print(out, text)
	if !d.Admit {
		if d.Err != nil && exitcode.Of(d.Err) == exitcode.Store {
			return d.Err
		}
		return fmt.Errorf("%w: %s", exitcode.ErrDenied, d.Reason)
	}
	return nil
}
