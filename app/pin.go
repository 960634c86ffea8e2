package app

import (
	"context"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/paraphe/paraphe/config"
	"github.com/paraphe/paraphe/internal/explain"
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
		b := []byte(pin.Text)
		pin.SetText("") // never left in a widget, whichever way the dialog closes
		if ok && len(b) > 0 {
			then(b)
		}
	}, u.win)
	pin.OnSubmitted = func(string) { d.Submit() }
	d.Resize(fyne.NewSize(420, 0))
	u.pinDialog, u.pinEntry = d, pin
	d.Show()
	u.win.Canvas().Focus(pin)
}

// pinChooser is a new PIN typed twice and checked against the policy as it
// is typed.
type pinChooser struct {
	rules      *widget.Label // what the policy asks
	pin, again *widget.Entry
	info       *widget.Label // what is wrong, or that all is well
	form       *widget.Form
}

// newPINChooser calls ok when the PIN meets rules and is confirmed, and
// notOK otherwise.
// Items in lead come first in its form.
func (u *UI) newPINChooser(rules config.PINPolicy, ok, notOK func(), lead ...*widget.FormItem) *pinChooser {
	intro := u.T("pin.rules.password", "Min", rules.MinLength, "Repeat", rules.MaxRepeat)
	if rules.DigitsOnly {
		intro = u.T("pin.rules.digits", "Min", rules.MinLength, "Max", rules.MaxLength)
	}
	c := &pinChooser{rules: wrapLabel(intro), pin: widget.NewPasswordEntry(), again: widget.NewPasswordEntry(), info: widget.NewLabel("")}
	check := func(string) {
		err := rules.Check([]byte(c.pin.Text))
		switch {
		case c.pin.Text == "":
			c.info.SetText("")
		case err != nil:
			c.info.SetText(u.explain(err).Text)
			c.info.Importance = widget.WarningImportance
		case c.again.Text != c.pin.Text:
			c.info.SetText(u.explain(explain.ErrPINMismatch).Text)
			c.info.Importance = widget.WarningImportance
		default:
			c.info.SetText(u.T("app.act.pin_ok"))
			c.info.Importance = widget.SuccessImportance
		}
		c.info.Refresh()
		if err == nil && c.pin.Text == c.again.Text {
			ok()
		} else {
			notOK()
		}
	}
	c.pin.OnChanged, c.again.OnChanged = check, check
	c.pin.OnSubmitted = func(string) { u.win.Canvas().Focus(c.again) }
	c.form = widget.NewForm(append(lead, widget.NewFormItem(u.T("app.act.new_pin"), c.pin), widget.NewFormItem(u.T("app.act.new_pin_again"), c.again))...)
	check("")
	return c
}

// changePIN changes the PIN of c's key (for a token: the token's PIN), or
// with puk set, unblocks the token and gives it a new PIN. The caller
// offers it only for stores that can (pkcs.PINChanger, pkcs.PINUnlocker).
func (u *UI) changePIN(c local.Cert, puk bool) {
	pol, err := u.policy()
	if err != nil {
		u.showError(err)
		return
	}
	current := widget.NewPasswordEntry()
	label := u.T("app.pin.current")
	if puk {
		label = u.T("app.pin.puk")
	}
	var d *dialog.CustomDialog
	confirm := widget.NewButtonWithIcon(u.T("app.pin.change"), theme.ConfirmIcon(), nil)
	confirm.Importance = widget.HighImportance
	chooser := u.newPINChooser(pol.PINPolicyFor(config.Store(c.Store.Name())), confirm.Enable, confirm.Disable, widget.NewFormItem(label, current))
	forget := func() {
		current.SetText("")
		chooser.pin.SetText("")
		chooser.again.SetText("")
	}
	cancel := widget.NewButton(u.T("app.cancel"), func() {
		forget()
		d.Hide()
	})
	confirm.OnTapped = func() {
		old, next := []byte(current.Text), []byte(chooser.pin.Text)
		forget()
		d.Hide()
		u.task(nil, func(context.Context) error {
			defer clear(old)
			defer clear(next)
			defer closeStore(c.Store)
			if puk {
				return c.Store.(pkcs.PINUnlocker).UnlockPIN(old, next)
			}
			return c.Store.(pkcs.PINChanger).ChangePIN(c.ID, old, next)
		}, func(err error) {
			if err != nil {
				u.showError(err)
				return
			}
			done := u.T("pin.changed." + c.Store.Name())
			if puk {
				done = u.T("pin.unlocked")
			}
			u.showMessage(u.T("app.pin.title_done"), done, "")
		})
	}
	title := u.T("app.pin.change_title")
	if puk {
		title = u.T("app.pin.unlock_title")
	}
	chooser.again.OnSubmitted = func(string) {
		if !confirm.Disabled() {
			confirm.OnTapped()
		}
	}
	d = dialog.NewCustomWithoutButtons(title, container.NewVBox(chooser.rules, chooser.form, chooser.info, container.NewHBox(cancel, confirm)), u.win)
	d.Resize(fyne.NewSize(520, 0))
	u.pinChange = &pinChangeDialog{current: current, chooser: chooser, confirm: confirm}
	d.Show()
	u.win.Canvas().Focus(current)
}

// pinChangeDialog is what tests drive of the open PIN change.
type pinChangeDialog struct {
	current *widget.Entry
	chooser *pinChooser
	confirm *widget.Button
}

// closeStore logs a token out (a keychain store has nothing to close);
// s may be nil.
func closeStore(s pkcs.Store) {
	if s != nil {
		s.Close()
	}
}
