package app

import (
	"context"
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

// newDemoCard offers the demo CA, or shows the demo holder's code and
// answers once it runs.
func newDemoCard(u *UI) fyne.CanvasObject {
	if u.demo != nil && u.demoUsed {
		sign := widget.NewButtonWithIcon(u.T("app.demo.sign_deed"), theme.DocumentCreateIcon(), func() {
			path, err := demoDeed()
			if err != nil {
				u.showError(err)
				return
			}
			u.signer.add(path)
			u.show(u.signer.content)
		})
		sign.Importance = widget.HighImportance
		return widget.NewCard(u.T("app.demo.running_title"), u.T("app.demo.running", "URL", u.demo.Policy().CA.URL),
			container.NewVBox(wrapLabel(u.T("app.demo.activated")), container.NewHBox(sign)))
	}
	if u.demo != nil {
		code := widget.NewLabelWithStyle(u.demo.Code(), fyne.TextAlignLeading, fyne.TextStyle{Monospace: true})
		activate := widget.NewButtonWithIcon(u.T("app.demo.activate"), theme.ContentAddIcon(), func() {
			newActivateWizard(u, u.demo.Code()).show()
		})
		activate.Importance = widget.HighImportance
		return widget.NewCard(u.T("app.demo.running_title"), u.T("app.demo.running", "URL", u.demo.Policy().CA.URL), container.NewVBox(
			widget.NewForm(
				widget.NewFormItem(u.T("app.demo.code"), code),
				widget.NewFormItem(u.T("app.demo.answers"), widget.NewLabel(strings.Join(u.demo.Answers(), " · "))),
			),
			container.NewHBox(activate)))
	}
	start := widget.NewButtonWithIcon(u.T("app.demo.start"), theme.MediaPlayIcon(), nil)
	start.Importance = widget.HighImportance
	bar := widget.NewProgressBarInfinite()
	bar.Hide()
	start.OnTapped = func() {
		start.Disable()
		bar.Show()
		var d DemoCA
		p := u.p // the demo holder's questions in the user's language
		u.task(nil, func(context.Context) (err error) {
			d, err = u.opt.StartDemo(p)
			return err
		}, func(err error) {
			if err != nil {
				start.Enable()
				bar.Hide()
				if errors.Is(err, ErrDemoBusy) {
					u.showMessage(u.T("app.error"), u.T("app.demo.busy"), u.T("app.demo.busy_hint"))
					return
				}
				u.showError(err)
				return
			}
			u.demo, u.demoUsed, u.pol = d, false, d.Policy()
			u.build()
		})
	}
	return widget.NewCard(u.T("app.demo.title"), "", container.NewVBox(wrapLabel(u.T("app.demo.intro")), container.NewHBox(start), bar))
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
