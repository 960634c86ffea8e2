// Package render draws PDF pages as pictures, for the desktop app's
// document view: PDFium compiled to WebAssembly and run in this process by
// wazero (through github.com/klippa-app/go-pdfium's WebAssembly mode), so
// that the same renderer ships on Windows, macOS and Linux with no cgo, no
// external program and no library to install.
//
// The module sees no file system: documents are read through an
// io.ReaderAt the caller opened, so a hostile PDF cannot reach a file. The
// module's machine code, compiled once, is kept in a cache folder (the
// user's cache) so later starts skip the compilation.
//
// A Renderer runs one PDFium instance: its calls are serialised, and the
// app calls it off the window's goroutine.
package render

import (
	"context"
	"errors"
	"fmt"
	"image"
	"image/draw"
	"io"
	"sync"

	"github.com/klippa-app/go-pdfium"
	"github.com/klippa-app/go-pdfium/enums"
	pdferrors "github.com/klippa-app/go-pdfium/errors"
	"github.com/klippa-app/go-pdfium/references"
	"github.com/klippa-app/go-pdfium/requests"
	"github.com/klippa-app/go-pdfium/responses"
	"github.com/klippa-app/go-pdfium/webassembly"
	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
	"github.com/tetratelabs/wazero/experimental"
)

var (
	// ErrPassword: the document is encrypted and the password given (or
	// none) does not open it.
	ErrPassword = errors.New("render: the document needs its password")
	// ErrFormat: the file is not a PDF PDFium can read.
	ErrFormat = errors.New("render: not a readable PDF")
	// ErrPage: no such page.
	ErrPage = errors.New("render: no such page")
	// ErrClosed: the renderer or the document was closed.
	ErrClosed = errors.New("render: closed")
)

// Renderer is one PDFium instance.
type Renderer struct {
	mu    sync.Mutex // PDFium does one thing at a time
	pool  pdfium.Pool
	inst  pdfium.Pdfium
	cache wazero.CompilationCache
}

// New starts PDFium. cacheDir keeps the module's compiled code between
// runs ("" compiles it anew each time: slower to start, nothing written).
func New(ctx context.Context, cacheDir string) (*Renderer, error) {
	rc := wazero.NewRuntimeConfig().
		WithCoreFeatures(api.CoreFeaturesV2 | experimental.CoreFeaturesExceptionHandling).
		WithCloseOnContextDone(true)
	r := &Renderer{}
	if cacheDir != "" {
		c, err := wazero.NewCompilationCacheWithDir(cacheDir)
		if err != nil {
			return nil, fmt.Errorf("render: compilation cache: %w", err)
		}
		r.cache = c
		rc = rc.WithCompilationCache(c)
	}
	pool, err := webassembly.Init(webassembly.Config{
		Context:       context.WithoutCancel(ctx),
		MinIdle:       1,
		MaxIdle:       1,
		MaxTotal:      1,
		RuntimeConfig: rc,
		// No directory mounted: the module reads documents only through
		// the readers it is given.
		FSConfig: wazero.NewFSConfig(),
		Stdout:   io.Discard,
		Stderr:   io.Discard,
	})
	if err != nil {
		r.closeCache()
		return nil, fmt.Errorf("render: starting PDFium: %w", err)
	}
	inst, err := pool.GetInstanceWithContext(ctx)
	if err != nil {
		pool.Close()
		r.closeCache()
		return nil, fmt.Errorf("render: starting PDFium: %w", err)
	}
	r.pool, r.inst = pool, inst
	return r, nil
}

func (r *Renderer) closeCache() {
	if r.cache != nil {
		r.cache.Close(context.Background())
	}
}

// Close stops PDFium; documents still open are closed with it.
func (r *Renderer) Close() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.pool == nil {
		return nil
	}
	r.inst.Close()
	err := r.pool.Close()
	r.pool, r.inst = nil, nil
	r.closeCache()
	return err
}

// Document is an open PDF.
type Document struct {
	r     *Renderer
	ref   references.FPDF_DOCUMENT
	pages int
	open  bool
}

// Open reads the PDF of size bytes in src (which must stay readable until
// the document is closed). password opens an encrypted one (nil for none).
func (r *Renderer) Open(src io.ReaderAt, size int64, password []byte) (*Document, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.pool == nil {
		return nil, ErrClosed
	}
	if size <= 0 {
		return nil, fmt.Errorf("%w (empty file)", ErrFormat)
	}
	req := &requests.OpenDocument{FileReader: io.NewSectionReader(src, 0, size), FileReaderSize: size}
	if password != nil {
		pw := string(password)
		req.Password = &pw
	}
	doc, err := r.inst.OpenDocument(req)
	if err != nil {
		return nil, openError(err)
	}
	count, err := r.inst.FPDF_GetPageCount(&requests.FPDF_GetPageCount{Document: doc.Document})
	if err != nil {
		r.inst.FPDF_CloseDocument(&requests.FPDF_CloseDocument{Document: doc.Document})
		return nil, openError(err)
	}
	return &Document{r: r, ref: doc.Document, pages: count.PageCount, open: true}, nil
}

func openError(err error) error {
	switch {
	case errors.Is(err, pdferrors.ErrPassword), errors.Is(err, pdferrors.ErrSecurity):
		return fmt.Errorf("%w (%v)", ErrPassword, err)
	case errors.Is(err, pdferrors.ErrFormat), errors.Is(err, pdferrors.ErrFile):
		return fmt.Errorf("%w (%v)", ErrFormat, err)
	}
	return fmt.Errorf("render: %w", err)
}

// Pages is the number of pages.
func (d *Document) Pages() int { return d.pages }

// Size is page i's size (0-based) in points as it is shown: its crop box,
// turned by its /Rotate.
func (d *Document) Size(i int) (width, height float64, err error) {
	d.r.mu.Lock()
	defer d.r.mu.Unlock()
	if err := d.check(i); err != nil {
		return 0, 0, err
	}
	s, err := d.r.inst.GetPageSize(&requests.GetPageSize{Page: d.page(i)})
	if err != nil {
		return 0, 0, fmt.Errorf("render: page %d: %w", i+1, err)
	}
	return s.Width, s.Height, nil
}

// Rotation is page i's /Rotate, in degrees clockwise (0, 90, 180, 270).
func (d *Document) Rotation(i int) (int, error) {
	d.r.mu.Lock()
	defer d.r.mu.Unlock()
	if err := d.check(i); err != nil {
		return 0, err
	}
	rot, err := d.r.inst.FPDFPage_GetRotation(&requests.FPDFPage_GetRotation{Page: d.page(i)})
	if err != nil {
		return 0, fmt.Errorf("render: page %d: %w", i+1, err)
	}
	return int(rot.PageRotation) * 90, nil
}

// drawFlags draw a page's annotations (comments, stamps, ink, shapes),
// which PDFium leaves out unless told; RenderForm draws the form's
// fields, signatures among them.
const drawFlags = enums.FPDF_RENDER_FLAG_ANNOT

// Render draws page i (0-based) at dpi dots per inch, upright as a reader
// shows it, its annotations and form included.
func (d *Document) Render(ctx context.Context, i int, dpi int) (*image.RGBA, error) {
	return d.draw(ctx, i, nil, func() (*responses.RenderPage, func(), error) {
		res, err := d.r.inst.RenderPageInDPI(&requests.RenderPageInDPI{
			Page: d.page(i), DPI: dpi, RenderForm: true, Document: &d.ref, RenderFlags: drawFlags,
		})
		if err != nil {
			return nil, nil, err
		}
		return &res.Result, res.Cleanup, nil
	})
}

// RenderWidth draws page i (0-based) width pixels wide, its height in
// proportion (rounded up): the size a screen shows it at, whatever dots
// per inch that makes. When into, a picture the caller no longer uses, has
// that size, the page is drawn into it rather than into a new one (a view
// scrolling through a long document then draws without garbage).
func (d *Document) RenderWidth(ctx context.Context, i int, width int, into *image.RGBA) (*image.RGBA, error) {
	if width <= 0 {
		return nil, fmt.Errorf("render: page %d: a width of %d pixels", i+1, width)
	}
	return d.draw(ctx, i, into, func() (*responses.RenderPage, func(), error) {
		res, err := d.r.inst.RenderPageInPixels(&requests.RenderPageInPixels{
			Page: d.page(i), Width: width, RenderForm: true, Document: &d.ref, RenderFlags: drawFlags,
		})
		if err != nil {
			return nil, nil, err
		}
		return &res.Result, res.Cleanup, nil
	})
}

// draw runs one of PDFium's renderings of page i in its turn and copies the
// picture out of the module's memory, into into when it has the size.
func (d *Document) draw(ctx context.Context, i int, into *image.RGBA, run func() (*responses.RenderPage, func(), error)) (*image.RGBA, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	d.r.mu.Lock()
	defer d.r.mu.Unlock()
	if err := d.check(i); err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil { // cancelled while waiting its turn
		return nil, err
	}
	res, cleanup, err := run()
	if err != nil {
		return nil, fmt.Errorf("render: page %d: %w", i+1, err)
	}
	defer cleanup()
	// The pixels live in the module's memory until cleanup: copy them.
	src := res.RenderedImage
	out := into
	if out == nil || out.Rect != src.Bounds() {
		out = image.NewRGBA(src.Bounds())
	}
	draw.Draw(out, out.Bounds(), src, src.Bounds().Min, draw.Src)
	return out, nil
}

// Close closes the document.
func (d *Document) Close() error {
	d.r.mu.Lock()
	defer d.r.mu.Unlock()
	if !d.open || d.r.pool == nil {
		return nil
	}
	d.open = false
	_, err := d.r.inst.FPDF_CloseDocument(&requests.FPDF_CloseDocument{Document: d.ref})
	return err
}

func (d *Document) check(i int) error {
	if !d.open || d.r.pool == nil {
		return ErrClosed
	}
	if i < 0 || i >= d.pages {
		return fmt.Errorf("%w: %d of %d", ErrPage, i+1, d.pages)
	}
	return nil
}

func (d *Document) page(i int) requests.Page {
	return requests.Page{ByIndex: &requests.PageByIndex{Document: d.ref, Index: i}}
}
