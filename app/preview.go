package app

import (
	"bytes"
	"context"
	"image"
	"image/color"
	"math"
	"os"
	"time"

	"github.com/paraphe/paraphe/pdf"
)

// The Sign screen's preview is a document view (docview.go) of the file
// selected, the stamp an overlay on the page chosen: dragged, resized or
// moved with the keys, or put where a page is tapped. What the stamp
// would cover is judged on the page as PDFium draws it, the same on every
// platform.

// drawStamp draws the stamp over the page as signing will draw it: the
// appearance pdf writes for the certificate chosen, the reason and the
// place (pdf.StampPreview), drawn by PDFium at the stamp's pixels on the
// screen, off the window's goroutine. Until it comes (and with no
// certificate to sign with) the stamp shows the holder's name.
func (s *signScreen) drawStamp() {
	s.stampGen++
	gen, o := s.stampGen, s.stamp
	if o == nil {
		return
	}
	i := s.cert.SelectedIndex()
	a := s.appearance()
	if a == nil || i < 0 || i >= len(s.certs) || s.certs[i].Certificate() == nil {
		return
	}
	leaf := s.certs[i].Certificate()
	w, h := o.rect[2], o.rect[3]
	if p := o.pageView(); p != nil && (p.geo.Rotate == 90 || p.geo.Rotate == 270) {
		w, h = h, w // its size as shown, upright
	}
	px := int(math.Ceil(w * float64(s.view.k()*s.view.scale())))
	opts := pdf.Options{Reason: s.reason.Text, Location: s.location.Text}
	var img *image.RGBA
	s.u.background(func(ctx context.Context) error {
		b, err := pdf.StampPreview(a, w, h, leaf, opts, time.Now())
		if err != nil {
			return err
		}
		r, err := s.u.pdfium(ctx)
		if err != nil {
			return err
		}
		doc, err := r.Open(bytes.NewReader(b), int64(len(b)), nil)
		if err != nil {
			return err
		}
		defer doc.Close()
		img, err = doc.RenderWidth(ctx, 0, max(px, 1), nil)
		return err
	}, func(err error) {
		if err == nil && gen == s.stampGen && s.stamp == o {
			o.picture = img
			o.Refresh()
		}
	})
}

// stampSize is the size of a visible signature placed by a tap, in points
// (as pdf places it in a corner).
var stampSize = [2]float64{pdf.StampWidth, pdf.StampHeight}

// stampCovers reports whether the visible signature a would lie over what
// page a.Page of the PDF at path shows (false when it is invisible, or
// the page cannot be drawn: an encrypted file's is not opened without its
// password).
func (u *UI) stampCovers(ctx context.Context, path string, a *pdf.Appearance) bool {
	if a == nil {
		return false
	}
	geo, err := pdf.Page(path, a.Page)
	if err != nil {
		return false // signing says what is wrong
	}
	rect := a.Rect
	if rect[2] == 0 || rect[3] == 0 {
		rect = geo.CornerRect(a.Corner)
	}
	area, err := u.renderArea(ctx, path, a.Page-1, rect)
	return err == nil && inkArea(area) > inkLimit
}

// renderArea draws the part of page i (0-based) of the PDF at path under
// rect (in its user space), at one pixel per point: what a stamp there
// would cover.
func (u *UI) renderArea(ctx context.Context, path string, i int, rect [4]float64) (image.Image, error) {
	r, err := u.pdfium(ctx)
	if err != nil {
		return nil, err
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	doc, err := r.Open(f, fi.Size(), nil)
	if err != nil {
		return nil, err
	}
	defer doc.Close()
	g, err := doc.Geometry(i)
	if err != nil {
		return nil, err
	}
	w, _ := g.Size()
	page, err := doc.RenderWidth(ctx, i, int(math.Round(w)), nil)
	if err != nil {
		return nil, err
	}
	v := g.RectToView(rect)
	area := image.Rect(int(math.Floor(v[0])), int(math.Floor(v[1])), int(math.Ceil(v[0]+v[2])), int(math.Ceil(v[1]+v[3])))
	return page.SubImage(area.Intersect(page.Bounds())), nil
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
