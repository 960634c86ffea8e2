package app

import (
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"github.com/paraphe/paraphe/internal/i18n"
	"github.com/paraphe/paraphe/internal/testenv"
	"github.com/paraphe/paraphe/pdf"
)

// twoDocuments writes the demo deed (2 pages) as acte.pdf and a 4-page
// document made of it twice (by qpdf) as annexe.pdf.
func twoDocuments(t *testing.T) (acte, annexe string) {
	t.Helper()
	dir := t.TempDir()
	acte, annexe = filepath.Join(dir, "acte.pdf"), filepath.Join(dir, "annexe.pdf")
	deed, err := os.ReadFile(filepath.Join("..", "assets", "demo", "deed.pdf"))
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(acte, deed, 0o644)
	if out, err := exec.Command("qpdf", "--empty", "--pages", acte, acte, "--", annexe).CombinedOutput(); err != nil {
		t.Fatalf("qpdf: %v\n%s", err, out)
	}
	return acte, annexe
}

// previews fails unless the preview shows page n of the file named name,
// which has pages pages, drawn, the stamp on it, and says so in the
// user's language.
func previews(t *testing.T, u *UI, name string, n, pages int) {
	t.Helper()
	s := u.signer
	want := u.T("app.sign.page_of", "File", name, "Page", n, "Pages", pages)
	drawn := len(s.view.pages) >= n && s.view.pages[n-1].image.Image != nil
	if s.pageInfo.Text != want || len(s.view.pages) != pages || !drawn || s.stamp == nil || s.stamp.page != n-1 ||
		filepath.Base(s.selected.in) != name || filepath.Base(s.viewing) != name || s.shown.page != n {
		t.Fatalf("the preview of %s page %d: says %q, shows a document of %d pages (page drawn: %v, the stamp on it: %v)", name, n,
			s.pageInfo.Text, len(s.view.pages), drawn, s.stamp != nil && s.stamp.page == n-1)
	}
}

// previewEmpty fails unless the preview shows no document.
func previewEmpty(t *testing.T, s *signScreen) {
	t.Helper()
	if len(s.view.pages) != 0 || s.stamp != nil || s.view.scroll.Visible() {
		t.Fatalf("the preview still shows a document of %d pages (says %q)", len(s.view.pages), s.pageInfo.Text)
	}
}

// Clear, a second file selected, a language switch: the preview and every
// result are what the user expects, and the switch loses nothing
// (acceptance 3 of issue 14).
func TestClearSelectionAndLanguageKeepTheWork(t *testing.T) {
	testenv.Require(t, "qpdf")
	u, _ := readyToSign(t)
	acte, annexe := twoDocuments(t)
	s := u.signer
	s.visible.SetChecked(true)
	s.add(acte)
	u.tasks.Wait()
	previews(t, u, "acte.pdf", 1, 2)

	s.clear()
	u.tasks.Wait()
	previewEmpty(t, s)
	if s.pageInfo.Text != u.T("app.sign.preview_none") || s.covers.Visible() {
		t.Fatalf("after Clear the preview says %q", s.pageInfo.Text)
	}

	// Added, the first is shown; a click shows the other.
	s.add(acte, annexe)
	u.tasks.Wait()
	previews(t, u, "acte.pdf", 1, 2)
	test.Tap(s.files[1].box)
	u.tasks.Wait()
	previews(t, u, "annexe.pdf", 1, 4)
	if !s.files[1].box.selected || s.files[0].box.selected {
		t.Fatal("the row clicked is not the one marked")
	}
	s.page.SetText("3")
	u.tasks.Wait()
	previews(t, u, "annexe.pdf", 3, 4)
	// The deed has no page 3: its pages are shown without the stamp, and
	// it is said why.
	test.Tap(s.files[0].box)
	u.tasks.Wait()
	if filepath.Base(s.viewing) != "acte.pdf" || len(s.view.pages) != 2 || s.stamp != nil {
		t.Fatalf("page 3 of the deed: the view shows %s (%d pages), the stamp %v", s.viewing, len(s.view.pages), s.stamp != nil)
	}
	if !strings.Contains(s.pageInfo.Text, "acte.pdf") || strings.Contains(s.pageInfo.Text, "annexe") || !strings.Contains(s.pageInfo.Text, "2") {
		t.Fatalf("page 3 of the deed: %q", s.pageInfo.Text)
	}
	s.page.SetText("2")
	u.tasks.Wait()
	previews(t, u, "acte.pdf", 2, 2)

	work := signTheBatch(t, u)
	for _, lang := range []string{"fr", "it", "en"} {
		u.prefs.language.SetSelected(languageNames[lang])
		u.tasks.Wait()
		work.kept(t, u, lang)
	}
}

// batchWork is what the user did on every screen before switching
// languages.
type batchWork struct {
	signer   *signScreen
	rows     []*signRow
	outs     []string
	custom   [4]float64
	report   *pdf.Report
	doctor   string // the diagnostics' verdict, as a key
	selected int    // the tab in front
}

// signTheBatch chooses a reason, a place, a level and a place on the
// page, signs both files, verifies the second and runs the diagnostics.
func signTheBatch(t *testing.T, u *UI) *batchWork {
	t.Helper()
	s := u.signer
	s.reason.SetText("Vente")
	s.location.SetText("Lyon")
	s.level.SetSelectedIndex(0) // B-B
	page := s.view.pages[s.shown.page-1]
	test.TapAt(page, fyne.NewPos(page.Size().Width/2, page.Size().Height*3/4))
	u.tasks.Wait()
	if s.custom == nil || s.covers.Visible() {
		t.Fatalf("a place tapped on an empty part of the page: %v, warned %v", s.custom, s.covers.Visible())
	}
	test.Tap(s.signBtn)
	u.tasks.Wait()
	if u.pinDialog == nil {
		t.Fatalf("no PIN asked (shown %q)", u.shown)
	}
	test.Type(u.pinEntry, testPIN)
	u.pinDialog.Submit()
	u.tasks.Wait()
	w := &batchWork{signer: s, rows: append([]*signRow(nil), s.files...), custom: *s.custom}
	for _, f := range s.files {
		if !f.ok {
			t.Fatalf("%s: %q", f.in, f.status.Text)
		}
		w.outs = append(w.outs, f.out)
	}
	test.Tap(s.files[1].actions.Objects[1].(*widget.Button)) // Verify
	u.tasks.Wait()
	if w.report = u.verifier.report; w.report == nil || !w.report.Signatures[0].Valid() {
		t.Fatalf("verification: %v", u.verifier.err)
	}
	u.doctor.run()
	u.tasks.Wait()
	w.doctor = "doctor.verdict." + string(u.doctor.report.Verdict)
	u.tabs.SelectIndex(4) // Settings, where the language is
	w.selected = 4
	return w
}

// kept fails unless everything done is still there, said in lang.
func (w *batchWork) kept(t *testing.T, u *UI, lang string) {
	t.Helper()
	p := i18n.NewVariant(lang, "gui")
	if u.p.Lang != lang || u.tabs.Items[1].Text != p.T("app.tab.sign") || u.tabs.SelectedIndex() != w.selected {
		t.Fatalf("%s: the tabs say %q, the one in front is %d", lang, u.tabs.Items[1].Text, u.tabs.SelectedIndex())
	}
	s := u.signer
	if s != w.signer || len(s.files) != 2 || s.selected != s.files[0] {
		t.Fatalf("%s: the batch is not the one signed", lang)
	}
	for i, f := range s.files {
		want := p.T("app.sign.done", "File", filepath.Base(w.outs[i]), "Level", "B-B")
		if f != w.rows[i] || !f.ok || f.status.Text != want || f.actions.Objects[1].(*widget.Button).Text != p.T("app.sign.verify") {
			t.Errorf("%s: row %d says %q, want %q", lang, i, f.status.Text, want)
		}
	}
	if s.reason.Text != "Vente" || s.location.Text != "Lyon" || s.level.SelectedIndex() != 0 || s.custom == nil || *s.custom != w.custom ||
		!s.visible.Checked || s.page.Text != "2" || s.level.Selected != p.T("app.sign.level.B-B") {
		t.Errorf("%s: the choices changed: %q %q level %d (%q) at %v", lang, s.reason.Text, s.location.Text, s.level.SelectedIndex(),
			s.level.Selected, s.custom)
	}
	if want := p.T("app.sign.page_of", "File", "acte.pdf", "Page", 2, "Pages", 2); s.pageInfo.Text != want || s.stamp == nil || s.stamp.rect != w.custom {
		t.Errorf("%s: the preview says %q, want %q", lang, s.pageInfo.Text, want)
	}
	v := u.verifier
	summary := p.T("verify.summary.valid_one")
	if v.report != w.report || v.summary.Text != summary || !strings.Contains(texts(v.result), p.T("verify.state.valid")) {
		t.Errorf("%s: the verification says %q:\n%s", lang, v.summary.Text, texts(v.result))
	}
	if u.doctor.report == nil || u.doctor.verdict.Text != p.T(w.doctor) {
		t.Errorf("%s: the diagnostics say %q", lang, u.doctor.verdict.Text)
	}
	// Said in that language indeed, not in the one before.
	words := map[string]string{"fr": "Signé", "it": "Firmato", "en": "Signed"}[lang]
	if !strings.HasPrefix(s.files[0].status.Text, words) {
		t.Errorf("%s: %q", lang, s.files[0].status.Text)
	}
}

// A batch under way when the language changes goes on, said in the new
// language, and its Cancel button still cancels it. (The CA, asked for
// its time-stamping service, accepts and never answers: the batch waits
// until it is cancelled.)
func TestLanguageSwitchDuringABatch(t *testing.T) {
	u, _ := readyToSign(t)
	silent, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { silent.Close() })
	asked := make(chan struct{}) // closed when the batch reaches the CA
	go func() {
		var held []net.Conn
		defer func() {
			for _, c := range held {
				c.Close()
			}
		}()
		for {
			c, err := silent.Accept()
			if err != nil {
				return
			}
			if held = append(held, c); len(held) == 1 {
				close(asked)
			}
		}
	}()
	u.pol.CA.URL = "https://" + silent.Addr().String()
	acte, _ := twoDocuments(t)
	s := u.signer
	s.add(acte)
	s.level.SetSelectedIndex(1) // B-T: the time-stamping service is asked for
	test.Tap(s.signBtn)
	u.tasks.Wait()
	test.Type(u.pinEntry, testPIN)
	u.pinDialog.Submit() // the key opens, the batch starts and waits for the CA
	awaiting(u, func() { <-asked })
	if !s.stopBtn.Visible() || !s.signBtn.Disabled() {
		t.Fatal("the batch is not under way")
	}
	u.prefs.language.SetSelected("Français")
	fr := i18n.NewVariant("fr", "gui")
	if u.p.Lang != "fr" || s.files[0].status.Text != fr.T("app.sign.waiting") || !s.stopBtn.Visible() || s.stopBtn.Text != fr.T("app.cancel") {
		t.Fatalf("during the batch, in French: %q, Cancel %q shown %v (shown %q)", s.files[0].status.Text, s.stopBtn.Text, s.stopBtn.Visible(), u.shown)
	}
	test.Tap(s.stopBtn)
	u.tasks.Wait()
	if f := s.files[0]; f.ok || f.status.Text != fr.T("app.sign.not_signed") || s.stopBtn.Visible() || s.signBtn.Disabled() {
		t.Fatalf("cancelled: %q, Cancel shown %v", f.status.Text, s.stopBtn.Visible())
	}
}

// While the trusted lists are fetched (or the diagnostics run), a switch
// is refused, said so, and the choice shows the language in force.
func TestLanguageSwitchWaitsForTheLists(t *testing.T) {
	u := newUI(t, filepath.Join(t.TempDir(), "none.json"))
	u.prefs.trust.cancel = func() {} // a fetch under way
	u.prefs.language.SetSelected("Italiano")
	if u.p.Lang != "en" || u.shown != u.T("app.settings.busy") || u.prefs.language.SelectedIndex() != 0 {
		t.Fatalf("a switch during the fetch: %s, shown %q, choice %q", u.p.Lang, u.shown, u.prefs.language.Selected)
	}
	u.prefs.trust.cancel = nil
	u.prefs.language.SetSelected("Italiano")
	if u.p.Lang != "it" {
		t.Fatalf("after the fetch: %s", u.p.Lang)
	}
}
