package pdf

import (
	"bytes"
	"compress/zlib"
	"crypto/x509"
	"errors"
	"fmt"
	"image"
	"image/jpeg"
	"image/png"
	"strings"
	"time"

	"github.com/paraphe/paraphe/pdf/internal/cos"
)

// ErrImage is returned for a stamp picture that is neither JPEG nor PNG.
var ErrImage = errors.New("pdf: the picture is not a JPEG or PNG image")

// holderOf reads the stamp's identity from the certificate (the same
// fields as pkcs.HolderOf, without importing the key stores). A seal's is
// its organisation, named once, and its identifier.
func holderOf(c *x509.Certificate) (name, title, member, org string) {
	name, member = c.Subject.CommonName, c.Subject.SerialNumber
	if len(c.Subject.Organization) > 0 {
		org = c.Subject.Organization[0]
	}
	title = subjectAttr(c, "2.5.4.12")
	if IsSeal(c) {
		if name == "" {
			name = org
		}
		if org == name {
			org = ""
		}
		title = subjectAttr(c, "2.5.4.97")
	}
	return
}

func subjectAttr(c *x509.Certificate, oid string) string {
	for _, n := range c.Subject.Names {
		if n.Type.String() == oid {
			return fmt.Sprint(n.Value)
		}
	}
	return ""
}

// IsSeal reports whether a certificate is an electronic seal's, an
// organisation's rather than a person's: it says so (the ETSI EN 319
// 412-5 QcType eseal), or it names an organisation by its identifier
// (organizationIdentifier, ETSI EN 319 412-3) or only by its name, and
// no person (no given name, surname, pseudonym or title).
func IsSeal(c *x509.Certificate) bool {
	if hasQcType(c, oidQcTypeESeal) {
		return true
	}
	if len(c.Subject.Organization) == 0 {
		return false
	}
	for _, oid := range []string{"2.5.4.42", "2.5.4.4", "2.5.4.65", "2.5.4.12"} {
		if subjectAttr(c, oid) != "" {
			return false
		}
	}
	return subjectAttr(c, "2.5.4.97") != "" || c.Subject.CommonName == "" || c.Subject.CommonName == c.Subject.Organization[0]
}

type stampLine struct {
	text string
	bold bool
	size float64 // relative to the base size
}

func defaultLabels(l Labels) Labels {
	def := Labels{SignedBy: "Digitally signed by", SealedBy: "Electronic seal of", Member: "Member no.", Date: "Date", Reason: "Reason", Location: "Location", DateLayout: "2006-01-02 15:04 MST"}
	for _, p := range []struct {
		v *string
		d string
	}{{&l.SignedBy, def.SignedBy}, {&l.SealedBy, def.SealedBy}, {&l.Member, def.Member}, {&l.Date, def.Date},
		{&l.Reason, def.Reason}, {&l.Location, def.Location}, {&l.DateLayout, def.DateLayout}} {
		if *p.v == "" {
			*p.v = p.d
		}
	}
	return l
}

// renderStamp draws the visible signature: a frame, the picture when there
// is one, and the signer's name, title, order, member number, the date in
// the holder's time zone, the reason and the place, in an embedded subset
// font.
func renderStamp(u *update, a *Appearance, w, h float64, matrix cos.Array, leaf *x509.Certificate, o Options, now time.Time) (cos.Ref, error) {
	lines := stampLines(a, leaf, o, now)
	reg, err := regularFont()
	if err != nil {
		return cos.Ref{}, err
	}
	bold, err := boldFont()
	if err != nil {
		return cos.Ref{}, err
	}
	const pad = 4.0
	var content bytes.Buffer
	resources := cos.Dict{}
	textX := pad
	if len(a.Image) > 0 {
		img, err := imageXObject(u, a.Image)
		if err != nil {
			return cos.Ref{}, err
		}
		ih := h - 2*pad
		iw := ih * img.aspect
		if iw > w*0.35 {
			iw = w * 0.35
			ih = iw / img.aspect
		}
		fmt.Fprintf(&content, "q %.2f 0 0 %.2f %.2f %.2f cm /Im1 Do Q\n", iw, ih, pad, (h-ih)/2)
		resources["XObject"] = cos.Dict{"Im1": img.ref}
		textX = 2*pad + iw
	}
	size := fitSize(lines, reg, bold, w-textX-pad, h-2*pad)
	fmt.Fprintf(&content, "q 0.15 0.25 0.55 RG 0.8 w 0.4 0.4 %.2f %.2f re S Q\n", w-0.8, h-0.8)
	content.WriteString("BT 0.1 0.1 0.25 rg\n")
	y := h - pad
	for i, ln := range lines {
		f, fn := reg, "/F1"
		if ln.bold {
			f, fn = bold, "/F2"
		}
		s := size * ln.size
		y -= s * 1.2
		if i == 0 {
			fmt.Fprintf(&content, "%s %.2f Tf %.2f %.2f Td %s Tj\n", fn, s, textX, y+s*0.2, f.encode(ln.text))
		} else {
			fmt.Fprintf(&content, "%s %.2f Tf 0 %.2f Td %s Tj\n", fn, s, -s*1.2, f.encode(ln.text))
		}
	}
	content.WriteString("ET\n")
	r1, err := reg.object(u)
	if err != nil {
		return cos.Ref{}, err
	}
	r2, err := bold.object(u)
	if err != nil {
		return cos.Ref{}, err
	}
	resources["Font"] = cos.Dict{"F1": r1, "F2": r2}
	form := cos.Dict{
		"Type": cos.Name("XObject"), "Subtype": cos.Name("Form"),
		"BBox": cos.Array{int64(0), int64(0), w, h}, "Resources": resources,
	}
	if matrix != nil {
		form["Matrix"] = matrix
	}
	return u.add(&cos.Stream{Dict: form, Raw: content.Bytes()}), nil
}

// stampLines are the stamp's words: who signed (or sealed), their title and
// order, member number, date, and the reason and place when given.
func stampLines(a *Appearance, leaf *x509.Certificate, o Options, now time.Time) []stampLine {
	l := defaultLabels(a.Labels)
	zone := a.Zone
	if zone == nil {
		zone = time.Local
	}
	name, title, member, org := holderOf(leaf)
	by := l.SignedBy
	if IsSeal(leaf) {
		by = l.SealedBy
	}
	lines := []stampLine{{by, false, 0.8}, {name, true, 1.25}}
	if title != "" || org != "" {
		lines = append(lines, stampLine{strings.Trim(title+" · "+org, " ·"), false, 1})
	}
	if member != "" {
		lines = append(lines, stampLine{l.Member + " " + member, false, 1})
	}
	lines = append(lines, stampLine{l.Date + ": " + now.In(zone).Format(l.DateLayout), false, 1})
	if o.Reason != "" {
		lines = append(lines, stampLine{l.Reason + ": " + o.Reason, false, 1})
	}
	if o.Location != "" {
		lines = append(lines, stampLine{l.Location + ": " + o.Location, false, 1})
	}
	return lines
}

// fitSize is the largest base size, at least 3 points, at which every line
// fits a box textW wide and textH high.
func fitSize(lines []stampLine, reg, bold *embeddedFont, textW, textH float64) float64 {
	size := 12.0
	totalH := 0.0
	for _, ln := range lines {
		totalH += ln.size * 1.2
		f := reg
		if ln.bold {
			f = bold
		}
		if lw := f.width(ln.text) * ln.size; lw > 0 && textW/lw < size {
			size = textW / lw
		}
	}
	if textH/totalH < size {
		size = textH / totalH
	}
	return max(size, 3)
}

type stampImage struct {
	ref    cos.Ref
	aspect float64 // width / height
}

// imageXObject embeds a JPEG as is (DCTDecode), or a PNG as Flate-compressed
// RGB with its alpha channel as a soft mask.
func imageXObject(u *update, data []byte) (*stampImage, error) {
	cfg, format, err := image.DecodeConfig(bytes.NewReader(data))
	if err != nil || cfg.Width == 0 || cfg.Height == 0 {
		return nil, ErrImage
	}
	aspect := float64(cfg.Width) / float64(cfg.Height)
	dict := cos.Dict{"Type": cos.Name("XObject"), "Subtype": cos.Name("Image"),
		"Width": int64(cfg.Width), "Height": int64(cfg.Height), "BitsPerComponent": int64(8)}
	switch format {
	case "jpeg":
		img, err := jpeg.Decode(bytes.NewReader(data))
		if err != nil {
			return nil, ErrImage
		}
		switch img.(type) {
		case *image.Gray:
			dict["ColorSpace"] = cos.Name("DeviceGray")
		case *image.CMYK:
			dict["ColorSpace"] = cos.Name("DeviceCMYK")
			dict["Decode"] = cos.Array{int64(1), int64(0), int64(1), int64(0), int64(1), int64(0), int64(1), int64(0)}
		default:
			dict["ColorSpace"] = cos.Name("DeviceRGB")
		}
		dict["Filter"] = cos.Name("DCTDecode")
		return &stampImage{ref: u.add(&cos.Stream{Dict: dict, Raw: data}), aspect: aspect}, nil
	case "png":
		img, err := png.Decode(bytes.NewReader(data))
		if err != nil {
			return nil, ErrImage
		}
		b := img.Bounds()
		rgb := make([]byte, 0, 3*b.Dx()*b.Dy())
		alpha := make([]byte, 0, b.Dx()*b.Dy())
		opaque := true
		for y := b.Min.Y; y < b.Max.Y; y++ {
			for x := b.Min.X; x < b.Max.X; x++ {
				r, g, bl, a := img.At(x, y).RGBA()
				if a > 0 && a < 0xffff { // un-premultiply
					r, g, bl = r*0xffff/a, g*0xffff/a, bl*0xffff/a
				}
				rgb = append(rgb, byte(r>>8), byte(g>>8), byte(bl>>8))
				alpha = append(alpha, byte(a>>8))
				if a != 0xffff {
					opaque = false
				}
			}
		}
		dict["ColorSpace"] = cos.Name("DeviceRGB")
		dict["Filter"] = cos.Name("FlateDecode")
		if !opaque {
			mask := cos.Dict{"Type": cos.Name("XObject"), "Subtype": cos.Name("Image"), "Width": int64(cfg.Width), "Height": int64(cfg.Height),
				"BitsPerComponent": int64(8), "ColorSpace": cos.Name("DeviceGray"), "Filter": cos.Name("FlateDecode")}
			dict["SMask"] = u.add(&cos.Stream{Dict: mask, Raw: deflate(alpha)})
		}
		return &stampImage{ref: u.add(&cos.Stream{Dict: dict, Raw: deflate(rgb)}), aspect: aspect}, nil
	}
	return nil, ErrImage
}

func deflate(b []byte) []byte {
	var out bytes.Buffer
	zw := zlib.NewWriter(&out)
	zw.Write(b)
	zw.Close()
	return out.Bytes()
}
