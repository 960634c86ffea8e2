package pdf

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/paraphe/paraphe/internal/testenv"
)

// popplerSignatures is what pdfsig says of each signature of file, by
// field name: its signed ranges (as ByteRange: offset, length, offset,
// length) and whether they cover the whole file.
func popplerSignatures(t *testing.T, file string) map[string]popplerSig {
	t.Helper()
	testenv.Require(t, "pdfsig")
	out, _ := exec.Command("pdfsig", "-nssdir", "sql:"+t.TempDir(), file).CombinedOutput()
	sigs := map[string]popplerSig{}
	for _, block := range strings.Split(string(out), "Signature #")[1:] {
		name := regexp.MustCompile(`Signature Field Name: (.*)`).FindStringSubmatch(block)
		m := regexp.MustCompile(`Signed Ranges: \[(\d+) - (\d+)\], \[(\d+) - (\d+)\]`).FindStringSubmatch(block)
		if name == nil || m == nil {
			continue
		}
		var a, b, c, d int64
		fmt.Sscan(strings.Join(m[1:], " "), &a, &b, &c, &d)
		sigs[name[1]] = popplerSig{br: [4]int64{a, b - a, c, d - c}, whole: strings.Contains(block, "Total document signed")}
	}
	return sigs
}

type popplerSig struct {
	br    [4]int64
	whole bool
}

// qpdfWidgets is where qpdf finds each signature field's widgets.
func qpdfWidgets(t *testing.T, file string) map[string][]Widget {
	t.Helper()
	out := map[string][]Widget{}
	for name, ws := range testenv.QPDFSignatureWidgets(t, file) {
		for _, w := range ws {
			out[name] = append(out[name], Widget{Page: w.Page, Rect: w.Rect})
		}
	}
	return out
}

// Each signature of the DSS samples (visible ones on turned and shifted
// pages, several in one file) and of a file we sign twice says where its
// field shows (page and place, as qpdf reads the widgets) and which bytes
// it signs (as poppler's pdfsig reads them); its signed revision, read in
// place, is the document that signature covers whole, by pdfsig's account.
func TestSignaturePlaceAndRevision(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join(dssCorpus, "visualSignature__*.pdf"))
	if testing.Short() { // one in four
		var some []string
		for i := 0; i < len(files); i += 4 {
			some = append(some, files[i])
		}
		files = some
	}
	files = append(files, filepath.Join(dssCorpus, "pdf-two-fields.pdf"), twiceSigned(t))
	checked := 0
	for _, path := range files {
		rep, err := Verify(context.Background(), path, VerifyOptions{})
		if err == ErrNoSignature {
			continue
		}
		if err != nil {
			t.Fatalf("%s: %v", filepath.Base(path), err)
		}
		poppler, widgets := popplerSignatures(t, path), qpdfWidgets(t, path)
		for _, s := range rep.Signatures {
			checkPlace(t, path, &s, poppler[s.Field], widgets[s.Field])
			checked++
		}
	}
	t.Logf("%d signatures in %d files", checked, len(files))
	if checked < 8 {
		t.Fatalf("only %d signatures checked", checked)
	}
}

func checkPlace(t *testing.T, path string, s *SignatureReport, want popplerSig, widgets []Widget) {
	t.Helper()
	name := filepath.Base(path) + " " + s.Field
	if s.ByteRange != want.br {
		t.Errorf("%s: byte range %v, pdfsig reads %v", name, s.ByteRange, want.br)
	}
	if fmt.Sprint(s.Widgets) != fmt.Sprint(widgets) {
		t.Errorf("%s: widgets %v, qpdf reads %v", name, s.Widgets, widgets)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rev, ok := s.SignedRevision(f)
	if !ok {
		t.Fatalf("%s: no signed revision", name)
	}
	var buf bytes.Buffer
	if _, err := io.Copy(&buf, rev); err != nil {
		t.Fatal(err)
	}
	revPath := filepath.Join(t.TempDir(), "rev.pdf")
	os.WriteFile(revPath, buf.Bytes(), 0o644)
	if got := popplerSignatures(t, revPath)[s.Field]; !got.whole || got.br != s.ByteRange {
		t.Errorf("%s: in its signed revision (%d bytes) pdfsig reads %+v, not the whole document", name, buf.Len(), got)
	}
}

// twiceSigned is a two-page document signed twice, visibly on page 2 the
// second time: the first signature no longer covers the file.
func twiceSigned(t *testing.T) string {
	p := newPKI(t)
	_, once := signBytes(t, p, makePDF(2, false), Options{})
	s := &Signer{Key: p.key, Chain: p.chain(), Opts: Options{Appearance: &Appearance{Page: 2, Rect: [4]float64{100, 200, 210, 72}}}}
	twice := filepath.Join(filepath.Dir(once), "twice.pdf")
	if _, err := s.SignFile(context.Background(), once, twice); err != nil {
		t.Fatal(err)
	}
	return twice
}
