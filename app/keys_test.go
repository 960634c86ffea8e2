package app

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/driver/desktop"
	"fyne.io/fyne/v2/test"

	"github.com/paraphe/paraphe/ca"
	"github.com/paraphe/paraphe/internal/testenv"
)

// Key presses as fyne's desktop driver delivers them
// (internal/driver/glfw/window.go, processKeyPressed and processCharInput):
// on a press, KeyDown then TypedKey to the widget focused at that moment
// (the canvas's own handler when none is), then the character the key
// makes to the widget focused by then; auto-repeat sends TypedKey and the
// character again; the release goes, as KeyUp, to the widget focused when
// the key comes up. Between these the test lets the work the key started
// finish (u.tasks.Wait), as a user would wait before letting go.

// keyDown presses key, which makes character r (0 for none).
func keyDown(u *UI, key fyne.KeyName, r rune) {
	c := u.win.Canvas()
	ev := &fyne.KeyEvent{Name: key}
	if k, ok := c.Focused().(desktop.Keyable); ok {
		k.KeyDown(ev)
	}
	typed(u, ev, r)
}

// keyRepeat is the auto-repeat of key while it is held.
func keyRepeat(u *UI, key fyne.KeyName, r rune) { typed(u, &fyne.KeyEvent{Name: key}, r) }

func typed(u *UI, ev *fyne.KeyEvent, r rune) {
	c := u.win.Canvas()
	if f := c.Focused(); f != nil {
		f.TypedKey(ev)
	} else if h := c.OnTypedKey(); h != nil {
		h(ev)
	}
	if r == 0 {
		return
	}
	if f := c.Focused(); f != nil {
		f.TypedRune(r)
	} else if h := c.OnTypedRune(); h != nil {
		h(r)
	}
}

// keyUp releases key.
func keyUp(u *UI, key fyne.KeyName) {
	if k, ok := u.win.Canvas().Focused().(desktop.Keyable); ok {
		k.KeyUp(&fyne.KeyEvent{Name: key})
	}
}

// press presses and releases key, letting what it started finish between.
func press(u *UI, key fyne.KeyName, r rune) {
	keyDown(u, key, r)
	u.tasks.Wait()
	keyUp(u, key)
	u.tasks.Wait()
}

// typeKeys types s into the focused widget key by key, each character
// with its own press and release (the key's name does not matter to a
// field: its character does).
func typeKeys(u *UI, s string) {
	for _, r := range s {
		keyDown(u, fyne.KeyName(strings.ToUpper(string(r))), r)
		keyUp(u, fyne.KeyName(strings.ToUpper(string(r))))
	}
}

// holdAndRelease presses key on what has the focus, holds it (two
// auto-repeats, once the work the press started is done), then releases
// it.
func holdAndRelease(t *testing.T, u *UI, key fyne.KeyName, r rune, beforeRelease func()) {
	t.Helper()
	keyDown(u, key, r)
	u.tasks.Wait()
	keyRepeat(u, key, r)
	keyRepeat(u, key, r)
	u.tasks.Wait()
	beforeRelease()
	keyUp(u, key)
	u.tasks.Wait()
}

// deedToSign puts a copy of the demo deed alone in the batch, to be signed
// without a time-stamp.
func deedToSign(t *testing.T, u *UI) string {
	t.Helper()
	deed, err := os.ReadFile(filepath.Join("..", "assets", "demo", "deed.pdf"))
	if err != nil {
		t.Fatal(err)
	}
	in := filepath.Join(t.TempDir(), "deed.pdf")
	if err := os.WriteFile(in, deed, 0o644); err != nil {
		t.Fatal(err)
	}
	s := u.signer
	s.files = nil
	s.add(in)
	s.level.SetSelectedIndex(0) // B-B
	return in
}

// Space or Enter on Sign, held long enough to repeat: nothing happens
// until the key comes up; then the PIN box opens, empty and focused, and
// takes what is typed into it, key by key; Enter signs.
func TestKeyOnSignNeverReachesThePIN(t *testing.T) {
	u, _ := readyToSign(t)
	for _, k := range []struct {
		name fyne.KeyName
		r    rune
	}{{fyne.KeySpace, ' '}, {fyne.KeyReturn, 0}, {fyne.KeyEnter, 0}} {
		t.Run(string(k.name), func(t *testing.T) {
			deedToSign(t, u)
			u.pinDialog, u.pinEntry = nil, nil
			u.win.Canvas().Focus(u.signer.signBtn)
			holdAndRelease(t, u, k.name, k.r, func() {
				if u.pinDialog != nil {
					t.Error("the PIN box opened before the key came up")
				}
			})
			if u.pinDialog == nil {
				t.Fatalf("%s released on Sign does not ask the PIN", k.name)
			}
			if u.win.Canvas().Focused() != u.pinEntry || u.pinEntry.Text != "" {
				t.Fatalf("the PIN box opens with %q, focused %v", u.pinEntry.Text, u.win.Canvas().Focused() == u.pinEntry)
			}
			typeKeys(u, testPIN)
			if u.pinEntry.Text != testPIN {
				t.Fatalf("the PIN as typed: %q", u.pinEntry.Text)
			}
			press(u, fyne.KeyReturn, 0)
			if f := u.signer.files[0]; !f.ok {
				t.Fatalf("not signed: %s", f.status.Text)
			}
		})
	}
}

// Space or Enter on Back, held: the questions come back with the answers as
// typed, not one character more.
func TestKeyOnBackNeverReachesTheAnswers(t *testing.T) {
	c := testenv.StartCA(t, ca.InitOptions{})
	u := newUI(t, c.Policy)
	w := enterCode(t, u, c.Enroll(t))
	for i, a := range testenv.Answers {
		u.win.Canvas().Focus(w.answers[i])
		typeKeys(u, a)
	}
	press(u, fyne.KeyReturn, 0) // Enter in the last answer: Next
	if w.title.Text != u.T("app.act.title_store") {
		t.Fatalf("Enter in the last answer: step %q", w.title.Text)
	}
	for _, k := range []struct {
		name fyne.KeyName
		r    rune
	}{{fyne.KeySpace, ' '}, {fyne.KeyReturn, 0}} {
		u.win.Canvas().Focus(keyButton(t, w.content, u.T("app.back")))
		holdAndRelease(t, u, k.name, k.r, func() {
			if w.title.Text != u.T("app.act.title_store") {
				t.Errorf("%s on Back acted before it came up", k.name)
			}
		})
		if w.title.Text != u.T("app.act.title_questions") || u.win.Canvas().Focused() != w.answers[0] {
			t.Fatalf("%s on Back: step %q", k.name, w.title.Text)
		}
		for i, a := range testenv.Answers {
			if w.answers[i].Text != a {
				t.Fatalf("%s on Back: answer %d is %q, typed %q", k.name, i+1, w.answers[i].Text, a)
			}
		}
		test.Tap(w.primary) // → store, to go back again
	}
}

// A wrong PIN keeps the box open, empty and focused, saying how many tries
// are left; the right one then signs. Escape closes it without a try.
func TestWrongPINKeepsTheBoxOpen(t *testing.T) {
	u, _ := readyToSign(t)
	deedToSign(t, u)
	test.Tap(u.signer.signBtn)
	u.tasks.Wait()
	box := u.pinDialog
	u.win.Canvas().Focus(u.pinEntry)
	typeKeys(u, "Wrong-PIN-42")
	press(u, fyne.KeyReturn, 0)
	if u.pinDialog != box || u.win.Canvas().Overlays().Top() == nil || !box.why.Visible() {
		t.Fatalf("a wrong PIN closed the box (shown %q)", u.shown)
	}
	if got := box.why.Text; !strings.Contains(got, "Wrong PIN (4 tries left)") {
		t.Fatalf("the box says %q", got)
	}
	if u.pinEntry.Text != "" || u.win.Canvas().Focused() != u.pinEntry || u.signer.files[0].ok {
		t.Fatalf("after a wrong PIN: entry %q, focused %v", u.pinEntry.Text, u.win.Canvas().Focused() == u.pinEntry)
	}
	typeKeys(u, testPIN)
	press(u, fyne.KeyReturn, 0)
	if !u.signer.files[0].ok || u.win.Canvas().Overlays().Top() != nil {
		t.Fatalf("the right PIN after a wrong one: %s", u.signer.files[0].status.Text)
	}

	// Escape in the box: closed, nothing signed, no try spent (the next
	// wrong PIN says 4 tries left again, after the right one reset them).
	deedToSign(t, u)
	test.Tap(u.signer.signBtn)
	u.tasks.Wait()
	u.win.Canvas().Focus(u.pinEntry)
	typeKeys(u, "Wrong")
	press(u, fyne.KeyEscape, 0)
	if u.win.Canvas().Overlays().Top() != nil || u.signer.files[0].ok {
		t.Fatal("Escape does not cancel the PIN box")
	}
}

// Enter and Escape in a message close it; Tab reaches the side menu, whose
// entries the arrows and Space open; Ctrl+1…5 open them from anywhere,
// from a field too.
func TestMenuAndDialogsByKeyboard(t *testing.T) {
	c := testenv.StartCA(t, ca.InitOptions{})
	u := newUI(t, c.Policy)
	for _, k := range []fyne.KeyName{fyne.KeyReturn, fyne.KeyEscape} {
		u.showMessage("title", "message", "")
		if u.win.Canvas().Overlays().Top() == nil {
			t.Fatal("no message shown")
		}
		press(u, k, 0)
		if u.win.Canvas().Overlays().Top() != nil {
			t.Fatalf("%s does not close a message", k)
		}
	}

	cv := u.win.Canvas()
	var first *menuEntry
	for range 50 {
		cv.FocusNext()
		if e, ok := cv.Focused().(*menuEntry); ok {
			first = e
			break
		}
	}
	if first == nil {
		t.Fatal("Tab never reaches the side menu")
	}
	cv.Focus(u.tabs.entries.Objects[0].(*menuEntry))
	press(u, fyne.KeyDown, 0)
	press(u, fyne.KeySpace, ' ')
	if u.tabs.SelectedIndex() != 1 || u.tabs.Selected().Content != u.signer.content {
		t.Fatalf("Down then Space in the menu: screen %d", u.tabs.SelectedIndex())
	}
	cv.(fyne.Shortcutable).TypedShortcut(&desktop.CustomShortcut{KeyName: fyne.Key4, Modifier: fyne.KeyModifierShortcutDefault})
	if u.tabs.Selected().Content != u.doctor.content {
		t.Fatalf("Ctrl+4: screen %d", u.tabs.SelectedIndex())
	}
	cv.Focus(u.signer.reason)
	u.signer.reason.TypedShortcut(&desktop.CustomShortcut{KeyName: fyne.Key5, Modifier: fyne.KeyModifierShortcutDefault})
	if u.tabs.Selected().Content != u.prefs.content {
		t.Fatalf("Ctrl+5 from a field: screen %d", u.tabs.SelectedIndex())
	}
}

// keyButton is the button labelled text in o.
func keyButton(t *testing.T, o fyne.CanvasObject, text string) *button {
	t.Helper()
	var found *button
	walk(o, func(o fyne.CanvasObject) {
		if b, ok := o.(*button); ok && b.Text == text {
			found = b
		}
	})
	if found == nil {
		t.Fatalf("no button %q in:\n%s", text, texts(o))
	}
	return found
}

// A field takes only the keys pressed while it has the focus: the
// character of a key pressed elsewhere (a stock dialog's button that
// opened it, a key held down since) is dropped, then typing works.
func TestFieldTakesOnlyItsOwnKeys(t *testing.T) {
	u := newUI(t, filepath.Join(t.TempDir(), "none.json"))
	f := u.newSecretField()
	u.win.SetContent(f)
	u.win.Canvas().Focus(f)
	typeKeys(u, "x") // a keyboard that reports its presses, as the desktop's
	u.win.Canvas().Unfocus()
	u.win.Canvas().Focus(f) // focused again, as a dialog focuses its field
	f.SetText("")
	submitted := false
	f.OnSubmitted = func(string) { submitted = true }
	keyRepeat(u, fyne.KeySpace, ' ') // a held key's repeat, pressed before the field had the focus
	keyRepeat(u, fyne.KeyReturn, 0)  // and Enter's
	if f.Text != "" || submitted {
		t.Fatalf("a key pressed elsewhere typed %q (submitted: %v)", f.Text, submitted)
	}
	typeKeys(u, "Ab c")
	keyDown(u, fyne.KeyBackspace, 0)
	keyRepeat(u, fyne.KeyBackspace, 0) // held here: it repeats here
	keyUp(u, fyne.KeyBackspace)
	if f.Text != "Ab" {
		t.Fatalf("typed %q", f.Text)
	}
}
