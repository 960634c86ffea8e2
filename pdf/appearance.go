package pdf

import (
	"crypto/x509"
	"time"

	"github.com/paraphe/paraphe/pdf/internal/cos"
)

// Appearance makes a signature visible: on page Page (1-based) in Rect
// (x, y, width, height in points from the page's lower-left corner), or in
// the existing empty signature field named Field.
type Appearance struct {
	Page  int
	Rect  [4]float64
	Field string
	// Corner places a stamp of the usual size when Rect is zero (default:
	// CornerBottomRight).
	Corner Corner
	// Image is an optional picture (JPEG or PNG) drawn at the left.
	Image []byte
	// Lang ("en", "fr", "it") and Location (time zone) say how the date reads.
	Lang string
	Zone *time.Location
	// Labels are the words of the stamp in the holder's language.
	Labels Labels
}

// Corner is a corner of the page.
type Corner string

// The corners a stamp can go to.
const (
	CornerBottomRight Corner = "bottom-right"
	CornerBottomLeft  Corner = "bottom-left"
	CornerTopRight    Corner = "top-right"
	CornerTopLeft     Corner = "top-left"
)

// The size of a stamp placed in a corner, in points.
const (
	StampWidth  = 210
	StampHeight = 72
)

// CornerRect is where a stamp goes in corner c (default: CornerBottomRight)
// of a page of w×h points: 30 points from the side, 36 from the top or
// bottom. It is x, y, width, height from the page's lower-left corner.
func CornerRect(c Corner, w, h float64) [4]float64 {
	x, y := w-StampWidth-30, 36.0
	if c == CornerTopLeft || c == CornerBottomLeft {
		x = 30
	}
	if c == CornerTopLeft || c == CornerTopRight {
		y = h - 36 - StampHeight
	}
	return [4]float64{x, y, StampWidth, StampHeight}
}

// Labels are the words around the values in a visible signature.
type Labels struct {
	SignedBy, Member, Date, Reason, Location string
	SealedBy                                 string // SignedBy for an organisation's seal (IsSeal)
	DateLayout                               string // Go time layout
}

// render returns the normal appearance (a form XObject) for a box of w×h
// in the user space of a page turned by rotate: drawn as the page shows
// the box (its sides swapped on a quarter turn) and turned back, so that
// it stands upright on the page as shown.
func (a *Appearance) render(u *update, w, h float64, rotate int, leaf *x509.Certificate, o Options, now time.Time) (cos.Ref, error) {
	if rotate == 90 || rotate == 270 {
		w, h = h, w
	}
	return renderStamp(u, a, w, h, upright(rotate, w, h), leaf, o, now)
}
