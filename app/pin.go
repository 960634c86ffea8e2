package app

import (
	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/widget"

	"github.com/paraphe/paraphe/internal/local"
	"github.com/paraphe/paraphe/pkcs"
)

// askPIN asks for the PIN of certificate c (and any extra fields) and hands
// it to then. The PIN is never shown, logged or kept: then must clear it.
func (u *UI) askPIN(c local.Cert, extra *widget.FormItem, then func(pin []byte)) {
	h := pkcs.HolderOf(c.Certificate())
	pin := widget.NewPasswordEntry()
	items := []*widget.FormItem{widget.NewFormItem(u.T("app.pin.label"), pin)}
	if extra != nil {
		items = append(items, extra)
	}
	d := dialog.NewForm(u.T("app.pin.title", "Name", h.Name), u.T("app.pin.ok"), u.T("app.cancel"), items, func(ok bool) {
		if ok && pin.Text != "" {
			b := []byte(pin.Text)
			pin.SetText("")
			then(b)
		}
	}, u.win)
	pin.OnSubmitted = func(string) { d.Submit() }
	d.Resize(fyne.NewSize(420, 0))
	u.pinDialog, u.pinEntry = d, pin
	d.Show()
	u.win.Canvas().Focus(pin)
}
