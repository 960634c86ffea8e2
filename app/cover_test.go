package app

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"fyne.io/fyne/v2/test"

	"github.com/paraphe/paraphe/internal/testenv"
	"github.com/paraphe/paraphe/pdf"
)

// words are the boxes of the words on page n of the PDF at path, as
// poppler's pdftotext finds them (x, y from the page's lower-left corner,
// width, height, in points).
func words(t *testing.T, path string, n int, geo pdf.PageGeometry) (boxes [][4]float64, texts []string) {
	t.Helper()
	page := strconv.Itoa(n)
	out, err := exec.Command("pdftotext", "-bbox", "-f", page, "-l", page, path, "-").Output()
	if err != nil {
		t.Fatal(err)
	}
	re := regexp.MustCompile(`xMin="([0-9.]+)" yMin="([0-9.]+)" xMax="([0-9.]+)" yMax="([0-9.]+)">([^<]*)<`)
	for _, m := range re.FindAllStringSubmatch(string(out), -1) {
		var v [4]float64
		for i := range v {
			v[i], _ = strconv.ParseFloat(m[i+1], 64)
		}
		boxes = append(boxes, [4]float64{v[0], geo.Height - v[3], v[2] - v[0], v[3] - v[1]})
		texts = append(texts, m[5])
	}
	return boxes, texts
}

func overlap(a, b [4]float64) bool {
	return a[0] < b[0]+b[2] && b[0] < a[0]+a[2] && a[1] < b[1]+b[3] && b[1] < a[1]+a[3]
}

// What a stamp covers is judged by poppler's own idea of where the words
// are (pdftotext), on a real-world page (a Swagger print from the EU's
// DSS test files, dense with text, boxes and rules) and on the demo
// deed: a stamp over any word is said to cover the page; one where no
// word is, on a page with nothing else drawn there, is not.
func TestStampCoversWords(t *testing.T) {
	testenv.Require(t, "pdftotext")
	u := newUI(t, "")
	ctx := context.Background()
	dss := os.Getenv("PARAPHE_DSS_SAMPLES")
	if dss == "" {
		dss = filepath.Join("..", "..", "shared", "corpus", "dss-samples")
	}
	swagger := filepath.Join(dss, "PDF.pdf")
	if _, err := os.Stat(swagger); err != nil {
		testenv.Missing(t, "no DSS samples in "+dss+" (set PARAPHE_DSS_SAMPLES)")
	}
	for _, path := range []string{swagger, filepath.Join("..", "assets", "demo", "deed.pdf")} {
		geo, err := pdf.Page(path, 1)
		if err != nil {
			t.Fatal(err)
		}
		boxes, names := words(t, path, 1, geo)
		if len(boxes) < 5 {
			t.Fatalf("%s: pdftotext found %d words", path, len(boxes))
		}
		step := 1
		if testing.Short() { // twenty words of the page, spread over it
			step = max(1, len(boxes)/20)
		}
		for i := 0; i < len(boxes); i += step {
			b := boxes[i]
			// The stamp centred on the word, kept on the page.
			x := max(0, min(b[0]+b[2]/2-pdf.StampWidth/2, geo.Width-pdf.StampWidth))
			y := max(0, min(b[1]+b[3]/2-pdf.StampHeight/2, geo.Height-pdf.StampHeight))
			a := &pdf.Appearance{Page: 1, Rect: [4]float64{x, y, pdf.StampWidth, pdf.StampHeight}}
			if !u.stampCovers(ctx, path, a) {
				t.Errorf("%s: a stamp at %v over %q (%v) is not said to cover it", filepath.Base(path), a.Rect, names[i], b)
			}
		}
	}
	// The deed has nothing drawn but its words: in a corner where none is,
	// a stamp covers nothing (its title reaches into the top left one).
	deed := filepath.Join("..", "assets", "demo", "deed.pdf")
	geo, _ := pdf.Page(deed, 1)
	boxes, _ := words(t, deed, 1, geo)
	free := 0
	for _, c := range corners {
		rect, word := pdf.CornerRect(c, geo.Width, geo.Height), false
		for _, b := range boxes {
			word = word || overlap(rect, b)
		}
		if !word {
			free++
		}
		if got := u.stampCovers(ctx, deed, &pdf.Appearance{Page: 1, Corner: c}); got != word {
			t.Errorf("corner %s of the deed: a word there %v, said to be covered %v", c, word, got)
		}
	}
	if free < 2 {
		t.Fatalf("only %d corners of the deed are free of words", free)
	}
}

// Before the PIN, the files whose page the stamp would cover are named:
// going back selects the first and asks no PIN; signing anyway signs.
func TestSignOverContentAsksFirst(t *testing.T) {
	testenv.Require(t, "qpdf")
	u, _ := readyToSign(t)
	acte, annexe := twoDocuments(t)
	s := u.signer
	geo, _ := pdf.Page(acte, 1)
	// Both pages 1 have the deed's title at the top left. (The place is
	// set before the files are shown: set after, it would not be looked
	// at until the next change.)
	s.custom = &[4]float64{60, geo.Height - 100, pdf.StampWidth, pdf.StampHeight}
	s.add(acte, annexe)
	u.tasks.Wait()
	s.visible.SetChecked(true)
	u.tasks.Wait()
	s.level.SetSelectedIndex(0) // B-B

	s.coverAsk, u.pinDialog = nil, nil
	ask := func() {
		t.Helper()
		s.coverAsk = nil
		test.Tap(s.signBtn)
		u.tasks.Wait()
		if s.coverAsk == nil {
			t.Fatalf("no question about the stamp over the text (shown %q)", u.shown)
		}
		if got := s.coverInfo.Text; got != "acte.pdf\nannexe.pdf" {
			t.Fatalf("the files named: %q", got)
		}
	}
	ask()
	s.coverAsk.Dismiss() // Move the signature
	u.tasks.Wait()
	if u.pinDialog != nil || s.selected != s.files[0] || !s.covers.Visible() {
		t.Fatalf("going back: PIN asked %v, selected %v, warned %v", u.pinDialog != nil, s.selected == s.files[0], s.covers.Visible())
	}
	s.choose(s.files[1])
	u.tasks.Wait()
	ask()
	s.coverAsk.Confirm() // Sign anyway
	if u.pinDialog == nil {
		t.Fatal("signing anyway asks no PIN")
	}
	if got := u.win.Canvas().Overlays().Top(); got == nil || !strings.Contains(texts(got), u.T("app.pin.label")) {
		t.Fatal("the PIN dialog is not in front")
	}
}
