package pdf

import (
	"encoding/binary"
	"errors"
	"fmt"
	"sort"
	"strings"

	"golang.org/x/image/font"
	"golang.org/x/image/font/gofont/gobold"
	"golang.org/x/image/font/gofont/goregular"
	"golang.org/x/image/font/sfnt"
	"golang.org/x/image/math/fixed"

	"github.com/paraphe/paraphe/pdf/internal/cos"
)

// embeddedFont is a TrueType font embedded as a subset: only the glyphs a
// stamp uses keep their outlines, so that a signature adds kilobytes, not
// the whole font, and PDF/A files (which require embedded fonts) stay valid.
type embeddedFont struct {
	name            string // PostScript name
	ttf             []byte
	f               *sfnt.Font
	buf             sfnt.Buffer
	upem            int
	used            map[sfnt.GlyphIndex]rune
	ascent, descent float64 // per 1 pt of size
}

func newFont(name string, ttf []byte) (*embeddedFont, error) {
	f, err := sfnt.Parse(ttf)
	if err != nil {
		return nil, err
	}
	ef := &embeddedFont{name: name, ttf: ttf, f: f, upem: int(f.UnitsPerEm()), used: map[sfnt.GlyphIndex]rune{0: 0}}
	m, err := f.Metrics(&ef.buf, fixed.I(ef.upem), font.HintingNone)
	if err == nil {
		ef.ascent = float64(m.Ascent.Round()) / float64(ef.upem)
		ef.descent = float64(m.Descent.Round()) / float64(ef.upem)
	}
	return ef, nil
}

func regularFont() (*embeddedFont, error) { return newFont("GoRegular", goregular.TTF) }
func boldFont() (*embeddedFont, error)    { return newFont("GoBold", gobold.TTF) }

// encode returns the glyph IDs of s as the hex string of an Identity-H
// font, and records the glyphs used.
func (ef *embeddedFont) encode(s string) []byte {
	var b strings.Builder
	b.WriteByte('<')
	for _, r := range s {
		g, err := ef.f.GlyphIndex(&ef.buf, r)
		if err != nil || g == 0 {
			g, _ = ef.f.GlyphIndex(&ef.buf, '?')
			r = '?'
		}
		ef.used[g] = r
		fmt.Fprintf(&b, "%04X", uint16(g))
	}
	b.WriteByte('>')
	return []byte(b.String())
}

// advance is the width of glyph g in thousandths of the font size.
func (ef *embeddedFont) advance(g sfnt.GlyphIndex) float64 {
	adv, err := ef.f.GlyphAdvance(&ef.buf, g, fixed.I(ef.upem), font.HintingNone)
	if err != nil {
		return 500
	}
	return float64(adv.Round()) * 1000 / float64(ef.upem)
}

// width is the width of s at size 1.
func (ef *embeddedFont) width(s string) float64 {
	w := 0.0
	for _, r := range s {
		g, err := ef.f.GlyphIndex(&ef.buf, r)
		if err != nil || g == 0 {
			g, _ = ef.f.GlyphIndex(&ef.buf, '?')
		}
		w += ef.advance(g)
	}
	return w / 1000
}

// object writes the Type0 font (CIDFontType2, Identity-H, subset program,
// widths and ToUnicode for text extraction) into the update.
func (ef *embeddedFont) object(u *update) (cos.Ref, error) {
	program, err := subsetTTF(ef.ttf, ef.used)
	if err != nil {
		return cos.Ref{}, err
	}
	gids := make([]int, 0, len(ef.used))
	for g := range ef.used {
		gids = append(gids, int(g))
	}
	sort.Ints(gids)
	var widths cos.Array
	for _, g := range gids {
		widths = append(widths, int64(g), cos.Array{int64(ef.advance(sfnt.GlyphIndex(g)))})
	}
	// A subset is named with a six-letter tag (ISO 32000-1 9.6.4).
	tag := subsetTag(gids)
	base := cos.Name(tag + "+" + ef.name)
	bbox := cos.Array{int64(-200), int64(ef.descent * 1000), int64(1200), int64(ef.ascent * 1000)}
	fontFile := u.add(&cos.Stream{Dict: cos.Dict{"Length1": int64(len(program)), "Filter": cos.Name("FlateDecode")}, Raw: deflate(program)})
	desc := u.add(cos.Dict{
		"Type": cos.Name("FontDescriptor"), "FontName": base, "Flags": int64(32),
		"FontBBox": bbox, "ItalicAngle": int64(0), "Ascent": int64(ef.ascent * 1000), "Descent": int64(ef.descent * 1000),
		"CapHeight": int64(ef.ascent * 700), "StemV": int64(80), "FontFile2": fontFile,
	})
	cid := u.add(cos.Dict{
		"Type": cos.Name("Font"), "Subtype": cos.Name("CIDFontType2"), "BaseFont": base,
		"CIDSystemInfo":  cos.Dict{"Registry": cos.String("Adobe"), "Ordering": cos.String("Identity"), "Supplement": int64(0)},
		"FontDescriptor": desc, "W": widths, "DW": int64(500), "CIDToGIDMap": cos.Name("Identity"),
	})
	toUnicode := u.add(&cos.Stream{Dict: cos.Dict{}, Raw: toUnicodeCMap(ef.used)})
	return u.add(cos.Dict{
		"Type": cos.Name("Font"), "Subtype": cos.Name("Type0"), "BaseFont": base,
		"Encoding": cos.Name("Identity-H"), "DescendantFonts": cos.Array{cid}, "ToUnicode": toUnicode,
	}), nil
}

func subsetTag(gids []int) string {
	h := uint32(2166136261)
	for _, g := range gids {
		h = (h ^ uint32(g)) * 16777619
	}
	tag := make([]byte, 6)
	for i := range tag {
		tag[i] = 'A' + byte(h%26)
		h /= 26
	}
	return string(tag)
}

func toUnicodeCMap(used map[sfnt.GlyphIndex]rune) []byte {
	var b strings.Builder
	b.WriteString("/CIDInit /ProcSet findresource begin\n12 dict begin\nbegincmap\n/CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def\n/CMapName /Adobe-Identity-UCS def\n/CMapType 2 def\n1 begincodespacerange\n<0000> <FFFF>\nendcodespacerange\n")
	var gids []int
	for g, r := range used {
		if r != 0 {
			gids = append(gids, int(g))
		}
	}
	sort.Ints(gids)
	for i := 0; i < len(gids); i += 100 {
		chunk := gids[i:min(i+100, len(gids))]
		fmt.Fprintf(&b, "%d beginbfchar\n", len(chunk))
		for _, g := range chunk {
			r := used[sfnt.GlyphIndex(g)]
			var u []uint16
			if r >= 0x10000 {
				r -= 0x10000
				u = []uint16{uint16(0xD800 + r>>10), uint16(0xDC00 + r&0x3FF)}
			} else {
				u = []uint16{uint16(r)}
			}
			fmt.Fprintf(&b, "<%04X> <", g)
			for _, x := range u {
				fmt.Fprintf(&b, "%04X", x)
			}
			b.WriteString(">\n")
		}
		b.WriteString("endbfchar\n")
	}
	b.WriteString("endcmap\nCMapName currentdict /CMap defineresource pop\nend\nend\n")
	return []byte(b.String())
}

// subsetTTF keeps the outlines of the glyphs used (and of the components of
// composite glyphs) and empties every other glyph; glyph IDs do not move, so
// Identity-H codes stay valid. Tables a PDF reader does not need go.
func subsetTTF(ttf []byte, used map[sfnt.GlyphIndex]rune) ([]byte, error) {
	if len(ttf) < 12 {
		return nil, errors.New("pdf: font too short")
	}
	n := int(binary.BigEndian.Uint16(ttf[4:]))
	tables := map[string][]byte{}
	for i := range n {
		rec := ttf[12+16*i:]
		tag := string(rec[:4])
		off, length := binary.BigEndian.Uint32(rec[8:]), binary.BigEndian.Uint32(rec[12:])
		if int(off)+int(length) > len(ttf) {
			return nil, errors.New("pdf: damaged font table")
		}
		tables[tag] = ttf[off : off+length]
	}
	head, loca, glyf, maxp := tables["head"], tables["loca"], tables["glyf"], tables["maxp"]
	if head == nil || loca == nil || glyf == nil || maxp == nil {
		return nil, errors.New("pdf: not a TrueType font with outlines")
	}
	numGlyphs := int(binary.BigEndian.Uint16(maxp[4:]))
	long := binary.BigEndian.Uint16(head[50:]) == 1
	offset := func(g int) int {
		if long {
			return int(binary.BigEndian.Uint32(loca[4*g:]))
		}
		return 2 * int(binary.BigEndian.Uint16(loca[2*g:]))
	}
	keep := map[int]bool{}
	var add func(g, depth int)
	add = func(g, depth int) {
		if g >= numGlyphs || keep[g] || depth > 8 {
			return
		}
		keep[g] = true
		start, end := offset(g), offset(g+1)
		if end-start < 10 || end > len(glyf) {
			return
		}
		data := glyf[start:end]
		if int16(binary.BigEndian.Uint16(data)) >= 0 {
			return // simple glyph
		}
		// Composite: follow its components.
		p := 10
		for p+4 <= len(data) {
			flags := binary.BigEndian.Uint16(data[p:])
			add(int(binary.BigEndian.Uint16(data[p+2:])), depth+1)
			p += 4
			if flags&0x0001 != 0 {
				p += 4
			} else {
				p += 2
			}
			switch {
			case flags&0x0008 != 0:
				p += 2
			case flags&0x0040 != 0:
				p += 4
			case flags&0x0080 != 0:
				p += 8
			}
			if flags&0x0020 == 0 {
				break
			}
		}
	}
	for g := range used {
		add(int(g), 0)
	}
	var newGlyf []byte
	newLoca := make([]byte, 4*(numGlyphs+1))
	for g := range numGlyphs {
		binary.BigEndian.PutUint32(newLoca[4*g:], uint32(len(newGlyf)))
		if keep[g] {
			newGlyf = append(newGlyf, glyf[offset(g):offset(g+1)]...)
			for len(newGlyf)%4 != 0 {
				newGlyf = append(newGlyf, 0)
			}
		}
	}
	binary.BigEndian.PutUint32(newLoca[4*numGlyphs:], uint32(len(newGlyf)))
	newHead := append([]byte{}, head...)
	binary.BigEndian.PutUint16(newHead[50:], 1) // long loca offsets
	binary.BigEndian.PutUint32(newHead[8:], 0)  // checkSumAdjustment, set below
	out := map[string][]byte{"head": newHead, "loca": newLoca, "glyf": newGlyf}
	for _, t := range []string{"hhea", "hmtx", "maxp", "cvt ", "fpgm", "prep", "cmap", "OS/2", "name", "post"} {
		if tables[t] != nil {
			out[t] = tables[t]
		}
	}
	return writeTTF(out), nil
}

func ttfChecksum(b []byte) uint32 {
	var sum uint32
	for i := 0; i < len(b); i += 4 {
		var w [4]byte
		copy(w[:], b[i:min(i+4, len(b))])
		sum += binary.BigEndian.Uint32(w[:])
	}
	return sum
}

func writeTTF(tables map[string][]byte) []byte {
	tags := make([]string, 0, len(tables))
	for t := range tables {
		tags = append(tags, t)
	}
	sort.Strings(tags)
	n := len(tags)
	entrySel := 0
	for 1<<(entrySel+1) <= n {
		entrySel++
	}
	header := make([]byte, 12+16*n)
	binary.BigEndian.PutUint32(header, 0x00010000)
	binary.BigEndian.PutUint16(header[4:], uint16(n))
	binary.BigEndian.PutUint16(header[6:], uint16(16<<entrySel))
	binary.BigEndian.PutUint16(header[8:], uint16(entrySel))
	binary.BigEndian.PutUint16(header[10:], uint16(16*n-16<<entrySel))
	body := []byte{}
	headAt := 0
	for i, t := range tags {
		data := tables[t]
		rec := header[12+16*i:]
		copy(rec, t)
		binary.BigEndian.PutUint32(rec[4:], ttfChecksum(data))
		binary.BigEndian.PutUint32(rec[8:], uint32(len(header)+len(body)))
		binary.BigEndian.PutUint32(rec[12:], uint32(len(data)))
		if t == "head" {
			headAt = len(header) + len(body)
		}
		body = append(body, data...)
		for len(body)%4 != 0 {
			body = append(body, 0)
		}
	}
	out := append(header, body...)
	binary.BigEndian.PutUint32(out[headAt+8:], 0xB1B0AFBA-ttfChecksum(out))
	return out
}
