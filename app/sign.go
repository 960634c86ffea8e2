package app

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/paraphe/paraphe/activation"
	"github.com/paraphe/paraphe/config"
	"github.com/paraphe/paraphe/internal/explain"
	"github.com/paraphe/paraphe/internal/local"
	"github.com/paraphe/paraphe/pdf"
	"github.com/paraphe/paraphe/pkcs"
)

// signScreen signs a batch of PDFs with one PIN: each file gets its own
// progress and result; the originals are never touched (the signed copy is
// name-signed.pdf beside it).
type signScreen struct {
	u       *UI
	content fyne.CanvasObject

	files    []*signRow
	rows     *fyne.Container
	certs    []local.Cert
	cert     *widget.Select
	visible  *widget.Check
	page     *field
	corner   *widget.Select
	reason   *field
	location *field
	level    *widget.Select
	preview  *pagePreview
	pageInfo *widget.Label
	custom   *[4]float64 // a place tapped on the preview, instead of a corner
	// previewGen numbers preview requests: only the latest is shown.
	previewGen  int
	previewStop func()
	overall     *widget.ProgressBar
	signBtn     *button
	stopBtn     *widget.Button
	cancel      func()
	// repair asks whether to repair the damaged files of a batch, which
	// repairInfo lists.
	repair     *confirmBox
	repairInfo *widget.Label
	// The last password question (tests drive it): its dialog, entry, and
	// why an earlier password was refused.
	passwordDialog *pinBox
	passwordEntry  *field
	passwordWhy    *widget.Label
}

// signRow is one file of the batch.
type signRow struct {
	in, out string
	status  *widget.Label
	bar     *widget.ProgressBarInfinite
	actions *fyne.Container
	ok      bool
	// password opens an encrypted document (or lifts its restrictions),
	// as typed for this batch; cleared when the batch ends.
	password []byte
}

var levels = []pdf.Level{pdf.LevelB, pdf.LevelT, pdf.LevelLT, pdf.LevelLTA}

var corners = []pdf.Corner{pdf.CornerBottomRight, pdf.CornerBottomLeft, pdf.CornerTopRight, pdf.CornerTopLeft}

func newSignScreen(u *UI) *signScreen {
	s := &signScreen{u: u, rows: container.NewVBox()}
	add := widget.NewButtonWithIcon(u.T("app.sign.add"), theme.FolderOpenIcon(), s.pick)
	clearBtn := widget.NewButtonWithIcon(u.T("app.sign.clear"), theme.ContentClearIcon(), func() {
		s.files = nil
		s.redraw()
	})
	s.cert = widget.NewSelect(nil, nil)
	s.visible = widget.NewCheck(u.T("app.sign.visible"), nil)
	s.page = u.newField()
	s.page.SetText("1")
	s.page.Validator = func(v string) error {
		if n, err := strconv.Atoi(v); err != nil || n < 1 {
			return pdf.ErrPageRange
		}
		return nil
	}
	var cornerNames []string
	for _, c := range corners {
		cornerNames = append(cornerNames, u.T("app.sign.corner."+string(c)))
	}
	s.corner = widget.NewSelect(cornerNames, nil)
	s.corner.SetSelectedIndex(0)
	s.corner.OnChanged = func(string) {
		if s.corner.SelectedIndex() >= 0 {
			s.custom = nil
			s.preview.place(pdf.CornerRect(corners[s.corner.SelectedIndex()], s.preview.geo.Width, s.preview.geo.Height))
		}
	}
	s.preview = newPagePreview(func(rect [4]float64) {
		s.custom = &rect
		s.corner.ClearSelected()
		s.corner.PlaceHolder = u.T("app.sign.corner.custom")
		s.corner.Refresh()
	})
	s.pageInfo = widget.NewLabel("")
	s.page.OnChanged = func(string) { s.updatePreview() }
	detail := wrapLabel(u.T("app.sign.visible_detail"))
	placement := container.NewVBox(detail, container.NewGridWithColumns(2, widget.NewForm(widget.NewFormItem(u.T("app.sign.page"), s.page)), s.corner),
		s.pageInfo, s.preview)
	placement.Hide()
	s.visible.OnChanged = func(on bool) {
		if on {
			placement.Show()
			s.updatePreview()
		} else {
			placement.Hide()
		}
	}
	s.reason = u.newField()
	s.location = u.newField()
	var levelNames []string
	for _, l := range levels {
		levelNames = append(levelNames, u.T("app.sign.level."+string(l)))
	}
	s.level = widget.NewSelect(levelNames, nil)
	s.level.SetSelectedIndex(1)
	s.overall = widget.NewProgressBar()
	s.overall.Hide()
	s.signBtn = u.newPrimary(u.T("app.sign.sign"), theme.DocumentCreateIcon(), s.sign)
	s.stopBtn = widget.NewButtonWithIcon(u.T("app.cancel"), theme.CancelIcon(), func() {
		if s.cancel != nil {
			s.cancel()
		}
	})
	s.stopBtn.Hide()

	form := widget.NewForm(
		widget.NewFormItem(u.T("app.sign.cert"), s.cert),
		widget.NewFormItem(u.T("app.sign.appearance"), container.NewVBox(s.visible, placement)),
		widget.NewFormItem(u.T("app.sign.reason"), s.reason),
		widget.NewFormItem(u.T("app.sign.location"), s.location),
		widget.NewFormItem(u.T("app.sign.level"), s.level),
	)
	files := container.NewBorder(container.NewVBox(heading(u.T("app.sign.files")), container.NewHBox(add, clearBtn)), nil, nil, nil,
		container.NewVScroll(s.rows))
	bottom := container.NewVBox(s.overall, container.NewHBox(s.signBtn, s.stopBtn))
	split := container.NewHSplit(files, container.NewVScroll(form))
	split.Offset = 0.45
	s.content = container.NewBorder(heading(u.T("app.sign.title")), bottom, nil, nil, split)
	s.loadCerts()
	s.applyDefaults(u.settings.Signature)
	s.redraw()
	return s
}

// applyDefaults sets the choices to the user's usual ones.
func (s *signScreen) applyDefaults(d config.SignatureDefaults) {
	if i := indexOf(cornerNames(), d.Corner); i >= 0 {
		s.corner.SetSelectedIndex(i)
	}
	for i, l := range levels {
		if string(l) == d.Level {
			s.level.SetSelectedIndex(i)
		}
	}
	s.reason.SetText(d.Reason)
	s.location.SetText(d.Location)
	s.visible.SetChecked(d.Visible)
}

func cornerNames() []string {
	var out []string
	for _, c := range corners {
		out = append(out, string(c))
	}
	return out
}

// loadCerts fills the certificate choice, the default one first selected.
func (s *signScreen) loadCerts() {
	u := s.u
	var prev []string
	for _, c := range s.certs {
		prev = append(prev, c.ID)
	}
	s.certs = s.u.certs
	var names []string
	selected := 0
	for i, c := range s.certs {
		names = append(names, u.certLabel(c, s.certs))
		if c.ID == u.settings.DefaultCert {
			selected = i
		}
	}
	// The certificate chosen stays chosen; the default otherwise.
	if i := s.cert.SelectedIndex(); i >= 0 && i < len(prev) {
		for j, c := range s.certs {
			if c.ID == prev[i] {
				selected = j
			}
		}
	}
	s.cert.SetOptions(names)
	if len(names) > 0 {
		s.cert.SetSelectedIndex(selected)
	} else {
		s.cert.PlaceHolder = u.T("app.sign.no_cert")
		s.cert.Refresh()
	}
}

// selectCert makes certificate id the one to sign with.
func (s *signScreen) selectCert(id string) {
	s.loadCerts()
	for i, c := range s.certs {
		if c.ID == id {
			s.cert.SetSelectedIndex(i)
		}
	}
}

func (s *signScreen) pick() {
	s.u.chooseFiles(fileRequest{title: "app.files.add_title", accept: "app.files.add", filter: pdfFiles, multiple: true},
		func(paths []string) { s.add(paths...) })
}

// add puts files in the batch (each once).
func (s *signScreen) add(paths ...string) {
	for _, p := range paths {
		abs, err := filepath.Abs(p)
		if err != nil {
			continue
		}
		dup := false
		for _, f := range s.files {
			dup = dup || f.in == abs
		}
		if !dup {
			s.files = append(s.files, &signRow{in: abs, status: widget.NewLabel(s.u.T("app.sign.waiting")),
				bar: widget.NewProgressBarInfinite(), actions: container.NewHBox()})
		}
	}
	s.redraw()
	s.updatePreview()
}

// updatePreview draws the chosen page of the first document, with the
// stamp where it will go.
func (s *signScreen) updatePreview() {
	u := s.u
	page, err := strconv.Atoi(s.page.Text)
	if !s.visible.Checked || len(s.files) == 0 || err != nil || page < 1 {
		return
	}
	path := s.files[0].in
	var geo pdf.PageGeometry
	var png string
	dir := u.tempDir()
	s.previewGen++
	gen := s.previewGen
	if s.previewStop != nil {
		s.previewStop() // a newer page replaces the one being drawn
	}
	u.task(&s.previewStop, func(ctx context.Context) (err error) {
		if geo, err = pdf.Page(path, page); err == nil {
			png = renderPage(ctx, path, page, dir, gen)
		}
		return err
	}, func(err error) {
		if gen != s.previewGen {
			return // superseded
		}
		if err != nil {
			s.pageInfo.SetText(explain.Sign(u.p, err, filepath.Base(path)).Text)
			s.pageInfo.Importance = widget.WarningImportance
			s.pageInfo.Refresh()
			return
		}
		s.pageInfo.SetText(u.T("app.sign.page_of", "File", filepath.Base(path), "Page", page, "Pages", geo.Pages))
		s.pageInfo.Importance = widget.MediumImportance
		s.pageInfo.Refresh()
		rect := pdf.CornerRect(corners[max(s.corner.SelectedIndex(), 0)], geo.Width, geo.Height)
		if s.custom != nil {
			rect = *s.custom
		}
		s.preview.show(geo, png, rect)
	})
}

func (s *signScreen) redraw() {
	s.rows.RemoveAll()
	if len(s.files) == 0 {
		s.rows.Add(wrapLabel(s.u.T("app.sign.drop")))
	}
	for _, f := range s.files {
		f.bar.Hide()
		if f.status.Text == s.u.T("app.sign.working") {
			f.bar.Show()
		}
		name := widget.NewLabelWithStyle(filepath.Base(f.in), fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
		s.rows.Add(container.NewVBox(name, f.status, f.bar, f.actions, widget.NewSeparator()))
	}
	s.rows.Refresh()
}

// sign asks the PIN once, then signs every file.
func (s *signScreen) sign() {
	u := s.u
	if len(s.files) == 0 {
		u.showMessage(u.T("app.sign.title"), u.T("app.sign.drop"), "")
		return
	}
	i := s.cert.SelectedIndex()
	if i < 0 || i >= len(s.certs) {
		u.showError(local.ErrNoCert)
		return
	}
	if s.visible.Checked && s.page.Validate() != nil {
		u.showMessage(u.T("app.sign.title"), u.T("app.sign.bad_page"), "")
		return
	}
	c := s.certs[i]
	u.withPolicy(c, func(pol *config.Policy) { s.signWith(pol, c) })
}

// signWith signs the batch with c under pol: the files are looked at first
// (passwords, damage, signed copies already there), then the PIN is asked.
func (s *signScreen) signWith(pol *config.Policy, c local.Cert) {
	u := s.u
	opts := pdf.Options{Level: levels[max(s.level.SelectedIndex(), 0)], Reason: s.reason.Text, Location: s.location.Text}
	if s.visible.Checked {
		page, _ := strconv.Atoi(s.page.Text)
		opts.Appearance = &pdf.Appearance{Page: page, Corner: corners[max(s.corner.SelectedIndex(), 0)],
			Lang: u.p.Lang, Zone: time.Local, Labels: explain.StampLabels(u.p)}
		if s.custom != nil {
			opts.Appearance.Rect = *s.custom
		}
	} else {
		// A form prepared for signers is signed in its next empty field.
		opts.NextField = &pdf.Appearance{Lang: u.p.Lang, Zone: time.Local, Labels: explain.StampLabels(u.p)}
	}
	// Encrypted files get their passwords, and damaged files are named
	// and repaired only if the user says so, before the PIN is asked: one
	// PIN for the whole batch.
	files := append([]*signRow(nil), s.files...)
	for _, f := range files {
		clear(f.password)
		f.password = nil
	}
	var damaged []string
	var locked []lockedFile
	var signed []*signRow // a signed copy is already there
	u.task(nil, func(context.Context) error {
		for _, f := range files {
			if _, err := os.Lstat(pdf.OutputName(f.in)); err == nil {
				signed = append(signed, f)
				continue
			}
			d, err := pdf.Inspect(f.in, opts)
			if d != nil {
				damaged = append(damaged, s.damageLine(f.in, d))
			}
			if errors.Is(err, pdf.ErrPassword) || errors.Is(err, pdf.ErrPermission) {
				locked = append(locked, lockedFile{f, err})
			}
		}
		return nil
	}, func(error) {
		if s.alreadySigned(signed) {
			return
		}
		s.unlock(locked, opts, func(more []string) {
			damaged = append(damaged, more...)
			sign := func() {
				u.askPIN(c, nil, func(key *pkcs.Key, pin []byte) {
					clear(pin)
					s.run(pol, c, key, opts)
				})
			}
			if len(damaged) == 0 {
				sign()
				return
			}
			s.confirmRepair(damaged, func(repair bool) {
				opts.Repair = repair
				sign()
			})
		})
	})
}

// alreadySigned marks the files of the batch whose signed copy is already
// there, and when that is all of them, says so and tells that nothing is
// to be signed: no PIN is asked for nothing.
func (s *signScreen) alreadySigned(signed []*signRow) bool {
	u := s.u
	for _, f := range signed {
		e := explain.Sign(u.p, pdf.ErrOutputExists, filepath.Base(f.in))
		f.status.SetText(e.Text + "\n" + e.Hint)
		f.status.Importance = widget.DangerImportance
		f.status.Refresh()
	}
	if len(signed) == 0 || len(signed) < len(s.files) {
		return false
	}
	u.showMessage(u.T("app.sign.title"), u.T("app.sign.all_signed", "N", len(signed)), u.T("hint.pdf_output"))
	return true
}

// damageLine names a damaged file and what is wrong with it.
func (s *signScreen) damageLine(path string, d *pdf.Damage) string {
	return s.u.T("app.sign.repair_file", "File", filepath.Base(path), "What", explain.Damage(s.u.p, *d))
}

// confirmRepair lists the damaged files of a batch and asks whether to
// repair and sign them, or to leave them out (they are then refused, with
// what to do).
func (s *signScreen) confirmRepair(damaged []string, then func(repair bool)) {
	u := s.u
	s.repairInfo = wrapLabel(strings.Join(damaged, "\n"))
	box := container.NewVBox(wrapLabel(u.T("app.sign.repair_intro", "N", len(damaged))), s.repairInfo,
		wrapLabel(u.T("app.sign.repair_question")))
	s.repair = u.confirm(u.T("app.sign.repair_title"), box, u.T("app.sign.repair_skip"), u.T("app.sign.repair_confirm"), then)
}

func (s *signScreen) run(pol *config.Policy, c local.Cert, key *pkcs.Key, opts pdf.Options) {
	u := s.u
	files := append([]*signRow(nil), s.files...)
	for _, f := range files {
		f.status.SetText(u.T("app.sign.waiting"))
		f.status.Importance = widget.MediumImportance
		f.actions.RemoveAll()
		f.ok = false
	}
	s.overall.Max = float64(len(files))
	s.overall.SetValue(0)
	s.overall.Show()
	s.signBtn.Disable()
	s.stopBtn.Show()
	u.task(&s.cancel, func(ctx context.Context) error {
		// A token stays logged in until its store is closed: log out when
		// the batch is done, so the next batch asks the token for the PIN.
		defer closeStore(c.Store)
		var err error
		opts.HTTP, opts.TSA, err = activation.SigningServices(ctx, pol, opts.Level != pdf.LevelB)
		if err != nil {
			return err
		}
		signer := &pdf.Signer{Key: key, Chain: key.Chain, Opts: opts}
		jobs := make([]pdf.Job, len(files))
		for i, f := range files {
			jobs[i] = pdf.Job{In: f.in, Out: pdf.OutputName(f.in), Password: f.password}
		}
		defer func() {
			for _, f := range files {
				clear(f.password)
			}
		}()
		// The batch reports from its goroutines. fyne.Do runs each report
		// on the window's goroutine, one after another, but fyne's test
		// driver runs it on the caller's: the lock keeps them apart there.
		var ui sync.Mutex
		show := func(f func()) {
			fyne.Do(func() {
				ui.Lock()
				defer ui.Unlock()
				f()
			})
		}
		var done int
		signer.SignFiles(ctx, jobs, pdf.Progress{
			Started: func(i int) {
				show(func() {
					files[i].status.SetText(u.T("app.sign.working"))
					files[i].bar.Show()
				})
			},
			Done: func(i int, r pdf.JobResult) {
				show(func() {
					if errors.Is(r.Err, context.Canceled) {
						files[i].bar.Hide()
						files[i].status.SetText(u.T("app.sign.not_signed"))
						return
					}
					s.showResult(files[i], r)
					done++
					s.overall.SetValue(float64(done))
				})
			},
		})
		return ctx.Err() // cancelled: the files not reached say so
	}, func(err error) {
		s.signBtn.Enable()
		s.stopBtn.Hide()
		if err != nil {
			for _, f := range files {
				if f.status.Text == u.T("app.sign.waiting") {
					f.status.SetText(u.T("app.sign.not_signed"))
				}
			}
			u.showError(err)
		}
		s.redraw()
	})
}

// showResult shows how one file went.
func (s *signScreen) showResult(f *signRow, r pdf.JobResult) {
	u := s.u
	f.bar.Hide()
	if r.Err != nil {
		e := explain.Sign(u.p, r.Err, filepath.Base(f.in))
		f.status.SetText(e.Text + "\n" + e.Hint)
		f.status.Importance = widget.DangerImportance
		f.status.Refresh()
		return
	}
	out := r.Output
	f.ok, f.out = true, out
	status := u.T("app.sign.done", "File", filepath.Base(out), "Level", string(r.Level))
	if r.Repaired != nil {
		status += "\n" + u.T("app.sign.repaired", "What", explain.Damage(u.p, *r.Repaired))
	}
	f.status.SetText(status)
	f.status.Importance = widget.SuccessImportance
	f.status.Refresh()
	f.actions.Objects = []fyne.CanvasObject{
		widget.NewButtonWithIcon(u.T("app.sign.show_folder"), theme.FolderIcon(), func() { u.openFolder(out) }),
		widget.NewButtonWithIcon(u.T("app.sign.verify"), theme.ConfirmIcon(), func() {
			u.show(u.verifier.content)
			u.verifier.open(out)
		}),
	}
	f.actions.Refresh()
}
