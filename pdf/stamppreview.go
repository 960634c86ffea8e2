package pdf

import (
	"bytes"
	"crypto/x509"
	"fmt"
	"time"

	"github.com/paraphe/paraphe/pdf/internal/cos"
)

// StampPreview is a PDF of one page, w×h points, that shows the visible
// signature a exactly as signing with o by leaf's holder at now would draw
// it in a box of that size on an upright page (the same appearance stream,
// fonts and picture): what a screen shows over the page before signing.
func StampPreview(a *Appearance, w, h float64, leaf *x509.Certificate, o Options, now time.Time) ([]byte, error) {
	if w <= 0 || h <= 0 {
		return nil, fmt.Errorf("pdf: a stamp of %g×%g points", w, h)
	}
	// An empty page to draw on, then the stamp added to it as signing adds
	// one to a document: in an update.
	var b bytes.Buffer
	var offs []int
	obj := func(s string) {
		offs = append(offs, b.Len())
		fmt.Fprintf(&b, "%d 0 obj\n%s\nendobj\n", len(offs), s)
	}
	b.WriteString("%PDF-1.7\n")
	obj("<< /Type /Catalog /Pages 2 0 R >>")
	obj("<< /Type /Pages /Kids [3 0 R] /Count 1 >>")
	obj(fmt.Sprintf("<< /Type /Page /Parent 2 0 R /MediaBox [0 0 %.2f %.2f] >>", w, h))
	xref := b.Len()
	fmt.Fprintf(&b, "xref\n0 %d\n0000000000 65535 f \n", len(offs)+1)
	for _, at := range offs {
		fmt.Fprintf(&b, "%010d 00000 n \n", at)
	}
	fmt.Fprintf(&b, "trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n", len(offs)+1, xref)
	base := b.Bytes()
	f, doc, _, err := openDocument(bytes.NewReader(base), int64(len(base)), "stamp", false, nil)
	if err != nil {
		return nil, err
	}
	pageRef, page, err := doc.page(1)
	if err != nil {
		return nil, err
	}
	u := newUpdate(f)
	ap, err := a.render(u, w, h, 0, leaf, o, now)
	if err != nil {
		return nil, err
	}
	draw := []byte("/Stamp Do")
	p := copyDict(page)
	p["Resources"] = cos.Dict{"XObject": cos.Dict{"Stamp": ap}}
	p["Contents"] = u.add(&cos.Stream{Dict: cos.Dict{}, Raw: draw})
	u.set(pageRef, p)
	data, _ := u.serializeFinished(int64(len(base)))
	return append(base, data...), nil
}
