package app

import (
	"context"
	"errors"
	"strings"

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

// askPIN asks for the PIN of certificate c (and any extra field) and opens
// c's key with it; then gets the key and the PIN, and must clear the PIN
// and close the store. A wrong PIN keeps the box open, empty, saying how
// many tries are left; a key locked for good closes it with what to do.
// The PIN is never shown, logged or kept in the widget.
func (u *UI) askPIN(c local.Cert, extra *widget.FormItem, then func(key *pkcs.Key, pin []byte)) {
	h := pkcs.HolderOf(c.Certificate())
	b := &pinBox{entry: u.newSecretField(), why: wrapLabel(""), bar: widget.NewProgressBarInfinite()}
	b.why.Importance = widget.DangerImportance
	b.why.Hide()
	b.bar.Hide()
	items := []*widget.FormItem{widget.NewFormItem(u.T("app.pin.label"), b.entry)}
	if extra != nil {
		items = append(items, extra)
	}
	b.cancel = u.newButton(u.T("app.cancel"), theme.CancelIcon(), func() {
		b.entry.SetText("")
		b.d.Hide()
		closeStore(c.Store)
		if b.onCancel != nil {
			b.onCancel()
		}
	})
	b.ok = u.newPrimary(u.T("app.pin.ok"), theme.ConfirmIcon(), func() { b.check(u, c, then) })
	b.entry.OnSubmitted = func(string) { b.Submit() }
	b.d = newDialog(u.T("app.pin.title", "Name", h.Name), container.NewVBox(widget.NewForm(items...), b.why, b.bar), b.cancel, b.ok, u.win)
	b.d.Resize(fyne.NewSize(420, 0))
	u.pinDialog, u.pinEntry = b, b.entry
	u.showDialog(b.d, b.ok, b.cancel)
	u.win.Canvas().Focus(b.entry)
}

// pinBox is the open PIN question (tests drive it).
type pinBox struct {
	d          *dialog.CustomDialog
	entry      *field
	why        *widget.Label // why the last PIN did not open the key
	bar        *widget.ProgressBarInfinite
	ok, cancel *button
	// onCancel, when set, runs when the user cancels (not on a key
	// locked for good, which closes it too).
	onCancel func()
}

// Submit presses the box's OK button, as Enter does.
func (b *pinBox) Submit() {
	if !b.ok.Disabled() {
		b.ok.Tapped(nil)
	}
}

// Dismiss presses its Cancel button, as Escape does.
func (b *pinBox) Dismiss() { b.cancel.Tapped(nil) }

// check opens the key with the PIN typed, in the background (a keychain
// key's PIN goes through Argon2id; a token can take its time).
func (b *pinBox) check(u *UI, c local.Cert, then func(*pkcs.Key, []byte)) {
	if b.entry.Text == "" {
		u.win.Canvas().Focus(b.entry)
		return
	}
	pin := []byte(b.entry.Text)
	b.entry.SetText("")
	b.busy(true)
	var key *pkcs.Key
	u.task(nil, func(context.Context) (err error) {
		key, err = c.Store.Open(c.ID, pin)
		return err
	}, func(err error) {
		b.busy(false)
		switch {
		case err == nil:
			b.d.Hide()
			then(key, pin)
		case errors.Is(err, pkcs.ErrWrongPIN) && !errors.Is(err, pkcs.ErrLocked):
			clear(pin)
			e := u.explain(err)
			b.why.SetText(strings.TrimSpace(e.Text + "\n" + e.Hint))
			b.why.Show()
			u.shown = e.Text
			u.win.Canvas().Focus(b.entry)
		default:
			clear(pin)
			b.d.Hide()
			closeStore(c.Store)
			u.showError(err)
		}
	})
}

// busy shows that the PIN is being checked, and lets nothing be typed or
// pressed meanwhile.
func (b *pinBox) busy(on bool) { busyWith(on, b.bar, b.why, b.entry, b.ok, b.cancel) }

// busyWith shows bar while work is under way (on), hiding why, and lets
// none of ws be used meanwhile.
func busyWith(on bool, bar *widget.ProgressBarInfinite, why *widget.Label, ws ...fyne.Disableable) {
	for _, w := range ws {
		if on {
			w.Disable()
		} else {
			w.Enable()
		}
	}
	if on {
		bar.Show()
		why.Hide()
	} else {
		bar.Hide()
	}
}

// pinChooser is a new PIN typed twice and checked against the policy as it
// is typed.
type pinChooser struct {
	rules      *widget.Label // what the policy asks
	pin, again *field
	info       *widget.Label // what is wrong, or that all is well
	form       *widget.Form
}

// newPINChooser calls ok when the PIN meets rules and is confirmed, and
// notOK otherwise.
// Items in lead come first in its form.
func (u *UI) newPINChooser(rules config.PINPolicy, ok, notOK func(), lead ...*widget.FormItem) *pinChooser {
	intro := u.T("pin.rules.password", "Min", rules.MinLength, "Repeat", rules.MaxRepeat)
	switch {
	case rules.DigitsOnly && rules.MinLength == rules.MaxLength: // as the command line says it
		intro = u.T("pin.rules.digits_exact", "N", rules.MinLength)
	case rules.DigitsOnly:
		intro = u.T("pin.rules.digits", "Min", rules.MinLength, "Max", rules.MaxLength)
	}
	return u.newChooser(chooserWords{intro: intro, check: func(pin []byte) error { return rules.Check(pin) },
		mismatch: u.explain(explain.ErrPINMismatch).Text, good: u.T("app.act.pin_ok"),
		label: u.T("app.act.new_pin"), again: u.T("app.act.new_pin_again")}, ok, notOK, lead...)
}

// chooserWords are what a chooser of a new secret says and checks: the
// rules (intro), check's error said as the explanation of that error,
// the two entries' labels.
type chooserWords struct {
	intro          string
	check          func([]byte) error
	mismatch, good string
	label, again   string
}

// newChooser is a new secret typed twice, checked as it is typed: ok
// when it is good and confirmed, notOK otherwise.
func (u *UI) newChooser(w chooserWords, ok, notOK func(), lead ...*widget.FormItem) *pinChooser {
	c := &pinChooser{rules: wrapLabel(w.intro), pin: u.newSecretField(), again: u.newSecretField(), info: widget.NewLabel("")}
	check := func(string) {
		err := w.check([]byte(c.pin.Text))
		switch {
		case c.pin.Text == "":
			c.info.SetText("")
		case err != nil:
			c.info.SetText(u.explain(err).Text)
			c.info.Importance = widget.WarningImportance
		case c.again.Text != c.pin.Text:
			c.info.SetText(w.mismatch)
			c.info.Importance = widget.WarningImportance
		default:
			c.info.SetText(w.good)
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
	c.form = widget.NewForm(append(lead, widget.NewFormItem(w.label, c.pin), widget.NewFormItem(w.again, c.again))...)
	check("")
	return c
}

// changePIN changes the PIN of c's key (for a token: the token's PIN), or
// with puk set, unblocks the token and gives it a new PIN. The caller
// offers it only for stores that can (pkcs.PINChanger, pkcs.PINUnlocker).
// A wrong current PIN (or PUK) keeps the dialog open, saying so.
func (u *UI) changePIN(c local.Cert, puk bool) {
	pol, err := u.policy()
	if err != nil {
		u.showError(err)
		return
	}
	p := &pinChangeDialog{current: u.newSecretField(), why: wrapLabel(""), bar: widget.NewProgressBarInfinite()}
	p.why.Importance = widget.DangerImportance
	p.why.Hide()
	p.bar.Hide()
	label := u.T("app.pin.current")
	if puk {
		label = u.T("app.pin.puk")
	}
	p.confirm = u.newPrimary(u.T("app.pin.change"), theme.ConfirmIcon(), func() { p.change(u, c, puk) })
	p.chooser = u.newPINChooser(pol.PINPolicyFor(config.Store(c.Store.Name())), p.confirm.Enable, p.confirm.Disable, widget.NewFormItem(label, p.current))
	p.current.OnSubmitted = func(string) { u.win.Canvas().Focus(p.chooser.pin) }
	p.cancel = u.newButton(u.T("app.cancel"), theme.CancelIcon(), func() {
		p.forget()
		p.d.Hide()
	})
	p.chooser.again.OnSubmitted = func(string) {
		if !p.confirm.Disabled() {
			p.confirm.Tapped(nil)
		}
	}
	title := u.T("app.pin.change_title")
	if puk {
		title = u.T("app.pin.unlock_title")
	}
	p.d = newDialog(title, container.NewVBox(p.chooser.rules, p.chooser.form, p.chooser.info, p.why, p.bar), p.cancel, p.confirm, u.win)
	p.d.Resize(fyne.NewSize(520, 0))
	u.pinChange = p
	u.showDialog(p.d, p.confirm, p.cancel)
	u.win.Canvas().Focus(p.current)
}

// pinChangeDialog is the open PIN change (tests drive it).
type pinChangeDialog struct {
	d               *dialog.CustomDialog
	current         *field
	chooser         *pinChooser
	why             *widget.Label // why the current PIN was refused
	bar             *widget.ProgressBarInfinite
	confirm, cancel *button
}

// forget empties the PIN fields.
func (p *pinChangeDialog) forget() {
	for _, f := range []*field{p.current, p.chooser.pin, p.chooser.again} {
		f.SetText("")
	}
}

// change changes the PIN in the background; a wrong current PIN or PUK
// empties its field and says so.
func (p *pinChangeDialog) change(u *UI, c local.Cert, puk bool) {
	old, next := []byte(p.current.Text), []byte(p.chooser.pin.Text)
	p.current.SetText("")
	for _, w := range []fyne.Disableable{p.current, p.chooser.pin, p.chooser.again, p.confirm, p.cancel} {
		w.Disable()
	}
	p.why.Hide()
	p.bar.Show()
	u.task(nil, func(context.Context) error {
		defer clear(old)
		defer clear(next)
		defer closeStore(c.Store)
		if puk {
			return c.Store.(pkcs.PINUnlocker).UnlockPIN(old, next)
		}
		return c.Store.(pkcs.PINChanger).ChangePIN(c.ID, old, next)
	}, func(err error) {
		p.bar.Hide()
		for _, w := range []fyne.Disableable{p.current, p.chooser.pin, p.chooser.again, p.confirm, p.cancel} {
			w.Enable()
		}
		if (errors.Is(err, pkcs.ErrWrongPIN) && !errors.Is(err, pkcs.ErrLocked)) || errors.Is(err, pkcs.ErrWrongPUK) {
			e := u.explain(err)
			p.why.SetText(strings.TrimSpace(e.Text + "\n" + e.Hint))
			p.why.Show()
			u.shown = e.Text
			u.win.Canvas().Focus(p.current)
			return
		}
		p.forget()
		p.d.Hide()
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

// closeStore logs a token out (a keychain store has nothing to close);
// s may be nil.
func closeStore(s pkcs.Store) {
	if s != nil {
		s.Close()
	}
}
