package pdf

import (
	"bytes"
	"context"
	"fmt"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/paraphe/paraphe/internal/testenv"
	"github.com/paraphe/paraphe/pdf/internal/cos"
)

// pdfOf writes a PDF whose objects 1..n are bodies, with a classic
// cross-reference table and trailer (Root 1 0 R, Info 3 0 R unless the
// trailer says otherwise).
func pdfOf(trailer string, bodies ...string) []byte {
	var b bytes.Buffer
	b.WriteString("%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
	offs := make([]int, len(bodies))
	for i, body := range bodies {
		offs[i] = b.Len()
		fmt.Fprintf(&b, "%d 0 obj\n%s\nendobj\n", i+1, body)
	}
	xref := b.Len()
	fmt.Fprintf(&b, "xref\n0 %d\n0000000000 65535 f \n", len(bodies)+1)
	for _, o := range offs {
		fmt.Fprintf(&b, "%010d 00000 n \n", o)
	}
	fmt.Fprintf(&b, "trailer\n<< /Size %d %s /ID [<0102030405060708090a0b0c0d0e0f10> <0102030405060708090a0b0c0d0e0f10>] >>\nstartxref\n%d\n%%%%EOF\n",
		len(bodies)+1, trailer, xref)
	return b.Bytes()
}

func streamObj(extra, data string) string {
	return fmt.Sprintf("<< /Length %d %s>>\nstream\n%s\nendstream", len(data), extra, data)
}

// TestAttackUntypedDisguise: the metadata and validation-data allowances
// are keyed on what an object looked like in the signed revision, but an
// object with no /Type (a page's /Resources, its /Contents array, a font
// map) looks just like an information dictionary or a /DSS array. A
// document prepared so that its /Info or /DSS names such an object lets its
// visible content change after signing.
func TestAttackUntypedDisguise(t *testing.T) {
	p := newPKI(t)
	for _, c := range untypedDisguises() {
		t.Run(c.name, func(t *testing.T) {
			_, out := signBytes(t, p, pdfOf(c.trailer, c.bodies...), Options{})
			S := mustRead(t, out)
			_, f := sigRefOf(t, S)
			if r := verifyBytes(t, p, S); !r.Valid() {
				t.Fatalf("the prepared document, just signed: %s %s %v", r.Indication, r.SubIndication, r.Problems)
			}
			later := map[int]string{}
			for n, body := range c.later {
				if n >= 10 && n < 40 {
					n += f.MaxNum // new objects above the signer's
				}
				later[n] = shiftRefs(body, f.MaxNum)
			}
			tr := fmt.Sprintf("<< /Size %d %s /Prev %d >>", f.MaxNum+50, c.trailer, lastStartXRef(S))
			data := appendUpdate(S, later, tr)
			if c.later[10] != "" && bytes.Contains([]byte(c.later[10]), []byte("1000000")) || c.later[40] != "" {
				// poppler shows the forged text: the change is visible.
				testenv.Require(t, "pdftotext")
				txt, err := exec.Command("pdftotext", writeTemp(t, data), "-").Output()
				if err != nil || !bytes.Contains(txt, []byte("1000000")) {
					t.Fatalf("pdftotext does not show the forged text: %v %q", err, txt)
				}
			}
			r := verifyBytes(t, p, data)
			if r.Valid() || !r.ModifiedAfter {
				t.Fatalf("visible content changed after signing reported %s (changes %v)", r.Indication, r.Changes)
			}
		})
	}
}

// disguise is a document prepared for TestAttackUntypedDisguise.
type disguise struct {
	name    string
	trailer string
	bodies  []string
	later   map[int]string // objects rewritten after signing (10 and up are new)
}

// untypedDisguises are documents whose /Info or /DSS names an untyped
// object the page uses, with the change made through it after signing.
func untypedDisguises() []disguise {
	page := "BT /F1 24 Tf 72 760 Td (Price: 100 EUR) Tj ET"
	forged := "BT /F1 24 Tf 72 700 Td (Price: 1000000 EUR) Tj ET"
	return []disguise{
		{
			// The page's resources are the "information dictionary": its
			// font is swapped afterwards.
			name:    "/Info is the page's resources",
			trailer: "/Root 1 0 R /Info 4 0 R",
			bodies: []string{
				"<< /Type /Catalog /Pages 2 0 R >>",
				"<< /Type /Pages /Kids [5 0 R] /Count 1 /MediaBox [0 0 595 842] >>",
				"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
				"<< /Font << /F1 3 0 R >> >>",
				"<< /Type /Page /Parent 2 0 R /Contents 6 0 R /Resources 4 0 R >>",
				streamObj("", page),
			},
			later: map[int]string{4: "<< /Font << /F1 10 0 R >> /Producer (x) >>",
				10: "<< /Type /Font /Subtype /Type1 /BaseFont /Courier >>"},
		},
		{
			// The page's /Contents array is listed in the /DSS: a content
			// stream is appended to it afterwards.
			name:    "/DSS holds the page's contents array",
			trailer: "/Root 1 0 R",
			bodies: []string{
				"<< /Type /Catalog /Pages 2 0 R /DSS << /Certs 4 0 R >> >>",
				"<< /Type /Pages /Kids [5 0 R] /Count 1 /MediaBox [0 0 595 842] >>",
				"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
				"[6 0 R]",
				"<< /Type /Page /Parent 2 0 R /Contents 4 0 R /Resources << /Font << /F1 3 0 R >> >> >>",
				streamObj("", page),
			},
			later: map[int]string{4: "[6 0 R 10 0 R]", 10: streamObj("", forged)},
		},
		{
			// The page's font map is reached from the /DSS's /VRI.
			name:    "/DSS /VRI reaches the page's font map",
			trailer: "/Root 1 0 R",
			bodies: []string{
				"<< /Type /Catalog /Pages 2 0 R /DSS << /VRI << /AAAA << /Cert [] /X 4 0 R >> >> >> >>",
				"<< /Type /Pages /Kids [5 0 R] /Count 1 /MediaBox [0 0 595 842] >>",
				"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
				"<< /F1 3 0 R >>",
				"<< /Type /Page /Parent 2 0 R /Contents 6 0 R /Resources << /Font 4 0 R >> >>",
				streamObj("", page),
			},
			later: map[int]string{4: "<< /F1 10 0 R >>", 10: "<< /Type /Font /Subtype /Type1 /BaseFont /Courier >>"},
		},
		{
			// The signed page refers to an object the signed revision does
			// not hold (a viewer draws nothing for it); it is added after.
			name:    "a dangling reference filled in afterwards",
			trailer: "/Root 1 0 R",
			bodies: []string{
				"<< /Type /Catalog /Pages 2 0 R >>",
				"<< /Type /Pages /Kids [5 0 R] /Count 1 /MediaBox [0 0 595 842] >>",
				"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
				"<< /Producer (tests) >>",
				"<< /Type /Page /Parent 2 0 R /Contents [6 0 R 40 0 R] /Resources << /Font << /F1 3 0 R >> >> >>",
				streamObj("", page),
			},
			later: map[int]string{40: streamObj("", forged)},
		},
	}
}

// shiftRefs renumbers references to objects 10..39 (the test's new ones)
// by d.
func shiftRefs(body string, d int) string {
	for n := 39; n >= 10; n-- {
		body = string(bytes.ReplaceAll([]byte(body), []byte(fmt.Sprintf(" %d 0 R", n)), []byte(fmt.Sprintf(" %d 0 R", n+d))))
	}
	return body
}

// TestAttackSneakySignatureField: after a signature, an update adds a
// signature field that nobody signs, its widget's appearance drawing over
// the page (the "sneaky signature" attack of Mainka et al., 2021). Adding
// signature fields is allowed so that a later signer finds one; an
// unsigned one that draws is a change of content.
func TestAttackSneakySignatureField(t *testing.T) {
	for _, v := range []string{"unsigned", "the signed field's own signature"} {
		t.Run(v, func(t *testing.T) { sneakySignatureField(t, v != "unsigned") })
	}
}

// sneakySignatureField adds the drawing field; with reuse, its /V is the
// signed revision's signature dictionary, which verification reports once.
func sneakySignatureField(t *testing.T, reuse bool) {
	p := newPKI(t)
	_, out := signBytes(t, p, makePDF(1, true), Options{})
	S := mustRead(t, out)
	_, f := sigRefOf(t, S)
	doc, _ := readDocument(f)
	n := f.MaxNum + 1
	form, _ := f.ResolveDict(doc.catalog["AcroForm"])
	nf := copyDict(form)
	fields, _ := f.Resolve(nf["Fields"])
	nf["Fields"] = append(append(cos.Array{}, fields.(cos.Array)...), cos.Ref{Num: n})
	pg, _ := f.ResolveDict(cos.Ref{Num: 7})
	np := copyDict(pg)
	annots, _ := f.Resolve(np["Annots"])
	np["Annots"] = append(append(cos.Array{}, annots.(cos.Array)...), cos.Ref{Num: n})
	ap := "1 1 1 rg 0 0 400 60 re f 0 g BT /F1 24 Tf 10 20 Td (PAY 1000000 EUR) Tj ET"
	v := ""
	if reuse {
		sig, _ := sigRefOf(t, S)
		v = " /V " + sig.String()
	}
	objs := map[int]string{
		7: string(cos.Append(nil, np)),
		n: fmt.Sprintf("<< /FT /Sig /T (Later) /Type /Annot /Subtype /Widget /Rect [60 740 460 800] /P 7 0 R /F 4 /AP << /N %d 0 R >>%s >>", n+1, v),
		n + 1: fmt.Sprintf("<< /Type /XObject /Subtype /Form /BBox [0 0 400 60] /Resources << /Font << /F1 5 0 R >> >> /Length %d >>\nstream\n%s\nendstream",
			len(ap), ap),
	}
	catRef := doc.catalogRef
	if r, ok := doc.catalog["AcroForm"].(cos.Ref); ok {
		objs[r.Num] = string(cos.Append(nil, nf))
	} else {
		cat := copyDict(doc.catalog)
		cat["AcroForm"] = nf
		objs[catRef.Num] = string(cos.Append(nil, cat))
	}
	data := appendUpdate(S, objs, fmt.Sprintf("<< /Size %d /Root %s /Prev %d >>", n+2, cos.Append(nil, f.Trailer["Root"]), lastStartXRef(S)))
	testenv.Require(t, "pdftotext")
	if txt, err := exec.Command("pdftotext", writeTemp(t, data), "-").Output(); err != nil || !bytes.Contains(txt, []byte("1000000")) {
		t.Fatalf("pdftotext does not show the forged text: %v %q", err, txt)
	}
	r := verifyBytes(t, p, data)
	if r.Valid() || !r.ModifiedAfter {
		t.Fatalf("an unsigned signature field drawing over the page reported %s (changes %v)", r.Indication, r.Changes)
	}
}

// TestLaterSignatureFields: what signing after a signature does stays
// allowed — a new visible signature, a signature in an empty field the
// document prepared — and an empty signature field given an appearance
// without a signature does not.
func TestLaterSignatureFields(t *testing.T) {
	p := newPKI(t)
	prepared := pdfOf("/Root 1 0 R",
		"<< /Type /Catalog /Pages 2 0 R /AcroForm << /Fields [4 0 R 5 0 R] >> >>",
		"<< /Type /Pages /Kids [6 0 R] /Count 1 /MediaBox [0 0 595 842] >>",
		"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
		"<< /FT /Sig /T (A) /Type /Annot /Subtype /Widget /Rect [50 100 250 160] /P 6 0 R /F 4 >>",
		"<< /FT /Sig /T (B) /Type /Annot /Subtype /Widget /Rect [300 100 500 160] /P 6 0 R /F 4 >>",
		"<< /Type /Page /Parent 2 0 R /Contents 7 0 R /Resources << /Font << /F1 3 0 R >> >> /Annots [4 0 R 5 0 R] >>",
		streamObj("", "BT /F1 24 Tf 72 760 Td (Price: 100 EUR) Tj ET"))
	_, first := signBytes(t, p, prepared, Options{Appearance: &Appearance{Field: "A"}})
	second := func(t *testing.T, o Options) []byte {
		t.Helper()
		s := &Signer{Key: p.key, Chain: p.chain(), Opts: o}
		out := filepath.Join(t.TempDir(), "second.pdf")
		if _, err := s.SignFile(context.Background(), first, out); err != nil {
			t.Fatal(err)
		}
		return mustRead(t, out)
	}
	for name, o := range map[string]Options{
		"into the prepared field":   {Appearance: &Appearance{Field: "B"}},
		"a new visible signature":   {Appearance: &Appearance{Page: 1, Rect: [4]float64{300, 300, 200, 60}}},
		"a new invisible signature": {},
	} {
		t.Run(name, func(t *testing.T) {
			rep := verifyReport(t, p, second(t, o))
			for _, r := range rep.Signatures {
				if !r.Valid() {
					t.Fatalf("%s: %s/%s changes %v", r.Field, r.Indication, r.SubIndication, r.Changes)
				}
			}
		})
	}
	for _, v := range []string{"", " /V A's"} {
		t.Run("an appearance and no signature of its own"+v, func(t *testing.T) { appearanceOnly(t, p, first, v != "") })
	}
}

// appearanceOnly gives the empty field B of first an appearance; with
// reuse, its /V is field A's signature dictionary.
func appearanceOnly(t *testing.T, p *testPKI, first string, reuse bool) {
	S := mustRead(t, first)
	sig, f := sigRefOf(t, S)
	v := ""
	if reuse {
		v = " /V " + sig.String()
	}
	n := f.MaxNum + 1
	ap := "0 g BT /F1 24 Tf 10 20 Td (PAY 1000000 EUR) Tj ET"
	data := appendUpdate(S, map[int]string{
		5: fmt.Sprintf("<< /FT /Sig /T (B) /Type /Annot /Subtype /Widget /Rect [300 100 500 160] /P 6 0 R /F 4 /AP << /N %d 0 R >>%s >>", n, v),
		n: fmt.Sprintf("<< /Type /XObject /Subtype /Form /BBox [0 0 200 60] /Resources << /Font << /F1 3 0 R >> >> /Length %d >>\nstream\n%s\nendstream",
			len(ap), ap),
	}, fmt.Sprintf("<< /Size %d /Root 1 0 R /Prev %d >>", n+1, lastStartXRef(S)))
	r := verifyBytes(t, p, data)
	if r.Valid() || !r.ModifiedAfter {
		t.Fatalf("an empty signature field given a drawing and no signature: %s (changes %v)", r.Indication, r.Changes)
	}
}
