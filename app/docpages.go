package app

import (
	"container/list"
	"context"
	"image"
	"image/color"
	"math"
	"sync"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/widget"

	"github.com/paraphe/paraphe/render"
)

// The document view's pages: the column that holds them, each page with
// its picture and overlays, the cache of pictures and the worker that
// draws them.
// resizeLayout lays out one object over its whole size and tells when
// that size changes.
type resizeLayout struct {
	onResize func(fyne.Size)
	last     fyne.Size
}

func (l *resizeLayout) Layout(objects []fyne.CanvasObject, size fyne.Size) {
	for _, o := range objects {
		o.Move(fyne.Position{})
		o.Resize(size)
	}
	if size != l.last {
		l.last = size
		l.onResize(size)
	}
}

func (l *resizeLayout) MinSize(objects []fyne.CanvasObject) fyne.Size {
	return fyne.NewSize(120, 120)
}

// pageColumn is the pages, one under the other, centred; it holds the
// view's keyboard.
type pageColumn struct {
	widget.BaseWidget
	v *docView
}

func newPageColumn(v *docView) *pageColumn {
	c := &pageColumn{v: v}
	c.ExtendBaseWidget(c)
	return c
}

func (c *pageColumn) CreateRenderer() fyne.WidgetRenderer {
	r := &columnRenderer{c: c}
	r.rebuild()
	return r
}

func (c *pageColumn) FocusGained()                  {}
func (c *pageColumn) FocusLost()                    {}
func (c *pageColumn) TypedRune(rune)                {}
func (c *pageColumn) TypedKey(ev *fyne.KeyEvent)    { c.v.typedKey(ev) }
func (c *pageColumn) TypedShortcut(s fyne.Shortcut) { c.v.typedShortcut(s) }
func (c *pageColumn) Tapped(*fyne.PointEvent)       { c.v.focus() }

// pageX is where a page of pageWidth starts in a column width wide: centred.
func (c *pageColumn) pageX(width, pageWidth float32) float32 {
	return (max(width, c.widest()+2*pageGap) - pageWidth) / 2
}

func (c *pageColumn) widest() float32 {
	var w float32
	for _, p := range c.v.pages {
		w = max(w, p.size.Width)
	}
	return w
}

type columnRenderer struct {
	c       *pageColumn
	objects []fyne.CanvasObject
}

func (r *columnRenderer) Layout(size fyne.Size) {
	v := r.c.v
	if len(v.tops) != len(v.pages) {
		return
	}
	for i, p := range v.pages {
		p.Move(fyne.NewPos(r.c.pageX(size.Width, p.size.Width), v.tops[i]))
		p.Resize(p.size)
	}
}

func (r *columnRenderer) MinSize() fyne.Size {
	v := r.c.v
	if len(v.pages) == 0 || len(v.tops) != len(v.pages) {
		return fyne.Size{}
	}
	last := v.pages[len(v.pages)-1]
	return fyne.NewSize(r.c.widest()+2*pageGap, v.tops[len(v.tops)-1]+last.size.Height+pageGap)
}

func (r *columnRenderer) Refresh() {
	r.rebuild()
	r.Layout(r.c.Size())
	canvas.Refresh(r.c)
}

func (r *columnRenderer) rebuild() {
	r.objects = r.objects[:0]
	for _, p := range r.c.v.pages {
		r.objects = append(r.objects, p)
	}
}

func (r *columnRenderer) Objects() []fyne.CanvasObject { return r.objects }
func (r *columnRenderer) Destroy()                     {}

// renderJob is a page to draw at a width in pixels.
type renderJob struct {
	gen, page, width int
	doc              *render.Document
}

// renderQueue draws the pages asked for, one at a time, in a goroutine
// that runs while there is work (so that u.tasks counts it, and tests wait
// for it) and hands each picture to the window's goroutine.
type renderQueue struct {
	v       *docView
	mu      sync.Mutex
	pending []renderJob
	busy    bool
	current *renderJob         // the page being drawn
	stop    context.CancelFunc // cancels it
	spare   []*image.RGBA      // pictures no page shows, to draw into
}

// want replaces the pages waiting to be drawn with jobs (start starts
// drawing them); the page being drawn is cancelled unless it is among
// them.
func (q *renderQueue) want(jobs []renderJob) {
	q.mu.Lock()
	keep := false
	q.pending = q.pending[:0]
	for _, j := range jobs {
		if q.current != nil && j == *q.current {
			keep = true
			continue
		}
		q.pending = append(q.pending, j)
	}
	if q.current != nil && !keep {
		q.stop()
	}
	q.mu.Unlock()
}

// start starts the worker if pages wait and it is not running.
func (q *renderQueue) start() {
	q.mu.Lock()
	start := !q.busy && len(q.pending) > 0
	q.busy = q.busy || start
	q.mu.Unlock()
	if start {
		q.v.u.tasks.Add(1)
		go q.run()
	}
}

// recycle keeps a picture no page shows any more, to draw into (at most
// maxSpare of them: scrolling through pages of one size, the next page's
// picture is the one the cache just dropped, and no garbage piles up).
func (q *renderQueue) recycle(img *image.RGBA) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if len(q.spare) == maxSpare {
		q.spare = q.spare[1:]
	}
	q.spare = append(q.spare, img)
}

// takeSpare is a kept picture width pixels wide, or nil; q.mu is held.
func (q *renderQueue) takeSpare(width int) *image.RGBA {
	for i, img := range q.spare {
		if img.Rect.Dx() == width {
			q.spare = append(q.spare[:i], q.spare[i+1:]...)
			return img
		}
	}
	return nil
}

const maxSpare = 2

// run draws until nothing is left to draw (or the app closes).
func (q *renderQueue) run() {
	defer q.v.u.tasks.Done()
	for {
		q.mu.Lock()
		if len(q.pending) == 0 || q.v.u.ctx.Err() != nil {
			q.pending, q.busy = nil, false
			q.mu.Unlock()
			return
		}
		job := q.pending[0]
		q.pending = q.pending[1:]
		ctx, cancel := context.WithCancel(q.v.u.ctx)
		q.current, q.stop = &job, cancel
		into := q.takeSpare(job.width)
		q.mu.Unlock()

		img, err := job.doc.RenderWidth(ctx, job.page, job.width, into)
		cancel()
		q.mu.Lock()
		q.current, q.stop = nil, nil
		q.mu.Unlock()
		q.v.u.answer(func() { q.v.drawn(job, img, err) })
	}
}

// pageView is a page of the view: its paper, its picture once drawn, the
// overlays on it.
type pageView struct {
	widget.BaseWidget
	v     *docView
	index int
	geo   render.Geometry
	size  fyne.Size // at the zoom, in units

	paper    *canvas.Rectangle
	image    *canvas.Image
	note     *widget.Label // why the page could not be drawn
	width    int           // the picture's width in pixels, 0 for none
	broken   bool
	overlays []*overlay
}

func newPageView(v *docView, i int, g render.Geometry) *pageView {
	p := &pageView{v: v, index: i, geo: g, paper: canvas.NewRectangle(color.White), note: wrapLabel("")}
	p.paper.StrokeColor, p.paper.StrokeWidth = color.NRGBA{A: 0x40}, 1
	// The picture is drawn at the size it is shown: no scaling in
	// software (the GPU stretches it while a new zoom is being drawn).
	p.image = &canvas.Image{FillMode: canvas.ImageFillStretch, ScaleMode: canvas.ImageScaleFastest}
	p.image.Hide()
	p.note.Alignment = fyne.TextAlignCenter
	p.note.Hide()
	p.ExtendBaseWidget(p)
	return p
}

// need is the drawing page p needs at scale (screen pixels per unit), if
// it does not have it; a picture of the cache is shown at once.
func (p *pageView) need(scale float32) (renderJob, bool) {
	if p.broken {
		return renderJob{}, false
	}
	c := p.v.cache
	w := p.pixelWidth(scale)
	if p.width == w {
		c.touch(pageKey{p.index, w})
		return renderJob{}, false
	}
	if img := c.get(pageKey{p.index, w}); img != nil {
		p.setPicture(img, w)
		return renderJob{}, false
	}
	if p.width != 0 { // shown stretched until the new one comes
		c.touch(pageKey{p.index, p.width})
	}
	return renderJob{gen: p.v.gen, page: p.index, width: w, doc: p.v.doc}, true
}

// pixelWidth is the page's width on the screen, in pixels (within
// maxPagePixels).
func (p *pageView) pixelWidth(scale float32) int {
	pw, ph := p.geo.Size()
	w := math.Round(float64(p.size.Width * scale))
	if w*w*ph/pw > maxPagePixels {
		w = math.Floor(math.Sqrt(maxPagePixels * pw / ph))
	}
	return max(int(w), 1)
}

// setPicture shows img, width pixels wide (nil: none, the paper alone).
func (p *pageView) setPicture(img *image.RGBA, width int) {
	p.width = width
	if img == nil {
		p.image.Image = nil
		p.image.Hide()
		return
	}
	p.v.cache.dropOthers(p.index, width)
	p.image.Image = img
	p.image.Show()
	p.image.Refresh()
}

// fail says on the page that it could not be drawn.
func (p *pageView) fail(msg string) {
	p.broken = true
	p.note.SetText(msg)
	p.note.Show()
}

// Tapped gives the keyboard to the view and tells where the page was
// tapped, in its user space.
func (p *pageView) Tapped(ev *fyne.PointEvent) {
	p.v.focus()
	if p.v.onTapPage == nil {
		return
	}
	k := float64(p.v.k())
	x, y := p.geo.FromView(float64(ev.Position.X)/k, float64(ev.Position.Y)/k)
	p.v.onTapPage(p.index, x, y)
}

func (p *pageView) CreateRenderer() fyne.WidgetRenderer {
	r := &pageRenderer{p: p}
	r.rebuild()
	return r
}

type pageRenderer struct {
	p       *pageView
	objects []fyne.CanvasObject
}

func (r *pageRenderer) Layout(size fyne.Size) {
	p := r.p
	for _, o := range []fyne.CanvasObject{p.paper, p.image} {
		o.Move(fyne.Position{})
		o.Resize(size)
	}
	p.note.Move(fyne.NewPos(0, size.Height/3))
	p.note.Resize(fyne.NewSize(size.Width, p.note.MinSize().Height))
	for _, o := range p.overlays {
		o.place()
	}
}

func (r *pageRenderer) MinSize() fyne.Size { return r.p.size }

func (r *pageRenderer) Refresh() {
	r.rebuild()
	r.Layout(r.p.Size())
	canvas.Refresh(r.p)
}

func (r *pageRenderer) rebuild() {
	p := r.p
	r.objects = append(r.objects[:0], p.paper, p.image, p.note)
	for _, o := range p.overlays {
		r.objects = append(r.objects, o)
	}
}

func (r *pageRenderer) Objects() []fyne.CanvasObject { return r.objects }
func (r *pageRenderer) Destroy()                     {}

// pageKey names a picture: a page drawn at a width.
type pageKey struct{ page, width int }

// pageCache keeps the pictures drawn, the least recently used dropped
// first once they take more than budget bytes.
type pageCache struct {
	budget, used int
	order        *list.List // of *cacheEntry, the most recently used first
	entries      map[pageKey]*list.Element
	onEvict      func(pageKey, *image.RGBA)
}

type cacheEntry struct {
	key pageKey
	img *image.RGBA
}

func newPageCache(budget int, onEvict func(pageKey, *image.RGBA)) *pageCache {
	return &pageCache{budget: budget, order: list.New(), entries: map[pageKey]*list.Element{}, onEvict: onEvict}
}

func (c *pageCache) get(k pageKey) *image.RGBA {
	if e, ok := c.entries[k]; ok {
		c.order.MoveToFront(e)
		return e.Value.(*cacheEntry).img
	}
	return nil
}

func (c *pageCache) touch(k pageKey) { c.get(k) }

// put keeps img, then drops the oldest pictures over the budget (never
// the one just put).
func (c *pageCache) put(k pageKey, img *image.RGBA) {
	if e, ok := c.entries[k]; ok {
		c.remove(e)
	}
	c.entries[k] = c.order.PushFront(&cacheEntry{key: k, img: img})
	c.used += len(img.Pix)
	for c.used > c.budget && c.order.Len() > 1 {
		e := c.order.Back()
		c.remove(e)
		ce := e.Value.(*cacheEntry)
		c.onEvict(ce.key, ce.img)
	}
}

// dropOthers drops the pictures of page at widths other than width (a
// zoom replaced them).
func (c *pageCache) dropOthers(page, width int) {
	for k, e := range c.entries {
		if k.page == page && k.width != width {
			c.remove(e)
		}
	}
}

func (c *pageCache) remove(e *list.Element) {
	ce := e.Value.(*cacheEntry)
	c.order.Remove(e)
	delete(c.entries, ce.key)
	c.used -= len(ce.img.Pix)
}

func (c *pageCache) clear() {
	c.order.Init()
	clear(c.entries)
	c.used = 0
}
