package app

import (
	"path/filepath"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/paraphe/paraphe/internal/explain"
	"github.com/paraphe/paraphe/pdf"
)

// signRow is one file of the batch: where it stands and how it went (its
// words are said from these, in the language of the moment).
type signRow struct {
	in, out string
	state   rowState
	result  pdf.JobResult // how it went, once done or failed
	ok      bool
	// password opens an encrypted document (or lifts its restrictions),
	// as typed for this batch; cleared when the batch ends.
	password []byte

	box     *rowBox
	name    *tipLabel
	status  *widget.Label
	bar     *widget.ProgressBarInfinite
	actions *fyne.Container
}

// rowState is where a file of the batch stands.
type rowState int

const (
	rowWaiting rowState = iota
	rowWorking
	rowDone
	rowFailed
	rowNotSigned
)

func (s *signScreen) newRow(path string) *signRow {
	f := &signRow{in: path, status: wrapLabel(""), bar: widget.NewProgressBarInfinite(), actions: container.NewHBox()}
	// The name is cut short to the width there is; the whole name shows
	// in a tip, and in the preview's words once the file is selected.
	f.name = newTipLabel(s.tips, filepath.Base(path), fyne.TextStyle{Bold: true})
	f.box = newRowBox(container.NewVBox(f.name, f.status, f.bar, f.actions), func() { s.choose(f) })
	return f
}

// say shows where f stands, in the user's language.
func (s *signScreen) say(f *signRow) {
	u := s.u
	f.bar.Hide()
	f.actions.RemoveAll()
	f.status.Importance = widget.MediumImportance
	switch f.state {
	case rowWaiting:
		f.status.SetText(u.T("app.sign.waiting"))
	case rowWorking:
		f.status.SetText(u.T("app.sign.working"))
		f.bar.Show()
	case rowNotSigned:
		f.status.SetText(u.T("app.sign.not_signed"))
	case rowFailed:
		e := explain.Sign(u.p, f.result.Err, filepath.Base(f.in))
		f.status.SetText(e.Text + "\n" + e.Hint)
		f.status.Importance = widget.DangerImportance
	case rowDone:
		r := f.result
		status := u.T("app.sign.done", "File", filepath.Base(r.Output), "Level", string(r.Level))
		if r.Repaired != nil {
			status += "\n" + u.T("app.sign.repaired", "What", explain.Damage(u.p, *r.Repaired))
		}
		f.status.SetText(status)
		f.status.Importance = widget.SuccessImportance
		out := r.Output
		f.actions.Add(widget.NewButtonWithIcon(u.T("app.sign.show_folder"), theme.FolderIcon(), func() { u.openFolder(out) }))
		f.actions.Add(widget.NewButtonWithIcon(u.T("app.sign.verify"), theme.ConfirmIcon(), func() {
			u.show(u.verifier.content)
			u.verifier.open(out)
		}))
		if u.canSend() {
			f.actions.Add(widget.NewButtonWithIcon(u.T("app.send.button"), theme.MailSendIcon(), func() { u.sendSecurely(out) }))
		}
	}
	f.status.Refresh()
	f.actions.Refresh()
}

// rowBox is a file's row: tapping it (or Space on it) selects the file;
// the selected one is marked.
type rowBox struct {
	widget.BaseWidget
	content  fyne.CanvasObject
	bg       *canvas.Rectangle
	onTap    func()
	selected bool
	focused  bool
}

func newRowBox(content fyne.CanvasObject, onTap func()) *rowBox {
	b := &rowBox{content: content, bg: canvas.NewRectangle(nil), onTap: onTap}
	b.ExtendBaseWidget(b)
	return b
}

func (b *rowBox) CreateRenderer() fyne.WidgetRenderer {
	b.paint()
	return widget.NewSimpleRenderer(container.NewStack(b.bg, container.NewPadded(b.content)))
}

func (b *rowBox) setSelected(on bool) {
	b.selected = on
	b.paint()
}

func (b *rowBox) paint() {
	b.bg.FillColor = nil
	if b.selected {
		b.bg.FillColor = theme.Color(theme.ColorNameSelection)
	}
	b.bg.StrokeWidth, b.bg.StrokeColor = 0, nil
	if b.focused {
		b.bg.StrokeWidth, b.bg.StrokeColor = 2, theme.Color(theme.ColorNameFocus)
	}
	b.bg.CornerRadius = theme.Size(theme.SizeNameSelectionRadius)
	b.bg.Refresh()
}

func (b *rowBox) Tapped(*fyne.PointEvent) { b.onTap() }

func (b *rowBox) FocusGained() { b.focused = true; b.paint() }
func (b *rowBox) FocusLost()   { b.focused = false; b.paint() }
func (b *rowBox) TypedRune(r rune) {
	if r == ' ' {
		b.onTap()
	}
}
func (b *rowBox) TypedKey(ev *fyne.KeyEvent) {
	if ev.Name == fyne.KeyReturn || ev.Name == fyne.KeyEnter {
		b.onTap()
	}
}

var (
	_ fyne.Tappable  = (*rowBox)(nil)
	_ fyne.Focusable = (*rowBox)(nil)
)
