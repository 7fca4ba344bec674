// Command facegate is the operator's command line for a FaceGate compound:
// it creates the encrypted store, records consent, enrolls faces, manages
// cards, PINs and QR codes, answers right-of-access requests, shows the
// access log and simulates gate attempts. `facegate demo` runs the whole
// job on the shared test photos.
//
// Usage:
//
//	facegate <command> [flags] [arguments]
//
// Commands: init, consent (record, show, withdraw), enroll, verify,
// identify, credential (card, pin, qr, remove), delete, list, export,
// rekey, audit, admit, compound (init, hub, lag), demo. Every command takes --help and --json.
//
// The store is named by --store or FACEGATE_STORE. Its secret never comes
// from a command-line value: --key-file FILE (32 raw bytes or 64 hex
// digits), FACEGATE_KEY (64 hex digits), FACEGATE_PASSPHRASE, or a
// passphrase prompt when standard input is a terminal.
//
// Exit codes: 0 ok, 1 no match or denied, 2 usage, 3 bad input, 4 store,
// key or model error. Every error is followed by what to do next.
package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"

	"github.com/facegate/facegate/examples/internal/exitcode"
	"github.com/facegate/facegate/examples/internal/site"
)

func main() {
	a := &app{stdin: os.Stdin, stdout: os.Stdout, stderr: os.Stderr}
	os.Exit(a.run(os.Args[1:]))
}

// app holds one invocation's streams and common flags.
type app struct {
	stdin          *os.File
	stdout, stderr io.Writer

	storePath string
	keyFile   string
	models    string
	json      bool
}

// command is one subcommand.
type command struct {
	name    string
	args    string
	summary string
	// run parses its own flags through fs (with the common flags already
	// added) and does the work.
	run func(a *app, fs *flag.FlagSet, args []string) error
}

var commands []command

func init() {
	commands = []command{
		{"init", "", "create a new encrypted store", (*app).cmdInit},
		{"consent", "record|show|withdraw --id ID", "record, show or withdraw a subject's consent", (*app).cmdConsent},
		{"enroll", "--id ID PHOTO|DIR|-  |  enroll DIR-OF-SUBJECT-DIRS", "enroll face photos (consent and a card or PIN required; quality gate on)", (*app).cmdEnroll},
		{"verify", "--id ID PHOTO|-", "check a photo against one subject (1:1)", (*app).cmdVerify},
		{"identify", "PHOTO|-", "find who a photo shows (1:N)", (*app).cmdIdentify},
		{"credential", "card|pin|qr|remove --id ID", "add a card or PIN, issue a one-time QR code, remove a card or PIN", (*app).cmdCredential},
		{"delete", "--id ID", "erase a subject entirely (crypto-shredding), with a receipt", (*app).cmdDelete},
		{"list", "", "list subjects, their consents and credentials", (*app).cmdList},
		{"export", "--id ID", "right of access: everything held about a subject, as JSON", (*app).cmdExport},
		{"rekey", "[--transform]", "rotate the store key, or renew the template transform", (*app).cmdRekey},
		{"audit", "[--id ID]", "show the access log still held (within the retention window)", (*app).cmdAudit},
		{"admit", "[--photo P] [--card HEX] [--pin --id ID] [--qr CODE]", "simulate a gate attempt with any mix of factors", (*app).cmdAdmit},
		{"compound", "init|hub|lag --dir DIR", "a compound of gates: provision keys, run the office hub (NATS JetStream), show each gate's lag", (*app).cmdCompound},
		{"demo", "", "enroll and verify the shared test photos in a temporary store, with per-group rates", (*app).cmdDemo},
	}
}

func (a *app) usage() {
	fmt.Fprintf(a.stderr, "facegate: the operator's command line for a FaceGate compound\n\nUsage: facegate <command> [flags]\n\nCommands:\n")
	for _, c := range commands {
		fmt.Fprintf(a.stderr, "  %-11s %s\n", c.name, c.summary)
	}
	fmt.Fprintf(a.stderr, "\nStore: --store or %s. Key: --key-file, FACEGATE_KEY, %s, or a prompt.\n", site.StoreEnv, site.PassphraseEnv)
	fmt.Fprintf(a.stderr, "Exit codes: 0 ok, 1 no match/denied, 2 usage, 3 bad input, 4 store/key/model error.\n")
	fmt.Fprintf(a.stderr, "Run `facegate <command> --help` for a command's flags.\n")
}

func (a *app) run(args []string) int {
	if len(args) == 0 {
		a.usage()
		return exitcode.Usage
	}
	name := args[0]
	if name == "-h" || name == "--help" || name == "help" {
		a.usage()
		return exitcode.OK
	}
	for _, c := range commands {
		if c.name != name {
			continue
		}
		fs := flag.NewFlagSet("facegate "+c.name, flag.ContinueOnError)
		fs.SetOutput(a.stderr)
		fs.StringVar(&a.storePath, "store", os.Getenv(site.StoreEnv), "store file (default $"+site.StoreEnv+")")
		fs.StringVar(&a.keyFile, "key-file", "", "file holding the store key (32 raw bytes or 64 hex digits)")
		fs.StringVar(&a.models, "models", "", "model directory (default $"+site.ModelsEnv+" or ./models)")
		fs.BoolVar(&a.json, "json", false, "print JSON")
		fs.Usage = func() {
			fmt.Fprintf(a.stderr, "Usage: facegate %s %s\n\n%s.\n\nFlags:\n", c.name, c.args, c.summary)
			fs.PrintDefaults()
		}
		err := c.run(a, fs, args[1:])
		if errors.Is(err, flag.ErrHelp) {
			return exitcode.OK
		}
		return a.fail(err)
	}
	fmt.Fprintf(a.stderr, "facegate: unknown command %q\n\n", name)
	a.usage()
	return exitcode.Usage
}

// fail reports err with its hint and returns its exit code.
func (a *app) fail(err error) int {
	code := exitcode.Of(err)
	if err == nil || errors.Is(err, exitcode.ErrDenied) || errors.Is(err, errSilent) {
		return code
	}
	hint := exitcode.Hint(err)
	if a.json {
		a.printJSON(map[string]any{"error": err.Error(), "hint": hint, "exit": code})
	} else {
		fmt.Fprintf(a.stderr, "facegate: %v\n", err)
		if hint != "" {
			fmt.Fprintf(a.stderr, "  what to do: %s\n", hint)
		}
	}
	return code
}

// parse parses fs and checks the number of positional arguments.
func parse(fs *flag.FlagSet, args []string, minArgs, maxArgs int) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return fmt.Errorf("%w: %v", exitcode.ErrUsage, err)
	}
	if n := fs.NArg(); n < minArgs || n > maxArgs {
		return fmt.Errorf("%w: %s takes %d to %d arguments, got %d", exitcode.ErrUsage, fs.Name(), minArgs, maxArgs, n)
	}
	return nil
}

func (a *app) printJSON(v any) {
	enc := json.NewEncoder(a.stdout)
	enc.SetIndent("", "  ")
	enc.Encode(v)
}

// print writes v as JSON with --json, otherwise the text.
func (a *app) print(v any, text string) {
	if a.json {
		a.printJSON(v)
		return
	}
	fmt.Fprint(a.stdout, text)
	if !strings.HasSuffix(text, "\n") {
		fmt.Fprintln(a.stdout)
	}
}

func (a *app) secrets() site.Secrets { return site.Secrets{In: a.stdin, Out: a.stderr} }

// open opens the store named by the flags.
func (a *app) open(cfg site.Config) (*site.Site, error) {
	if a.storePath == "" {
		return nil, fmt.Errorf("%w: no store given: use --store or %s", exitcode.ErrUsage, site.StoreEnv)
	}
	sec, err := a.secrets().Read(a.keyFile, "FACEGATE_KEY", site.PassphraseEnv, "store passphrase", false)
	if err != nil {
		return nil, err
	}
	defer sec.Wipe()
	cfg.Store, cfg.Models = a.storePath, a.models
	return site.Open(cfg, sec)
}

func sortedKeys[V any](m map[string]V) []string {
	k := make([]string, 0, len(m))
	for s := range m {
		k = append(k, s)
	}
	sort.Strings(k)
	return k
}
