package app

import (
	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/paraphe/paraphe/config"
	"github.com/paraphe/paraphe/internal/local"
	"github.com/paraphe/paraphe/pkcs"
)

// homeScreen lists the certificates on this computer, warns before they
// expire and leads to activation (or to the demo CA when nothing is
// configured).
type homeScreen struct {
	u       *UI
	content *fyne.Container
	list    *fyne.Container // one card per certificate
	banner  *fyne.Container // no policy / demo CA
	// activate is the one way to activate a certificate the screen
	// offers at a time: at the top beside the list when there are
	// certificates, in the empty list's card otherwise, none while the
	// demo's card offers its own (or nothing could be activated).
	activate *button
	certs    []local.Cert
	// confirmDetails is the question of a renewal in progress: are the
	// details the certificate will carry still true? (tests answer it)
	confirmDetails *confirmBox
	renewOTP       *field // in it, a remote key's one-time password
}

func newHomeScreen(u *UI) *homeScreen {
	h := &homeScreen{u: u, list: container.NewVBox(), banner: container.NewVBox()}
	h.activate = u.newPrimary(u.T("app.home.activate"), theme.ContentAddIcon(), h.startActivation)
	top := container.NewBorder(nil, nil, heading(u.T("app.home.title")), h.activate)
	h.content = container.NewBorder(container.NewVBox(top, h.banner), nil, nil, nil, container.NewVScroll(h.list))
	h.refresh()
	return h
}

// refresh redraws the cards from the certificates last read.
func (h *homeScreen) refresh() {
	u := h.u
	h.certs = u.certs
	h.banner.RemoveAll()
	if u.demo != nil || u.demoOffered() {
		h.banner.Add(newDemoCard(u))
	} else if u.pol == nil {
		e := u.explain(u.polErr)
		h.banner.Add(widget.NewCard(u.T("app.home.no_policy"), "", container.NewVBox(wrapLabel(e.Text), wrapLabel(e.Hint))))
	}
	// Activation needs a CA to ask; the demo's card has its own button.
	canActivate := u.pol != nil && (u.demo == nil || u.demoUsed)
	h.activate.Hide()
	h.list.RemoveAll()
	if len(h.certs) == 0 {
		empty := container.NewVBox(wrapLabel(u.T("app.home.empty")))
		if canActivate {
			empty.Add(container.NewHBox(u.newPrimary(u.T("app.home.activate"), theme.ContentAddIcon(), h.startActivation)))
		}
		h.list.Add(widget.NewCard(u.T("app.home.empty_title"), "", empty))
		return
	}
	if canActivate {
		h.activate.Show()
	}
	for _, c := range h.certs {
		h.list.Add(h.card(c))
	}
}

// card shows one certificate: who, where its key is, how long it lasts.
func (h *homeScreen) card(c local.Cert) fyne.CanvasObject {
	u := h.u
	cert := c.Certificate()
	holder := pkcs.HolderOf(cert)
	now := u.opt.Now()
	left := c.DaysLeft(now)
	status := widget.NewLabel(u.T("app.home.valid", "Until", u.p.Date(cert.NotAfter.Local()), "Days", left))
	status.Importance = widget.SuccessImportance
	actions := container.NewHBox()
	switch {
	case now.After(cert.NotAfter):
		status.SetText(u.T("app.home.expired", "Date", u.p.Date(cert.NotAfter.Local())))
		status.Importance = widget.DangerImportance
	case left <= local.WarningDays(u.pol):
		status.SetText(u.T("app.home.expiring", "Days", left, "Until", u.p.Date(cert.NotAfter.Local())))
		status.Importance = widget.WarningImportance
		actions.Add(u.newPrimary(u.T("app.home.renew"), theme.ViewRefreshIcon(), func() { h.renew(c) }))
	}
	actions.Add(u.newButton(u.T("app.home.sign_with"), theme.DocumentCreateIcon(), func() {
		u.signer.selectCert(c.ID)
		u.show(u.signer.content)
	}))
	if _, ok := c.Store.(pkcs.PINChanger); ok {
		actions.Add(u.newButton(u.T("app.home.change_pin"), theme.AccountIcon(), func() { u.withPolicy(c, func(*config.Policy) { u.changePIN(c, false) }) }))
	}
	if _, ok := c.Store.(pkcs.PINUnlocker); ok {
		actions.Add(u.newButton(u.T("app.home.unlock"), nil, func() { u.withPolicy(c, func(*config.Policy) { u.changePIN(c, true) }) }))
	}
	if u.settings.DefaultCert != c.ID {
		actions.Add(u.newButton(u.T("app.home.make_default"), nil, func() {
			u.settings.DefaultCert = c.ID
			if err := config.SaveSettings(u.settings); err != nil {
				u.showError(err)
			}
			h.u.certsChanged()
		}))
	}
	title := holder.Name
	if u.settings.DefaultCert == c.ID {
		title += "  ★"
	}
	details := widget.NewForm(
		widget.NewFormItem(u.T("app.home.title_label"), widget.NewLabel(holder.Title)),
		widget.NewFormItem(u.T("app.home.member"), widget.NewLabel(holder.MemberNumber)),
		widget.NewFormItem(u.T("app.home.order"), widget.NewLabel(holder.Organization)),
		widget.NewFormItem(u.T("app.home.store"), widget.NewLabel(u.T("store."+c.Store.Name()))),
		widget.NewFormItem(u.T("app.home.issuer"), widget.NewLabel(cert.Issuer.CommonName)),
	)
	return widget.NewCard(title, "", container.NewVBox(details, status, actions))
}

// certLabel names certificate c in a list of certs, short enough for a
// drop-down and unlike the others' (a fyne Select tells its options by
// their text): the holder and until when; then, only where that is what
// tells two apart, the title, where the key is, and as a last resort the
// key's ID (a renewal on the day of the activation).
func (u *UI) certLabel(c local.Cert, certs []local.Cert) string {
	for detail := 0; ; detail++ {
		l := u.certLabelAt(c, detail)
		twin := false
		for _, o := range certs {
			twin = twin || (o.ID != c.ID && u.certLabelAt(o, detail) == l)
		}
		if !twin || detail == 3 {
			return l
		}
	}
}

// certLabelAt is c's label with detail 0 to 3 (see certLabel).
func (u *UI) certLabelAt(c local.Cert, detail int) string {
	cert := c.Certificate()
	h := pkcs.HolderOf(cert)
	name, until, store := h.Name, u.p.Date(cert.NotAfter.Local()), u.T("store."+c.Store.Name())
	if detail >= 1 && h.Title != "" {
		name += " — " + h.Title // a seal has none
	}
	switch {
	case detail >= 3:
		return u.T("app.cert.label_key", "Name", name, "Store", store, "Until", until, "Key", c.ID[:min(8, len(c.ID))])
	case detail == 2:
		return u.T("app.cert.label_store", "Name", name, "Store", store, "Until", until)
	}
	return u.T("app.cert.label", "Name", name, "Until", until)
}

func (h *homeScreen) startActivation() {
	newActivateWizard(h.u, "").show()
}
