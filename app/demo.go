package app

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/paraphe/paraphe/assets"
	"github.com/paraphe/paraphe/ca"
	"github.com/paraphe/paraphe/config"
)

// demoCA is a paraphe-ca running inside the app on loopback, for trying
// the suite on a computer that no organisation has set up. It lives in the
// user's Paraphe folder and keeps its ports from one run to the next when
// they are free, so that demo certificates and documents signed with them
// stay trusted.
type demoCA struct {
	authority *ca.Authority
	policy    *config.Policy
	code      string // the demo holder's reference code
	answers   []string
	activated bool // the code was used here
	stop      context.CancelFunc
	done      chan error
}

// demoAnswers are the demo holder's answers, shown to the user.
var demoAnswers = []string{"Montréal", "Rex", "Jules Ferry"}

// startDemoCA opens (or creates) the demo CA, serves it and enrols the
// demo holder h.
func startDemoCA(h ca.Holder) (*demoCA, error) {
	home, err := config.EnsureHome()
	if err != nil {
		return nil, err
	}
	dir := filepath.Join(home, "demo-ca")
	a, l, lv, err := reopenDemo(dir)
	if err != nil {
		return nil, err
	}
	if a == nil {
		if err := os.RemoveAll(dir); err != nil {
			return nil, err
		}
		if l, err = net.Listen("tcp", "127.0.0.1:0"); err != nil {
			return nil, err
		}
		if lv, err = net.Listen("tcp", "127.0.0.1:0"); err != nil {
			l.Close()
			return nil, err
		}
		err = ca.Init(dir, ca.InitOptions{Name: "Paraphe Demo CA", URL: "https://" + l.Addr().String(), ValidationURL: "http://" + lv.Addr().String()})
		if err == nil {
			a, err = ca.Open(dir)
		}
		if err != nil {
			l.Close()
			lv.Close()
			return nil, err
		}
	}
	ctx, stop := context.WithCancel(context.Background())
	d := &demoCA{authority: a, stop: stop, done: make(chan error, 1), answers: demoAnswers}
	go func() { d.done <- a.Serve(ctx, l, lv, slog.New(slog.NewJSONHandler(io.Discard, nil))) }()
	if d.code, err = a.Enroll(ctx, h); err == nil {
		var data []byte
		if data, err = config.PolicyFor(a.Config.URL, ca.Fingerprint(a.Root)); err == nil {
			d.policy, err = config.ParsePolicy(data)
		}
	}
	if err != nil {
		d.close()
		return nil, err
	}
	return d, nil
}

// errDemoBusy: the demo CA's ports are taken, most likely by the demo of
// another Paraphe window.
var errDemoBusy = errors.New("the demo CA's ports are in use (another Paraphe window runs the demo?)")

// reopenDemo opens the demo CA in dir and takes its ports again; nil when
// there is none yet. Its ports being taken is errDemoBusy: the folder is
// then left alone (another window's demo may be using it).
func reopenDemo(dir string) (*ca.Authority, net.Listener, net.Listener, error) {
	a, err := ca.Open(dir)
	if err != nil {
		return nil, nil, nil, nil
	}
	hostOf := func(s string) string {
		u, err := url.Parse(s)
		if err != nil {
			return ""
		}
		return u.Host
	}
	l, err := net.Listen("tcp", hostOf(a.Config.URL))
	if err != nil {
		a.Close()
		return nil, nil, nil, errDemoBusy
	}
	lv, err := net.Listen("tcp", hostOf(a.Config.ValidationURL))
	if err != nil {
		l.Close()
		a.Close()
		return nil, nil, nil, errDemoBusy
	}
	return a, l, lv, nil
}

func (d *demoCA) close() {
	d.stop()
	if err := <-d.done; err != nil && !errors.Is(err, context.Canceled) {
		slog.Debug("demo CA", "err", err)
	}
	d.authority.Close()
}

// stopDemo stops the demo CA if it runs.
func (u *UI) stopDemo() {
	if u.demo != nil {
		u.demo.close()
		u.demo = nil
	}
}

// newDemoCard offers the demo CA, or shows the demo holder's code and
// answers once it runs.
func newDemoCard(u *UI) fyne.CanvasObject {
	if u.demo != nil && u.demo.activated {
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
		return widget.NewCard(u.T("app.demo.running_title"), u.T("app.demo.running", "URL", u.demo.policy.CA.URL),
			container.NewVBox(wrapLabel(u.T("app.demo.activated")), container.NewHBox(sign)))
	}
	if u.demo != nil {
		code := widget.NewLabelWithStyle(u.demo.code, fyne.TextAlignLeading, fyne.TextStyle{Monospace: true})
		activate := widget.NewButtonWithIcon(u.T("app.demo.activate"), theme.ContentAddIcon(), func() {
			newActivateWizard(u, u.demo.code).show()
		})
		activate.Importance = widget.HighImportance
		return widget.NewCard(u.T("app.demo.running_title"), u.T("app.demo.running", "URL", u.demo.policy.CA.URL), container.NewVBox(
			widget.NewForm(
				widget.NewFormItem(u.T("app.demo.code"), code),
				widget.NewFormItem(u.T("app.demo.answers"), widget.NewLabel(strings.Join(u.demo.answers, " · "))),
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
		var d *demoCA
		// The demo holder, with questions in the user's language.
		h := ca.Holder{Name: "Marie Dupont", Title: u.T("app.demo.holder_title"), MemberNumber: "75-1234",
			Organization: u.T("app.demo.holder_order"), Email: "marie.dupont@example.org"}
		for i, ans := range demoAnswers {
			h.Questions = append(h.Questions, ca.Question{Question: u.T([]string{"app.demo.q1", "app.demo.q2", "app.demo.q3"}[i]), Answer: ans})
		}
		u.task(nil, func(context.Context) (err error) {
			d, err = startDemoCA(h)
			return err
		}, func(err error) {
			if err != nil {
				start.Enable()
				bar.Hide()
				if errors.Is(err, errDemoBusy) {
					u.showMessage(u.T("app.error"), u.T("app.demo.busy"), u.T("app.demo.busy_hint"))
					return
				}
				u.showError(err)
				return
			}
			u.demo, u.pol = d, d.policy
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
