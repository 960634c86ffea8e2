package pdf

import (
	"bytes"
	"context"
	"errors"
	"image"
	"image/color"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/paraphe/paraphe/internal/testenv"
)

// pngSeal is a small round seal with transparency.
func pngSeal() []byte {
	img := image.NewNRGBA(image.Rect(0, 0, 40, 40))
	for y := range 40 {
		for x := range 40 {
			if (x-20)*(x-20)+(y-20)*(y-20) < 360 {
				img.Set(x, y, color.NRGBA{180, 20, 30, 255})
			}
		}
	}
	var b bytes.Buffer
	png.Encode(&b, img)
	return b.Bytes()
}

func TestVisibleSignature(t *testing.T) {
	testenv.Require(t, "pdftoppm", "pdftotext")
	p := newPKI(t)
	app := &Appearance{Page: 2, Rect: [4]float64{330, 60, 220, 80}, Image: pngSeal(), Zone: time.UTC,
		Labels: Labels{SignedBy: "Signé numériquement par", Member: "N° d'inscription", Date: "Date", Location: "Lieu", DateLayout: "02/01/2006 15:04 MST"}}
	_, out := signBytes(t, p, makePDF(2, false), Options{Appearance: app, Location: "Saint-Étienne"})

	if r := pdfsig(t, nssDB(t, p.root), out); !strings.Contains(r, "Signature is Valid") || !strings.Contains(r, "Total document signed") {
		t.Fatalf("pdfsig:\n%s", r)
	}
	if code, text := qpdfCheck(t, out); code != 0 {
		t.Fatalf("qpdf --check %d:\n%s", code, text)
	}
	text, err := exec.Command("pdftotext", "-f", "2", "-l", "2", out, "-").CombinedOutput()
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"Marie Dupont", "75-1234", "Notaire", "Saint-Étienne", "Signé numériquement par"} {
		if !strings.Contains(string(text), want) {
			t.Errorf("pdftotext does not find %q in:\n%s", want, text)
		}
	}
	// The stamp area of the rendered page is not blank (72 dpi: 1 px = 1 pt).
	dir := t.TempDir()
	if out, err := exec.Command("pdftoppm", "-f", "2", "-l", "2", "-r", "72", "-png", out, filepath.Join(dir, "page")).CombinedOutput(); err != nil {
		t.Fatalf("pdftoppm: %v\n%s", err, out)
	}
	names, _ := filepath.Glob(filepath.Join(dir, "page*.png"))
	if len(names) != 1 {
		t.Fatalf("rendered pages: %v", names)
	}
	f, _ := os.Open(names[0])
	img, err := png.Decode(f)
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	pageH := img.Bounds().Dy()
	inked := func(x0, y0, w, h int) int {
		n := 0
		for y := pageH - y0 - h; y < pageH-y0; y++ {
			for x := x0; x < x0+w; x++ {
				r, g, b, _ := img.At(x, y).RGBA()
				if r < 0xc000 || g < 0xc000 || b < 0xc000 {
					n++
				}
			}
		}
		return n
	}
	if n := inked(332, 62, 216, 76); n < 500 {
		t.Fatalf("the stamp area has only %d inked pixels", n)
	}
	if n := inked(332, 62, 40, 76); n < 200 {
		t.Fatalf("the seal is not drawn (%d inked pixels)", n)
	}
	// The subset font keeps the file small.
	in := mustRead(t, strings.Replace(out, "-signed", "", 1))
	if grown := len(mustRead(t, out)) - len(in); grown > 60000 {
		t.Fatalf("a visible signature adds %d bytes", grown)
	}
}

func TestVisibleInExistingField(t *testing.T) {
	p := newPKI(t)
	in := withEmptyField(t)
	_, out := signBytes(t, p, in, Options{Appearance: &Appearance{Field: "Notaire"}})
	rep, err := Verify(context.Background(), out, VerifyOptions{Anchors: anchorsOf(p.root.Raw)})
	if err != nil || len(rep.Signatures) != 1 || rep.Signatures[0].Field != "Notaire" || !rep.Signatures[0].Valid() {
		t.Fatalf("%v %+v", err, rep)
	}
	if r := pdfsig(t, nssDB(t, p.root), out); !strings.Contains(r, "Signature Field Name: Notaire") || !strings.Contains(r, "Signature is Valid") {
		t.Fatalf("pdfsig:\n%s", r)
	}
	if _, err := (&Signer{Key: p.key, Chain: p.chain(), Opts: Options{Appearance: &Appearance{Field: "Nobody"}}}).SignFile(context.Background(), out, out+".2.pdf"); !errorsIs(err, ErrUnknownField) {
		t.Fatalf("unknown field: %v", err)
	}
}

// withEmptyField is a one-page document with an empty signature field
// "Notaire" on its page.
func withEmptyField(t *testing.T) []byte {
	base := string(makePDF(1, false))
	field := "<< /FT /Sig /T (Notaire) /Type /Annot /Subtype /Widget /Rect [300 50 520 120] /P 7 0 R /F 4 >>"
	base = strings.Replace(base, "<< /FT /Tx /T (Client) /V (Dupont SA) /Rect [50 700 300 720] /Type /Annot /Subtype /Widget /P 7 0 R /F 4 >>", field, 1)
	base = strings.Replace(base, "/Type /Catalog /Pages 2 0 R", "/Type /Catalog /Pages 2 0 R /AcroForm << /Fields [6 0 R] >>", 1)
	base = strings.Replace(base, "/Resources << /Font << /F1 5 0 R >> >> >>", "/Resources << /Font << /F1 5 0 R >> >> /Annots [6 0 R] >>", 1)
	return fixXref(t, []byte(base))
}

// fixXref rewrites the offsets of a hand-edited classic file through qpdf.
func fixXref(t *testing.T, in []byte) []byte {
	return qpdfTransform(t, in, "--object-streams=disable")
}

// A stamp placed by corner lands 30 points from the page's edges (A4 here),
// each corner where it says, and the document still passes qpdf.
func TestStampCorners(t *testing.T) {
	p := newPKI(t)
	in := makePDF(1, false)
	want := map[Corner]string{
		CornerBottomRight: "/Rect [355 36 565 108]",
		CornerBottomLeft:  "/Rect [30 36 240 108]",
		CornerTopRight:    "/Rect [355 734 565 806]",
		CornerTopLeft:     "/Rect [30 734 240 806]",
		"":                "/Rect [355 36 565 108]",
	}
	for corner, rect := range want {
		t.Run(string(corner), func(t *testing.T) {
			_, out := signBytes(t, p, in, Options{Appearance: &Appearance{Corner: corner, Zone: time.UTC}})
			data, _ := os.ReadFile(out)
			if !bytes.Contains(data, []byte(rect)) {
				t.Fatalf("no %s in the signed file", rect)
			}
			if code, msg := qpdfCheck(t, out); code != 0 {
				t.Fatalf("qpdf --check %d: %s", code, msg)
			}
		})
	}
}

func TestPageGeometry(t *testing.T) {
	path := writeTemp(t, makePDF(3, false))
	g, err := Page(path, 2)
	if err != nil || g != (PageGeometry{Width: 595, Height: 842, Pages: 3, Box: [4]float64{0, 0, 595, 842}}) {
		t.Fatalf("page 2: %+v %v", g, err)
	}
	// DSS's page turned by 90 degrees, its box (qpdf reads) from
	// (-100, -300) to (512, 492): shown 792×612. Turned clockwise, user
	// space's x grows downward and y to the right: the bottom right corner
	// as shown is its (x1, y1) corner, and a stamp there has its sides
	// swapped.
	turned := filepath.Join(dssCorpus, "visualSignature__coordinates__doc-negative-coordinates-rotate-90.pdf")
	if _, err := os.Stat(turned); err == nil {
		g, err := Page(turned, 1)
		if err != nil || g != (PageGeometry{Width: 792, Height: 612, Pages: 1, Box: [4]float64{-100, -300, 512, 492}, Rotate: 90}) {
			t.Fatalf("turned page: %+v %v", g, err)
		}
		// 36 points from the bottom (x1), 30 from the right (y1).
		if r := g.CornerRect(CornerBottomRight); r != [4]float64{512 - 36 - StampHeight, 492 - 30 - StampWidth, StampHeight, StampWidth} {
			t.Fatalf("bottom right corner of the turned page: %v", r)
		}
	}
	if _, err := Page(path, 4); !errors.Is(err, ErrPageRange) {
		t.Fatalf("page 4 of 3: %v", err)
	}
	if _, err := Page(writeTemp(t, []byte("not a PDF")), 1); !errors.Is(err, ErrNotPDF) {
		t.Fatalf("not a PDF: %v", err)
	}
}
