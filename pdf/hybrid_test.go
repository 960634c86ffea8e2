package pdf

import (
	"bytes"
	"fmt"
	"strings"
	"testing"

	"github.com/paraphe/paraphe/pdf/internal/cos"
)

// makeHybrid writes a hybrid-reference file (ISO 32000-1 7.5.8.4): a
// classic table for readers of PDF 1.4, and through /XRefStm a
// cross-reference stream that adds the font, which lives in an object
// stream.
func makeHybrid() []byte {
	var b bytes.Buffer
	offs := map[int]int{}
	obj := func(n int, s string) {
		offs[n] = b.Len()
		fmt.Fprintf(&b, "%d 0 obj\n%s\nendobj\n", n, s)
	}
	b.WriteString("%PDF-1.5\n%\xe2\xe3\xcf\xd3\n")
	obj(1, "<< /Type /Catalog /Pages 2 0 R >>")
	obj(2, "<< /Type /Pages /Kids [3 0 R] /Count 1 >>")
	content := "BT /F1 24 Tf 72 760 Td (Hybrid deed) Tj ET"
	obj(3, "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>")
	obj(4, fmt.Sprintf("<< /Length %d >>\nstream\n%s\nendstream", len(content), content))
	// Object 5 (the font) inside object stream 6.
	font := "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"
	header := "5 0 "
	obj(6, fmt.Sprintf("<< /Type /ObjStm /N 1 /First %d /Length %d >>\nstream\n%s%s\nendstream", len(header), len(header)+len(font), header, font))
	// The cross-reference stream: object 5 compressed in 6 at index 0.
	rows := []byte{2, 0, 6, 0}
	xrefStm := b.Len()
	obj(7, fmt.Sprintf("<< /Type /XRef /W [1 2 1] /Index [5 1] /Size 8 /Length %d >>\nstream\n%s\nendstream", len(rows), rows))
	table := b.Len()
	b.WriteString("xref\n0 5\n0000000000 65535 f \n")
	for n := 1; n <= 4; n++ {
		fmt.Fprintf(&b, "%010d 00000 n \n", offs[n])
	}
	b.WriteString("5 1\n0000000000 65535 f \n") // free for old readers
	fmt.Fprintf(&b, "6 2\n%010d 00000 n \n%010d 00000 n \n", offs[6], offs[7])
	fmt.Fprintf(&b, "trailer\n<< /Size 8 /Root 1 0 R /XRefStm %d >>\nstartxref\n%d\n%%%%EOF\n", xrefStm, table)
	return b.Bytes()
}

func TestSignHybrid(t *testing.T) {
	p := newPKI(t)
	in := makeHybrid()
	// The reader finds the font through the /XRefStm stream.
	f, err := cos.Open(bytes.NewReader(in), int64(len(in)))
	if err != nil {
		t.Fatal(err)
	}
	font, err := f.ResolveDict(cos.Ref{Num: 5})
	if err != nil || font["BaseFont"] != cos.Name("Helvetica") {
		t.Fatalf("object 5 through /XRefStm: %v %v", font, err)
	}
	if code, text := qpdfCheck(t, writeTemp(t, in)); code != 0 {
		t.Fatalf("the hybrid sample itself: qpdf %d\n%s", code, text)
	}
	_, out := signBytes(t, p, in, Options{Appearance: &Appearance{Rect: [4]float64{300, 40, 220, 70}}})
	if r := pdfsig(t, nssDB(t, p.root), out); !strings.Contains(r, "Signature is Valid") || !strings.Contains(r, "Total document signed") {
		t.Fatalf("pdfsig:\n%s", r)
	}
	if code, text := qpdfCheck(t, out); code != 0 {
		t.Fatalf("qpdf --check %d:\n%s", code, text)
	}
	// The font in the object stream is still reached: the page renders its text.
	dump := qpdfTransform(t, mustRead(t, out), "--qdf", "--object-streams=disable")
	if !bytes.Contains(dump, []byte("/BaseFont /Helvetica")) {
		t.Fatal("the font of the object stream is lost")
	}
}
