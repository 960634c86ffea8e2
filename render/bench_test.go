package render

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// pages makes a PDF of n pages from the corpus's text pages with qpdf.
func pages(b *testing.B, n int) string {
	b.Helper()
	if _, err := exec.LookPath("qpdf"); err != nil {
		b.Skip("qpdf is not installed")
	}
	src := filepath.Join("..", "assets", "demo", "deed.pdf")
	out := filepath.Join(b.TempDir(), "doc.pdf")
	args := []string{"--empty", "--pages"}
	for i := 0; i < n; i++ {
		args = append(args, src, "1")
	}
	if o, err := exec.Command("qpdf", append(args, "--", out)...).CombinedOutput(); err != nil {
		b.Fatalf("qpdf: %v\n%s", err, o)
	}
	return out
}

// screenDPI is a page at 100 % on a HiDPI screen (96 dpi at scale 2).
const screenDPI = 192

func firstPage(b *testing.B, r *Renderer, path string) {
	f, err := os.Open(path)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	fi, _ := f.Stat()
	d, err := r.Open(f, fi.Size(), nil)
	if err != nil {
		b.Fatal(err)
	}
	if _, err := d.Render(context.Background(), 0, screenDPI); err != nil {
		b.Fatal(err)
	}
	d.Close()
}

// The first start on a computer: PDFium's module compiled, no cache yet;
// then the first page of a 10-page document.
func BenchmarkFirstPageNoCache(b *testing.B) {
	doc := pages(b, 10)
	for b.Loop() {
		r, err := New(context.Background(), b.TempDir())
		if err != nil {
			b.Fatal(err)
		}
		firstPage(b, r, doc)
		r.Close()
	}
}

// A cold start of the app: the compiled module read from the cache
// folder, then the first page of a 10-page document.
func BenchmarkFirstPageCold(b *testing.B) {
	doc := pages(b, 10)
	cache := b.TempDir()
	r, err := New(context.Background(), cache)
	if err != nil {
		b.Fatal(err)
	}
	r.Close()
	for b.Loop() {
		r, err := New(context.Background(), cache)
		if err != nil {
			b.Fatal(err)
		}
		firstPage(b, r, doc)
		r.Close()
	}
}

// Warm: the renderer runs; a 10-page document opened and its first page
// drawn.
func BenchmarkFirstPageWarm(b *testing.B) {
	doc := pages(b, 10)
	r, err := New(context.Background(), b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	defer r.Close()
	for b.Loop() {
		firstPage(b, r, doc)
	}
}

// Scrolling: the next page of an open 200-page document.
func BenchmarkNextPage(b *testing.B) {
	doc := pages(b, 200)
	r, err := New(context.Background(), b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	defer r.Close()
	f, err := os.Open(doc)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	fi, _ := f.Stat()
	d, err := r.Open(f, fi.Size(), nil)
	if err != nil {
		b.Fatal(err)
	}
	i := 0
	for b.Loop() {
		if _, err := d.Render(context.Background(), i%d.Pages(), screenDPI); err != nil {
			b.Fatal(err)
		}
		i++
	}
}
