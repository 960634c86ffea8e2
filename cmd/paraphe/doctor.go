package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"time"

	"golang.org/x/term"

	"github.com/paraphe/paraphe/config"
	"github.com/paraphe/paraphe/internal/atomicfile"
	"github.com/paraphe/paraphe/internal/cli"
	"github.com/paraphe/paraphe/internal/explain"
	"github.com/paraphe/paraphe/internal/local"
	"github.com/paraphe/paraphe/netcheck"
)

// doctor runs the connectivity checks. Its exit codes are its own, for
// deployment scripts: 0 works, 1 works with warnings, 2 blocked.
func (a *app) doctor(args []string) error {
	return a.diagnose(a.flags("doctor"), args, func(pol *config.Policy) func(context.Context) []netcheck.Finding {
		return local.Checks(pol, a.now)
	})
}

// diagnose runs the doctor's checks with machine's look at this computer
// (the doctor's, or admin check's) and reports them.
func (a *app) diagnose(fs *flag.FlagSet, args []string, machine func(*config.Policy) func(context.Context) []netcheck.Finding) error {
	asJSON := fs.Bool("json", false, a.p.T("flag.json"))
	timeout := fs.Duration("timeout", 5*time.Second, a.p.T("flag.timeout"))
	htmlOut := fs.String("html", "", a.p.T("flag.html"))
	if _, err := cli.Parse(fs, args); err != nil {
		return a.usageErr(err)
	}
	pol, polErr := a.policy() // the doctor reports a missing or invalid policy itself
	ctx := context.Background()
	rep := netcheck.Run(ctx, netcheck.Options{Policy: pol, PolicyErr: polErr, Timeout: *timeout, Local: machine(pol), Version: paraphVersion()})
	if *htmlOut != "" {
		page, err := explain.DoctorHTML(a.p, rep, paraphVersion())
		if err == nil {
			err = atomicfile.Write(*htmlOut, page, 0o644)
		}
		if err != nil {
			return &cli.ExitError{Code: explain.ExitError, Message: a.p.T("err.write_file", "File", *htmlOut), Err: err}
		}
	}
	if *asJSON {
		cli.WriteJSON(a.stdout, rep)
	} else {
		a.printReport(rep)
	}
	switch rep.Verdict {
	case netcheck.Blocked:
		return &cli.ExitError{Code: 2, Message: a.p.T("doctor.verdict.blocked")}
	case netcheck.WorksWarning:
		return &cli.ExitError{Code: 1, Message: a.p.T("doctor.verdict.works_with_warnings")}
	}
	return nil
}

func (a *app) printReport(rep *netcheck.Report) {
	p := a.p
	color := func(s netcheck.Severity, text string) string { return text }
	if f, ok := a.stdout.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		codes := map[netcheck.Severity]string{netcheck.OK: "32", netcheck.Info: "36", netcheck.Warning: "33", netcheck.Error: "31"}
		color = func(s netcheck.Severity, text string) string { return "\033[" + codes[s] + "m" + text + "\033[0m" }
	}
	verdictSev := map[netcheck.Verdict]netcheck.Severity{netcheck.Works: netcheck.OK, netcheck.WorksWarning: netcheck.Warning, netcheck.Blocked: netcheck.Error}
	fmt.Fprintln(a.stdout, color(verdictSev[rep.Verdict], p.T("doctor.verdict."+string(rep.Verdict))))
	if rep.Cause != nil {
		fmt.Fprintln(a.stdout, p.T("doctor.cause", "What", explain.Finding(a.p, *rep.Cause)))
		if rep.Cause.Fix != "" {
			fmt.Fprintln(a.stdout, p.T("doctor.fix", "Fix", p.T("doctor.fix."+string(rep.Cause.Fix), "Target", rep.Cause.Target)))
		}
	}
	fmt.Fprintln(a.stdout)
	for _, f := range rep.Findings {
		mark := map[netcheck.Severity]string{netcheck.OK: "ok", netcheck.Info: "i", netcheck.Warning: "!", netcheck.Error: "x"}[f.Severity]
		fmt.Fprintf(a.stdout, "%s %s\n", color(f.Severity, "["+mark+"]"), explain.Finding(a.p, f))
		if f.Severity == netcheck.Error || f.Severity == netcheck.Warning {
			if f.Fix != "" && (rep.Cause == nil || f.Fix != rep.Cause.Fix || f.Target != rep.Cause.Target) {
				fmt.Fprintln(a.stdout, "    "+p.T("doctor.fix", "Fix", p.T("doctor.fix."+string(f.Fix), "Target", f.Target)))
			}
		}
	}
}
