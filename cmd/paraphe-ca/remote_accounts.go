package main

import (
	"fmt"
	"os"
	"strings"
	"text/tabwriter"

	"github.com/paraphe/paraphe/ca"
	"github.com/paraphe/paraphe/internal/cli"
)

// paraphe-ca remote list and remote unlock: the remote holders and where
// each stands; a holder's account unlocked, and a new initial password
// set, on the emergency code of their envelope, which they read out to
// the operator (ca/remote_operator.go). The code comes from a file, the
// environment or the terminal, never from the command line.

// Exit codes of the unlock.
const (
	exitEmergencyWrong  = 12 // a wrong emergency code (tries left)
	exitEmergencyLocked = 13 // the emergency code is blocked
)

// emergencyEnv is the environment variable that may hold the code.
const emergencyEnv = "PARAPHE_EMERGENCY_CODE"

func (c *command) remoteList(args []string) error {
	fs := c.flags("remote")
	dir := c.dirFlag(fs)
	asJSON := fs.Bool("json", false, c.p.T("ca.flag.json"))
	_, a, err := c.parseOpen(fs, dir, args, 0)
	if err != nil {
		return err
	}
	defer a.Close()
	hs, err := a.RemoteHolders(c.ctx())
	if err != nil {
		return err
	}
	if *asJSON {
		if hs == nil {
			hs = []ca.RemoteHolder{}
		}
		return cli.WriteJSON(c.stdout, hs)
	}
	if len(hs) == 0 {
		fmt.Fprintln(c.stdout, c.p.T("ca.remote.list_empty"))
		return nil
	}
	tw := tabwriter.NewWriter(c.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, c.p.T("ca.remote.list_header"))
	for _, h := range hs {
		until := "-"
		if !h.NotAfter.IsZero() {
			until = c.p.Date(h.NotAfter)
		}
		var notes []string
		for _, f := range []struct {
			on  bool
			key string
		}{{h.AccountLocked, "account_locked"}, {h.PasswordToChange, "password_to_change"}, {h.PINBlocked, "pin_blocked"},
			{h.PUKBlocked, "puk_blocked"}, {h.EmergencyBlocked, "emergency_blocked"}} {
			if f.on {
				notes = append(notes, c.p.T("ca.remote.note."+f.key))
			}
		}
		if len(notes) == 0 {
			notes = []string{"-"}
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", h.UserID, h.Name, c.p.T("ca.remote.state."+h.State), or(h.Serial, "-"), until, strings.Join(notes, "; "))
	}
	return tw.Flush()
}

func or(s, none string) string {
	if s == "" {
		return none
	}
	return s
}

func (c *command) remoteUnlock(args []string) error {
	if err := c.refuseSecretArgs(args, []string{"emergency-code", "code"}, "ca.err.emergency_on_command_line", "ca.hint.emergency_file"); err != nil {
		return err
	}
	fs := c.flags("remote")
	dir := c.dirFlag(fs)
	file := fs.String("emergency-code-file", "", c.p.T("ca.flag.emergency_code_file"))
	pos, a, err := c.parseOpen(fs, dir, args, 1)
	if err != nil {
		return err
	}
	defer a.Close()
	code, err := c.emergencyCode(*file, pos[0])
	if err != nil {
		return err
	}
	defer clear(code)
	password, err := a.UnlockRemoteAccount(c.ctx(), pos[0], string(code))
	if err != nil {
		return err
	}
	fmt.Fprintln(c.stdout, c.p.T("ca.remote.unlocked", "User", ca.ParseUserID(pos[0])))
	fmt.Fprintln(c.stdout, c.p.T("ca.remote.new_password"))
	fmt.Fprintln(c.stdout, password)
	return nil
}

// emergencyCode reads the code the holder of user reads out: the first
// line of file, $PARAPHE_EMERGENCY_CODE, or the terminal.
func (c *command) emergencyCode(file, user string) ([]byte, error) {
	if file != "" || os.Getenv(emergencyEnv) != "" {
		return c.secret(file, emergencyEnv, "", false)
	}
	t, err := c.terminal()
	if err == nil {
		var code []byte
		if code, err = t.Secret(c.p.T("ca.remote.prompt_emergency", "User", user)); err == nil && len(code) > 0 {
			return code, nil
		}
	}
	return nil, &cli.ExitError{Code: exitUsage, Message: c.p.T("ca.err.emergency_needed"), Hint: c.p.T("ca.hint.emergency_file")}
}
