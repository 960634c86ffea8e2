package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"time"

	"github.com/paraphe/paraphe/ca"
	"github.com/paraphe/paraphe/internal/cli"
)

// The commands on the CA's records: the schema of its database, its
// audit trail.

// exitAudit: audit verify found the trail broken.
const exitAudit = 9

// ctx is the context of an operator's command: the audit trail names
// the operator by their user name on this machine.
func (c *command) ctx() context.Context {
	name := os.Getenv("USER")
	if u, err := user.Current(); err == nil {
		name = u.Username
	}
	if name == "" {
		name = strconv.Itoa(os.Getuid())
	}
	return ca.WithActor(context.Background(), "operator:"+name)
}

// databaseFlags adds init's --db and --db-password-file.
func (c *command) databaseFlags(fs *flag.FlagSet, o *ca.InitOptions) func() error {
	fs.StringVar(&o.Database.URL, "db", "", c.p.T("ca.flag.db"))
	pwFile := fs.String("db-password-file", "", c.p.T("ca.flag.db_password_file"))
	// The file is named for the server, which may run elsewhere than here.
	return func() error {
		if *pwFile == "" {
			return nil
		}
		abs, err := filepath.Abs(*pwFile)
		o.Database.PasswordFile = abs
		return err
	}
}

func (c *command) migrate(args []string) error {
	fs := c.flags("migrate")
	dir := c.dirFlag(fs)
	asJSON := fs.Bool("json", false, c.p.T("ca.flag.json"))
	pos, err := cli.Parse(fs, args)
	if err != nil {
		return c.usage(err.Error())
	}
	if len(pos) != 0 {
		return c.usage(c.p.T("ca.usage.migrate"))
	}
	if *dir == "" {
		return c.usage(c.p.T("ca.need_dir"))
	}
	st, err := ca.Migrate(c.ctx(), *dir)
	if err != nil {
		return err
	}
	if *asJSON {
		return cli.WriteJSON(c.stdout, st)
	}
	for _, m := range st.Applied {
		fmt.Fprintln(c.stdout, c.p.T("ca.migrate.applied", "Version", m.Version, "Name", m.Name))
	}
	if len(st.Applied) == 0 {
		fmt.Fprintln(c.stdout, c.p.T("ca.migrate.up_to_date", "Database", st.Database, "Version", st.Version))
	} else {
		fmt.Fprintln(c.stdout, c.p.T("ca.migrate.done", "Database", st.Database, "Version", st.Version))
	}
	return nil
}

func (c *command) audit(args []string) error {
	if len(args) == 0 || (args[0] != "verify" && args[0] != "export") {
		return c.usage(c.p.T("ca.usage.audit"))
	}
	fs := c.flags("audit")
	dir := c.dirFlag(fs)
	asJSON := fs.Bool("json", false, c.p.T("ca.flag.json"))
	since := fs.String("since", "", c.p.T("ca.flag.since"))
	_, a, err := c.parseOpen(fs, dir, args[1:], 0)
	if err != nil {
		return err
	}
	defer a.Close()
	if args[0] == "export" {
		return c.auditExport(a, *since)
	}
	sum, err := a.VerifyAudit(c.ctx())
	if err != nil {
		return err
	}
	if *asJSON {
		return cli.WriteJSON(c.stdout, sum)
	}
	fmt.Fprintln(c.stdout, c.p.T("ca.audit.intact", "Records", sum.Records, "First", sum.First, "Last", sum.Last))
	fmt.Fprintln(c.stdout, c.p.T("ca.audit.head", "Hash", sum.Head))
	return nil
}

// auditExport writes the records made since (RFC 3339, or a date) as
// JSON lines.
func (c *command) auditExport(a *ca.Authority, since string) error {
	var from time.Time
	if since != "" {
		var err error
		if from, err = time.Parse(time.RFC3339, since); err != nil {
			if from, err = time.ParseInLocation(time.DateOnly, since, time.Local); err != nil {
				return &cli.ExitError{Code: exitInput, Message: c.p.T("ca.err.since", "Since", since), Err: err}
			}
		}
	}
	w := bufio.NewWriter(c.stdout)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	err := a.ExportAudit(c.ctx(), from, func(r *ca.AuditRecord) error { return enc.Encode(r) })
	if err != nil {
		return err
	}
	return w.Flush()
}

// explainRecords turns the errors of the database and the audit trail
// into messages, or returns nil for others.
func (c *command) explainRecords(err error) *cli.ExitError {
	p := c.p
	var ae *ca.AuditError
	var ue *ca.UnreachableError
	switch {
	case errors.As(err, &ae):
		msg := p.T("ca.err.audit_broken", "Records", ae.Records)
		for _, pr := range ae.Problems {
			kind := pr.Kind
			if kind == ca.AuditMissing && pr.Last == pr.Seq {
				kind += "_one"
			}
			msg += "\n  " + p.T("ca.audit.problem."+kind, "Seq", pr.Seq, "Last", pr.Last, "Prev", pr.Seq-1)
		}
		return &cli.ExitError{Code: exitAudit, Message: msg, Hint: p.T("ca.hint.audit_broken"), Err: err}
	case errors.Is(err, ca.ErrDatabasePassword):
		return &cli.ExitError{Code: exitInput, Message: p.T("ca.err.db_password"), Hint: p.T("ca.hint.db_password"), Err: err}
	case errors.Is(err, ca.ErrDatabaseURL):
		return &cli.ExitError{Code: exitInput, Message: p.T("ca.err.db_url"), Hint: p.T("ca.hint.db_url"), Err: err}
	case errors.Is(err, ca.ErrPasswordFile):
		return &cli.ExitError{Code: exitInput, Message: p.T("ca.err.db_password_file", "Err", err.Error()), Hint: p.T("ca.hint.db_password"), Err: err}
	case errors.Is(err, ca.ErrDatabaseInUse):
		return &cli.ExitError{Code: exitState, Message: p.T("ca.err.db_in_use"), Hint: p.T("ca.hint.db_in_use"), Err: err}
	case errors.Is(err, ca.ErrSchemaNewer):
		return &cli.ExitError{Code: exitState, Message: p.T("ca.err.schema_newer"), Hint: p.T("ca.hint.schema_newer"), Err: err}
	case errors.As(err, &ue):
		return &cli.ExitError{Code: exitError, Message: p.T("ca.err.db_unreachable", "Database", ue.Database, "Err", ue.Reason), Hint: p.T("ca.hint.db_unreachable"), Err: err}
	}
	return nil
}
