package pdf

import (
	"fmt"
	"testing"

	"github.com/paraphe/paraphe/pdf/internal/cos"
)

// TestFieldLayouts: a signature is found, and named in full, whatever the
// form's layout: a field inside a /Kids hierarchy whose /FT and /V come
// from its parent, a widget apart from its field, a field missing from
// /Fields; and a signature dictionary no field refers to is reported as
// such, not dropped.
func TestFieldLayouts(t *testing.T) {
	p := newPKI(t)
	_, out := signBytes(t, p, makePDF(1, false), Options{})
	S := mustRead(t, out)
	sig, f := sigRefOf(t, S)
	doc, _ := readDocument(f)
	form, _ := f.ResolveDict(doc.catalog["AcroForm"])
	fields, _ := f.Resolve(form["Fields"])
	fieldRef := fields.(cos.Array)[0].(cos.Ref)
	n := f.MaxNum + 1
	catalog := func(fieldsArray string) string {
		c := copyDict(doc.catalog)
		a := copyDict(form)
		a["Fields"] = cos.Raw(fieldsArray)
		c["AcroForm"] = a
		return string(cos.Append(nil, c))
	}
	tr := fmt.Sprintf("<< /Size %d /Root 1 0 R /Prev %d >>", n+3, lastStartXRef(S))
	for _, tc := range []struct {
		name         string
		objs         map[int]string
		field        string
		unreferenced bool
	}{
		{"inherited from a parent", map[int]string{
			1:            catalog(fmt.Sprintf("[%d 0 R]", n)),
			n:            fmt.Sprintf("<< /T (Acte) /FT /Sig /V %s /Kids [%d 0 R] >>", sig, n+1),
			n + 1:        fmt.Sprintf("<< /T (Notaire) /Parent %d 0 R /Kids [%s] >>", n, fieldRef),
			fieldRef.Num: fmt.Sprintf("<< /Type /Annot /Subtype /Widget /Parent %d 0 R /Rect [0 0 0 0] /P 7 0 R /F 132 >>", n+1),
		}, "Acte.Notaire", false},
		{"only a widget on the page", map[int]string{
			1: catalog("[]"),
		}, "Signature1", false},
		{"no field at all", map[int]string{
			1: catalog("[]"),
			7: "<< /Type /Page /Parent 2 0 R /Contents 8 0 R /Resources << /Font << /F1 5 0 R >> >> >>",
		}, "", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rep := verifyReport(t, p, appendUpdate(S, tc.objs, tr))
			if len(rep.Signatures) != 1 {
				t.Fatalf("%d signatures", len(rep.Signatures))
			}
			r := rep.Signatures[0]
			if r.Field != tc.field || r.Unreferenced != tc.unreferenced || !r.Intact {
				t.Fatalf("field %q unreferenced %v intact %v, want %q %v (%v)", r.Field, r.Unreferenced, r.Intact, tc.field, tc.unreferenced, r.Problems)
			}
		})
	}
}
