package app

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"github.com/paraphe/paraphe/ca"
	"github.com/paraphe/paraphe/config"
	"github.com/paraphe/paraphe/internal/demo"
	"github.com/paraphe/paraphe/internal/explain"
	"github.com/paraphe/paraphe/internal/i18n"
	"github.com/paraphe/paraphe/internal/testenv"
	"github.com/paraphe/paraphe/netcheck"
	"github.com/paraphe/paraphe/pdf"
)

// These tests drive the screens as a user would (typing, tapping), against
// a real paraphe-ca on loopback and keys in a real Secret Service keychain,
// and assert on what the widgets then show.

func TestMain(m *testing.M) {
	// paraphe-exchange, for "Send securely", is built before the Secret
	// Service moves HOME (and with it the build cache).
	dir, err := os.MkdirTemp("", "paraphe-exchange-bin-")
	if err != nil {
		panic(err)
	}
	if out, err := exec.Command("go", "build", "-o", dir+string(os.PathSeparator), "github.com/paraphe/paraphe/cmd/paraphe-exchange").CombinedOutput(); err != nil {
		exchangeErr = fmt.Sprintf("go build paraphe-exchange: %v\n%s", err, out)
	}
	exchangeBin = filepath.Join(dir, "paraphe-exchange")
	// paraphe-ca too, for a remote signature's CA (remote_test.go).
	if out, err := exec.Command("go", "build", "-o", dir+string(os.PathSeparator), "github.com/paraphe/paraphe/cmd/paraphe-ca").CombinedOutput(); err != nil {
		caErr = fmt.Sprintf("go build paraphe-ca: %v\n%s", err, out)
	}
	caBin = filepath.Join(dir, "paraphe-ca")
	code := testenv.MainWithSecretService(m)
	os.RemoveAll(dir)
	os.Exit(code)
}

// exchangeBin is the paraphe-exchange TestMain built (exchangeErr says why not).
var exchangeBin, exchangeErr string

// caBin is the paraphe-ca TestMain built (caErr says why not).
var caBin, caErr string

const testPIN = "Sup3r-Secret!"

// testCache is the user's cache folder as it was before TestMain moved
// HOME (package variables are set first): the page renderer's compiled
// code kept there between runs spares each run its compilation.
var testCache = func() string {
	if dir := os.Getenv("PARAPHE_TEST_CACHE"); dir != "" { // a test's child process
		return dir
	}
	dir, err := os.UserCacheDir()
	if err != nil {
		return os.TempDir()
	}
	return filepath.Join(dir, "paraphe-test")
}()

// newUI opens the app in English with its own Paraphe folder and policy.
func newUI(t *testing.T, policy string) *UI {
	t.Helper()
	testenv.NeedSecretService(t)
	t.Setenv("PARAPHE_HOME", t.TempDir())
	t.Setenv("PARAPHE_POLICY", policy)
	t.Setenv("PARAPHE_LANG", "en")
	t.Setenv("XDG_CACHE_HOME", testCache)
	u := New(test.NewTempApp(t), Options{Version: "test", StartDemo: startDemo})
	drive(u)
	t.Cleanup(u.Close)
	// What the screens start as they are built (the trusted lists'
	// summary) is over before the test acts: a language switch meanwhile
	// would be refused as work under way.
	u.tasks.Wait()
	return u
}

// drive makes the test's goroutine the window's, as under the real driver
// (see taskGroup): it holds the answers' lock, and lets the answers of
// background work run only while it waits for that work (u.tasks.Wait) or
// for something the answers bring (awaiting). Every test's UI is driven.
func drive(u *UI) {
	u.answers.Lock()
	u.tasks.held = &u.answers
}

// awaiting runs wait (a receive from a channel an answer fills, a browser's
// steps that reach the bridge) with the answers of background work let
// through, as a user waits for the window to change.
func awaiting(u *UI, wait func()) { u.tasks.unheld(wait) }

// startDemo is the demo CA cmd/paraphe hands the app: internal/demo's, in
// the user's Paraphe folder, its ports being taken said as ErrDemoBusy.
func startDemo(p *i18n.Printer) (DemoCA, error) {
	dir, err := demo.Dir()
	if err != nil {
		return nil, err
	}
	c, err := demo.Start(dir, p, nil)
	if errors.Is(err, demo.ErrBusy) {
		return nil, fmt.Errorf("%w: %w", ErrDemoBusy, err)
	}
	if err != nil {
		return nil, err
	}
	return c, nil
}

// walk calls fn on o and everything inside it, as laid out for the user.
func walk(o fyne.CanvasObject, fn func(fyne.CanvasObject)) {
	fn(o)
	switch w := o.(type) {
	case *widget.Card:
		if w.Content != nil {
			walk(w.Content, fn)
		}
	case *widget.Form:
		for _, it := range w.Items {
			walk(it.Widget, fn)
		}
	case *fyne.Container:
		for _, c := range w.Objects {
			walk(c, fn)
		}
	case fyne.Widget:
		for _, c := range test.WidgetRenderer(w).Objects() {
			walk(c, fn)
		}
	}
}

// texts is every label and button text in o, for assertions on what the
// user sees.
func texts(o fyne.CanvasObject) string {
	var b strings.Builder
	walk(o, func(o fyne.CanvasObject) {
		switch w := o.(type) {
		case *widget.Label:
			b.WriteString(w.Text + "\n")
		case *tipLabel:
			b.WriteString(w.Text + "\n")
		case *widget.Button:
			b.WriteString("[" + w.Text + "]\n")
		case *button:
			b.WriteString("[" + w.Text + "]\n")
		case *widget.Card:
			b.WriteString(w.Title + "\n" + w.Subtitle + "\n")
		case *widget.Form:
			for _, it := range w.Items {
				b.WriteString(it.Text + "\n")
			}
		}
	})
	return b.String()
}

// enterCode opens the wizard, types code and asks the CA for the questions.
func enterCode(t *testing.T, u *UI, code string) *activateWizard {
	t.Helper()
	u.home.startActivation()
	w := u.activation
	if !w.codeNext.Disabled() {
		t.Fatal("Next is enabled before a code is typed")
	}
	test.Type(w.code, code)
	if w.codeNext.Disabled() {
		t.Fatalf("a valid code is refused: %q", w.codeInfo.Text)
	}
	test.Tap(w.primary)
	u.tasks.Wait()
	return w
}

// activate goes through the wizard with the holder's code and answers.
func activate(t *testing.T, u *UI, code string, answers []string) *activateWizard {
	t.Helper()
	w := enterCode(t, u, code)
	if len(w.answers) != 3 {
		t.Fatalf("questions not shown: %s", texts(w.content))
	}
	for i, a := range answers {
		test.Type(w.answers[i], a)
	}
	test.Tap(w.primary) // → store
	if w.storeChoice.Selected != u.T("app.act.store.keychain") {
		t.Fatalf("default store: %q", w.storeChoice.Selected)
	}
	test.Tap(w.primary) // → PIN
	test.Type(w.pin, "short")
	if !w.pinNext.Disabled() || !strings.Contains(w.pinInfo.Text, "too short") {
		t.Fatalf("a short PIN is accepted: %q", w.pinInfo.Text)
	}
	w.pin.SetText("")
	test.Type(w.pin, testPIN)
	if !strings.Contains(w.pinInfo.Text, "differ") || !w.pinNext.Disabled() {
		t.Fatalf("unconfirmed PIN: %q", w.pinInfo.Text)
	}
	test.Type(w.pin2, testPIN)
	if w.pinNext.Disabled() {
		t.Fatalf("a good PIN is refused: %q", w.pinInfo.Text)
	}
	test.Tap(w.primary)
	u.tasks.Wait()
	return w
}

func TestActivateSignVerifyDiagnose(t *testing.T) {
	c := testenv.StartCA(t, ca.InitOptions{})
	code := c.Enroll(t)
	u := newUI(t, c.Policy)
	if got := texts(u.home.content); !strings.Contains(got, u.T("app.home.empty_title")) {
		t.Fatalf("home without certificates does not lead to activation:\n%s", got)
	}

	w := activate(t, u, code, testenv.Answers)
	if w.key == nil {
		t.Fatalf("activation failed: %+v\n%s", w.failed, texts(w.content))
	}
	if got := texts(w.content); !strings.Contains(got, "Marie Dupont") || !strings.Contains(got, "75-1234") {
		t.Fatalf("done page:\n%s", got)
	}
	test.Tap(w.primary) // "Sign a document"
	if u.win.Content() != u.tabs || u.tabs.Selected().Content != u.signer.content {
		t.Fatal("Sign a document does not lead to the sign screen")
	}
	home := texts(u.home.content)
	if !strings.Contains(home, "Marie Dupont") || !strings.Contains(home, "Notaire") || !strings.Contains(home, "keychain") {
		t.Fatalf("home does not list the certificate:\n%s", home)
	}
	if u.settings.DefaultCert != w.key.ID {
		t.Fatal("the first certificate is not the default")
	}

	row, stamp := signDeedVisibly(t, u)
	verifySigned(t, u, row, stamp)
	diagnoseWorking(t, u)
}

// signDeedVisibly signs a copy of the demo deed on the sign screen,
// visibly, with a time-stamp, the stamp placed by a tap on the page;
// it returns the file's row and where the stamp was placed.
func signDeedVisibly(t *testing.T, u *UI) (*signRow, [4]float64) {
	t.Helper()
	deed, err := os.ReadFile(filepath.Join("..", "assets", "demo", "deed.pdf"))
	if err != nil {
		t.Fatal(err)
	}
	in := filepath.Join(t.TempDir(), "deed.pdf")
	os.WriteFile(in, deed, 0o644)
	s := u.signer
	s.add(in, in)
	if len(s.files) != 1 {
		t.Fatalf("the same file twice in the batch: %d", len(s.files))
	}
	s.visible.SetChecked(true)
	u.tasks.Wait()
	if len(s.view.pages) == 0 || s.stamp == nil || !strings.Contains(s.pageInfo.Text, "page 1 of") {
		t.Fatalf("no page preview: %q", s.pageInfo.Text)
	}
	// A tap on the page's upper left quarter puts the stamp there.
	page := s.view.pages[0]
	w, h := page.geo.Size()
	test.TapAt(page, fyne.NewPos(page.Size().Width/5, page.Size().Height/7))
	u.tasks.Wait()
	if s.custom == nil || s.custom[1] < h/2 || s.custom[0] > w/2 || s.stamp.rect != *s.custom {
		t.Fatalf("the tap placed the stamp at %v", s.custom)
	}
	s.corner.SetSelectedIndex(3) // top left
	if s.custom != nil {
		t.Fatal("choosing a corner keeps the tapped place")
	}
	test.TapAt(page, fyne.NewPos(page.Size().Width/2, page.Size().Height*0.95)) // bottom middle
	u.tasks.Wait()
	want := *s.custom
	s.reason.SetText("Acte authentique")
	test.Tap(s.signBtn)
	u.tasks.Wait() // the files are looked at before the PIN is asked
	test.Type(u.pinEntry, testPIN)
	u.pinDialog.Submit()
	u.tasks.Wait()
	row := s.files[0]
	if !row.ok {
		t.Fatalf("not signed: %s", row.status.Text)
	}
	if got, _ := os.ReadFile(in); !bytes.Equal(got, deed) {
		t.Fatal("the original was changed")
	}
	if s.overall.Value != 1 || !strings.Contains(row.status.Text, "deed-signed.pdf") {
		t.Fatalf("progress %v, status %q", s.overall.Value, row.status.Text)
	}

	return row, want
}

// verifySigned follows "Verify" on a signed file's row: it opens the
// verification of the signed copy, valid, with its stamp where it was
// placed, said in plain words.
func verifySigned(t *testing.T, u *UI, row *signRow, want [4]float64) {
	t.Helper()
	test.Tap(row.actions.Objects[1].(*widget.Button))
	u.tasks.Wait()
	if u.tabs.Selected().Content != u.verifier.content || u.verifier.report == nil {
		t.Fatal("Verify does not verify the signed file")
	}
	sig := u.verifier.report.Signatures[0]
	if !sig.Valid() || sig.Level != pdf.LevelT || sig.Reason != "Acte authentique" {
		t.Fatalf("signature: %+v", sig)
	}
	signed, _ := os.ReadFile(row.out)
	if rect := fmt.Sprintf("/Rect [%g %g %g %g]", want[0], want[1], want[0]+want[2], want[1]+want[3]); !bytes.Contains(signed, []byte(rect)) {
		t.Fatalf("the stamp is not where it was placed: no %s", rect)
	}
	if got := texts(u.verifier.result); !strings.Contains(got, "VALID") || !strings.Contains(got, "Signed by Marie Dupont") {
		t.Fatalf("verification in plain words:\n%s", got)
	}

}

// diagnoseWorking runs the doctor, which finds everything working and
// can export its report.
func diagnoseWorking(t *testing.T, u *UI) {
	t.Helper()
	u.doctor.run()
	u.tasks.Wait()
	rep := u.doctor.report
	if rep == nil || rep.Verdict == netcheck.Blocked || len(rep.Findings) < 5 {
		t.Fatalf("doctor: %+v", rep)
	}
	if u.doctor.verdict.Text != u.T("doctor.verdict."+string(rep.Verdict)) || !u.doctor.exports.Visible() {
		t.Fatalf("verdict %q, exports visible %v", u.doctor.verdict.Text, u.doctor.exports.Visible())
	}
	// The findings of a real run, said in words.
	got := texts(u.doctor.list)
	for _, raw := range []string{"OCSP good", "OCSP unknown", "(keychain)", "admin=", "arch=", "TLS_", "[", u.settings.DefaultCert} {
		if strings.Contains(got, raw) {
			t.Errorf("the findings show %q:\n%s", raw, got)
		}
	}
	report := filepath.Join(t.TempDir(), "paraphe-doctor.html")
	u.doctor.saved(report) // the file dialog's answer
	if !strings.Contains(u.shown, report) {
		t.Fatalf("saving the report is not confirmed: %q", u.shown)
	}
	u.doctor.copy()
	if clip := u.app.Clipboard().Content(); !strings.Contains(clip, u.T("doctor.verdict."+string(rep.Verdict))) || !u.doctor.note.Visible() {
		t.Fatalf("clipboard: %q (said: %v)", clip, u.doctor.note.Visible())
	}
}

func TestWrongAnswersStayOnQuestions(t *testing.T) {
	c := testenv.StartCA(t, ca.InitOptions{})
	u := newUI(t, c.Policy)
	w := activate(t, u, c.Enroll(t), []string{"Lyon", "Médor", "Jules Ferry"})
	if w.key != nil {
		t.Fatal("activated with wrong answers")
	}
	got := texts(w.content)
	if w.title.Text != u.T("app.act.title_questions") || strings.Count(got, "4 attempts left") != 1 {
		t.Fatalf("wrong answers do not lead back to the questions with the attempts left, said once:\n%s", got)
	}
}

func TestUnreachableCAOffersDoctor(t *testing.T) {
	c := testenv.StartCA(t, ca.InitOptions{})
	// The same CA at a port where nothing listens.
	data, _ := config.PolicyFor("https://127.0.0.1:1", ca.Fingerprint(c.Root))
	path := filepath.Join(t.TempDir(), "policy.json")
	os.WriteFile(path, data, 0o644)
	u := newUI(t, path)
	w := enterCode(t, u, c.Enroll(t))
	if w.failed == nil || w.failed.msg != sentence(u.T("err.unreachable")) {
		t.Fatalf("failure: %+v", w.failed)
	}
	if !strings.Contains(texts(w.content), "["+u.T("app.act.run_doctor")+"]") {
		t.Fatalf("the doctor is not offered:\n%s", texts(w.content))
	}
}

func TestLanguageSwitch(t *testing.T) {
	c := testenv.StartCA(t, ca.InitOptions{})
	u := newUI(t, c.Policy)
	// The usual signature, set in Settings, is what signing starts with.
	u.prefs.visible.SetChecked(true)
	u.prefs.level.SetSelectedIndex(2)
	u.prefs.reason.SetText("Acte authentique")
	if !u.signer.visible.Checked || u.signer.level.SelectedIndex() != 2 || u.signer.reason.Text != "Acte authentique" {
		t.Fatal("the usual signature does not apply to the Sign screen")
	}
	u.tabs.SelectIndex(4)
	u.prefs.language.SetSelected("Français")
	if u.tabs.Items[0].Text != "Certificats" || u.tabs.SelectedIndex() != 4 {
		t.Fatalf("after switching to French: tab %q, selected %d", u.tabs.Items[0].Text, u.tabs.SelectedIndex())
	}
	if s, _ := config.LoadSettings(); s.Language != "fr" || !s.Signature.Visible || s.Signature.Level != "B-LT" {
		t.Fatalf("the choices are not saved: %+v", s)
	}
	if !u.signer.visible.Checked || u.signer.reason.Text != "Acte authentique" {
		t.Fatal("the rebuilt Sign screen forgot the usual signature")
	}
	u.prefs.language.SetSelected("Italiano")
	if u.tabs.Items[1].Text != i18n.New("it").T("app.tab.sign") {
		t.Fatalf("after switching to Italian: %q", u.tabs.Items[1].Text)
	}
}

func TestDemoCA(t *testing.T) {
	u := newUI(t, filepath.Join(t.TempDir(), "none.json"))
	if !strings.Contains(texts(u.home.content), u.T("app.demo.title")) {
		t.Fatalf("no demo offered without a policy:\n%s", texts(u.home.content))
	}
	start := findButton(t, u.home.content, u.T("app.demo.start"))
	test.Tap(start)
	u.tasks.Wait()
	if u.demo == nil {
		t.Fatal("the demo CA did not start")
	}
	if got := texts(u.home.content); !strings.Contains(got, u.demo.Code()) || !strings.Contains(got, "Montréal") {
		t.Fatalf("the demo card does not show the code and answers:\n%s", got)
	}
	test.Tap(findButton(t, u.home.content, u.T("app.demo.activate")))
	w := u.activation
	if w.code.Text != u.demo.Code() || w.codeNext.Disabled() {
		t.Fatalf("the demo code is not filled in: %q", w.code.Text)
	}
	test.Tap(w.primary)
	u.tasks.Wait()
	answerDemo(t, u, w)
	if got := texts(u.home.content); strings.Contains(got, u.demo.Code()) || !strings.Contains(got, u.T("app.demo.activated")) {
		t.Fatalf("the used demo code is still offered:\n%s", got)
	}
	// The demo deed, ready to sign, without looking for a PDF.
	test.Tap(findButton(t, u.home.content, u.T("app.demo.sign_deed")))
	if u.tabs.Selected().Content != u.signer.content || len(u.signer.files) != 1 || !strings.HasPrefix(filepath.Base(u.signer.files[0].in), "deed-") {
		t.Fatalf("the demo deed is not offered for signing: %d files", len(u.signer.files))
	}
	if got := texts(u.home.content); !strings.Contains(got, u.signer.files[0].in) {
		t.Fatalf("the demo deed's full path is not said:\n%s", got)
	}
	if !signDeed(t, u, testPIN) {
		t.Fatalf("signing in the demo: %s", u.signer.files[0].status.Text)
	}
}

// The demo already running elsewhere (another window) is said as such,
// and the demo can be started again.
func TestDemoCABusy(t *testing.T) {
	u := newUI(t, filepath.Join(t.TempDir(), "none.json"))
	dir, err := demo.Dir()
	if err != nil {
		t.Fatal(err)
	}
	other, err := demo.Start(dir, u.p, nil)
	if err != nil {
		t.Fatal(err)
	}
	start := findButton(t, u.home.content, u.T("app.demo.start"))
	test.Tap(start)
	u.tasks.Wait()
	if u.demo != nil || u.shown != u.T("app.demo.busy") || start.Disabled() {
		other.Stop()
		t.Fatalf("a busy demo: running %v, shown %q, start disabled %v", u.demo != nil, u.shown, start.Disabled())
	}
	other.Stop()
	test.Tap(start)
	u.tasks.Wait()
	if u.demo == nil || u.demo.Policy().CA.URL != other.URL() {
		t.Fatalf("the demo after the other stopped: %v, shown %q", u.demo, u.shown)
	}
}

// answerDemo answers the demo holder's questions shown by w, keeps the key
// in the keychain behind testPIN, and closes the wizard.
func answerDemo(t *testing.T, u *UI, w *activateWizard) {
	t.Helper()
	for i, a := range u.demo.Answers() {
		test.Type(w.answers[i], a)
	}
	test.Tap(w.primary) // → store
	test.Tap(w.primary) // → PIN
	test.Type(w.pin, testPIN)
	test.Type(w.pin2, testPIN)
	test.Tap(w.primary)
	u.tasks.Wait()
	if w.key == nil {
		t.Fatalf("demo activation: %+v", w.failed)
	}
	w.close()
}

func findButton(t *testing.T, o fyne.CanvasObject, text string) *widget.Button {
	t.Helper()
	var found *widget.Button
	walk(o, func(o fyne.CanvasObject) {
		switch b := o.(type) {
		case *widget.Button:
			if b.Text == text {
				found = b
			}
		case *button:
			if b.Text == text {
				found = &b.Button
			}
		}
	})
	if found == nil {
		t.Fatalf("no button %q in:\n%s", text, texts(o))
	}
	return found
}

// signDeed signs a copy of the demo deed with pin and reports whether it
// was signed.
func signDeed(t *testing.T, u *UI, pin string) bool {
	t.Helper()
	deed, err := os.ReadFile(filepath.Join("..", "assets", "demo", "deed.pdf"))
	if err != nil {
		t.Fatal(err)
	}
	in := filepath.Join(t.TempDir(), "deed.pdf")
	os.WriteFile(in, deed, 0o644)
	s := u.signer
	s.files = nil
	s.add(in)
	s.level.SetSelectedIndex(0) // B-B: no network needed
	test.Tap(s.signBtn)
	u.tasks.Wait() // the files are looked at before the PIN is asked
	test.Type(u.pinEntry, pin)
	u.pinDialog.Submit()
	u.tasks.Wait()
	return s.files[0].ok
}

func TestChangePIN(t *testing.T) {
	c := testenv.StartCA(t, ca.InitOptions{})
	u := newUI(t, c.Policy)
	activate(t, u, c.Enroll(t), testenv.Answers).close()
	test.Tap(findButton(t, u.home.content, u.T("app.home.change_pin")))
	d := u.pinChange
	test.Type(d.current, "Wrong-PIN-42")
	test.Type(d.chooser.pin, "New-Secret9?")
	if !d.confirm.Disabled() {
		t.Fatal("Change is enabled before the new PIN is confirmed")
	}
	test.Type(d.chooser.again, "New-Secret9?")
	test.Tap(d.confirm)
	u.tasks.Wait()
	// The dialog stays open, the current PIN emptied, with the tries left.
	if u.pinChange != d || !d.why.Visible() || !strings.Contains(d.why.Text, "Wrong PIN (4 tries left)") || d.current.Text != "" ||
		d.chooser.again.Text != "New-Secret9?" {
		t.Fatalf("a wrong current PIN: %q (shown %v), current %q", d.why.Text, d.why.Visible(), d.current.Text)
	}
	test.Type(d.current, testPIN)
	test.Tap(d.confirm)
	u.tasks.Wait()
	if u.shown != u.T("pin.changed.keychain") {
		t.Fatalf("after the change: %q", u.shown)
	}
	if signDeed(t, u, testPIN) || !signDeed(t, u, "New-Secret9?") {
		t.Fatal("the old PIN still signs, or the new one does not")
	}
}

// Activation onto a token (SoftHSM), then a blocked PIN unlocked with the
// PUK from the certificate's card.
func TestTokenActivationAndPUK(t *testing.T) {
	tok := testenv.NewToken(t, "card")
	c := testenv.StartCA(t, ca.InitOptions{})
	u := newUI(t, testenv.PolicyWith(t, c.Policy, func(p map[string]any) { p["pkcs11"] = map[string]any{"module": tok.Module} }))

	w := enterCode(t, u, c.Enroll(t))
	for i, a := range testenv.Answers {
		test.Type(w.answers[i], a)
	}
	test.Tap(w.primary)
	w.storeChoice.SetSelected(u.T("app.act.store.pkcs11"))
	u.tasks.Wait() // the module is asked in the background
	if w.tokenSelect.Selected == "" {
		t.Fatalf("the token is not offered: %q", w.tokenSelect.PlaceHolder)
	}
	test.Type(w.tokenPIN, tok.PIN)
	test.Tap(w.primary)
	u.tasks.Wait()
	if w.key == nil || config.Store(w.store.Name()) != config.StorePKCS11 {
		t.Fatalf("token activation: %+v", w.failed)
	}
	w.close()
	if !strings.Contains(texts(u.home.content), "token") {
		t.Fatalf("home:\n%s", texts(u.home.content))
	}

	test.Tap(findButton(t, u.home.content, u.T("app.home.unlock")))
	d := u.pinChange
	test.Type(d.current, tok.SOPIN)
	test.Type(d.chooser.pin, "24681357")
	test.Type(d.chooser.again, "24681357")
	test.Tap(d.confirm)
	u.tasks.Wait()
	if u.shown != u.T("pin.unlocked") {
		t.Fatalf("unlock: %q", u.shown)
	}
	if !signDeed(t, u, "24681357") {
		t.Fatalf("signing with the token's new PIN: %s", u.signer.files[0].status.Text)
	}
}

// Where the policy lets users set their own proxy, Settings offers it,
// refuses what the suite would not understand, and applies the rest at once.
func TestUserProxySetting(t *testing.T) {
	c := testenv.StartCA(t, ca.InitOptions{})
	u := newUI(t, testenv.PolicyWith(t, c.Policy, func(p map[string]any) { p["user_may"] = map[string]any{"proxy": true} }))
	var entry *widget.Entry
	walk(u.prefs.content, func(o fyne.CanvasObject) {
		if e, ok := o.(*field); ok && e.PlaceHolder == explain.Proxy(u.p, u.pol.Proxy) {
			entry = &e.Entry
		}
	})
	if entry == nil {
		t.Fatalf("no proxy entry in Settings:\n%s", texts(u.prefs.content))
	}
	save := findButton(t, u.prefs.content, u.T("app.settings.save"))
	test.Type(entry, "http://me:secret@proxy.example:3128")
	test.Tap(save)
	if u.shown != u.T("app.settings.bad_proxy") {
		t.Fatalf("a proxy with credentials is accepted: %q", u.shown)
	}
	entry.SetText("")
	test.Type(entry, "http://proxy.example:3128")
	test.Tap(save)
	if u.pol.Proxy != "http://proxy.example:3128" || u.pol.FromUser[0] != "proxy" {
		t.Fatalf("the user's proxy is not in force: %q %v", u.pol.Proxy, u.pol.FromUser)
	}
}
