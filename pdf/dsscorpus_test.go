package pdf

import (
	"bufio"
	"context"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/paraphe/paraphe/internal/testenv"
)

// dssCorpus is the DSS project's signed test PDFs, kept beside the
// repository (../shared/corpus, see its README), never copied into it.
var dssCorpus = filepath.Join("..", "..", "shared", "corpus", "dss-samples")

// dssVerdict is one row of testdata/dss-samples.tsv: the verdict of
// tools nobody here wrote on one signature field, recorded by
// scripts/record-verdicts.sh.
type dssVerdict struct {
	file, field, kind, subfilter string
	pdfsig, itext, openssl       string
	integrity                    string // valid, broken, unsigned, none, unreadable, unknown
	level                        string // B-B … B-LTA, PKCS7-B …, "-" for a document time-stamp
	sigTimestamp, dss            string
}

func readDSSVerdicts(t *testing.T) []dssVerdict {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", "dss-samples.tsv"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var rows []dssVerdict
	s := bufio.NewScanner(f)
	header := true
	for s.Scan() {
		line := s.Text()
		if strings.HasPrefix(line, "#") || line == "" {
			continue
		}
		if header { // the column names
			header = false
			continue
		}
		c := strings.Split(line, "\t")
		if len(c) != 11 {
			t.Fatalf("dss-samples.tsv: %d columns in %q", len(c), line)
		}
		rows = append(rows, dssVerdict{c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7], c[8], c[9], c[10]})
	}
	if err := s.Err(); err != nil {
		t.Fatal(err)
	}
	return rows
}

// intact is our integrity verdict: a signature is broken only when it
// fails on its bytes, its cryptography or its format, never for want of
// trust.
func intact(s SignatureReport) bool {
	switch s.SubIndication {
	case HashFailure, SigCryptoFailure, FormatFailure:
		return s.Indication != TotalFailed
	}
	return true
}

// TestDSSCorpus holds our verifier to the independent verdicts on every
// signature field of the DSS corpus (acceptance 1 of issue 11): the same
// integrity verdict as pdfsig, iText 5 and openssl; the same kind and
// PAdES level as read from the files by qpdf and openssl. The DSS signers'
// roots are not trusted here, so an intact signature must come out
// INDETERMINATE, never TOTAL-FAILED; an empty field is no signature.
func TestDSSCorpus(t *testing.T) {
	if _, err := os.Stat(dssCorpus); err != nil {
		testenv.Missing(t, "no DSS corpus at "+dssCorpus+" (../shared/corpus beside the repository)")
	}
	byFile := map[string][]dssVerdict{}
	for _, r := range readDSSVerdicts(t) {
		byFile[r.file] = append(byFile[r.file], r)
	}
	if len(byFile) < 100 {
		t.Fatalf("dss-samples.tsv covers %d files", len(byFile))
	}
	files := make([]string, 0, len(byFile))
	for f := range byFile {
		files = append(files, f)
	}
	sort.Strings(files)
	signed := 0
	for _, name := range files {
		t.Run(name, func(t *testing.T) { signed += checkDSSFile(t, name, byFile[name]) })
	}
	if signed < 60 {
		t.Errorf("only %d signatures checked", signed)
	}
}

// checkDSSFile verifies one file of the corpus and compares each field
// with its recorded verdicts (rows); it returns how many signatures it
// compared.
func checkDSSFile(t *testing.T, name string, rows []dssVerdict) int {
	path := filepath.Join(dssCorpus, name)
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("the corpus lacks a recorded file: %v", err)
	}
	var want []dssVerdict
	for _, r := range rows {
		if r.kind != "-" {
			want = append(want, r)
		}
	}
	rep, err := Verify(context.Background(), path, VerifyOptions{})
	if len(want) == 0 {
		// No signature, by every independent account: an error is
		// fine (not a PDF, encrypted, not signed), a signature is not.
		if err == nil && len(rep.Signatures) > 0 {
			t.Fatalf("%s has no signature (%s), we report %d: %+v", name, rows[0].integrity, len(rep.Signatures), rep.Signatures)
		}
		return 0
	}
	if err != nil {
		t.Fatalf("verify: %v", err)
	}
	got := map[string]SignatureReport{}
	for _, s := range rep.Signatures {
		if _, dup := got[s.Field]; dup {
			t.Errorf("field %q reported twice", s.Field)
		}
		got[s.Field] = s
	}
	for _, w := range want {
		s, ok := got[w.field]
		if !ok {
			t.Errorf("%s: signature %q not reported (we report %d)", name, w.field, len(rep.Signatures))
			continue
		}
		delete(got, w.field)
		checkDSSVerdict(t, name, w, s)
	}
	for f, s := range got {
		what := "which no independent tool sees as a signature"
		for _, r := range rows {
			if r.field == f {
				what = "an empty field (" + r.integrity + ")"
			}
		}
		t.Errorf("%s: we report %q (%s %s), %s", name, f, s.Kind, s.Indication, what)
	}
	return len(want)
}

// checkDSSVerdict compares our report of a field with its recorded
// verdict: kind, level and integrity.
func checkDSSVerdict(t *testing.T, name string, w dssVerdict, s SignatureReport) {
	t.Helper()
	wantKind := KindSignature
	if w.kind == "document_timestamp" {
		wantKind = KindDocumentTimestamp
	}
	if s.Kind != wantKind {
		t.Errorf("%s: %q is a %s, we say %q", name, w.field, w.kind, s.Kind)
	}
	if w.level != "-" && string(s.Level) != w.level {
		t.Errorf("%s: %q is %s (signature time-stamp %s, /DSS %s), we say %q",
			name, w.field, w.level, w.sigTimestamp, w.dss, s.Level)
	}
	switch w.integrity {
	case "valid":
		if !intact(s) {
			t.Errorf("%s: %q is intact (pdfsig %s, iText %s, openssl %s), we say %s/%s %v",
				name, w.field, w.pdfsig, w.itext, w.openssl, s.Indication, s.SubIndication, s.Problems)
		} else if s.Indication != Indeterminate {
			t.Errorf("%s: %q is intact but its root is not trusted here: want INDETERMINATE, got %s/%s",
				name, w.field, s.Indication, s.SubIndication)
		}
	case "broken":
		if intact(s) {
			t.Errorf("%s: %q is broken (pdfsig %s, iText %s, openssl %s), we say %s/%s",
				name, w.field, w.pdfsig, w.itext, w.openssl, s.Indication, s.SubIndication)
		}
	default:
		t.Logf("%s: %q: no independent integrity verdict (%s); we say %s/%s",
			name, w.field, w.integrity, s.Indication, s.SubIndication)
	}
}
