package app

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"image"
	"image/draw"
	"image/png"
	"math"
	"math/big"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/driver/desktop"
	"fyne.io/fyne/v2/storage"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/theme"

	"github.com/paraphe/paraphe/internal/i18n"
	"github.com/paraphe/paraphe/internal/testenv"
	"github.com/paraphe/paraphe/pdf"
	"github.com/paraphe/paraphe/render"
)

var dssCorpus = filepath.Join("..", "..", "shared", "corpus", "dss-samples")

// dssSample is a file of DSS's test corpus; the test is skipped without
// the corpus.
func dssSample(t testing.TB, name string) string {
	t.Helper()
	path := filepath.Join(dssCorpus, name)
	if _, err := os.Stat(path); err != nil {
		t.Skip("the corpus is not here: ", err)
	}
	return path
}

// threePages is a PDF of three pages made by qpdf: the demo deed's two A4
// pages, then a page of DSS's corpus turned by 270 degrees whose boxes
// start at (100, 300).
func threePages(t testing.TB) string {
	t.Helper()
	turned := dssSample(t, "visualSignature__check__positive_coordinates_270_ROTATE_180.pdf")
	return qpdfPages(t, filepath.Join("..", "assets", "demo", "deed.pdf"), "1-2", turned, "1")
}

// qpdfPages puts pages of PDFs together with qpdf: qpdfPages(t, a, "1-2",
// b, "1").
func qpdfPages(t testing.TB, args ...string) string {
	t.Helper()
	testenv.Require(t, "qpdf")
	out := filepath.Join(t.TempDir(), "doc.pdf")
	cmd := exec.Command("qpdf", append(append([]string{"--empty", "--pages"}, args...), "--", out)...)
	if b, err := cmd.CombinedOutput(); err != nil {
		if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 3 { // 3: warnings
			t.Fatalf("qpdf: %v\n%s", err, b)
		}
	}
	return out
}

// viewing is the app with a document view filling its window, 800×900
// units on a screen of the given scale, showing the PDF at path.
func viewing(t *testing.T, path string, scale float32) (*UI, *docView) {
	t.Helper()
	u := newUI(t, "")
	v := newDocView(u)
	u.win.SetContent(v.content)
	u.win.Canvas().(test.WindowlessCanvas).SetScale(scale)
	u.win.Resize(fyne.NewSize(800, 900))
	v.openFile(path, nil)
	u.tasks.Wait()
	if v.failed != nil || len(v.pages) == 0 {
		t.Fatalf("%s not shown: %v (%q)", filepath.Base(path), v.failed, v.message.Text)
	}
	return u, v
}

// The view of a three-page document on a screen of scale 2: each page in
// view drawn at the screen's pixels (twice its size in units), the page
// field and the keys going from page to page, the zooms.
func TestDocViewNavigates(t *testing.T) {
	u, v := viewing(t, threePages(t), 2)
	if len(v.pages) != 3 || v.pageOf.Text != "of 3" || v.pageNum.Text != "1" {
		t.Fatalf("%d pages, %q %q", len(v.pages), v.pageNum.Text, v.pageOf.Text)
	}
	// Page width: the widest page (the turned one, 792 points) fills the
	// view, less its margins.
	if w := v.pages[2].size.Width; math.Abs(float64(w-(v.viewport.Width-2*pageGap))) > 0.5 {
		t.Errorf("fit to width: the widest page is %.1f units in a view of %.1f", w, v.viewport.Width)
	}
	sharp := func(i int) {
		t.Helper()
		p := v.pages[i]
		if p.image.Image == nil || !p.image.Visible() {
			t.Fatalf("page %d not drawn", i+1)
		}
		if got, want := p.image.Image.Bounds().Dx(), int(math.Round(float64(p.size.Width*2))); got != want {
			t.Errorf("page %d: a picture %d pixels wide for %.1f units at scale 2", i+1, got, p.size.Width)
		}
	}
	sharp(0)

	key := func(name fyne.KeyName, want string) {
		t.Helper()
		v.column.TypedKey(&fyne.KeyEvent{Name: name})
		u.tasks.Wait()
		if v.pageNum.Text != want {
			t.Fatalf("after %s: page %q, want %s", name, v.pageNum.Text, want)
		}
	}
	key(fyne.KeyEnd, "3")
	sharp(2)
	key(fyne.KeyHome, "1")
	key(fyne.KeyPageDown, "2")
	key(fyne.KeyPageUp, "1")
	// Return in the field (its OnSubmitted: fyne's test driver would run
	// the entry's own refresh beside the pages being drawn, which the real
	// driver never does).
	v.pageNum.SetText("3")
	v.pageNum.OnSubmitted(v.pageNum.Text)
	u.tasks.Wait()
	if v.currentPage() != 2 || v.scroll.Offset.Y < v.tops[1] {
		t.Fatalf("typing 3: page %d, scrolled to %.0f (page 3 starts at %.0f)", v.currentPage()+1, v.scroll.Offset.Y, v.tops[2])
	}

	shortcut := func(k fyne.KeyName) {
		v.column.TypedShortcut(&desktop.CustomShortcut{KeyName: k, Modifier: fyne.KeyModifierShortcutDefault})
		u.tasks.Wait()
	}
	shortcut(fyne.Key0)
	if w := v.pages[0].size.Width; math.Abs(float64(w)-595*unitsPerPoint) > 0.01 || v.zoomBtn.Text != "100%" {
		t.Errorf("Ctrl 0: page 1 is %.1f units wide, zoom %q; want 100%% (%.1f)", w, v.zoomBtn.Text, 595*unitsPerPoint)
	}
	shortcut(fyne.KeyEqual)
	if v.zoom != 1.1 || v.zoomBtn.Text != "110%" {
		t.Errorf("Ctrl +: zoom %.2f %q", v.zoom, v.zoomBtn.Text)
	}
	shortcut(fyne.KeyMinus)
	if !menuItem(t, v, "100%").Checked {
		t.Error("the zoom menu does not check the zoom in force")
	}
	menuItem(t, v, "Zoom out").Action()
	u.tasks.Wait()
	if v.zoom != 0.9 {
		t.Errorf("Ctrl − twice from 110 %%: %.2f", v.zoom)
	}
	if v.currentPage() != 2 {
		t.Errorf("zooming lost the page: %d", v.currentPage()+1)
	}
	sharp(2)
	menuItem(t, v, "Whole page").Action()
	u.tasks.Wait()
	if h := v.pages[0].size.Height; h > v.viewport.Height-2*pageGap+0.5 || v.zoomBtn.Text != "Whole page" {
		t.Errorf("whole page: page 1 is %.1f units high in a view of %.1f (%q)", h, v.viewport.Height, v.zoomBtn.Text)
	}
	// Ctrl 4 is the window's (the side menu's), from the view too.
	menu := 0
	u.win.Canvas().AddShortcut(&desktop.CustomShortcut{KeyName: fyne.Key4, Modifier: fyne.KeyModifierShortcutDefault}, func(fyne.Shortcut) { menu++ })
	shortcut(fyne.Key4)
	if menu != 1 {
		t.Errorf("Ctrl 4 from the view reached the window %d times", menu)
	}
	menuItem(t, v, "Page width").Action()
	u.tasks.Wait()
	if v.zoomBtn.Text != "Page width" {
		t.Errorf("the zoom button says %q", v.zoomBtn.Text)
	}
	if math.Abs(float64(v.pages[2].size.Width-(v.viewport.Width-2*pageGap))) > 0.5 {
		t.Errorf("page width chosen: %.1f", v.pages[2].size.Width)
	}
}

// menuItem is the zoom menu's entry label.
func menuItem(t *testing.T, v *docView, label string) *fyne.MenuItem {
	t.Helper()
	for _, it := range v.zoomMenu().Items {
		if it.Label == label {
			return it
		}
	}
	t.Fatalf("no %q in the zoom menu", label)
	return nil
}

// A drawing superseded before it is shown is never shown: the page asked
// at one width then at another shows the second.
func TestDocViewSupersededDrawing(t *testing.T) {
	u, v := viewing(t, threePages(t), 1)
	v.setZoom(zoomFixed, 0.5)
	v.setZoom(zoomFixed, 0.75)
	v.setZoom(zoomFixed, 1.5)
	u.tasks.Wait()
	p := v.pages[0]
	want := int(math.Round(float64(p.size.Width)))
	if p.width != want || p.image.Image.Bounds().Dx() != want {
		t.Fatalf("page 1 shows a picture %d pixels wide (%d recorded), want %d", p.image.Image.Bounds().Dx(), p.width, want)
	}
	for k := range v.cache.entries {
		if k.page == 0 && k.width != want {
			t.Errorf("a picture of page 1 for an earlier zoom is kept: %v", k)
		}
	}
}

// What cannot be shown says why, in the user's words: a password is
// needed, the password is wrong, the file is damaged.
func TestDocViewRefuses(t *testing.T) {
	u := newUI(t, "")
	v := newDocView(u)
	u.win.SetContent(v.content)
	for _, c := range []struct {
		file     string
		password []byte
		want     string
	}{
		{"protected__open_protected.pdf", nil, "app.view.needs_password"},
		{"protected__open_protected.pdf", []byte("wrong"), "app.view.wrong_password"},
		{"EmptyPage-corrupted.pdf", nil, "app.view.damaged"},
	} {
		v.openFile(dssSample(t, c.file), c.password)
		u.tasks.Wait()
		if v.failed == nil || v.message.Text != u.T(c.want) || v.scroll.Visible() {
			t.Errorf("%s: %v, says %q", c.file, v.failed, v.message.Text)
		}
	}
	// The password typed in the view opens the document.
	v.openFile(dssSample(t, "protected__open_protected.pdf"), nil)
	u.tasks.Wait()
	if !v.passBox.Visible() {
		t.Fatal("no password asked")
	}
	test.Type(v.passEntry, "nope")
	v.passEntry.OnSubmitted(v.passEntry.Text) // Return (see TestDocViewNavigates)
	u.tasks.Wait()
	if v.message.Text != u.T("app.view.wrong_password") || !v.passBox.Visible() || v.passEntry.Text != "" {
		t.Fatalf("a wrong password typed: %q", v.message.Text)
	}
	test.Type(v.passEntry, " ") // DSS's user password
	v.passEntry.OnSubmitted(v.passEntry.Text)
	u.tasks.Wait()
	if v.failed != nil || len(v.pages) != 1 || !v.scroll.Visible() || v.passBox.Visible() || v.pages[0].image.Image == nil || string(v.password) != " " {
		t.Fatalf("the right password: %v %q", v.failed, v.message.Text)
	}
	v.openFile(filepath.Join(t.TempDir(), "gone.pdf"), nil)
	if v.failed == nil || v.message.Text == "" || len(v.pages) != 0 {
		t.Fatalf("a missing file: %v %q", v.failed, v.message.Text)
	}
}

// turn is a rotation's effect on a move: where a move of the page as
// shown (dx to the right, dy down, in points) takes a rectangle's corner
// in user space, and how its size changes when its lower right corner (as
// shown) moves so. Written from ISO 32000's /Rotate (clockwise), not from
// the view's code.
type turn struct {
	move   func(dx, dy float64) (x, y float64)
	resize func(dx, dy float64) (x, y, w, h float64)
}

var turns = map[int]turn{
	0: {
		func(dx, dy float64) (float64, float64) { return dx, -dy },
		func(dx, dy float64) (float64, float64, float64, float64) { return 0, -dy, dx, dy },
	},
	90: { // user space's left edge at the top: x down, y to the right
		func(dx, dy float64) (float64, float64) { return dy, dx },
		func(dx, dy float64) (float64, float64, float64, float64) { return 0, 0, dy, dx },
	},
	180: {
		func(dx, dy float64) (float64, float64) { return -dx, dy },
		func(dx, dy float64) (float64, float64, float64, float64) { return -dx, 0, dx, dy },
	},
	270: { // user space's left edge at the bottom: x up, y to the left
		func(dx, dy float64) (float64, float64) { return -dy, -dx },
		func(dx, dy float64) (float64, float64, float64, float64) { return -dy, -dx, dy, dx },
	},
}

// The stamp dragged with the mouse, resized by its corner and moved with
// the arrow keys on page 1 (upright) and page 3 (turned by 270 degrees, its
// box away from the origin) of the three-page document: it reports its
// place in the page's user space, as ISO 32000 turns the page.
func TestDocViewStampDragged(t *testing.T) {
	u, v := viewing(t, threePages(t), 1)
	for _, c := range []struct {
		page int
		rot  int
		rect [4]float64 // where the stamp starts
	}{
		{0, 0, [4]float64{100, 500, 210, 72}},
		{2, 270, [4]float64{300, 600, 72, 210}},
	} {
		dragStamp(t, u, v, c.page, c.rot, c.rect)
	}
}

// The same on DSS's pages turned by 90 and 180 degrees, boxes at negative
// coordinates.
func TestDocViewStampDraggedTurned(t *testing.T) {
	for rot, file := range map[int]string{
		90:  "visualSignature__check__negative_coordinates_90_ROTATE_90.pdf",
		180: "visualSignature__check__negative_coordinates_180_ROTATE_90.pdf",
	} {
		u, v := viewing(t, dssSample(t, file), 1)
		if v.pages[0].geo.Rotate != rot {
			t.Fatalf("%s: turned by %d", file, v.pages[0].geo.Rotate)
		}
		dragStamp(t, u, v, 0, rot, [4]float64{0, -100, 72, 210})
	}
}

func dragStamp(t *testing.T, u *UI, v *docView, page, rot int, start [4]float64) {
	t.Helper()
	if v.pages[page].geo.Rotate != rot {
		t.Fatalf("page %d turned by %d, not %d", page+1, v.pages[page].geo.Rotate, rot)
	}
	var got [4]float64
	changes := 0
	o := newOverlay(overlayStamp, page, start, "")
	o.onChange = func(p int, r [4]float64) { got, changes = r, changes+1 }
	if !v.addOverlay(o) {
		t.Fatal("no page for the stamp")
	}
	v.scrollToOverlay(o)
	u.tasks.Wait()
	k := float64(v.k())
	c := u.win.Canvas()
	at := func(obj fyne.CanvasObject) fyne.Position {
		return fyne.CurrentApp().Driver().AbsolutePositionForObject(obj).AddXY(obj.Size().Width/2, obj.Size().Height/2)
	}
	// 60 units right and 30 down, then the corner 24 right and 12 down.
	const dx, dy, rw, rh = 60, 30, 24, 12
	test.Drag(c, at(o), dx, dy)
	mx, my := turns[rot].move(dx/k, dy/k)
	want := [4]float64{math.Round(start[0] + mx), math.Round(start[1] + my), start[2], start[3]}
	if changes != 1 || !near(got, want, 1) {
		t.Errorf("page %d (turned %d): dragged to %v (told %d times), want %v", page+1, rot, got, changes, want)
	}
	from := got
	test.Drag(c, at(o.handle), rw, rh)
	x, y, w, h := turns[rot].resize(rw/k, rh/k)
	want = [4]float64{from[0] + x, from[1] + y, from[2] + w, from[3] + h}
	if !near(got, want, 1) {
		t.Errorf("page %d (turned %d): resized to %v, want %v", page+1, rot, got, want)
	}
	// The keys: a point right, then ten down (Ctrl), then ten wider (Alt).
	from = got
	test.Tap(o)
	if c.Focused() != o {
		t.Fatalf("a tap on the stamp does not give it the keyboard: %v", c.Focused())
	}
	o.TypedKey(&fyne.KeyEvent{Name: fyne.KeyRight})
	o.TypedShortcut(&desktop.CustomShortcut{KeyName: fyne.KeyDown, Modifier: fyne.KeyModifierShortcutDefault})
	mx, my = turns[rot].move(1, 10)
	x, y, w, h = turns[rot].resize(10, 0)
	want = [4]float64{from[0] + mx + x, from[1] + my + y, from[2] + w, from[3] + h}
	o.TypedShortcut(&desktop.CustomShortcut{KeyName: fyne.KeyRight, Modifier: fyne.KeyModifierAlt})
	if !near(got, want, 0) {
		t.Errorf("page %d (turned %d): moved by the keys to %v, want %v", page+1, rot, got, want)
	}
	// Dragged far off the page, it stays on it.
	test.Drag(c, at(o), -5000, 5000)
	box := v.pages[page].geo.Box
	if got[0] < box[0] || got[1] < box[1] || got[0]+got[2] > box[2]+0.5 || got[1]+got[3] > box[3]+0.5 {
		t.Errorf("page %d: dragged off the page to %v (its box %v)", page+1, got, box)
	}
	v.removeOverlay(o)
}

func near(a, b [4]float64, tol float64) bool {
	for i := range a {
		if math.Abs(a[i]-b[i]) > tol {
			return false
		}
	}
	return true
}

// Each visible signature of DSS's samples (pages turned every way, boxes
// at negative and far coordinates) is outlined where poppler draws it:
// what pdftoppm draws with the annotations and not without them lies
// inside the outline the view puts over the page.
func TestDocViewOutlinesWherePopplerDraws(t *testing.T) {
	testenv.Require(t, "pdftoppm")
	files, _ := filepath.Glob(filepath.Join(dssCorpus, "visualSignature__check__*.pdf"))
	if len(files) == 0 {
		t.Skip("the corpus is not here")
	}
	if testing.Short() { // one in twelve
		for i := range (len(files) + 11) / 12 {
			files[i] = files[i*12]
		}
		files = files[:(len(files)+11)/12]
	}
	u := newUI(t, "")
	v := newDocView(u)
	u.win.SetContent(v.content)
	u.win.Resize(fyne.NewSize(500, 500))
	turned := map[int]int{}
	for _, path := range files {
		fields, err := pdf.Fields(path)
		if err != nil {
			t.Fatalf("%s: %v", filepath.Base(path), err)
		}
		v.openFile(path, nil)
		u.tasks.Wait()
		for _, f := range fields {
			for _, w := range f.Widgets {
				if w.Page < 1 || w.Rect[2] == 0 || !f.Signed {
					continue
				}
				o := newOverlay(overlayOutline, w.Page-1, w.Rect, f.Name)
				v.addOverlay(o)
				outlinedWherePopplerDraws(t, path, v, o)
				turned[v.pages[o.page].geo.Rotate]++
			}
		}
	}
	t.Logf("signatures checked on pages turned by 0, 90, 180, 270 degrees: %v", turned)
	for _, r := range []int{0, 90, 180, 270} {
		if turned[r] == 0 && !testing.Short() {
			t.Errorf("no signature checked on a page turned by %d degrees", r)
		}
	}
}

// outlinedWherePopplerDraws compares overlay o, as laid out on its page,
// with what poppler draws of the annotations at the size of the page's
// picture.
func outlinedWherePopplerDraws(t *testing.T, path string, v *docView, o *overlay) {
	t.Helper()
	p := v.pages[o.page]
	if p.image.Image == nil {
		t.Fatalf("%s: page %d not drawn", filepath.Base(path), o.page+1)
	}
	b := p.image.Image.Bounds()
	px := float32(b.Dx()) / p.size.Width // pixels a unit
	pos, size := o.Position(), o.Size()
	outline := image.Rect(int(pos.X*px), int(pos.Y*px), int((pos.X+size.Width)*px+0.5), int((pos.Y+size.Height)*px+0.5))
	w, _ := p.geo.Size()
	dpi := 72 * float64(b.Dx()) / w
	with := pdftoppmAt(t, path, o.page+1, dpi)
	without := pdftoppmAt(t, path, o.page+1, dpi, "-hide-annotations")
	if d := with.Bounds().Size().Sub(b.Size()); d.X < -1 || d.X > 1 || d.Y < -1 || d.Y > 1 {
		t.Fatalf("%s: poppler's picture is %v, the view's %v", filepath.Base(path), with.Bounds(), b)
	}
	drawn := differ(with, without)
	name := fmt.Sprintf("%s page %d (turned %d)", filepath.Base(path), o.page+1, p.geo.Rotate)
	if drawn.Empty() {
		t.Errorf("%s: poppler draws no annotation", name)
		return
	}
	if !drawn.In(outline.Inset(-2)) {
		t.Errorf("%s: the signature's appearance is at %v, the outline at %v", name, drawn, outline)
	}
}

// pdftoppmAt is poppler's picture of a page at dpi.
func pdftoppmAt(t *testing.T, path string, page int, dpi float64, args ...string) image.Image {
	t.Helper()
	out := filepath.Join(t.TempDir(), "p")
	args = append(args, "-png", "-singlefile", "-f", fmt.Sprint(page), "-l", fmt.Sprint(page),
		"-r", fmt.Sprintf("%.4f", dpi), path, out)
	if b, err := exec.Command("pdftoppm", args...).CombinedOutput(); err != nil {
		t.Fatalf("pdftoppm: %v\n%s", err, b)
	}
	f, err := os.Open(out + ".png")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatal(err)
	}
	return img
}

// differ is the smallest rectangle holding the pixels where a and b differ
// clearly (anti-aliasing aside).
func differ(a, b image.Image) image.Rectangle {
	ra, rb := toRGBA(a), toRGBA(b)
	var r image.Rectangle
	bounds := ra.Bounds().Intersect(rb.Bounds())
	for y := bounds.Min.Y; y < bounds.Max.Y; y++ {
		pa, pb := ra.Pix[ra.PixOffset(bounds.Min.X, y):], rb.Pix[rb.PixOffset(bounds.Min.X, y):]
		for x := 0; x < bounds.Dx(); x++ {
			var d uint32
			for c := 0; c < 3; c++ {
				d += absDiff(uint32(pa[4*x+c]), uint32(pb[4*x+c]))
			}
			if d > 3*0x20 {
				r = r.Union(image.Rect(bounds.Min.X+x, y, bounds.Min.X+x+1, y+1))
			}
		}
	}
	return r
}

func toRGBA(img image.Image) *image.RGBA {
	if r, ok := img.(*image.RGBA); ok {
		return r
	}
	r := image.NewRGBA(img.Bounds())
	draw.Draw(r, r.Bounds(), img, img.Bounds().Min, draw.Src)
	return r
}

func absDiff(a, b uint32) uint32 {
	if a > b {
		return a - b
	}
	return b - a
}

// TestDocViewScreenshots draws the document view at 960×680, in English
// and in French, as fyne's software painter paints it, into the folder
// $PARAPHE_SCREENSHOTS/LANG (docs/screenshots/en, fr; make screenshots):
// skipped without it. docview.png is a stamp and a field on a page,
// docview-turned.png signatures outlined on a turned page,
// docview-password.png an encrypted document asking its password, and
// docview-verify.png the Verify screen with a signature's document as it
// signed it above the current one.
func TestDocViewScreenshots(t *testing.T) {
	out := os.Getenv("PARAPHE_SCREENSHOTS")
	if out == "" {
		t.Skip("PARAPHE_SCREENSHOTS names no folder")
	}
	for _, lang := range []string{"en", "fr"} {
		dir := filepath.Join(out, lang)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		u, v := shotView(t, lang, dssSample(t, "PDF.pdf"))
		stamp := newOverlay(overlayStamp, 0, [4]float64{340, 560, 210, 72}, "Marie Dupont")
		v.addOverlay(stamp)
		field := newOverlay(overlayField, 1, [4]float64{60, 700, 200, 60}, "Notaire")
		v.addOverlay(field)
		v.setZoom(zoomFixed, 0.75)
		v.goTo(0)
		v.scrollBy(0, 80)
		u.tasks.Wait()
		test.Tap(stamp) // the stamp has the keyboard: its outline thickens
		capture(t, u, filepath.Join(dir, "docview.png"))

		u, v = shotView(t, lang, dssSample(t, "visualSignature__check__negative_coordinates_90_ROTATE_90.pdf"))
		fields, _ := pdf.Fields(dssSample(t, "visualSignature__check__negative_coordinates_90_ROTATE_90.pdf"))
		for _, f := range fields {
			if f.Signed && len(f.Widgets) > 0 {
				o := newOverlay(overlayOutline, f.Widgets[0].Page-1, f.Widgets[0].Rect, f.Name)
				o.setSelected(true)
				v.addOverlay(o)
			}
		}
		v.setZoom(zoomFitPage, 1)
		u.tasks.Wait()
		capture(t, u, filepath.Join(dir, "docview-turned.png"))

		u, _ = shotView(t, lang, dssSample(t, "protected__open_protected.pdf"))
		capture(t, u, filepath.Join(dir, "docview-password.png"))

		// The Verify screen, the first signature's document as it signed it
		// over the current one.
		file, square := signedChangedSigned(t)
		u, _ = shotView(t, lang, file)
		u.win.SetContent(u.verifier.content)
		u.verifier.relabel()
		u.verifier.open(file)
		u.tasks.Wait()
		asSignedDiffersAt(t, u, firstSignature(u.verifier.report), square)
		for _, view := range []*docView{u.verifier.asSigned, u.verifier.view} {
			// Where the square is, on both.
			g := view.pages[0].geo
			r := g.RectToView(square)
			view.scrollBy(0, view.tops[0]+float32(r[1]+r[3]/2)*view.k()-view.viewport.Height/2-view.scroll.Offset.Y)
		}
		u.tasks.Wait()
		capture(t, u, filepath.Join(dir, "docview-verify.png"))
	}
}

// shotView is a view of path in the app's light theme, in lang, 960×680.
func shotView(t *testing.T, lang, path string) (*UI, *docView) {
	t.Helper()
	u := newUI(t, "")
	if lang != "en" {
		u.p = i18n.NewVariant(lang, "gui")
	}
	u.app.Settings().SetTheme(theme.LightTheme())
	v := newDocView(u)
	u.win.SetContent(v.content)
	u.win.Resize(fyne.NewSize(960, 680))
	v.openFile(path, nil)
	u.tasks.Wait()
	return u, v
}

func capture(t *testing.T, u *UI, path string) {
	t.Helper()
	// Laid out again, twice: a label that wraps knows its height once
	// laid out (as TestScreenshots does).
	size := u.win.Canvas().Size()
	u.win.Resize(size.Subtract(fyne.NewSquareSize(1)))
	u.win.Resize(size)
	u.tasks.Wait()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := png.Encode(f, u.win.Canvas().Capture()); err != nil {
		t.Fatal(err)
	}
	t.Log(path)
}

// selfSigned is a key and a certificate of its own for signing test
// documents (nothing here judges their trust).
func selfSigned(t *testing.T) (crypto.Signer, []*x509.Certificate) {
	t.Helper()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "Marie Dupont"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), KeyUsage: x509.KeyUsageDigitalSignature}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	return key, []*x509.Certificate{cert}
}

// The document as its first signature signed it, read in place from the
// file signed twice since, shows the page without the second stamp: the
// two views of page 1 differ where the second signature's field is, and
// nowhere else.
func TestDocViewAsSigned(t *testing.T) {
	key, chain := selfSigned(t)
	dir := t.TempDir()
	in := filepath.Join(dir, "deed.pdf")
	deed, _ := os.ReadFile(filepath.Join("..", "assets", "demo", "deed.pdf"))
	os.WriteFile(in, deed, 0o644)
	once, twice := filepath.Join(dir, "once.pdf"), filepath.Join(dir, "twice.pdf")
	for _, step := range []struct {
		in, out string
		rect    [4]float64
	}{{in, once, [4]float64{60, 60, 210, 72}}, {once, twice, [4]float64{320, 500, 210, 72}}} {
		s := &pdf.Signer{Key: key, Chain: chain, Opts: pdf.Options{Appearance: &pdf.Appearance{Page: 1, Rect: step.rect}}}
		if _, err := s.SignFile(context.Background(), step.in, step.out); err != nil {
			t.Fatal(err)
		}
	}
	rep, err := pdf.Verify(context.Background(), twice, pdf.VerifyOptions{})
	if err != nil || len(rep.Signatures) != 2 {
		t.Fatalf("verify: %v", err)
	}
	u, now := viewing(t, twice, 1)
	first, second := rep.Signatures[0], rep.Signatures[1]
	if first.ByteRange[2] > second.ByteRange[2] {
		first, second = second, first
	}
	f, err := os.Open(twice)
	if err != nil {
		t.Fatal(err)
	}
	rev, ok := first.SignedRevision(f)
	if !ok {
		t.Fatal("no signed revision")
	}
	then := newDocView(u)
	u.win.SetContent(container.NewGridWithColumns(2, then.content, now.content))
	then.open(rev, rev.Size(), nil, f)
	u.tasks.Wait()
	if then.failed != nil || len(then.pages) != 2 {
		t.Fatalf("as signed: %v, %d pages", then.failed, len(then.pages))
	}
	a, b := then.pages[0].image.Image, now.pages[0].image.Image
	if a == nil || b == nil || a.Bounds() != b.Bounds() {
		t.Fatalf("page 1 drawn %v as signed, %v now", a, b)
	}
	changed := differ(a, b)
	field := now.pages[0].geo.RectToView(second.Widgets[0].Rect)
	px := float64(b.Bounds().Dx()) / now.pages[0].geo.Box[2] // pixels a point
	where := image.Rect(int(field[0]*px), int(field[1]*px), int((field[0]+field[2])*px+1), int((field[1]+field[3])*px+1))
	if changed.Empty() || !changed.In(where.Inset(-2)) {
		t.Fatalf("as signed and now differ at %v; the second signature's field is at %v", changed, where)
	}
}

// A tap on an empty field's overlay chooses it; a tap on the page says
// where, in its user space, through its rotation.
func TestDocViewTaps(t *testing.T) {
	u, v := viewing(t, threePages(t), 1)
	chosen := 0
	field := newOverlay(overlayField, 2, [4]float64{400, 700, 72, 150}, "Notaire")
	field.onTap = func() { chosen++ }
	v.addOverlay(field)
	v.scrollToOverlay(field)
	u.tasks.Wait()
	vp := fyne.CurrentApp().Driver().AbsolutePositionForObject(v.scroll)
	at := fyne.CurrentApp().Driver().AbsolutePositionForObject(field)
	if at.Y < vp.Y || at.Y+field.Size().Height > vp.Y+v.viewport.Height || v.currentPage() != 2 {
		t.Fatalf("scrolled to the field: it is at %v in a view from %v, %v high", at, vp, v.viewport.Height)
	}
	test.TapCanvas(u.win.Canvas(), at.AddXY(5, 5))
	if chosen != 1 {
		t.Fatalf("the field tapped %d times", chosen)
	}
	// Zoomed in, the field brought into view stays in view.
	v.setZoom(zoomFixed, 2)
	u.tasks.Wait()
	at = fyne.CurrentApp().Driver().AbsolutePositionForObject(field)
	if at.Y < vp.Y || at.Y+field.Size().Height > vp.Y+v.viewport.Height || at.X < vp.X || at.X > vp.X+v.viewport.Width {
		t.Fatalf("zoomed to 200 %%, the field is at %v in a view from %v, %v", at, vp, v.viewport)
	}
	var page int
	var x, y float64
	v.onTapPage = func(p int, px, py float64) { page, x, y = p, px, py }
	// Page 3 is turned by 270 degrees, its box from (100, 300) to
	// (712, 1092): 100 points from its top and 200 from its left edge as
	// shown is x = 100 + 612 − 100, y = 300 + 792 − 200.
	p := v.pages[2]
	k := v.k()
	test.TapAt(p, fyne.NewPos(200*k, 100*k))
	if page != 2 || math.Abs(x-612) > 0.5 || math.Abs(y-892) > 0.5 {
		t.Fatalf("tapped page %d at (%.1f, %.1f), want page 3 at (612, 892)", page+1, x, y)
	}
}

// Closing the app closes the files its views read.
func TestDocViewFilesClosed(t *testing.T) {
	u, v := viewing(t, threePages(t), 1)
	f := v.closer.(*os.File)
	locked := newDocView(u)
	locked.openFile(dssSample(t, "protected__open_protected.pdf"), nil)
	u.tasks.Wait()
	g := locked.locked.closer.(*os.File)
	u.Close()
	for _, file := range []*os.File{f, g} {
		if _, err := file.Stat(); !errors.Is(err, os.ErrClosed) {
			t.Errorf("%s still open after Close: %v", file.Name(), err)
		}
	}
}

// The app closed, still starting PDFium or not, keeps no renderer: a
// start under way closes what it started, and views asking for it are
// told it is closed.
func TestPDFiumClosedWithTheApp(t *testing.T) {
	u := newUI(t, "")
	u.Close()
	awaiting(u, func() { <-u.pdfiumStart.done })
	if _, err := u.pdfium(context.Background()); !errors.Is(err, render.ErrClosed) || u.pdfiumStart.r != nil {
		t.Fatalf("after Close: %v, renderer %v", err, u.pdfiumStart.r)
	}
}

// Item 5 of issue 18: a PDF dropped on the window, whatever screen is in
// front, opens in a document view: on the Verify screen it is verified and
// shown there, elsewhere it goes to the Sign screen, shown whether the
// signature is visible or not; the window's title names the document in
// front. What is not a file is ignored. And the app opened with files
// ("paraphe FILE.pdf", cmd/paraphe's gui-open.txtar) shows the first.
func TestDroppedPDFOpensInTheView(t *testing.T) {
	u := newUI(t, "")
	deed, _ := filepath.Abs(filepath.Join("..", "assets", "demo", "deed.pdf"))
	turned, _ := filepath.Abs(dssSample(t, "visualSignature__check__negative_coordinates_90_ROTATE_90.pdf"))
	drop := func(paths ...string) {
		var uris []fyne.URI
		for _, p := range paths {
			uris = append(uris, storage.NewFileURI(p))
		}
		u.dropped(fyne.NewPos(10, 10), uris)
		u.tasks.Wait()
	}
	shows := func(v *docView, name string, pages int) {
		t.Helper()
		if v.failed != nil || len(v.pages) != pages || v.pages[v.currentPage()].image.Image == nil {
			t.Fatalf("%s: the view shows %d pages (want %d), failed %v", name, len(v.pages), pages, v.failed)
		}
		if want := name + " — Paraphe"; u.win.Title() != want {
			t.Fatalf("window titled %q, want %q", u.win.Title(), want)
		}
	}
	if u.win.Title() != "Paraphe" {
		t.Fatalf("window titled %q before any document", u.win.Title())
	}
	u.tabs.SelectIndex(4) // Settings
	u.signer.visible.SetChecked(false)
	drop(deed)
	if u.tabs.Selected().Content != u.signer.content || len(u.signer.files) != 1 || u.signer.stamp != nil {
		t.Fatalf("dropped on Settings: screen %v, %d files to sign, stamp %v", u.tabs.Selected().Text, len(u.signer.files), u.signer.stamp)
	}
	shows(u.signer.view, "deed.pdf", 2)

	u.tabs.SelectIndex(2) // Verify
	if u.win.Title() != "Paraphe" {
		t.Fatalf("on Verify with no document, the window is titled %q", u.win.Title())
	}
	drop(turned)
	if u.verifier.path != turned || u.verifier.report == nil || len(u.signer.files) != 1 {
		t.Fatalf("dropped on Verify: verifying %q (%v), %d files to sign", u.verifier.path, u.verifier.err, len(u.signer.files))
	}
	shows(u.verifier.view, filepath.Base(turned), 1)
	u.tabs.SelectIndex(1)
	shows(u.signer.view, "deed.pdf", 2)

	u.dropped(fyne.NewPos(0, 0), []fyne.URI{storage.NewURI("https://example.org/a.pdf")})
	u.tasks.Wait()
	if len(u.signer.files) != 1 {
		t.Fatalf("a web address dropped: %d files to sign", len(u.signer.files))
	}

	// Opened with files, as paraphe FILE.pdf does: the Sign screen, the
	// first one shown.
	o := New(test.NewTempApp(t), Options{Version: "test", Files: []string{deed}})
	drive(o)
	t.Cleanup(o.Close)
	o.tasks.Wait()
	u = o
	if o.tabs.Selected().Content != o.signer.content || len(o.signer.files) != 1 {
		t.Fatalf("opened with a file: screen %q, %d files", o.tabs.Selected().Text, len(o.signer.files))
	}
	shows(o.signer.view, "deed.pdf", 2)
}
