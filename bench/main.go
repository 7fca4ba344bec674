// Command bench measures FaceGate and writes a report with plots.
//
// Usage:
//
//	go run ./bench accuracy --set DIR [--groups FILE] [--model dlib] [--out DIR]
//	                        [--seed N] [--max-impostors N] [--workers N]
//	go run ./bench accuracy --descriptors FILE [--label NAME] [--out DIR]
//	go run ./bench speed [--model dlib] [--photo FILE] [--calls N]
//	                     [--sizes 1000,10000,100000,1000000] [--out DIR]
//	go run ./bench identify --set DIR [--groups FILE] [--model NAME] [--largest]
//	                        [--sizes 10,100,0] [--seed N] [--trials N] [--out DIR]
//	go run ./bench pad --set DIR [--bonafide DIR,...] [--threshold T] [--out DIR]
//	go run ./bench render DIR...
//
// identify is open-set 1:N identification as a gate decides it: one photo
// per identity enrolled in a gallery.Gallery, every other photo searched
// with Identify at the model's default threshold; FNIR and FPIR per gallery
// size and group, and the threshold a per-pair FAR of 1e-6 would take,
// extrapolated from the impostor tail (see identify.go).
//
// accuracy extracts every face of DIR/<identity>/<photo>, scores all genuine
// pairs and all impostor pairs (or a seeded sample when there are more than
// --max-impostors), and reports ROC and DET curves, the equal error rate, the
// true accept rate at FAR = 1 %, 0.1 % and 0.01 % with the pair counts behind
// each figure, and genuine/impostor distance histograms, for the whole set
// and, with --groups, for each group and across groups.
//
// speed times extraction (p50/p95/p99 at 640×480 and 1280×720, one worker
// and the pool) against go-face used directly, 1:N search over synthetic
// galleries of 1k to 1M templates next to a memory-bandwidth probe, and peak
// memory.
//
// Both write report.md, results.json and PNG plots into --out (default
// out/bench-<kind>); `bench render DIR` rewrites report.md and the plots of
// DIR from its results.json. Models are read from --models (default $FACEGATE_MODELS
// or ./models, as built by `make models`).
package main

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/facegate/facegate/bench/report"
)

const usage = `usage:
  bench accuracy --set DIR [--groups FILE] [flags]   verification accuracy of a labelled photo set
  bench identify --set DIR [--groups FILE] [flags]   open-set 1:N identification: FNIR, FPIR per gallery size
  bench speed [flags]                                extraction latency, 1:N search throughput, memory
  bench pad --set DIR [--bonafide DIR,...] [flags]   presentation-attack detection (ISO/IEC 30107-3)
  bench eyes --dirs DIR,... [--labels FILE] [flags]  eye state: landmarks' EAR against fr_eye.onnx
  bench render DIR...                                rewrite report.md and the plots from DIR/results.json
Run "bench accuracy -h" or "bench speed -h" for the flags.
`

func main() {
	if len(os.Args) < 2 {
		fmt.Fprint(os.Stderr, usage)
		os.Exit(2)
	}
	var err error
	switch os.Args[1] {
	case "accuracy":
		err = runAccuracy(os.Args[2:])
	case "identify":
		err = runIdentify(os.Args[2:])
	case "speed":
		err = runSpeed(os.Args[2:])
	case "eyes":
		err = runEyes(os.Args[2:])
	case "pad":
		err = runPad(os.Args[2:])
	case "render":
		err = runRender(os.Args[2:])
	case "-h", "-help", "--help", "help":
		fmt.Print(usage)
		return
	default:
		fmt.Fprintf(os.Stderr, "bench: unknown command %q\n%s", os.Args[1], usage)
		os.Exit(2)
	}
	if errors.Is(err, flag.ErrHelp) {
		return
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

// common holds the flags both commands take.
type common struct {
	model  string
	models string
	out    string
}

func (c *common) register(fs *flag.FlagSet, kind string) {
	fs.StringVar(&c.model, "model", defaultModel, "embedding backend: "+strings.Join(backendNames(), ", "))
	fs.StringVar(&c.models, "models", defaultModelDir(), "model directory (make models)")
	fs.StringVar(&c.out, "out", filepath.Join("out", "bench-"+kind), "output directory")
}

func defaultModelDir() string {
	if d := os.Getenv("FACEGATE_MODELS"); d != "" {
		return d
	}
	return "models"
}

func commandLine() string {
	return "go run ./bench " + strings.Join(os.Args[1:], " ")
}

func write(out string, r *report.Report) error {
	files, err := report.Write(out, r)
	if err != nil {
		return fmt.Errorf("writing the report: %w", err)
	}
	fmt.Fprintf(os.Stderr, "bench: wrote %s: %s\n", out, strings.Join(files, ", "))
	return nil
}

func runRender(args []string) error {
	if len(args) == 0 {
		return errors.New("render needs at least one report directory")
	}
	for _, dir := range args {
		r, err := report.Read(dir)
		if err != nil {
			return err
		}
		if err := write(dir, r); err != nil {
			return err
		}
	}
	return nil
}
