package render

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image"
	"image/draw"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
)

var corpus = filepath.Join("..", "..", "shared", "corpus", "dss-samples")

// shared is one renderer for the tests (starting PDFium costs a compile
// when the cache is cold).
var shared struct {
	once sync.Once
	r    *Renderer
	err  error
}

func renderer(t testing.TB) *Renderer {
	t.Helper()
	shared.once.Do(func() {
		dir, err := os.UserCacheDir()
		if err != nil {
			dir = os.TempDir()
		}
		shared.r, shared.err = New(context.Background(), filepath.Join(dir, "paraphe-test", "pdfium"))
	})
	if shared.err != nil {
		t.Fatal(shared.err)
	}
	return shared.r
}

func open(t testing.TB, path string, password []byte) *Document {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	fi, _ := f.Stat()
	d, err := renderer(t).Open(f, fi.Size(), password)
	if err != nil {
		t.Fatalf("%s: %v", filepath.Base(path), err)
	}
	t.Cleanup(func() { d.Close() })
	return d
}

// pdftoppm renders page (1-based) of path at dpi with poppler, the
// reference the renderer is judged against.
func pdftoppm(t *testing.T, path string, password []byte, page, dpi int) *image.RGBA {
	t.Helper()
	out := filepath.Join(t.TempDir(), "p")
	args := []string{"-png", "-r", fmt.Sprint(dpi), "-f", fmt.Sprint(page), "-l", fmt.Sprint(page), "-singlefile"}
	if password != nil {
		args = append(args, "-upw", string(password))
	}
	cmd := exec.Command("pdftoppm", append(args, path, out)...)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("pdftoppm %s: %v\n%s", filepath.Base(path), err, b)
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
	rgba := image.NewRGBA(img.Bounds())
	for y := img.Bounds().Min.Y; y < img.Bounds().Max.Y; y++ {
		for x := img.Bounds().Min.X; x < img.Bounds().Max.X; x++ {
			rgba.Set(x, y, img.At(x, y))
		}
	}
	return rgba
}

// meanDiff is the mean absolute difference of two pictures' grey levels
// (0–255), compared in blocks of block×block pixels over the area they
// share (the page composed on white): the engines' anti-aliasing of thin
// lines differs pixel by pixel, not block by block. sizeOff says whether
// their sizes differ by more than a pixel's rounding.
func meanDiff(a, b *image.RGBA) (float64, bool) {
	const block = 4
	ab, bb := a.Bounds(), b.Bounds()
	sizeOff := abs(ab.Dx()-bb.Dx()) > 1 || abs(ab.Dy()-bb.Dy()) > 1
	w, h := min(ab.Dx(), bb.Dx())/block, min(ab.Dy(), bb.Dy())/block
	var sum float64
	for by := 0; by < h; by++ {
		for bx := 0; bx < w; bx++ {
			var ga, gb float64
			for y := by * block; y < (by+1)*block; y++ {
				for x := bx * block; x < (bx+1)*block; x++ {
					ga += grey(a, ab.Min.X+x, ab.Min.Y+y)
					gb += grey(b, bb.Min.X+x, bb.Min.Y+y)
				}
			}
			sum += absf(ga-gb) / (block * block)
		}
	}
	return sum / float64(w*h), sizeOff
}

// grey is the luminance of a pixel laid on white (PDFium leaves the
// paper transparent where the page paints nothing).
func grey(img *image.RGBA, x, y int) float64 {
	i := img.PixOffset(x, y)
	p := img.Pix[i : i+4]
	alpha := float64(p[3]) / 255
	on := func(c uint8) float64 { return float64(c) + (1-alpha)*255 } // premultiplied
	return 0.299*on(p[0]) + 0.587*on(p[1]) + 0.114*on(p[2])
}

func abs(v int) int {
	if v < 0 {
		return -v
	}
	return v
}

func absf(v float64) float64 {
	if v < 0 {
		return -v
	}
	return v
}

// maxMeanDiff is how far, in mean grey levels out of 255, a page may be
// from poppler's rendering of it: anti-aliasing and font hinting differ
// between the two engines by a level or two on text pages; a page drawn
// wrong (turned, shifted, missing its content or its signature's
// appearance) is tens of levels away.
const maxMeanDiff = 6.0

// unreadable are the corpus files whose trailer is lost: qpdf --check
// cannot recover them either, and PDFium refuses them (poppler draws an
// empty page with syntax errors).
var unreadable = map[string]bool{"EmptyPage-corrupted.pdf": true, "EmptyPage-corrupted2.pdf": true}

// Every page of the DSS samples, the rotated ones among them, looks as
// poppler draws it: same size, same content.
func TestLikePdftoppm(t *testing.T) {
	if _, err := exec.LookPath("pdftoppm"); err != nil {
		t.Skip("pdftoppm (poppler-utils) is not installed")
	}
	files, _ := filepath.Glob(filepath.Join(corpus, "*.pdf"))
	if len(files) == 0 {
		t.Skip("the corpus is not here: ", corpus)
	}
	if testing.Short() {
		files = files[:len(files)/8]
	}
	const dpi = 36
	rotated, checked, worst := 0, 0, 0.0
	for _, path := range files {
		name := filepath.Base(path)
		f, err := os.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		fi, _ := f.Stat()
		var password []byte
		d, err := renderer(t).Open(f, fi.Size(), nil)
		if errors.Is(err, ErrPassword) {
			password = []byte(" ") // DSS's user password (pdf/encrypted_test.go)
			d, err = renderer(t).Open(f, fi.Size(), password)
		}
		if unreadable[name] {
			if !errors.Is(err, ErrFormat) {
				t.Errorf("%s: %v, want ErrFormat", name, err)
			}
			f.Close()
			continue
		}
		if err != nil {
			f.Close()
			t.Errorf("%s: %v", name, err)
			continue
		}
		for i := 0; i < min(d.Pages(), 3); i++ {
			got, err := d.Render(context.Background(), i, dpi)
			if err != nil {
				t.Errorf("%s page %d: %v", name, i+1, err)
				continue
			}
			want := pdftoppm(t, path, password, i+1, dpi)
			diff, sizeOff := meanDiff(got, want)
			if sizeOff || diff > maxMeanDiff {
				t.Errorf("%s page %d: %dx%d, mean difference %.1f from pdftoppm's %dx%d", name, i+1,
					got.Bounds().Dx(), got.Bounds().Dy(), diff, want.Bounds().Dx(), want.Bounds().Dy())
			}
			worst = max(worst, diff)
			if rot, _ := d.Rotation(i); rot != 0 {
				rotated++
			}
			checked++
		}
		d.Close()
		f.Close()
	}
	if !testing.Short() && rotated < 10 {
		t.Errorf("only %d rotated pages among the %d checked", rotated, checked)
	}
	t.Logf("%d pages, %d of them rotated; the largest mean difference %.1f", checked, rotated, worst)
}

// A turned page is reported turned, and its size is the size shown.
func TestRotatedSize(t *testing.T) {
	d := open(t, filepath.Join(corpus, "visualSignature__rotate90-rotated.pdf"), nil)
	rot, err := d.Rotation(0)
	if err != nil || rot != 90 {
		t.Fatalf("rotation %d, %v; want 90", rot, err)
	}
	w, h, err := d.Size(0)
	if err != nil {
		t.Fatal(err)
	}
	img, err := d.Render(context.Background(), 0, 72)
	if err != nil {
		t.Fatal(err)
	}
	if b := img.Bounds(); abs(b.Dx()-int(w+0.5)) > 1 || abs(b.Dy()-int(h+0.5)) > 1 {
		t.Fatalf("size %.0fx%.0f points, picture %dx%d at 72 dpi", w, h, b.Dx(), b.Dy())
	}
}

func TestEncrypted(t *testing.T) {
	path := filepath.Join(corpus, "protected__open_protected.pdf")
	if _, err := os.Stat(path); err != nil {
		t.Skip(err)
	}
	f, _ := os.Open(path)
	defer f.Close()
	fi, _ := f.Stat()
	if _, err := renderer(t).Open(f, fi.Size(), nil); !errors.Is(err, ErrPassword) {
		t.Fatalf("no password: %v, want ErrPassword", err)
	}
	if _, err := renderer(t).Open(f, fi.Size(), []byte("wrong")); !errors.Is(err, ErrPassword) {
		t.Fatalf("wrong password: %v, want ErrPassword", err)
	}
	// The DSS sample's user password is a space (pdf/encrypted_test.go).
	d := open(t, path, []byte(" "))
	if _, err := d.Render(context.Background(), 0, 36); err != nil {
		t.Fatal(err)
	}
}

// Damaged and hostile input: an error or a picture, never a crash, and
// the renderer still works afterwards.
func TestDamaged(t *testing.T) {
	good, err := os.ReadFile(filepath.Join(corpus, "visualSignature__rotate90-rotated.pdf"))
	if err != nil {
		t.Fatal(err)
	}
	inputs := map[string][]byte{
		"empty":        nil,
		"not a pdf":    []byte("%!PS-Adobe-3.0\nshowpage\n"),
		"cut in half":  good[:len(good)/2],
		"no xref":      bytes.ReplaceAll(good, []byte("xref"), []byte("xxxx")),
		"garbage tail": append(append([]byte{}, good...), bytes.Repeat([]byte{0xff}, 4096)...),
	}
	r := renderer(t)
	for name, b := range inputs {
		d, err := r.Open(bytes.NewReader(b), int64(len(b)), nil)
		if err != nil {
			if len(b) == 0 && !errors.Is(err, ErrFormat) {
				t.Errorf("%s: %v, want ErrFormat", name, err)
			}
			continue
		}
		for i := 0; i < d.Pages(); i++ {
			d.Render(context.Background(), i, 24)
		}
		d.Close()
	}
	d := open(t, filepath.Join(corpus, "visualSignature__rotate90-rotated.pdf"), nil)
	if _, err := d.Render(context.Background(), 0, 24); err != nil {
		t.Fatalf("after damaged input: %v", err)
	}
	if _, err := d.Render(context.Background(), d.Pages(), 24); !errors.Is(err, ErrPage) {
		t.Fatalf("page past the end: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := d.Render(ctx, 0, 24); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled: %v", err)
	}
}

// A page drawn to a width in pixels is that wide, its height in
// proportion, turned pages included, and looks as the same page drawn at
// the dots per inch that width makes.
func TestRenderWidth(t *testing.T) {
	for _, name := range []string{"visualSignature__rotate90-rotated.pdf", "visualSignature__check__negative_coordinates_180_ROTATE_90.pdf", "pdf-2.0.pdf"} {
		path := filepath.Join(corpus, name)
		if _, err := os.Stat(path); err != nil {
			t.Skip(err)
		}
		d := open(t, path, nil)
		w, h, _ := d.Size(0)
		const dpi = 50
		want, err := d.Render(context.Background(), 0, dpi)
		if err != nil {
			t.Fatal(err)
		}
		got, err := d.RenderWidth(context.Background(), 0, want.Bounds().Dx(), nil)
		if err != nil {
			t.Fatal(err)
		}
		// Drawn again into that picture: the same picture, the same
		// pixels; into one of another size, a new picture.
		old := image.NewRGBA(image.Rect(0, 0, 3, 3))
		if again, _ := d.RenderWidth(context.Background(), 0, want.Bounds().Dx(), old); again == old {
			t.Errorf("%s: drawn into a picture of 3x3 pixels", name)
		}
		pix := bytes.Clone(got.Pix)
		for i := range got.Pix {
			got.Pix[i] = 0x7f
		}
		if again, _ := d.RenderWidth(context.Background(), 0, want.Bounds().Dx(), got); again != got || !bytes.Equal(again.Pix, pix) {
			t.Errorf("%s: not drawn again into the picture given", name)
		}
		if got.Bounds().Dx() != want.Bounds().Dx() || abs(got.Bounds().Dy()-int(float64(want.Bounds().Dx())*h/w+0.5)) > 1 {
			t.Errorf("%s (%.0fx%.0f points): %v drawn to a width of %d", name, w, h, got.Bounds(), want.Bounds().Dx())
		}
		if diff, off := meanDiff(got, want); off || diff > 1 {
			t.Errorf("%s: %.1f levels from the page drawn at %d dpi", name, diff, dpi)
		}
	}
	d := open(t, filepath.Join(corpus, "pdf-2.0.pdf"), nil)
	if _, err := d.RenderWidth(context.Background(), 0, 0, nil); err == nil {
		t.Error("a width of 0 pixels drawn")
	}
}

// A page's annotations are drawn (PDFium leaves them out unless asked):
// on DSS's sample with a note, a square and ink, and on a turned page's
// signature, the pixels where poppler's page with its annotations differs
// from poppler's page without them are, in PDFium's picture, the ones with
// them.
func TestAnnotationsDrawn(t *testing.T) {
	if _, err := exec.LookPath("pdftoppm"); err != nil {
		t.Skip("pdftoppm (poppler-utils) is not installed")
	}
	for _, name := range []string{"pdf-with-annotations.pdf", "visualSignature__check__negative_coordinates_90_ROTATE_90.pdf"} {
		path := filepath.Join(corpus, name)
		if _, err := os.Stat(path); err != nil {
			t.Skip(err)
		}
		const dpi = 50
		got, err := open(t, path, nil).Render(context.Background(), 0, dpi)
		if err != nil {
			t.Fatal(err)
		}
		with, without := pdftoppm(t, path, nil, 1, dpi), pdftoppmHiding(t, path, dpi)
		marked, agree := 0, 0
		b := got.Bounds().Intersect(with.Bounds()).Intersect(without.Bounds())
		for y := b.Min.Y; y < b.Max.Y; y++ {
			for x := b.Min.X; x < b.Max.X; x++ {
				w, wo, g := grey(with, x, y), grey(without, x, y), grey(got, x, y)
				if absf(w-wo) < 64 {
					continue
				}
				marked++
				if absf(g-w) < absf(g-wo) {
					agree++
				}
			}
		}
		if marked < 50 || agree < marked*8/10 {
			t.Errorf("%s: of the %d pixels poppler's annotations mark, %d are marked in PDFium's picture", name, marked, agree)
		}
	}
}

// pdftoppmHiding is poppler's page 1 without its annotations.
func pdftoppmHiding(t *testing.T, path string, dpi int) *image.RGBA {
	t.Helper()
	out := filepath.Join(t.TempDir(), "p")
	if b, err := exec.Command("pdftoppm", "-hide-annotations", "-png", "-r", fmt.Sprint(dpi), "-f", "1", "-l", "1", "-singlefile", path, out).CombinedOutput(); err != nil {
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
	rgba := image.NewRGBA(img.Bounds())
	draw.Draw(rgba, rgba.Bounds(), img, img.Bounds().Min, draw.Src)
	return rgba
}
