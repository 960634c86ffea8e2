package app

import (
	"bytes"
	"image"
	"image/color"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"

	"github.com/paraphe/paraphe/ca"
	"github.com/paraphe/paraphe/internal/testenv"
	"github.com/paraphe/paraphe/pdf"
)

// readyToSign is the app with a holder activated from a CA of its own,
// on the signing screen.
func readyToSign(t *testing.T) (*UI, *testenv.CA) {
	t.Helper()
	c := testenv.StartCA(t, ca.InitOptions{})
	u := newUI(t, c.Policy)
	w := activate(t, u, c.Enroll(t), testenv.Answers)
	if w.key == nil {
		t.Fatalf("activation failed: %+v", w.failed)
	}
	test.Tap(w.primary) // "Sign a document"
	u.tasks.Wait()
	return u, c
}

// A batch with a damaged file (the demo deed cut in half): before the PIN
// is asked, a dialog names it and what is wrong with it. Left out, it is
// refused with what to do while the sound file is signed; confirmed, it is
// repaired and signed, and its row says what was rebuilt. The inputs never
// change.
func TestSignDamagedFileAsksFirst(t *testing.T) {
	u, _ := readyToSign(t)
	deed, err := os.ReadFile(filepath.Join("..", "assets", "demo", "deed.pdf"))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	sound, cut := filepath.Join(dir, "sound.pdf"), filepath.Join(dir, "cut.pdf")
	os.WriteFile(sound, deed, 0o644)
	os.WriteFile(cut, deed[:len(deed)/2], 0o644)
	s := u.signer
	s.add(cut, sound)
	s.level.SetSelectedIndex(0) // B-B

	sign := func(repair bool) {
		t.Helper()
		s.repair = nil
		test.Tap(s.signBtn)
		u.tasks.Wait()
		if s.repair == nil {
			t.Fatalf("no question about the damaged file (shown: %q)", u.shown)
		}
		if got := s.repairInfo.Text; !strings.Contains(got, "cut.pdf: its end is missing") || !strings.Contains(got, "only 1 of its 2 pages could be read") ||
			strings.Contains(got, "sound.pdf") {
			t.Fatalf("the damaged files listed: %q", got)
		}
		if repair {
			s.repair.Confirm()
		} else {
			s.repair.Dismiss()
		}
		test.Type(u.pinEntry, testPIN)
		u.pinDialog.Submit()
		u.tasks.Wait()
	}

	sign(false)
	damaged, ok := s.files[0], s.files[1]
	if !ok.ok || damaged.ok || !strings.Contains(damaged.status.Text, "is damaged: it was probably cut short") ||
		!strings.Contains(damaged.status.Text, "Repair and sign") {
		t.Fatalf("left out: sound %q, damaged %q", ok.status.Text, damaged.status.Text)
	}
	if _, err := os.Stat(filepath.Join(dir, "cut-signed.pdf")); err == nil {
		t.Fatal("the damaged file left out was signed")
	}

	s.files = s.files[:1]
	s.redraw()
	sign(true)
	if !damaged.ok || !strings.Contains(damaged.status.Text, "Repaired before signing: its end is missing") {
		t.Fatalf("repaired: %q", damaged.status.Text)
	}
	if _, err := os.Stat(damaged.out); err != nil {
		t.Fatal(err)
	}
	for p, want := range map[string][]byte{sound: deed, cut: deed[:len(deed)/2]} {
		if got, _ := os.ReadFile(p); !bytes.Equal(got, want) {
			t.Fatalf("%s changed", p)
		}
	}
}

// A batch with encrypted files: before the PIN, a dialog asks for each
// one's password, in turn, saying which password it needs (the one that
// opens it, or the owner password of one whose permissions forbid
// signing) and asking again, saying why, when the one typed is refused.
// Each is signed, and stays encrypted; a question cancelled leaves its file
// unsigned, with what to do. The inputs never change.
func TestSignEncryptedAsksPassword(t *testing.T) {
	testenv.Require(t, "qpdf", "pdfsig", "certutil")
	u, c := readyToSign(t)
	dir := t.TempDir()
	deed := filepath.Join("..", "assets", "demo", "deed.pdf")
	protect := func(name string, args ...string) string {
		p := filepath.Join(dir, name)
		if out, err := exec.Command("qpdf", append(append([]string{"--encrypt"}, args...), "--", deed, p)...).CombinedOutput(); err != nil {
			t.Fatalf("qpdf: %v\n%s", err, out)
		}
		return p
	}
	locked := protect("locked.pdf", "Utilisateur 1", "Propriétaire", "256")
	restricted := protect("restricted.pdf", "", "Propriétaire", "128", "--use-aes=y", "--modify=none")
	inputs := map[string][]byte{}
	for _, p := range []string{locked, restricted} {
		inputs[p], _ = os.ReadFile(p)
	}
	s := u.signer
	s.add(locked, restricted)
	s.level.SetSelectedIndex(0) // B-B

	answer := func(password string) {
		t.Helper()
		test.Type(s.passwordEntry, password)
		s.passwordDialog.Submit()
		u.tasks.Wait()
	}
	s.passwordDialog = nil
	test.Tap(s.signBtn)
	u.tasks.Wait()
	if s.passwordDialog == nil {
		t.Fatalf("no password asked (shown: %q)", u.shown)
	}
	first := s.passwordDialog
	answer("utilisateur 1")
	if s.passwordDialog == first || !s.passwordWhy.Visible() || !strings.Contains(s.passwordWhy.Text, "does not open the document") {
		t.Fatalf("a wrong password: asked again? %q", s.passwordWhy.Text)
	}
	answer("Utilisateur 1")
	// The restricted one: its user password (empty) opens it; another is
	// not its owner password.
	answer("Utilisateur 1")
	if !strings.Contains(s.passwordWhy.Text, "does not open the document") {
		t.Fatalf("not the owner password: %q", s.passwordWhy.Text)
	}
	answer("Propriétaire")
	test.Type(u.pinEntry, testPIN)
	u.pinDialog.Submit()
	u.tasks.Wait()

	db := testenv.NewNSSDB(t)
	db.Trust(t, c.Root)
	for _, f := range s.files {
		if !f.ok {
			t.Fatalf("%s: %q", f.in, f.status.Text)
		}
		if f.password != nil && len(bytes.Trim(f.password, "\x00")) > 0 {
			t.Errorf("%s: the password is kept after the batch", f.in)
		}
		user := ""
		if f.in == locked {
			user = "Utilisateur 1"
		}
		if out, err := exec.Command("qpdf", "--check", "--password="+user, f.out).CombinedOutput(); err != nil {
			t.Errorf("qpdf --check %s: %v\n%s", f.out, err, out)
		}
		if out, _ := exec.Command("pdfsig", "-nssdir", "sql:"+db.Dir, "-nss-pwd", db.Password, "-upw", user, f.out).CombinedOutput(); !strings.Contains(string(out), "Signature is Valid") ||
			!strings.Contains(string(out), "Certificate is Trusted") {
			t.Errorf("pdfsig %s:\n%s", f.out, out)
		}
	}
	if err := exec.Command("qpdf", "--requires-password", s.files[0].out).Run(); err != nil {
		t.Errorf("the signed copy of %s opens without its password", locked)
	}

	// Cancelled: not signed, and the row says what to do.
	for _, f := range s.files {
		os.Remove(f.out)
	}
	s.files = s.files[:1]
	s.redraw()
	test.Tap(s.signBtn)
	u.tasks.Wait()
	s.passwordDialog.Dismiss()
	u.tasks.Wait()
	test.Type(u.pinEntry, testPIN)
	u.pinDialog.Submit()
	u.tasks.Wait()
	if f := s.files[0]; f.ok || !strings.Contains(f.status.Text, "is protected by a password that opens it") ||
		!strings.Contains(f.status.Text, "Paraphe asks for its password when you sign it") {
		t.Fatalf("cancelled: %q", f.status.Text)
	}
	for p, want := range inputs {
		if got, _ := os.ReadFile(p); !bytes.Equal(got, want) {
			t.Fatalf("%s changed", p)
		}
	}
}

// A batch signed in the app: each signed copy has its input's read and
// write bits less the umask (learnt from a file made here), so that those
// who could open a document on a shared drive can open its signed copy.
func TestSignedCopiesTakeInputPermissions(t *testing.T) {
	u, _ := readyToSign(t)
	deed, err := os.ReadFile(filepath.Join("..", "assets", "demo", "deed.pdf"))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	probe := filepath.Join(dir, "probe")
	if err := os.WriteFile(probe, nil, 0o666); err != nil {
		t.Fatal(err)
	}
	fi, _ := os.Stat(probe)
	umask := 0o666 &^ fi.Mode().Perm()
	perms := map[string]os.FileMode{"shared.pdf": 0o666, "team.pdf": 0o644, "group.pdf": 0o640, "private.pdf": 0o600}
	s := u.signer
	for name, perm := range perms {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, deed, 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(p, perm); err != nil {
			t.Fatal(err)
		}
		s.add(p)
	}
	s.level.SetSelectedIndex(0) // B-B
	test.Tap(s.signBtn)
	u.tasks.Wait()
	test.Type(u.pinEntry, testPIN)
	u.pinDialog.Submit()
	u.tasks.Wait()
	for _, f := range s.files {
		if !f.ok {
			t.Fatalf("%s not signed: %q", f.in, f.status.Text)
		}
		fi, err := os.Stat(f.out)
		if err != nil {
			t.Fatal(err)
		}
		want := perms[filepath.Base(f.in)] &^ umask
		if got := fi.Mode().Perm(); got != want {
			t.Errorf("%s: %v from %v under umask %#o, want %v", filepath.Base(f.out), got, perms[filepath.Base(f.in)], umask, want)
		}
	}
}

// Acceptance 2 of issue 18: a three-page document (its third page turned
// by 270 degrees), the view taken to page 3 with End, the stamp put on
// that page with a tap and dragged with the mouse to its place, the
// document signed. In the signed copy, as qpdf reads it, the signature's
// widget is on page 3 at the place the stamp was left, its sides swapped
// (the stamp stands upright on the turned page); and poppler, reading
// page 3 as a reader shows it, finds the stamp's words upright inside the
// rectangle where the stamp was dropped on the screen (within 2 points),
// a reading that owes nothing to the app's own arithmetic.
func TestSignStampDraggedOnPage3(t *testing.T) {
	u, _ := readyToSign(t)
	doc := qpdfPages(t, filepath.Join("..", "assets", "demo", "deed.pdf"), "1-2", dssSample(t, "visualSignature__test_270.pdf"), "1")
	s := u.signer
	s.level.SetSelectedIndex(0) // B-B
	s.visible.SetChecked(true)
	s.add(doc)
	u.tasks.Wait()
	v := s.view
	if len(v.pages) != 3 || s.stamp == nil || s.stamp.page != 0 {
		t.Fatalf("the document is not shown with the stamp on page 1: %d pages", len(v.pages))
	}
	v.column.TypedKey(&fyne.KeyEvent{Name: fyne.KeyEnd})
	u.tasks.Wait()
	p3 := v.pages[2]
	if v.currentPage() != 2 || p3.image.Image == nil || p3.geo.Rotate != 270 {
		t.Fatalf("End: page %d in view, page 3 drawn %v, turned %d", v.currentPage()+1, p3.image.Image != nil, p3.geo.Rotate)
	}
	test.TapAt(p3, fyne.NewPos(p3.Size().Width/2, p3.Size().Height/2))
	u.tasks.Wait()
	if s.page.Text != "3" || s.stamp == nil || s.stamp.page != 2 {
		t.Fatalf("a tap on page 3: page %q, the stamp on %v", s.page.Text, s.stamp)
	}
	if sz := s.stamp.Size(); sz.Width <= sz.Height {
		t.Fatalf("on the turned page the stamp is shown %v: not upright", sz)
	}
	dropped := dragStampBy(t, u, 40, -30)
	test.Tap(s.signBtn)
	u.tasks.Wait()
	if s.coverAsk != nil {
		s.coverAsk.Confirm()
	}
	test.Type(u.pinEntry, testPIN)
	u.pinDialog.Submit()
	u.tasks.Wait()
	row := s.files[0]
	if !row.ok {
		t.Fatalf("not signed: %s", row.status.Text)
	}
	widgets := testenv.QPDFSignatureWidgets(t, row.out)
	if len(widgets) != 1 {
		t.Fatalf("signature fields in the signed copy: %v", widgets)
	}
	for name, ws := range widgets {
		r := *s.custom
		if len(ws) != 1 || ws[0].Page != 3 || !near(ws[0].Rect, r, 0.01) || r[2] != pdf.StampHeight || r[3] != pdf.StampWidth {
			t.Fatalf("%s: at %v, left on page 3 at %v (%v×%v points, turned)", name, ws, r, pdf.StampHeight, pdf.StampWidth)
		}
	}
	stampReadOnPage(t, row.out, 3, dropped, s.signerName())
}

// dragStampBy drags the Sign screen's stamp by dx, dy units, and says
// where it was left on its page as shown: x, y of its top left corner
// from the page's, width, height, in points, as the screen shows it.
func dragStampBy(t *testing.T, u *UI, dx, dy float32) [4]float64 {
	t.Helper()
	s := u.signer
	d := fyne.CurrentApp().Driver()
	before := s.stamp.rect
	test.Drag(u.win.Canvas(), d.AbsolutePositionForObject(s.stamp).AddXY(s.stamp.Size().Width/2, s.stamp.Size().Height/2), dx, dy)
	k := float64(s.view.k())
	mx, my := turns[270].move(float64(dx)/k, float64(dy)/k)
	if want := [4]float64{math.Round(before[0] + mx), math.Round(before[1] + my), before[2], before[3]}; s.custom == nil || !near(*s.custom, want, 1) {
		t.Fatalf("dragged from %v to %v, want %v", before, s.custom, want)
	}
	at := d.AbsolutePositionForObject(s.stamp).Subtract(d.AbsolutePositionForObject(s.view.pages[s.stamp.page]))
	sz := s.stamp.Size()
	return [4]float64{float64(at.X) / k, float64(at.Y) / k, float64(sz.Width) / k, float64(sz.Height) / k}
}

// stampReadOnPage fails unless poppler finds, on page n of file as shown,
// the words of a stamp signed by holder upright and inside rect (x, y,
// width, height in points from the page's top left corner), within 2
// points: the first line at its top left, the holder's name below it.
func stampReadOnPage(t *testing.T, file string, n int, rect [4]float64, holder string) {
	t.Helper()
	const tol = 2
	_, _, words := testenv.PopplerWords(t, file, n)
	names := strings.Fields(holder)
	var first, name *testenv.PopplerWord
	for i, w := range words {
		if w.XMin < rect[0]-tol || w.YMin < rect[1]-tol || w.XMax > rect[0]+rect[2]+tol || w.YMax > rect[1]+rect[3]+tol {
			continue // not the stamp's
		}
		if w.XMax-w.XMin <= w.YMax-w.YMin && len([]rune(w.Text)) > 2 {
			t.Errorf("page %d: %q is %.1f wide and %.1f tall as shown: not upright", n, w.Text, w.XMax-w.XMin, w.YMax-w.YMin)
		}
		if first == nil || w.YMin < first.YMin-1 || (w.YMin <= first.YMin+1 && w.XMin < first.XMin) {
			first = &words[i]
		}
		if w.Text == names[len(names)-1] {
			name = &words[i]
		}
	}
	if first == nil || name == nil {
		t.Fatalf("page %d: poppler finds no stamp of %s inside %v; its words: %v", n, holder, rect, words)
	}
	// The frame's padding is 4 points; a line's ascent a few more.
	if first.XMin > rect[0]+8 || first.YMin > rect[1]+10 || name.YMin < first.YMax-1 {
		t.Errorf("page %d: the stamp's first line %+v, its name %+v: not upright at the top left of %v", n, *first, *name, rect)
	}
}

// Item 3 of issue 18: the stamp is drawn over the page as it will look.
// Its picture on the screen, once drawn, is what poppler draws of the
// signed copy at the stamp's place (the same words, fonts, frame), within
// a mean difference stated below; the holder's name alone, which the
// stamp shows until then, would be far from it.
func TestSignStampDrawnAsItWillLook(t *testing.T) {
	testenv.Require(t, "pdftoppm")
	u, _ := readyToSign(t)
	dir := t.TempDir()
	deed := filepath.Join(dir, "deed.pdf")
	data, _ := os.ReadFile(filepath.Join("..", "assets", "demo", "deed.pdf"))
	os.WriteFile(deed, data, 0o644)
	s := u.signer
	s.level.SetSelectedIndex(0) // B-B
	s.visible.SetChecked(true)
	s.reason.SetText("Vente")
	s.add(deed)
	u.tasks.Wait()
	o := s.stamp
	if o == nil || o.picture == nil {
		t.Fatalf("the stamp is not drawn: %v", o)
	}
	small := o.picture.Bounds().Dx()
	s.view.setZoom(zoomFixed, 1.5) // drawn again, at its new size
	u.tasks.Wait()
	if o.picture.Bounds().Dx() <= small || s.stamp != o {
		t.Fatalf("zoomed to 150 %%, the stamp is drawn %d pixels wide (%d before)", o.picture.Bounds().Dx(), small)
	}
	pic, rect := o.picture, o.rect
	test.Tap(s.signBtn)
	u.tasks.Wait()
	test.Type(u.pinEntry, testPIN)
	u.pinDialog.Submit()
	u.tasks.Wait()
	if row := s.files[0]; !row.ok {
		t.Fatalf("not signed: %s", row.status.Text)
	}
	// Poppler's page 1 of the signed copy at the picture's pixels a point;
	// the deed's page is upright with its box at the origin: the stamp's
	// top left corner is (x, 842 − y − height) points from the page's.
	dpi := 72 * float64(pic.Bounds().Dx()) / rect[2]
	page := pdftoppmAt(t, pdf.OutputName(deed), 1, dpi)
	k := dpi / 72
	at := image.Pt(int(math.Round(rect[0]*k)), int(math.Round((842-rect[1]-rect[3])*k)))
	const maxDiff = 8 // grey levels out of 255, in blocks of 4×4 pixels
	d := onWhiteDiff(pic, page, at)
	if d > maxDiff {
		t.Fatalf("the stamp on the screen is %.1f grey levels from poppler's drawing of the signed stamp", d)
	}
	// The measure tells: a tenth of the stamp's height lower, it is off.
	if off := onWhiteDiff(pic, page, at.Add(image.Pt(0, pic.Bounds().Dy()/10))); off < 2*maxDiff {
		t.Fatalf("moved down, the stamp is still only %.1f grey levels off (%.1f in place)", off, d)
	}
	t.Logf("%.1f grey levels from poppler's drawing of the signed stamp (%d×%d pixels)", d, pic.Bounds().Dx(), pic.Bounds().Dy())
}

// onWhiteDiff is the mean difference of grey, in blocks of 4×4 pixels,
// between pic laid on white and page's pixels from at on.
func onWhiteDiff(pic, page image.Image, at image.Point) float64 {
	const block = 4
	grey := func(c color.Color) float64 {
		n := color.NRGBAModel.Convert(c).(color.NRGBA)
		on := func(v uint8) float64 { return 255 - float64(255-v)*float64(n.A)/255 }
		return 0.299*on(n.R) + 0.587*on(n.G) + 0.114*on(n.B)
	}
	b := pic.Bounds()
	var sum float64
	blocks := 0
	for by := b.Min.Y; by+block <= b.Max.Y; by += block {
		for bx := b.Min.X; bx+block <= b.Max.X; bx += block {
			var d float64
			for y := by; y < by+block; y++ {
				for x := bx; x < bx+block; x++ {
					d += grey(pic.At(x, y)) - grey(page.At(at.X+x-b.Min.X, at.Y+y-b.Min.Y))
				}
			}
			sum += math.Abs(d) / (block * block)
			blocks++
		}
	}
	return sum / float64(max(blocks, 1))
}
