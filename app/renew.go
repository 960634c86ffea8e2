package app

import (
	"context"
	"errors"

	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/paraphe/paraphe/activation"
	"github.com/paraphe/paraphe/config"
	"github.com/paraphe/paraphe/internal/explain"
	"github.com/paraphe/paraphe/internal/local"
	"github.com/paraphe/paraphe/netclient"
	"github.com/paraphe/paraphe/pkcs"
	"github.com/paraphe/paraphe/pkcs/remote"
	"github.com/paraphe/paraphe/protocol"
)

// Renewing a certificate from the home screen: the PIN (and a coupon
// code), then the details the new certificate will carry, from the CA,
// which the holder confirms are still true (or is told to contact the
// CA); then the renewal. Where the CA's renewals need a registration
// officer's approval, the first renewal makes the request and says it
// waits; the same button, once it is approved, renews.

// renew asks the PIN, then renews the certificate at the CA: a new key in
// the same store, certified by the current one.
func (h *homeScreen) renew(c local.Cert) {
	h.u.withPolicy(c, func(pol *config.Policy) { h.renewWith(pol, c) })
}

func (h *homeScreen) renewWith(pol *config.Policy, c local.Cert) {
	u := h.u
	coupon := u.newField()
	coupon.SetPlaceHolder(u.T("app.home.coupon_hint"))
	u.askPIN(c, widget.NewFormItem(u.T("app.home.coupon"), coupon), func(current *pkcs.Key, pin []byte) {
		r := &renewal{h: h, c: c, pin: pin, coupon: coupon.Text}
		if rs, ok := c.Store.(*remote.Store); ok { // the CA makes the successor's key in its HSM
			r.remote = rs
			r.run(u.T("app.renew.checking"), func(ctx context.Context) (err error) {
				r.details, err = rs.RenewalDetails(ctx, c.ID)
				return err
			}, r.confirm)
			return
		}
		client, err := activation.New(pol, netclient.ClientOptions{Certificate: activation.TLSCertificate(current)})
		if err != nil {
			r.fail(err)
			return
		}
		r.client = client
		r.run(u.T("app.renew.checking"), func(ctx context.Context) (err error) {
			r.details, err = client.RenewalDetails(ctx)
			return err
		}, r.confirm)
	})
}

// renewal is one renewal under way: it holds the store open and the PIN
// until it ends (end).
type renewal struct {
	h       *homeScreen
	c       local.Cert
	pin     []byte
	coupon  string
	client  *activation.Client
	remote  *remote.Store // a remote key's store, whose CA renews it
	details *protocol.RenewalDetails
	next    pkcs.Entry
}

// run shows a progress dialog titled title, which Cancel ends, while work
// runs; then done.
func (r *renewal) run(title string, work func(context.Context) error, done func(error)) {
	u := r.h.u
	var cancel func()
	var progress *dialog.CustomDialog
	stop := u.newButton(u.T("app.cancel"), theme.CancelIcon(), func() { progress.Hide() })
	progress = newDialog(title, widget.NewProgressBarInfinite(), nil, stop, u.win)
	progress.SetOnClosed(func() {
		if cancel != nil {
			cancel()
		}
	})
	u.showDialog(progress, nil, stop)
	u.task(&cancel, work, func(err error) {
		progress.Hide()
		done(err)
	})
}

// end forgets the PIN and closes the store.
func (r *renewal) end() {
	clear(r.pin)
	closeStore(r.c.Store)
}

// fail ends the renewal saying why: a request waiting for an officer is
// news, not an error.
func (r *renewal) fail(err error) {
	r.end()
	u := r.h.u
	var aw *activation.AwaitingApprovalError
	if errors.As(err, &aw) {
		e := u.explain(err)
		u.showMessage(u.T("app.renew.awaiting_title"), e.Text, e.Hint)
		return
	}
	u.showError(err)
}

// confirm shows the details the new certificate will carry and asks
// whether they are still true.
func (r *renewal) confirm(err error) {
	if err != nil {
		r.fail(err)
		return
	}
	u := r.h.u
	d := r.details
	form := widget.NewForm()
	for _, f := range explain.RenewalDetails(u.p, d) {
		form.Append(f.Label, wrapLabel(f.Value))
	}
	intro := u.T("app.renew.intro")
	if d.ApprovalRequired && (d.Request == nil || d.Request.State != protocol.RenewalApproved) {
		intro += " " + u.T("app.renew.intro_approval")
	}
	content := container.NewVBox(wrapLabel(intro), form, wrapLabel(u.T("app.renew.question")))
	var otp *field // a remote key's renewal is authorised by a one-time password too
	if r.remote != nil {
		otp = u.newSecretField()
		content.Add(widget.NewForm(widget.NewFormItem(u.T("app.sign.otp"), otp)))
		r.h.renewOTP = otp
	}
	r.h.confirmDetails = u.confirm(u.T("app.renew.confirm_title"), content, u.T("app.renew.not_true"), u.T("app.renew.still_true"), func(ok bool) {
		r.h.confirmDetails, r.h.renewOTP = nil, nil
		if !ok {
			r.end()
			e := u.explain(explain.ErrDetailsNotConfirmed)
			u.showMessage(u.T("app.renew.stopped_title"), e.Text, e.Hint)
			return
		}
		r.run(u.T("app.home.renewing"), r.renew(d, otp), r.renewed)
	})
}

// renew is the renewal's work once the details are confirmed: at the CA
// for a remote key (with the one-time password typed in otp), or a new
// key in the store certified by the current one.
func (r *renewal) renew(d *protocol.RenewalDetails, otp *field) func(context.Context) error {
	if r.remote == nil {
		return func(ctx context.Context) error {
			next, err := r.client.Renew(ctx, r.c.Store, r.pin, r.coupon, d)
			if err == nil {
				r.next = next.Entry
			}
			return err
		}
	}
	code := []byte(otp.Text)
	otp.SetText("")
	r.remote.OTP = func(context.Context) ([]byte, error) {
		c := code
		code = nil
		return c, nil
	}
	return func(ctx context.Context) (err error) {
		r.next, err = r.remote.Renew(ctx, r.c.ID, r.pin, r.coupon)
		return err
	}
}

// renewed says how the renewal ended.
func (r *renewal) renewed(err error) {
	if err != nil {
		r.fail(err)
		return
	}
	r.end()
	u := r.h.u
	if u.settings.DefaultCert == r.c.ID || u.settings.DefaultCert == "" {
		u.settings.DefaultCert = r.next.ID
		if err := config.SaveSettings(u.settings); err != nil {
			u.showError(err)
		}
	}
	u.showMessage(u.T("app.home.renewed_title"), u.T("app.home.renewed", "Until", u.p.Date(r.next.Chain[0].NotAfter.Local())), "")
	u.certsChanged()
}
