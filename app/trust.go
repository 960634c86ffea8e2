package app

import (
	"context"
	"errors"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/paraphe/paraphe/config"
	"github.com/paraphe/paraphe/internal/explain"
	"github.com/paraphe/paraphe/internal/i18n"
	"github.com/paraphe/paraphe/internal/local"
	"github.com/paraphe/paraphe/pdf"
	"github.com/paraphe/paraphe/trust"
)

// trustCard is Settings' "Trusted certificates": what verification trusts
// besides the CA (IT's certificates, the user's own where the policy allows
// them, the EU trusted lists), with Add, Remove and Update.
type trustCard struct {
	u       *UI
	content *widget.Card
	list    *fyne.Container
	lists   *widget.Label
	update  *widget.Button
	busy    *widget.ProgressBarInfinite
	cancel  func()
}

// listsRefreshAge is how old the cached trusted lists may get before the
// app fetches them again in the background.
const listsRefreshAge = 24 * time.Hour

func newTrustCard(u *UI) *trustCard {
	c := &trustCard{u: u, list: container.NewVBox(), lists: wrapLabel(""), busy: widget.NewProgressBarInfinite()}
	c.busy.Hide()
	c.update = widget.NewButtonWithIcon(u.T("app.trust.update"), theme.ViewRefreshIcon(), func() { c.updateLists(false) })
	add := widget.NewButtonWithIcon(u.T("app.trust.add"), theme.ContentAddIcon(), c.pick)
	pol, _ := u.policy()
	note := u.T("app.trust.note")
	if !local.UserMayTrust(pol) {
		add.Disable()
		note = u.T("app.trust.note_locked")
	}
	if tl, _ := local.TrustedLists(pol); tl == nil {
		c.update.Disable()
	}
	c.content = newCard(u.T("app.trust.title"), note, container.NewVBox(
		c.list, add, widget.NewSeparator(),
		c.lists, container.NewBorder(nil, nil, nil, c.update, c.busy)))
	c.refresh()
	return c
}

// refresh lists the trusted certificates and the lists' state.
func (c *trustCard) refresh() {
	u := c.u
	pol, _ := u.policy()
	c.list.RemoveAll()
	row := func(source pdf.AnchorSource, cert *trustRow) {
		label := wrapLabel(u.T("app.trust.row", "Source", u.T("trust.source."+string(source)), "Who", cert.who, "Until", cert.until))
		if source != pdf.SourceUser {
			c.list.Add(label)
			return
		}
		fp := cert.fingerprint
		remove := widget.NewButtonWithIcon("", theme.DeleteIcon(), func() { c.remove(fp, cert.who) })
		c.list.Add(container.NewBorder(nil, nil, nil, remove, label))
	}
	var anchors []pdf.Anchor
	if pol != nil {
		a, _ := trust.LoadFiles(pdf.SourcePolicy, pol.Trust.Certificates...)
		b, _ := trust.LoadFiles(pdf.SourceBundle, pol.Trust.Bundles...)
		anchors = append(a, b...)
	}
	if local.UserMayTrust(pol) {
		if st, err := local.UserTrust(); err == nil {
			a, _ := st.Anchors()
			anchors = append(anchors, a...)
		}
	}
	for _, a := range anchors {
		row(a.Source, &trustRow{who: explain.Who(u.p, a.Cert), until: a.Cert.NotAfter.Local().Format(u.T("format.date")),
			fingerprint: trust.Fingerprint(a.Cert)})
	}
	if len(anchors) == 0 {
		c.list.Add(wrapLabel(u.T("trust.none")))
	}
	c.list.Refresh()
	// What the lists give may take seconds to check once a day: not on
	// the window's goroutine.
	var text string
	p := u.p
	u.task(nil, func(context.Context) error {
		text = listsText(p, pol)
		return nil
	}, func(error) { c.lists.SetText(text) })
}

type trustRow struct{ who, until, fingerprint string }

// listsText says what the EU trusted lists give, from their cache, in
// p's language (the window's at the time it was asked: the user may
// switch it meanwhile).
func listsText(p *i18n.Printer, pol *config.Policy) string {
	tl, err := local.TrustedLists(pol)
	switch {
	case err != nil:
		return explain.TrustWarning(p, err)
	case tl == nil:
		return p.T("trust.lists.off")
	}
	_, statuses := tl.CachedAnchors()
	if len(statuses) == 0 || statuses[0].Fetched.IsZero() {
		return p.T("app.trust.never")
	}
	used, services := 0, 0
	for _, s := range statuses[1:] {
		if s.Err == nil {
			used++
			services += s.Anchors
		}
	}
	return p.T("trust.lists.summary", "Lists", used, "Services", services, "Date", statuses[0].Fetched.Local().Format(p.T("format.datetime")))
}

// listsStale reports whether the cached lists are missing or older than
// listsRefreshAge.
func listsStale(tl *trust.TrustedLists, now time.Time) bool {
	_, statuses := tl.CachedAnchors()
	return len(statuses) == 0 || statuses[0].Fetched.IsZero() || now.Sub(statuses[0].Fetched) > listsRefreshAge
}

// updateLists downloads the trusted lists again. In the background (quiet)
// a failure only leaves the state as it was; asked for, it is said.
func (c *trustCard) updateLists(quiet bool) {
	u := c.u
	if c.cancel != nil {
		return // already under way
	}
	pol, _ := u.policy()
	tl, err := local.TrustedLists(pol)
	if err != nil || tl == nil {
		if !quiet && err != nil {
			u.showError(err)
		}
		return
	}
	c.update.Disable()
	c.busy.Show()
	var failed []string
	now := u.opt.Now()
	u.task(&c.cancel, func(ctx context.Context) error {
		if quiet && !listsStale(tl, now) {
			return nil
		}
		ctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
		defer cancel()
		statuses, err := tl.Update(ctx)
		for _, s := range statuses {
			if s.Err != nil {
				failed = append(failed, u.T("trust.list_failed", "List", explain.ListName(u.p, s.Territory), "Why", explain.ListProblem(u.p, s.Err)))
			}
		}
		tl.CachedAnchors() // made once now, for the verifications to come
		return err
	}, func(err error) {
		c.cancel = nil
		c.busy.Hide()
		c.update.Enable()
		c.refresh()
		switch {
		case quiet:
		case err != nil:
			u.showError(err)
		case len(failed) > 0:
			u.showMessage(u.T("app.trust.title"), u.T("err.trust_update", "N", len(failed)), joinLines(failed))
		default:
			u.showMessage(u.T("app.trust.title"), c.lists.Text, "")
		}
	})
}

// pick asks for certificate files to trust.
func (c *trustCard) pick() {
	u := c.u
	u.chooseFiles(fileRequest{title: "app.files.trust_title", accept: "app.files.choose", filter: certFiles},
		func(paths []string) { c.add(paths[0]) })
}

// add trusts the certificates of a file, after saying what they are.
func (c *trustCard) add(path string) {
	u := c.u
	certs, err := trust.ReadFile(path)
	if err != nil {
		u.showMessage(u.T("app.trust.title"), u.T("err.trust_file", "File", path, "Why", explain.FileProblem(u.p, unwrapFileErr(err))), u.T("hint.trust_file"))
		return
	}
	var lines []string
	for _, cert := range certs {
		lines = append(lines, explain.Who(u.p, cert)+" — "+trust.Fingerprint(cert)[:16]+"…")
	}
	dialog.ShowConfirm(u.T("app.trust.confirm_title"), u.T("app.trust.confirm", "Certs", joinLines(lines)), func(ok bool) {
		if !ok {
			return
		}
		st, err := local.UserTrust()
		if err == nil {
			_, err = st.Add(path)
		}
		if err != nil && !errors.Is(err, trust.ErrAlreadyTrusted) {
			u.showMessage(u.T("app.trust.title"), u.T("err.trust_file", "File", path, "Why", explain.FileProblem(u.p, unwrapFileErr(err))), "")
		}
		c.refresh()
	}, u.win)
}

// remove stops trusting one of the user's certificates.
func (c *trustCard) remove(fingerprint, who string) {
	u := c.u
	dialog.ShowConfirm(u.T("app.trust.remove_title"), u.T("app.trust.remove", "Who", who), func(ok bool) {
		if !ok {
			return
		}
		if st, err := local.UserTrust(); err == nil {
			if _, err := st.Remove(fingerprint); err != nil {
				u.showError(err)
			}
		}
		c.refresh()
	}, u.win)
}

func unwrapFileErr(err error) error {
	var fe *trust.FileError
	if errors.As(err, &fe) {
		return fe.Err
	}
	return err
}

func joinLines(lines []string) string {
	out := ""
	for i, l := range lines {
		if i > 0 {
			out += "\n"
		}
		out += l
	}
	return out
}
