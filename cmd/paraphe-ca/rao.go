package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/paraphe/paraphe/ca"
	"github.com/paraphe/paraphe/internal/atomicfile"
	"github.com/paraphe/paraphe/internal/cli"
	"github.com/paraphe/paraphe/protocol"
)

// Registration officers: their accounts (rao add, list, disable, enable),
// the renewal requests they decide (rao pending, approve, refuse) and the
// policy that makes renewals wait for them (rao approval). An officer's
// password and one-time code come from files, the environment or the
// terminal, never from the command line.

// Exit codes of the officers' logins.
const (
	exitOfficerDenied = 10 // wrong officer name, password or one-time code
	exitOfficerLocked = 11 // the officer's account is locked or disabled
)

// Where an officer's credentials may come from besides files and the
// terminal.
const (
	officerEnv  = "PARAPHE_RAO_OFFICER"
	passwordEnv = "PARAPHE_RAO_PASSWORD"
	codeEnv     = "PARAPHE_RAO_CODE"
)

func (c *command) rao(args []string) error {
	subs := map[string]func([]string) error{
		"add": c.raoAdd, "list": c.raoList, "disable": c.raoDisable, "enable": c.raoEnable,
		"pending": c.raoPending, "approve": c.raoDecide, "refuse": c.raoDecide, "approval": c.raoApproval,
	}
	if len(args) > 0 && (args[0] == "-h" || args[0] == "--help" || args[0] == "help") {
		fmt.Fprintln(c.stdout, c.p.T("ca.usage.rao"))
		return nil
	}
	if len(args) == 0 || subs[args[0]] == nil {
		return c.usage(c.p.T("ca.usage.rao"))
	}
	for _, arg := range args {
		name, _, _ := strings.Cut(strings.TrimLeft(arg, "-"), "=")
		if strings.HasPrefix(arg, "-") && (name == "password" || name == "code" || name == "totp") {
			return &cli.ExitError{Code: exitUsage, Message: c.p.T("ca.err.officer_secret_on_command_line"), Hint: c.p.T("ca.hint.officer_secrets")}
		}
	}
	return subs[args[0]](args)
}

// raoFlags is the flag set of rao SUB, with --dir.
func (c *command) raoFlags(sub string) (*flag.FlagSet, *string) {
	fs := cli.FlagSet("paraphe-ca rao "+sub, c.stderr, c.p.T("ca.usage.rao"))
	return fs, c.dirFlag(fs)
}

// raoOpen parses rao SUB's command line (args[0] is SUB), checks it has
// npos positional arguments, and opens the CA.
func (c *command) raoOpen(fs *flag.FlagSet, dir *string, args []string, npos int) ([]string, *ca.Authority, error) {
	pos, err := cli.Parse(fs, args[1:])
	if err != nil {
		return nil, nil, c.usage(err.Error())
	}
	if len(pos) != npos {
		return nil, nil, c.usage(c.p.T("ca.usage.rao"))
	}
	a, err := c.open(*dir)
	return pos, a, err
}

// terminal reads what the officer types, when standard input is a file
// (a terminal, a pipe).
func (c *command) terminal() (*cli.Terminal, error) {
	if c.term != nil {
		return c.term, nil
	}
	f, ok := c.stdin.(*os.File)
	if !ok {
		return nil, &cli.ExitError{Code: exitUsage, Message: c.p.T("ca.err.officer_secrets_needed"), Hint: c.p.T("ca.hint.officer_secrets")}
	}
	c.term = &cli.Terminal{In: f, Out: c.stderr}
	return c.term, nil
}

// secret reads a secret: the first line of file, else $env, else typed
// (twice when confirm is set). An empty one is refused.
func (c *command) secret(file, env, prompt string, confirm bool) ([]byte, error) {
	var s []byte
	switch v, ok := os.LookupEnv(env); {
	case file != "":
		data, err := os.ReadFile(file)
		if err != nil {
			return nil, &cli.ExitError{Code: exitInput, Message: c.p.T("ca.err.secret_file", "Err", err.Error()), Hint: c.p.T("ca.hint.officer_secrets"), Err: err}
		}
		s, _, _ = bytes.Cut(data, []byte("\n"))
		s = bytes.TrimSuffix(s, []byte("\r"))
	case ok && v != "":
		s = []byte(v)
	default:
		t, err := c.terminal()
		if err != nil {
			return nil, err
		}
		if s, err = t.Secret(prompt); err != nil {
			return nil, &cli.ExitError{Code: exitUsage, Message: c.p.T("ca.err.officer_secrets_needed"), Hint: c.p.T("ca.hint.officer_secrets"), Err: err}
		}
		if confirm {
			again, err := t.Secret(c.p.T("ca.rao.prompt_again"))
			if err != nil || !bytes.Equal(s, again) {
				return nil, &cli.ExitError{Code: exitInput, Message: c.p.T("ca.err.passwords_differ")}
			}
		}
	}
	if len(s) == 0 {
		return nil, &cli.ExitError{Code: exitInput, Message: c.p.T("ca.err.secret_empty"), Hint: c.p.T("ca.hint.officer_secrets")}
	}
	return s, nil
}

func (c *command) raoAdd(args []string) error {
	fs, dir := c.raoFlags("add")
	pwFile := fs.String("password-file", "", c.p.T("ca.flag.officer_password_file"))
	uriFile := fs.String("otpauth-file", "", c.p.T("ca.flag.otpauth_file"))
	pos, a, err := c.raoOpen(fs, dir, args, 1)
	if err != nil {
		return err
	}
	defer a.Close()
	pw, err := c.secret(*pwFile, passwordEnv, c.p.T("ca.rao.prompt_new_password", "Name", pos[0]), true)
	if err != nil {
		return err
	}
	defer clear(pw)
	_, statErr := os.Stat(filepath.Join(*dir, "officers.key"))
	k, err := a.AddOfficer(c.ctx(), pos[0], pw)
	if err != nil {
		return err
	}
	if errors.Is(statErr, os.ErrNotExist) {
		fmt.Fprintln(c.stderr, c.p.T("ca.rao.key_made", "File", filepath.Join(*dir, "officers.key")))
	}
	if *uriFile != "" {
		if err := atomicfile.Write(*uriFile, []byte(k.URI+"\n"), 0o600); err != nil {
			return err
		}
		fmt.Fprintln(c.stdout, c.p.T("ca.rao.added_file", "Name", pos[0], "File", *uriFile))
		return nil
	}
	fmt.Fprintln(c.stdout, c.p.T("ca.rao.added", "Name", pos[0]))
	fmt.Fprintln(c.stdout, k.URI)
	fmt.Fprintln(c.stdout, c.p.T("ca.rao.added_secret", "Secret", k.Secret))
	return nil
}

func (c *command) raoList(args []string) error {
	fs, dir := c.raoFlags("list")
	asJSON := fs.Bool("json", false, c.p.T("ca.flag.json"))
	_, a, err := c.raoOpen(fs, dir, args, 0)
	if err != nil {
		return err
	}
	defer a.Close()
	officers, err := a.Officers(c.ctx())
	if err != nil {
		return err
	}
	if *asJSON {
		return cli.WriteJSON(c.stdout, officers)
	}
	if len(officers) == 0 {
		fmt.Fprintln(c.stdout, c.p.T("ca.rao.none"))
		return nil
	}
	tw := tabwriter.NewWriter(c.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, c.p.T("ca.rao.header"))
	for _, o := range officers {
		state := c.p.T("ca.rao.active")
		switch {
		case o.Disabled != nil:
			state = c.p.T("ca.rao.disabled")
		case o.Locked:
			state = c.p.T("ca.rao.locked")
		}
		last := "-"
		if o.LastLogin != nil {
			last = o.LastLogin.Local().Format(time.DateTime)
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\t%s\t%s\n", o.Name, state, o.Failures, last, c.p.Date(o.Created))
	}
	return tw.Flush()
}

func (c *command) raoDisable(args []string) error { return c.raoSwitch(args, false) }
func (c *command) raoEnable(args []string) error  { return c.raoSwitch(args, true) }

// raoSwitch disables an officer's account, or enables it (unlocks it).
func (c *command) raoSwitch(args []string, enable bool) error {
	fs, dir := c.raoFlags(args[0])
	pos, a, err := c.raoOpen(fs, dir, args, 1)
	if err != nil {
		return err
	}
	defer a.Close()
	if enable {
		if err := a.EnableOfficer(c.ctx(), pos[0]); err != nil {
			return err
		}
		fmt.Fprintln(c.stdout, c.p.T("ca.rao.enabled", "Name", pos[0]))
		return nil
	}
	if err := a.DisableOfficer(c.ctx(), pos[0]); errors.Is(err, ca.ErrOfficerDisabled) {
		return &cli.ExitError{Code: exitState, Message: c.p.T("ca.err.officer_already_disabled", "Name", pos[0]), Err: err}
	} else if err != nil {
		return err
	}
	fmt.Fprintln(c.stdout, c.p.T("ca.rao.disabled_done", "Name", pos[0]))
	return nil
}

func (c *command) raoPending(args []string) error {
	fs, dir := c.raoFlags("pending")
	asJSON := fs.Bool("json", false, c.p.T("ca.flag.json"))
	_, a, err := c.raoOpen(fs, dir, args, 0)
	if err != nil {
		return err
	}
	defer a.Close()
	ps, err := a.PendingRenewals(c.ctx())
	if err != nil {
		return err
	}
	if *asJSON {
		return cli.WriteJSON(c.stdout, ps)
	}
	if len(ps) == 0 {
		fmt.Fprintln(c.stdout, c.p.T("ca.rao.no_pending"))
		return nil
	}
	tw := tabwriter.NewWriter(c.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, c.p.T("ca.rao.pending_header"))
	for _, p := range ps {
		d := p.Details
		name, title, number := d.Name, d.Title, d.MemberNumber
		if d.Seal {
			name, title, number = c.p.T("ca.list.seal", "Name", d.Organization), "-", d.OrganizationID
		}
		confirmed := c.p.T("ca.rao.confirmed_no")
		if p.Confirmed {
			confirmed = c.p.T("ca.rao.confirmed_yes")
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", p.ID, name, title, number, d.Organization, p.Serial,
			p.Created.Local().Format(time.DateTime), confirmed)
	}
	return tw.Flush()
}

// raoDecide approves or refuses a renewal request with the officer's
// credentials.
func (c *command) raoDecide(args []string) error {
	fs, dir := c.raoFlags(args[0])
	officer := fs.String("officer", os.Getenv(officerEnv), c.p.T("ca.flag.officer"))
	pwFile := fs.String("password-file", "", c.p.T("ca.flag.officer_password_file"))
	codeFile := fs.String("code-file", "", c.p.T("ca.flag.code_file"))
	reason := fs.String("reason", "", c.p.T("ca.flag.refusal_reason"))
	pos, a, err := c.raoOpen(fs, dir, args, 1)
	if err != nil {
		return err
	}
	defer a.Close()
	id, err := ca.ParseRequestID(pos[0])
	if err != nil {
		return err
	}
	refuse := args[0] == "refuse"
	if refuse && strings.TrimSpace(*reason) == "" {
		return c.usage(c.p.T("ca.err.need_reason"))
	}
	if !refuse && *reason != "" {
		return c.usage(c.p.T("ca.err.reason_approve"))
	}
	s, err := c.officerLogin(a, *officer, *pwFile, *codeFile)
	if err != nil {
		return err
	}
	var p *protocol.PendingRenewal
	if refuse {
		p, err = s.Refuse(c.ctx(), id, *reason)
	} else {
		p, err = s.Approve(c.ctx(), id)
	}
	if err != nil {
		return err
	}
	name := p.Details.Name
	if p.Details.Seal {
		name = p.Details.Organization
	}
	if refuse {
		fmt.Fprintln(c.stdout, c.p.T("ca.rao.refused", "ID", p.ID, "Name", name, "Officer", s.Officer))
	} else {
		fmt.Fprintln(c.stdout, c.p.T("ca.rao.approved", "ID", p.ID, "Name", name, "Officer", s.Officer))
	}
	return nil
}

// officerLogin logs the officer in: the name from --officer or
// $PARAPHE_RAO_OFFICER (else typed), the password and the code from their
// files, the environment or the terminal.
func (c *command) officerLogin(a *ca.Authority, name, pwFile, codeFile string) (*ca.OfficerSession, error) {
	if name == "" {
		t, err := c.terminal()
		if err != nil {
			return nil, err
		}
		if name, err = t.Line(c.p.T("ca.rao.prompt_officer")); err != nil || name == "" {
			return nil, &cli.ExitError{Code: exitUsage, Message: c.p.T("ca.err.officer_secrets_needed"), Hint: c.p.T("ca.hint.officer_secrets")}
		}
	}
	pw, err := c.secret(pwFile, passwordEnv, c.p.T("ca.rao.prompt_password", "Name", name), false)
	if err != nil {
		return nil, err
	}
	defer clear(pw)
	code, err := c.secret(codeFile, codeEnv, c.p.T("ca.rao.prompt_code"), false)
	if err != nil {
		return nil, err
	}
	return a.LoginOfficer(c.ctx(), strings.TrimSpace(name), pw, string(code))
}

func (c *command) raoApproval(args []string) error {
	fs, dir := c.raoFlags("approval")
	pos, err := cli.Parse(fs, args[1:])
	if err != nil {
		return c.usage(err.Error())
	}
	if len(pos) > 1 || (len(pos) == 1 && pos[0] != "on" && pos[0] != "off") {
		return c.usage(c.p.T("ca.usage.rao"))
	}
	a, err := c.open(*dir)
	if err != nil {
		return err
	}
	defer a.Close()
	on, err := a.RenewalApproval(c.ctx())
	if len(pos) == 1 {
		on = pos[0] == "on"
		_, err = a.SetRenewalApproval(c.ctx(), on)
	}
	if err != nil {
		return err
	}
	if on {
		fmt.Fprintln(c.stdout, c.p.T("ca.rao.approval_on"))
	} else {
		fmt.Fprintln(c.stdout, c.p.T("ca.rao.approval_off"))
	}
	return nil
}

// explainOfficers says the errors of the officers and their decisions,
// or returns nil for others.
func (c *command) explainOfficers(err error) *cli.ExitError {
	p := c.p
	var denied *ca.OfficerDeniedError
	e := func(code int, msg, hint string) *cli.ExitError {
		return &cli.ExitError{Code: code, Message: msg, Hint: hint, Err: err}
	}
	switch {
	case errors.As(err, &denied) && denied.AttemptsLeft == 0:
		return e(exitOfficerDenied, p.T("ca.err.officer_denied_locked"), p.T("ca.hint.officer_locked"))
	case errors.As(err, &denied) && denied.AttemptsLeft > 0:
		return e(exitOfficerDenied, p.T("ca.err.officer_denied_left", "Left", denied.AttemptsLeft), p.T("ca.hint.officer_denied"))
	case errors.Is(err, ca.ErrOfficerDenied):
		return e(exitOfficerDenied, p.T("ca.err.officer_denied"), p.T("ca.hint.officer_denied"))
	case errors.Is(err, ca.ErrOfficerLocked):
		return e(exitOfficerLocked, p.T("ca.err.officer_locked"), p.T("ca.hint.officer_locked"))
	case errors.Is(err, ca.ErrOfficerDisabled):
		return e(exitOfficerLocked, p.T("ca.err.officer_disabled"), p.T("ca.hint.officer_locked"))
	case errors.Is(err, ca.ErrOfficerName):
		return e(exitInput, p.T("ca.err.officer_name"), "")
	case errors.Is(err, ca.ErrOfficerPassword):
		return e(exitInput, p.T("ca.err.officer_password"), "")
	case errors.Is(err, ca.ErrOfficerExists):
		return e(exitState, p.T("ca.err.officer_exists"), p.T("ca.hint.rao_list"))
	case errors.Is(err, ca.ErrUnknownOfficer):
		return e(exitNotFound, p.T("ca.err.unknown_officer"), p.T("ca.hint.rao_list"))
	case errors.Is(err, ca.ErrOfficerKey):
		return e(exitError, p.T("ca.err.officer_key", "Err", err.Error()), p.T("ca.hint.officer_key"))
	case errors.Is(err, ca.ErrRequestFormat):
		return e(exitInput, p.T("ca.err.request_format"), p.T("ca.hint.rao_pending"))
	case errors.Is(err, ca.ErrUnknownRequest):
		return e(exitNotFound, p.T("ca.err.unknown_request"), p.T("ca.hint.rao_pending"))
	case errors.Is(err, ca.ErrRequestDecided):
		return e(exitState, p.T("ca.err.request_decided"), p.T("ca.hint.rao_pending"))
	case errors.Is(err, ca.ErrRequestStale):
		return e(exitState, p.T("ca.err.request_stale"), "")
	}
	return nil
}
