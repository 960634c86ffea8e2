package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"strings"
	"sync"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/paraphe/paraphe/bridge"
	"github.com/paraphe/paraphe/pkcs"
)

// BridgeOptions start the signing bridge while the app runs: web pages of
// the origins the policy lists reach the holder's certificates through it,
// each request put to the holder in a dialog of this window.
type BridgeOptions struct {
	// Listener is the bridge's socket; nil listens on the policy's port
	// (bridge_port).
	Listener net.Listener
	// Log receives the bridge's log, one JSON line per request (nil:
	// standard error).
	Log io.Writer
}

// consentTimeout is how long a question waits for the holder: then it is
// refused.
const consentTimeout = 2 * time.Minute

// webBridge is the bridge the app serves and the questions it asks.
type webBridge struct {
	u    *UI
	url  string // where it listens
	done sync.WaitGroup
	// shown receives each dialog once it is on screen, for tests; nobody
	// reads it in the app.
	shown chan *consentDialog
}

// startBridge serves the bridge until the app closes, when the policy
// lists web origins (without any it would answer no page, and keeps no
// port). A port already taken (paraphe bridge, another Paraphe window)
// leaves the app without one.
func (u *UI) startBridge() {
	o := u.opt.Bridge
	pol, _ := u.policy()
	if o == nil || pol == nil || len(pol.WebOrigins) == 0 {
		return
	}
	logw := o.Log
	if logw == nil {
		logw = os.Stderr
	}
	log := slog.New(slog.NewJSONHandler(logw, nil))
	l := o.Listener
	if l == nil {
		var err error
		if l, err = bridge.Listen(pol); err != nil {
			log.Warn("no signing bridge", "error", err.Error())
			u.bridgeErr = err
			return
		}
	}
	u.web = &webBridge{u: u, url: "http://" + l.Addr().String(), shown: make(chan *consentDialog, 8)}
	s := &bridge.Server{Policy: pol, Consent: u.web, Version: u.opt.Version, Log: log, Now: u.opt.Now}
	if u.prefs != nil {
		u.prefs.bridge.SetText(u.bridgeStatus())
	}
	u.web.done.Add(1)
	go func() {
		defer u.web.done.Done()
		if err := s.Serve(u.ctx, l); err != nil {
			log.Warn("signing bridge stopped", "error", err.Error())
		}
	}()
}

// bridgeStatus says whether the bridge runs, and why not: the Settings
// screen's line ("" when the app serves none: tests).
func (u *UI) bridgeStatus() string {
	pol, _ := u.policy()
	switch {
	case u.opt.Bridge == nil:
		return ""
	case u.web != nil:
		return u.T("app.settings.bridge_on", "URL", u.web.url, "Origins", strings.Join(pol.WebOrigins, ", "))
	case pol == nil || len(pol.WebOrigins) == 0:
		return u.T("app.settings.bridge_no_origins")
	}
	// startBridge could not listen.
	var busy *bridge.BusyError
	if errors.As(u.bridgeErr, &busy) && busy.OtherUser() {
		return u.T("app.settings.bridge_other_user", "Addr", pol.BridgeAddr())
	}
	return u.T("app.settings.bridge_busy", "Addr", pol.BridgeAddr())
}

// Raise brings the window forward, shown if it was hidden (the bridge
// started at login), with files to sign: what a later start of Paraphe
// for this user asks of this one, which serves the bridge. It is called
// from another goroutine than the window's.
func (u *UI) Raise(files []string) {
	u.do(func() {
		u.win.Show()
		u.win.RequestFocus()
		if len(files) > 0 {
			u.signer.add(files...)
			u.show(u.signer.content)
		}
	})
}

// RunHidden runs the application with its window hidden until it quits
// (its menu's Quit, the session's end): the bridge started at login
// (paraphe bridge --desktop). The window shows when a page asks something
// and hides again when closed; the bridge keeps running.
func (u *UI) RunHidden() {
	u.win.SetCloseIntercept(u.win.Hide)
	u.app.Run()
	u.toolkitDone.Store(true)
	u.Close()
}

// stopBridge waits for the bridge to end (u.ctx is cancelled first: the
// questions open are withdrawn).
func (u *UI) stopBridge() {
	if u.web != nil {
		u.web.done.Wait()
	}
}

// Consent asks the holder in a dialog, refused unless they allow it: when
// they tap Refuse or close it, when the page goes away, after
// consentTimeout.
func (b *webBridge) Consent(ctx context.Context, r bridge.Request) (bridge.Answer, error) {
	answer := make(chan bridge.Answer, 1)
	var d *consentDialog
	b.u.answer(func() {
		d = b.u.newConsentDialog(r, func(a bridge.Answer) { answer <- a })
		b.u.win.Show() // hidden until now when started at login
		d.dialog.Show()
		if d.pin != nil {
			b.u.win.Canvas().Focus(d.pin)
		}
		b.u.win.RequestFocus()
	})
	select {
	case b.shown <- d:
	default:
	}
	timer := time.NewTimer(consentTimeout)
	defer timer.Stop()
	select {
	case a := <-answer:
		return a, nil
	case <-ctx.Done():
	case <-timer.C:
	}
	if !b.u.toolkitDone.Load() {
		b.u.answer(d.dialog.Hide) // refuses, through its callback
	}
	// else the toolkit has stopped, and the window with the question: fyne
	// would run the step on this goroutine, with nothing to draw on.
	return bridge.Answer{}, nil
}

// consentDialog is one question: the site, what it asks, the certificate,
// the PIN; Refuse is the way out of it.
type consentDialog struct {
	dialog  *dialog.CustomDialog
	content *fyne.Container
	text    *widget.Label
	certs   *widget.RadioGroup // nil when the action needs no key
	pin     *widget.Entry      // nil when the action needs no key
	allow   *widget.Button
	refuse  *widget.Button
	ids     map[string]string // certificate descriptions → IDs
}

func (u *UI) newConsentDialog(r bridge.Request, answer func(bridge.Answer)) *consentDialog {
	d := &consentDialog{ids: map[string]string{}}
	d.text = wrapLabel(u.T("app.bridge.ask."+string(r.Action), "Document", r.Document))
	site := widget.NewLabelWithStyle(r.Origin, fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	box := container.NewVBox(widget.NewLabel(u.T("app.bridge.site")), site, d.text)
	d.content = box
	var options []string
	for _, c := range r.Certs {
		x := c.Certificate()
		h := pkcs.HolderOf(x)
		s := u.T("app.bridge.cert", "Name", h.Name, "Title", h.Title, "Member", h.MemberNumber, "Store", u.T("store."+c.Store.Name()),
			"Until", u.p.Date(x.NotAfter))
		if _, dup := d.ids[s]; dup {
			s = fmt.Sprintf("%s · %s", s, c.ID)
		}
		d.ids[s] = c.ID
		options = append(options, s)
	}
	answered := false
	reply := func(a bridge.Answer) {
		if !answered {
			answered = true
			answer(a)
		}
	}
	if r.Action.NeedsKey() {
		d.certs = widget.NewRadioGroup(options, func(string) { d.check() })
		if len(options) == 1 {
			d.certs.SetSelected(options[0])
		}
		d.pin = widget.NewPasswordEntry()
		d.pin.OnChanged = func(string) { d.check() }
		hint := wrapLabel(u.T("app.bridge.pin_here"))
		hint.Importance = widget.LowImportance
		box.Add(widget.NewForm(widget.NewFormItem(u.T("app.bridge.certificate"), d.certs), widget.NewFormItem(u.T("app.pin.label"), d.pin)))
		box.Add(hint)
	} else {
		for _, s := range options {
			box.Add(widget.NewLabel("• " + s))
		}
	}
	d.refuse = widget.NewButtonWithIcon(u.T("app.bridge.refuse"), theme.CancelIcon(), nil)
	d.refuse.Importance = widget.HighImportance
	d.allow = widget.NewButtonWithIcon(u.T("app.bridge.allow."+string(r.Action)), theme.ConfirmIcon(), nil)
	d.dialog = dialog.NewCustomWithoutButtons(u.T("app.bridge.title"), box, u.win)
	d.dialog.SetButtons([]fyne.CanvasObject{d.refuse, d.allow})
	d.refuse.OnTapped = d.dialog.Hide
	d.allow.OnTapped = func() {
		a := bridge.Answer{Allow: true}
		if d.pin != nil {
			a.Cert, a.PIN = d.ids[d.certs.Selected], []byte(d.pin.Text)
		}
		reply(a)
		d.dialog.Hide()
	}
	d.dialog.SetOnClosed(func() {
		if d.pin != nil {
			d.pin.SetText("") // never left in a widget
		}
		reply(bridge.Answer{})
	})
	d.check()
	d.dialog.Resize(fyne.NewSize(520, 0))
	return d
}

// check enables Allow once a certificate is chosen and a PIN typed.
func (d *consentDialog) check() {
	if d.allow == nil {
		return // still being built
	}
	if d.pin == nil || (d.certs.Selected != "" && d.pin.Text != "") {
		d.allow.Enable()
	} else {
		d.allow.Disable()
	}
}
