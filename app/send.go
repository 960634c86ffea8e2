package app

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/paraphe/paraphe/config"
	"github.com/paraphe/paraphe/internal/local"
	"github.com/paraphe/paraphe/parcel"
)

// sendDialog is "Send securely", offered on a signed copy when the
// machine policy names the firm's exchange: the copy goes there as a
// secure folder, to a client by user code or e-mail address (or, from a
// client's account, to their account manager), with a note and an expiry,
// encrypted end to end when asked. The sign-in is asked the first time;
// the session lasts while the app runs (its token is kept in memory only,
// and ended when the app closes). A refusal the user can put right (a
// wrong password, a two-factor code due, an unknown recipient) keeps the
// dialog open and says what to do.
type sendDialog struct {
	u    *UI
	path string
	d    *dialog.CustomDialog

	login, password, code *field
	signIn                *widget.Form // the sign-in, while there is no session
	codeItem              *widget.FormItem
	to                    *field
	note                  *widget.Entry
	days                  *widget.Select
	e2e                   *widget.Check
	why                   *widget.Label // what to put right
	bar                   *widget.ProgressBarInfinite
	send, cancel          *button
	done                  *parcel.Sent // the folder sent, once it is
}

// sendDays are the expiries offered, in days.
var sendDays = []int{7, 14, 30, 60, 90}

// canSend reports whether signed copies can be sent: the policy names an
// exchange.
func (u *UI) canSend() bool { return u.pol != nil && u.pol.Exchange != "" }

// sendSecurely opens the dialog for the signed copy at path.
func (u *UI) sendSecurely(path string) {
	s := &sendDialog{u: u, path: path, login: u.newField(), password: u.newSecretField(), code: u.newField(), to: u.newField(),
		note: widget.NewMultiLineEntry(), why: wrapLabel(""), bar: widget.NewProgressBarInfinite()}
	s.why.Importance = widget.DangerImportance
	s.why.Hide()
	s.bar.Hide()
	s.note.SetMinRowsVisible(3)
	s.note.Wrapping = fyne.TextWrapWord
	var labels []string
	for _, d := range sendDays {
		labels = append(labels, u.T("app.send.days_n", "Days", d))
	}
	s.days = widget.NewSelect(labels, nil)
	s.days.SetSelectedIndex(slices.Index(sendDays, 30))
	s.e2e = widget.NewCheck(u.T("app.send.e2e"), nil)
	s.codeItem = widget.NewFormItem(u.T("app.send.code"), s.code)
	s.signIn = widget.NewForm(widget.NewFormItem(u.T("app.send.login"), s.login), widget.NewFormItem(u.T("app.send.password"), s.password))
	s.login.SetText(u.settings.ExchangeLogin)
	s.password.OnSubmitted = func(string) { u.win.Canvas().Focus(s.to) }
	s.send = u.newPrimary(u.T("app.send.send"), theme.MailSendIcon(), s.submit)
	s.cancel = u.newButton(u.T("app.cancel"), theme.CancelIcon(), func() { s.d.Hide() })
	intro := wrapLabel(u.T("app.send.intro", "URL", u.pol.Exchange))
	who := wrapLabel(u.T("app.send.signed_in", "Name", ""))
	if c := u.exchange; c != nil {
		who.SetText(u.T("app.send.signed_in", "Name", c.Account.Name))
		s.signIn.Hide()
	} else {
		who.Hide()
	}
	form := widget.NewForm(widget.NewFormItem(u.T("app.send.to"), s.to), widget.NewFormItem(u.T("app.send.note"), s.note),
		widget.NewFormItem(u.T("app.send.days"), s.days))
	hint := wrapLabel(u.T("app.send.to_hint"))
	hint.Importance = widget.LowImportance
	s.d = newDialog(u.T("app.send.title", "File", filepath.Base(path)),
		container.NewVBox(intro, who, s.signIn, form, hint, s.e2e, s.why, s.bar), s.cancel, s.send, u.win)
	s.d.Resize(fyne.NewSize(560, 0))
	u.sendBox = s
	u.showDialog(s.d, s.send, s.cancel)
	if u.exchange == nil && s.login.Text == "" {
		u.win.Canvas().Focus(s.login)
	} else if u.exchange == nil {
		u.win.Canvas().Focus(s.password)
	} else {
		u.win.Canvas().Focus(s.to)
	}
}

// Submit presses Send, as Enter does.
func (s *sendDialog) Submit() {
	if !s.send.Disabled() {
		s.send.Tapped(nil)
	}
}

// busy shows the sending, and lets nothing be changed meanwhile.
func (s *sendDialog) busy(on bool) {
	busyWith(on, s.bar, s.why, s.login, s.password, s.code, s.to, s.note, s.days, s.e2e, s.send, s.cancel)
}

// sendRequest is what the dialog holds when Send is pressed.
type sendRequest struct {
	login, password, code string
	sending               parcel.Sending
	e2e                   bool
}

func (s *sendDialog) submit() {
	u := s.u
	r := sendRequest{login: strings.TrimSpace(s.login.Text), password: s.password.Text, code: strings.TrimSpace(s.code.Text), e2e: s.e2e.Checked,
		sending: parcel.Sending{Recipient: strings.TrimSpace(s.to.Text), Title: filepath.Base(s.path), Note: s.note.Text, Days: sendDays[max(s.days.SelectedIndex(), 0)]}}
	if u.exchange == nil && (r.login == "" || r.password == "") {
		s.say(u.T("app.send.need_login"))
		return
	}
	s.busy(true)
	var sent *parcel.Sent
	var fingerprint string
	var session *parcel.Client
	pol, c := u.pol, u.exchange
	u.task(nil, func(ctx context.Context) (err error) {
		sent, fingerprint, session, err = deliver(ctx, pol, c, s.path, r, u.opt.Now())
		return err
	}, func(err error) {
		if session != nil {
			u.exchange = session // kept for the next folder, even when this one was refused
		}
		s.busy(false)
		s.password.SetText("")
		if err != nil {
			s.refused(err)
			return
		}
		if u.settings.ExchangeLogin != r.login && r.login != "" {
			u.settings.ExchangeLogin = r.login
			config.SaveSettings(u.settings)
		}
		s.d.Hide()
		s.done = sent
		s.sent(sent, fingerprint)
	})
}

// deliver signs in when there is no session c, judges the recipient's
// certificate for end to end, and sends the file; it returns the session
// it signed in, if it did.
func deliver(ctx context.Context, pol *config.Policy, c *parcel.Client, path string, r sendRequest, now time.Time) (*parcel.Sent, string, *parcel.Client, error) {
	var session *parcel.Client
	if c == nil {
		var err error
		if c, err = signInExchange(ctx, pol, r.login, r.password, r.code); err != nil {
			return nil, "", nil, err
		}
		session = c
	}
	rcpt, err := c.Recipient(ctx, r.sending.Recipient)
	if err != nil {
		return nil, "", session, err
	}
	fingerprint := ""
	if r.e2e {
		if rcpt.Account == nil {
			return nil, "", session, local.ErrNoEncryptionCertificate
		}
		if err := local.CheckRecipient(pol, rcpt.Chain, rcpt.Account.Email, "", now); err != nil {
			return nil, "", session, err
		}
		r.sending.EncryptTo, fingerprint = rcpt.Chain[:1], local.Fingerprint(rcpt.Chain[0])
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, "", session, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, "", session, err
	}
	sent, err := c.Send(ctx, r.sending, []parcel.File{{Name: filepath.Base(path), Size: fi.Size(), Body: f}})
	return sent, fingerprint, session, err
}

// refused says why the folder was not sent: in the dialog when the user
// can put it right there, else in a dialog of its own.
func (s *sendDialog) refused(err error) {
	u := s.u
	if errors.Is(err, parcel.ErrSignedOut) || errors.Is(err, parcel.ErrBadLogin) || errors.Is(err, parcel.ErrWrongCode) || errors.Is(err, parcel.ErrTOTPRequired) {
		u.exchange = nil // sign in again
		s.signIn.Show()
	}
	e := u.explain(err)
	switch {
	case errors.Is(err, parcel.ErrTOTPRequired) || errors.Is(err, parcel.ErrWrongCode):
		if len(s.signIn.Items) < 3 {
			s.signIn.AppendItem(s.codeItem)
		}
		s.code.SetText("")
		s.say(u.T("app.send.code_needed"))
		u.win.Canvas().Focus(s.code)
	case errors.Is(err, parcel.ErrBadLogin), errors.Is(err, parcel.ErrSignedOut), errors.Is(err, parcel.ErrUnknownRecipient),
		errors.Is(err, parcel.ErrNoManager), errors.Is(err, parcel.ErrInput):
		s.say(strings.TrimSpace(e.Text + "\n" + e.Hint))
	default:
		var rce *local.RecipientCertError
		if errors.Is(err, local.ErrNoEncryptionCertificate) || errors.As(err, &rce) {
			s.say(strings.TrimSpace(e.Text + "\n" + e.Hint))
			return
		}
		s.d.Hide()
		u.showError(err)
	}
}

// say shows what to put right in the dialog.
func (s *sendDialog) say(msg string) {
	s.u.shown = msg
	s.why.SetText(msg)
	s.why.Show()
}

// sent says the folder went, where the recipient finds it, and whether
// they were told.
func (s *sendDialog) sent(p *parcel.Sent, fingerprint string) {
	u := s.u
	msg := u.T("app.send.sent", "Name", p.Recipient.Name, "Email", p.Recipient.Email, "Expires", p.Expires.Local().Format(u.T("format.datetime")))
	hint := u.T("app.send.mailed")
	if !p.Mailed {
		hint = u.T("app.send.not_mailed", "URL", p.URL)
	}
	if fingerprint != "" {
		hint += "\n" + u.T("app.send.e2e_done", "Fingerprint", fingerprint)
	}
	u.showMessage(u.T("app.send.sent_title"), msg, hint)
}

// signOutExchange ends the exchange's session, when there is one.
func (u *UI) signOutExchange() {
	c := u.exchange
	if c == nil {
		return
	}
	u.exchange = nil
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c.SignOut(ctx) // when it cannot be reached, the token expires there on its own
}
