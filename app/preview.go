package app

import (
	"bytes"
	"context"
	"errors"
	"image"
	"image/color"
	"image/png"
	"math"
	"os/exec"
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
// page's proportions. Empty (no page) it draws nothing.
type pagePreview struct {
	widget.BaseWidget
	paper   *canvas.Rectangle
	image   *canvas.Image
	edge    *canvas.Rectangle // the page's edge, over the picture
	stamp   *canvas.Rectangle
	geo     pdf.PageGeometry
	picture image.Image // the page as drawn, nil when it could not be
	rect    [4]float64  // the stamp: x, y, width, height from the lower-left corner
	// onPlace is called when the user taps a place.
	onPlace func(rect [4]float64)
}

func newPagePreview(onPlace func([4]float64)) *pagePreview {
	p := &pagePreview{
		paper:   canvas.NewRectangle(color.White),
		edge:    canvas.NewRectangle(color.Transparent),
		image:   canvas.NewImageFromImage(nil),
		stamp:   canvas.NewRectangle(color.NRGBA{R: 0x1f, G: 0x4e, B: 0x8c, A: 0x60}),
		onPlace: onPlace,
	}
	p.edge.StrokeColor, p.edge.StrokeWidth = color.NRGBA{A: 0x80}, 1
	p.stamp.StrokeColor, p.stamp.StrokeWidth = color.NRGBA{R: 0x1f, G: 0x4e, B: 0x8c, A: 0xff}, 2
	p.image.FillMode = canvas.ImageFillStretch
	p.ExtendBaseWidget(p)
	return p
}

// show draws page geo (and its picture, when there is one) with the stamp
// at rect.
func (p *pagePreview) show(geo pdf.PageGeometry, picture image.Image, rect [4]float64) {
	p.geo, p.picture, p.rect = geo, picture, rect
	p.image.Image = picture
	p.image.Refresh()
	p.Refresh()
}

// clear empties the preview: no page is shown.
func (p *pagePreview) clear() {
	p.show(pdf.PageGeometry{}, nil, [4]float64{})
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

func (r *previewRenderer) MinSize() fyne.Size { return fyne.NewSize(100, 120) }
func (r *previewRenderer) Refresh() {
	r.Layout(r.p.Size())
	canvas.Refresh(r.p)
}
func (r *previewRenderer) Objects() []fyne.CanvasObject {
	if r.p.geo.Width == 0 {
		return nil
	}
	if r.p.picture == nil {
		return []fyne.CanvasObject{r.p.paper, r.p.edge, r.p.stamp}
	}
	return []fyne.CanvasObject{r.p.paper, r.p.image, r.p.edge, r.p.stamp}
}
func (r *previewRenderer) Destroy() {}

var _ fyne.Tappable = (*pagePreview)(nil)

// errNoRenderer: the computer has no pdftoppm to draw pages with.
var errNoRenderer = errors.New("app: pdftoppm (poppler) is not installed")

// renderPage draws page n of the PDF at path, its longer side 600 pixels,
// with poppler's pdftoppm. The picture comes back through a pipe: no file
// is written, so no picture of another document can be taken for it.
func renderPage(ctx context.Context, path string, n int) (image.Image, error) {
	return pdftoppm(ctx, path, n, "-scale-to", "600")
}

// renderArea draws the part of page n (of size geo) under rect, at one
// pixel per point: what a stamp there would cover.
func renderArea(ctx context.Context, path string, n int, geo pdf.PageGeometry, rect [4]float64) (image.Image, error) {
	r := pixelRect(geo, rect, image.Rect(0, 0, int(math.Round(geo.Width)), int(math.Round(geo.Height))))
	if r.Empty() {
		return image.NewGray(image.Rect(0, 0, 0, 0)), nil
	}
	return pdftoppm(ctx, path, n, "-r", "72", "-x", strconv.Itoa(r.Min.X), "-y", strconv.Itoa(r.Min.Y),
		"-W", strconv.Itoa(r.Dx()), "-H", strconv.Itoa(r.Dy()))
}

func pdftoppm(ctx context.Context, path string, n int, args ...string) (image.Image, error) {
	tool, err := exec.LookPath("pdftoppm")
	if err != nil {
		return nil, errNoRenderer
	}
	page := strconv.Itoa(n)
	args = append([]string{"-f", page, "-l", page, "-singlefile", "-png"}, args...)
	var out bytes.Buffer
	cmd := exec.CommandContext(ctx, tool, append(args, "--", path)...)
	cmd.Stdout = &out
	if err := cmd.Run(); err != nil {
		return nil, err
	}
	return png.Decode(&out)
}

// pixelRect is where rect (points from the page's lower-left corner) falls
// on a picture of the page (pixels from its upper-left corner), within it.
func pixelRect(geo pdf.PageGeometry, rect [4]float64, pic image.Rectangle) image.Rectangle {
	if geo.Width <= 0 || geo.Height <= 0 {
		return image.Rectangle{}
	}
	sx, sy := float64(pic.Dx())/geo.Width, float64(pic.Dy())/geo.Height
	r := image.Rect(int(math.Floor(rect[0]*sx)), int(math.Floor((geo.Height-rect[1]-rect[3])*sy)),
		int(math.Ceil((rect[0]+rect[2])*sx)), int(math.Ceil((geo.Height-rect[1])*sy)))
	return r.Add(pic.Min).Intersect(pic)
}

// inkLimit is how much of what a stamp covers may be drawn on, in square
// points, before the stamp is said to lie over the page's content: a few
// specks of a scan do not, a word of small print (some 30) does.
const inkLimit = 8

// inkArea is how many pixels of img are ink: darker than light grey once
// laid on white paper (a transparent pixel is paper).
func inkArea(img image.Image) int {
	ink := 0
	r := img.Bounds()
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			c := color.NRGBAModel.Convert(img.At(x, y)).(color.NRGBA)
			// Over white: each channel moves towards 255 as alpha falls.
			over := func(v uint8) float64 { return 255 - float64(255-v)*float64(c.A)/255 }
			if 0.299*over(c.R)+0.587*over(c.G)+0.114*over(c.B) < 0.8*255 {
				ink++
			}
		}
	}
	return ink
}
