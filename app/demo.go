package app

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"os"
	"path/filepath"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/paraphe/paraphe/assets"
	"github.com/paraphe/paraphe/config"
	"github.com/paraphe/paraphe/internal/local"
	"github.com/paraphe/paraphe/pdf"
)

// DemoCA is a running demo certification authority: a CA on loopback with
// a demo holder enrolled, for trying the suite on a computer that no
// organisation has set up (see Options.StartDemo).
type DemoCA interface {
	// Policy points clients at the demo CA; it is the policy in force
	// while the demo runs.
	Policy() *config.Policy
	// Code and Answers are the demo holder's reference code and answers,
	// shown to the user.
	Code() string
	Answers() []string
	// Stop stops the demo CA.
	Stop()
}

// ErrDemoBusy is what Options.StartDemo's error wraps when the demo CA's
// ports are taken, most likely by the demo of another Paraphe window.
var ErrDemoBusy = errors.New("app: the demo CA's ports are in use")

// stopDemo stops the demo CA if it runs.
func (u *UI) stopDemo() {
	if u.demo != nil {
		u.demo.Stop()
		u.demo = nil
	}
}

// demoOffered tells whether the home screen offers the demo CA: on a
// computer no organisation has set up (no machine policy at all).
func (u *UI) demoOffered() bool {
	return u.opt.StartDemo != nil && u.pol == nil && errors.Is(u.polErr, config.ErrNoPolicy)
}

// startDemo starts the demo CA in the background, then calls done with
// nil on the window's goroutine, the demo's policy in force, or says why
// it could not start and calls done with the error.
func (u *UI) startDemo(done func(error)) {
	var d DemoCA
	p := u.p // the demo holder's questions in the user's language
	u.task(nil, func(context.Context) (err error) {
		d, err = u.opt.StartDemo(p)
		return err
	}, func(err error) {
		if err != nil {
			if errors.Is(err, ErrDemoBusy) {
				u.showMessage(u.T("app.error"), u.T("app.demo.busy"), u.T("app.demo.busy_hint"))
			} else {
				u.showError(err)
			}
			done(err)
			return
		}
		u.demo, u.pol = d, d.Policy()
		// Started again for certificates it issued before (the app was
		// closed): its code is not offered again, the deed is.
		u.demoUsed = false
		for _, c := range u.certs {
			u.demoUsed = u.demoUsed || u.demoIssued(c)
		}
		u.policyChanged()
		done(nil)
	})
}

// policyChanged redraws what shows the policy in force (the home
// screen's banner and Settings) and leaves the other screens, and the work
// in them, as they are.
func (u *UI) policyChanged() {
	u.home.refresh()
	old := u.prefs.content
	u.prefs = newSettingsScreen(u)
	for i, it := range u.tabs.Items {
		if it.Content == old {
			it.Content = u.prefs.content
			if u.tabs.SelectedIndex() == i {
				u.tabs.SelectIndex(i)
			}
		}
	}
}

// demoIssued tells whether the running demo CA issued c: its chain ends
// at the demo's root.
func (u *UI) demoIssued(c local.Cert) bool {
	if u.demo == nil || len(c.Chain) == 0 {
		return false
	}
	sum := sha256.Sum256(c.Chain[len(c.Chain)-1].Raw)
	for _, a := range u.demo.Policy().CA.Anchors {
		if fp, err := config.ParseFingerprint(a); err == nil && bytes.Equal(fp, sum[:]) {
			return true
		}
	}
	return false
}

// withPolicy calls then with the policy in force. With none, on a
// computer where the demo is offered, it starts the demo CA first (the
// app was closed since the demo certificate was activated; signing with a
// time-stamp, renewing or changing the PIN need it again); c must then
// come from it. Otherwise it says, in the user's words, why it cannot.
func (u *UI) withPolicy(c local.Cert, then func(*config.Policy)) {
	if pol, err := u.policy(); err == nil {
		then(pol)
		return
	}
	if !u.demoOffered() {
		_, err := u.policy()
		u.showError(err)
		return
	}
	u.startDemo(func(err error) {
		switch {
		case err != nil: // said
		case !u.demoIssued(c):
			u.stopDemo()
			u.pol = nil
			u.policyChanged()
			u.showMessage(u.T("app.error"), u.T("app.demo.not_demo_cert"), u.T("app.demo.not_demo_cert_hint"))
		default:
			then(u.pol)
		}
	})
}

// newDemoCard offers the demo CA, or shows the demo holder's code and
// answers once it runs.
func newDemoCard(u *UI) fyne.CanvasObject {
	if u.demo != nil && u.demoUsed {
		// The deed's full path: the Sign screen names files, not where
		// they are, and this one was written for the user.
		where := wrapLabel("")
		showWhere := func() {
			where.SetText(u.T("app.demo.deed_at", "Path", u.demoDeed, "Signed", pdf.OutputName(u.demoDeed)))
			where.Show()
		}
		where.Hide()
		if u.demoDeed != "" {
			showWhere()
		}
		sign := u.newPrimary(u.T("app.demo.sign_deed"), theme.DocumentCreateIcon(), func() {
			path, err := demoDeed()
			if err != nil {
				u.showError(err)
				return
			}
			u.demoDeed = path
			showWhere()
			u.signer.add(path)
			u.show(u.signer.content)
		})
		return newCard(u.T("app.demo.running_title"), u.T("app.demo.running", "URL", u.demo.Policy().CA.URL),
			container.NewVBox(wrapLabel(u.T("app.demo.activated")), container.NewHBox(sign), where))
	}
	if u.demo != nil {
		code := widget.NewLabelWithStyle(u.demo.Code(), fyne.TextAlignLeading, fyne.TextStyle{Monospace: true})
		activate := u.newPrimary(u.T("app.demo.activate"), theme.ContentAddIcon(), func() {
			newActivateWizard(u, u.demo.Code()).show()
		})
		return newCard(u.T("app.demo.running_title"), u.T("app.demo.running", "URL", u.demo.Policy().CA.URL), container.NewVBox(
			widget.NewForm(
				widget.NewFormItem(u.T("app.demo.code"), code),
				widget.NewFormItem(u.T("app.demo.answers"), widget.NewLabel(strings.Join(u.demo.Answers(), " · "))),
			),
			container.NewHBox(activate)))
	}
	start := u.newPrimary(u.T("app.demo.start"), theme.MediaPlayIcon(), nil)
	bar := widget.NewProgressBarInfinite()
	bar.Hide()
	start.OnTapped = func() {
		start.Disable()
		bar.Show()
		u.startDemo(func(err error) {
			start.Enable()
			bar.Hide()
		})
	}
	return newCard(u.T("app.demo.title"), "", container.NewVBox(wrapLabel(u.T("app.demo.intro")), container.NewHBox(start), bar))
}

// demoDeed writes a fresh copy of the demo deed into the user's Paraphe
// folder (a new name each time: the signed copy of an earlier one is
// never in the way) and returns its path.
func demoDeed() (string, error) {
	home, err := config.EnsureHome()
	if err != nil {
		return "", err
	}
	dir := filepath.Join(home, "demo")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", err
	}
	f, err := os.CreateTemp(dir, "deed-*.pdf")
	if err != nil {
		return "", err
	}
	_, err = f.Write(assets.DemoDeed)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(f.Name())
		return "", err
	}
	return f.Name(), nil
}
