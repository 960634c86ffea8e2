package app

import (
	"image/color"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/driver/desktop"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"
)

// The keyboard. fyne's desktop driver hands a key press to the widget that
// has the focus in three calls: KeyDown (to a desktop.Keyable), TypedKey,
// then the character the key makes (TypedRune); auto-repeat sends TypedKey
// and TypedRune again; the release goes, as KeyUp, to whatever has the
// focus by then. A stock widget.Button acts on TypedKey(Space): its action
// runs between the press and the character, so a button that opens a field
// (Sign and its PIN box, Back and the answers) hands that field the space,
// and the repeats of a key held a little long.
//
// Here, a button acts when its key is released (as GTK's, Windows' and
// Qt's do for Space), so nothing of that keystroke is left to reach what
// it opens; and a field takes only the keys pressed while it has the
// focus, so that a stray character from elsewhere (a stock dialog button,
// a key held down) is dropped rather than typed into a PIN. Enter presses
// the default button of the dialog or wizard step in front, Escape its
// cancel button.

// keyboard is what the window's keys do beyond the focused widget.
type keyboard struct {
	// presses is set once the driver reports key presses (KeyDown): the
	// desktop drivers do, from the start; a touch screen or fyne's test
	// driver typing with test.Type does not, and its fields then take
	// every character.
	presses bool
	// layers are the dialogs (and the activation wizard) whose Enter and
	// Escape buttons apply, the one in front last.
	layers []*keyLayer
}

// keyLayer names the buttons Enter and Escape press in one dialog; a func
// because a wizard's buttons change from step to step. Either may return
// nil.
type keyLayer struct{ ok, cancel func() *button }

// push makes l the layer in front until pop.
func (k *keyboard) push(l *keyLayer) { k.layers = append(k.layers, l) }

// pop removes l, wherever it is (dialogs do not always close in order).
func (k *keyboard) pop(l *keyLayer) {
	for i, x := range k.layers {
		if x == l {
			k.layers = append(k.layers[:i], k.layers[i+1:]...)
			return
		}
	}
}

// typedKey handles a key no widget took: Enter and Escape press the
// buttons of the layer in front.
func (k *keyboard) typedKey(ev *fyne.KeyEvent) {
	if len(k.layers) == 0 {
		return
	}
	l := k.layers[len(k.layers)-1]
	var b *button
	switch ev.Name {
	case fyne.KeyReturn, fyne.KeyEnter:
		b = l.ok()
	case fyne.KeyEscape:
		b = l.cancel()
	}
	if b != nil && b.Visible() && !b.Disabled() {
		b.Tapped(nil)
	}
}

// forwardKey hands ev to the window's own handler (keyboard.typedKey): a
// widget passes on the keys it does not use.
func forwardKey(o fyne.CanvasObject, ev *fyne.KeyEvent) {
	if c := fyne.CurrentApp().Driver().CanvasForObject(o); c != nil && c.OnTypedKey() != nil {
		c.OnTypedKey()(ev)
	}
}

// activates tells the keys that press a focused button.
func activates(k fyne.KeyName) bool {
	return k == fyne.KeySpace || k == fyne.KeyReturn || k == fyne.KeyEnter
}

// button is a widget.Button that acts when Space or Enter is released
// (having been pressed on it), shows a ring when it has the focus, and
// passes Escape on to the dialog it is in.
type button struct {
	widget.Button
	keys    *keyboard
	pressed fyne.KeyName // Space or Enter, pressed while focused and not yet released
	focused bool
}

// newButton is a button with label, icon (may be nil) and action.
func (u *UI) newButton(label string, icon fyne.Resource, tapped func()) *button {
	b := &button{keys: &u.keys}
	b.Text, b.Icon, b.OnTapped = label, icon, tapped
	b.ExtendBaseWidget(b)
	return b
}

// newPrimary is the blue button of a screen or dialog.
func (u *UI) newPrimary(label string, icon fyne.Resource, tapped func()) *button {
	b := u.newButton(label, icon, tapped)
	b.Importance = widget.HighImportance
	return b
}

// KeyDown notes Space or Enter pressed on the button.
func (b *button) KeyDown(ev *fyne.KeyEvent) {
	b.keys.presses = true
	if activates(ev.Name) && !b.Disabled() {
		b.pressed = ev.Name
	}
}

// KeyUp presses the button when the key pressed on it is released.
func (b *button) KeyUp(ev *fyne.KeyEvent) {
	if b.pressed != "" && ev.Name == b.pressed {
		b.pressed = ""
		b.Tapped(nil)
	}
}

// TypedKey leaves Space and Enter (and their repeats) to KeyUp, and
// passes on the keys a button does not use.
func (b *button) TypedKey(ev *fyne.KeyEvent) {
	if !activates(ev.Name) {
		forwardKey(b, ev)
	}
}

func (b *button) FocusGained() {
	b.focused = true
	b.Button.FocusGained()
}

func (b *button) FocusLost() {
	b.focused, b.pressed = false, ""
	b.Button.FocusLost()
}

// CreateRenderer draws fyne's button with a focus ring around it: fyne
// shows the focus by tinting the button with the primary colour, which
// cannot be seen on a blue button.
func (b *button) CreateRenderer() fyne.WidgetRenderer {
	ring := canvas.NewRectangle(color.Transparent)
	return &ringRenderer{WidgetRenderer: b.Button.CreateRenderer(), ring: ring, focused: func() bool { return b.focused }, theme: b.Theme}
}

// ringRenderer adds a focus ring outside a widget's edge, in the gap the
// layouts leave between widgets.
type ringRenderer struct {
	fyne.WidgetRenderer
	ring    *canvas.Rectangle
	focused func() bool
	theme   func() fyne.Theme
	inside  bool // within the widget's edge (at the window's, nothing is outside)
}

// ringGap is the ring's distance from the widget, and its width.
const ringGap, ringWidth = 1, 2

func (r *ringRenderer) Layout(size fyne.Size) {
	r.WidgetRenderer.Layout(size)
	out := float32(ringGap + ringWidth)
	if r.inside {
		out = -ringGap
	}
	r.ring.Move(fyne.NewPos(-out, -out))
	r.ring.Resize(size.AddWidthHeight(2*out, 2*out))
}

func (r *ringRenderer) Objects() []fyne.CanvasObject {
	return append(append([]fyne.CanvasObject(nil), r.WidgetRenderer.Objects()...), r.ring)
}

func (r *ringRenderer) Refresh() {
	r.WidgetRenderer.Refresh()
	th := r.theme()
	r.ring.StrokeWidth = ringWidth
	r.ring.StrokeColor = color.Transparent
	if r.focused() {
		r.ring.StrokeColor = th.Color(theme.ColorNamePrimary, fyne.CurrentApp().Settings().ThemeVariant())
	}
	r.ring.CornerRadius = th.Size(theme.SizeNameInputRadius) + ringGap + ringWidth
	r.ring.Refresh()
}

// field is a widget.Entry that takes only the keys pressed while it has
// the focus (see the top of this file), passes Escape on to its dialog and
// the side menu's shortcuts on to the window.
type field struct {
	widget.Entry
	keys *keyboard
	// pressed: a key went down since the field got the focus, so the
	// characters and keys that follow are the user's typing here.
	pressed bool
}

// newField is a one-line entry.
func (u *UI) newField() *field {
	f := &field{keys: &u.keys}
	f.Wrapping = fyne.TextWrap(fyne.TextTruncateClip)
	f.ExtendBaseWidget(f)
	return f
}

// newSecretField is a password entry (fyne adds the button that shows
// what was typed).
func (u *UI) newSecretField() *field {
	f := u.newField()
	f.Password = true
	return f
}

// mine tells whether the key events arriving now were typed here.
func (f *field) mine() bool { return f.pressed || !f.keys.presses }

func (f *field) KeyDown(ev *fyne.KeyEvent) {
	f.keys.presses, f.pressed = true, true
	f.Entry.KeyDown(ev)
}

func (f *field) TypedRune(r rune) {
	if f.mine() {
		f.Entry.TypedRune(r)
	}
}

func (f *field) TypedKey(ev *fyne.KeyEvent) {
	switch {
	case !f.mine():
	case ev.Name == fyne.KeyEscape:
		forwardKey(f, ev)
	default:
		f.Entry.TypedKey(ev)
	}
}

// TypedShortcut lets the window's shortcuts (the side menu's Ctrl+1…5)
// work from a field, which would otherwise keep them.
func (f *field) TypedShortcut(s fyne.Shortcut) {
	if cs, ok := s.(*desktop.CustomShortcut); ok && menuShortcut(cs) >= 0 {
		// fyne's canvases keep their shortcuts in a fyne.ShortcutHandler.
		if c, ok := fyne.CurrentApp().Driver().CanvasForObject(f).(fyne.Shortcutable); ok {
			c.TypedShortcut(s)
			return
		}
	}
	f.Entry.TypedShortcut(s)
}

func (f *field) FocusGained() {
	f.pressed = false
	f.Entry.FocusGained()
}

func (f *field) FocusLost() {
	f.pressed = false
	f.Entry.FocusLost()
}

// showDialog shows d, a dialog whose buttons are ours, with Enter pressing
// ok and Escape cancel (either may be nil), until it closes.
func (u *UI) showDialog(d *dialog.CustomDialog, ok, cancel *button) {
	l := &keyLayer{ok: func() *button { return ok }, cancel: func() *button { return cancel }}
	u.keys.push(l)
	d.SetOnClosed(func() { u.keys.pop(l) })
	d.Show()
}

// newDialog is a dialog with our buttons at the bottom, cancel first as
// fyne's dialogs have it; cancel may be nil.
func newDialog(title string, content fyne.CanvasObject, cancel, ok *button, w fyne.Window) *dialog.CustomDialog {
	d := dialog.NewCustomWithoutButtons(title, content, w)
	var buttons []fyne.CanvasObject
	if cancel != nil {
		buttons = append(buttons, cancel)
	}
	d.SetButtons(append(buttons, ok))
	return d
}

// confirmBox is an open question with two answers (tests answer it).
type confirmBox struct {
	d       *dialog.CustomDialog
	yes, no *button
}

// Confirm answers yes, as the dialog's confirm button does.
func (c *confirmBox) Confirm() { c.yes.Tapped(nil) }

// Dismiss answers no.
func (c *confirmBox) Dismiss() { c.no.Tapped(nil) }

// confirm asks a question whose answer goes to then: Enter confirms,
// Escape answers no.
func (u *UI) confirm(title string, content fyne.CanvasObject, no, yes string, then func(bool)) *confirmBox {
	c := &confirmBox{}
	answer := func(ok bool) func() {
		return func() {
			c.d.Hide()
			then(ok)
		}
	}
	c.no = u.newButton(no, theme.CancelIcon(), answer(false))
	c.yes = u.newPrimary(yes, theme.ConfirmIcon(), answer(true))
	c.d = newDialog(title, content, c.no, c.yes, u.win)
	c.d.Resize(fyne.NewSize(520, 0))
	u.showDialog(c.d, c.yes, c.no)
	return c
}
