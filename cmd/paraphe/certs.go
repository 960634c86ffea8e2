package main

import (
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/paraphe/paraphe/internal/cli"
	"github.com/paraphe/paraphe/internal/local"
	"github.com/paraphe/paraphe/pkcs"
)

// certJSON is one element of "paraphe certs --json".
type certJSON struct {
	ID string `json:"id"`
	pkcs.Holder
	Issuer   string    `json:"issuer"`
	Serial   string    `json:"serial"`
	NotAfter time.Time `json:"not_after"`
	DaysLeft int       `json:"days_left"`
	Store    string    `json:"store"`
	Default  bool      `json:"default"`
}

func (a *app) certs(args []string) error {
	fs := a.flags("certs")
	asJSON := fs.Bool("json", false, a.p.T("flag.json"))
	if _, err := cli.Parse(fs, args); err != nil {
		return a.usageErr(err)
	}
	pol, _ := a.policy() // listing works without a policy
	certs, err := local.Certs(pol)
	if err != nil {
		return err
	}
	now := a.now()
	list := []certJSON{}
	for _, e := range certs {
		c := e.Certificate()
		list = append(list, certJSON{
			ID: e.ID, Holder: pkcs.HolderOf(c), Issuer: c.Issuer.CommonName,
			Serial: fmt.Sprintf("%x", c.SerialNumber), NotAfter: c.NotAfter.UTC(),
			DaysLeft: e.DaysLeft(now), Store: e.Store.Name(), Default: e.ID == a.settings.DefaultCert,
		})
	}
	if *asJSON {
		return cli.WriteJSON(a.stdout, list)
	}
	if len(list) == 0 {
		fmt.Fprintln(a.stdout, a.p.T("certs.empty"))
		return nil
	}
	tw := tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, a.p.T("certs.header"))
	for _, c := range list {
		mark := ""
		if c.Default {
			mark = "*"
		}
		fmt.Fprintf(tw, "%s%s\t%s\t%s\t%s\t%s\t%s\t%s\t%d\t%s\n", c.ID, mark, c.Name, c.Title, c.MemberNumber,
			c.Issuer, c.Serial, a.p.Date(c.NotAfter.Local()), c.DaysLeft, a.p.T("store."+c.Store))
	}
	return tw.Flush()
}
