package pdf

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/paraphe/paraphe/internal/testenv"
)

// A stamp placed in a corner of a page turned by 90, 180 or 270 degrees
// (DSS's samples, boxes at negative and positive coordinates) lands in
// that corner of the page as shown, and upright there: poppler, reading
// the signed page as shown, finds the stamp's words wider than tall, the
// "signed by" line above the name, in the bottom right quarter of the page.
func TestStampUprightOnTurnedPages(t *testing.T) {
	p := newPKI(t)
	for _, name := range []string{
		"visualSignature__coordinates__doc-negative-coordinates-rotate-90.pdf",
		"visualSignature__coordinates__doc-positive-coordinates-rotate-180.pdf",
		"visualSignature__coordinates__doc-negative-coordinates-rotate-270.pdf",
		"visualSignature__test_270.pdf",
		"pdf-2.0.pdf", // not turned
	} {
		in, err := os.ReadFile(filepath.Join(dssCorpus, name))
		if err != nil {
			t.Skip("the corpus is not here: ", err)
		}
		_, out := signBytes(t, p, in, Options{Appearance: &Appearance{Page: 1, Labels: Labels{SignedBy: "Signed by"}}})
		w, h, words := testenv.PopplerWords(t, out, 1)
		signed, holder := findWord(words, "Signed"), findWord(words, "Dupont")
		if signed == nil || holder == nil {
			t.Errorf("%s: poppler does not find the stamp's words: %v", name, words)
			continue
		}
		for _, wd := range []*testenv.PopplerWord{signed, holder} {
			if wd.XMax-wd.XMin <= wd.YMax-wd.YMin {
				t.Errorf("%s: %q is %.0f wide and %.0f tall as shown: not upright", name, wd.Text, wd.XMax-wd.XMin, wd.YMax-wd.YMin)
			}
			if wd.XMin < w/2 || wd.YMin < h/2 || wd.XMax > w || wd.YMax > h {
				t.Errorf("%s: %q at (%.0f, %.0f)–(%.0f, %.0f) on a page shown %.0f×%.0f: not in its bottom right corner",
					name, wd.Text, wd.XMin, wd.YMin, wd.XMax, wd.YMax, w, h)
			}
		}
		if signed.YMax > holder.YMin+1 {
			t.Errorf("%s: \"Signed by\" (%.0f–%.0f) is not above the name (%.0f–%.0f): the stamp is upside down", name,
				signed.YMin, signed.YMax, holder.YMin, holder.YMax)
		}
	}
}

// A signature put in an empty field of a page turned by 270 degrees (a
// field of 72×210 points of user space, shown 210 wide) stands upright in
// it, as poppler reads the page.
func TestFieldSignedUprightOnTurnedPage(t *testing.T) {
	p := newPKI(t)
	in := filepath.Join(dssCorpus, "visualSignature__test_270.pdf")
	if _, err := os.Stat(in); err != nil {
		t.Skip("the corpus is not here: ", err)
	}
	withField := filepath.Join(t.TempDir(), "field.pdf")
	if err := AddFields(in, withField, NewField{Name: "Notaire", Page: 1, Rect: [4]float64{300, 400, StampHeight, StampWidth}}); err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(withField)
	_, out := signBytes(t, p, data, Options{Appearance: &Appearance{Field: "Notaire", Labels: Labels{SignedBy: "Signed by"}}})
	_, _, words := testenv.PopplerWords(t, out, 1)
	signed, holder := findWord(words, "Signed"), findWord(words, "Dupont")
	if signed == nil || holder == nil {
		t.Fatalf("poppler does not find the stamp's words: %v", words)
	}
	if holder.XMax-holder.XMin <= holder.YMax-holder.YMin || signed.YMax > holder.YMin+1 {
		t.Fatalf("\"Signed\" at %+v, the name at %+v: not upright", *signed, *holder)
	}
}

// findWord is the first of words that reads text, nil when none does.
func findWord(words []testenv.PopplerWord, text string) *testenv.PopplerWord {
	for i := range words {
		if words[i].Text == text {
			return &words[i]
		}
	}
	return nil
}

// The stamp's preview is a page of the stamp's size on which poppler reads
// the stamp's words: who signs, their member number, the reason.
func TestStampPreview(t *testing.T) {
	p := newPKI(t)
	a := &Appearance{Labels: Labels{SignedBy: "Signed by"}}
	b, err := StampPreview(a, StampWidth, StampHeight, p.leaf, Options{Reason: "Vente"}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "stamp.pdf")
	os.WriteFile(path, b, 0o644)
	if code, text := qpdfCheck(t, path); code != 0 {
		t.Fatalf("qpdf --check %d:\n%s", code, text)
	}
	w, h, words := testenv.PopplerWords(t, path, 1)
	if w != StampWidth || h != StampHeight {
		t.Fatalf("a page of %g×%g points", w, h)
	}
	for _, want := range []string{"Signed", "Dupont", "75-1234", "Vente"} {
		if findWord(words, want) == nil {
			t.Errorf("poppler does not read %q on the preview: %v", want, words)
		}
	}
	if _, err := StampPreview(a, 0, StampHeight, p.leaf, Options{}, time.Now()); err == nil {
		t.Error("a stamp 0 points wide previewed")
	}
}
