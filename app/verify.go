package app

import (
	"context"
	"errors"
	"path/filepath"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/paraphe/paraphe/config"
	"github.com/paraphe/paraphe/internal/explain"
	"github.com/paraphe/paraphe/internal/local"
	"github.com/paraphe/paraphe/pdf"
)

// verifyScreen checks every signature of a PDF and says in plain words
// what it found: valid or not, who, when, changed afterwards, trusted.
type verifyScreen struct {
	u       *UI
	content fyne.CanvasObject
	file    *widget.Label
	online  *widget.Check
	result  *fyne.Container
	busy    *widget.ProgressBarInfinite
	stop    *widget.Button
	cancel  func()
	report  *pdf.Report
	path    string
	gen     int // numbers verifications: only the latest is shown
}

func newVerifyScreen(u *UI) *verifyScreen {
	v := &verifyScreen{u: u, file: wrapLabel(u.T("app.verify.drop")), result: container.NewVBox(), busy: widget.NewProgressBarInfinite()}
	v.busy.Hide()
	v.online = widget.NewCheck(u.T("app.verify.online"), func(bool) {
		if v.path != "" {
			v.open(v.path)
		}
	})
	pick := u.newPrimary(u.T("app.verify.open"), theme.FolderOpenIcon(), func() {
		u.chooseFiles(fileRequest{title: "app.files.verify_title", accept: "app.files.open", filter: pdfFiles},
			func(paths []string) { v.open(paths[0]) })
	})
	v.stop = widget.NewButtonWithIcon(u.T("app.cancel"), theme.CancelIcon(), func() {
		if v.cancel != nil {
			v.cancel()
		}
	})
	v.stop.Hide()
	top := container.NewVBox(heading(u.T("app.verify.title")), container.NewHBox(pick, v.online), v.file,
		container.NewBorder(nil, nil, nil, v.stop, v.busy))
	v.content = container.NewBorder(top, nil, nil, nil, container.NewVScroll(v.result))
	return v
}

// open verifies the PDF at path.
func (v *verifyScreen) open(path string) {
	u := v.u
	v.path = path
	v.file.SetText(path)
	v.result.RemoveAll()
	v.busy.Show()
	v.stop.Show()
	if v.cancel != nil {
		v.cancel() // a newer file replaces the one being verified
	}
	// Without a machine policy (or with the template no CA was set in) the
	// user decides what to trust; a policy that cannot be read is said so,
	// not taken for none, which would trust what it keeps out.
	pol, polErr := u.policy()
	if errors.Is(polErr, config.ErrNoPolicy) || errors.Is(polErr, config.ErrUnconfigured) {
		polErr = nil
	}
	opts, warnings := local.VerifyOptions(pol, v.online.Checked)
	var rep *pdf.Report
	v.gen++
	gen := v.gen
	u.task(&v.cancel, func(ctx context.Context) (err error) {
		if polErr != nil {
			return polErr
		}
		rep, err = pdf.Verify(ctx, path, opts)
		return err
	}, func(err error) {
		if gen != v.gen {
			return // superseded
		}
		v.busy.Hide()
		v.stop.Hide()
		v.report = rep
		switch {
		case errors.Is(err, pdf.ErrNoSignature):
			v.result.Add(widget.NewCard(u.T("verify.unsigned", "File", filepath.Base(path)), "", nil))
		case err != nil:
			e := explain.Sign(u.p, err, filepath.Base(path))
			msg := wrapLabel(e.Text)
			msg.Importance = widget.DangerImportance
			v.result.Add(container.NewVBox(msg, wrapLabel(e.Hint)))
		default:
			for i, s := range rep.Signatures {
				v.result.Add(v.card(i+1, s))
			}
			for _, w := range explain.RelevantTrustWarnings(warnings, rep.Signatures) {
				note := wrapLabel(explain.TrustWarning(u.p, w))
				note.Importance = widget.WarningImportance
				v.result.Add(note)
			}
		}
		v.result.Refresh()
	})
}

// card is one signature in plain words, its state first.
func (v *verifyScreen) card(n int, s pdf.SignatureReport) fyne.CanvasObject {
	u := v.u
	state, lines := explain.Signature(u.p, s)
	icon, importance := theme.ConfirmIcon(), widget.SuccessImportance
	switch explain.SeverityOf(s) {
	case explain.Failed:
		icon, importance = theme.ErrorIcon(), widget.DangerImportance
	case explain.Undecided:
		icon, importance = theme.WarningIcon(), widget.WarningImportance
	}
	field := s.Field
	if field == "" {
		field = u.T("verify.no_field")
	}
	title := widget.NewLabelWithStyle(u.T("verify.header", "N", n, "Field", field, "State", state), fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	title.Importance = importance
	body := container.NewVBox(container.NewHBox(widget.NewIcon(icon), title))
	for _, l := range lines {
		body.Add(wrapLabel(l))
	}
	return widget.NewCard("", "", body)
}
