package pdf

import (
	"math"

	"github.com/paraphe/paraphe/pdf/internal/cos"
)

// A page as a reader shows it: the part of its user space that is visible
// (its crop box within its media box, ISO 32000-2 14.11.2), turned
// clockwise by its /Rotate. A visible signature is placed on the page as
// shown and drawn upright there, whatever the page's user space.

// pageBox is page's visible box (x0, y0, x1, y1 in user space) and its
// /Rotate (0, 90, 180 or 270), both inherited from the page tree as ISO
// 32000-2 7.7.3.4 allows. A page with no usable box is taken for A4.
func (d *document) pageBox(page cos.Dict) (box [4]float64, rotate int) {
	media, ok := d.boxOf(page, "MediaBox")
	if !ok {
		media = [4]float64{0, 0, 595, 842}
	}
	box = media
	if crop, ok := d.boxOf(page, "CropBox"); ok {
		// The crop box is clipped to the media box (ISO 32000-2 14.11.2).
		c := [4]float64{max(crop[0], media[0]), max(crop[1], media[1]), min(crop[2], media[2]), min(crop[3], media[3])}
		if c[2] > c[0] && c[3] > c[1] {
			box = c
		}
	}
	if r, ok := cos.Int(d.inherited(page, "Rotate")); ok {
		rotate = int(((r%360)+360)%360) / 90 * 90
	}
	return box, rotate
}

// boxOf reads the rectangle key of page (inherited), normalised so that
// x0 < x1 and y0 < y1.
func (d *document) boxOf(page cos.Dict, key cos.Name) ([4]float64, bool) {
	obj, _ := d.f.Resolve(d.inherited(page, key))
	a, ok := obj.(cos.Array)
	if !ok || len(a) != 4 {
		return [4]float64{}, false
	}
	var v [4]float64
	for i := range 4 {
		o, _ := d.f.Resolve(a[i])
		n, ok := cos.Num(o)
		if !ok || math.IsNaN(n) || math.IsInf(n, 0) {
			return [4]float64{}, false
		}
		v[i] = n
	}
	b := [4]float64{min(v[0], v[2]), min(v[1], v[3]), max(v[0], v[2]), max(v[1], v[3])}
	return b, b[2]-b[0] > 0 && b[3]-b[1] > 0
}

// inherited is page's key, or the nearest ancestor's.
func (d *document) inherited(page cos.Dict, key cos.Name) cos.Object {
	node := page
	for range 32 {
		if v, ok := node[key]; ok {
			return v
		}
		parent, _ := d.f.ResolveDict(node["Parent"])
		if parent == nil {
			return nil
		}
		node = parent
	}
	return nil
}

// shownSize is the size of the page as shown: its box, turned.
func (g PageGeometry) shownSize() (w, h float64) {
	w, h = g.Box[2]-g.Box[0], g.Box[3]-g.Box[1]
	if g.Rotate == 90 || g.Rotate == 270 {
		return h, w
	}
	return w, h
}

// fromShown maps the point (sx, sy) of the page as shown, from its lower
// left corner, to user space.
func (g PageGeometry) fromShown(sx, sy float64) (x, y float64) {
	w, h := g.Box[2]-g.Box[0], g.Box[3]-g.Box[1]
	u, v := sx, sy
	switch g.Rotate {
	case 90: // the page's left edge is shown at the top
		u, v = w-sy, sx
	case 180:
		u, v = w-sx, h-sy
	case 270: // its left edge at the bottom
		u, v = sy, h-sx
	}
	return u + g.Box[0], v + g.Box[1]
}

// CornerRect is where a stamp goes in corner c of the page as shown
// (CornerRect's place on a page of its shown size), in user space: x, y,
// width, height from the lower left corner, its sides swapped on a page
// turned by a quarter.
func (g PageGeometry) CornerRect(c Corner) [4]float64 {
	w, h := g.shownSize()
	s := CornerRect(c, w, h)
	ax, ay := g.fromShown(s[0], s[1])
	bx, by := g.fromShown(s[0]+s[2], s[1]+s[3])
	return [4]float64{min(ax, bx), min(ay, by), math.Abs(bx - ax), math.Abs(by - ay)}
}

// upright is the /Matrix of an appearance drawn w×h as shown on a page
// turned by rotate, so that it stands upright there: turned back
// counterclockwise, and moved to stay in the positive quadrant (nil on a
// page not turned).
func upright(rotate int, w, h float64) cos.Array {
	switch rotate {
	case 90:
		return cos.Array{int64(0), int64(1), int64(-1), int64(0), h, int64(0)}
	case 180:
		return cos.Array{int64(-1), int64(0), int64(0), int64(-1), w, h}
	case 270:
		return cos.Array{int64(0), int64(-1), int64(1), int64(0), int64(0), w}
	}
	return nil
}

// widgetRotation is how far an existing field's widget is turned with its
// page: its /MK /R when its author said, else its page's /Rotate (its /P),
// so that the signature drawn in it stands upright as the page is shown.
func (d *document) widgetRotation(w cos.Dict) int {
	if mk, _ := d.f.ResolveDict(w["MK"]); mk != nil {
		if r, ok := cos.Int(mk["R"]); ok {
			return int(((r%360)+360)%360) / 90 * 90
		}
	}
	if page, _ := d.f.ResolveDict(w["P"]); page != nil {
		_, rotate := d.pageBox(page)
		return rotate
	}
	return 0
}
