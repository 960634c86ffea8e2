package app

import (
	"image"
	"image/color"
	"math"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/driver/desktop"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"
)

// overlayKind is what an overlay stands for, and what the user can do
// with it.
type overlayKind int

const (
	overlayOutline overlayKind = iota // where a signature sits; a tap selects it when onTap is set
	overlayField                      // an empty signature field: a tap chooses it
	overlayStamp                      // the signature being placed: dragged, resized, moved with the keys
)

// The smallest stamp, in points: room for a line of text.
const minStampWidth, minStampHeight = 36, 18

// overlay is a rectangle over a page of the document view, in the page's
// user space (x, y of its lower left corner, width, height, in points: a
// signature field's /Rect as pdf.Widget reads it, a visible signature's
// place as pdf.Appearance takes it). It is drawn where the page shows that
// place, through the page's crop box and rotation.
type overlay struct {
	widget.BaseWidget
	v       *docView
	page    int
	rect    [4]float64
	kind    overlayKind
	label   string
	tone    color.Color // the outline's colour; nil for the kind's
	picture image.Image // drawn inside, upright as the page is shown (the stamp as it will look)

	// onTap is told of a tap (a field chosen, a signature selected);
	// onChange of the stamp's new place once the user has moved or resized
	// it.
	onTap    func()
	onChange func(page int, rect [4]float64)

	selected bool
	focused  bool
	dragging bool
	view     [4]float64 // while dragged: where it is on the page as shown, in points from the top left corner

	box    *canvas.Rectangle
	pic    *canvas.Image
	text   *canvas.Text
	handle *overlayHandle
}

func newOverlay(kind overlayKind, page int, rect [4]float64, label string) *overlay {
	o := &overlay{kind: kind, page: page, rect: rect, label: label,
		box: canvas.NewRectangle(color.Transparent), pic: &canvas.Image{FillMode: canvas.ImageFillContain},
		text: canvas.NewText(label, color.Black)}
	o.text.TextSize = theme.CaptionTextSize()
	if kind == overlayStamp {
		o.handle = &overlayHandle{o: o}
		o.handle.ExtendBaseWidget(o.handle)
	}
	o.ExtendBaseWidget(o)
	return o
}

// addOverlay puts o over its page; false when the document shown has no
// such page.
func (v *docView) addOverlay(o *overlay) bool {
	if o.page < 0 || o.page >= len(v.pages) {
		return false
	}
	o.v = v
	p := v.pages[o.page]
	p.overlays = append(p.overlays, o)
	p.Refresh()
	return true
}

// removeOverlay takes o off its page.
func (v *docView) removeOverlay(o *overlay) {
	if o.page < 0 || o.page >= len(v.pages) {
		return
	}
	p := v.pages[o.page]
	for i, x := range p.overlays {
		if x == o {
			p.overlays = append(p.overlays[:i], p.overlays[i+1:]...)
			p.Refresh()
			return
		}
	}
}

// scrollToOverlay brings o to the middle of the view, where it stays
// through a zoom or a resize until the user scrolls.
func (v *docView) scrollToOverlay(o *overlay) {
	defer v.action()()
	if !v.holds(o) || len(v.tops) != len(v.pages) {
		return
	}
	v.centre(o)
	v.pinned, v.focused = o.page, o
	v.update()
}

// centre scrolls so that o is in the middle of the view.
func (v *docView) centre(o *overlay) {
	p := v.pages[o.page]
	k := v.k()
	r := p.geo.RectToView(o.rect)
	x := v.column.pageX(v.column.Size().Width, p.size.Width) + float32(r[0]+r[2]/2)*k - v.viewport.Width/2
	y := v.tops[o.page] + float32(r[1]+r[3]/2)*k - v.viewport.Height/2
	v.scrollTo(fyne.NewPos(x, y))
}

// holds reports whether o is on a page of the document shown.
func (v *docView) holds(o *overlay) bool {
	if o.page < 0 || o.page >= len(v.pages) {
		return false
	}
	for _, x := range v.pages[o.page].overlays {
		if x == o {
			return true
		}
	}
	return false
}

// setRect moves o to rect on page.
func (o *overlay) setRect(page int, rect [4]float64) {
	if o.v != nil && page != o.page {
		v := o.v
		v.removeOverlay(o)
		o.page = page
		v.addOverlay(o)
	}
	o.rect = rect
	o.place()
}

// setSelected marks o as the one chosen (a signature in the list).
func (o *overlay) setSelected(on bool) {
	o.selected = on
	o.Refresh()
}

// pageView is the page o is on, nil when it is not shown.
func (o *overlay) pageView() *pageView {
	if o.v == nil || o.page < 0 || o.page >= len(o.v.pages) {
		return nil
	}
	return o.v.pages[o.page]
}

// place puts o where its rectangle shows on its page.
func (o *overlay) place() {
	p := o.pageView()
	if p == nil {
		return
	}
	r := o.view
	if !o.dragging {
		r = p.geo.RectToView(o.rect)
	}
	k := o.v.k()
	o.Move(fyne.NewPos(float32(r[0])*k, float32(r[1])*k))
	o.Resize(fyne.NewSize(float32(r[2])*k, float32(r[3])*k))
}

// Dragged moves the stamp with the mouse, kept on its page.
func (o *overlay) Dragged(ev *fyne.DragEvent) {
	o.dragBy(float64(ev.Dragged.DX), float64(ev.Dragged.DY), 0, 0)
}

// DragEnd sets the stamp down, on whole points.
func (o *overlay) DragEnd() { o.endDrag() }

// dragBy moves the stamp's top left corner by dx, dy and its size by dw,
// dh, in units on the screen.
func (o *overlay) dragBy(dx, dy, dw, dh float64) {
	p := o.pageView()
	if o.kind != overlayStamp || p == nil {
		return
	}
	if !o.dragging {
		o.dragging, o.view = true, p.geo.RectToView(o.rect)
	}
	k := float64(o.v.k())
	o.view = fitOnPage(p, [4]float64{o.view[0] + dx/k, o.view[1] + dy/k, o.view[2] + dw/k, o.view[3] + dh/k}, dw != 0 || dh != 0)
	o.rect = p.geo.RectFromView(o.view)
	o.place()
}

func (o *overlay) endDrag() {
	if !o.dragging {
		return
	}
	o.dragging = false
	o.settle()
}

// moveBy moves the stamp by dx, dy and resizes it by dw, dh, in points on
// the page as shown (the keyboard's way).
func (o *overlay) moveBy(dx, dy, dw, dh float64) {
	p := o.pageView()
	if o.kind != overlayStamp || p == nil {
		return
	}
	r := p.geo.RectToView(o.rect)
	o.rect = p.geo.RectFromView(fitOnPage(p, [4]float64{r[0] + dx, r[1] + dy, r[2] + dw, r[3] + dh}, dw != 0 || dh != 0))
	o.settle()
}

// settle rounds the stamp's place to whole points (a hand is not more
// precise, and the file stays tidy), keeps it on the page, and tells.
func (o *overlay) settle() {
	p := o.pageView()
	box := p.geo.Box
	r := o.rect
	for i := range r {
		r[i] = math.Round(r[i])
	}
	r[2], r[3] = min(r[2], box[2]-box[0]), min(r[3], box[3]-box[1])
	r[0] = max(box[0], min(r[0], box[2]-r[2]))
	r[1] = max(box[1], min(r[1], box[3]-r[3]))
	o.rect = r
	o.place()
	if o.onChange != nil {
		o.onChange(o.page, o.rect)
	}
}

// fitOnPage keeps a rectangle of the page as shown (points from its top
// left corner) no smaller than a stamp can be and inside the page: moved
// back in, or, when its size changed (its corner dragged), cut to the
// page's edge.
func fitOnPage(p *pageView, r [4]float64, resized bool) [4]float64 {
	w, h := p.geo.Size()
	if resized {
		r[2], r[3] = min(r[2], w-r[0]), min(r[3], h-r[1])
	}
	r[2] = max(min(r[2], w), min(minStampWidth, w))
	r[3] = max(min(r[3], h), min(minStampHeight, h))
	r[0] = max(0, min(r[0], w-r[2]))
	r[1] = max(0, min(r[1], h-r[3]))
	return r
}

// Tapped chooses a field, selects a signature, or takes the keyboard for
// the stamp.
func (o *overlay) Tapped(*fyne.PointEvent) {
	if o.kind == overlayStamp {
		if c := fyne.CurrentApp().Driver().CanvasForObject(o); c != nil {
			c.Focus(o)
		}
	}
	if o.onTap != nil {
		o.onTap()
	}
}

// Cursor says what the mouse can do here.
func (o *overlay) Cursor() desktop.Cursor {
	if o.kind == overlayStamp || o.onTap != nil {
		return desktop.PointerCursor
	}
	return desktop.DefaultCursor
}

// The stamp's keyboard: the arrows move it by a point, Ctrl (Cmd on
// macOS) and the arrows by ten, Alt and the arrows make it wider, narrower, taller or shorter by
// ten; the other keys are the view's.
func (o *overlay) FocusGained()   { o.focused = true; o.Refresh() }
func (o *overlay) FocusLost()     { o.focused = false; o.Refresh() }
func (o *overlay) TypedRune(rune) {}

func (o *overlay) TypedKey(ev *fyne.KeyEvent) {
	if dx, dy, ok := arrow(ev.Name, 1); ok {
		o.moveBy(dx, dy, 0, 0)
		return
	}
	if o.v != nil {
		o.v.typedKey(ev)
	}
}

func (o *overlay) TypedShortcut(s fyne.Shortcut) {
	if cs, ok := s.(*desktop.CustomShortcut); ok {
		if dx, dy, ok := arrow(cs.KeyName, 10); ok {
			switch cs.Modifier {
			case fyne.KeyModifierShortcutDefault:
				o.moveBy(dx, dy, 0, 0)
				return
			case fyne.KeyModifierAlt:
				o.moveBy(0, 0, dx, dy)
				return
			}
		}
	}
	if o.v != nil {
		o.v.typedShortcut(s)
	}
}

// arrow is the move an arrow key asks for, step points on the page as
// shown.
func arrow(key fyne.KeyName, step float64) (dx, dy float64, ok bool) {
	switch key {
	case fyne.KeyLeft:
		return -step, 0, true
	case fyne.KeyRight:
		return step, 0, true
	case fyne.KeyUp:
		return 0, -step, true
	case fyne.KeyDown:
		return 0, step, true
	}
	return 0, 0, false
}

// colours is the overlay's outline and fill.
func (o *overlay) colours() (stroke, fill color.Color) {
	c := color.NRGBA{R: 0x1f, G: 0x4e, B: 0x8c, A: 0xff} // the stamp's blue
	switch {
	case o.tone != nil:
		r, g, b, _ := o.tone.RGBA()
		c = color.NRGBA{R: uint8(r >> 8), G: uint8(g >> 8), B: uint8(b >> 8), A: 0xff}
	case o.kind == overlayField:
		c = color.NRGBA{R: 0xc2, G: 0x6a, B: 0x00, A: 0xff}
	case o.kind == overlayOutline:
		c = color.NRGBA{R: 0x2e, G: 0x7d, B: 0x32, A: 0xff}
	}
	f := c
	f.A = 0x28
	if o.picture != nil {
		f = color.NRGBA{R: 0xff, G: 0xff, B: 0xff, A: 0xd0}
	}
	return c, f
}

func (o *overlay) CreateRenderer() fyne.WidgetRenderer {
	r := &overlayRenderer{o: o}
	r.rebuild()
	return r
}

type overlayRenderer struct {
	o       *overlay
	objects []fyne.CanvasObject
}

func (r *overlayRenderer) Layout(size fyne.Size) {
	o := r.o
	o.box.Resize(size)
	o.pic.Move(fyne.NewPos(2, 2))
	o.pic.Resize(fyne.NewSize(max(0, size.Width-4), max(0, size.Height-4)))
	if o.kind == overlayStamp { // the stamp's words are inside, the others' above
		o.text.Move(fyne.NewPos(4, 2))
	} else {
		o.text.Move(fyne.NewPos(0, -o.text.MinSize().Height))
	}
	if o.handle != nil {
		const s = 12
		o.handle.Move(fyne.NewPos(size.Width-s, size.Height-s))
		o.handle.Resize(fyne.NewSize(s, s))
	}
}

func (r *overlayRenderer) MinSize() fyne.Size { return fyne.NewSize(1, 1) }

func (r *overlayRenderer) Refresh() {
	r.rebuild()
	r.Layout(r.o.Size())
	r.o.box.Refresh()
	r.o.pic.Refresh()
	r.o.text.Refresh()
}

// rebuild styles the overlay's parts and lists those shown.
func (r *overlayRenderer) rebuild() {
	o := r.o
	stroke, fill := o.colours()
	o.box.FillColor, o.box.StrokeColor, o.box.StrokeWidth = fill, stroke, 1.5
	if o.selected || o.focused {
		o.box.StrokeWidth = 3
	}
	o.pic.Image = o.picture
	o.text.Text = o.label
	o.text.Color = stroke
	r.objects = append(r.objects[:0], o.box)
	if o.picture != nil {
		r.objects = append(r.objects, o.pic)
	} else if o.label != "" {
		r.objects = append(r.objects, o.text)
	}
	if o.handle != nil {
		r.objects = append(r.objects, o.handle)
	}
}

func (r *overlayRenderer) Objects() []fyne.CanvasObject { return r.objects }
func (r *overlayRenderer) Destroy()                     {}

// overlayHandle is the stamp's lower right corner: dragged, it resizes the
// stamp.
type overlayHandle struct {
	widget.BaseWidget
	o *overlay
}

func (h *overlayHandle) Dragged(ev *fyne.DragEvent) {
	h.o.dragBy(0, 0, float64(ev.Dragged.DX), float64(ev.Dragged.DY))
}
func (h *overlayHandle) DragEnd()               { h.o.endDrag() }
func (h *overlayHandle) Cursor() desktop.Cursor { return desktop.CrosshairCursor }

func (h *overlayHandle) CreateRenderer() fyne.WidgetRenderer {
	stroke, _ := h.o.colours()
	r := canvas.NewRectangle(stroke)
	return widget.NewSimpleRenderer(r)
}
