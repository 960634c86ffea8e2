package app

import (
	"context"
	"errors"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/paraphe/paraphe/activation"
	"github.com/paraphe/paraphe/config"
	"github.com/paraphe/paraphe/internal/local"
	"github.com/paraphe/paraphe/netclient"
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
	certs   []local.Cert
}

func newHomeScreen(u *UI) *homeScreen {
	h := &homeScreen{u: u, list: container.NewVBox(), banner: container.NewVBox()}
	activate := widget.NewButtonWithIcon(u.T("app.home.activate"), theme.ContentAddIcon(), h.activate)
	activate.Importance = widget.HighImportance
	top := container.NewBorder(nil, nil, heading(u.T("app.home.title")), activate)
	h.content = container.NewBorder(container.NewVBox(top, h.banner), nil, nil, nil, container.NewVScroll(h.list))
	h.refresh()
	return h
}

// refresh redraws the cards from the certificates last read.
func (h *homeScreen) refresh() {
	u := h.u
	h.certs = u.certs
	h.banner.RemoveAll()
	if u.demo != nil || (u.opt.StartDemo != nil && u.pol == nil && errors.Is(u.polErr, config.ErrNoPolicy)) {
		h.banner.Add(newDemoCard(u))
	} else if u.pol == nil {
		e := u.explain(u.polErr)
		h.banner.Add(widget.NewCard(u.T("app.home.no_policy"), "", container.NewVBox(wrapLabel(e.Text), wrapLabel(e.Hint))))
	}
	h.list.RemoveAll()
	if len(h.certs) == 0 {
		h.list.Add(widget.NewCard(u.T("app.home.empty_title"), "", container.NewVBox(
			wrapLabel(u.T("app.home.empty")),
			container.NewHBox(widget.NewButtonWithIcon(u.T("app.home.activate"), theme.ContentAddIcon(), h.activate)))))
		return
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
		renew := widget.NewButtonWithIcon(u.T("app.home.renew"), theme.ViewRefreshIcon(), func() { h.renew(c) })
		renew.Importance = widget.HighImportance
		actions.Add(renew)
	}
	actions.Add(widget.NewButtonWithIcon(u.T("app.home.sign_with"), theme.DocumentCreateIcon(), func() {
		u.signer.selectCert(c.ID)
		u.show(u.signer.content)
	}))
	if _, ok := c.Store.(pkcs.PINChanger); ok {
		actions.Add(widget.NewButtonWithIcon(u.T("app.home.change_pin"), theme.AccountIcon(), func() { u.changePIN(c, false) }))
	}
	if _, ok := c.Store.(pkcs.PINUnlocker); ok {
		actions.Add(widget.NewButton(u.T("app.home.unlock"), func() { u.changePIN(c, true) }))
	}
	if u.settings.DefaultCert != c.ID {
		actions.Add(widget.NewButton(u.T("app.home.make_default"), func() {
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

func (h *homeScreen) activate() {
	newActivateWizard(h.u, "").show()
}

// renew asks the PIN, then renews the certificate at the CA: a new key in
// the same store, certified by the current one.
func (h *homeScreen) renew(c local.Cert) {
	u := h.u
	pol, err := u.policy()
	if err != nil {
		u.showError(err)
		return
	}
	coupon := widget.NewEntry()
	coupon.SetPlaceHolder(u.T("app.home.coupon_hint"))
	u.askPIN(c, widget.NewFormItem(u.T("app.home.coupon"), coupon), func(pin []byte) {
		var cancel func()
		progress := dialog.NewCustom(u.T("app.home.renewing"), u.T("app.cancel"), widget.NewProgressBarInfinite(), u.win)
		progress.SetOnClosed(func() {
			if cancel != nil {
				cancel()
			}
		})
		progress.Show()
		var next *pkcs.Key
		couponCode := coupon.Text
		u.task(&cancel, func(ctx context.Context) error {
			defer clear(pin)
			defer closeStore(c.Store)
			current, err := c.Store.Open(c.ID, pin)
			if err != nil {
				return err
			}
			client, err := activation.New(pol, netclient.ClientOptions{Certificate: activation.TLSCertificate(current)})
			if err != nil {
				return err
			}
			next, err = client.Renew(ctx, c.Store, pin, couponCode)
			return err
		}, func(err error) {
			progress.Hide()
			if err != nil {
				u.showError(err)
				return
			}
			if u.settings.DefaultCert == c.ID || u.settings.DefaultCert == "" {
				u.settings.DefaultCert = next.ID
				if err := config.SaveSettings(u.settings); err != nil {
					u.showError(err)
				}
			}
			u.showMessage(u.T("app.home.renewed_title"), u.T("app.home.renewed", "Until", u.p.Date(next.Chain[0].NotAfter.Local())), "")
			u.certsChanged()
		})
	})
}
