package app

import (
	"context"
	"errors"
	"io"
	"path/filepath"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/paraphe/paraphe/config"
	"github.com/paraphe/paraphe/internal/atomicfile"
	"github.com/paraphe/paraphe/internal/local"
	"github.com/paraphe/paraphe/parcel"
	"github.com/paraphe/paraphe/pkcs"
)

// receiveDialog is "Received folders", offered beside the files to sign
// when the machine policy names the firm's exchange: the secure folders
// sent to the user, a folder's note and documents, each saved where the
// user says. A document encrypted end to end is decrypted on this
// computer with the key of the certificate it is encrypted to (keychain
// or token, its PIN asked), as paraphe receive does: the file appears
// only once its integrity is checked. The sign-in is the one "Send
// securely" keeps while the app runs.
type receiveDialog struct {
	u *UI
	d *dialog.CustomDialog

	login, password, code *field
	signIn                *widget.Form
	codeItem              *widget.FormItem
	folders               *widget.Select
	parcels               []parcel.Parcel
	detail                *fyne.Container // the chosen folder's note and documents
	why                   *widget.Label
	bar                   *widget.ProgressBarInfinite
	show, close           *button
	folder                *parcel.Parcel // the folder shown (tests read it)
	saved                 []string       // the files saved (tests read them)
}

// receiveFolders opens the dialog.
func (u *UI) receiveFolders() {
	r := &receiveDialog{u: u, login: u.newField(), password: u.newSecretField(), code: u.newField(),
		why: wrapLabel(""), bar: widget.NewProgressBarInfinite(), detail: container.NewVBox()}
	r.why.Importance = widget.DangerImportance
	r.why.Hide()
	r.bar.Hide()
	r.codeItem = widget.NewFormItem(u.T("app.send.code"), r.code)
	r.signIn = widget.NewForm(widget.NewFormItem(u.T("app.send.login"), r.login), widget.NewFormItem(u.T("app.send.password"), r.password))
	r.login.SetText(u.settings.ExchangeLogin)
	r.password.OnSubmitted = func(string) { r.Submit() }
	r.folders = widget.NewSelect(nil, func(string) { r.choose() })
	r.folders.PlaceHolder = u.T("app.receive.choose")
	r.folders.Hide()
	r.show = u.newPrimary(u.T("app.receive.show"), theme.DownloadIcon(), r.list)
	r.close = u.newButton(u.T("app.close"), theme.CancelIcon(), func() { r.d.Hide() })
	if u.exchange != nil {
		r.signIn.Hide()
	}
	intro := wrapLabel(u.T("app.receive.intro", "URL", u.pol.Exchange))
	r.d = newDialog(u.T("app.receive.title"), container.NewVBox(intro, r.signIn, r.folders, r.detail, r.why, r.bar), r.close, r.show, u.win)
	r.d.Resize(fyne.NewSize(600, 0))
	u.receiveBox = r
	u.showDialog(r.d, r.show, r.close)
	if u.exchange != nil {
		r.list()
	}
}

// Submit presses Show, as Enter does.
func (r *receiveDialog) Submit() {
	if !r.show.Disabled() {
		r.show.Tapped(nil)
	}
}

func (r *receiveDialog) busy(on bool) {
	busyWith(on, r.bar, r.why, r.login, r.password, r.code, r.folders, r.show, r.close)
}

// list signs in when there is no session, and lists the folders received.
func (r *receiveDialog) list() {
	u := r.u
	login, password, code := strings.TrimSpace(r.login.Text), r.password.Text, strings.TrimSpace(r.code.Text)
	if u.exchange == nil && (login == "" || password == "") {
		r.say(u.T("app.send.need_login"))
		return
	}
	r.busy(true)
	pol, c := u.pol, u.exchange
	var received []parcel.Parcel
	var session *parcel.Client
	u.task(nil, func(ctx context.Context) (err error) {
		if c == nil {
			if c, err = signInExchange(ctx, pol, login, password, code); err != nil {
				return err
			}
			session = c
		}
		received, _, err = c.Parcels(ctx)
		return err
	}, func(err error) {
		r.busy(false)
		r.password.SetText("")
		if session != nil {
			u.exchange = session
			if u.settings.ExchangeLogin != login {
				u.settings.ExchangeLogin = login
				config.SaveSettings(u.settings)
			}
		}
		if err != nil {
			r.refused(err)
			return
		}
		r.signIn.Hide()
		r.why.Hide()
		r.parcels = received
		var labels []string
		for _, p := range received {
			labels = append(labels, u.T("app.receive.folder", "Title", p.Title, "Name", p.Sender.Name,
				"Expires", p.Expires.Local().Format(u.T("format.datetime"))))
		}
		r.folders.SetOptions(labels)
		r.folders.Show()
		if len(received) == 0 {
			r.say(u.T("app.receive.none"))
		}
	})
}

// choose shows the chosen folder: its note, and a Save button for each
// document.
func (r *receiveDialog) choose() {
	u := r.u
	i := r.folders.SelectedIndex()
	if i < 0 || i >= len(r.parcels) || u.exchange == nil {
		return
	}
	c, id := u.exchange, r.parcels[i].ID
	r.busy(true)
	var p *parcel.Parcel
	u.task(nil, func(ctx context.Context) (err error) {
		p, err = c.Parcel(ctx, id)
		return err
	}, func(err error) {
		r.busy(false)
		if err != nil {
			r.refused(err)
			return
		}
		r.folder = p
		r.detail.Objects = nil
		if note := strings.TrimSpace(p.Note); note != "" {
			r.detail.Add(wrapLabel(note))
		}
		for _, d := range p.Documents {
			label := d.Name
			if d.EndToEnd {
				label = u.T("app.receive.encrypted", "Name", local.ReceivedName(d))
			}
			r.detail.Add(container.NewBorder(nil, nil, nil, widget.NewButtonWithIcon(u.T("app.receive.save"), theme.DocumentSaveIcon(), func() { r.saveAs(*p, d) }), wrapLabel(label)))
		}
		r.detail.Refresh()
	})
}

// saveAs asks where to save document d, then saves it there.
func (r *receiveDialog) saveAs(p parcel.Parcel, d parcel.Document) {
	req := fileRequest{title: "app.receive.save_title", accept: "app.files.save"}
	if strings.EqualFold(filepath.Ext(local.ReceivedName(d)), ".pdf") {
		req.filter = pdfFiles
	}
	r.u.chooseSave(req, local.ReceivedName(d), func(path string) { r.save(p, d, path) })
}

// save downloads d into path, which the save dialog let the user choose
// (and replace): as it is, or decrypted with this computer's key; never
// half a file.
func (r *receiveDialog) save(p parcel.Parcel, d parcel.Document, path string) {
	u, c := r.u, r.u.exchange
	if c == nil {
		r.refused(parcel.ErrSignedOut)
		return
	}
	r.busy(true)
	if !d.EndToEnd {
		u.task(nil, func(ctx context.Context) error {
			return atomicfile.Replace(path, 0o644, func(w io.Writer) error { return c.Download(ctx, p.ID, d, w) })
		}, func(err error) { r.saveDone(err, path, "") })
		return
	}
	var enc *local.Encrypted
	var cert local.Cert
	pol := u.pol
	u.task(nil, func(ctx context.Context) (err error) {
		if enc, err = local.DownloadEncrypted(ctx, c, p.ID, d, filepath.Dir(path)); err != nil {
			return err
		}
		certs, err := local.Certs(pol)
		if err == nil {
			cert, err = local.RecipientCert(certs, enc.Recipients(), "")
		}
		if err != nil {
			enc.Close()
		}
		return err
	}, func(err error) {
		if err != nil {
			r.saveDone(err, path, "")
			return
		}
		r.decrypt(enc, cert, path)
	})
}

// decrypt asks for the PIN of cert's key, then decrypts enc into path.
func (r *receiveDialog) decrypt(enc *local.Encrypted, cert local.Cert, path string) {
	u := r.u
	u.askPIN(cert, nil, func(key *pkcs.Key, pin []byte) {
		clear(pin)
		u.task(nil, func(context.Context) error {
			defer closeStore(cert.Store)
			defer enc.Close()
			return atomicfile.Replace(path, 0o644, func(w io.Writer) error { return enc.Decrypt(cert.Certificate(), key, w) })
		}, func(err error) { r.saveDone(err, path, cert.ID) })
	})
	u.pinDialog.onCancel = func() { // nothing saved
		enc.Close()
		r.busy(false)
	}
}

// saveDone says where the document went, or why it did not.
func (r *receiveDialog) saveDone(err error, path, certID string) {
	u := r.u
	r.busy(false)
	if err != nil {
		r.refused(err)
		return
	}
	r.saved = append(r.saved, path)
	msg := u.T("app.receive.saved", "Path", path)
	if certID != "" {
		msg = u.T("app.receive.decrypted", "Path", path, "ID", certID)
	}
	r.say(msg)
	r.why.Importance = widget.SuccessImportance
	r.why.Refresh()
}

// refused says what went wrong in the dialog, asking for the sign-in
// again when the session is gone or the password was wrong.
func (r *receiveDialog) refused(err error) {
	u := r.u
	if errors.Is(err, parcel.ErrSignedOut) || errors.Is(err, parcel.ErrBadLogin) || errors.Is(err, parcel.ErrWrongCode) || errors.Is(err, parcel.ErrTOTPRequired) {
		u.exchange = nil
		r.signIn.Show()
		r.folders.Hide()
	}
	if (errors.Is(err, parcel.ErrTOTPRequired) || errors.Is(err, parcel.ErrWrongCode)) && len(r.signIn.Items) < 3 {
		r.signIn.AppendItem(r.codeItem)
	}
	e := u.explain(err)
	r.why.Importance = widget.DangerImportance
	r.say(strings.TrimSpace(e.Text + "\n" + e.Hint))
}

func (r *receiveDialog) say(msg string) {
	r.u.shown = msg
	r.why.SetText(msg)
	r.why.Show()
}

// signInExchange opens a session on the policy's exchange.
func signInExchange(ctx context.Context, pol *config.Policy, login, password, code string) (*parcel.Client, error) {
	c, err := parcel.New(pol.Exchange, local.ExchangeClient(pol))
	if err != nil {
		return nil, err
	}
	if err := c.SignIn(ctx, login, password, code); err != nil {
		return nil, err
	}
	return c, nil
}
