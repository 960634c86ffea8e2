package app

import (
	"context"
	"fmt"
	"image/color"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/widget"

	"github.com/paraphe/paraphe/pdf"
)

// stampSize is the size of a visible signature placed by a tap, in points
// (as pdf places it in a corner).
var stampSize = [2]float64{pdf.StampWidth, pdf.StampHeight}

// pagePreview shows a page of the document with the place of the visible
// signature; a tap moves the signature there. The page is drawn by
// poppler's pdftoppm when the computer has it, else as a blank sheet of the
// page's proportions.
type pagePreview struct {
	widget.BaseWidget
	paper *canvas.Rectangle
	image *canvas.Image
	edge  *canvas.Rectangle // the page's edge, over the picture
	stamp *canvas.Rectangle
	geo   pdf.PageGeometry
	rect  [4]float64 // the stamp: x, y, width, height from the lower-left corner
	// onPlace is called when the user taps a place.
	onPlace func(rect [4]float64)
}

func newPagePreview(onPlace func([4]float64)) *pagePreview {
	p := &pagePreview{
		paper:   canvas.NewRectangle(color.White),
		edge:    canvas.NewRectangle(color.Transparent),
		image:   canvas.NewImageFromResource(nil),
		stamp:   canvas.NewRectangle(color.NRGBA{R: 0x1f, G: 0x4e, B: 0x8c, A: 0x60}),
		onPlace: onPlace,
	}
	p.edge.StrokeColor, p.edge.StrokeWidth = color.NRGBA{A: 0x80}, 1
	p.stamp.StrokeColor, p.stamp.StrokeWidth = color.NRGBA{R: 0x1f, G: 0x4e, B: 0x8c, A: 0xff}, 2
	p.image.FillMode = canvas.ImageFillStretch
	p.ExtendBaseWidget(p)
	return p
}

// show draws page geo (and its picture, when one is at png) with the stamp
// at rect.
func (p *pagePreview) show(geo pdf.PageGeometry, png string, rect [4]float64) {
	p.geo, p.rect = geo, rect
	p.image.File = png
	p.image.Refresh()
	p.Refresh()
}

// place sets where the stamp is drawn.
func (p *pagePreview) place(rect [4]float64) {
	p.rect = rect
	p.Refresh()
}

// frame is where the page sits in a widget of size: scaled to fit, centred.
func (p *pagePreview) frame(size fyne.Size) (pos fyne.Position, scale float32) {
	if p.geo.Width == 0 {
		return fyne.Position{}, 0
	}
	scale = min(size.Width/float32(p.geo.Width), size.Height/float32(p.geo.Height))
	w, h := float32(p.geo.Width)*scale, float32(p.geo.Height)*scale
	return fyne.NewPos((size.Width-w)/2, (size.Height-h)/2), scale
}

// Tapped moves the stamp so that it is centred where the user tapped, kept
// inside the page.
func (p *pagePreview) Tapped(ev *fyne.PointEvent) {
	pos, scale := p.frame(p.Size())
	if scale == 0 {
		return
	}
	x := float64((ev.Position.X-pos.X)/scale) - stampSize[0]/2
	y := p.geo.Height - float64((ev.Position.Y-pos.Y)/scale) - stampSize[1]/2
	// Whole points: a tap is not more precise, and the file stays tidy.
	x = math.Round(max(0, min(x, p.geo.Width-stampSize[0])))
	y = math.Round(max(0, min(y, p.geo.Height-stampSize[1])))
	p.place([4]float64{x, y, stampSize[0], stampSize[1]})
	if p.onPlace != nil {
		p.onPlace(p.rect)
	}
}

func (p *pagePreview) CreateRenderer() fyne.WidgetRenderer {
	return &previewRenderer{p: p}
}

type previewRenderer struct{ p *pagePreview }

func (r *previewRenderer) Layout(size fyne.Size) {
	p := r.p
	pos, scale := p.frame(size)
	page := fyne.NewSize(float32(p.geo.Width)*scale, float32(p.geo.Height)*scale)
	p.paper.Move(pos)
	p.paper.Resize(page)
	p.image.Move(pos)
	p.image.Resize(page)
	p.edge.Move(pos)
	p.edge.Resize(page)
	p.stamp.Move(fyne.NewPos(pos.X+float32(p.rect[0])*scale, pos.Y+float32(p.geo.Height-p.rect[1]-p.rect[3])*scale))
	p.stamp.Resize(fyne.NewSize(float32(p.rect[2])*scale, float32(p.rect[3])*scale))
}

func (r *previewRenderer) MinSize() fyne.Size { return fyne.NewSize(200, 260) }
func (r *previewRenderer) Refresh() {
	r.Layout(r.p.Size())
	canvas.Refresh(r.p)
}
func (r *previewRenderer) Objects() []fyne.CanvasObject {
	if r.p.geo.Width == 0 {
		return nil
	}
	return []fyne.CanvasObject{r.p.paper, r.p.image, r.p.edge, r.p.stamp}
}
func (r *previewRenderer) Destroy() {}

// renderPage draws page n of the PDF at path as a PNG in dir (its name
// numbered by gen: each request its own file) with poppler's pdftoppm, if
// the computer has it; "" otherwise.
func renderPage(ctx context.Context, path string, n int, dir string, gen int) string {
	tool, err := exec.LookPath("pdftoppm")
	if err != nil {
		return ""
	}
	out := filepath.Join(dir, fmt.Sprintf("page-%d", gen))
	cmd := exec.CommandContext(ctx, tool, "-f", strconv.Itoa(n), "-l", strconv.Itoa(n), "-singlefile", "-png", "-scale-to", "600", path, out)
	if cmd.Run() != nil {
		return ""
	}
	if _, err := os.Stat(out + ".png"); err != nil {
		return ""
	}
	return out + ".png"
}

var _ fyne.Tappable = (*pagePreview)(nil)
