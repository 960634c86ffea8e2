// Package app is Paraphe's desktop application, built with fyne on the
// suite's core packages. One file per screen; each screen is a small struct
// whose constructor returns its content. Slow work (the network, a token, a
// PDF) runs in a goroutine and comes back to the window through fyne.Do, so
// the window never freezes; every such task shows progress and can be
// cancelled.
//
// Words come from the suite's own catalogue (assets/translations), the one
// the command line uses, so that the two say the same thing; the language can
// be changed in Settings without restarting.
package app

import (
	"context"
	"errors"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"
	"unicode"
	"unicode/utf8"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/driver/desktop"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/paraphe/paraphe/assets"
	"github.com/paraphe/paraphe/config"
	"github.com/paraphe/paraphe/internal/explain"
	"github.com/paraphe/paraphe/internal/i18n"
	"github.com/paraphe/paraphe/internal/local"
	"github.com/paraphe/paraphe/netcheck"
	"github.com/paraphe/paraphe/parcel"
)

// Options configure the application.
type Options struct {
	Version string
	// Now is the clock (tests move it); nil means time.Now.
	Now func() time.Time
	// Files are PDFs to sign, given on the command line ("Open with").
	Files []string
	// StartDemo starts the demo certification authority the home screen
	// offers on a computer no organisation has set up, its holder's
	// questions said by p. cmd/paraphe hands in internal/demo's, so that
	// the screens link no CA; nil offers no demo.
	StartDemo func(p *i18n.Printer) (DemoCA, error)
	// RefreshTrustedLists fetches the EU trusted lists in the background
	// at start when the copy kept is older than a day (the real app does;
	// tests choose).
	RefreshTrustedLists bool
	// Bridge, when set, serves the signing bridge while the app runs
	// (bridge.go).
	Bridge *BridgeOptions
}

// UI is the application's main window and the state its screens share.
type UI struct {
	app fyne.App
	win fyne.Window
	opt Options
	p   *i18n.Printer

	settings config.Settings
	pol      *config.Policy // nil when there is none
	polErr   error
	demo     DemoCA // the demo CA when it runs
	demoUsed bool   // its holder's code was used here
	demoDeed string // the copy of the demo deed last written for signing

	tabs      *sideMenu
	home      *homeScreen
	signer    *signScreen
	verifier  *verifyScreen
	doctor    *doctorScreen
	prefs     *settingsScreen
	web       *webBridge // the signing bridge, when it runs
	bridgeErr error      // why it does not (its port taken), when it does not
	// exchange is the session with the firm's exchange, once signed in
	// (send.go): in memory only, ended when the app closes.
	exchange *parcel.Client
	sendBox  *sendDialog // the last "Send securely" dialog (tests drive it)
	// receiveBox is the last "Received folders" dialog (tests drive it).
	receiveBox *receiveDialog

	// What tests drive: the activation wizard when it is open, the last
	// PIN dialog.
	activation *activateWizard
	pinDialog  *pinBox
	pinEntry   *field
	pinChange  *pinChangeDialog
	certs      []local.Cert // this computer's certificates, as last read
	running    atomic.Int32 // tasks under way
	shown      string       // the last message shown in a dialog
	files      fileDialogs  // the file dialogs' folder and fallback (files.go)

	keys keyboard // Enter, Escape and what a key press may reach
	// pdfiumStart is the page renderer the document views share, started
	// with the app (docview.go).
	pdfiumStart *pdfiumStart
	views       []*docView // the document views made, whose files Close closes

	// tasks counts background work; tests wait on it instead of sleeping.
	// Closing the app cancels it all through ctx.
	tasks taskGroup
	// toolkitDone: the event loop has ended (ShowAndRun, RunHidden), the
	// windows are gone.
	toolkitDone atomic.Bool
	answers     sync.Mutex // one answer of background work at a time (answer)
	ctx         context.Context
	stopAll     context.CancelFunc
}

// New builds the main window on a (a fyne app from the real driver, or
// fyne's test app).
func New(a fyne.App, o Options) *UI {
	if o.Now == nil {
		o.Now = time.Now
	}
	u := &UI{app: a, opt: o}
	// The answers of the work the screens start as they are built come
	// once the window is built (answer).
	u.answers.Lock()
	defer u.answers.Unlock()
	u.ctx, u.stopAll = context.WithCancel(context.Background())
	u.startPDFium()
	u.settings, _ = config.LoadSettings()
	u.p = i18n.NewVariant(i18n.Detect(u.settings.Language), "gui")
	u.speakFyne()
	u.pol, u.polErr = config.LoadPolicy()
	a.SetIcon(Icon)
	u.win = a.NewWindow("Paraphe")
	u.win.SetIcon(Icon)
	u.win.Resize(fyne.NewSize(960, 680))
	u.win.SetOnDropped(u.dropped)
	u.win.Canvas().SetOnTypedKey(u.keys.typedKey)
	_, u.keys.presses = a.Driver().(desktop.Driver) // a keyboard reports its key presses
	u.win.SetCloseIntercept(func() {
		// Stop the work in progress, let it end (a signer removes its
		// partial file), then close.
		u.stopAll()
		go func() {
			u.tasks.wg.Wait()
			fyne.Do(func() {
				u.stopDemo()
				u.win.Close()
			})
		}()
	})
	u.build()
	u.addMenuShortcuts()
	u.startBridge()
	if o.RefreshTrustedLists {
		u.prefs.trust.updateLists(true)
	}
	if len(o.Files) > 0 {
		u.signer.add(o.Files...)
		u.show(u.signer.content)
	}
	return u
}

// Icon is the application's icon.
var Icon = fyne.NewStaticResource("paraphe.png", assets.IconPNG)

// ShowAndRun shows the window and runs the application until it closes.
func (u *UI) ShowAndRun() {
	u.win.ShowAndRun()
	u.toolkitDone.Store(true)
	u.Close()
}

// Close stops what the app started (the demo CA, the page renderer).
func (u *UI) Close() {
	u.stopAll() // work in progress stops; a half-signed file is never left behind
	u.tasks.Wait()
	u.tasks.unheld(u.stopBridge) // a question on screen is taken down by its request

	u.stopDemo()
	u.signOutExchange()
	u.closeViews()
	u.stopPDFium()
}

// T says key in the user's language.
func (u *UI) T(key string, args ...any) string { return u.p.T(key, args...) }

// build makes the screens in the current language, or says them again in
// it: Sign and Verify keep their state and say it anew (a batch under way
// goes on), the others, which hold nothing the user did, are made again
// (the diagnostics keep their last report).
func (u *UI) build() {
	u.readCerts()
	u.home = newHomeScreen(u)
	if u.signer == nil {
		u.signer = newSignScreen(u)
		u.verifier = newVerifyScreen(u)
	} else {
		u.signer.relabel()
		u.verifier.relabel()
	}
	var report *netcheck.Report
	if u.doctor != nil {
		report = u.doctor.report
	}
	u.doctor = newDoctorScreen(u)
	if report != nil {
		u.doctor.show(report)
	}
	u.prefs = newSettingsScreen(u)
	items := []*container.TabItem{
		container.NewTabItemWithIcon(u.T("app.tab.home"), theme.HomeIcon(), u.home.content),
		container.NewTabItemWithIcon(u.T("app.tab.sign"), theme.DocumentCreateIcon(), u.signer.content),
		container.NewTabItemWithIcon(u.T("app.tab.verify"), theme.ConfirmIcon(), u.verifier.content),
		container.NewTabItemWithIcon(u.T("app.tab.doctor"), theme.SearchIcon(), u.doctor.content),
		container.NewTabItemWithIcon(u.T("app.tab.settings"), theme.SettingsIcon(), u.prefs.content),
	}
	if u.tabs != nil {
		selected := u.tabs.SelectedIndex()
		u.tabs.Items = items
		u.tabs.Refresh()
		u.tabs.SelectIndex(selected)
		return
	}
	u.tabs = u.newSideMenu(items...)
	u.tabs.onSelect = u.retitle
	if u.activation == nil { // an open activation wizard keeps the window
		u.win.SetContent(u.tabs)
	}
}

// retitle names in the window's title the document the screen in front
// shows, as desktop applications do ("deed.pdf — Paraphe"): what the
// window lists and switches between shows which document is open.
func (u *UI) retitle() {
	title := "Paraphe"
	if u.tabs != nil {
		var path string
		switch u.tabs.Selected().Content {
		case u.signer.content:
			path = u.signer.viewing
		case u.verifier.content:
			path = u.verifier.viewing
		}
		if path != "" {
			title = u.T("app.title_document", "File", filepath.Base(path))
		}
	}
	if u.win.Title() != title {
		u.win.SetTitle(title)
	}
}

// certsChanged reads the stores again and redraws what lists certificates;
// every change the app makes to them (activation, renewal, default) calls
// it, rather than each tab switch asking the keychain and the tokens.
func (u *UI) certsChanged() {
	u.readCerts()
	u.home.refresh()
	u.signer.loadCerts()
	u.prefs.loadCerts()
}

// readCerts reads the certificates of this computer's stores once for all
// screens (the keychain and the tokens are slow to ask).
func (u *UI) readCerts() {
	pol, _ := u.policy()
	u.certs, _ = local.Certs(pol)
}

// setLanguage switches every screen to lang and remembers the choice.
func (u *UI) setLanguage(lang string) {
	if u.busyElsewhere() {
		// The diagnostics and the trusted lists' update are made again in
		// the new language: work under way there would lose its progress.
		u.showMessage(u.T("app.settings.language"), u.T("app.settings.busy"), "")
		u.prefs.showLanguage()
		return
	}
	u.settings.Language = lang
	if err := config.SaveSettings(u.settings); err != nil {
		u.showError(err)
	}
	if lang == "" {
		lang = i18n.Detect("")
	}
	u.p = i18n.NewVariant(lang, "gui")
	u.speakFyne()
	u.build()
}

// busyElsewhere reports work under way on a screen a language switch makes
// again: the diagnostics running, the trusted lists being fetched.
func (u *UI) busyElsewhere() bool {
	return (u.doctor != nil && u.doctor.runBtn.Disabled()) || (u.prefs != nil && u.prefs.trust.cancel != nil)
}

// show brings a tab to the front.
func (u *UI) show(content fyne.CanvasObject) {
	for _, item := range u.tabs.Items {
		if item.Content == content {
			u.tabs.Select(item)
		}
	}
}

// dropped sends files dropped on the window to the screen in front, or to
// signing from the home screen.
func (u *UI) dropped(_ fyne.Position, uris []fyne.URI) {
	var paths []string
	for _, uri := range uris {
		if uri.Scheme() == "file" {
			paths = append(paths, uri.Path())
		}
	}
	if len(paths) == 0 {
		return
	}
	if u.tabs.Selected().Content == u.verifier.content {
		u.verifier.open(paths[0])
		return
	}
	u.show(u.signer.content)
	u.signer.add(paths...)
}

// policy returns the policy in force (the demo CA's when it runs), or the
// error that says why there is none.
func (u *UI) policy() (*config.Policy, error) {
	if u.pol != nil {
		return u.pol, nil
	}
	if u.polErr == nil {
		return nil, config.ErrNoPolicy
	}
	return nil, u.polErr
}

// task runs work in the background with a context that cancelling ends,
// then done on the window's goroutine, and returns the cancel function.
// When slot is not nil the cancel function is put there before the work
// starts (for a Cancel button); calling it once the work is over does
// nothing.
func (u *UI) task(slot *func(), work func(ctx context.Context) error, done func(error)) (cancel func()) {
	ctx, cancel := context.WithCancel(u.ctx)
	if slot != nil {
		*slot = cancel
	}
	u.tasks.Add(1)
	u.running.Add(1)
	go func() {
		defer u.tasks.Done()
		defer u.running.Add(-1)
		err := work(ctx)
		u.answer(func() { done(err) })
		cancel()
	}()
	return cancel
}

// taskGroup counts background work. Under fyne's test driver, which runs
// what fyne.Do hands the window on the goroutine that asks, the test's
// goroutine plays the window's: it holds the answers' lock (held) from
// the moment the window is built, so that answers of background work run
// only while it waits for that work (Wait), never beside a tap or a key
// the test delivers, as the real driver runs events and answers one after
// the other on one goroutine.
type taskGroup struct {
	wg   sync.WaitGroup
	held *sync.Mutex // the answers' lock, held by the waiting goroutine; nil in the app
}

func (g *taskGroup) Add(n int) { g.wg.Add(n) }
func (g *taskGroup) Done()     { g.wg.Done() }

// Wait waits until the background work is over, letting its answers run
// meanwhile (see taskGroup).
func (g *taskGroup) Wait() { g.unheld(g.wg.Wait) }

// unheld runs wait, which waits for something answers bring, with the
// answers let through (see taskGroup).
func (g *taskGroup) unheld(wait func()) {
	if g.held != nil {
		g.held.Unlock()
		defer g.held.Lock()
	}
	wait()
}

// answer runs the answer of background work on the window's goroutine
// and waits for it. fyne runs each there, one after another, but fyne's
// test driver runs it on the goroutine that asks: the lock keeps answers
// apart there too, and apart from the test's own steps (taskGroup).
func (u *UI) answer(f func()) {
	fyne.DoAndWait(func() {
		u.answers.Lock()
		defer u.answers.Unlock()
		f()
	})
}

// do hands f to the window's goroutine without waiting for it (fyne.Do),
// kept apart from the other answers as answer keeps them.
func (u *UI) do(f func()) {
	fyne.Do(func() {
		u.answers.Lock()
		defer u.answers.Unlock()
		f()
	})
}

// explain turns err into the message and the next step in the user's
// words, as sentences (the command line writes them after "paraphe: ").
func (u *UI) explain(err error) explain.Message {
	if errors.Is(err, context.Canceled) {
		return explain.Message{Text: u.T("app.cancelled")}
	}
	e := explain.Error(u.p, err)
	e.Text, e.Hint = sentence(e.Text), sentence(e.Hint)
	return e
}

// sentence starts s with a capital letter.
func sentence(s string) string {
	r, n := utf8.DecodeRuneInString(s)
	if n == 0 {
		return s
	}
	return string(unicode.ToUpper(r)) + s[n:]
}

// showError tells what went wrong and what to do, in a dialog.
func (u *UI) showError(err error) {
	e := u.explain(err)
	u.showMessage(u.T("app.error"), e.Text, e.Hint)
}

func (u *UI) showMessage(title, msg, hint string) {
	u.shown = msg
	text := widget.NewLabel(msg)
	text.Wrapping = fyne.TextWrapWord
	box := container.NewVBox(text)
	if hint != "" {
		h := widget.NewLabel(hint)
		h.Wrapping = fyne.TextWrapWord
		h.Importance = widget.LowImportance
		box.Add(h)
	}
	var d *dialog.CustomDialog
	closeBtn := u.newButton(u.T("app.close"), nil, func() { d.Hide() })
	d = newDialog(title, box, nil, closeBtn, u.win)
	d.Resize(fyne.NewSize(480, 0))
	u.showDialog(d, closeBtn, closeBtn)
}

// newCard is a card whose title and note wrap to the card's width: fyne's
// card draws them on one line each, and a long one would widen the window.
func newCard(title, note string, content fyne.CanvasObject) *widget.Card {
	box := container.NewVBox()
	if title != "" {
		t := heading(title)
		t.Wrapping = fyne.TextWrapWord
		box.Add(t)
	}
	if note != "" {
		box.Add(wrapLabel(note))
	}
	if content != nil {
		box.Add(content)
	}
	return widget.NewCard("", "", box)
}

// wrapLabel is a label that wraps words.
func wrapLabel(s string) *widget.Label {
	l := widget.NewLabel(s)
	l.Wrapping = fyne.TextWrapWord
	return l
}

// heading is a screen's title.
func heading(s string) *widget.Label {
	l := widget.NewLabelWithStyle(s, fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	l.SizeName = theme.SizeNameSubHeadingText
	return l
}
