package app

import (
	"image/png"
	"os"
	"path/filepath"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"
)

// TestScreenshots takes the pictures of docs/screenshots: every screen of
// a newcomer's journey with the demo CA (start it, activate, sign the
// demo deed and a long-named copy visibly, verify, diagnose, settings), in
// a window of 800×600, in English, French and Italian, drawn by fyne's
// software painter from the real screens. It runs only when
// PARAPHE_SCREENSHOTS names the folder to write them to (make
// screenshots); scripts/screenshots.sh also checks the real window under
// Xvfb.
func TestScreenshots(t *testing.T) {
	out := os.Getenv("PARAPHE_SCREENSHOTS")
	if out == "" {
		t.Skip("PARAPHE_SCREENSHOTS is not set")
	}
	for _, lang := range []string{"en", "fr", "it"} {
		t.Run(lang, func(t *testing.T) {
			dir := filepath.Join(out, lang)
			if err := os.MkdirAll(dir, 0o755); err != nil {
				t.Fatal(err)
			}
			u := newUI(t, filepath.Join(t.TempDir(), "none.json"))
			u.app.Settings().SetTheme(theme.LightTheme()) // reads better in a README
			u.prefs.language.SetSelected(languageNames[lang])
			u.win.Resize(smallest)
			shot := func(name string) {
				t.Helper()
				// Twice: a label that wraps knows its height once laid out.
				u.win.Resize(smallest.Subtract(fyne.NewSquareSize(1)))
				u.win.Resize(smallest)
				f, err := os.Create(filepath.Join(dir, name+".png"))
				if err != nil {
					t.Fatal(err)
				}
				defer f.Close()
				enc := png.Encoder{CompressionLevel: png.BestCompression}
				if err := enc.Encode(f, u.win.Canvas().Capture()); err != nil {
					t.Fatal(err)
				}
			}
			demoJourney(t, u, shot)
			signJourney(t, u, shot, map[string]string{"en": "Sale deed", "fr": "Acte de vente", "it": "Atto di vendita"}[lang])
		})
	}
}

// demoJourney starts the demo CA and activates its certificate.
func demoJourney(t *testing.T, u *UI, shot func(string)) {
	t.Helper()
	shot("01-home-demo")
	test.Tap(findButton(t, u.home.content, u.T("app.demo.start")))
	u.tasks.Wait()
	if u.demo == nil {
		t.Fatalf("the demo did not start: %q", u.shown)
	}
	shot("02-demo-running")
	test.Tap(findButton(t, u.home.content, u.T("app.demo.activate")))
	w := u.activation
	shot("03-activate-code")
	test.Tap(w.primary)
	u.tasks.Wait()
	for i, a := range u.demo.Answers() {
		test.Type(w.answers[i], a)
	}
	shot("04-activate-questions")
	test.Tap(w.primary)
	shot("05-activate-store")
	test.Tap(w.primary)
	test.Type(w.pin, testPIN)
	test.Type(w.pin2, testPIN[:len(testPIN)-3])
	shot("06-activate-pin")
	test.Type(w.pin2, testPIN[len(testPIN)-3:])
	test.Tap(w.primary)
	u.tasks.Wait()
	if w.key == nil {
		t.Fatalf("demo activation: %+v", w.failed)
	}
	shot("07-activate-done")
	test.Tap(w.primary) // Sign a document
}

// signJourney signs the demo deed and a copy with a long name, visibly,
// then verifies, diagnoses and shows the settings and the home screen.
func signJourney(t *testing.T, u *UI, shot func(string), reason string) {
	t.Helper()
	s := u.signer
	deed, err := demoDeed()
	if err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(deed)
	long := filepath.Join(filepath.Dir(deed), longName)
	os.WriteFile(long, data, 0o644)
	s.add(deed, long)
	s.visible.SetChecked(true)
	s.reason.SetText(reason)
	s.location.SetText("Paris")
	u.tasks.Wait()
	u.win.Resize(smallest)
	page := s.view.pages[0]
	test.TapAt(page, fyne.NewPos(page.Size().Width/2, page.Size().Height/10)) // over the title
	u.tasks.Wait()
	shot("08-sign-covers")
	s.corner.SetSelectedIndex(0) // bottom right, where nothing is
	u.tasks.Wait()
	shot("09-sign")
	test.Tap(s.signBtn)
	u.tasks.Wait()
	shot("10-sign-pin")
	test.Type(u.pinEntry, testPIN)
	u.pinDialog.Submit()
	u.tasks.Wait()
	shot("11-signed")
	test.Tap(s.files[0].actions.Objects[1].(*widget.Button)) // Verify
	u.tasks.Wait()
	test.Tap(findButton(t, u.verifier.content, u.T("app.verify.show"))) // its outline in view
	u.tasks.Wait()
	shot("12-verify")
	u.tabs.SelectIndex(3)
	u.doctor.run()
	u.tasks.Wait()
	shot("13-diagnostics")
	u.tabs.SelectIndex(4)
	shot("14-settings")
	u.tabs.SelectIndex(0)
	shot("15-home")
}
