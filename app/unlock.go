package app

import (
	"context"
	"errors"
	"path/filepath"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/paraphe/paraphe/pdf"
)

// lockedFile is a file of the batch that cannot be signed without a
// password: need is pdf.ErrPassword (the empty one does not open it) or
// pdf.ErrPermission (its permissions forbid signing: the owner password
// lifts them).
type lockedFile struct {
	row  *signRow
	need error
}

// unlock asks for the password of each locked file in turn, checks it as
// signing would and keeps it in the file's row; a file whose question is
// cancelled is left as it is (signing then says what it needs). then gets
// the damage the passwords revealed, as damageLine writes it.
func (s *signScreen) unlock(files []lockedFile, opts pdf.Options, then func(damaged []string)) {
	u := s.u
	var damaged []string
	var ask func(i int, retry error)
	ask = func(i int, retry error) {
		if i == len(files) {
			then(damaged)
			return
		}
		f := files[i]
		s.askPassword(f, retry, func(pw []byte) {
			if pw == nil {
				ask(i+1, nil)
				return
			}
			o := opts
			o.Password = pw
			var d *pdf.Damage
			var err error
			u.task(nil, func(context.Context) error {
				d, err = pdf.Inspect(f.row.in, o)
				return nil
			}, func(error) {
				if errors.Is(err, pdf.ErrWrongPassword) || errors.Is(err, pdf.ErrPermission) || errors.Is(err, pdf.ErrPassword) {
					clear(pw)
					ask(i, err) // again, saying why
					return
				}
				f.row.password = pw
				if d != nil {
					damaged = append(damaged, s.damageLine(f.row.in, d))
				}
				ask(i+1, nil)
			})
		})
	}
	ask(0, nil)
}

// askPassword asks for the password f needs, saying why an earlier one was
// refused (retry), and hands it to then: nil when the question is
// cancelled. It is never shown, logged or kept in the widget.
func (s *signScreen) askPassword(f lockedFile, retry error, then func(pw []byte)) {
	u := s.u
	name := filepath.Base(f.row.in)
	intro := u.T("app.sign.password_intro", "File", name)
	if errors.Is(f.need, pdf.ErrPermission) {
		intro = u.T("app.sign.owner_intro", "File", name)
	}
	why := widget.NewLabel("")
	why.Wrapping = fyne.TextWrapWord
	why.Importance = widget.WarningImportance
	switch {
	case errors.Is(retry, pdf.ErrPermission):
		why.SetText(u.T("app.sign.password_not_owner"))
	case retry != nil:
		why.SetText(u.T("app.sign.password_wrong"))
	default:
		why.Hide()
	}
	entry := u.newSecretField()
	var d *dialog.CustomDialog
	answer := func(ok bool) func() {
		return func() {
			pw := []byte(entry.Text)
			entry.SetText("")
			d.Hide()
			if !ok || len(pw) == 0 {
				then(nil)
				return
			}
			then(pw)
		}
	}
	cancel := u.newButton(u.T("app.cancel"), theme.CancelIcon(), answer(false))
	ok := u.newPrimary(u.T("app.sign.password_ok"), theme.ConfirmIcon(), answer(true))
	entry.OnSubmitted = func(string) { ok.Tapped(nil) }
	d = newDialog(u.T("app.sign.password_title", "File", name), container.NewVBox(wrapLabel(intro), why,
		widget.NewForm(widget.NewFormItem(u.T("app.sign.password_label"), entry))), cancel, ok, u.win)
	d.Resize(fyne.NewSize(480, 0))
	s.passwordDialog, s.passwordEntry, s.passwordWhy = &pinBox{d: d, entry: entry, ok: ok, cancel: cancel}, entry, why
	u.showDialog(d, ok, cancel)
	u.win.Canvas().Focus(entry)
}
