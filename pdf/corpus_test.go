package pdf

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/paraphe/paraphe/internal/testenv"
)

// TestCorpus signs every PDF of testdata/corpus (real files from other
// producers, gathered by scripts/corpus.sh, which make test runs) and has
// pdfsig and qpdf judge each result, and our verifier too. A file whose
// structure is damaged is signed only with Repair, and it is damaged for
// qpdf as well (and the other way round).
func TestCorpus(t *testing.T) {
	testenv.Slow(t, "every corpus file signed, then judged by pdfsig and qpdf")
	files, _ := filepath.Glob(filepath.Join("testdata", "corpus", "*.pdf"))
	if len(files) == 0 {
		testenv.Missing(t, "no corpus: run scripts/corpus.sh (make test does)")
	}
	p := newPKI(t)
	db := nssDB(t, p.root)
	s := &Signer{Key: p.key, Chain: p.chain(), Opts: Options{Appearance: &Appearance{}, Repair: true}}
	for _, in := range files {
		t.Run(filepath.Base(in), func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "signed.pdf")
			res, err := s.SignFile(context.Background(), in, out)
			if err != nil {
				t.Fatal(err)
			}
			before, text := qpdfCheck(t, in)
			if (res.Repaired != nil) != strings.Contains(text, "file is damaged") {
				t.Fatalf("repaired: %v; qpdf --check:\n%s", res.Repaired, text)
			}
			report := pdfsig(t, db, out)
			if !strings.Contains(report, "Signature is Valid") || !strings.Contains(report, "Total document signed") {
				t.Fatalf("pdfsig:\n%s", report)
			}
			// Signing may not make qpdf's judgement worse than the original's.
			if after, text := qpdfCheck(t, out); after != 0 && after != before {
				t.Fatalf("qpdf --check: %d before, %d after:\n%s", before, after, text)
			}
			rep, err := Verify(context.Background(), out, VerifyOptions{Anchors: anchorsOf(p.root.Raw)})
			if err != nil {
				t.Fatal(err)
			}
			last := rep.Signatures[len(rep.Signatures)-1]
			if !last.Valid() || !last.CoversWholeFile {
				t.Fatalf("verify: %+v", last)
			}
			orig, _ := os.ReadFile(in)
			signed, _ := os.ReadFile(out)
			if len(signed) < len(orig) || string(signed[:len(orig)]) != string(orig) {
				t.Fatal("the original bytes were not kept")
			}
		})
	}
}
