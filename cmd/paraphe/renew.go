package main

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/paraphe/paraphe/activation"
	"github.com/paraphe/paraphe/config"
	"github.com/paraphe/paraphe/internal/cli"
	"github.com/paraphe/paraphe/internal/explain"
	"github.com/paraphe/paraphe/netclient"
	"github.com/paraphe/paraphe/pkcs"
	"github.com/paraphe/paraphe/protocol"
)

// renew replaces a certificate by its successor. The holder is first
// shown what the successor will carry (the CA's record) and confirms it
// is still true: on the terminal, or with --confirm-details in a script.
// Where the CA's renewals need a registration officer's approval, the
// first renewal makes the request and ends (exit 57); the same command
// once it is approved generates the new key and gets the certificate.
func (a *app) renew(args []string) error {
	fs := a.flags("renew")
	certID := fs.String("cert", "", a.p.T("flag.cert"))
	coupon := fs.String("coupon", "", a.p.T("flag.coupon"))
	pinFile := fs.String("pin-file", "", a.p.T("flag.pin_file_current"))
	confirmed := fs.Bool("confirm-details", false, a.p.T("flag.confirm_details"))
	fs.StringVar(&a.otpFile, "otp-file", "", a.p.T("flag.otp_file"))
	if _, err := cli.Parse(fs, args); err != nil {
		return a.usageErr(err)
	}
	pol, err := a.policy()
	if err != nil {
		return err
	}
	store, current, pin, err := a.openCert(pol, *certID, *pinFile)
	if err != nil {
		return err
	}
	defer clear(pin)
	h := pkcs.HolderOf(current.Certificate())
	if r, ok := store.(renewer); ok { // a remote key: the CA makes its successor
		details, err := withTimeout(func(ctx context.Context) (*protocol.RenewalDetails, error) { return r.RenewalDetails(ctx, current.ID) })
		if err != nil {
			return err
		}
		a.showDetails(details)
		if err := a.confirmDetails(*confirmed); err != nil {
			return err
		}
		fmt.Fprintln(a.stderr, a.p.T("renew.working"))
		next, err := withTimeout(func(ctx context.Context) (pkcs.Entry, error) { return r.Renew(ctx, current.ID, pin, *coupon) })
		if err != nil {
			return err
		}
		return a.renewed(h, next, current.Entry, "renew.done_remote")
	}
	client, err := activation.New(pol, netclient.ClientOptions{Certificate: activation.TLSCertificate(current)})
	if err != nil {
		return err
	}
	details, err := withTimeout(client.RenewalDetails)
	if err != nil {
		return err
	}
	a.showDetails(details)
	if err := a.confirmDetails(*confirmed); err != nil {
		return err
	}
	if details.ApprovalRequired && (details.Request == nil || details.Request.State != protocol.RenewalApproved) {
		fmt.Fprintln(a.stderr, a.p.T("renew.requesting"))
	} else {
		fmt.Fprintln(a.stderr, a.p.T("renew.working"))
	}
	next, err := withTimeout(func(ctx context.Context) (*pkcs.Key, error) { return client.Renew(ctx, store, pin, *coupon, details) })
	if err != nil {
		return err
	}
	return a.renewed(h, next.Entry, current.Entry, "renew.done")
}

// renewer is a store whose keys the CA renews itself (a remote store):
// the successor's key is made in the CA's HSM, once the holder has
// confirmed the details it will carry.
type renewer interface {
	RenewalDetails(ctx context.Context, id string) (*protocol.RenewalDetails, error)
	Renew(ctx context.Context, id string, pin []byte, coupon string) (pkcs.Entry, error)
}

// renewed makes next the default certificate and says so (with the
// message key done).
func (a *app) renewed(h pkcs.Holder, next, current pkcs.Entry, done string) error {
	a.settings.DefaultCert = next.ID
	if err := config.SaveSettings(a.settings); err != nil {
		fmt.Fprintln(a.stderr, a.p.T("warn.settings", "Err", err.Error()))
	}
	fmt.Fprintln(a.stdout, a.p.T(done, "Name", h.Name, "ID", next.ID,
		"Until", a.p.Date(next.Chain[0].NotAfter.Local()), "Old", current.ID))
	return nil
}

// showDetails says what the renewed certificate will carry.
func (a *app) showDetails(d *protocol.RenewalDetails) {
	fmt.Fprintln(a.stderr, a.p.T("renew.details"))
	tw := tabwriter.NewWriter(a.stderr, 0, 4, 2, ' ', 0)
	for _, f := range explain.RenewalDetails(a.p, d) {
		fmt.Fprintf(tw, "  %s\t%s\n", f.Label, f.Value)
	}
	tw.Flush()
}

// confirmDetails asks the holder whether the details shown are still
// true, unless --confirm-details said so.
func (a *app) confirmDetails(given bool) error {
	if given {
		return nil
	}
	answer, err := a.term.Line(a.p.T("renew.confirm"))
	if err != nil { // nothing to read: a script without --confirm-details
		return &cli.ExitError{Code: explain.ExitDetailsNotConfirmed, Message: a.p.T("err.details_unconfirmed"), Hint: a.p.T("hint.confirm_details"), Err: err}
	}
	yes := strings.Split(a.p.T("renew.yes"), ",")
	if !slices.Contains(yes, strings.ToLower(strings.TrimSpace(answer))) {
		return explain.ErrDetailsNotConfirmed
	}
	return nil
}
