// Command gate is the firmware loop of a FaceGate door: it reads frames
// from a camera, a video file or a directory of images, keeps only frames
// that pass the verification quality gate, checks a short sequence for
// liveness, identifies the face and asks the gate for a decision. Card,
// PIN and QR readers are simulated by lines on standard input. Each
// attempt prints one decision line and an admitted one drives the door's
// Relay (a log line here; a GPIO pin on a real board). No frame is ever
// written anywhere.
//
// Usage:
//
//	gate --store FILE (--camera N | --video FILE | --dir DIR) [flags] < reader-lines
//
// With --hub URL --compound DIR --gate-id ID the gate is one of a
// compound's gates: a sync agent applies the office's changes to its store
// and gallery, it matches faces only while in step with the office, and
// its screen line says when it is not (cards, PINs and QR codes still
// work).
//
// Reader lines (one attempt each; blank lines and # comments are ignored):
//
//	card 04a1b2c3            a card UID, hex
//	pin 2580 id flat-12b     a PIN with the subject ID typed on the keypad
//	card 04a1b2c3 pin 2580   card and PIN together
//	qr <code>                a scanned one-time QR code
//
// Under --policy face+card a lone card or PIN waits up to --pair-window
// for the face that must come with it; under --policy any it is decided
// at once.
//
// The store key comes from --key-file, FACEGATE_KEY or FACEGATE_PASSPHRASE
// (a gate has no one to type a passphrase). Exit codes are those of the
// facegate command: 0 when the loop ended normally, 2 usage, 3 bad
// input (a camera that cannot be opened), 4 store, key or model error.
package main

import (
	"bufio"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"time"

	"github.com/facegate/facegate/examples/internal/exitcode"
	"github.com/facegate/facegate/examples/internal/site"
	"github.com/facegate/facegate/facematch/capture"
	"github.com/facegate/facegate/facematch/liveness"
	"github.com/facegate/facegate/facematch/probe"
	"github.com/facegate/facegate/gate"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

// options are the command-line settings of one gate.
type options struct {
	store, keyFile, models string
	camera                 int
	video, dir             string
	policy                 gate.Policy
	door                   string
	rule                   probe.Rule // the liveness rule; no checks: --liveness off
	liveName               string
	frames                 int
	pairWindow             time.Duration
	cooldown               time.Duration
	showSubject, json      bool
	hub, compound, gateID  string
}

func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	o, err := parseFlags(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return exitcode.OK
	}
	if err != nil {
		return fail(stderr, err)
	}
	lines := readLines(stdin)
	sec, err := site.Secrets{}.Read(o.keyFile, "FACEGATE_KEY", site.PassphraseEnv, "", false)
	if err != nil {
		return fail(stderr, err)
	}
	cfg := site.Config{Store: o.store, Models: o.models, Faces: true, Passive: o.rule.Passive, Policy: o.policy}
	var cg *compoundGate
	if o.hub != "" {
		if cg, err = newCompoundGate(o.compound, o.gateID, o.hub); err != nil {
			sec.Wipe()
			return fail(stderr, err)
		}
		cg.configure(&cfg)
		stderr = &syncWriter{w: stderr}
	}
	s, err := site.Open(cfg, sec)
	sec.Wipe()
	if err != nil {
		return fail(stderr, err)
	}
	defer s.Close()
	// Damage found at start-up leaves those flats out of the gallery (they
	// still get in by card, PIN or QR code); the gate runs for everyone else.
	for _, d := range append(s.Store.Damage(), s.Gate.Damaged()...) {
		fmt.Fprintf(stderr, "gate: warning: %v\n", d)
	}
	if cg != nil {
		stop, err := cg.start(s, stderr)
		if err != nil {
			return fail(stderr, err)
		}
		defer stop()
	}
	src, err := openSource(o)
	if err != nil {
		return fail(stderr, err)
	}
	defer src.Close()
	l := &loop{o: o, site: s, out: stdout, log: stderr, relay: logRelay{stderr}}
	if err := l.run(src, lines); err != nil {
		return fail(stderr, err)
	}
	return exitcode.OK
}

func fail(w io.Writer, err error) int {
	fmt.Fprintf(w, "gate: %v\n", err)
	if h := exitcode.Hint(err); h != "" {
		fmt.Fprintf(w, "  what to do: %s\n", h)
	}
	return exitcode.Of(err)
}

func parseFlags(args []string, stderr io.Writer) (options, error) {
	var o options
	fs := flag.NewFlagSet("gate", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&o.store, "store", os.Getenv(site.StoreEnv), "store file (default $"+site.StoreEnv+")")
	fs.StringVar(&o.keyFile, "key-file", "", "file holding the store key (else FACEGATE_KEY or FACEGATE_PASSPHRASE)")
	fs.StringVar(&o.models, "models", "", "model directory (default $"+site.ModelsEnv+" or ./models)")
	fs.IntVar(&o.camera, "camera", -1, "camera device index (0 is /dev/video0)")
	fs.StringVar(&o.video, "video", "", "video file to read frames from")
	fs.StringVar(&o.dir, "dir", "", "directory of images read as frames, in name order")
	policy := fs.String("policy", "any", "door policy: any (one factor) or face+card (face and card or PIN; card and PIN also open)")
	fs.StringVar(&o.door, "door", "lobby", "the door's ID (logged)")
	live := fs.String("liveness", "motion", "liveness check: motion (static-replay rejection), blink (blink challenge), all (both), passive (the single-frame presentation-attack network), fused (blink, motion and passive: probe.DefaultRule), or off (a face then opens without liveness: the door's policy gets face-without-liveness)")
	fs.IntVar(&o.frames, "frames", 0, "good frames per face attempt (default: 15 with a liveness check, 1 with --liveness off)")
	fs.DurationVar(&o.pairWindow, "pair-window", 10*time.Second, "how long a lone card or PIN waits for its face under --policy face+card")
	fs.DurationVar(&o.cooldown, "cooldown", 0, "frame time skipped after a face decision (default 2s for a camera, 0 otherwise)")
	fs.BoolVar(&o.showSubject, "show-subject", false, "print the subject ID in decision lines (a door console shows none by default)")
	fs.BoolVar(&o.json, "json", false, "print decision lines as JSON")
	fs.StringVar(&o.hub, "hub", "", "URL of the compound's office hub: keep this gate in step with the office (needs --compound and --gate-id)")
	fs.StringVar(&o.compound, "compound", "", "directory holding access.json, compound.key and <gate-id>.nk, provisioned by `facegate compound init`")
	fs.StringVar(&o.gateID, "gate-id", "", "this gate's ID in the compound")
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: gate --store FILE (--camera N | --video FILE | --dir DIR) [flags] < reader-lines\n\n"+
			"Reader lines on standard input: `card HEX`, `pin PIN id SUBJECT`, `card HEX pin PIN`, `qr CODE`.\n\nFlags:\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return o, err
		}
		return o, fmt.Errorf("%w: %v", exitcode.ErrUsage, err)
	}
	if fs.NArg() != 0 {
		return o, fmt.Errorf("%w: unexpected arguments %q", exitcode.ErrUsage, fs.Args())
	}
	n := 0
	for _, set := range []bool{o.camera >= 0, o.video != "", o.dir != ""} {
		if set {
			n++
		}
	}
	if n != 1 {
		return o, fmt.Errorf("%w: give exactly one of --camera, --video and --dir", exitcode.ErrUsage)
	}
	switch *policy {
	case "any":
		o.policy = gate.AnyFactor
	case "face+card":
		o.policy = gate.FaceAndCardOrPIN
	default:
		return o, fmt.Errorf("%w: --policy %q: want any or face+card", exitcode.ErrUsage, *policy)
	}
	o.liveName = *live
	switch *live {
	case "motion":
		o.rule.Active = liveness.DefaultMotion
	case "blink":
		o.rule.Active = liveness.DefaultBlink
	case "all":
		o.rule.Active = liveness.All{liveness.DefaultMotion, liveness.DefaultBlink}
	case "passive":
		o.rule.Passive, o.rule.PassiveMin = true, probe.DefaultRule.PassiveMin
	case "fused":
		o.rule = probe.DefaultRule
	case "off":
		o.policy |= gate.FaceWithoutLiveness
	default:
		return o, fmt.Errorf("%w: --liveness %q: want motion, blink, all, passive, fused or off", exitcode.ErrUsage, *live)
	}
	if o.frames == 0 {
		o.frames = 1
		switch {
		case *live == "fused":
			o.frames = probe.DefaultRule.Frames
		case o.rule.Active != nil:
			o.frames = 15
		}
	}
	if o.frames < 1 {
		return o, fmt.Errorf("%w: --frames must be at least 1", exitcode.ErrUsage)
	}
	o.rule.Frames = o.frames
	if o.cooldown == 0 && o.camera >= 0 {
		o.cooldown = 2 * time.Second
	}
	return o, nil
}

func openSource(o options) (capture.Source, error) {
	switch {
	case o.camera >= 0:
		return capture.OpenCamera(o.camera)
	case o.video != "":
		return capture.OpenVideo(o.video)
	}
	return capture.OpenDir(o.dir)
}

// readLines delivers the reader lines of r, parsed, until r ends.
func readLines(r io.Reader) <-chan readerLine {
	ch := make(chan readerLine)
	go func() {
		defer close(ch)
		sc := bufio.NewScanner(r)
		for n := 1; sc.Scan(); n++ {
			text := strings.TrimSpace(sc.Text())
			if text == "" || strings.HasPrefix(text, "#") {
				continue
			}
			a, err := parseLine(text)
			ch <- readerLine{n: n, attempt: a, err: err}
		}
	}()
	return ch
}

// readerLine is one line of the simulated card, PIN and QR readers.
type readerLine struct {
	n       int
	attempt gate.Attempt
	err     error
}

// parseLine parses "card HEX", "pin PIN", "id SUBJECT" and "qr CODE" pairs.
func parseLine(text string) (gate.Attempt, error) {
	var a gate.Attempt
	f := strings.Fields(text)
	if len(f)%2 != 0 {
		return a, fmt.Errorf("%w: want pairs like `card 04a1b2c3` or `pin 2580 id flat-12b`", exitcode.ErrInput)
	}
	for i := 0; i < len(f); i += 2 {
		k, v := f[i], f[i+1]
		switch k {
		case "card":
			b, err := hex.DecodeString(strings.ReplaceAll(v, ":", ""))
			if err != nil {
				return a, fmt.Errorf("%w: card UID %q is not hex", gate.ErrWrongCard, v)
			}
			a.Card = b
		case "pin":
			a.PIN = v
		case "id":
			a.Subject = v
		case "qr":
			a.QR = v
		default:
			return a, fmt.Errorf("%w: unknown reader %q: want card, pin, id or qr", exitcode.ErrInput, k)
		}
	}
	if a.Card == nil && a.PIN == "" && a.QR == "" {
		return a, fmt.Errorf("%w: the line presents no card, PIN or QR code", exitcode.ErrInput)
	}
	return a, nil
}

// Relay drives a door's lock. A real board implements it with a GPIO pin.
type Relay interface {
	// Open releases the lock of door for a moment.
	Open(door string) error
}

// logRelay is a Relay that only writes a log line.
type logRelay struct{ w io.Writer }

func (r logRelay) Open(door string) error {
	_, err := fmt.Fprintf(r.w, "relay: door %s opened\n", door)
	return err
}

// interrupted reports SIGINT.
func interrupted() <-chan os.Signal {
	c := make(chan os.Signal, 1)
	signal.Notify(c, os.Interrupt)
	return c
}
