package app

import (
	"context"
	"errors"
	"fmt"
	"image"
	"io"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/driver/desktop"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/paraphe/paraphe/render"
)

// The document view shows a PDF's pages one under the other, as PDFium
// (package render) draws them at the size and the scale of the screen they
// are on, and rectangles over them in the pages' own coordinates (the
// signatures, the empty fields, the stamp being placed: overlay.go). The
// Sign and Verify screens each hold one.
//
// Pages are drawn when they come into view, one at a time by a worker
// goroutine (PDFium does one thing at a time), and the pictures are kept in
// a cache of bounded size: a long document costs the pages on screen, not
// its length. A page scrolled away before its turn is not drawn.

const (
	// unitsPerPoint is the page's size at 100 %: fyne's units are a
	// ninety-sixth of an inch on a screen of scale 1, a point a
	// seventy-second.
	unitsPerPoint = 96.0 / 72
	// pageGap is the space between pages and around them, in units.
	pageGap = 12
	// maxPagePixels bounds a page's picture (a page zoomed to 400 % on a
	// screen of scale 2 would be 100 million pixels): beyond it the
	// picture is stretched.
	maxPagePixels = 12 << 20
	// cacheBudget is what the pictures kept may take, in bytes (4 a pixel):
	// some twenty A4 pages at 100 % on a screen of scale 1.
	cacheBudget = 96 << 20
)

// zoomSteps are the zooms Ctrl + and Ctrl − go through.
var zoomSteps = []float64{0.25, 0.33, 0.5, 0.67, 0.75, 0.9, 1, 1.1, 1.25, 1.5, 1.75, 2, 2.5, 3, 4}

// zoomMode is how the zoom follows the view's size.
type zoomMode int

const (
	zoomFitWidth zoomMode = iota // the widest page fills the width
	zoomFitPage                  // the largest page fits whole
	zoomFixed                    // the zoom chosen, whatever the size
)

// docView is the document view.
type docView struct {
	u       *UI
	content fyne.CanvasObject

	scroll  *container.Scroll
	column  *pageColumn
	message *widget.Label // why no page is shown (opening, a password, a damaged file)
	// The password of a document that needs one: typed here, it opens the
	// document locked waits in.
	passBox *fyne.Container
	openBtn *widget.Button
	opening bool // a document is being opened
	// triedPassword: the failure came with a password given.
	triedPassword bool
	messageBox    *fyne.Container // the message and the password
	passEntry     *field
	locked        *lockedDoc
	password      []byte // the password that opened the document shown
	pageNum       *field
	pageOf        *widget.Label
	zoomBtn       *widget.Button // the zoom in force; its menu changes it
	tools         []fyne.Disableable

	doc    *render.Document
	closer io.Closer // what the document is read from, closed with it
	gen    int       // numbers the documents opened: a late answer for an older one is dropped
	pages  []*pageView
	tops   []float32 // where each page starts in the column, in units
	queue  *renderQueue
	cache  *pageCache
	failed error // why the last document could not be opened

	mode     zoomMode
	zoom     float64   // 1 is 100 %
	viewport fyne.Size // the scroll's size
	pinned   int       // the page gone to, until the user scrolls (-1: none)
	focused  *overlay  // the overlay brought into view, until the user scrolls
	moving   bool      // the view is scrolling itself
	depth    int       // actions under way (action)
	laidAt   float64   // the zoom the pages were last laid out at

	// onOpened is told when a document is shown or could not be (err);
	// onPage when the page in view changes; onTapPage when a page is
	// tapped, where in its user space; onZoom once the pages are laid out
	// at another zoom.
	onOpened  func(err error)
	onPage    func(page int)
	onTapPage func(page int, x, y float64)
	onZoom    func()
}

func newDocView(u *UI) *docView {
	v := &docView{u: u, mode: zoomFitWidth, zoom: 1, pinned: -1}
	v.cache = newPageCache(cacheBudget, v.evicted)
	v.queue = &renderQueue{v: v}
	v.column = newPageColumn(v)
	v.scroll = container.NewScroll(v.column)
	v.scroll.OnScrolled = func(fyne.Position) { v.scrolled() }
	v.message = wrapLabel(u.T("app.view.empty"))
	v.message.Alignment = fyne.TextAlignCenter
	v.passEntry = u.newSecretField()
	v.passEntry.SetPlaceHolder(u.T("app.view.password"))
	v.passEntry.OnSubmitted = func(string) { v.unlock() }
	v.openBtn = widget.NewButton(u.T("app.view.open"), v.unlock)
	v.passBox = container.NewCenter(container.NewHBox(
		container.NewGridWrap(fyne.NewSize(260, v.passEntry.MinSize().Height), v.passEntry), v.openBtn))
	v.passBox.Hide()
	v.messageBox = container.NewVBox(layout.NewSpacer(), v.message, v.passBox, layout.NewSpacer())
	v.content = container.NewBorder(v.toolbar(), nil, nil, nil,
		container.NewStack(container.New(&resizeLayout{onResize: v.resized}, v.scroll),
			v.messageBox))
	v.scroll.Hide()
	v.enableTools(false)
	u.views = append(u.views, v)
	return v
}

// toolbar holds the page field and the zoom.
func (v *docView) toolbar() fyne.CanvasObject {
	u := v.u
	v.pageNum = u.newField()
	v.pageNum.OnSubmitted = func(s string) {
		if n, err := strconv.Atoi(strings.TrimSpace(s)); err == nil && n >= 1 && n <= len(v.pages) {
			v.goTo(n - 1)
		} else {
			v.showCurrent()
		}
	}
	v.pageOf = widget.NewLabel("")
	// Narrow, for a view beside a list: the page field, and the zoom as
	// a button that opens its menu (zoom in and out, the fits, the usual
	// percentages); the keys do the rest.
	v.zoomBtn = widget.NewButtonWithIcon(v.zoomName(), theme.ZoomInIcon(), v.showZoomMenu)
	v.tools = []fyne.Disableable{v.pageNum, v.zoomBtn}
	num := container.NewGridWrap(fyne.NewSize(56, v.pageNum.MinSize().Height), v.pageNum)
	return container.NewHBox(num, v.pageOf, layout.NewSpacer(), v.zoomBtn)
}

// menuZooms are the percentages the zoom menu offers.
var menuZooms = []float64{0.5, 0.75, 1, 1.25, 1.5, 2, 3}

// zoomMenu is the zoom button's menu, the zoom in force checked.
func (v *docView) zoomMenu() *fyne.Menu {
	u := v.u
	items := []*fyne.MenuItem{
		fyne.NewMenuItem(u.T("app.view.zoom_in"), func() { v.zoomStep(+1) }),
		fyne.NewMenuItem(u.T("app.view.zoom_out"), func() { v.zoomStep(-1) }),
		fyne.NewMenuItemSeparator(),
	}
	names := []string{u.T("app.view.fit_width"), u.T("app.view.fit_page")}
	for _, z := range menuZooms {
		names = append(names, v.percent(z))
	}
	for _, name := range names {
		it := fyne.NewMenuItem(name, func() { v.zoomChosen(name) })
		it.Checked = name == v.zoomName()
		items = append(items, it)
	}
	return fyne.NewMenu("", items...)
}

func (v *docView) showZoomMenu() {
	c := fyne.CurrentApp().Driver().CanvasForObject(v.zoomBtn)
	widget.ShowPopUpMenuAtRelativePosition(v.zoomMenu(), c, fyne.NewPos(0, v.zoomBtn.Size().Height), v.zoomBtn)
}

// zoomName is the zoom in force in words: a fit's name, or a percentage.
func (v *docView) zoomName() string {
	switch v.mode {
	case zoomFitWidth:
		return v.u.T("app.view.fit_width")
	case zoomFitPage:
		return v.u.T("app.view.fit_page")
	}
	return v.percent(v.zoom)
}

func (v *docView) enableTools(on bool) {
	for _, t := range v.tools {
		if on {
			t.Enable()
		} else {
			t.Disable()
		}
	}
}

func (v *docView) percent(z float64) string {
	return v.u.T("app.view.percent", "N", int(math.Round(z*100)))
}

// openFile shows the PDF at path; password opens an encrypted one (nil for
// none).
func (v *docView) openFile(path string, password []byte) {
	f, err := os.Open(path)
	var fi os.FileInfo
	if err == nil {
		if fi, err = f.Stat(); err != nil {
			f.Close()
		}
	}
	if err != nil {
		v.close()
		v.showFailure(err, password)
		return
	}
	v.open(f, fi.Size(), password, f)
}

// open shows the PDF of size bytes read from src (an io.SectionReader over
// a file for a revision of it); closer, when not nil, is closed with the
// document. A document shown before is closed.
func (v *docView) open(src io.ReaderAt, size int64, password []byte, closer io.Closer) {
	v.gen++
	gen := v.gen
	old, oldCloser := v.doc, v.closer
	if l := v.locked; l != nil && l.closer != closer { // another document than the one locked
		oldCloser = multiCloser{oldCloser, l.closer}
	}
	v.locked = nil
	v.reset()
	v.opening = true
	v.say()
	var doc *render.Document
	var geos []render.Geometry
	v.u.background(func(ctx context.Context) error {
		closeDocument(old, oldCloser)
		r, err := v.u.pdfium(ctx)
		if err != nil {
			return err
		}
		if doc, err = r.Open(src, size, password); err != nil {
			return err
		}
		geos, err = pageGeometries(doc)
		return err
	}, func(err error) {
		if gen != v.gen { // another document was asked for meanwhile
			go closeDocument(doc, closer)
			return
		}
		if errors.Is(err, render.ErrPassword) { // kept open for the password
			v.locked = &lockedDoc{src: src, size: size, closer: closer}
		} else if err != nil {
			go closeDocument(doc, closer)
		}
		if err != nil {
			v.showFailure(err, password)
			return
		}
		v.password = password
		v.show(doc, geos, closer)
	})
}

// lockedDoc is a document waiting for its password.
type lockedDoc struct {
	src    io.ReaderAt
	size   int64
	closer io.Closer
}

// unlock opens the locked document with the password typed.
func (v *docView) unlock() {
	if l := v.locked; l != nil {
		pw := []byte(v.passEntry.Text)
		v.passEntry.SetText("")
		v.open(l.src, l.size, pw, l.closer)
	}
}

// multiCloser closes each of its closers.
type multiCloser []io.Closer

func (m multiCloser) Close() error {
	var errs []error
	for _, c := range m {
		if c != nil {
			errs = append(errs, c.Close())
		}
	}
	return errors.Join(errs...)
}

// pageGeometries reads every page's geometry (PDFium loads each page: about
// a millisecond a page).
func pageGeometries(doc *render.Document) ([]render.Geometry, error) {
	geos := make([]render.Geometry, doc.Pages())
	for i := range geos {
		g, err := doc.Geometry(i)
		if err != nil {
			return nil, err
		}
		geos[i] = g
	}
	return geos, nil
}

func closeDocument(doc *render.Document, closer io.Closer) {
	if doc != nil {
		doc.Close()
	}
	if closer != nil {
		closer.Close()
	}
}

// reset forgets the document shown (its pages, pictures and overlays).
func (v *docView) reset() {
	v.queue.want(nil)
	for _, p := range v.pages {
		// fyne keeps a widget's renderer a while after it is gone: let
		// the pages gone keep no picture.
		p.setPicture(nil, 0)
	}
	v.doc, v.closer, v.failed, v.password = nil, nil, nil, nil
	v.pages, v.tops = nil, nil
	v.cache.clear()
	v.pinned, v.focused = -1, nil
	v.column.Refresh()
	v.scroll.Hide()
	v.passBox.Hide()
	v.message.Show()
	v.pageOf.SetText("")
	v.pageNum.SetText("")
	v.enableTools(false)
}

// close closes the document shown (or waiting for its password), if any.
func (v *docView) close() {
	v.gen++
	doc, closer := v.doc, v.closer
	if v.locked != nil {
		closer, v.locked = v.locked.closer, nil
	}
	v.reset()
	v.opening = false
	v.say()
	if doc != nil || closer != nil {
		// Off the window's goroutine: PDFium may be drawing a page.
		v.u.background(func(context.Context) error { closeDocument(doc, closer); return nil }, func(error) {})
	}
}

func (v *docView) showFailure(err error, password []byte) {
	v.failed, v.triedPassword, v.opening = err, password != nil, false
	v.say()
	if v.onOpened != nil {
		v.onOpened(err)
	}
}

// say writes the message shown instead of pages: why none is shown.
func (v *docView) say() {
	u, err := v.u, v.failed
	v.passBox.Hide()
	switch {
	case err == nil && v.opening:
		v.message.SetText(u.T("app.view.opening"))
	case err == nil:
		v.message.SetText(u.T("app.view.empty"))
	case errors.Is(err, render.ErrPassword) && v.triedPassword:
		v.message.SetText(u.T("app.view.wrong_password"))
		v.passBox.Show()
	case errors.Is(err, render.ErrPassword):
		v.message.SetText(u.T("app.view.needs_password"))
		v.passBox.Show()
	case errors.Is(err, render.ErrFormat):
		v.message.SetText(u.T("app.view.damaged"))
	default:
		e := u.explain(err)
		v.message.SetText(strings.TrimSpace(e.Text + "\n" + e.Hint))
	}
	v.messageBox.Refresh()
}

// relabel says the view's words again in the user's language.
func (v *docView) relabel() {
	u := v.u
	v.zoomBtn.SetText(v.zoomName())
	v.passEntry.SetPlaceHolder(u.T("app.view.password"))
	v.openBtn.SetText(u.T("app.view.open"))
	if len(v.pages) > 0 {
		v.pageOf.SetText(u.T("app.view.of", "Pages", len(v.pages)))
	}
	v.say()
}

// show lays out the pages of doc, just opened, and draws those in view.
func (v *docView) show(doc *render.Document, geos []render.Geometry, closer io.Closer) {
	defer v.action()()
	v.doc, v.closer, v.opening = doc, closer, false
	v.pages = make([]*pageView, len(geos))
	for i, g := range geos {
		v.pages[i] = newPageView(v, i, g)
	}
	v.message.Hide()
	v.scroll.Show()
	v.enableTools(true)
	v.pageOf.SetText(v.u.T("app.view.of", "Pages", len(v.pages)))
	v.scroll.Offset = fyne.Position{}
	v.layoutPages()
	v.showCurrent()
	if v.onOpened != nil {
		v.onOpened(nil)
	}
}

// scale is the screen's pixels per unit.
func (v *docView) scale() float32 {
	if c := fyne.CurrentApp().Driver().CanvasForObject(v.column); c != nil && c.Scale() > 0 {
		return c.Scale()
	}
	return 1
}

// k is the units a point of the page takes at the zoom.
func (v *docView) k() float32 { return float32(v.zoom * unitsPerPoint) }

// fitZoom is the zoom the mode asks for in the viewport, or the zoom as it
// is.
func (v *docView) fitZoom() float64 {
	if v.mode == zoomFixed || len(v.pages) == 0 || v.viewport.Width <= 0 {
		return v.zoom
	}
	var w, h float64
	for _, p := range v.pages {
		pw, ph := p.geo.Size()
		w, h = max(w, pw), max(h, ph)
	}
	z := (float64(v.viewport.Width) - 2*pageGap) / (w * unitsPerPoint)
	if v.mode == zoomFitPage {
		z = min(z, (float64(v.viewport.Height)-2*pageGap)/(h*unitsPerPoint))
	}
	return max(zoomSteps[0]/2, z)
}

// layoutPages places the pages at the zoom (the mode's, when it follows
// the size), keeping in view the part of the page that was.
func (v *docView) layoutPages() {
	defer v.action()()
	if len(v.pages) == 0 {
		return
	}
	anchor, frac := v.anchor()
	v.zoom = v.fitZoom()
	if v.zoom != v.laidAt && v.onZoom != nil {
		defer v.onZoom()
	}
	v.laidAt = v.zoom
	k := v.k()
	v.tops = make([]float32, len(v.pages))
	y := float32(pageGap)
	for i, p := range v.pages {
		v.tops[i] = y
		w, h := p.geo.Size()
		p.size = fyne.NewSize(float32(w)*k, float32(h)*k)
		y += p.size.Height + pageGap
	}
	v.column.Refresh()
	v.scroll.Refresh()
	switch o := v.focused; {
	case o != nil && v.holds(o):
		v.centre(o) // the overlay brought into view stays in view
	case anchor >= 0:
		v.scrollTo(fyne.NewPos(v.scroll.Offset.X, v.tops[anchor]+frac*v.pages[anchor].size.Height))
	}
	v.update()
}

// anchor is the page at the top of the view and how far down it the view
// starts (a fraction of its height), for keeping it in view through a
// zoom; -1 before the first layout.
func (v *docView) anchor() (int, float32) {
	if len(v.tops) != len(v.pages) || len(v.pages) == 0 {
		return -1, 0
	}
	if v.pinned >= 0 {
		return v.pinned, -pageGap / max(1, v.pages[v.pinned].size.Height)
	}
	i := v.pageAt(v.scroll.Offset.Y)
	return i, (v.scroll.Offset.Y - v.tops[i]) / max(1, v.pages[i].size.Height)
}

// pageAt is the page at height y of the column (the one above, in a gap).
func (v *docView) pageAt(y float32) int {
	i := 0
	for i+1 < len(v.tops) && v.tops[i+1] <= y {
		i++
	}
	return i
}

// resized follows the viewport's size: the fits change the zoom.
func (v *docView) resized(size fyne.Size) {
	defer v.action()()
	v.viewport = size
	v.layoutPages()
}

// scrolled follows the user's scrolling.
func (v *docView) scrolled() {
	defer v.action()()
	if !v.moving {
		v.pinned, v.focused = -1, nil
	}
	v.update()
}

// scrollTo moves the view to offset (kept within the column).
func (v *docView) scrollTo(offset fyne.Position) {
	v.moving = true
	defer func() { v.moving = false }()
	size := v.column.MinSize()
	offset.X = max(0, min(offset.X, size.Width-v.viewport.Width))
	offset.Y = max(0, min(offset.Y, size.Height-v.viewport.Height))
	v.scroll.ScrollToOffset(offset)
}

// goTo shows page i from its top.
func (v *docView) goTo(i int) {
	defer v.action()()
	if len(v.pages) == 0 {
		return
	}
	i = max(0, min(i, len(v.pages)-1))
	v.scrollTo(fyne.NewPos(v.scroll.Offset.X, v.tops[i]-pageGap))
	v.pinned, v.focused = i, nil
	v.update()
}

// currentPage is the page in view: the one gone to, else the one across
// the upper third of the view.
func (v *docView) currentPage() int {
	if len(v.pages) == 0 {
		return 0
	}
	if v.pinned >= 0 {
		return v.pinned
	}
	return v.pageAt(v.scroll.Offset.Y + v.viewport.Height/3)
}

// showCurrent writes the page in view in the page field.
func (v *docView) showCurrent() {
	if len(v.pages) == 0 {
		return
	}
	n := strconv.Itoa(v.currentPage() + 1)
	if v.pageNum.Text != n {
		v.pageNum.SetText(n)
		if v.onPage != nil {
			v.onPage(v.currentPage())
		}
	}
}

// pageDown shows the next page, or the rest of the current one when it is
// taller than the view.
func (v *docView) pageDown() {
	defer v.action()()
	i := v.currentPage()
	if len(v.pages) == 0 {
		return
	}
	bottom := v.tops[i] + v.pages[i].size.Height
	if bottom <= v.scroll.Offset.Y+v.viewport.Height || i == len(v.pages)-1 {
		v.goTo(i + 1)
		return
	}
	v.pinned, v.focused = -1, nil
	v.scrollTo(fyne.NewPos(v.scroll.Offset.X, min(bottom-v.viewport.Height+pageGap, v.scroll.Offset.Y+v.viewport.Height*0.9)))
	v.update()
}

// pageUp shows the previous page, or the top of the current one.
func (v *docView) pageUp() {
	defer v.action()()
	i := v.currentPage()
	if len(v.pages) == 0 {
		return
	}
	if v.tops[i]-pageGap >= v.scroll.Offset.Y-1 {
		v.goTo(i - 1)
		return
	}
	v.pinned, v.focused = -1, nil
	v.scrollTo(fyne.NewPos(v.scroll.Offset.X, max(v.tops[i]-pageGap, v.scroll.Offset.Y-v.viewport.Height*0.9)))
	v.update()
}

// scrollBy scrolls by d units down (up when negative), as the arrow keys
// do.
func (v *docView) scrollBy(dx, dy float32) {
	defer v.action()()
	v.pinned, v.focused = -1, nil
	v.scrollTo(v.scroll.Offset.AddXY(dx, dy))
	v.update()
}

// setZoom sets a fixed zoom (or a fit, with mode) and says it on the zoom
// button.
func (v *docView) setZoom(mode zoomMode, z float64) {
	defer v.action()()
	v.mode, v.zoom = mode, z
	v.layoutPages()
	v.zoomBtn.SetText(v.zoomName())
}

// zoomChosen follows the zoom menu.
func (v *docView) zoomChosen(name string) {
	defer v.action()()
	switch name {
	case v.u.T("app.view.fit_width"):
		if v.mode != zoomFitWidth {
			v.setZoom(zoomFitWidth, v.zoom)
		}
		return
	case v.u.T("app.view.fit_page"):
		if v.mode != zoomFitPage {
			v.setZoom(zoomFitPage, v.zoom)
		}
		return
	}
	for _, z := range append(menuZooms, zoomSteps...) {
		if name == v.percent(z) && (v.mode != zoomFixed || v.zoom != z) {
			v.setZoom(zoomFixed, z)
			return
		}
	}
}

// zoomStep goes to the next zoom step up (dir 1) or down (-1) from the
// zoom in force.
func (v *docView) zoomStep(dir int) {
	defer v.action()()
	z := v.zoom
	next := zoomSteps[0]
	if dir > 0 {
		next = zoomSteps[len(zoomSteps)-1]
	}
	for _, s := range zoomSteps {
		if dir > 0 && s > z*1.001 {
			next = s
			break
		}
		if dir < 0 && s < z*0.999 {
			next = s
		}
	}
	v.setZoom(zoomFixed, next)
}

// typedKey is the view's keyboard: the column's, an overlay's when it has
// no use for a key.
func (v *docView) typedKey(ev *fyne.KeyEvent) {
	defer v.action()()
	switch ev.Name {
	case fyne.KeyPageDown, fyne.KeySpace:
		v.pageDown()
	case fyne.KeyPageUp:
		v.pageUp()
	case fyne.KeyHome:
		v.goTo(0)
	case fyne.KeyEnd:
		v.goTo(len(v.pages) - 1)
	case fyne.KeyDown:
		v.scrollBy(0, 40)
	case fyne.KeyUp:
		v.scrollBy(0, -40)
	case fyne.KeyRight:
		v.scrollBy(40, 0)
	case fyne.KeyLeft:
		v.scrollBy(-40, 0)
	}
}

// typedShortcut is the zoom's keyboard: Ctrl + and Ctrl − (Cmd on macOS),
// Ctrl 0 for 100 %, as browsers have them; the window's own shortcuts (the
// side menu's Ctrl+1…5) go on to the window.
func (v *docView) typedShortcut(s fyne.Shortcut) {
	defer v.action()()
	cs, ok := s.(*desktop.CustomShortcut)
	if !ok {
		return
	}
	if menuShortcut(cs) >= 0 {
		if c, ok := fyne.CurrentApp().Driver().CanvasForObject(v.column).(fyne.Shortcutable); ok {
			c.TypedShortcut(s)
		}
		return
	}
	if cs.Modifier != fyne.KeyModifierShortcutDefault {
		return
	}
	switch cs.KeyName {
	case fyne.KeyPlus, fyne.KeyEqual:
		v.zoomStep(+1)
	case fyne.KeyMinus:
		v.zoomStep(-1)
	case fyne.Key0:
		v.setZoom(zoomFixed, 1)
	}
}

// action marks the start of something the user (or an answer from the
// worker) does to the view; the function it returns, deferred, marks its
// end and starts the worker on the pages asked meanwhile once the
// outermost action is over. The worker's answers then never run beside the
// end of an action: the real driver runs them on the window's goroutine
// anyway, but fyne's test driver runs them on the worker's.
func (v *docView) action() func() {
	v.depth++
	return func() {
		if v.depth--; v.depth == 0 {
			v.queue.start()
		}
	}
}

// focus gives the keyboard to the view.
func (v *docView) focus() {
	if c := fyne.CurrentApp().Driver().CanvasForObject(v.column); c != nil {
		c.Focus(v.column)
	}
}

// update asks for the pictures of the pages in view (and, once they are
// drawn, of the pages either side), drops the asks for pages scrolled
// away, and shows the page number.
func (v *docView) update() {
	defer v.action()()
	if len(v.pages) == 0 || len(v.tops) != len(v.pages) {
		return
	}
	top, bottom := v.scroll.Offset.Y, v.scroll.Offset.Y+max(v.viewport.Height, 1)
	first, last := v.pageAt(top), v.pageAt(bottom)
	scale := v.scale()
	var jobs []renderJob
	ready := true
	for i := first; i <= last; i++ {
		if job, ok := v.pages[i].need(scale); ok {
			jobs, ready = append(jobs, job), false
		}
	}
	if ready { // the pages in view are drawn: the next ones, ahead of the reader
		for _, i := range []int{last + 1, first - 1} {
			if i >= 0 && i < len(v.pages) {
				if job, ok := v.pages[i].need(scale); ok {
					jobs = append(jobs, job)
				}
			}
		}
	}
	v.queue.want(jobs)
	v.showCurrent()
}

// drawn shows a picture the worker drew, if it is still wanted.
func (v *docView) drawn(job renderJob, img *image.RGBA, err error) {
	defer v.action()()
	if job.gen != v.gen || job.page >= len(v.pages) {
		return
	}
	p := v.pages[job.page]
	switch {
	case errors.Is(err, context.Canceled):
		return
	case p.pixelWidth(v.scale()) != job.width: // drawn for a zoom since left
		v.update()
		return
	case err != nil:
		p.fail(v.u.T("app.view.page_failed"))
	default:
		v.cache.put(pageKey{job.page, job.width}, img)
		p.setPicture(img, job.width)
	}
	v.update()
}

// evicted lets a page forget a picture the cache dropped, which the next
// drawing may reuse.
func (v *docView) evicted(key pageKey, img *image.RGBA) {
	if key.page < len(v.pages) && v.pages[key.page].image.Image == img {
		v.pages[key.page].setPicture(nil, 0)
	}
	v.queue.recycle(img)
}

// background runs work off the window's goroutine, then done on it, like
// task but without counting as work a language change must wait for
// (opening a document takes a blink).
func (u *UI) background(work func(ctx context.Context) error, done func(error)) {
	u.tasks.Add(1)
	go func() {
		defer u.tasks.Done()
		err := work(u.ctx)
		u.answer(func() { done(err) })
	}()
}

// pdfiumStart is the app's one PDFium, started in the background when the
// app starts (the module's compiled code is kept in the user's cache
// folder: 0.1 s to start with it, some seconds the first time).
type pdfiumStart struct {
	done   chan struct{}
	mu     sync.Mutex
	r      *render.Renderer
	err    error
	closed bool // the app is closing: a start under way closes what it started
}

// startPDFium starts PDFium in the background.
func (u *UI) startPDFium() {
	s := &pdfiumStart{done: make(chan struct{})}
	u.pdfiumStart = s
	go func() {
		defer close(s.done)
		dir := ""
		if cache, err := os.UserCacheDir(); err == nil {
			dir = filepath.Join(cache, "paraphe", "pdfium")
		}
		r, err := render.New(context.Background(), dir)
		if err != nil && dir != "" { // a cache folder that cannot be written: start without
			r, err = render.New(context.Background(), "")
		}
		s.mu.Lock()
		defer s.mu.Unlock()
		if s.closed && r != nil {
			r.Close()
			r, err = nil, render.ErrClosed
		}
		s.r, s.err = r, err
	}()
}

// pdfium waits for PDFium to have started.
func (u *UI) pdfium(ctx context.Context) (*render.Renderer, error) {
	s := u.pdfiumStart
	select {
	case <-s.done:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case s.closed:
		return nil, render.ErrClosed
	case s.err != nil:
		return nil, fmt.Errorf("the page renderer did not start: %w", s.err)
	}
	return s.r, nil
}

// closeViews closes the documents the views show and the files they read
// (the work under way is over: Close waited for it).
func (u *UI) closeViews() {
	for _, v := range u.views {
		closer := v.closer
		if v.locked != nil {
			closer = multiCloser{closer, v.locked.closer}
		}
		closeDocument(v.doc, closer)
		v.doc, v.closer, v.locked = nil, nil, nil
	}
	u.views = nil
}

// stopPDFium closes PDFium, waiting for a start under way to end (at
// most the start's tenth of a second, its compilation aside: a test's app
// closing leaves no PDFium behind to take the next tests' memory and
// processors).
func (u *UI) stopPDFium() {
	s := u.pdfiumStart
	if s == nil {
		return
	}
	s.mu.Lock()
	s.closed = true
	s.mu.Unlock()
	<-s.done
	s.mu.Lock()
	r := s.r
	s.r = nil
	s.mu.Unlock()
	if r != nil {
		r.Close()
	}
}
