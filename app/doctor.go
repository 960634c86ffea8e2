package app

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/paraphe/paraphe/internal/explain"
	"github.com/paraphe/paraphe/internal/local"
	"github.com/paraphe/paraphe/netcheck"
)

// doctorScreen runs the connectivity doctor and shows its findings, the
// most likely cause first, with the fix in the helpdesk's words.
type doctorScreen struct {
	u       *UI
	content fyne.CanvasObject
	runBtn  *button
	busy    *widget.ProgressBar
	verdict *widget.Label
	cause   *widget.Label
	note    *widget.Label // that the summary was copied
	list    *fyne.Container
	exports *fyne.Container
	report  *netcheck.Report
}

// doctorTimeout bounds each check, as paraphe doctor does by default.
const doctorTimeout = 5 * time.Second

func newDoctorScreen(u *UI) *doctorScreen {
	d := &doctorScreen{u: u, busy: widget.NewProgressBar(), verdict: widget.NewLabelWithStyle("", fyne.TextAlignLeading, fyne.TextStyle{Bold: true}),
		cause: wrapLabel(""), note: wrapLabel(""), list: container.NewVBox()}
	d.busy.Hide()
	d.note.Importance = widget.SuccessImportance
	d.note.Hide()
	d.runBtn = u.newPrimary(u.T("app.doctor.run"), theme.MediaPlayIcon(), d.run)
	d.exports = container.NewHBox(
		u.newButton(u.T("app.doctor.save_html"), theme.DocumentSaveIcon(), func() { d.save("html") }),
		u.newButton(u.T("app.doctor.save_json"), theme.DocumentSaveIcon(), func() { d.save("json") }),
		u.newButton(u.T("app.doctor.copy"), theme.ContentCopyIcon(), d.copy),
	)
	d.exports.Hide()
	// The report's exports under its verdict: beside the button they
	// would widen the window past a small screen.
	top := container.NewVBox(heading(u.T("app.doctor.title")), wrapLabel(u.T("app.doctor.intro")),
		container.NewHBox(d.runBtn), d.note, d.busy, d.verdict, d.cause, d.exports)
	d.content = container.NewBorder(top, nil, nil, nil, container.NewVScroll(d.list))
	return d
}

// run runs every check; the bar fills with the time the checks may take
// (they run concurrently, each bounded by the timeout).
func (d *doctorScreen) run() {
	u := d.u
	if d.runBtn.Disabled() {
		return // already running
	}
	pol, polErr := u.policy()
	if u.pol == nil {
		pol, polErr = nil, u.polErr
	}
	d.runBtn.Disable()
	d.exports.Hide()
	d.note.Hide()
	d.list.RemoveAll()
	d.verdict.SetText(u.T("app.doctor.running"))
	d.cause.SetText("")
	d.busy.Max = doctorTimeout.Seconds() + 1
	d.busy.SetValue(0)
	d.busy.Show()
	start := time.Now()
	ticker := time.NewTicker(100 * time.Millisecond)
	stop := make(chan struct{})
	go func() {
		for {
			select {
			case <-ticker.C:
				u.do(func() { d.busy.SetValue(time.Since(start).Seconds()) })
			case <-stop:
				ticker.Stop()
				return
			}
		}
	}()
	var rep *netcheck.Report
	var mu sync.Mutex
	u.task(nil, func(ctx context.Context) error {
		rep = netcheck.Run(ctx, netcheck.Options{Policy: pol, PolicyErr: polErr, Timeout: doctorTimeout,
			Local: local.Checks(pol, u.opt.Now), Version: u.opt.Version,
			Found: func(f netcheck.Finding) {
				mu.Lock() // checks report at the same time; the window takes them one by one
				defer mu.Unlock()
				u.answer(func() { d.addFinding(f) })
			}})
		return nil
	}, func(error) {
		close(stop)
		d.busy.Hide()
		d.runBtn.Enable()
		d.show(rep)
	})
}

// severityIcon is the icon of a finding (looked up when drawn: the theme
// belongs to the running app).
func severityIcon(s netcheck.Severity) fyne.Resource {
	switch s {
	case netcheck.OK:
		return theme.ConfirmIcon()
	case netcheck.Warning:
		return theme.WarningIcon()
	case netcheck.Error:
		return theme.ErrorIcon()
	}
	return theme.InfoIcon()
}

func (d *doctorScreen) show(rep *netcheck.Report) {
	u := d.u
	d.report = rep
	d.verdict.SetText(u.T("doctor.verdict." + string(rep.Verdict)))
	d.verdict.Importance = map[netcheck.Verdict]widget.Importance{netcheck.Works: widget.SuccessImportance,
		netcheck.WorksWarning: widget.WarningImportance, netcheck.Blocked: widget.DangerImportance}[rep.Verdict]
	d.verdict.Refresh()
	if rep.Cause != nil {
		text := u.T("doctor.cause", "What", explain.Finding(u.p, *rep.Cause))
		if rep.Cause.Fix != "" {
			text += "\n" + u.T("doctor.fix", "Fix", u.T("doctor.fix."+string(rep.Cause.Fix), "Target", rep.Cause.Target))
		}
		d.cause.SetText(text)
	}
	// The findings came one by one as the checks ran; the report has them
	// in the order that reads best.
	d.list.RemoveAll()
	for _, f := range rep.Findings {
		d.addFinding(f)
	}
	d.exports.Show()
}

// addFinding shows one finding with its icon, and the fix when something
// is wrong.
func (d *doctorScreen) addFinding(f netcheck.Finding) {
	u := d.u
	row := container.NewVBox(wrapLabel(explain.Finding(u.p, f)))
	if f.Fix != "" && (f.Severity == netcheck.Error || f.Severity == netcheck.Warning) {
		fix := wrapLabel(u.T("doctor.fix", "Fix", u.T("doctor.fix."+string(f.Fix), "Target", f.Target)))
		fix.Importance = widget.LowImportance
		row.Add(fix)
	}
	d.list.Add(container.NewBorder(nil, nil, container.NewVBox(widget.NewIcon(severityIcon(f.Severity))), nil, row))
}

// summary is the report as text for the clipboard or an e-mail.
func (d *doctorScreen) summary() string {
	u := d.u
	var b strings.Builder
	fmt.Fprintln(&b, u.T("doctor.verdict."+string(d.report.Verdict)))
	if d.cause.Text != "" {
		fmt.Fprintln(&b, d.cause.Text)
	}
	marks := map[netcheck.Severity]string{netcheck.OK: "ok", netcheck.Info: "i", netcheck.Warning: "!", netcheck.Error: "x"}
	for _, f := range d.report.Findings {
		fmt.Fprintf(&b, "[%s] %s\n", marks[f.Severity], explain.Finding(u.p, f))
	}
	return b.String()
}

func (d *doctorScreen) copy() {
	d.u.app.Clipboard().SetContent(d.summary())
	d.note.SetText(d.u.T("app.doctor.copied"))
	d.note.Show()
}

// saved says where the report went.
func (d *doctorScreen) saved(path string) {
	d.u.showMessage(d.u.T("app.doctor.title"), d.u.T("app.doctor.saved", "Path", path), d.u.T("app.doctor.saved_hint"))
}

// save writes the report as a self-contained HTML page or JSON.
func (d *doctorScreen) save(format string) {
	u := d.u
	var data []byte
	var err error
	if format == "html" {
		data, err = explain.DoctorHTML(u.p, d.report, u.opt.Version)
	} else {
		data, err = json.MarshalIndent(d.report, "", "  ")
	}
	if err != nil {
		u.showError(err)
		return
	}
	filter := jsonFiles
	if format == "html" {
		filter = htmlFiles
	}
	u.saveReport("paraphe-doctor."+format, filter, data, d.saved)
}
