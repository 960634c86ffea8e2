package render

import (
	"fmt"
	"math"

	"github.com/klippa-app/go-pdfium/requests"
)

// Geometry is how a page's user space (the coordinates a PDF writes, a
// signature field's /Rect among them) lands on the page as a reader shows
// it: the part of user space that is visible, turned by the page's
// /Rotate.
type Geometry struct {
	// Box is the visible part of user space: the page's crop box within
	// its media box, x0, y0, x1, y1 in points (x0 < x1, y0 < y1; a box may
	// start at negative coordinates).
	Box [4]float64
	// Rotate is the page's /Rotate, in degrees clockwise: 0, 90, 180 or
	// 270.
	Rotate int
}

// Size is the page's size as shown, in points: the box, turned.
func (g Geometry) Size() (width, height float64) {
	w, h := g.Box[2]-g.Box[0], g.Box[3]-g.Box[1]
	if g.Rotate == 90 || g.Rotate == 270 {
		return h, w
	}
	return w, h
}

// ToView maps the point (x, y) of user space to the page as shown: points
// from its top left corner, y growing downward.
func (g Geometry) ToView(x, y float64) (vx, vy float64) {
	u, v := x-g.Box[0], y-g.Box[1] // from the box's lower left corner
	w, h := g.Box[2]-g.Box[0], g.Box[3]-g.Box[1]
	switch g.Rotate {
	case 90: // the left edge becomes the top one
		return v, u
	case 180:
		return w - u, v
	case 270: // the left edge becomes the bottom one
		return h - v, w - u
	}
	return u, h - v
}

// FromView is ToView's inverse: the point of user space shown at (vx, vy).
func (g Geometry) FromView(vx, vy float64) (x, y float64) {
	w, h := g.Box[2]-g.Box[0], g.Box[3]-g.Box[1]
	var u, v float64
	switch g.Rotate {
	case 90:
		u, v = vy, vx
	case 180:
		u, v = w-vx, vy
	case 270:
		u, v = w-vy, h-vx
	default:
		u, v = vx, h-vy
	}
	return u + g.Box[0], v + g.Box[1]
}

// RectToView maps a rectangle of user space (x, y, width, height from its
// lower left corner, as pdf writes a field's place) to the page as shown:
// x, y of its top left corner from the page's top left corner, width,
// height. A page's rotation being a quarter turn, a rectangle stays one,
// its sides swapped on a page turned by 90 or 270 degrees.
func (g Geometry) RectToView(r [4]float64) [4]float64 {
	ax, ay := g.ToView(r[0], r[1])
	bx, by := g.ToView(r[0]+r[2], r[1]+r[3])
	return [4]float64{min(ax, bx), min(ay, by), math.Abs(bx - ax), math.Abs(by - ay)}
}

// RectFromView is RectToView's inverse.
func (g Geometry) RectFromView(r [4]float64) [4]float64 {
	ax, ay := g.FromView(r[0], r[1])
	bx, by := g.FromView(r[0]+r[2], r[1]+r[3])
	return [4]float64{min(ax, bx), min(ay, by), math.Abs(bx - ax), math.Abs(by - ay)}
}

// Geometry is page i's (0-based) geometry, as PDFium draws it.
func (d *Document) Geometry(i int) (Geometry, error) {
	d.r.mu.Lock()
	defer d.r.mu.Unlock()
	if err := d.check(i); err != nil {
		return Geometry{}, err
	}
	box, err := d.r.inst.FPDF_GetPageBoundingBox(&requests.FPDF_GetPageBoundingBox{Page: d.page(i)})
	if err != nil {
		return Geometry{}, fmt.Errorf("render: page %d: %w", i+1, err)
	}
	rot, err := d.r.inst.FPDFPage_GetRotation(&requests.FPDFPage_GetRotation{Page: d.page(i)})
	if err != nil {
		return Geometry{}, fmt.Errorf("render: page %d: %w", i+1, err)
	}
	b := box.Rect
	// PDFium keeps boxes in float32: 595.28 comes back as 595.2800293.
	// A thousandth of a point is below anything a page or a screen shows.
	g := Geometry{Box: [4]float64{
		points(min(b.Left, b.Right)), points(min(b.Bottom, b.Top)),
		points(max(b.Left, b.Right)), points(max(b.Bottom, b.Top)),
	}, Rotate: (int(rot.PageRotation) * 90) % 360}
	return g, nil
}

func points(f float32) float64 { return math.Round(float64(f)*1000) / 1000 }
