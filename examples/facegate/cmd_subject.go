package main

import (
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/facegate/facegate/examples/internal/exitcode"
	"github.com/facegate/facegate/examples/internal/site"
	"github.com/facegate/facegate/gate"
	"github.com/facegate/facegate/gate/accesslog"
)

// purposes parses "entry", "face" or both, comma separated.
func purposes(s string) ([]gate.Purpose, error) {
	var out []gate.Purpose
	for _, p := range strings.Split(s, ",") {
		switch strings.TrimSpace(p) {
		case "entry", string(gate.PurposeEntry):
			out = append(out, gate.PurposeEntry)
		case "face", string(gate.PurposeFace):
			out = append(out, gate.PurposeFace)
		default:
			return nil, fmt.Errorf("%w: --purpose %q: want entry, face or entry,face", exitcode.ErrUsage, p)
		}
	}
	return out, nil
}

func needID(id string) error {
	if id == "" {
		return fmt.Errorf("%w: --id is required", exitcode.ErrUsage)
	}
	return nil
}

// subcommand returns the action word that must lead the arguments of
// command cmd (one of actions, listed for the usage error): flag.ErrHelp
// after printing the usage for -h or --help, a usage error when the first
// argument is missing or is a flag.
func subcommand(fs *flag.FlagSet, args []string, cmd, actions string) (string, error) {
	if len(args) == 0 || strings.HasPrefix(args[0], "-") {
		if len(args) > 0 && (args[0] == "-h" || args[0] == "--help") {
			fs.Usage()
			return "", flag.ErrHelp
		}
		return "", fmt.Errorf("%w: %s needs an action: %s", exitcode.ErrUsage, cmd, actions)
	}
	return args[0], nil
}

// parseOpen parses the flags of a command that takes no other arguments,
// checks that --id was given when id is not nil, and opens the store
// without the face backend. The caller closes the site.
func (a *app) parseOpen(fs *flag.FlagSet, args []string, id *string) (*site.Site, error) {
	return a.parseOpenWith(fs, args, id, site.Config{})
}

func (a *app) parseOpenWith(fs *flag.FlagSet, args []string, id *string, cfg site.Config) (*site.Site, error) {
	if err := parse(fs, args, 0, 0); err != nil {
		return nil, err
	}
	if id != nil {
		if err := needID(*id); err != nil {
			return nil, err
		}
	}
	return a.open(cfg)
}

// parseOpenRO is parseOpen for commands that only read (list, export,
// audit): the store opens read-only, so they work on a file that may not
// be written.
func (a *app) parseOpenRO(fs *flag.FlagSet, args []string, id *string) (*site.Site, error) {
	return a.parseOpenWith(fs, args, id, site.Config{ReadOnly: true})
}

func (a *app) cmdConsent(fs *flag.FlagSet, args []string) error {
	action, err := subcommand(fs, args, "consent", "record, show or withdraw")
	if err != nil {
		return err
	}
	id := fs.String("id", "", "subject ID")
	purpose := fs.String("purpose", "entry", "entry, face, or entry,face (record); entry or face (withdraw)")
	how := fs.String("how", "", "how consent was given, e.g. \"signed form #1182\" (record)")
	birth := fs.Int("birth-year", 0, "the subject's year of birth (record)")
	guardian := fs.String("guardian", "", "the guardian consenting for a subject under 14 (record)")
	expires := fs.String("expires", "", "expiry date YYYY-MM-DD (record; default none)")
	fs.Init("facegate consent "+action, flag.ContinueOnError)
	s, err := a.parseOpen(fs, args[1:], id)
	if err != nil {
		return err
	}
	defer s.Close()
	switch action {
	case "record":
		ps, err := purposes(*purpose)
		if err != nil {
			return err
		}
		var exp time.Time
		if *expires != "" {
			if exp, err = time.Parse(time.DateOnly, *expires); err != nil {
				return fmt.Errorf("%w: --expires: %v", exitcode.ErrUsage, err)
			}
		}
		var done []string
		for _, p := range ps {
			c := gate.Consent{Purpose: p, How: *how, BirthYear: *birth, Guardian: *guardian, Expires: exp}
			if p == gate.PurposeEntry {
				err = s.Gate.Register(*id, c)
				if errors.Is(err, gate.ErrSubjectExists) {
					err = s.Gate.GiveConsent(*id, c)
				}
			} else {
				err = s.Gate.GiveConsent(*id, c)
			}
			if err != nil {
				return err
			}
			done = append(done, string(p))
		}
		a.print(map[string]any{"subject": *id, "recorded": done}, fmt.Sprintf("recorded %s consent of %s", strings.Join(done, " and "), *id))
	case "show":
		e, err := s.Gate.Export(*id)
		if err != nil {
			return err
		}
		var b strings.Builder
		for _, c := range e.Consents {
			fmt.Fprintf(&b, "%-17s %s\n", c.Purpose, describeConsent(c))
		}
		for _, c := range e.ConsentHistory {
			fmt.Fprintf(&b, "%-17s (replaced) %s\n", c.Purpose, describeConsent(c))
		}
		if len(e.Consents) == 0 {
			b.WriteString("no consent recorded\n")
		}
		a.print(map[string]any{"subject": *id, "consents": e.Consents, "history": e.ConsentHistory}, b.String())
	case "withdraw":
		ps, err := purposes(*purpose)
		if err != nil {
			return err
		}
		if len(ps) != 1 {
			return fmt.Errorf("%w: withdraw one purpose at a time", exitcode.ErrUsage)
		}
		r, err := s.Gate.Withdraw(*id, ps[0])
		if err != nil {
			return err
		}
		a.printReceipt(s, r)
	default:
		return fmt.Errorf("%w: unknown consent action %q: want record, show or withdraw", exitcode.ErrUsage, action)
	}
	return nil
}

func describeConsent(c gate.Consent) string {
	s := fmt.Sprintf("given %s, %s, born %d", c.Given.Format(time.DateOnly), c.How, c.BirthYear)
	if c.Guardian != "" {
		s += ", by guardian " + c.Guardian
	}
	if !c.Expires.IsZero() {
		s += ", expires " + c.Expires.Format(time.DateOnly)
	}
	if !c.Withdrawn.IsZero() {
		s += ", WITHDRAWN " + c.Withdrawn.Format(time.RFC3339)
	}
	return s
}

func (a *app) printReceipt(s *site.Site, r gate.Receipt) {
	ok := gate.VerifyReceipt(s.Keys.Receipt, r) == nil
	var b strings.Builder
	fmt.Fprintf(&b, "deletion receipt for %s (%s) at %s\n", r.Subject, r.Purpose, r.At.Format(time.RFC3339))
	for _, d := range r.Deleted {
		fmt.Fprintf(&b, "  deleted: %s\n", d)
	}
	fmt.Fprintf(&b, "  MAC %s (verified: %v)\n", hex.EncodeToString(r.MAC), ok)
	a.print(map[string]any{"receipt": r, "mac_verified": ok}, b.String())
}

func (a *app) cmdCredential(fs *flag.FlagSet, args []string) error {
	action, err := subcommand(fs, args, "credential", "card, pin, qr or remove")
	if err != nil {
		return err
	}
	id := fs.String("id", "", "subject ID")
	uid := fs.String("uid", "", "card UID as hex digits (card)")
	card := fs.Bool("card", false, "remove the card (remove)")
	pin := fs.Bool("pin", false, "remove the PIN (remove)")
	fs.Init("facegate credential "+action, flag.ContinueOnError)
	s, err := a.parseOpen(fs, args[1:], id)
	if err != nil {
		return err
	}
	defer s.Close()
	switch action {
	case "card":
		b, err := cardUID(*uid)
		if err != nil {
			return err
		}
		if err := s.Gate.SetCard(*id, b); err != nil {
			return err
		}
		a.print(map[string]any{"subject": *id, "card": "set"}, "card enrolled for "+*id+" (only its keyed MAC is stored)")
	case "pin":
		p, err := a.secrets().Line("PIN for " + *id)
		if err != nil {
			return fmt.Errorf("%w: %w", exitcode.ErrInput, err)
		}
		if err := s.Gate.SetPIN(*id, p); err != nil {
			return err
		}
		a.print(map[string]any{"subject": *id, "pin": "set"}, "PIN set for "+*id+" (stored as an Argon2id hash; lockout reset)")
	case "qr":
		code, exp, err := s.Gate.IssueQR(*id)
		if err != nil {
			return err
		}
		a.print(map[string]any{"subject": *id, "qr": code, "expires": exp}, fmt.Sprintf("%s\n(one-time code for %s, valid until %s)", code, *id, exp.Format(time.RFC3339)))
	case "remove":
		if *card == *pin {
			return fmt.Errorf("%w: remove takes exactly one of --card and --pin", exitcode.ErrUsage)
		}
		what := "card"
		if *card {
			err = s.Gate.RemoveCard(*id)
		} else {
			what = "PIN"
			err = s.Gate.RemovePIN(*id)
		}
		if err != nil {
			return err
		}
		a.print(map[string]any{"subject": *id, "removed": what}, "removed the "+what+" of "+*id)
	default:
		return fmt.Errorf("%w: unknown credential action %q: want card, pin, qr or remove", exitcode.ErrUsage, action)
	}
	return nil
}

func cardUID(s string) ([]byte, error) {
	if s == "" {
		return nil, fmt.Errorf("%w: --uid is required", exitcode.ErrUsage)
	}
	b, err := hex.DecodeString(strings.ReplaceAll(s, ":", ""))
	if err != nil {
		return nil, fmt.Errorf("%w: card UID %q is not hex: %v", gate.ErrWrongCard, s, err)
	}
	return b, nil
}

func (a *app) cmdDelete(fs *flag.FlagSet, args []string) error {
	id := fs.String("id", "", "subject ID")
	s, err := a.parseOpen(fs, args, id)
	if err != nil {
		return err
	}
	defer s.Close()
	r, err := s.Gate.Erase(*id)
	if err != nil {
		return err
	}
	a.printReceipt(s, r)
	return nil
}

// listEntry is one row of `facegate list`.
type listEntry struct {
	Subject   string   `json:"subject"`
	Consents  []string `json:"consents"`
	Card      bool     `json:"card"`
	PIN       bool     `json:"pin"`
	Templates int      `json:"face_templates"`
}

func (a *app) cmdList(fs *flag.FlagSet, args []string) error {
	s, err := a.parseOpenRO(fs, args, nil)
	if err != nil {
		return err
	}
	defer s.Close()
	ids, err := s.Gate.Subjects()
	if err != nil {
		return err
	}
	rows := []listEntry{}
	var b strings.Builder
	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "SUBJECT\tCONSENTS\tCARD\tPIN\tFACE TEMPLATES")
	now := time.Now()
	for _, id := range ids {
		e, err := s.Gate.Export(id)
		if err != nil {
			return err
		}
		r := listEntry{Subject: id, Consents: []string{}, Card: e.Card != nil, PIN: e.PIN != nil, Templates: len(e.FaceTemplates)}
		for _, c := range e.Consents {
			st := string(c.Purpose)
			if err := c.ValidAt(now); err != nil {
				st += "(" + map[bool]string{true: "withdrawn", false: "expired"}[!c.Withdrawn.IsZero()] + ")"
			}
			r.Consents = append(r.Consents, st)
		}
		rows = append(rows, r)
		fmt.Fprintf(tw, "%s\t%s\t%v\t%v\t%d\n", id, strings.Join(r.Consents, ","), r.Card, r.PIN, r.Templates)
	}
	tw.Flush()
	fmt.Fprintf(&b, "%d subjects", len(ids))
	a.print(rows, b.String())
	return nil
}

func (a *app) cmdExport(fs *flag.FlagSet, args []string) error {
	id := fs.String("id", "", "subject ID")
	s, err := a.parseOpenRO(fs, args, id)
	if err != nil {
		return err
	}
	defer s.Close()
	data, err := s.Gate.ExportJSON(*id)
	if err != nil {
		return err
	}
	fmt.Fprintf(a.stdout, "%s\n", data)
	return nil
}

func (a *app) cmdAudit(fs *flag.FlagSet, args []string) error {
	id := fs.String("id", "", "only the events still linkable to this subject")
	s, err := a.parseOpenRO(fs, args, nil)
	if err != nil {
		return err
	}
	defer s.Close()
	var events []accesslog.Event
	if *id != "" {
		if events, err = s.Log.Find(*id); err != nil {
			return err
		}
	} else {
		days, err := s.Log.Days()
		if err != nil {
			return err
		}
		for _, d := range days {
			ev, err := s.Log.Events(d)
			if err != nil {
				return err
			}
			events = append(events, ev...)
		}
	}
	if events == nil {
		events = []accesslog.Event{}
	}
	var b strings.Builder
	fmt.Fprintf(&b, "access log: pseudonyms change daily and become unlinkable after %v; events are purged after %v\n", s.Log.Retention(), s.Log.HardLimit())
	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "TIME\tGATE\tMETHOD\tDECISION\tREASON\tPSEUDONYM")
	for _, e := range events {
		dec := "denied"
		if e.Admitted {
			dec = "admitted"
		}
		p := e.Pseudonym
		if len(p) > 16 {
			p = p[:16]
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", e.Time.Format("2006-01-02 15:04"), e.Gate, e.Method, dec, e.Reason, p)
	}
	tw.Flush()
	fmt.Fprintf(&b, "%d events", len(events))
	a.print(events, b.String())
	return nil
}
