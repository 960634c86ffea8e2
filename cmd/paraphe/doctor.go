package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"sort"
	"strings"
	"time"

	"golang.org/x/term"

	"github.com/paraphe/paraphe/config"
	"github.com/paraphe/paraphe/internal/cli"
	"github.com/paraphe/paraphe/netcheck"
)

// doctor runs the connectivity checks. Its exit codes are its own, for
// deployment scripts: 0 works, 1 works with warnings, 2 blocked.
func (a *app) doctor(args []string) error {
	return a.diagnose(a.flags("doctor"), args, a.localChecks)
}

// diagnose runs the doctor's checks with local's look at this computer
// (the doctor's, or admin check's) and reports them.
func (a *app) diagnose(fs *flag.FlagSet, args []string, local func(*config.Policy) func(context.Context) []netcheck.Finding) error {
	asJSON := fs.Bool("json", false, a.p.T("flag.json"))
	timeout := fs.Duration("timeout", 5*time.Second, a.p.T("flag.timeout"))
	htmlOut := fs.String("html", "", a.p.T("flag.html"))
	if _, err := cli.Parse(fs, args); err != nil {
		return a.usageErr(err)
	}
	pol, polErr := a.policy() // the doctor reports a missing or invalid policy itself
	ctx := context.Background()
	rep := netcheck.Run(ctx, netcheck.Options{Policy: pol, PolicyErr: polErr, Timeout: *timeout, Local: local(pol), Version: paraphVersion()})
	if *htmlOut != "" {
		if err := a.writeHTMLReport(*htmlOut, rep); err != nil {
			return &cli.ExitError{Code: exitError, Message: a.p.T("err.write_file", "File", *htmlOut), Err: err}
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

// localChecks looks at this computer: the keychain and the certificates.
func (a *app) localChecks(pol *config.Policy) func(context.Context) []netcheck.Finding {
	return func(context.Context) []netcheck.Finding {
		out := []netcheck.Finding{a.keychainFinding(pol)}
		days := config.DefaultPolicy().RenewalWarningDays
		if pol != nil {
			days = pol.RenewalWarningDays
		}
		stores, _ := a.keyStores(pol)
		now := a.now()
		found := false
		for _, s := range stores {
			entries, _ := s.List()
			for _, e := range entries {
				c := e.Certificate()
				if c == nil {
					continue
				}
				found = true
				f := netcheck.Finding{Check: "certificate", Target: e.ID, Observed: c.Subject.CommonName,
					Details: map[string]string{"days_left": fmt.Sprint(e.DaysLeft(now))}}
				switch left := e.DaysLeft(now); {
				case now.After(c.NotAfter):
					f.Severity, f.Code, f.Fix = netcheck.Warning, "cert_expired", "activate"
				case left <= days:
					f.Severity, f.Code, f.Fix = netcheck.Warning, "cert_expiring", "renew"
				default:
					f.Severity, f.Code = netcheck.OK, "cert_ok"
				}
				out = append(out, f)
			}
		}
		if !found {
			out = append(out, netcheck.Finding{Check: "certificate", Severity: netcheck.Info, Code: "no_cert", Fix: "activate"})
		}
		return out
	}
}

// keychainFinding says whether the operating system's keychain answers.
func (a *app) keychainFinding(pol *config.Policy) netcheck.Finding {
	f := netcheck.Finding{Check: "keystore", Target: "keychain", Severity: netcheck.OK, Code: "keychain_ok"}
	ks, err := a.keychain(pol)
	if err == nil {
		err = ks.Check()
	}
	if err != nil {
		f.Severity, f.Code, f.Fix = netcheck.Warning, "keychain_unavailable", "install_keyring"
	}
	return f
}

func (a *app) printReport(rep *netcheck.Report) {
	p := a.p
	color := func(s netcheck.Severity, text string) string { return text }
	if f, ok := a.stdout.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		codes := map[netcheck.Severity]string{netcheck.OK: "32", netcheck.Info: "36", netcheck.Warning: "33", netcheck.Error: "31"}
		color = func(s netcheck.Severity, text string) string { return "\033[" + codes[s] + "m" + text + "\033[0m" }
	}
	verdictSev := map[string]netcheck.Severity{netcheck.Works: netcheck.OK, netcheck.WorksWarning: netcheck.Warning, netcheck.Blocked: netcheck.Error}
	fmt.Fprintln(a.stdout, color(verdictSev[rep.Verdict], p.T("doctor.verdict."+rep.Verdict)))
	if rep.Cause != nil {
		fmt.Fprintln(a.stdout, p.T("doctor.cause", "What", a.findingText(*rep.Cause)))
		if rep.Cause.Fix != "" {
			fmt.Fprintln(a.stdout, p.T("doctor.fix", "Fix", p.T("doctor.fix."+rep.Cause.Fix, "Target", rep.Cause.Target)))
		}
	}
	fmt.Fprintln(a.stdout)
	for _, f := range rep.Findings {
		mark := map[netcheck.Severity]string{netcheck.OK: "ok", netcheck.Info: "i", netcheck.Warning: "!", netcheck.Error: "x"}[f.Severity]
		fmt.Fprintf(a.stdout, "%s %s\n", color(f.Severity, "["+mark+"]"), a.findingText(f))
		if f.Severity == netcheck.Error || f.Severity == netcheck.Warning {
			if f.Fix != "" && (rep.Cause == nil || f.Fix != rep.Cause.Fix || f.Target != rep.Cause.Target) {
				fmt.Fprintln(a.stdout, "    "+p.T("doctor.fix", "Fix", p.T("doctor.fix."+f.Fix, "Target", f.Target)))
			}
		}
	}
}

// findingText says a finding in one line: the check, its target, what was seen.
func (a *app) findingText(f netcheck.Finding) string {
	s := a.p.T("doctor.check."+f.Check) + ": " + a.p.T("doctor.code."+f.Code, "Observed", f.Observed, "Expected", f.Expected)
	if f.Target != "" {
		s += " (" + f.Target + ")"
	}
	var keys []string
	for k := range f.Details {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	if f.Check == "environment" || f.Check == "policy" {
		var kv []string
		for _, k := range keys {
			kv = append(kv, k+"="+f.Details[k])
		}
		if len(kv) > 0 {
			s += " [" + strings.Join(kv, " ") + "]"
		}
	}
	return s
}
