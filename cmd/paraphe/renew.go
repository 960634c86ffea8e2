package main

import (
	"context"
	"fmt"

	"github.com/paraphe/paraphe/activation"
	"github.com/paraphe/paraphe/config"
	"github.com/paraphe/paraphe/internal/cli"
	"github.com/paraphe/paraphe/netclient"
	"github.com/paraphe/paraphe/pkcs"
)

func (a *app) renew(args []string) error {
	fs := a.flags("renew")
	certID := fs.String("cert", "", a.p.T("flag.cert"))
	coupon := fs.String("coupon", "", a.p.T("flag.coupon"))
	pinFile := fs.String("pin-file", "", a.p.T("flag.pin_file_current"))
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
	client, err := activation.New(pol, netclient.ClientOptions{Certificate: activation.TLSCertificate(current)})
	if err != nil {
		return err
	}
	fmt.Fprintln(a.stderr, a.p.T("renew.working"))
	next, err := withTimeout(func(ctx context.Context) (*pkcs.Key, error) { return client.Renew(ctx, store, pin, *coupon) })
	if err != nil {
		return err
	}
	a.settings.DefaultCert = next.ID
	if err := config.SaveSettings(a.settings); err != nil {
		fmt.Fprintln(a.stderr, a.p.T("warn.settings", "Err", err.Error()))
	}
	fmt.Fprintln(a.stdout, a.p.T("renew.done", "Name", h.Name, "ID", next.ID,
		"Until", a.p.Date(next.Chain[0].NotAfter.Local()), "Old", current.ID))
	return nil
}
