package app

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"image"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"github.com/paraphe/paraphe/internal/testenv"
	"github.com/paraphe/paraphe/pdf"
)

// pdfSyntax writes a value of qpdf's JSON (version 2) in PDF syntax: names
// are "/Name", references "N G R", strings "u:…" (or "b:" and hex).
func pdfSyntax(v any) string {
	switch x := v.(type) {
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		var b strings.Builder
		b.WriteString("<<")
		for _, k := range keys {
			fmt.Fprintf(&b, " %s %s", k, pdfSyntax(x[k]))
		}
		return b.String() + " >>"
	case []any:
		parts := make([]string, len(x))
		for i, e := range x {
			parts[i] = pdfSyntax(e)
		}
		return "[" + strings.Join(parts, " ") + "]"
	case string:
		switch {
		case strings.HasPrefix(x, "u:"):
			return "<" + fmt.Sprintf("%x", x[2:]) + ">"
		case strings.HasPrefix(x, "b:"):
			return "<" + x[2:] + ">"
		}
		return x // a name, a reference
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	case bool:
		return strconv.FormatBool(x)
	case nil:
		return "null"
	}
	panic(fmt.Sprintf("pdfSyntax: %T", v))
}

// addSquare writes to out the PDF at in with one incremental update that
// puts a red square annotation, drawn, at rect (x, y, width, height) on
// page n: a change after whatever signed in.
func addSquare(t *testing.T, in, out string, n int, rect [4]float64) {
	t.Helper()
	testenv.Require(t, "qpdf")
	js, err := exec.Command("qpdf", "--json=2", "--json-key=pages", "--json-key=qpdf", in).Output()
	if err != nil {
		t.Fatalf("qpdf --json: %v", err)
	}
	var doc struct {
		Pages []struct {
			Object string `json:"object"`
		} `json:"pages"`
		QPDF []json.RawMessage `json:"qpdf"`
	}
	var objs map[string]struct {
		Value map[string]any `json:"value"`
	}
	if err := json.Unmarshal(js, &doc); err != nil || len(doc.QPDF) != 2 || len(doc.Pages) < n {
		t.Fatalf("qpdf --json: %v", err)
	}
	if err := json.Unmarshal(doc.QPDF[1], &objs); err != nil {
		t.Fatalf("qpdf --json: %v", err)
	}
	trailer := objs["trailer"].Value
	size := int(trailer["/Size"].(float64))
	page := objs["obj:"+doc.Pages[n-1].Object].Value
	annot, ap := size, size+1
	annots, _ := page["/Annots"].([]any)
	page["/Annots"] = append(annots, fmt.Sprintf("%d 0 R", annot))
	data, _ := os.ReadFile(in)
	prev := regexp.MustCompile(`startxref\s+(\d+)\s+%%EOF\s*$`).FindSubmatch(data)
	if prev == nil {
		t.Fatal("no startxref")
	}
	draw := fmt.Sprintf("1 0 0 rg 0 0 %g %g re f", rect[2], rect[3])
	bodies := map[int]string{
		pageNum(t, doc.Pages[n-1].Object): pdfSyntax(page),
		annot: fmt.Sprintf("<< /Type /Annot /Subtype /Square /Rect [%g %g %g %g] /C [1 0 0] /IC [1 0 0] /F 4 /AP << /N %d 0 R >> >>",
			rect[0], rect[1], rect[0]+rect[2], rect[1]+rect[3], ap),
		ap: fmt.Sprintf("<< /Type /XObject /Subtype /Form /BBox [0 0 %g %g] /Length %d >>\nstream\n%s\nendstream", rect[2], rect[3], len(draw), draw),
	}
	var b bytes.Buffer
	b.Write(data)
	offsets := map[int]int{}
	var nums []int
	for num, body := range bodies {
		nums = append(nums, num)
		offsets[num] = b.Len()
		fmt.Fprintf(&b, "%d 0 obj\n%s\nendobj\n", num, body)
	}
	sort.Ints(nums)
	xref := b.Len()
	b.WriteString("xref\n")
	for _, num := range nums {
		fmt.Fprintf(&b, "%d 1\n%010d 00000 n \n", num, offsets[num])
	}
	fmt.Fprintf(&b, "trailer\n<< /Size %d /Root %s /Prev %s >>\nstartxref\n%d\n%%%%EOF\n", ap+1, trailer["/Root"], prev[1], xref)
	if err := os.WriteFile(out, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	if code, _ := exec.Command("qpdf", "--check", out).CombinedOutput(); bytes.Contains(code, []byte("ERROR")) {
		t.Fatalf("qpdf --check: %s", code)
	}
}

func pageNum(t *testing.T, ref string) int {
	n, err := strconv.Atoi(strings.Fields(ref)[0])
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// Acceptance 3 of issue 18: a document signed visibly on page 1, changed
// afterwards (a red square drawn on page 1), then signed visibly on page 2.
// The Verify screen outlines both signatures on their pages; the first
// one's "as signed" view shows page 1 as that signature signed it, which
// differs from the current page 1 where the square is, and nowhere else.
func TestVerifyOutlinesAndAsSigned(t *testing.T) {
	twice, square := signedChangedSigned(t)
	u := newUI(t, "")
	u.win.SetContent(u.verifier.content)
	v := u.verifier
	v.open(twice)
	u.tasks.Wait()
	if v.report == nil || len(v.report.Signatures) != 2 {
		t.Fatalf("verified: %v", v.err)
	}
	first := firstSignature(v.report)
	for i, s := range v.report.Signatures {
		w, _ := visibleWidget(s)
		if o := v.outlines[i]; o == nil || o.page != w.Page-1 || o.rect != w.Rect {
			t.Fatalf("signature %d (page %d, %v) outlined as %+v", i+1, w.Page, w.Rect, o)
		}
	}
	if v.outlines[first].page != 0 || v.outlines[1-first].page != 1 {
		t.Fatalf("the first signature outlined on page %d, the second on page %d", v.outlines[first].page+1, v.outlines[1-first].page+1)
	}
	// Where qpdf, not the app's verifier, finds each signature's widget:
	// the outline is on that page at that place, over the view's page.
	widgets := testenv.QPDFSignatureWidgets(t, twice)
	for i, s := range v.report.Signatures {
		ws, o := widgets[s.Field], v.outlines[i]
		if len(ws) != 1 || ws[0].Page != o.page+1 || !near(ws[0].Rect, o.rect, 0.01) || !v.view.holds(o) {
			t.Fatalf("%s: qpdf finds it at %v, outlined on page %d at %v (on the page: %v)", s.Field, ws, o.page+1, o.rect, v.view.holds(o))
		}
	}
	showsEach(t, u)
	asSignedDiffersAt(t, u, first, square)
	v.hideAsSigned()
	if v.asSigned.doc != nil || len(v.docs.Objects) != 1 || v.docs.Objects[0] != v.view.content {
		t.Fatal("hidden, the document as signed stays")
	}
}

// showsEach taps each signature's Show button, in the order the screen
// lists them: the view scrolls to that signature's page and the outline,
// selected, lies in view.
func showsEach(t *testing.T, u *UI) {
	t.Helper()
	v := u.verifier
	var shows []*widget.Button
	walk(v.result, func(o fyne.CanvasObject) {
		if b, ok := o.(*widget.Button); ok && b.Text == u.T("app.verify.show") {
			shows = append(shows, b)
		}
	})
	if len(shows) != len(v.report.Signatures) {
		t.Fatalf("%d Show buttons for %d visible signatures", len(shows), len(v.report.Signatures))
	}
	d := fyne.CurrentApp().Driver()
	for _, i := range []int{1, 0} {
		test.Tap(shows[i])
		u.tasks.Wait()
		o := v.outlines[i]
		vp, at := d.AbsolutePositionForObject(v.view.scroll), d.AbsolutePositionForObject(o)
		if v.view.currentPage() != o.page || !o.selected || at.Y < vp.Y || at.Y+o.Size().Height > vp.Y+v.view.viewport.Height {
			t.Fatalf("Show signature %d: page %d in view, its outline (page %d, selected %v) at %v in a view from %v, %v high",
				i+1, v.view.currentPage()+1, o.page+1, o.selected, at, vp, v.view.viewport.Height)
		}
	}
}

// firstSignature is the index in rep of the signature made first.
func firstSignature(rep *pdf.Report) int {
	if rep.Signatures[1].ByteRange[2] < rep.Signatures[0].ByteRange[2] {
		return 1
	}
	return 0
}

// signedChangedSigned is the demo deed signed visibly on page 1, a red
// square then drawn on page 1 (where), then signed visibly on page 2.
func signedChangedSigned(t *testing.T) (file string, where [4]float64) {
	key, chain := selfSigned(t)
	dir := t.TempDir()
	in, once, changed, twice := filepath.Join(dir, "deed.pdf"), filepath.Join(dir, "once.pdf"), filepath.Join(dir, "changed.pdf"), filepath.Join(dir, "twice.pdf")
	deed, _ := os.ReadFile(filepath.Join("..", "assets", "demo", "deed.pdf"))
	os.WriteFile(in, deed, 0o644)
	sign := func(from, to string, page int, rect [4]float64) {
		s := &pdf.Signer{Key: key, Chain: chain, Opts: pdf.Options{Appearance: &pdf.Appearance{Page: page, Rect: rect}}}
		if _, err := s.SignFile(context.Background(), from, to); err != nil {
			t.Fatal(err)
		}
	}
	square := [4]float64{300, 400, 120, 80}
	sign(in, once, 1, [4]float64{60, 60, 210, 72})
	addSquare(t, once, changed, 1, square)
	sign(changed, twice, 2, [4]float64{320, 500, 210, 72})
	return twice, square
}

// asSignedDiffersAt shows the document as signature first signed it, and
// fails unless its page 1 differs from the current one at square only.
func asSignedDiffersAt(t *testing.T, u *UI, first int, square [4]float64) {
	t.Helper()
	v := u.verifier
	v.showAsSigned(first)
	u.tasks.Wait()
	then, now := v.asSigned, v.view
	if then.failed != nil || len(then.pages) != 2 || v.asSignedLines[first] == nil || v.asSignedLines[1-first] != nil {
		t.Fatalf("as signed: %v, %d pages, outlines %v", then.failed, len(then.pages), v.asSignedLines)
	}
	then.goTo(0)
	now.goTo(0)
	u.tasks.Wait()
	a, b := then.pages[0].image.Image, now.pages[0].image.Image
	if a == nil || b == nil || a.Bounds() != b.Bounds() {
		t.Fatalf("page 1 drawn %v as signed, %v now", a, b)
	}
	changedAt := differ(a, b)
	g := now.pages[0].geo
	r := g.RectToView(square)
	px := float64(b.Bounds().Dx()) / (g.Box[2] - g.Box[0]) // pixels a point
	where := image.Rect(int(r[0]*px), int(r[1]*px), int((r[0]+r[2])*px+1), int((r[1]+r[3])*px+1))
	if changedAt.Empty() || !changedAt.In(where.Inset(-2)) || changedAt.Dx() < where.Dx()/2 {
		t.Fatalf("as signed and now differ at %v; the square is at %v", changedAt, where)
	}
}
