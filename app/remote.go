package app

import (
	"context"
	"errors"
	"image"
	"image/color"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"
	"github.com/boombuler/barcode/qr"

	"github.com/paraphe/paraphe/config"
	"github.com/paraphe/paraphe/internal/local"
	"github.com/paraphe/paraphe/pkcs"
	"github.com/paraphe/paraphe/pkcs/remote"
	"github.com/paraphe/paraphe/protocol"
)

// remoteCard is Settings → Remote signature: the holder of a remote
// certificate (their key in the CA's HSM) signs in with the user ID and
// initial password of their activation envelope, chooses their own
// password (the initial one signs in nowhere), activates the certificate
// with the envelope's PUK, a new PIN of 8 digits and a one-time-password
// app, enrolled from a QR code (or the otpauth address, or the key typed
// by hand) and confirmed by its first code; then the card says where the
// account stands and how long the certificate lasts. Each step is one
// content of the card; the secrets typed are kept only while a step
// needs them. What the command line does (paraphe remote login, activate,
// status), with the same rules.
type remoteCard struct {
	u       *UI
	pol     *config.Policy
	content *widget.Card
	body    *fyne.Container // the step shown
	why     *widget.Label   // what went wrong, and what to do
	bar     *widget.ProgressBarInfinite

	// What tests drive.
	userID, password *field // sign-in
	newPassword      *pinChooser
	puk              *field
	pin              *pinChooser
	code             *field // the app's first code
	qr               *canvas.Image
	qrImage          image.Image
	uri              *widget.Label
	status           *widget.Label
	primary          *button // the step's action
	secret           []byte  // the password typed at sign-in, until it is changed
}

// newRemoteCard is the card, or nil when the policy does not allow
// remote signing (or the demo CA, which has none, runs).
func newRemoteCard(u *UI, pol *config.Policy) *remoteCard {
	if pol == nil || !pol.Allows(config.StoreRemote) || u.demo != nil {
		return nil
	}
	r := &remoteCard{u: u, pol: pol, body: container.NewVBox(), why: wrapLabel(""), bar: widget.NewProgressBarInfinite()}
	r.why.Importance = widget.DangerImportance
	r.why.Hide()
	r.bar.Hide()
	r.content = newCard(u.T("app.remote.title"), u.T("app.remote.note"), container.NewVBox(r.body, r.why, r.bar))
	store, err := local.Remote(pol)
	switch {
	case err != nil:
		r.stepSignIn()
		r.fail(err)
	case store.HasAccount():
		r.refresh()
	default:
		r.stepSignIn()
	}
	return r
}

// show makes objs the card's step.
func (r *remoteCard) show(objs ...fyne.CanvasObject) {
	r.why.Hide()
	r.body.Objects = objs
	r.body.Refresh()
}

// fail says err in the user's words, under the step.
func (r *remoteCard) fail(err error) {
	m := r.u.explain(err)
	r.say(strings.TrimSpace(m.Text + " " + m.Hint))
}

func (r *remoteCard) say(msg string) {
	r.u.shown = msg
	r.why.SetText(msg)
	r.why.Show()
}

// run runs work (with the remote store) in the background, the step's
// widgets disabled meanwhile, then done with its error.
func (r *remoteCard) run(ws []fyne.Disableable, work func(ctx context.Context, store *remote.Store) error, done func(error)) {
	busyWith(true, r.bar, r.why, ws...)
	pol := r.pol
	r.u.task(nil, func(ctx context.Context) error {
		store, err := local.Remote(pol)
		if err != nil {
			return err
		}
		return work(ctx, store)
	}, func(err error) {
		busyWith(false, r.bar, r.why, ws...)
		done(err)
	})
}

// Step 1: the user ID and password of the envelope.
func (r *remoteCard) stepSignIn() {
	u := r.u
	clear(r.secret)
	r.secret = nil
	r.userID, r.password = u.newField(), u.newSecretField()
	r.userID.SetPlaceHolder("RS-XXXX-XXXX")
	r.primary = u.newPrimary(u.T("app.remote.sign_in"), theme.LoginIcon(), r.signIn)
	r.userID.OnSubmitted = func(string) { u.win.Canvas().Focus(r.password) }
	r.password.OnSubmitted = func(string) { r.primary.Tapped(nil) }
	r.show(wrapLabel(u.T("app.remote.sign_in_intro")), widget.NewForm(
		widget.NewFormItem(u.T("app.remote.user"), r.userID),
		widget.NewFormItem(u.T("app.remote.password"), r.password)), container.NewHBox(r.primary))
}

func (r *remoteCard) signIn() {
	user, password := strings.TrimSpace(r.userID.Text), []byte(r.password.Text)
	if user == "" || len(password) == 0 {
		r.say(r.u.T("app.remote.need_login"))
		return
	}
	r.password.SetText("")
	var acc *protocol.RemoteAccount
	r.run([]fyne.Disableable{r.userID, r.password, r.primary}, func(ctx context.Context, store *remote.Store) (err error) {
		acc, err = r.login(ctx, store, user, password, nil)
		return err
	}, func(err error) {
		switch {
		case errors.Is(err, remote.ErrPasswordChange):
			r.secret = password
			r.stepNewPassword(user)
		case err != nil:
			clear(password)
			r.fail(err)
		default:
			clear(password)
			r.next(acc)
		}
	})
}

// login signs in at the service the CA's service document names.
func (r *remoteCard) login(ctx context.Context, store *remote.Store, user string, password, newPassword []byte) (*protocol.RemoteAccount, error) {
	svc, err := local.RemoteService(ctx, r.pol)
	if err != nil {
		return nil, err
	}
	return store.Login(ctx, svc, user, password, newPassword)
}

// Step 2: the holder's own password, under the service's rules (the
// command line's, checked again by the server).
func (r *remoteCard) stepNewPassword(user string) {
	u := r.u
	r.primary = u.newPrimary(u.T("app.remote.change_password"), theme.ConfirmIcon(), nil)
	r.primary.Disable()
	initial := string(r.secret)
	r.newPassword = u.newChooser(chooserWords{
		intro: u.T("remote.password_rules", "Min", remote.PasswordMin, "Repeat", remote.PasswordRepeat),
		check: func(pw []byte) error {
			if err := local.CheckRemotePassword(pw); err != nil {
				return err
			}
			if string(pw) == initial {
				return &remote.PasswordRuleError{Rule: "same_as_current"}
			}
			return nil
		},
		mismatch: sentence(u.T("err.password_mismatch")), good: u.T("app.remote.password_ok"),
		label: u.T("app.remote.new_password"), again: u.T("app.remote.new_password_again"),
	}, r.primary.Enable, r.primary.Disable)
	r.newPassword.info.Wrapping = fyne.TextWrapWord
	r.primary.OnTapped = func() { r.changePassword(user) }
	r.newPassword.again.OnSubmitted = func(string) {
		if !r.primary.Disabled() {
			r.primary.Tapped(nil)
		}
	}
	r.show(wrapLabel(u.T("remote.must_change")), r.newPassword.rules, r.newPassword.form, r.newPassword.info, container.NewHBox(r.primary))
	u.win.Canvas().Focus(r.newPassword.pin)
}

func (r *remoteCard) changePassword(user string) {
	c := r.newPassword
	newPW := []byte(c.pin.Text)
	password := r.secret
	c.pin.SetText("")
	c.again.SetText("")
	var acc *protocol.RemoteAccount
	r.run([]fyne.Disableable{c.pin, c.again, r.primary}, func(ctx context.Context, store *remote.Store) (err error) {
		acc, err = r.login(ctx, store, user, password, newPW)
		return err
	}, func(err error) {
		clear(newPW)
		if err != nil {
			r.primary.Disable() // both fields are empty again
			r.fail(err)
			return
		}
		clear(r.secret)
		r.secret = nil
		r.next(acc)
	})
}

// next shows the step the account is at.
func (r *remoteCard) next(acc *protocol.RemoteAccount) {
	switch acc.State {
	case protocol.RemoteStatePassword: // signed in elsewhere with the initial one
		r.stepSignIn()
	case protocol.RemoteStateActivation:
		r.stepActivate()
	case protocol.RemoteStateOTP:
		r.stepConfirm(nil)
	default:
		r.stepStatus(acc)
	}
}

// Step 3: the envelope's PUK and the signing PIN.
func (r *remoteCard) stepActivate() {
	u := r.u
	r.puk = u.newSecretField()
	r.primary = u.newPrimary(u.T("app.remote.activate"), theme.ConfirmIcon(), r.activate)
	r.primary.Disable()
	r.pin = u.newPINChooser(r.pol.PINPolicyFor(config.StoreRemote), r.primary.Enable, r.primary.Disable,
		widget.NewFormItem(u.T("app.pin.puk"), r.puk))
	r.puk.OnSubmitted = func(string) { u.win.Canvas().Focus(r.pin.pin) }
	r.pin.again.OnSubmitted = func(string) {
		if !r.primary.Disabled() {
			r.primary.Tapped(nil)
		}
	}
	r.show(wrapLabel(u.T("app.remote.activate_intro")), r.pin.rules, r.pin.form, r.pin.info, container.NewHBox(r.primary))
	u.win.Canvas().Focus(r.puk)
}

func (r *remoteCard) activate() {
	if strings.TrimSpace(r.puk.Text) == "" { // an empty PUK would cost a try
		r.say(r.u.T("app.remote.need_puk"))
		r.u.win.Canvas().Focus(r.puk)
		return
	}
	puk, pin := []byte(strings.TrimSpace(r.puk.Text)), []byte(r.pin.pin.Text)
	r.puk.SetText("")
	var setup *protocol.RemoteOTPSetup
	r.run([]fyne.Disableable{r.puk, r.pin.pin, r.pin.again, r.primary}, func(ctx context.Context, store *remote.Store) (err error) {
		setup, err = store.Activate(ctx, puk, pin)
		return err
	}, func(err error) {
		clear(puk)
		clear(pin)
		if err != nil { // the PIN chosen stays, for a PUK typed again
			r.fail(err)
			return
		}
		r.pin.pin.SetText("")
		r.pin.again.SetText("")
		r.stepConfirm(setup)
	})
}

// Step 4: the one-time-password app enrolled from setup (nil: the key
// was shown before, and the account waits for its first code), then its
// first code.
func (r *remoteCard) stepConfirm(setup *protocol.RemoteOTPSetup) {
	u := r.u
	r.code = u.newField()
	r.code.SetPlaceHolder("123456")
	r.primary = u.newPrimary(u.T("app.remote.confirm"), theme.ConfirmIcon(), r.confirm)
	r.code.OnSubmitted = func(string) { r.primary.Tapped(nil) }
	var objs []fyne.CanvasObject
	if setup != nil {
		objs = append(objs, r.enrolment(setup)...)
	} else {
		again := u.newButton(u.T("app.remote.new_key"), theme.ViewRefreshIcon(), r.stepActivate)
		objs = append(objs, wrapLabel(u.T("app.remote.otp_pending")), container.NewHBox(again))
	}
	objs = append(objs, widget.NewForm(widget.NewFormItem(u.T("app.remote.first_code"), r.code)), container.NewHBox(r.primary))
	r.show(objs...)
	u.win.Canvas().Focus(r.code)
}

// enrolment shows the generator's key: a QR code, the otpauth address to
// copy, the key in groups to type.
func (r *remoteCard) enrolment(setup *protocol.RemoteOTPSetup) []fyne.CanvasObject {
	u := r.u
	img, err := qrImage(setup.URI)
	var code fyne.CanvasObject = widget.NewLabel("")
	if err == nil {
		r.qrImage = img
		r.qr = canvas.NewImageFromImage(img)
		r.qr.FillMode = canvas.ImageFillContain
		r.qr.ScaleMode = canvas.ImageScalePixels
		r.qr.SetMinSize(fyne.NewSquareSize(float32(img.Bounds().Dx())))
		code = container.NewHBox(r.qr)
	}
	r.uri = widget.NewLabel(setup.URI)
	r.uri.Selectable = true
	r.uri.Wrapping = fyne.TextWrapBreak
	note := widget.NewLabel("")
	note.Importance = widget.LowImportance
	note.Hide()
	copyBtn := u.newButton(u.T("app.remote.copy"), theme.ContentCopyIcon(), func() {
		u.app.Clipboard().SetContent(setup.URI)
		note.SetText(u.T("app.remote.copied"))
		note.Show()
	})
	return []fyne.CanvasObject{wrapLabel(u.T("app.remote.scan")), code, r.uri, container.NewHBox(copyBtn, note),
		widget.NewLabel(u.T("remote.otp_key", "Key", remote.GroupKey(setup.Secret)))}
}

// qrImage is uri as a QR code (error correction M), black on white with
// the quiet zone of four modules a reader needs, four pixels a module.
func qrImage(uri string) (image.Image, error) {
	code, err := qr.Encode(uri, qr.M, qr.Auto)
	if err != nil {
		return nil, err
	}
	const quiet, scale = 4, 4
	n := code.Bounds().Dx()
	img := image.NewGray(image.Rect(0, 0, (n+2*quiet)*scale, (n+2*quiet)*scale))
	for i := range img.Pix {
		img.Pix[i] = 0xff
	}
	for y := range n {
		for x := range n {
			if code.At(x, y) == color.Black {
				for dy := range scale {
					for dx := range scale {
						img.SetGray((x+quiet)*scale+dx, (y+quiet)*scale+dy, color.Gray{})
					}
				}
			}
		}
	}
	return img, nil
}

func (r *remoteCard) confirm() {
	code := []byte(strings.ReplaceAll(strings.TrimSpace(r.code.Text), " ", ""))
	if len(code) == 0 {
		r.say(r.u.T("app.remote.need_code"))
		return
	}
	r.code.SetText("")
	var acc *protocol.RemoteAccount
	r.run([]fyne.Disableable{r.code, r.primary}, func(ctx context.Context, store *remote.Store) (err error) {
		if err = store.ConfirmOTP(ctx, code); err != nil {
			return err
		}
		acc, err = store.Account(ctx)
		return err
	}, func(err error) {
		if err != nil {
			r.fail(err)
			return
		}
		r.u.certsChanged()
		r.stepStatus(acc)
		r.say(r.u.T("remote.activated"))
		r.why.Importance = widget.SuccessImportance
	})
}

// refresh asks where the account stands and shows its step.
func (r *remoteCard) refresh() {
	r.status = wrapLabel("")
	r.show(r.status)
	var acc *protocol.RemoteAccount
	r.run(nil, func(ctx context.Context, store *remote.Store) (err error) {
		acc, err = store.Account(ctx)
		return err
	}, func(err error) {
		if errors.Is(err, remote.ErrNotSignedIn) || errors.Is(err, remote.ErrWrongPassword) {
			r.stepSignIn()
			r.fail(err)
			return
		}
		if err != nil {
			r.status.SetText(r.u.T("remote.signed_in", "User", r.userOf()))
			r.primary = r.u.newButton(r.u.T("app.remote.refresh"), theme.ViewRefreshIcon(), r.refresh)
			r.show(r.status, container.NewHBox(r.primary))
			r.fail(err)
			return
		}
		r.next(acc)
	})
}

// userOf is the user ID the store keeps, "" without one.
func (r *remoteCard) userOf() string {
	store, err := local.Remote(r.pol)
	if err != nil {
		return ""
	}
	return store.UserID()
}

// Step 5: where the account stands, and the certificates with their days
// left.
func (r *remoteCard) stepStatus(acc *protocol.RemoteAccount) {
	u := r.u
	r.why.Importance = widget.DangerImportance
	lines := []string{u.T("remote.signed_in", "User", acc.UserID), u.T("app.remote.state", "State", u.T("remote.state."+acc.State)),
		u.T("app.remote.tries", "PIN", acc.PINTriesLeft, "OTP", acc.OTPTriesLeft, "PUK", acc.PUKTriesLeft)}
	now := u.opt.Now()
	for _, c := range u.certs {
		if c.Store.Name() == remote.Name {
			cert := c.Certificate()
			lines = append(lines, u.T("app.remote.cert", "Name", pkcs.HolderOf(cert).Name, "Until", u.p.Date(cert.NotAfter.Local()), "Days", c.DaysLeft(now)))
		}
	}
	r.status = wrapLabel(strings.Join(lines, "\n"))
	r.primary = u.newButton(u.T("app.remote.refresh"), theme.ViewRefreshIcon(), r.refresh)
	r.show(r.status, container.NewHBox(r.primary))
}
