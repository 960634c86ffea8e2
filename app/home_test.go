package app

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"

	"github.com/paraphe/paraphe/ca"
	"github.com/paraphe/paraphe/internal/testenv"
	"github.com/paraphe/paraphe/pdf"
)

// activateButtons counts the ways home offers to activate a certificate.
func activateButtons(u *UI) int {
	n := 0
	walk(u.home.content, func(o fyne.CanvasObject) {
		if b, ok := o.(*button); ok && b.Visible() && (b.Text == u.T("app.home.activate") || b.Text == u.T("app.demo.activate")) {
			n++
		}
	})
	return n
}

// Home offers one way to activate, or none where nothing can be activated
// yet (no CA to ask before the demo starts).
func TestHomeOffersOneActivation(t *testing.T) {
	u := newUI(t, filepath.Join(t.TempDir(), "none.json"))
	if n := activateButtons(u); n != 0 {
		t.Fatalf("no CA yet: %d Activate buttons", n)
	}
	test.Tap(findButton(t, u.home.content, u.T("app.demo.start")))
	u.tasks.Wait()
	if n := activateButtons(u); n != 1 || !strings.Contains(texts(u.home.content), "["+u.T("app.demo.activate")+"]") {
		t.Fatalf("the demo running: %d Activate buttons\n%s", n, texts(u.home.content))
	}

	c := testenv.StartCA(t, ca.InitOptions{})
	u = newUI(t, c.Policy)
	if n := activateButtons(u); n != 1 {
		t.Fatalf("no certificate yet: %d Activate buttons", n)
	}
	activate(t, u, c.Enroll(t), testenv.Answers).close()
	if n := activateButtons(u); n != 1 || !u.home.activate.Visible() {
		t.Fatalf("with a certificate: %d Activate buttons", n)
	}
}

// Reopened after the demo certificate was activated, the app starts the
// demo CA again when signing needs it (a time-stamp), without losing the
// batch, and signs.
func TestDemoStartsAgainAfterReopening(t *testing.T) {
	u := newUI(t, filepath.Join(t.TempDir(), "none.json"))
	test.Tap(findButton(t, u.home.content, u.T("app.demo.start")))
	u.tasks.Wait()
	answerDemo(t, u, enterCode(t, u, u.demo.Code()))
	u.Close() // the app is closed: the demo CA stops

	u = New(test.NewTempApp(t), Options{Version: "test", StartDemo: startDemo})
	drive(u)
	t.Cleanup(u.Close)
	if u.demo != nil || len(u.certs) != 1 {
		t.Fatalf("reopened: demo running %v, %d certificates", u.demo != nil, len(u.certs))
	}
	in := deedToSign(t, u)
	s := u.signer
	u.show(s.content)
	s.level.SetSelectedIndex(1) // B-T: the demo's time-stamps
	s.reason.SetText("Vente")
	test.Tap(s.signBtn)
	u.tasks.Wait()
	if u.demo == nil || u.pinDialog == nil {
		t.Fatalf("signing after reopening: demo running %v, shown %q", u.demo != nil, u.shown)
	}
	if u.signer != s || s.reason.Text != "Vente" || u.tabs.Selected().Content != s.content {
		t.Fatal("starting the demo again rebuilt the Sign screen")
	}
	test.Type(u.pinEntry, testPIN)
	u.pinDialog.Submit()
	u.tasks.Wait()
	if !s.files[0].ok {
		t.Fatalf("not signed: %s", s.files[0].status.Text)
	}
	rep, err := pdf.Verify(context.Background(), pdf.OutputName(in), pdf.VerifyOptions{})
	if err != nil || rep.Signatures[0].Level != pdf.LevelT {
		t.Fatalf("the signed copy: %v, %+v", err, rep)
	}
	if got := texts(u.home.content); !strings.Contains(got, u.T("app.demo.activated")) || strings.Contains(got, u.demo.Code()) {
		t.Fatalf("home offers the demo code again:\n%s", got)
	}
}

// When every file of the batch has its signed copy already, no PIN is
// asked: each row says so, and what to do.
func TestSignedCopiesCheckedBeforeThePIN(t *testing.T) {
	u, _ := readyToSign(t)
	if !signDeed(t, u, testPIN) {
		t.Fatal("first signing failed")
	}
	u.pinDialog = nil
	test.Tap(u.signer.signBtn) // the same file again
	u.tasks.Wait()
	if u.pinDialog != nil || u.shown != u.T("app.sign.all_signed") {
		t.Fatalf("the PIN is asked for nothing (shown %q)", u.shown)
	}
	if got := u.signer.files[0].status.Text; !strings.Contains(got, "already exists") {
		t.Fatalf("the row says %q", got)
	}
}
