package pdf

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/paraphe/paraphe/internal/testenv"
	"github.com/paraphe/paraphe/pdf/internal/cos"
)

// buildPDF writes a two-page PDF whose objects 1–6 are the catalog (with
// a form of the fields given, and extra catalog entries), the page tree,
// the two pages (annotations as given), their content and a font; extra
// objects follow from number 7.
func buildPDF(fields, annots1, annots2, catalogExtra string, extra ...string) []byte {
	objs := []string{
		"<< /Type /Catalog /Pages 2 0 R /AcroForm << /Fields [" + fields + "] /DA (/Helv 0 Tf 0 g) >>" + catalogExtra + " >>",
		"<< /Type /Pages /Kids [3 0 R 4 0 R] /Count 2 /MediaBox [0 0 595 842] >>",
		"<< /Type /Page /Parent 2 0 R /Contents 5 0 R /Resources << /Font << /F1 6 0 R >> >> /Annots [" + annots1 + "] >>",
		"<< /Type /Page /Parent 2 0 R /Contents 5 0 R /Resources << /Font << /F1 6 0 R >> >> /Annots [" + annots2 + "] >>",
		"<< /Length 44 >>\nstream\nBT /F1 24 Tf 72 760 Td (Acte de vente) Tj ET\nendstream",
		"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
	}
	return pdfOf("/Root 1 0 R", append(objs, extra...)...)
}

// qpdfField is a field as qpdf's JSON shows it.
type qpdfField struct {
	FullName   string `json:"fullname"`
	FieldType  string `json:"fieldtype"`
	Object     string `json:"object"`
	Page       int    `json:"pageposfrom1"`
	Value      any    `json:"value"`
	Annotation struct {
		Object string `json:"object"`
	} `json:"annotation"`
}

// qpdfFields reads a file's fields with qpdf: one entry per widget, named
// in full by qpdf's own reading of the hierarchy.
func qpdfFields(t *testing.T, file string) []qpdfField {
	t.Helper()
	testenv.Require(t, "qpdf")
	out, err := exec.Command("qpdf", "--json", "--json-key=acroform", file).Output()
	if ee, ok := err.(*exec.ExitError); err != nil && (!ok || ee.ExitCode() != 3) { // 3: warnings
		t.Fatalf("qpdf --json %s: %v", file, err)
	}
	var j struct {
		AcroForm struct {
			Fields []qpdfField `json:"fields"`
		} `json:"acroform"`
	}
	if err := json.Unmarshal(out, &j); err != nil {
		t.Fatal(err)
	}
	return j.AcroForm.Fields
}

// sigFieldsByQPDF is, per signature field's full name, the pages of its
// widgets and whether it has a value, as qpdf sees them.
func sigFieldsByQPDF(t *testing.T, file string) map[string][]int {
	out := map[string][]int{}
	for _, f := range qpdfFields(t, file) {
		if f.FieldType == "/Sig" {
			out[f.FullName] = append(out[f.FullName], f.Page)
		}
	}
	return out
}

func signedByQPDF(t *testing.T, file, name string) bool {
	for _, f := range qpdfFields(t, file) {
		if f.FullName == name && f.Value != nil {
			return true
		}
	}
	return false
}

// fieldLayouts are empty signature fields in the layouts forms use.
var fieldLayouts = []struct {
	name                string
	fields, a1, a2      string
	extra               []string
	field               string
	pages               []int // of its widgets
	appearances         int   // widgets with an area, that get the signature's appearance
	widgetObjs          []int // the objects that get it
	catalogExtra, lockd string
	// apart: the widgets are kids apart from their field, which poppler
	// 22.12 takes for fields of their own (it was fixed later: a kid with
	// /Parent but no /T is a widget, ISO 32000-2 §12.7.4.1).
	apart bool
}{
	{name: "merged field and widget", fields: "7 0 R", a1: "7 0 R",
		extra: []string{"<< /Type /Annot /Subtype /Widget /FT /Sig /T (Notaire) /Rect [300 50 520 120] /P 3 0 R /F 4 >>"},
		field: "Notaire", pages: []int{1}, appearances: 1, widgetObjs: []int{7}},
	{name: "in /Kids, type inherited", fields: "7 0 R", a1: "8 0 R",
		extra: []string{
			"<< /T (Acte) /FT /Sig /Kids [8 0 R] >>",
			"<< /Type /Annot /Subtype /Widget /T (Notaire) /Parent 7 0 R /Rect [300 50 520 120] /P 3 0 R /F 4 >>",
		},
		field: "Acte.Notaire", pages: []int{1}, appearances: 1, widgetObjs: []int{8}},
	{name: "two levels of /Kids", fields: "7 0 R", a2: "9 0 R",
		extra: []string{
			"<< /T (Vente) /Kids [8 0 R] >>",
			"<< /T (Parties) /Parent 7 0 R /Kids [9 0 R] /FT /Sig >>",
			"<< /Type /Annot /Subtype /Widget /T (Acheteur) /Parent 8 0 R /Rect [40 50 240 120] /P 4 0 R /F 4 >>",
		},
		field: "Vente.Parties.Acheteur", pages: []int{2}, appearances: 1, widgetObjs: []int{9}},
	{name: "field apart from its widget", fields: "7 0 R", a1: "8 0 R",
		extra: []string{
			"<< /FT /Sig /T (Notaire) /Kids [8 0 R] >>",
			"<< /Type /Annot /Subtype /Widget /Parent 7 0 R /Rect [300 50 520 120] /P 3 0 R /F 4 >>",
		},
		field: "Notaire", pages: []int{1}, appearances: 1, widgetObjs: []int{8}, apart: true},
	{name: "several widgets", fields: "7 0 R", a1: "8 0 R", a2: "9 0 R",
		extra: []string{
			"<< /FT /Sig /T (Paraphe) /Kids [8 0 R 9 0 R] >>",
			"<< /Type /Annot /Subtype /Widget /Parent 7 0 R /Rect [480 20 560 60] /P 3 0 R /F 4 >>",
			"<< /Type /Annot /Subtype /Widget /Parent 7 0 R /Rect [480 20 580 70] /P 4 0 R /F 4 >>",
		},
		field: "Paraphe", pages: []int{1, 2}, appearances: 2, widgetObjs: []int{8, 9}, apart: true},
	{name: "invisible, not in /Fields", fields: "", a1: "7 0 R",
		extra: []string{"<< /Type /Annot /Subtype /Widget /FT /Sig /T (Cachet) /Rect [0 0 0 0] /P 3 0 R /F 132 >>"},
		field: "Cachet", pages: []int{1}},
}

// TestFillFieldLayouts: an empty signature field is filled by its full
// name wherever it sits (merged with its widget, inside a /Kids hierarchy
// whose parent gives its type, apart from its widget, with a widget on
// each page, reachable only from its page); qpdf, reading the hierarchy
// its own way, names the fields as we do before and sees the value after;
// pdfsig, openssl, iText 5 and our verifier accept the signature, and each
// widget with an area shows it.
func TestFillFieldLayouts(t *testing.T) {
	p := newPKI(t)
	db := nssDB(t, p.root)
	dir := t.TempDir()
	signed := map[string]string{} // file → field name, for iText
	for i, tc := range fieldLayouts {
		t.Run(tc.name, func(t *testing.T) {
			in := writeTemp(t, buildPDF(tc.fields, tc.a1, tc.a2, tc.catalogExtra, tc.extra...))
			if code, out := qpdfCheck(t, in); code != 0 {
				t.Fatalf("the fixture itself: qpdf --check %d\n%s", code, out)
			}
			listed, err := Fields(in)
			if err != nil || len(listed) != 1 || listed[0].Name != tc.field || listed[0].Signed {
				t.Fatalf("Fields: %v %+v", err, listed)
			}
			var pages []int
			for _, w := range listed[0].Widgets {
				pages = append(pages, w.Page)
			}
			if !slices.Equal(pages, tc.pages) {
				t.Errorf("widgets on pages %v, want %v", pages, tc.pages)
			}
			if q := sigFieldsByQPDF(t, in); len(q[tc.field]) == 0 && tc.fields != "" {
				t.Errorf("qpdf names the fields %v, not %q", q, tc.field)
			}
			out := filepath.Join(dir, fmt.Sprintf("signed-%d.pdf", i))
			s := &Signer{Key: p.key, Chain: p.chain(), Opts: Options{Appearance: &Appearance{Field: tc.field}}}
			res, err := s.SignFile(context.Background(), in, out)
			if err != nil {
				t.Fatal(err)
			}
			if res.Field != tc.field {
				t.Errorf("signed field %q", res.Field)
			}
			rep := verifyReport(t, p, mustRead(t, out))
			if len(rep.Signatures) != 1 || rep.Signatures[0].Field != tc.field || !rep.Signatures[0].Valid() {
				t.Fatalf("our verifier: %+v", rep.Signatures)
			}
			switch r := pdfsig(t, db, out); {
			case !strings.Contains(r, "Signature Field Name: "+tc.field):
				t.Fatalf("pdfsig:\n%s", r)
			case tc.apart && strings.Contains(r, "The signature form field is not signed."):
				// poppler 22.12 looks for the value in the widget.
			case !strings.Contains(r, "Signature is Valid"):
				t.Fatalf("pdfsig:\n%s", r)
			}
			openSSLVerify(t, p, mustRead(t, out))
			if tc.fields != "" {
				signed[out] = tc.field // iText reads the form's /Fields only
			}
			if code, msg := qpdfCheck(t, out); code != 0 {
				t.Fatalf("qpdf --check %d\n%s", code, msg)
			}
			if tc.fields != "" && !signedByQPDF(t, out, tc.field) {
				t.Errorf("qpdf sees no value in %q", tc.field)
			}
			signedData := mustRead(t, out)
			f, err := cos.Open(bytes.NewReader(signedData), int64(len(signedData)))
			if err != nil {
				t.Fatal(err)
			}
			shown := 0
			for _, n := range tc.widgetObjs {
				w, _ := f.ResolveDict(cos.Ref{Num: n})
				if ap, _ := f.ResolveDict(w["AP"]); ap["N"] != nil {
					shown++
				}
			}
			if shown != tc.appearances {
				t.Errorf("%d widgets show the signature, want %d", shown, tc.appearances)
			}
			after, _ := Fields(out)
			if len(after) != 1 || !after[0].Signed || after[0].Signer == nil || after[0].Signer.Subject.CommonName != "Marie Dupont" {
				t.Errorf("Fields after signing: %+v", after)
			}
		})
	}
	// iText 5 reads each form its own way: the signature is in the field
	// named, intact, over the whole file.
	var files []string
	for f := range signed {
		files = append(files, f)
	}
	found := map[string]bool{}
	for _, v := range testenv.Java(t).VerifyIText(t, files...) {
		if signed[v.File] != v.Field || v.Integrity != "true" || !v.CoversWholeDocument {
			t.Errorf("iText: %+v", v)
		}
		found[v.File] = true
	}
	if len(found) != len(signed) {
		t.Errorf("iText found %v of %d", found, len(signed))
	}
}

// editObjects appends an update to data replacing (or adding) the objects
// edit returns, given the file as it stands.
func editObjects(t *testing.T, data []byte, edit func(f *cos.File) map[int]cos.Object) []byte {
	t.Helper()
	f, err := cos.Open(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	objs := map[int]string{}
	size := f.MaxNum + 1
	for n, o := range edit(f) {
		objs[n] = string(cos.Append(nil, o))
		size = max(size, n+1)
	}
	return appendUpdate(data, objs, fmt.Sprintf("<< /Size %d /Root %s /Prev %d >>", size, f.Trailer["Root"], lastStartXRef(data)))
}

// fieldNamed returns the number and dictionary of the field (or widget)
// whose /T is name.
func fieldNamed(t *testing.T, f *cos.File, name string) (int, cos.Dict) {
	t.Helper()
	for _, n := range f.Nums() {
		d, _ := f.ResolveDict(cos.Ref{Num: n})
		if d != nil && decodeText(toString(d["T"])) == name {
			return n, d
		}
	}
	t.Fatalf("no field %q", name)
	return 0, nil
}

// fillText sets the text field name's value.
func fillText(t *testing.T, data []byte, name, value string) []byte {
	return editObjects(t, data, func(f *cos.File) map[int]cos.Object {
		n, d := fieldNamed(t, f, name)
		d = copyDict(d)
		d["V"] = cos.String(value)
		return map[int]cos.Object{n: d}
	})
}

// formWithSigFields is makePDF's one-page form (text field "Client") with
// empty signature fields added by AddFields.
func formWithSigFields(t *testing.T, names ...string) string {
	t.Helper()
	in := writeTemp(t, makePDF(1, true))
	var nf []NewField
	for i, n := range names {
		nf = append(nf, NewField{Name: n, Page: 1, Rect: [4]float64{40 + 260*float64(i), 60, 220, 70}})
	}
	out := filepath.Join(t.TempDir(), "form.pdf")
	if err := AddFields(in, out, nf...); err != nil {
		t.Fatal(err)
	}
	return out
}

func signInto(t *testing.T, p *testPKI, in string, o Options) string {
	t.Helper()
	out := filepath.Join(t.TempDir(), "signed.pdf")
	if _, err := (&Signer{Key: p.key, Chain: p.chain(), Opts: o}).SignFile(context.Background(), in, out); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestFieldMDP: a signature locks the fields asked (all, some, all but
// some, or those its field's /Lock names); a later change to a locked field
// invalidates it, as a modification, while a change to a field it does
// not lock is form filling; a locked field cannot be signed; a lock on a
// field the form lacks is refused.
func TestFieldMDP(t *testing.T) {
	p := newPKI(t)
	db := nssDB(t, p.root)
	form := formWithSigFields(t, "Vendeur", "Acheteur")
	for _, tc := range []struct {
		name   string
		lock   *FieldLock
		locked bool // Client
	}{
		{"all", &FieldLock{Action: LockAll}, true},
		{"the field named", &FieldLock{Action: LockInclude, Fields: []string{"Client"}}, true},
		{"another field", &FieldLock{Action: LockInclude, Fields: []string{"Acheteur"}}, false},
		{"all but the field", &FieldLock{Action: LockExclude, Fields: []string{"Client"}}, false},
		{"none", nil, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			signed := signInto(t, p, form, Options{Lock: tc.lock, Appearance: &Appearance{Field: "Vendeur"}})
			if r := verifyBytes(t, p, mustRead(t, signed)); !r.Valid() {
				t.Fatalf("signed: %+v", r)
			}
			changed := fillText(t, mustRead(t, signed), "Client", "Martin SARL")
			r := verifyBytes(t, p, changed)
			want := ChangeFormField + ":Client"
			if tc.locked {
				want = ChangeLockedField + ":Client"
			}
			if r.Valid() == tc.locked || r.ModifiedAfter != tc.locked || !slices.Contains(r.Changes, want) {
				t.Fatalf("after filling Client: valid %v modified %v changes %v, want %s", r.Valid(), r.ModifiedAfter, r.Changes, want)
			}
			if tc.locked && (r.Indication != TotalFailed || r.SubIndication != FormatFailure) {
				t.Errorf("verdict %s/%s", r.Indication, r.SubIndication)
			}
			// pdfsig does no change analysis: the signature is valid to it,
			// over part of the file.
			path := writeTemp(t, changed)
			if out := pdfsig(t, db, path); !strings.Contains(out, "Signature is Valid") || !strings.Contains(out, "Not total document signed") {
				t.Errorf("pdfsig:\n%s", out)
			}
			// The other empty field: locked when all is.
			_, err := (&Signer{Key: p.key, Chain: p.chain(), Opts: Options{Appearance: &Appearance{Field: "Acheteur"}}}).
				SignFile(context.Background(), signed, filepath.Join(t.TempDir(), "second.pdf"))
			var le *FieldLockedError
			wantLocked := tc.name == "all" || tc.name == "another field" || tc.name == "all but the field"
			if wantLocked != errorsAs(err, &le) || (le != nil && (le.By != "Vendeur" || le.Field != "Acheteur")) {
				t.Errorf("signing Acheteur after: %v", err)
			}
			if !wantLocked && err != nil {
				t.Errorf("signing Acheteur after: %v", err)
			}
		})
	}
	t.Run("the field's /Lock", func(t *testing.T) {
		in := writeTemp(t, makePDF(1, true))
		prepared := filepath.Join(t.TempDir(), "form.pdf")
		if err := AddFields(in, prepared, NewField{Name: "Vendeur", Page: 1, Rect: [4]float64{40, 60, 220, 70},
			Lock: &FieldLock{Action: LockInclude, Fields: []string{"Client"}}}); err != nil {
			t.Fatal(err)
		}
		signed := signInto(t, p, prepared, Options{Appearance: &Appearance{Field: "Vendeur"}})
		dump := string(qpdfTransform(t, mustRead(t, signed), "--qdf", "--object-streams=disable"))
		for _, want := range []string{"/TransformMethod /FieldMDP", "/Action /Include", "/Type /SigFieldLock"} {
			if !strings.Contains(dump, want) {
				t.Errorf("signed file lacks %s", want)
			}
		}
		if r := verifyBytes(t, p, fillText(t, mustRead(t, signed), "Client", "X")); r.Valid() || !slices.Contains(r.Changes, ChangeLockedField+":Client") {
			t.Fatalf("after filling Client: %v %v", r.Valid(), r.Changes)
		}
		listed, _ := Fields(signed)
		if len(listed) != 1 || listed[0].Locks == nil || !slices.Equal(listed[0].Locks.Fields, []string{"Client"}) {
			t.Errorf("Fields: %+v", listed)
		}
	})
	t.Run("unknown field", func(t *testing.T) {
		_, err := (&Signer{Key: p.key, Chain: p.chain(), Opts: Options{Lock: &FieldLock{Action: LockInclude, Fields: []string{"Nobody"}}}}).
			SignFile(context.Background(), form, filepath.Join(t.TempDir(), "x.pdf"))
		if !errorsIs(err, ErrLockField) {
			t.Fatalf("%v", err)
		}
	})
	t.Run("a new field after a lock on all", func(t *testing.T) {
		signed := signInto(t, p, form, Options{Lock: &FieldLock{Action: LockAll}, Appearance: &Appearance{Field: "Vendeur"}})
		second := signInto(t, p, signed, Options{})
		rep := verifyReport(t, p, mustRead(t, second))
		if len(rep.Signatures) != 2 || !rep.Signatures[0].Valid() || !rep.Signatures[1].Valid() {
			t.Fatalf("%+v", rep.Signatures)
		}
		// A field prepared after the lock is not under it: it can be
		// signed by name, as the verifier accepts.
		prepared := filepath.Join(t.TempDir(), "prepared.pdf")
		if err := AddFields(signed, prepared, NewField{Name: "Temoin", Page: 1, Rect: [4]float64{40, 200, 200, 50}}); err != nil {
			t.Fatal(err)
		}
		third := signInto(t, p, prepared, Options{Appearance: &Appearance{Field: "Temoin"}})
		rep = verifyReport(t, p, mustRead(t, third))
		if len(rep.Signatures) != 2 || !rep.Signatures[0].Valid() || !rep.Signatures[1].Valid() {
			t.Fatalf("a field prepared after the lock: %+v", rep.Signatures)
		}
	})
}

func errorsAs(err error, target **FieldLockedError) bool {
	for e := err; e != nil; {
		if le, ok := e.(*FieldLockedError); ok {
			*target = le
			return true
		}
		u, ok := e.(interface{ Unwrap() error })
		if !ok {
			return false
		}
		e = u.Unwrap()
	}
	return false
}

// textAnnotation adds a comment (a /Text annotation) to page 7 of a
// makePDF file.
func textAnnotation(t *testing.T, data []byte) []byte {
	return editObjects(t, data, func(f *cos.File) map[int]cos.Object {
		page, _ := f.ResolveDict(cos.Ref{Num: 7})
		page = copyDict(page)
		annots, _ := f.Resolve(page["Annots"])
		list, _ := annots.(cos.Array)
		n := f.MaxNum + 1
		page["Annots"] = append(append(cos.Array{}, list...), cos.Ref{Num: n})
		return map[int]cos.Object{7: page, n: cos.Dict{"Type": cos.Name("Annot"), "Subtype": cos.Name("Text"),
			"Rect": cos.Array{int64(100), int64(400), int64(120), int64(420)}, "Contents": cos.String("Vu"), "P": cos.Ref{Num: 7}}}
	})
}

// TestDocMDPLevels: a certification records the level asked; a comment
// added afterwards is allowed at level 3 only, form filling at levels 2
// and 3, another signature at levels 2 and 3 (refused by the signer at
// level 1); removing and changing a comment is allowed at level 3.
func TestDocMDPLevels(t *testing.T) {
	p := newPKI(t)
	db := nssDB(t, p.root)
	for _, level := range []int{MDPNoChanges, MDPFormFilling, MDPAnnotations} {
		t.Run(fmt.Sprint("P=", level), func(t *testing.T) {
			_, certified := signBytes(t, p, makePDF(1, true), Options{Certify: true, MDP: level})
			data := mustRead(t, certified)
			dump := string(qpdfTransform(t, data, "--qdf", "--object-streams=disable"))
			if !strings.Contains(dump, fmt.Sprintf("/P %d", level)) || !strings.Contains(dump, "/TransformMethod /DocMDP") {
				t.Errorf("no /P %d in the certification", level)
			}
			if r := pdfsig(t, db, certified); !strings.Contains(r, "Signature is Valid") || !strings.Contains(r, "Total document signed") {
				t.Fatalf("pdfsig:\n%s", r)
			}
			annotated := verifyBytes(t, p, textAnnotation(t, data))
			if annotated.Valid() != (level == MDPAnnotations) || !slices.Contains(annotated.Changes, ChangeAnnotation) {
				t.Errorf("a comment added: valid %v, changes %v", annotated.Valid(), annotated.Changes)
			}
			filled := verifyBytes(t, p, fillText(t, data, "Client", "Martin SARL"))
			if filled.Valid() != (level != MDPNoChanges) {
				t.Errorf("a field filled: valid %v, changes %v", filled.Valid(), filled.Changes)
			}
			s := &Signer{Key: p.key, Chain: p.chain()}
			_, err := s.SignFile(context.Background(), certified, filepath.Join(t.TempDir(), "second.pdf"))
			if (level == MDPNoChanges) != errorsIs(err, ErrCertified) {
				t.Errorf("a second signature: %v", err)
			}
			if level != MDPAnnotations {
				return
			}
			// The comment changed, then removed.
			withComment := textAnnotation(t, data)
			edited := editObjects(t, withComment, func(f *cos.File) map[int]cos.Object {
				n := f.MaxNum
				d, _ := f.ResolveDict(cos.Ref{Num: n})
				d = copyDict(d)
				d["Contents"] = cos.String("Lu et approuvé")
				return map[int]cos.Object{n: d}
			})
			if r := verifyBytes(t, p, edited); !r.Valid() {
				t.Errorf("a comment changed: %v", r.Changes)
			}
			removed := editObjects(t, withComment, func(f *cos.File) map[int]cos.Object {
				page, _ := f.ResolveDict(cos.Ref{Num: 7})
				page = copyDict(page)
				annots, _ := f.Resolve(page["Annots"])
				page["Annots"] = annots.(cos.Array)[:len(annots.(cos.Array))-1]
				return map[int]cos.Object{7: page}
			})
			if r := verifyBytes(t, p, removed); !r.Valid() {
				t.Errorf("a comment removed: %v", r.Changes)
			}
			// A form field's widget is no comment: taking it away is not allowed.
			noWidget := editObjects(t, data, func(f *cos.File) map[int]cos.Object {
				page, _ := f.ResolveDict(cos.Ref{Num: 7})
				page = copyDict(page)
				page["Annots"] = cos.Array{}
				return map[int]cos.Object{7: page}
			})
			if r := verifyBytes(t, p, noWidget); r.Valid() {
				t.Errorf("a widget removed: %v", r.Changes)
			}
		})
	}
	if _, _, err := signFile(t, p, makePDF(1, false), Options{Certify: true, MDP: 4}); !errorsIs(err, ErrMDP) {
		t.Errorf("P=4: %v", err)
	}
	// Without a certification, a comment is a change signing does not allow.
	_, signed := signBytes(t, p, makePDF(1, true), Options{})
	if r := verifyBytes(t, p, textAnnotation(t, mustRead(t, signed))); r.Valid() {
		t.Errorf("a comment after an approval signature: %v", r.Changes)
	}
}

// TestAddFields: empty fields added in an incremental update keep earlier
// signatures valid, are listed where they were put, and are refused when
// their name is taken, holds a period, or their page does not exist.
func TestAddFields(t *testing.T) {
	p := newPKI(t)
	db := nssDB(t, p.root)
	_, signed := signBytes(t, p, makePDF(2, true), Options{})
	out := filepath.Join(t.TempDir(), "prepared.pdf")
	err := AddFields(signed, out,
		NewField{Name: "Témoin", Page: 2, Rect: [4]float64{50, 60, 200, 50}},
		NewField{Name: "Notaire", Page: 2, Rect: [4]float64{300, 60, 200, 50}})
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(mustRead(t, out), mustRead(t, signed)) {
		t.Fatal("the original bytes were not kept")
	}
	if code, msg := qpdfCheck(t, out); code != 0 {
		t.Fatalf("qpdf --check %d\n%s", code, msg)
	}
	rep := verifyReport(t, p, mustRead(t, out))
	if r := rep.Signatures[0]; !r.Valid() || !slices.Contains(r.Changes, ChangeSignatureField) {
		t.Fatalf("the earlier signature: %v %v", r.Valid(), r.Changes)
	}
	if r := pdfsig(t, db, out); !strings.Contains(r, "Signature is Valid") {
		t.Fatalf("pdfsig:\n%s", r)
	}
	listed, err := Fields(out)
	if err != nil || len(listed) != 3 {
		t.Fatalf("%v %+v", err, listed)
	}
	q := sigFieldsByQPDF(t, out)
	for _, want := range []struct {
		name string
		rect [4]float64
	}{{"Témoin", [4]float64{50, 60, 200, 50}}, {"Notaire", [4]float64{300, 60, 200, 50}}} {
		i := slices.IndexFunc(listed, func(f Field) bool { return f.Name == want.name })
		if i < 0 || listed[i].Signed || len(listed[i].Widgets) != 1 || listed[i].Widgets[0].Page != 2 || listed[i].Widgets[0].Rect != want.rect {
			t.Errorf("%s: %+v", want.name, listed)
		}
		if !slices.Equal(q[want.name], []int{2}) {
			t.Errorf("qpdf: %s on pages %v", want.name, q[want.name])
		}
	}
	for _, tc := range []struct {
		f    NewField
		want error
	}{
		{NewField{Name: "Notaire", Page: 1, Rect: [4]float64{1, 1, 50, 20}}, ErrFieldExists},
		{NewField{Name: "Client", Page: 1, Rect: [4]float64{1, 1, 50, 20}}, ErrFieldExists},
		{NewField{Name: "A.B", Page: 1, Rect: [4]float64{1, 1, 50, 20}}, ErrFieldName},
		{NewField{Name: "", Page: 1, Rect: [4]float64{1, 1, 50, 20}}, ErrFieldName},
		{NewField{Name: "Loin", Page: 9, Rect: [4]float64{1, 1, 50, 20}}, ErrPageRange},
	} {
		dst := filepath.Join(t.TempDir(), "x.pdf")
		if err := AddFields(out, dst, tc.f); !errorsIs(err, tc.want) {
			t.Errorf("%+v: %v, want %v", tc.f, err, tc.want)
		}
		if _, err := os.Stat(dst); err == nil {
			t.Errorf("%+v: an output was written", tc.f)
		}
	}
}

// TestAnnotationsUnderP3: a comment already there when the document was
// certified at level 3 may be changed and removed; a dictionary that only
// looks like a comment — the page's resources given a /Subtype and listed
// among its annotations — does not make the page's resources free to
// change.
func TestAnnotationsUnderP3(t *testing.T) {
	p := newPKI(t)
	commented := textAnnotation(t, makePDF(1, true))
	_, certified := signBytes(t, p, commented, Options{Certify: true, MDP: MDPAnnotations})
	data := mustRead(t, certified)
	f, err := cos.Open(bytes.NewReader(commented), int64(len(commented)))
	if err != nil {
		t.Fatal(err)
	}
	comment := f.MaxNum
	edited := editObjects(t, data, func(f *cos.File) map[int]cos.Object {
		d, _ := f.ResolveDict(cos.Ref{Num: comment})
		d = copyDict(d)
		d["Contents"] = cos.String("Lu et approuvé")
		return map[int]cos.Object{comment: d}
	})
	if r := verifyBytes(t, p, edited); !r.Valid() || !slices.Contains(r.Changes, ChangeAnnotation) {
		t.Errorf("the comment changed: %v %v", r.Valid(), r.Changes)
	}
	removed := editObjects(t, data, func(f *cos.File) map[int]cos.Object {
		page, _ := f.ResolveDict(cos.Ref{Num: 7})
		page = copyDict(page)
		annots, _ := f.Resolve(page["Annots"])
		var left cos.Array
		for _, a := range annots.(cos.Array) {
			if a != (cos.Ref{Num: comment}) {
				left = append(left, a)
			}
		}
		page["Annots"] = left
		return map[int]cos.Object{7: page}
	})
	if r := verifyBytes(t, p, removed); !r.Valid() {
		t.Errorf("the comment removed: %v", r.Changes)
	}
	// The comment turned into something else: not allowed.
	turned := editObjects(t, data, func(f *cos.File) map[int]cos.Object {
		return map[int]cos.Object{comment: cos.Dict{"Font": cos.Dict{"F1": cos.Ref{Num: 5}}}}
	})
	if r := verifyBytes(t, p, turned); r.Valid() {
		t.Errorf("the comment turned into resources: %v", r.Changes)
	}

	// The disguise: the page's resources, indirect, with a /Subtype, and
	// listed among its annotations.
	disguised := editObjects(t, makePDF(1, true), func(f *cos.File) map[int]cos.Object {
		page, _ := f.ResolveDict(cos.Ref{Num: 7})
		page = copyDict(page)
		n := f.MaxNum + 1
		page["Resources"] = cos.Ref{Num: n}
		page["Annots"] = cos.Array{cos.Ref{Num: 6}, cos.Ref{Num: n}}
		return map[int]cos.Object{7: page, n: cos.Dict{"Font": cos.Dict{"F1": cos.Ref{Num: 5}}, "Subtype": cos.Name("Text"),
			"Rect": cos.Array{int64(0), int64(0), int64(0), int64(0)}}}
	})
	_, certified = signBytes(t, p, disguised, Options{Certify: true, MDP: MDPAnnotations})
	data = mustRead(t, certified)
	swapped := editObjects(t, data, func(f *cos.File) map[int]cos.Object {
		page, _ := f.ResolveDict(cos.Ref{Num: 7})
		res := page["Resources"].(cos.Ref)
		n := f.MaxNum + 1
		return map[int]cos.Object{
			res.Num: cos.Dict{"Font": cos.Dict{"F1": cos.Ref{Num: n}}, "Subtype": cos.Name("Text"), "Rect": cos.Array{int64(0), int64(0), int64(0), int64(0)}},
			n:       cos.Dict{"Type": cos.Name("Font"), "Subtype": cos.Name("Type1"), "BaseFont": cos.Name("Courier")},
		}
	})
	if r := verifyBytes(t, p, swapped); r.Valid() || !r.ModifiedAfter {
		t.Errorf("the page's font swapped through a disguised comment: valid %v, changes %v", r.Valid(), r.Changes)
	}
}

// TestNoChangesKeepsArchiving: a certification that allows no change (P=1)
// still lets validation data and a document time-stamp in (ISO 32000-2
// §12.8.2.2.2): signed at B-LTA it stays valid, its time-stamp too; a
// comment afterwards is not allowed.
func TestNoChangesKeepsArchiving(t *testing.T) {
	srv, key, chain, hc := caPKI(t)
	s := &Signer{Key: key, Chain: chain, Opts: Options{Level: LevelLTA, TSA: srv.URL + "/tsa", HTTP: hc, Certify: true, MDP: MDPNoChanges}}
	out := signWith(t, s, makePDF(1, false))
	o := VerifyOptions{Trust: []Anchor{{Cert: srv.Root, Source: SourcePolicy, Name: "root"}}}
	rep, err := Verify(context.Background(), out, o)
	if err != nil || len(rep.Signatures) != 2 {
		t.Fatalf("%v %+v", err, rep)
	}
	for _, r := range rep.Signatures {
		if !r.Valid() {
			t.Errorf("%s %s: %s %s %v", r.Kind, r.Field, r.Indication, r.SubIndication, r.Changes)
		}
	}
	if c := rep.Signatures[0].Changes; !slices.Contains(c, ChangeTimestamp) || !slices.Contains(c, ChangeValidationData) {
		t.Errorf("the certification's later changes: %v", c)
	}
	if r := pdfsig(t, nssDB(t, srv.Root), out); !strings.Contains(r, "Signature is Valid") {
		t.Errorf("pdfsig:\n%s", r)
	}
	path := writeTemp(t, textAnnotation(t, mustRead(t, out)))
	rep, err = Verify(context.Background(), path, o)
	if err != nil || rep.Signatures[0].Valid() || !slices.Contains(rep.Signatures[0].Changes, ChangeAnnotation) {
		t.Errorf("a comment after a P=1 certification: %v %+v", err, rep.Signatures[0].Changes)
	}
}

// TestLockThroughParent: a locked field inside a hierarchy cannot be
// changed through its parent, whose value it inherits; a sibling the lock
// does not name can.
func TestLockThroughParent(t *testing.T) {
	p := newPKI(t)
	in := buildPDF("7 0 R", "8 0 R 9 0 R", "", "",
		"<< /T (Acte) /FT /Tx /V (1er mars) /Kids [8 0 R 9 0 R] >>",
		"<< /Type /Annot /Subtype /Widget /T (Date) /Parent 7 0 R /Rect [50 700 300 720] /P 3 0 R /F 4 >>",
		"<< /Type /Annot /Subtype /Widget /T (Lieu) /FT /Tx /Parent 7 0 R /Rect [50 650 300 670] /P 3 0 R /F 4 >>")
	_, signed := signBytes(t, p, in, Options{Lock: &FieldLock{Action: LockInclude, Fields: []string{"Acte.Date"}}})
	data := mustRead(t, signed)
	parent := editObjects(t, data, func(f *cos.File) map[int]cos.Object {
		d, _ := f.ResolveDict(cos.Ref{Num: 7})
		d = copyDict(d)
		d["V"] = cos.String("2 avril")
		return map[int]cos.Object{7: d}
	})
	if r := verifyBytes(t, p, parent); r.Valid() || !slices.Contains(r.Changes, ChangeLockedField+":Acte") {
		t.Errorf("the parent's value changed: %v %v", r.Valid(), r.Changes)
	}
	sibling := editObjects(t, data, func(f *cos.File) map[int]cos.Object {
		d, _ := f.ResolveDict(cos.Ref{Num: 9})
		d = copyDict(d)
		d["V"] = cos.String("Lyon")
		return map[int]cos.Object{9: d}
	})
	if r := verifyBytes(t, p, sibling); !r.Valid() || !slices.Contains(r.Changes, ChangeFormField+":Acte.Lieu") {
		t.Errorf("the sibling filled: %v %v", r.Valid(), r.Changes)
	}
}

// TestAddFieldsObjectStreams: a document whose objects sit in object
// streams, with a cross-reference stream, takes fields and then their
// signatures; qpdf and pdfsig accept each step.
func TestAddFieldsObjectStreams(t *testing.T) {
	p := newPKI(t)
	db := nssDB(t, p.root)
	in := writeTemp(t, qpdfTransform(t, makePDF(2, true), "--object-streams=generate"))
	prepared := filepath.Join(t.TempDir(), "prepared.pdf")
	if err := AddFields(in, prepared, NewField{Name: "Un", Page: 1, Rect: [4]float64{40, 60, 200, 50}},
		NewField{Name: "Deux", Page: 2, Rect: [4]float64{40, 60, 200, 50}}); err != nil {
		t.Fatal(err)
	}
	if code, msg := qpdfCheck(t, prepared); code != 0 {
		t.Fatalf("qpdf --check %d\n%s", code, msg)
	}
	first := signInto(t, p, prepared, Options{Certify: true, Appearance: &Appearance{Field: "Un"}})
	second := signInto(t, p, first, Options{Lock: &FieldLock{Action: LockAll}, Appearance: &Appearance{Field: "Deux"}})
	if code, msg := qpdfCheck(t, second); code != 0 {
		t.Fatalf("qpdf --check %d\n%s", code, msg)
	}
	if r := pdfsig(t, db, second); strings.Count(r, "Signature is Valid") != 2 {
		t.Fatalf("pdfsig:\n%s", r)
	}
	rep := verifyReport(t, p, mustRead(t, second))
	if len(rep.Signatures) != 2 || !rep.Signatures[0].Valid() || !rep.Signatures[1].Valid() {
		t.Fatalf("%+v", rep.Signatures)
	}
}
