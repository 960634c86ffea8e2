package testenv

import (
	"bytes"
	"encoding/hex"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// OnePageText is the text drawn by OnePagePDF's content stream: changing
// one of its bytes changes a signed range without breaking the file.
const OnePageText = "Page 1 of the deed"

// The objects of OnePagePDF, which the signature update rewrites.
const (
	onePageCatalog = "<< /Type /Catalog /Pages 2 0 R >>"
	onePagePage    = "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >>%s >>"
	onePageID      = "<8d2f0c4b6a1e4f3d9c7b5a3e1f0d2c4b> <8d2f0c4b6a1e4f3d9c7b5a3e1f0d2c4b>"
	onePageSize    = 7
)

// OnePagePDF is a one-page PDF 1.7 with a classic cross-reference table,
// the input every producer here signs. Objects: 1 catalog, 2 pages, 3 the
// page, 4 its content stream, 5 a font, 6 the info dictionary.
func OnePagePDF() []byte {
	var b bytes.Buffer
	var offs []int
	obj := func(s string) {
		offs = append(offs, b.Len())
		fmt.Fprintf(&b, "%d 0 obj\n%s\nendobj\n", len(offs), s)
	}
	b.WriteString("%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
	content := "BT /F1 24 Tf 72 760 Td (" + OnePageText + ") Tj ET"
	obj(onePageCatalog)
	obj("<< /Type /Pages /Kids [3 0 R] /Count 1 >>")
	obj(fmt.Sprintf(onePagePage, ""))
	obj(fmt.Sprintf("<< /Length %d >>\nstream\n%s\nendstream", len(content), content))
	obj("<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>")
	obj("<< /Producer (Paraphe tests) >>")
	xref := b.Len()
	fmt.Fprintf(&b, "xref\n0 %d\n0000000000 65535 f \n", len(offs)+1)
	for _, o := range offs {
		fmt.Fprintf(&b, "%010d 00000 n \n", o)
	}
	fmt.Fprintf(&b, "trailer\n<< /Size %d /Root 1 0 R /Info 6 0 R /ID [%s] >>\nstartxref\n%d\n%%%%EOF\n", len(offs)+1, onePageID, xref)
	return b.Bytes()
}

// SigDict is what the signature dictionary of a SignatureUpdate says.
type SigDict struct {
	SubFilter string // adbe.pkcs7.detached, adbe.pkcs7.sha1, adbe.x509.rsa_sha1, ETSI.CAdES.detached
	// Cert, for adbe.x509.rsa_sha1, is the signer's certificate first then
	// its chain: one certificate is written as a string, more as an array
	// of strings (ISO 32000-1, table 252).
	Cert   [][]byte
	Reason string
	Time   time.Time // /M; zero leaves it out
	// Size is the room for the signature value in bytes (8192 when zero).
	Size int
}

// SignatureUpdate is OnePagePDF with an incremental update that adds a
// signature field on page 1 whose value is a signature dictionary with a
// zeroed /Contents, ready for Embed.
type SignatureUpdate struct {
	PDF       []byte
	ByteRange [4]int
}

// NewSignatureUpdate appends to OnePagePDF one incremental update: the
// signature dictionary (7), its field and widget (8), the catalog with an
// /AcroForm (1) and the page with its /Annots (3), a cross-reference
// section for them, and a trailer pointing at the previous one.
func NewSignatureUpdate(d SigDict) (*SignatureUpdate, error) {
	base := OnePagePDF()
	prev, err := lastStartxref(base)
	if err != nil {
		return nil, err
	}
	size := d.Size
	if size == 0 {
		size = 8192
	}
	var b bytes.Buffer
	b.Write(base)
	offs := map[int]int{}
	begin := func(n int) {
		offs[n] = b.Len()
		fmt.Fprintf(&b, "%d 0 obj\n", n)
	}
	end := func() { b.WriteString("\nendobj\n") }

	begin(7)
	fmt.Fprintf(&b, "<< /Type /Sig /Filter /Adobe.PPKLite /SubFilter /%s", d.SubFilter)
	b.WriteString(" /ByteRange ")
	brAt := b.Len()
	b.WriteString(strings.Repeat(" ", byteRangeWidth))
	b.WriteString(" /Contents ")
	contentsAt := b.Len()
	b.WriteString("<" + strings.Repeat("0", 2*size) + ">")
	contentsEnd := b.Len()
	switch len(d.Cert) {
	case 0:
	case 1:
		fmt.Fprintf(&b, " /Cert <%x>", d.Cert[0])
	default:
		b.WriteString(" /Cert [")
		for _, c := range d.Cert {
			fmt.Fprintf(&b, "<%x>", c)
		}
		b.WriteString("]")
	}
	if d.Reason != "" {
		fmt.Fprintf(&b, " /Reason (%s)", pdfString(d.Reason))
	}
	if !d.Time.IsZero() {
		fmt.Fprintf(&b, " /M (D:%s)", d.Time.UTC().Format("20060102150405Z"))
	}
	b.WriteString(" >>")
	end()
	begin(8)
	b.WriteString("<< /Type /Annot /Subtype /Widget /FT /Sig /T (Signature1) /V 7 0 R /Rect [0 0 0 0] /F 132 /P 3 0 R >>")
	end()
	begin(1)
	b.WriteString(strings.TrimSuffix(onePageCatalog, ">>") + "/AcroForm << /Fields [8 0 R] /SigFlags 3 >> >>")
	end()
	begin(3)
	fmt.Fprintf(&b, onePagePage, " /Annots [8 0 R]")
	end()
	xref := b.Len()
	b.WriteString("xref\n0 1\n0000000000 65535 f \n")
	fmt.Fprintf(&b, "1 1\n%010d 00000 n \n", offs[1])
	fmt.Fprintf(&b, "3 1\n%010d 00000 n \n", offs[3])
	fmt.Fprintf(&b, "7 2\n%010d 00000 n \n%010d 00000 n \n", offs[7], offs[8])
	fmt.Fprintf(&b, "trailer\n<< /Size %d /Root 1 0 R /Info 6 0 R /Prev %d /ID [%s] >>\nstartxref\n%d\n%%%%EOF\n", onePageSize+2, prev, onePageID, xref)

	u := &SignatureUpdate{PDF: b.Bytes()}
	u.ByteRange = [4]int{0, contentsAt, contentsEnd, len(u.PDF) - contentsEnd}
	br := fmt.Sprintf("[%d %d %d %d]", u.ByteRange[0], u.ByteRange[1], u.ByteRange[2], u.ByteRange[3])
	if len(br) > byteRangeWidth {
		return nil, errors.New("testenv: the /ByteRange does not fit its placeholder")
	}
	copy(u.PDF[brAt:], br)
	return u, nil
}

// byteRangeWidth is the room for "[0 a b c]": four numbers of up to ten
// digits and their separators.
const byteRangeWidth = 4*10 + 5

var startxrefRe = regexp.MustCompile(`startxref\s+(\d+)\s+%%EOF\s*$`)

func lastStartxref(pdf []byte) (int, error) {
	m := startxrefRe.FindSubmatch(pdf)
	if m == nil {
		return 0, errors.New("testenv: no startxref at the end of the PDF")
	}
	return strconv.Atoi(string(m[1]))
}

func pdfString(s string) string {
	return strings.NewReplacer(`\`, `\\`, `(`, `\(`, `)`, `\)`).Replace(s)
}

// SignOnePage signs OnePagePDF in an update with d: sign receives the
// bytes the /ByteRange covers and returns the /Contents value.
func SignOnePage(d SigDict, sign func(signed []byte) ([]byte, error)) ([]byte, error) {
	u, err := NewSignatureUpdate(d)
	if err != nil {
		return nil, err
	}
	sig, err := sign(u.SignedBytes())
	if err != nil {
		return nil, err
	}
	return u.Embed(sig)
}

// SignedBytes are the bytes the /ByteRange covers.
func (u *SignatureUpdate) SignedBytes() []byte {
	br := u.ByteRange
	return append(append([]byte{}, u.PDF[br[0]:br[0]+br[1]]...), u.PDF[br[2]:br[2]+br[3]]...)
}

// Embed writes sig into /Contents, padded with zeros, and returns the
// signed PDF.
func (u *SignatureUpdate) Embed(sig []byte) ([]byte, error) {
	room := (u.ByteRange[2] - u.ByteRange[1] - 2) / 2
	if len(sig) > room {
		return nil, fmt.Errorf("testenv: a signature of %d bytes does not fit in %d", len(sig), room)
	}
	out := append([]byte{}, u.PDF...)
	hex.Encode(out[u.ByteRange[1]+1:], sig)
	return out, nil
}

var byteRangeRe = regexp.MustCompile(`/ByteRange\s*\[\s*(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s*\]`)

// LastSignature finds the last /ByteRange of a signed PDF and returns it
// with the bytes it covers and the signature value (the /Contents string
// between the two ranges, decoded, with its trailing zero padding kept).
func LastSignature(pdf []byte) (br [4]int, signed, contents []byte, err error) {
	all := byteRangeRe.FindAllSubmatch(pdf, -1)
	if len(all) == 0 {
		return br, nil, nil, errors.New("testenv: no /ByteRange")
	}
	m := all[len(all)-1]
	for i := range 4 {
		br[i], _ = strconv.Atoi(string(m[i+1]))
	}
	if br[0] != 0 || br[1] >= br[2] || br[2]+br[3] > len(pdf) {
		return br, nil, nil, fmt.Errorf("testenv: odd /ByteRange %v", br)
	}
	signed = append(append([]byte{}, pdf[:br[1]]...), pdf[br[2]:br[2]+br[3]]...)
	hexStr := bytes.TrimSpace(pdf[br[1]:br[2]])
	if len(hexStr) < 2 || hexStr[0] != '<' || hexStr[len(hexStr)-1] != '>' {
		return br, nil, nil, errors.New("testenv: the /ByteRange gap is not a hex string")
	}
	contents, err = hex.DecodeString(string(hexStr[1 : len(hexStr)-1]))
	return br, signed, contents, err
}
