package app

import (
	"sync"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/driver/desktop"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"
)

// fyne has no tooltips (v2.7). A tipLabel is a label cut short with an
// ellipsis when its text does not fit, and the pointer resting on it shows
// the whole text in a tip drawn on its screen's tipLayer. The layer lies
// over the screen and takes no events (nothing in it is tappable or
// hoverable), so the screen under it keeps working; a pop-up would not do:
// fyne sends every event to the top overlay while one shows.

// tipDelay is how long the pointer rests on a label before its tip shows
// (tests set it to zero: the tip then shows at once).
var tipDelay = 600 * time.Millisecond

// tipLayer shows one tip at a time over a screen.
type tipLayer struct {
	layer *fyne.Container // no layout: the tip is placed by hand
	box   *fyne.Container
	text  *widget.Label
	owner *tipLabel // whose tip shows
}

func newTipLayer() *tipLayer {
	t := &tipLayer{text: widget.NewLabel("")}
	t.text.Wrapping = fyne.TextWrapBreak // a file name has few spaces
	bg := canvas.NewRectangle(theme.Color(theme.ColorNameOverlayBackground))
	bg.StrokeColor, bg.StrokeWidth = theme.Color(theme.ColorNameShadow), 1
	bg.CornerRadius = theme.Size(theme.SizeNameInputRadius)
	t.box = container.NewStack(bg, t.text)
	t.box.Hide()
	t.layer = container.NewWithoutLayout(t.box)
	return t
}

// over lays the layer over content.
func (t *tipLayer) over(content fyne.CanvasObject) fyne.CanvasObject {
	return container.NewStack(content, t.layer)
}

// show shows text under owner (above it near the bottom of the screen),
// within the screen, wrapped to its width.
func (t *tipLayer) show(owner *tipLabel, text string) {
	area := t.layer.Size()
	if area.Width == 0 {
		return
	}
	t.owner = owner
	t.text.SetText(text)
	pad := theme.Padding()
	width := min(fyne.MeasureText(text, theme.TextSize(), t.text.TextStyle).Width+2*theme.InnerPadding(), area.Width-2*pad)
	t.text.Resize(fyne.NewSize(width, 0)) // a wrapping label's height follows its width
	size := fyne.NewSize(width, t.text.MinSize().Height)
	d := fyne.CurrentApp().Driver()
	at := d.AbsolutePositionForObject(owner).Subtract(d.AbsolutePositionForObject(t.layer))
	pos := fyne.NewPos(at.X, at.Y+owner.Size().Height)
	if pos.Y+size.Height > area.Height {
		pos.Y = at.Y - size.Height
	}
	pos.X = max(pad, min(pos.X, area.Width-size.Width-pad))
	pos.Y = max(0, pos.Y)
	t.box.Move(pos)
	t.box.Resize(size)
	t.box.Show()
	t.layer.Refresh()
}

// hide hides the tip of owner (of anyone when owner is nil).
func (t *tipLayer) hide(owner *tipLabel) {
	if owner == nil || t.owner == owner {
		t.owner = nil
		t.box.Hide()
	}
}

// tipLabel: see above. Its text is set with SetText, as a label's.
type tipLabel struct {
	widget.Label
	tips *tipLayer

	mu    sync.Mutex
	timer *time.Timer
}

func newTipLabel(tips *tipLayer, text string, style fyne.TextStyle) *tipLabel {
	l := &tipLabel{tips: tips}
	l.Text, l.TextStyle, l.Truncation = text, style, fyne.TextTruncateEllipsis
	l.ExtendBaseWidget(l)
	return l
}

// truncated reports whether the label shows less than its text.
func (l *tipLabel) truncated() bool {
	size := theme.SizeForWidget(theme.SizeNameText, l)
	return fyne.MeasureText(l.Text, size, l.TextStyle).Width+2*theme.InnerPadding() > l.Size().Width+0.5
}

func (l *tipLabel) MouseIn(*desktop.MouseEvent) {
	if tipDelay == 0 {
		l.showTip()
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.timer != nil {
		l.timer.Stop()
	}
	l.timer = time.AfterFunc(tipDelay, func() { fyne.Do(l.showTip) })
}

func (l *tipLabel) showTip() {
	l.mu.Lock()
	hovering := l.timer != nil || tipDelay == 0
	l.timer = nil
	l.mu.Unlock()
	if hovering && l.Visible() && l.truncated() {
		l.tips.show(l, l.Text)
	}
}

func (l *tipLabel) MouseMoved(*desktop.MouseEvent) {}

func (l *tipLabel) MouseOut() {
	l.mu.Lock()
	if l.timer != nil {
		l.timer.Stop()
		l.timer = nil
	}
	l.mu.Unlock()
	l.tips.hide(l)
}

var _ desktop.Hoverable = (*tipLabel)(nil)
