package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/paraphe/paraphe/config"
	"github.com/paraphe/paraphe/internal/cli"
	"github.com/paraphe/paraphe/internal/explain"
	"github.com/paraphe/paraphe/internal/local"
	"github.com/paraphe/paraphe/pdf"
	"github.com/paraphe/paraphe/trust"
)

// trustCmd looks after what verification trusts: paraphe trust list, add,
// remove, update.
func (a *app) trustCmd(args []string) error {
	if len(args) == 0 {
		return &cli.ExitError{Code: explain.ExitUsage, Message: a.p.T("usage.trust")}
	}
	// Without a machine policy the user decides; with one, the policy does.
	// A policy that cannot be read is said so, not taken for none.
	pol, err := config.LoadPolicy()
	if err != nil && !errors.Is(err, config.ErrNoPolicy) {
		return err
	}
	switch args[0] {
	case "list":
		return a.trustList(pol, args[1:])
	case "add":
		return a.trustAdd(pol, args[1:])
	case "remove":
		return a.trustRemove(pol, args[1:])
	case "update":
		return a.trustUpdate(pol, args[1:])
	}
	return &cli.ExitError{Code: explain.ExitUsage, Message: a.p.T("usage.trust")}
}

// trustedCert is one row of paraphe trust list.
type trustedCert struct {
	Source      pdf.AnchorSource `json:"source"`
	Name        string           `json:"name"`
	Fingerprint string           `json:"fingerprint"`
	NotAfter    time.Time        `json:"not_after"`
}

type trustedList struct {
	Territory  string    `json:"territory"`
	Fetched    time.Time `json:"fetched,omitzero"`
	NextUpdate time.Time `json:"next_update,omitzero"`
	Services   int       `json:"services"`
	Stale      bool      `json:"stale,omitempty"`
	Problem    string    `json:"problem,omitempty"`
}

func fingerprint(der []byte) string {
	sum := sha256.Sum256(der)
	return hex.EncodeToString(sum[:])
}

func (a *app) trustList(pol *config.Policy, args []string) error {
	fs := a.flags("trust")
	asJSON := fs.Bool("json", false, a.p.T("flag.json"))
	if rest, err := cli.Parse(fs, args); err != nil || len(rest) != 0 {
		return &cli.ExitError{Code: explain.ExitUsage, Message: a.p.T("usage.trust")}
	}
	certs, warnings := a.trustedCerts(pol)
	lists, usesLists, err := a.trustedLists(pol)
	if err != nil {
		warnings = append(warnings, err)
	}
	if *asJSON {
		return cli.WriteJSON(a.stdout, struct {
			Certificates  []trustedCert `json:"certificates"`
			TrustedLists  []trustedList `json:"trusted_lists"`
			UsesLists     bool          `json:"uses_trusted_lists"`
			SystemRoots   bool          `json:"system_roots"`
			UserMayChange bool          `json:"user_may_change"`
		}{certs, lists, usesLists, pol == nil || pol.Trust.UsesSystemRoots(), local.UserMayTrust(pol)})
	}
	for _, w := range warnings {
		fmt.Fprintln(a.stderr, explain.TrustWarning(a.p, w))
	}
	a.printTrustedCerts(certs)
	a.printTrustedLists(lists, usesLists)
	if pol == nil || pol.Trust.UsesSystemRoots() {
		fmt.Fprintln(a.stdout, a.p.T("trust.system_roots"))
	}
	return nil
}

// trustedCerts are the certificates verification trusts: the policy's
// anchors and files, and the user's own when the policy lets them; and
// what could not be read among them.
func (a *app) trustedCerts(pol *config.Policy) ([]trustedCert, []error) {
	var certs []trustedCert
	if pol != nil {
		for _, fp := range pol.CA.Anchors {
			b, _ := config.ParseFingerprint(fp)
			certs = append(certs, trustedCert{Source: pdf.SourcePolicy, Name: a.p.T("trust.ca_root", "CA", pol.CA.Name), Fingerprint: hex.EncodeToString(b)})
		}
	}
	var warnings []error
	add := func(anchors []pdf.Anchor, err error) {
		for _, an := range anchors {
			certs = append(certs, trustedCert{Source: an.Source, Name: explain.Who(a.p, an.Cert), Fingerprint: fingerprint(an.Cert.Raw), NotAfter: an.Cert.NotAfter})
		}
		if err != nil {
			if j, ok := err.(interface{ Unwrap() []error }); ok {
				warnings = append(warnings, j.Unwrap()...)
			} else {
				warnings = append(warnings, err)
			}
		}
	}
	if pol != nil {
		if len(pol.Trust.Certificates) > 0 {
			add(trust.LoadFiles(pdf.SourcePolicy, pol.Trust.Certificates...))
		}
		if len(pol.Trust.Bundles) > 0 {
			add(trust.LoadFiles(pdf.SourceBundle, pol.Trust.Bundles...))
		}
	}
	if local.UserMayTrust(pol) {
		if st, err := local.UserTrust(); err == nil {
			add(st.Anchors())
		}
	}
	return certs, warnings
}

// trustedLists says, when the policy uses the EU trusted lists, how each
// list kept here stands (the list of the lists first).
func (a *app) trustedLists(pol *config.Policy) (lists []trustedList, used bool, err error) {
	tl, err := local.TrustedLists(pol)
	if tl == nil {
		return nil, false, err
	}
	_, statuses := tl.CachedAnchors()
	for _, s := range statuses {
		l := trustedList{Territory: s.Territory, Fetched: s.Fetched, NextUpdate: s.NextUpdate, Services: s.Anchors, Stale: s.Stale(time.Now())}
		if s.Err != nil {
			l.Problem = explain.ListProblem(a.p, s.Err)
		}
		lists = append(lists, l)
	}
	return lists, true, err
}

func (a *app) printTrustedCerts(certs []trustedCert) {
	if len(certs) == 0 {
		fmt.Fprintln(a.stdout, a.p.T("trust.none"))
		return
	}
	tw := tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, a.p.T("trust.columns"))
	for _, c := range certs {
		until := "-"
		if !c.NotAfter.IsZero() {
			until = c.NotAfter.Format(a.p.T("format.date"))
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", a.p.T("trust.source."+string(c.Source)), c.Name, c.Fingerprint[:16], until)
	}
	tw.Flush()
}

func (a *app) printTrustedLists(lists []trustedList, used bool) {
	switch {
	case !used:
		fmt.Fprintln(a.stdout, a.p.T("trust.lists.off"))
	case len(lists) == 0 || lists[0].Problem != "" && lists[0].Fetched.IsZero():
		fmt.Fprintln(a.stdout, a.p.T("trust.lists.never"))
	default:
		n, services := 0, 0
		var bad []string
		for _, l := range lists[1:] {
			if l.Problem == "" {
				n++
				services += l.Services
			} else {
				bad = append(bad, l.Territory+" ("+l.Problem+")")
			}
		}
		fmt.Fprintln(a.stdout, a.p.T("trust.lists.summary", "Lists", n, "Services", services,
			"Date", lists[0].Fetched.Local().Format(a.p.T("format.datetime"))))
		if len(bad) > 0 {
			fmt.Fprintln(a.stdout, a.p.T("trust.lists.unused", "Lists", strings.Join(bad, ", ")))
		}
	}
}

func (a *app) trustAdd(pol *config.Policy, args []string) error {
	files, err := cli.Parse(a.flags("trust"), args)
	if err != nil || len(files) == 0 {
		return &cli.ExitError{Code: explain.ExitUsage, Message: a.p.T("usage.trust")}
	}
	if !local.UserMayTrust(pol) {
		return &cli.ExitError{Code: explain.ExitTrustNotAllowed, Message: a.p.T("err.trust_not_allowed"), Hint: a.p.T("hint.trust_not_allowed")}
	}
	st, err := local.UserTrust()
	if err != nil {
		return err
	}
	added := 0
	var first *cli.ExitError
	for _, f := range files {
		certs, err := st.Add(f)
		for _, c := range certs {
			added++
			fmt.Fprintln(a.stdout, a.p.T("trust.added", "Who", explain.Who(a.p, c), "Fingerprint", fingerprint(c.Raw)[:16],
				"Until", c.NotAfter.Format(a.p.T("format.date"))))
			if !c.IsCA {
				fmt.Fprintln(a.stdout, "  "+a.p.T("trust.added_not_ca"))
			}
		}
		if err != nil && first == nil {
			first = &cli.ExitError{Code: explain.ExitTrustFile, Message: a.p.T("err.trust_file", "File", f, "Why", explain.FileProblem(a.p, unwrapFile(err))), Err: err}
			if !errors.Is(err, trust.ErrAlreadyTrusted) {
				first.Hint = a.p.T("hint.trust_file")
			}
		}
	}
	if first != nil {
		return first
	}
	if added == 0 {
		return &cli.ExitError{Code: explain.ExitTrustFile, Message: a.p.T("err.trust_nothing")}
	}
	return nil
}

// unwrapFile returns the reason inside a *trust.FileError.
func unwrapFile(err error) error {
	var fe *trust.FileError
	if errors.As(err, &fe) {
		return fe.Err
	}
	return err
}

func (a *app) trustRemove(pol *config.Policy, args []string) error {
	ids, err := cli.Parse(a.flags("trust"), args)
	if err != nil || len(ids) != 1 {
		return &cli.ExitError{Code: explain.ExitUsage, Message: a.p.T("usage.trust")}
	}
	if !local.UserMayTrust(pol) {
		return &cli.ExitError{Code: explain.ExitTrustNotAllowed, Message: a.p.T("err.trust_not_allowed"), Hint: a.p.T("hint.trust_not_allowed")}
	}
	st, err := local.UserTrust()
	if err != nil {
		return err
	}
	c, err := st.Remove(ids[0])
	var amb *trust.AmbiguousError
	switch {
	case errors.Is(err, trust.ErrNotFound), errors.Is(err, trust.ErrBadFingerprint):
		return &cli.ExitError{Code: explain.ExitNoCert, Message: a.p.T("err.trust_not_found", "ID", ids[0]), Hint: a.p.T("hint.trust_list")}
	case errors.As(err, &amb):
		return &cli.ExitError{Code: explain.ExitUsage, Message: a.p.T("err.trust_ambiguous", "ID", ids[0]), Hint: a.p.T("hint.trust_list")}
	case err != nil:
		return err
	}
	fmt.Fprintln(a.stdout, a.p.T("trust.removed", "Who", explain.Who(a.p, c)))
	return nil
}

func (a *app) trustUpdate(pol *config.Policy, args []string) error {
	fs := a.flags("trust")
	asJSON := fs.Bool("json", false, a.p.T("flag.json"))
	if rest, err := cli.Parse(fs, args); err != nil || len(rest) != 0 {
		return &cli.ExitError{Code: explain.ExitUsage, Message: a.p.T("usage.trust")}
	}
	tl, err := local.TrustedLists(pol)
	if err != nil {
		return err
	}
	if tl == nil {
		return &cli.ExitError{Code: explain.ExitTrustUpdate, Message: a.p.T("trust.lists.off")}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	fmt.Fprintln(a.stderr, a.p.T("trust.updating", "URL", tl.URL))
	statuses, err := tl.Update(ctx)
	if err != nil {
		return err
	}
	var out []trustedList
	failed := 0
	for _, s := range statuses {
		l := trustedList{Territory: s.Territory, Fetched: s.Fetched, NextUpdate: s.NextUpdate}
		if s.Err != nil {
			l.Problem = explain.ListProblem(a.p, s.Err)
			failed++
		}
		out = append(out, l)
		if !*asJSON {
			if s.Err != nil {
				fmt.Fprintln(a.stdout, a.p.T("trust.list_failed", "List", explain.ListName(a.p, s.Territory), "Why", l.Problem))
			} else {
				fmt.Fprintln(a.stdout, a.p.T("trust.list_ok", "List", explain.ListName(a.p, s.Territory), "Sequence", s.Sequence))
			}
		}
	}
	// What the lists give, made now once for the commands that follow.
	anchors, _ := tl.CachedAnchors()
	if *asJSON {
		cli.WriteJSON(a.stdout, out)
	} else {
		fmt.Fprintln(a.stdout, a.p.T("trust.updated", "Lists", len(statuses)-failed, "Services", len(anchors)))
	}
	if failed > 0 {
		return &cli.ExitError{Code: explain.ExitTrustUpdate, Message: a.p.T("err.trust_update", "N", failed), Hint: a.p.T("hint.trust_update")}
	}
	return nil
}
