package app

import (
	"context"
	"errors"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
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
	"github.com/paraphe/paraphe/pkcs/remote"
)

// signScreen signs a batch of PDFs with one PIN: each file gets its own
// progress and result; the originals are never touched (the signed copy is
// name-signed.pdf beside it). Clicking a file selects it: the preview
// shows it. Every word the screen says comes from its state (relabel says
// it again in another language), so that switching the language loses
// nothing, not even a batch under way.
type signScreen struct {
	u       *UI
	content fyne.CanvasObject
	tips    *tipLayer

	files    []*signRow
	selected *signRow // the file the preview shows
	rows     *fyne.Container
	certs    []local.Cert
	cert     *widget.Select
	visible  *widget.Check
	page     *field
	corner   *widget.Select
	reason   *field
	location *field
	level    *widget.Select
	levelTip *widget.Label // what the chosen level means
	view     *docView      // the selected document, the stamp over its page
	stamp    *overlay      // nil while no page of the document shown has it
	viewing  string        // the file the view shows
	pageInfo *widget.Label
	covers   *widget.Label // the stamp lies over the page's content
	custom   *[4]float64   // a place the stamp was put (tapped, dragged), instead of a corner
	shown    previewState  // what the preview shows, for its words
	// previewGen numbers preview requests: only the latest is shown.
	previewGen  int
	previewStop func()
	coverGen    int // numbers the checks of what the stamp covers
	stampGen    int // numbers the drawings of the stamp as it will look
	overall     *widget.ProgressBar
	signBtn     *button
	stopBtn     *widget.Button
	cancel      func()
	// The words a language switch says again.
	title, filesTitle, detail *widget.Label
	addBtn, clearBtn          *widget.Button
	receiveBtn                *widget.Button // "Received folders", when the policy names an exchange
	form, certForm, pageForm  *widget.Form
	// repair asks whether to repair the damaged files of a batch, which
	// repairInfo lists; coverAsk whether to sign over the content that
	// coverInfo lists.
	repair     *confirmBox
	repairInfo *widget.Label
	coverAsk   *confirmBox
	coverInfo  *widget.Label
	// The last password question (tests drive it): its dialog, entry, and
	// why an earlier password was refused.
	passwordDialog *pinBox
	otpEntry       *field // a remote key's one-time password, in the PIN's box
	passwordEntry  *field
	passwordWhy    *widget.Label
}

// previewState is the page the preview shows (or why it shows none).
type previewState struct {
	path string
	page int
	geo  pdf.PageGeometry
	err  error
}

var levels = []pdf.Level{pdf.LevelB, pdf.LevelT, pdf.LevelLT, pdf.LevelLTA}

var corners = []pdf.Corner{pdf.CornerBottomRight, pdf.CornerBottomLeft, pdf.CornerTopRight, pdf.CornerTopLeft}

func newSignScreen(u *UI) *signScreen {
	s := &signScreen{u: u, rows: container.NewVBox(), tips: newTipLayer()}
	s.addBtn = widget.NewButtonWithIcon("", theme.FolderOpenIcon(), s.pick)
	s.clearBtn = widget.NewButtonWithIcon("", theme.ContentClearIcon(), s.clear)
	s.receiveBtn = widget.NewButtonWithIcon("", theme.DownloadIcon(), u.receiveFolders)
	if !u.canSend() {
		s.receiveBtn.Hide()
	}
	s.cert = widget.NewSelect(nil, func(string) {
		if s.stamp != nil { // the stamp names the holder chosen
			s.stamp.label = s.signerName()
			s.stamp.picture = nil
			s.stamp.Refresh()
			s.drawStamp()
		}
	})
	s.reason = u.newField()
	s.location = u.newField()
	s.reason.OnChanged = func(string) { s.drawStamp() } // the stamp says them
	s.location.OnChanged = s.reason.OnChanged
	s.level = widget.NewSelect(nil, func(string) { s.sayLevel() })
	s.levelTip = wrapLabel("")
	s.overall = widget.NewProgressBar()
	s.overall.Hide()
	s.signBtn = u.newPrimary("", theme.DocumentCreateIcon(), s.sign)
	s.stopBtn = widget.NewButtonWithIcon("", theme.CancelIcon(), func() {
		if s.cancel != nil {
			s.cancel()
		}
	})
	s.stopBtn.Hide()
	s.title, s.filesTitle = heading(""), heading("")
	s.title.Wrapping, s.filesTitle.Wrapping = fyne.TextWrapWord, fyne.TextWrapWord

	placement, preview := s.placement()
	// Who signs, across the screen: the whole width for a holder's name,
	// title and store, which the choice's list shows no wider than it.
	s.certForm = widget.NewForm(widget.NewFormItem("", s.cert))
	s.form = widget.NewForm(
		widget.NewFormItem("", container.NewVBox(s.visible, placement)),
		widget.NewFormItem("", s.reason),
		widget.NewFormItem("", s.location),
		widget.NewFormItem("", container.NewVBox(s.level, s.levelTip)),
	)
	// The documents and how to sign them on the left, the list over the
	// choices; the one selected on the right, the whole height for its
	// pages (with the stamp while the signature is visible).
	list := container.NewVScroll(s.rows)
	left := container.NewVSplit(list, container.NewVScroll(s.form))
	left.Offset = 0.3
	s.visible.OnChanged = func(on bool) {
		if on {
			placement.Show()
		} else {
			placement.Hide()
		}
		s.updatePreview() // last: its answer comes once the screen is laid out
	}
	placement.Hide()
	files := container.NewBorder(container.NewVBox(s.filesTitle, container.NewHBox(s.addBtn, s.clearBtn, s.receiveBtn)), nil, nil, nil, left)
	bottom := container.NewVBox(s.overall, container.NewHBox(s.signBtn, s.stopBtn))
	split := container.NewHSplit(files, preview)
	split.Offset = 0.6 // the levels' names whole, in every language, at 800×600
	s.content = s.tips.over(container.NewBorder(container.NewVBox(s.title, s.certForm), bottom, nil, nil, split))
	s.relabel()
	s.corner.SetSelectedIndex(0)
	s.level.SetSelectedIndex(1)
	s.applyDefaults(u.settings.Signature)
	return s
}

// placement is the visible signature's choices (the page, the corner)
// and the preview of the selected file, where a tap places it: shown
// while the signature is visible.
func (s *signScreen) placement() (choices, preview fyne.CanvasObject) {
	s.visible = widget.NewCheck("", nil)
	s.page = s.u.newField()
	s.page.SetText("1")
	s.page.Validator = func(v string) error {
		if n, err := strconv.Atoi(v); err != nil || n < 1 {
			return pdf.ErrPageRange
		}
		return nil
	}
	s.page.OnChanged = func(string) { s.updatePreview() }
	s.corner = widget.NewSelect(nil, nil)
	s.corner.OnChanged = func(string) {
		if i := s.corner.SelectedIndex(); i >= 0 {
			s.custom = nil
			s.placeStamp(true)
			s.checkCover()
		}
	}
	s.view = newDocView(s.u)
	s.view.onOpened = func(err error) {
		if err == nil {
			s.placeStamp(true)
		}
	}
	s.view.onTapPage = s.tapped
	s.view.onZoom = s.drawStamp // sharp at its new size
	s.pageInfo = wrapLabel("")
	s.covers = wrapLabel("")
	s.covers.Importance = widget.WarningImportance
	s.covers.Hide()
	s.detail = wrapLabel("")
	s.pageForm = widget.NewForm(widget.NewFormItem("", s.page))
	// The warning beside the choices that answer it, out of the
	// preview's height.
	return container.NewVBox(s.detail, s.pageForm, s.corner, s.covers),
		container.NewBorder(s.pageInfo, nil, nil, nil, s.view.content)
}

// relabel says every word of the screen in the user's language, from what
// the screen holds.
func (s *signScreen) relabel() {
	u := s.u
	s.title.SetText(u.T("app.sign.title"))
	s.filesTitle.SetText(u.T("app.sign.files"))
	s.addBtn.SetText(u.T("app.sign.add"))
	s.clearBtn.SetText(u.T("app.sign.clear"))
	s.receiveBtn.SetText(u.T("app.receive.button"))
	s.visible.Text = u.T("app.sign.visible")
	s.visible.Refresh()
	s.detail.SetText(u.T("app.sign.visible_detail"))
	s.pageForm.Items[0].Text = u.T("app.sign.page")
	s.pageForm.Refresh()
	var names []string
	for _, c := range corners {
		names = append(names, u.T("app.sign.corner."+string(c)))
	}
	setOptions(s.corner, names)
	s.sayCorner()
	names = nil
	for _, l := range levels {
		names = append(names, u.T("app.sign.level."+string(l)))
	}
	setOptions(s.level, names)
	s.sayLevel()
	s.certForm.Items[0].Text = u.T("app.sign.cert")
	s.certForm.Refresh()
	for i, key := range []string{"app.sign.appearance", "app.sign.reason", "app.sign.location", "app.sign.level"} {
		s.form.Items[i].Text = u.T(key)
	}
	s.form.Refresh()
	s.signBtn.SetText(u.T("app.sign.sign"))
	s.stopBtn.SetText(u.T("app.cancel"))
	s.loadCerts()
	s.view.relabel()
	s.drawStamp() // its words in the language
	s.sayPreview()
	s.redraw()
}

// setOptions gives sel other words for the same options, the one chosen
// staying chosen (and OnChanged not called: nothing changed).
func setOptions(sel *widget.Select, options []string) {
	i, changed := sel.SelectedIndex(), sel.OnChanged
	sel.OnChanged = nil
	sel.SetOptions(options)
	if i >= 0 && i < len(options) {
		sel.SetSelectedIndex(i)
	}
	sel.OnChanged = changed
}

// sayCorner says where the stamp goes when no corner is chosen.
func (s *signScreen) sayCorner() {
	if s.custom != nil {
		s.corner.PlaceHolder = s.u.T("app.sign.corner.custom")
		s.corner.Refresh()
	}
}

// sayLevel says what the chosen level means.
func (s *signScreen) sayLevel() {
	if i := s.level.SelectedIndex(); i >= 0 {
		s.levelTip.SetText(s.u.T("app.sign.level_detail." + string(levels[i])))
	}
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
	s.cert.PlaceHolder = u.T("app.sign.no_cert")
	if len(names) > 0 {
		s.cert.PlaceHolder = " " // its width is the choice's least: not the long words above
		s.cert.SetSelectedIndex(selected)
	}
	s.cert.Refresh()
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

// add puts files in the batch (each once) and selects the first one new
// to it, which the preview then shows.
func (s *signScreen) add(paths ...string) {
	var first *signRow
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
			f := s.newRow(abs)
			s.files = append(s.files, f)
			if first == nil {
				first = f
			}
		}
	}
	if first != nil {
		s.selected = first
	}
	s.redraw()
	s.updatePreview()
}

// clear empties the batch, and the preview with it.
func (s *signScreen) clear() {
	s.files, s.selected = nil, nil
	s.redraw()
	s.updatePreview()
}

// choose selects file f: the preview shows it.
func (s *signScreen) choose(f *signRow) {
	if s.selected == f {
		return
	}
	s.selected = f
	for _, r := range s.files {
		r.box.setSelected(r == f)
	}
	s.updatePreview()
}

// updatePreview shows the selected document (what is signed is read
// before it is signed), with a visible signature the chosen page in view
// with the stamp where it will go; with no document it shows none. What it
// shows and what it says come from the same request: a page is never said
// to be another document's.
func (s *signScreen) updatePreview() {
	u := s.u
	s.previewGen++
	gen := s.previewGen
	if s.previewStop != nil {
		s.previewStop() // a newer page replaces the one being drawn
		s.previewStop = nil
	}
	page, err := strconv.Atoi(s.page.Text)
	switch {
	case s.selected != nil && !s.visible.Checked:
		s.showPage(previewState{path: s.selected.in}) // no page: no stamp
		return
	case s.selected == nil:
		s.showPage(previewState{})
		return
	case err != nil || page < 1:
		s.showPage(previewState{path: s.selected.in, err: pdf.ErrPageRange})
		return
	}
	want := previewState{path: s.selected.in, page: page}
	u.task(&s.previewStop, func(ctx context.Context) (err error) {
		want.geo, err = pdf.Page(want.path, page)
		return err
	}, func(err error) {
		if gen != s.previewGen {
			return // superseded
		}
		want.err = err
		s.showPage(want)
	})
}

// showPage shows what the preview came to: the document with the stamp on
// its page, or nothing and why.
func (s *signScreen) showPage(st previewState) {
	s.shown = st
	switch {
	case st.path == "":
		s.viewing, s.stamp = "", nil
		s.view.close()
	case st.path != s.viewing:
		s.viewing, s.stamp = st.path, nil
		s.view.openFile(st.path, nil) // the stamp is put on once it is open
	default:
		s.placeStamp(true)
	}
	s.sayPreview()
	s.checkCover()
	s.u.retitle()
}

// placeStamp puts the stamp where it goes (the place it was put, else the
// corner chosen) on the page chosen, when the view shows that page of the
// document, and brings it into view when scroll says so.
func (s *signScreen) placeStamp(scroll bool) {
	if s.stamp != nil {
		s.view.removeOverlay(s.stamp)
		s.stamp = nil
	}
	st := s.shown
	if st.err != nil || st.path == "" || st.path != s.viewing || st.page < 1 || st.page > len(s.view.pages) {
		return
	}
	rect := st.geo.CornerRect(corners[max(s.corner.SelectedIndex(), 0)])
	if s.custom != nil {
		rect = *s.custom
	}
	s.stamp = newOverlay(overlayStamp, st.page-1, rect, s.signerName())
	s.stamp.onChange = s.stampMoved
	s.view.addOverlay(s.stamp)
	s.drawStamp()
	if scroll {
		s.view.scrollToOverlay(s.stamp)
	}
}

// signerName is the name of the holder of the certificate chosen, which the
// stamp shows.
func (s *signScreen) signerName() string {
	if i := s.cert.SelectedIndex(); i >= 0 && i < len(s.certs) && s.certs[i].Certificate() != nil {
		return s.certs[i].Certificate().Subject.CommonName
	}
	return ""
}

// stampMoved follows the stamp dragged, resized or moved with the keys: its
// place replaces the corner.
func (s *signScreen) stampMoved(_ int, rect [4]float64) {
	if s.custom == nil || s.custom[2] != rect[2] || s.custom[3] != rect[3] {
		defer s.drawStamp() // resized: drawn again at its new size
	}
	s.custom = &rect
	s.corner.ClearSelected()
	s.sayCorner()
	s.checkCover()
}

// tapped puts the stamp where a page of the view was tapped, centred
// there, kept on the page: on another page, that page is chosen.
func (s *signScreen) tapped(page int, x, y float64) {
	if !s.visible.Checked || s.shown.path == "" || s.shown.path != s.viewing || page >= len(s.view.pages) {
		return
	}
	g := s.view.pages[page].geo
	box := g.Box
	// The stamp stands upright on the page as shown: on a page turned by
	// a quarter, its sides in user space are swapped.
	w, h := stampSize[0], stampSize[1]
	if g.Rotate == 90 || g.Rotate == 270 {
		w, h = h, w
	}
	w, h = min(w, box[2]-box[0]), min(h, box[3]-box[1])
	// Whole points: a tap is not more precise, and the file stays tidy.
	rect := [4]float64{math.Round(max(box[0], min(x-w/2, box[2]-w))), math.Round(max(box[1], min(y-h/2, box[3]-h))), w, h}
	s.custom = &rect
	s.corner.ClearSelected()
	s.sayCorner()
	if page+1 != s.shown.page {
		s.page.SetText(strconv.Itoa(page + 1)) // shown again, the stamp on that page
		return
	}
	s.placeStamp(false)
	s.checkCover()
}

// sayPreview says which page of which document the preview shows.
func (s *signScreen) sayPreview() {
	u := s.u
	st := s.shown
	s.pageInfo.Importance = widget.MediumImportance
	switch {
	case st.path == "":
		s.pageInfo.SetText(u.T("app.sign.preview_none"))
	case !s.visible.Checked:
		s.pageInfo.SetText(u.T("app.sign.preview_invisible", "File", filepath.Base(st.path)))
	case errors.Is(st.err, pdf.ErrPageRange) && st.page == 0:
		s.pageInfo.Importance = widget.WarningImportance
		s.pageInfo.SetText(u.T("app.sign.bad_page"))
	case errors.Is(st.err, pdf.ErrPageRange) && st.geo.Pages > 0:
		s.pageInfo.Importance = widget.WarningImportance
		s.pageInfo.SetText(u.T("app.sign.no_such_page", "File", filepath.Base(st.path), "Page", st.page, "Pages", st.geo.Pages))
	case st.err != nil:
		s.pageInfo.Importance = widget.WarningImportance
		s.pageInfo.SetText(explain.Sign(u.p, st.err, filepath.Base(st.path)).Text)
	default:
		s.pageInfo.SetText(u.T("app.sign.page_of", "File", filepath.Base(st.path), "Page", st.page, "Pages", st.geo.Pages))
	}
	s.pageInfo.Refresh()
	s.covers.SetText(u.T("app.sign.covers"))
}

// appearance is the visible signature as chosen, nil when it is not.
func (s *signScreen) appearance() *pdf.Appearance {
	if !s.visible.Checked {
		return nil
	}
	page, _ := strconv.Atoi(s.page.Text)
	a := &pdf.Appearance{Page: page, Corner: corners[max(s.corner.SelectedIndex(), 0)],
		Lang: s.u.p.Lang, Zone: time.Local, Labels: explain.StampLabels(s.u.p)}
	if s.custom != nil {
		a.Rect = *s.custom
	}
	return a
}

// checkCover warns when the stamp, where it is, lies over what the page
// of the document shown shows.
func (s *signScreen) checkCover() {
	s.coverGen++
	gen := s.coverGen
	s.covers.Hide()
	a, st := s.appearance(), s.shown
	if a == nil || st.path == "" || st.err != nil || a.Page != st.page {
		return
	}
	var covered bool
	s.u.task(nil, func(ctx context.Context) error {
		covered = s.u.stampCovers(ctx, st.path, a)
		return nil
	}, func(error) {
		if gen == s.coverGen && covered {
			s.covers.Show()
		}
	})
}

// redraw lists the files of the batch, the selected one marked.
func (s *signScreen) redraw() {
	s.tips.hide(nil)
	s.rows.RemoveAll()
	if len(s.files) == 0 {
		s.rows.Add(wrapLabel(s.u.T("app.sign.drop")))
	}
	for _, f := range s.files {
		s.say(f)
		f.box.setSelected(f == s.selected)
		s.rows.Add(f.box)
		s.rows.Add(widget.NewSeparator())
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
// (signed copies already there, passwords, damage, a stamp over the page's
// content), then the PIN is asked.
func (s *signScreen) signWith(pol *config.Policy, c local.Cert) {
	u := s.u
	opts := pdf.Options{Level: levels[max(s.level.SelectedIndex(), 0)], Reason: s.reason.Text, Location: s.location.Text,
		Appearance: s.appearance()}
	if opts.Appearance == nil {
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
	var signed []*signRow  // a signed copy is already there
	var covered []*signRow // the stamp would lie over the page's content
	u.task(nil, func(ctx context.Context) error {
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
			} else if u.stampCovers(ctx, f.in, opts.Appearance) {
				covered = append(covered, f)
			}
		}
		return ctx.Err()
	}, func(err error) {
		if err != nil || s.alreadySigned(signed) {
			return // the app is closing, or nothing is to be signed
		}
		s.confirmCover(covered, func() {
			s.unlock(locked, opts, func(more []string) {
				damaged = append(damaged, more...)
				sign := func() {
					otp, takeOTP := s.otpField(c)
					u.askPIN(c, otp, func(key *pkcs.Key, pin []byte) {
						clear(pin)
						takeOTP()
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
	})
}

// otpField is the one-time password a remote key's batch needs, asked
// in the PIN's box (one PIN, one one-time password for the batch); nil for
// other keys. take, once the box is answered, empties the field and hands
// the code to the store, which sends it once, when the batch's hashes are
// authorised.
func (s *signScreen) otpField(c local.Cert) (item *widget.FormItem, take func()) {
	rs, ok := c.Store.(*remote.Store)
	if !ok {
		return nil, func() {}
	}
	u := s.u
	entry := u.newSecretField()
	s.otpEntry = entry
	return widget.NewFormItem(u.T("app.sign.otp"), entry), func() {
		code := []byte(entry.Text)
		entry.SetText("")
		rs.OTP = func(context.Context) ([]byte, error) {
			c := code
			code = nil
			return c, nil
		}
	}
}

// alreadySigned marks the files of the batch whose signed copy is already
// there, and when that is all of them, says so and tells that nothing is
// to be signed: no PIN is asked for nothing.
func (s *signScreen) alreadySigned(signed []*signRow) bool {
	u := s.u
	for _, f := range signed {
		f.state, f.result = rowFailed, pdf.JobResult{Err: pdf.ErrOutputExists}
		s.say(f)
	}
	if len(signed) == 0 || len(signed) < len(s.files) {
		return false
	}
	u.showMessage(u.T("app.sign.title"), u.T("app.sign.all_signed", "N", len(signed)), u.T("hint.pdf_output"))
	return true
}

// confirmCover names the files whose page the signature would cover and
// asks whether to sign them so; going back selects the first, whose
// preview then shows where the stamp lies. With none, then goes on.
func (s *signScreen) confirmCover(covered []*signRow, then func()) {
	u := s.u
	if len(covered) == 0 {
		then()
		return
	}
	var names []string
	for _, f := range covered {
		names = append(names, filepath.Base(f.in))
	}
	s.coverInfo = wrapLabel(strings.Join(names, "\n"))
	box := container.NewVBox(wrapLabel(u.T("app.sign.cover_intro", "N", len(covered), "Page", s.page.Text)), s.coverInfo,
		wrapLabel(u.T("app.sign.cover_question")))
	s.coverAsk = u.confirm(u.T("app.sign.cover_title"), box, u.T("app.sign.cover_back"), u.T("app.sign.cover_confirm"), func(sign bool) {
		if sign {
			then()
			return
		}
		s.choose(covered[0])
	})
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
		f.state, f.result, f.ok = rowWaiting, pdf.JobResult{}, false
		s.say(f)
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
		// The batch reports from its goroutines, each on the window's
		// goroutine, one after another (u.do).
		show := u.do
		var done int
		signer.SignFiles(ctx, jobs, pdf.Progress{
			Started: func(i int) {
				show(func() {
					files[i].state = rowWorking
					s.say(files[i])
				})
			},
			Done: func(i int, r pdf.JobResult) {
				show(func() {
					if errors.Is(r.Err, context.Canceled) {
						files[i].state = rowNotSigned
						s.say(files[i])
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
				if f.state == rowWaiting {
					f.state = rowNotSigned
				}
			}
			u.showError(err)
		}
		s.redraw()
	})
}

// showResult shows how one file went.
func (s *signScreen) showResult(f *signRow, r pdf.JobResult) {
	f.result = r
	f.state = rowFailed
	if r.Err == nil {
		f.state, f.ok, f.out = rowDone, true, r.Output
	}
	s.say(f)
}
