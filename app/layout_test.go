package app

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/paraphe/paraphe/ca"
	"github.com/paraphe/paraphe/internal/testenv"
)

// The smallest screen the app is made for.
var smallest = fyne.NewSize(800, 600)

// languages are the Settings choices, the one to end on last.
var languages = []string{"Français", "Italiano", "English"}

// rawKey is a catalogue key shown instead of its words.
var rawKey = regexp.MustCompile(`\b(app|verify|sign|err|hint|doctor|trust|store)\.[a-z_]+\.[a-z_.-]+`)

// windowMin is the least size the window can take, as the desktop driver
// computes it: the content (the tab bar and every tab) and the padding
// around it.
func windowMin(u *UI) fyne.Size {
	min := u.win.Content().MinSize()
	if u.win.Padded() {
		min = min.Add(fyne.NewSquareSize(2 * theme.Padding()))
	}
	return min
}

// fits fails when, in any language, the window would have to grow past
// 800×600 to show what it shows on any screen of the side menu (the menu
// shows one at a time), when a choice cuts one of its options short (its
// list is drawn no wider than it), or when a catalogue key shows; what
// says what the user just did. It ends in English, on the screen it began
// on.
func fits(t *testing.T, u *UI, what string) {
	t.Helper()
	front := u.tabs.SelectedIndex()
	for _, lang := range languages {
		u.prefs.language.SetSelected(lang)
		u.tasks.Wait()
		for i, it := range u.tabs.Items {
			u.tabs.SelectIndex(i)
			if m := windowMin(u); m.Width > smallest.Width || m.Height > smallest.Height {
				t.Errorf("%s, in %s, on %s: the window needs %.0f×%.0f; widest: %s", what, lang, it.Text, m.Width, m.Height,
					widestText(it.Content))
			}
			layOut(u)
			for _, cut := range cutOptions(it.Content) {
				t.Errorf("%s, in %s, on %s: %s", what, lang, it.Text, cut)
			}
		}
		if k := rawKey.FindString(texts(u.win.Content())); k != "" {
			t.Errorf("%s, in %s: %q shown", what, lang, k)
		}
	}
	u.tabs.SelectIndex(front)
}

// layOut lays the window out at 800×600 (twice: a label that wraps knows
// its height once laid out).
func layOut(u *UI) {
	u.win.Resize(smallest.Subtract(fyne.NewSquareSize(1)))
	u.win.Resize(smallest)
}

// cutOptions names the options of the choices shown in o that their
// choice, as laid out, cuts short.
func cutOptions(o fyne.CanvasObject) []string {
	var cut []string
	var visit func(o fyne.CanvasObject)
	visit = func(o fyne.CanvasObject) {
		if !o.Visible() {
			return
		}
		switch w := o.(type) {
		case *widget.Select:
			// What a choice keeps for its words (as fyne's select lays
			// itself out): three inner paddings, the arrow and one more.
			pad := theme.InnerPadding()
			room := w.Size().Width - 4*pad - theme.IconInlineSize()
			for _, opt := range w.Options {
				if fyne.MeasureText(opt, theme.TextSize(), fyne.TextStyle{}).Width > room+0.5 {
					cut = append(cut, fmt.Sprintf("the choice %.0f wide cuts %q short", w.Size().Width, opt))
				}
			}
			return
		case *fyne.Container:
			for _, c := range w.Objects {
				visit(c)
			}
		case *widget.Form:
			for _, it := range w.Items {
				visit(it.Widget)
			}
		case fyne.Widget:
			for _, c := range test.WidgetRenderer(w).Objects() {
				visit(c)
			}
		}
	}
	visit(o)
	return cut
}

// widestText names what widens a screen: the widest of its buttons,
// choices and labels that neither wrap nor cut their words short.
func widestText(o fyne.CanvasObject) string {
	var found string
	var width float32
	walk(o, func(o fyne.CanvasObject) {
		text := ""
		switch w := o.(type) {
		case *widget.Label:
			if w.Wrapping == fyne.TextWrapOff && w.Truncation == fyne.TextTruncateOff {
				text = "label " + w.Text
			}
		case *widget.Button:
			text = "button " + w.Text
		case *widget.Check:
			text = "check " + w.Text
		case *widget.Select:
			text = "choice " + w.Selected
		case *fyne.Container:
			if len(w.Objects) > 1 && w.Layout != nil && fmt.Sprintf("%T", w.Layout) == "*layout.boxLayout" {
				text = fmt.Sprintf("box of %d", len(w.Objects))
			}
		}
		if text != "" && o.MinSize().Width > width {
			found, width = text, o.MinSize().Width
		}
	})
	return fmt.Sprintf("%q (%.0f)", found, width)
}

// fitsWizard is fits for the activation wizard's step on the window.
func fitsWizard(t *testing.T, u *UI, what string) {
	t.Helper()
	if m := windowMin(u); m.Width > smallest.Width || m.Height > smallest.Height {
		t.Errorf("activation, %s, in %s: the window needs %.0f×%.0f", what, u.p.Lang, m.Width, m.Height)
	}
	if k := rawKey.FindString(texts(u.win.Content())); k != "" {
		t.Errorf("activation, %s, in %s: %q shown", what, u.p.Lang, k)
	}
}

// longName is a realistic file name of 120 characters.
const longName = "2026-12-01 Acte de vente Dupont-Martin, lot 12, annexe 3 (plan cadastral, servitudes et réserves du vendeur), final2.pdf"

// A file with a 120-character name, and every option of every screen
// toggled: the window never needs more than 800×600, in any language
// (acceptance 2 of issue 14). fyne's desktop driver grows a window to its
// content's least size, past the screen when it is larger.
func TestEveryScreenFits800x600(t *testing.T) {
	testenv.Slow(t, "every screen in three languages, three activations")
	if len([]rune(longName)) != 120 {
		t.Fatalf("the long name has %d characters", len([]rune(longName)))
	}
	c := testenv.StartCA(t, ca.InitOptions{})
	u := newUI(t, c.Policy)
	u.app.Settings().SetTheme(theme.DefaultTheme()) // the sizes of the real app
	fits(t, u, "at first start")
	activateInEveryLanguage(t, u, c)
	fits(t, u, "with three certificates")
	now := u.opt.Now
	u.opt.Now = func() time.Time { return u.certs[0].Certificate().NotAfter.Add(-10 * 24 * time.Hour) }
	u.home.refresh()
	fits(t, u, "certificates about to expire")
	u.opt.Now = now
	u.home.refresh()

	deed, err := os.ReadFile(filepath.Join("..", "assets", "demo", "deed.pdf"))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	long := filepath.Join(dir, longName)
	os.WriteFile(long, deed, 0o644)
	s := u.signer
	s.add(long)
	fits(t, u, "a file with a long name")
	s.visible.SetChecked(true)
	u.tasks.Wait()
	fits(t, u, "visible signature")
	for i := range corners {
		s.corner.SetSelectedIndex(i)
		u.tasks.Wait()
		fits(t, u, "corner "+string(corners[i]))
	}
	page := s.view.pages[0]
	test.TapAt(page, fyne.NewPos(page.Size().Width/2, page.Size().Height/10)) // over the deed's title
	u.tasks.Wait()
	if !s.covers.Visible() {
		t.Error("a stamp over the deed's title is not warned about")
	}
	fits(t, u, "a place tapped, over the text")
	for i := range levels {
		s.level.SetSelectedIndex(i)
		fits(t, u, "level "+string(levels[i]))
	}
	for _, page := range []string{"x", "99", "2"} {
		s.page.SetText(page)
		u.tasks.Wait()
		fits(t, u, "page "+page)
	}
	s.reason.SetText(strings.Repeat("Acte authentique de vente ", 8))
	s.location.SetText(strings.Repeat("Paris ", 30))
	fits(t, u, "a long reason and place")
	signedAndVerified(t, u, dir, deed)

	s.visible.SetChecked(false)
	fits(t, u, "invisible signature")
	s.clear()
	fits(t, u, "after Clear")
	u.doctor.run()
	u.tasks.Wait()
	fits(t, u, "the diagnostics' report")
}

// activateInEveryLanguage goes through activation in each language,
// looking at every step.
func activateInEveryLanguage(t *testing.T, u *UI, c *testenv.CA) {
	t.Helper()
	for _, lang := range languages {
		u.prefs.language.SetSelected(lang)
		w := enterCode(t, u, c.Enroll(t))
		fitsWizard(t, u, "questions")
		for i, a := range testenv.Answers {
			test.Type(w.answers[i], a)
		}
		test.Tap(w.primary)
		fitsWizard(t, u, "store")
		test.Tap(w.primary)
		test.Type(w.pin, testPIN)
		test.Type(w.pin2, testPIN)
		fitsWizard(t, u, "PIN")
		test.Tap(w.primary)
		u.tasks.Wait()
		if w.key == nil {
			t.Fatalf("activation in %s: %+v", lang, w.failed)
		}
		fitsWizard(t, u, "done")
		w.close()
	}
}

// signedAndVerified signs the long-named file and a damaged copy under a
// long name too (left out: its row says why), and verifies the signed copy
// and an unsigned file.
func signedAndVerified(t *testing.T, u *UI, dir string, deed []byte) {
	t.Helper()
	s := u.signer
	cut := filepath.Join(dir, "cut "+longName)
	os.WriteFile(cut, deed[:len(deed)/2], 0o644)
	s.add(cut)
	s.level.SetSelectedIndex(0) // B-B
	test.Tap(s.signBtn)
	u.tasks.Wait()
	if s.coverAsk != nil {
		s.coverAsk.Confirm() // over the title, as chosen
	}
	s.repair.Dismiss() // left out
	test.Type(u.pinEntry, testPIN)
	u.pinDialog.Submit()
	u.tasks.Wait()
	if !s.files[0].ok || s.files[1].ok {
		t.Fatalf("signed: %q; damaged: %q", s.files[0].status.Text, s.files[1].status.Text)
	}
	fits(t, u, "a batch signed, one file refused")

	test.Tap(s.files[0].actions.Objects[1].(*widget.Button)) // Verify
	u.tasks.Wait()
	if u.verifier.report == nil {
		t.Fatalf("not verified: %v", u.verifier.err)
	}
	fits(t, u, "the signed copy verified")
	u.verifier.open(filepath.Join(dir, longName))
	u.tasks.Wait()
	fits(t, u, "an unsigned file verified")
}

// The demo CA's card, offered and then running, fits too.
func TestDemoFits800x600(t *testing.T) {
	u := newUI(t, filepath.Join(t.TempDir(), "none.json"))
	u.app.Settings().SetTheme(theme.DefaultTheme())
	fits(t, u, "the demo offered")
	test.Tap(findButton(t, u.home.content, u.T("app.demo.start")))
	u.tasks.Wait()
	if u.demo == nil {
		t.Fatalf("the demo did not start: %q", u.shown)
	}
	fits(t, u, "the demo running")
}
