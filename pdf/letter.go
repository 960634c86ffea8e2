package pdf

import (
	"bytes"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"strings"

	"golang.org/x/image/font/gofont/gomono"

	"github.com/paraphe/paraphe/pdf/internal/cos"
)

// Letter is a short document the suite writes for a person, such as the
// activation envelope of a remote signature holder: a title, paragraphs,
// and values (codes, passwords) set apart in a typeface where 0 and O, 1
// and l differ. With a Password it is encrypted (AES-256, the standard
// security handler's revision 6), so that any PDF reader opens it with
// that password and nothing else does.
type Letter struct {
	Title string
	Lang  string // the document's language (BCP 47), for readers and screen readers
	Parts []LetterPart
	// Password opens the letter; nil writes it in clear. The owner
	// password, which lifts restrictions, is random and thrown away: the
	// letter may be printed, not changed.
	Password []byte
}

// LetterPart is a paragraph (Label empty) or a labelled value.
type LetterPart struct {
	Label, Text string
}

// ErrLetterPassword: a letter's password is empty.
var ErrLetterPassword = errors.New("pdf: a protected letter needs a password")

// Page layout of a letter, in points: A4, 2 cm margins.
const (
	letterWidth, letterHeight = 595.28, 841.89
	letterMargin              = 56.7
	letterSize                = 11.0
	letterLeading             = 1.45 // line height, in sizes
)

// WriteLetter writes l as a PDF to w.
func WriteLetter(w io.Writer, l Letter) error {
	if l.Password != nil && len(l.Password) == 0 {
		return ErrLetterPassword
	}
	fonts, err := letterFonts()
	if err != nil {
		return err
	}
	u := &update{next: 1, objs: map[int]cos.Object{}, gens: map[int]int{}, trailer: cos.Dict{}, full: map[int]cos.Entry{}}
	pagesRef := cos.Ref{Num: u.next}
	u.next++
	var kids cos.Array
	for _, content := range layOutLetter(l, fonts) {
		stream := &cos.Stream{Dict: cos.Dict{}, Raw: content}
		kids = append(kids, u.add(cos.Dict{"Type": cos.Name("Page"), "Parent": pagesRef,
			"MediaBox": cos.Array{int64(0), int64(0), letterWidth, letterHeight}, "Contents": u.add(stream)}))
	}
	fontRes := cos.Dict{}
	for i, f := range fonts {
		ref, err := f.object(u)
		if err != nil {
			return err
		}
		fontRes[cos.Name(fmt.Sprintf("F%d", i+1))] = ref
	}
	u.set(pagesRef, cos.Dict{"Type": cos.Name("Pages"), "Kids": kids, "Count": int64(len(kids)),
		"Resources": cos.Dict{"Font": fontRes}})
	catalog := cos.Dict{"Type": cos.Name("Catalog"), "Pages": pagesRef}
	if l.Lang != "" {
		catalog["Lang"] = textString(l.Lang)
	}
	u.trailer["Root"] = u.add(catalog)
	u.trailer["Info"] = u.add(cos.Dict{"Title": textString(l.Title), "Producer": textString("Paraphe")})
	id := make([]byte, 16)
	rand.Read(id)
	u.trailer["ID"] = cos.Array{cos.HexString(id), cos.HexString(id)}
	if l.Password != nil {
		owner := make([]byte, 32)
		rand.Read(owner)
		// Print (bit 3) and high-quality print (12); no change, no copy.
		prot, err := cos.NewProtection(l.Password, []byte(fmt.Sprintf("%x", owner)), 1<<2|1<<11)
		if err != nil {
			return err
		}
		u.trailer["Encrypt"] = u.add(prot.Dict())
		encRef := u.trailer["Encrypt"].(cos.Ref)
		u.encrypt = func(o cos.Object, ref cos.Ref) cos.Object {
			if ref == encRef {
				return o
			}
			return prot.Encrypt(o, ref)
		}
	}
	header := []byte("%PDF-2.0\n%\xe2\xe3\xcf\xd3")
	data, _, xrefAt := u.serialize(int64(len(header)))
	data = finish(data, int64(len(header)+xrefAt))
	if _, err := w.Write(header); err != nil {
		return err
	}
	_, err = w.Write(data)
	return err
}

// letterFonts are the letter's typefaces: F1 regular, F2 bold, F3 mono.
func letterFonts() ([]*embeddedFont, error) {
	reg, err := regularFont()
	if err != nil {
		return nil, err
	}
	bold, err := boldFont()
	if err != nil {
		return nil, err
	}
	mono, err := newFont("GoMono", gomono.TTF)
	if err != nil {
		return nil, err
	}
	return []*embeddedFont{reg, bold, mono}, nil
}

// letterLine is one line of text on a page: in which font, where.
type letterLine struct {
	font int // index in letterFonts
	size float64
	x    float64
	text string
}

// layOutLetter sets the letter's words in lines, and the lines in pages:
// the content stream of each page.
func layOutLetter(l Letter, fonts []*embeddedFont) [][]byte {
	width := letterWidth - 2*letterMargin
	var lines []letterLine
	for _, t := range wrapText(l.Title, fonts[1], 16, width) {
		lines = append(lines, letterLine{1, 16, letterMargin, t})
	}
	lines = append(lines, letterLine{}) // a blank line
	for _, p := range l.Parts {
		if p.Label == "" {
			for _, t := range wrapText(p.Text, fonts[0], letterSize, width) {
				lines = append(lines, letterLine{0, letterSize, letterMargin, t})
			}
			lines = append(lines, letterLine{})
			continue
		}
		for _, t := range wrapText(p.Label, fonts[1], letterSize, width) {
			lines = append(lines, letterLine{1, letterSize, letterMargin, t})
		}
		for _, t := range wrapText(p.Text, fonts[2], letterSize+1, width-20) {
			lines = append(lines, letterLine{2, letterSize + 1, letterMargin + 20, t})
		}
		lines = append(lines, letterLine{})
	}
	var pages [][]byte
	var b bytes.Buffer
	y := letterHeight - letterMargin
	for _, ln := range lines {
		step := max(ln.size, letterSize) * letterLeading
		if y-step < letterMargin && b.Len() > 0 {
			pages = append(pages, b.Bytes())
			b = bytes.Buffer{}
			y = letterHeight - letterMargin
		}
		y -= step
		if ln.text == "" {
			continue
		}
		fmt.Fprintf(&b, "BT /F%d %.2f Tf %.2f %.2f Td %s Tj ET\n", ln.font+1, ln.size, ln.x, y, fonts[ln.font].encode(ln.text))
	}
	return append(pages, b.Bytes())
}

// wrapText cuts s into lines no wider than width at size in f, between
// words (a word longer than a line is cut where it must be); a newline in
// s starts a new line.
func wrapText(s string, f *embeddedFont, size, width float64) []string {
	var out []string
	for _, para := range strings.Split(s, "\n") {
		line := ""
		for _, word := range strings.Fields(para) {
			try := strings.TrimSpace(line + " " + word)
			if f.width(try)*size <= width || line == "" && f.width(word)*size <= width {
				line = try
				continue
			}
			if line != "" {
				out = append(out, line)
			}
			for f.width(word)*size > width { // a code or address longer than a line
				r := []rune(word)
				cut := len(r)
				for cut > 1 && f.width(string(r[:cut]))*size > width {
					cut--
				}
				out = append(out, string(r[:cut]))
				word = string(r[cut:])
			}
			line = word
		}
		out = append(out, line)
	}
	return out
}
