package pdf

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/paraphe/paraphe/internal/testenv"
)

func needDSSCorpus(t *testing.T) {
	t.Helper()
	if _, err := os.Stat(dssCorpus); err != nil {
		testenv.Missing(t, "no DSS corpus at "+dssCorpus+" (../shared/corpus beside the repository)")
	}
}

// TestFieldsNamedAsQPDF: every signature field of the DSS corpus is listed
// with the full name and the pages qpdf finds for it, reading each form
// its own way.
func TestFieldsNamedAsQPDF(t *testing.T) {
	needDSSCorpus(t)
	testenv.Require(t, "qpdf")
	files, _ := filepath.Glob(filepath.Join(dssCorpus, "*.pdf"))
	compared := 0
	for _, path := range files {
		listed, err := Fields(path)
		if err != nil {
			continue // encrypted, damaged past reading: not about fields
		}
		ours := map[string][]int{}
		for _, f := range listed {
			for _, w := range f.Widgets {
				ours[f.Name] = append(ours[f.Name], w.Page)
			}
		}
		theirs := sigFieldsByQPDF(t, path)
		for name := range theirs {
			slices.Sort(theirs[name])
			slices.Sort(ours[name])
		}
		for name, pages := range theirs {
			if !slices.Equal(ours[name], pages) {
				t.Errorf("%s: %q on pages %v, qpdf says %v", filepath.Base(path), name, ours[name], pages)
			}
		}
		for name := range ours {
			if theirs[name] == nil {
				// qpdf reads /Fields only; a widget only a page lists is
				// ours alone.
				t.Logf("%s: %q is not in the form's /Fields", filepath.Base(path), name)
			}
		}
		compared += len(theirs)
	}
	if compared < 50 {
		t.Fatalf("only %d fields compared", compared)
	}
}

// TestDSSEmptyFields: the DSS corpus's unsigned documents with empty
// signature fields (two fields; one on page 2; one beside text fields; one
// hidden) are signed by field name, each field in turn: pdfsig and our
// verifier accept every signature, the earlier ones included; with the
// signer's root not trusted, ours says INDETERMINATE, never TOTAL-FAILED.
func TestDSSEmptyFields(t *testing.T) {
	needDSSCorpus(t)
	p := newPKI(t)
	db := nssDB(t, p.root)
	for _, tc := range []struct {
		file   string
		fields []string
	}{
		{"pdf-two-fields.pdf", []string{"signature-test", "signature-test2"}},
		{"documentEmptySignature.pdf", []string{"signature"}},
		{"doc.pdf", []string{"Signature1"}},
		{"unsignedPDFWithSignatureFieldButInvisible.pdf", []string{"Signature1"}},
	} {
		t.Run(tc.file, func(t *testing.T) {
			in := filepath.Join(dssCorpus, tc.file)
			listed, err := Fields(in)
			if err != nil {
				t.Fatal(err)
			}
			var empty []string
			for _, f := range listed {
				if !f.Signed {
					empty = append(empty, f.Name)
				}
			}
			if !slices.Equal(empty, tc.fields) {
				t.Fatalf("empty fields %v, want %v", empty, tc.fields)
			}
			dir := t.TempDir()
			for i, field := range tc.fields {
				out := filepath.Join(dir, field+".pdf")
				s := &Signer{Key: p.key, Chain: p.chain(), Opts: Options{Appearance: &Appearance{Field: field}}}
				res, err := s.SignFile(context.Background(), in, out)
				if err != nil || res.Field != field {
					t.Fatalf("sign %s: %v %+v", field, err, res)
				}
				in = out
				r := pdfsig(t, db, out)
				if strings.Count(r, "Signature is Valid") != i+1 || !strings.Contains(r, "Signature Field Name: "+field) {
					t.Fatalf("pdfsig after %s:\n%s", field, r)
				}
				if code, msg := qpdfCheck(t, out); code != 0 {
					t.Errorf("qpdf --check %d\n%s", code, msg)
				}
				if !signedByQPDF(t, out, field) {
					t.Errorf("qpdf sees no value in %q", field)
				}
			}
			rep := verifyReport(t, p, mustRead(t, in))
			untrusted, err := Verify(context.Background(), in, VerifyOptions{})
			if err != nil || len(rep.Signatures) != len(tc.fields) || len(untrusted.Signatures) != len(tc.fields) {
				t.Fatalf("%v %+v", err, rep)
			}
			for i, r := range rep.Signatures {
				if !r.Valid() || r.Field != tc.fields[i] {
					t.Errorf("%s: %s %s %v", r.Field, r.Indication, r.SubIndication, r.Changes)
				}
				u := untrusted.Signatures[i]
				if !u.Intact || u.Indication != Indeterminate || u.SubIndication != NoCertificateChainFound {
					t.Errorf("%s untrusted: %s %s", u.Field, u.Indication, u.SubIndication)
				}
			}
		})
	}
}
