package app

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"image/color"
	"os"
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
// what it found: a line for the whole document, then for each signature
// valid or not, who, when, why and where, changed afterwards, trusted. It
// keeps what it found (relabel says it again in another language).
type verifyScreen struct {
	u       *UI
	content fyne.CanvasObject
	tips    *tipLayer
	title   *widget.Label
	pick    *button
	file    *tipLabel // the file's name, cut short; its folder below
	folder  *tipLabel
	online  *widget.Check
	summary *widget.Label // the whole document in a line
	result  *fyne.Container
	busy    *widget.ProgressBarInfinite
	stop    *widget.Button
	cancel  func()
	gen     int // numbers verifications: only the latest is shown

	// What was found about path: a report, or why there is none.
	path     string
	report   *pdf.Report
	err      error
	warnings []error

	// The document: each signature outlined where it sits (outlines, by
	// the report's order; nil for an invisible one), and beside it, on
	// demand, the document as one signature signed it.
	view          *docView
	viewing       string // the file the view shows
	outlines      []*overlay
	chosen        int // the signature selected, -1 for none
	asSigned      *docView
	asSignedOf    int        // the signature whose revision asSigned shows, -1 for none
	asSignedLines []*overlay // the outlines on it, as outlines
	asSignedTitle *widget.Label
	asSignedBox   fyne.CanvasObject
	docs          *fyne.Container // the view, or the two views one over the other
}

func newVerifyScreen(u *UI) *verifyScreen {
	v := &verifyScreen{u: u, tips: newTipLayer(), title: heading(""), summary: wrapLabel(""), result: container.NewVBox(),
		busy: widget.NewProgressBarInfinite()}
	v.title.Wrapping = fyne.TextWrapWord
	v.file = newTipLabel(v.tips, "", fyne.TextStyle{Bold: true})
	v.folder = newTipLabel(v.tips, "", fyne.TextStyle{})
	v.summary.TextStyle.Bold = true
	v.summary.Hide()
	v.busy.Hide()
	v.online = widget.NewCheck("", func(bool) {
		if v.path != "" {
			v.open(v.path)
		}
	})
	v.pick = u.newPrimary("", theme.FolderOpenIcon(), func() {
		u.chooseFiles(fileRequest{title: "app.files.verify_title", accept: "app.files.open", filter: pdfFiles},
			func(paths []string) { v.open(paths[0]) })
	})
	v.stop = widget.NewButtonWithIcon("", theme.CancelIcon(), func() {
		if v.cancel != nil {
			v.cancel()
		}
	})
	v.stop.Hide()
	top := container.NewVBox(v.title, container.NewHBox(v.pick), v.online, v.file, v.folder,
		container.NewBorder(nil, nil, nil, v.stop, v.busy), v.summary)
	v.document()
	split := container.NewHSplit(container.NewVScroll(v.result), v.docs)
	split.Offset = 0.5
	v.content = v.tips.over(container.NewBorder(top, nil, nil, nil, split))
	v.relabel()
	return v
}

// document makes the views of the document: the current one, and the one
// of a signature's revision with its title and a button that hides it.
func (v *verifyScreen) document() {
	v.chosen, v.asSignedOf = -1, -1
	v.view = newDocView(v.u)
	v.view.onOpened = func(err error) {
		if err == nil {
			v.outline()
		}
	}
	v.asSigned = newDocView(v.u)
	v.asSigned.onOpened = func(err error) {
		if err == nil {
			v.outlineAsSigned()
		}
	}
	v.asSignedTitle = wrapLabel("")
	v.asSignedTitle.TextStyle.Bold = true
	hide := widget.NewButtonWithIcon("", theme.CancelIcon(), v.hideAsSigned)
	v.asSignedBox = container.NewBorder(container.NewBorder(nil, nil, nil, hide, v.asSignedTitle), nil, nil, nil, v.asSigned.content)
	v.docs = container.NewStack(v.view.content)
}

// relabel says every word of the screen in the user's language, from what
// it found.
func (v *verifyScreen) relabel() {
	u := v.u
	v.title.SetText(u.T("app.verify.title"))
	v.pick.SetText(u.T("app.verify.open"))
	v.stop.SetText(u.T("app.cancel"))
	v.online.Text = u.T("app.verify.online")
	v.online.Refresh()
	v.tips.hide(nil)
	if v.path == "" {
		v.file.SetText(u.T("app.verify.drop"))
		v.file.TextStyle.Bold = false
		v.folder.Hide()
	} else {
		v.file.SetText(filepath.Base(v.path))
		v.file.TextStyle.Bold = true
		v.folder.SetText(filepath.Dir(v.path))
		v.folder.Show()
	}
	v.file.Refresh()
	v.view.relabel()
	v.asSigned.relabel()
	v.sayAsSigned()
	if !v.busy.Visible() {
		v.showFound()
	}
}

// open verifies the PDF at path.
func (v *verifyScreen) open(path string) {
	u := v.u
	v.path, v.report, v.err, v.warnings = path, nil, nil, nil
	v.hideAsSigned()
	v.outline() // the outlines of a report before go
	v.relabel()
	v.result.RemoveAll()
	v.summary.Hide()
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
	var demoRoots [][32]byte
	if u.demo != nil {
		demoRoots = fingerprints(u.demo.Policy().CA.Anchors)
	}
	var rep *pdf.Report
	v.gen++
	gen := v.gen
	if path != v.viewing { // the document shown while it is verified
		v.viewing = path
		v.view.openFile(path, nil)
		u.retitle()
	}
	u.task(&v.cancel, func(ctx context.Context) (err error) {
		if polErr != nil {
			return polErr
		}
		rep, err = pdf.Verify(ctx, path, opts)
		if err == nil {
			markDemo(rep, demoRoots)
		}
		return err
	}, func(err error) {
		if gen != v.gen {
			return // superseded
		}
		v.busy.Hide()
		v.stop.Hide()
		v.report, v.err, v.warnings = rep, err, warnings
		v.showFound()
		v.outline()
	})
}

// showFound says what verification found.
func (v *verifyScreen) showFound() {
	u := v.u
	v.result.RemoveAll()
	v.summary.Hide()
	name := filepath.Base(v.path)
	switch {
	case v.path == "":
	case errors.Is(v.err, pdf.ErrNoSignature):
		v.result.Add(newCard(u.T("verify.unsigned", "File", name), "", nil))
	case v.err != nil:
		e := explain.Sign(u.p, v.err, name)
		msg := wrapLabel(e.Text)
		msg.Importance = widget.DangerImportance
		v.result.Add(container.NewVBox(msg, wrapLabel(e.Hint)))
	case v.report != nil:
		text, severity := explain.Summary(u.p, v.report.Signatures)
		v.summary.SetText(text)
		v.summary.Importance = importanceOf(severity)
		v.summary.Show()
		for i, s := range v.report.Signatures {
			v.result.Add(v.card(i+1, s))
		}
		for _, w := range explain.RelevantTrustWarnings(v.warnings, v.report.Signatures) {
			note := wrapLabel(explain.TrustWarning(u.p, w))
			note.Importance = widget.WarningImportance
			v.result.Add(note)
		}
	}
	v.result.Refresh()
}

func importanceOf(s explain.Severity) widget.Importance {
	switch s {
	case explain.Failed:
		return widget.DangerImportance
	case explain.Undecided:
		return widget.WarningImportance
	}
	return widget.SuccessImportance
}

// card is one signature in plain words, its state first.
func (v *verifyScreen) card(n int, s pdf.SignatureReport) fyne.CanvasObject {
	u := v.u
	state, lines := explain.Signature(u.p, s)
	icon := theme.ConfirmIcon()
	switch explain.SeverityOf(s) {
	case explain.Failed:
		icon = theme.ErrorIcon()
	case explain.Undecided:
		icon = theme.WarningIcon()
	}
	field := s.Field
	if field == "" {
		field = u.T("verify.no_field")
	}
	title := wrapLabel(u.T("verify.header", "N", n, "Field", field, "State", state))
	title.TextStyle.Bold = true
	title.Importance = importanceOf(explain.SeverityOf(s))
	body := container.NewVBox(container.NewBorder(nil, nil, container.NewVBox(widget.NewIcon(icon)), nil, title))
	for _, l := range lines {
		body.Add(wrapLabel(l))
	}
	var buttons []fyne.CanvasObject
	if _, ok := visibleWidget(s); ok {
		buttons = append(buttons, widget.NewButtonWithIcon(u.T("app.verify.show"), theme.VisibilityIcon(), func() { v.choose(n - 1) }))
	} else if !s.CAdES {
		body.Add(wrapLabel(u.T("app.verify.invisible")))
	}
	if s.ByteRange[2]+s.ByteRange[3] > 0 && !s.CoversWholeFile { // a revision of its own to show
		buttons = append(buttons, widget.NewButtonWithIcon(u.T("app.verify.as_signed"), theme.HistoryIcon(), func() { v.showAsSigned(n - 1) }))
	}
	if len(buttons) > 0 {
		body.Add(container.NewHBox(buttons...))
	}
	return widget.NewCard("", "", body)
}

// visibleWidget is where signature s shows: the first of its field's
// widgets on a page with a place.
func visibleWidget(s pdf.SignatureReport) (pdf.Widget, bool) {
	for _, w := range s.Widgets {
		if w.Page >= 1 && w.Rect[2] > 0 && w.Rect[3] > 0 {
			return w, true
		}
	}
	return pdf.Widget{}, false
}

// outlineOn puts on view the outline of signature i of the report, in its
// verdict's colour, a tap on it selecting it; nil when it shows nowhere.
func (v *verifyScreen) outlineOn(view *docView, i int) *overlay {
	s := v.report.Signatures[i]
	w, ok := visibleWidget(s)
	if !ok {
		return nil
	}
	field := s.Field
	if field == "" {
		field = v.u.T("verify.no_field")
	}
	o := newOverlay(overlayOutline, w.Page-1, w.Rect, fmt.Sprintf("%d. %s", i+1, field))
	switch explain.SeverityOf(s) {
	case explain.Failed:
		o.tone = color.NRGBA{R: 0xc6, G: 0x28, B: 0x28, A: 0xff}
	case explain.Undecided:
		o.tone = color.NRGBA{R: 0xc2, G: 0x6a, B: 0x00, A: 0xff}
	}
	o.selected = i == v.chosen
	o.onTap = func() { v.choose(i) }
	if !view.addOverlay(o) {
		return nil
	}
	return o
}

// outline outlines every visible signature of the report on the document
// shown (once both are there), the outlines of before taken off.
func (v *verifyScreen) outline() {
	for _, o := range v.outlines {
		if o != nil {
			v.view.removeOverlay(o)
		}
	}
	v.outlines = nil
	if v.report == nil || v.view.doc == nil || v.viewing != v.path {
		return
	}
	v.outlines = make([]*overlay, len(v.report.Signatures))
	for i := range v.report.Signatures {
		v.outlines[i] = v.outlineOn(v.view, i)
	}
}

// choose selects signature i: its outline marked, and brought into view,
// in the document as signed too when it is shown.
func (v *verifyScreen) choose(i int) {
	v.chosen = i
	for j, o := range v.outlines {
		if o != nil {
			o.setSelected(j == i)
		}
	}
	if i < len(v.outlines) && v.outlines[i] != nil {
		v.view.scrollToOverlay(v.outlines[i])
	}
	for j, o := range v.asSignedLines {
		if o != nil {
			o.setSelected(j == i)
			if j == i {
				v.asSigned.scrollToOverlay(o)
			}
		}
	}
}

// showAsSigned shows, over the current document, the document as
// signature i signed it: the revision its byte range ends, read in place
// from the file.
func (v *verifyScreen) showAsSigned(i int) {
	if v.report == nil || i >= len(v.report.Signatures) {
		return
	}
	f, err := os.Open(v.path)
	if err != nil {
		v.u.showError(err)
		return
	}
	rev, ok := v.report.Signatures[i].SignedRevision(f)
	if !ok {
		f.Close()
		return
	}
	v.asSignedOf, v.asSignedLines = i, nil
	v.sayAsSigned()
	both := container.NewVSplit(v.asSignedBox, v.view.content)
	v.docs.Objects = []fyne.CanvasObject{both}
	v.docs.Refresh()
	v.choose(i)
	v.asSigned.open(rev, rev.Size(), nil, f) // the outlines come once it is open
}

// sayAsSigned titles the document as signed.
func (v *verifyScreen) sayAsSigned() {
	if v.report != nil && v.asSignedOf >= 0 && v.asSignedOf < len(v.report.Signatures) {
		s := v.report.Signatures[v.asSignedOf]
		v.asSignedTitle.SetText(v.u.T("app.verify.as_signed_title", "N", v.asSignedOf+1, "Revision", s.Revision))
	}
}

// hideAsSigned shows the current document alone again.
func (v *verifyScreen) hideAsSigned() {
	if v.asSignedOf < 0 {
		return
	}
	v.asSignedOf, v.asSignedLines = -1, nil
	v.asSigned.close()
	v.docs.Objects = []fyne.CanvasObject{v.view.content}
	v.docs.Refresh()
}

// outlineAsSigned outlines, on the document as signed, the signatures that
// revision holds.
func (v *verifyScreen) outlineAsSigned() {
	if v.report == nil || v.asSignedOf < 0 {
		return
	}
	end := v.report.Signatures[v.asSignedOf].ByteRange
	v.asSignedLines = make([]*overlay, len(v.report.Signatures))
	for i, s := range v.report.Signatures {
		if s.ByteRange[2]+s.ByteRange[3] <= end[2]+end[3] {
			v.asSignedLines[i] = v.outlineOn(v.asSigned, i)
		}
	}
	v.choose(v.chosen)
}

// markDemo says "demo" for the signatures that only the demo CA vouches
// for: its root is trusted while the demo runs, as the policy in force,
// but it proves nothing to anyone else (pdf does not know demos; the app
// started this one).
func markDemo(rep *pdf.Report, roots [][32]byte) {
	for i := range rep.Signatures {
		s := &rep.Signatures[i]
		if !s.Trusted || s.TrustSource != pdf.SourcePolicy || len(s.Chain) == 0 {
			continue
		}
		root := sha256.Sum256(s.Chain[len(s.Chain)-1].Raw)
		for _, r := range roots {
			if r == root {
				s.TrustSource = explain.SourceDemo
			}
		}
	}
}

// fingerprints reads a policy's anchors (those it cannot read are left out).
func fingerprints(anchors []string) [][32]byte {
	var out [][32]byte
	for _, a := range anchors {
		if fp, err := config.ParseFingerprint(a); err == nil && len(fp) == 32 {
			out = append(out, [32]byte(fp))
		}
	}
	return out
}
