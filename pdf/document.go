package pdf

import (
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"strings"
	"time"
	"unicode/utf16"

	"github.com/paraphe/paraphe/pdf/internal/cos"
)

// document is what signing needs of a file: its catalog, its form, its
// pages and the signatures already in it.
type document struct {
	f          *cos.File
	catalogRef cos.Ref
	catalog    cos.Dict // a copy, to be rewritten in the update
	form       *form
	signatures []string              // names of signed signature fields
	emptySigs  map[string]*formField // empty signature fields by full name
	names      map[string]bool       // field names in use, full and top-level
	docMDP     int64                 // P of an existing certification, 0 if none
	// wrongPassword: the password given did not open the (encrypted)
	// document; the empty one did.
	wrongPassword bool
	// next is the appearance of the signature NextField chose, once chosen
	// (nextChosen); nil when there is no field for it.
	next       *Appearance
	nextChosen bool
}

// appearance is the appearance the signature o describes takes in this
// document: o's own, or, when o asks for the next empty field, that
// field's (Options.NextField).
func (d *document) appearance(o Options) *Appearance {
	if o.Appearance != nil || o.NextField == nil {
		return o.Appearance
	}
	if !d.nextChosen {
		d.nextChosen = true
		for _, ff := range d.form.signatureFields() {
			if ff.v == nil && d.emptySigs[ff.name] == ff && d.lockedBy(ff.name) == "" {
				a := *o.NextField
				a.Field, a.Page, a.Rect = ff.name, 0, [4]float64{}
				d.next = &a
				break
			}
		}
	}
	return d.next
}

func copyDict(d cos.Dict) cos.Dict {
	c := make(cos.Dict, len(d)+2)
	for k, v := range d {
		c[k] = v
	}
	return c
}

// openDocument reads the document in src (named name in errors), an
// encrypted one with password (see openFile). A file whose structure is
// damaged (see Damage) is read only with repair, and its damage returned;
// without, the error is a *DamagedError.
func openDocument(src io.ReaderAt, size int64, name string, repair bool, password []byte) (*cos.File, *document, *Damage, error) {
	f, wrongPassword, err := openFile(src, size, password)
	switch {
	case errors.Is(err, cos.ErrNotPDF):
		return nil, nil, nil, fmt.Errorf("%w: %s", ErrNotPDF, name)
	case errors.Is(err, ErrPassword), errors.Is(err, ErrWrongPassword):
		return nil, nil, nil, fmt.Errorf("%w: %s", err, name)
	case errors.Is(err, cos.ErrUnsupportedEncryption):
		return nil, nil, nil, fmt.Errorf("%w: %s: %v", ErrEncrypted, name, err)
	case err != nil:
		return nil, nil, nil, pastRepair(src, size, name, err)
	}
	// A file past repairing (no catalog, no pages found even by scanning)
	// says so first: offering a repair would be a false promise.
	doc, err := readDocument(f)
	if err != nil {
		return nil, nil, nil, pastRepair(src, size, name, err)
	}
	doc.wrongPassword = wrongPassword
	var damage *Damage
	if f.Rebuilt || f.MissingEOF {
		if _, _, err := doc.page(1); err != nil {
			return nil, nil, nil, pastRepair(src, size, name, fmt.Errorf("no page found: %v", err))
		}
		damage = &Damage{Truncated: f.MissingEOF, Rebuilt: f.Rebuilt, Pages: doc.pagesFound(), PagesDeclared: doc.pageCount()}
		if f.Rebuilt {
			damage.Objects = len(f.Nums())
		}
		if !repair {
			return nil, nil, nil, &DamagedError{File: name, Damage: *damage}
		}
	}
	return f, doc, damage, nil
}

// PageGeometry is a page as a reader shows it, and how many pages its
// document has.
type PageGeometry struct {
	// Width and Height are its size as shown, in points: its box, turned.
	Width, Height float64
	Pages         int
	// Box is the visible part of its user space, x0, y0, x1, y1: its crop
	// box within its media box.
	Box [4]float64
	// Rotate is its /Rotate, in degrees clockwise: 0, 90, 180 or 270.
	Rotate int
}

// Page reads the size of page n (from 1) of the PDF at path, for placing a
// visible signature on it.
func Page(path string, n int) (g PageGeometry, err error) {
	// A preview: a damaged file shows what signing it with repair would.
	err = lookAt(path, nil, func(doc *document, _ *Damage) error {
		g.Pages = doc.pageCount()
		_, page, err := doc.page(n)
		if err != nil {
			return fmt.Errorf("%w: %d (the document has %d)", ErrPageRange, n, g.Pages)
		}
		g.Box, g.Rotate = doc.pageBox(page)
		g.Width, g.Height = g.shownSize()
		return nil
	})
	return g, err
}

// lookAt reads the PDF at path, a damaged one as with repair, an
// encrypted one with password, and hands it to fn while the file is open.
func lookAt(path string, password []byte, fn func(*document, *Damage) error) error {
	src, err := os.Open(path)
	if err != nil {
		return err
	}
	defer src.Close()
	fi, err := src.Stat()
	if err != nil {
		return err
	}
	_, doc, damage, err := openDocument(src, fi.Size(), path, true, password)
	if err != nil {
		return err
	}
	return fn(doc, damage)
}

func readDocument(f *cos.File) (*document, error) {
	ref, ok := f.Trailer["Root"].(cos.Ref)
	if !ok {
		return nil, fmt.Errorf("the trailer has no catalog reference")
	}
	cat, err := f.ResolveDict(ref)
	if err != nil || cat == nil {
		return nil, fmt.Errorf("catalog: %v", err)
	}
	d := &document{f: f, catalogRef: ref, catalog: copyDict(cat), emptySigs: map[string]*formField{}, names: map[string]bool{}}
	d.form = readForm(f, cat)
	for _, ff := range d.form.fields {
		d.names[ff.name] = true
		if top, _, ok := strings.Cut(ff.name, "."); ok {
			d.names[top] = true
		}
		if ff.ft != cos.Name("Sig") {
			continue
		}
		if ff.v != nil {
			d.signatures = append(d.signatures, ff.name)
		} else if ff.ref != (cos.Ref{}) && d.emptySigs[ff.name] == nil {
			d.emptySigs[ff.name] = ff
		}
	}
	_, d.docMDP = certification(f, cat)
	return d, nil
}

func toString(o cos.Object) []byte {
	switch v := o.(type) {
	case cos.String:
		return v
	case cos.HexString:
		return v
	}
	return nil
}

// textString encodes s as a PDF text string, in hexadecimal (so that no
// user text can look like the signature's placeholders): PDFDocEncoding
// when it is ASCII, UTF-16BE with a byte-order mark otherwise.
func textString(s string) cos.Object {
	ascii := true
	for _, r := range s {
		if r >= 0x80 {
			ascii = false
		}
	}
	if ascii {
		return cos.HexString(s)
	}
	b := []byte{0xFE, 0xFF}
	for _, u := range utf16.Encode([]rune(s)) {
		b = append(b, byte(u>>8), byte(u))
	}
	return cos.HexString(b)
}

// page returns the reference and dictionary of page n (1-based).
func (d *document) page(n int) (cos.Ref, cos.Dict, error) {
	r, pd, _, err := d.walkPages(n, true)
	return r, pd, err
}

// pagesFound counts the pages that can be read, whatever the page tree's
// /Count says (in a damaged file, some may be lost).
func (d *document) pagesFound() int {
	_, _, seen, _ := d.walkPages(math.MaxInt, false)
	return seen
}

// walkPages looks for page n, and returns how many pages it went through;
// with skip, subtrees are passed over by their /Count.
func (d *document) walkPages(n int, skip bool) (cos.Ref, cos.Dict, int, error) {
	root, err := d.f.ResolveDict(d.catalog["Pages"])
	if err != nil || root == nil {
		return cos.Ref{}, nil, 0, fmt.Errorf("no page tree")
	}
	seen := 0
	visited := map[cos.Ref]bool{}
	var walk func(node cos.Dict, depth int) (cos.Ref, cos.Dict, error)
	walk = func(node cos.Dict, depth int) (cos.Ref, cos.Dict, error) {
		if depth > 64 || len(visited) > 1<<20 {
			return cos.Ref{}, nil, fmt.Errorf("page tree too deep")
		}
		kids, _ := d.f.Resolve(node["Kids"])
		ka, _ := kids.(cos.Array)
		for _, k := range ka {
			kr, ok := k.(cos.Ref)
			if !ok || visited[kr] {
				continue // a page tree that loops back is damaged: skip the loop
			}
			visited[kr] = true
			kd, err := d.f.ResolveDict(kr)
			if err != nil || kd == nil {
				continue
			}
			if kd["Type"] == cos.Name("Pages") || kd["Kids"] != nil {
				count, _ := cos.Int(kd["Count"])
				if skip && count > 0 && seen+int(count) < n {
					seen += int(count)
					continue
				}
				if r, pd, err := walk(kd, depth+1); err == nil {
					return r, pd, nil
				}
				continue
			}
			seen++
			if seen == n {
				return kr, kd, nil
			}
		}
		return cos.Ref{}, nil, ErrPageRange
	}
	r, pd, err := walk(root, 0)
	return r, pd, seen, err
}

// Pages returns the page count of the document.
func (d *document) pageCount() int {
	root, _ := d.f.ResolveDict(d.catalog["Pages"])
	n, _ := cos.Int(root["Count"])
	return int(n)
}

// addSignatureField adds (or fills) the signature field whose value is
// sigRef: the widget goes on its page's /Annots, the field in the form's
// /Fields, the form keeps every other entry it had (/DA, /DR, /NeedAppearances…).
func (d *document) addSignatureField(u *update, sigRef cos.Ref, o Options, leaf *x509.Certificate, now time.Time) (string, error) {
	app := d.appearance(o)
	if app != nil && app.Field != "" {
		return app.Field, d.fillSignatureField(u, sigRef, o, leaf, now)
	}
	name := "Signature1"
	for i := 2; d.names[name]; i++ {
		name = fmt.Sprintf("Signature%d", i)
	}
	pageNo := 1
	if app != nil && app.Page > 0 {
		pageNo = app.Page
	}
	pageRef, page, err := d.pageFor(pageNo)
	if err != nil {
		return "", err
	}
	widget := cos.Dict{
		"Type": cos.Name("Annot"), "Subtype": cos.Name("Widget"), "FT": cos.Name("Sig"),
		"T": textString(name), "V": sigRef, "F": int64(132), // Print, Locked
		"P": pageRef, "Rect": cos.Array{int64(0), int64(0), int64(0), int64(0)},
	}
	if o.Lock != nil {
		widget["Lock"] = o.Lock.dict("SigFieldLock")
	}
	if app != nil {
		// The appearance is shared by the files of a batch: the place is
		// this file's, computed here and never written back.
		var g PageGeometry
		g.Box, g.Rotate = d.pageBox(page)
		rect := app.Rect
		if rect == [4]float64{} {
			// No place given: a corner of this page as shown (the lower
			// right one unless told).
			rect = g.CornerRect(app.Corner)
		}
		widget["Rect"] = cos.Array{rect[0], rect[1], rect[0] + rect[2], rect[1] + rect[3]}
		ap, err := app.render(u, rect[2], rect[3], g.Rotate, leaf, o, now)
		if err != nil {
			return "", err
		}
		widget["AP"] = cos.Dict{"N": ap}
		if g.Rotate != 0 {
			// Turned with the page's content, upright as shown (ISO
			// 32000-2 12.5.6.19): form editors read it.
			widget["MK"] = cos.Dict{"R": int64(g.Rotate)}
		}
	}
	if err := d.addWidget(u, widget, pageRef, page); err != nil {
		return "", err
	}
	return name, nil
}

// pageFor returns page n, or says why there is none.
func (d *document) pageFor(n int) (cos.Ref, cos.Dict, error) {
	pageRef, page, err := d.page(n)
	if err != nil {
		if n > 1 && d.pageCount() > 0 {
			return cos.Ref{}, nil, fmt.Errorf("%w: %d (the document has %d)", ErrPageRange, n, d.pageCount())
		}
		return cos.Ref{}, nil, fmt.Errorf("%w: no page %d found: %v", ErrDamaged, n, err)
	}
	return pageRef, page, nil
}

// addWidget adds a new field that is its own widget: to its page's
// annotations and to the form's fields.
func (d *document) addWidget(u *update, widget cos.Dict, pageRef cos.Ref, page cos.Dict) error {
	wRef := u.add(widget)
	annots, err := d.f.Resolve(page["Annots"])
	if err != nil {
		return err
	}
	list, _ := annots.(cos.Array)
	list = append(append(cos.Array{}, list...), wRef)
	// Always a fresh array on this page: an indirect /Annots may be shared
	// by other pages, which must not get the widget.
	p := copyDict(page)
	p["Annots"] = list
	u.set(pageRef, p)
	flags := int64(3) // signatures exist, append only
	if widget["V"] == nil {
		flags = 1 // a field, no signature yet
	}
	d.setSigFlags(u, wRef, flags)
	return nil
}

// fillSignatureField puts the signature sigRef in the empty field named
// by the appearance, wherever it sits in the form, and draws it on each of
// the field's widgets that has an area.
func (d *document) fillSignatureField(u *update, sigRef cos.Ref, o Options, leaf *x509.Certificate, now time.Time) error {
	app := d.appearance(o)
	ff, ok := d.emptySigs[app.Field]
	if !ok {
		return fmt.Errorf("%w: %q", ErrUnknownField, app.Field)
	}
	field := copyDict(ff.dict)
	field["V"] = sigRef
	for _, w := range ff.widgets {
		rect, _ := d.f.Resolve(w.dict["Rect"])
		ra, _ := rect.(cos.Array)
		if len(ra) != 4 || (w.ref == (cos.Ref{}) && w.ref != ff.ref) {
			continue // no place, or a direct widget that cannot be replaced alone
		}
		wd, ww := field, cos.Dict(nil)
		if w.ref != ff.ref {
			ww = copyDict(w.dict)
			wd = ww
		}
		if width, height := rectSize(ra); width > 0 && height > 0 {
			ap, err := app.render(u, width, height, d.widgetRotation(w.dict), leaf, o, now)
			if err != nil {
				return err
			}
			wd["AP"] = cos.Dict{"N": ap}
			if ww != nil {
				u.set(w.ref, ww)
			}
		}
	}
	u.set(ff.ref, field)
	d.setSigFlags(u, nil, 3)
	return nil
}

// setSigFlags adds the field (when not nil) to the form's /Fields and sets
// the SigFlags given (1 signature fields exist, 2 append only), keeping the
// rest of the form.
func (d *document) setSigFlags(u *update, field cos.Object, set int64) {
	formObj := d.catalog["AcroForm"]
	formDict, _ := u.resolveDict(d.f, formObj)
	form := copyDict(formDict)
	if field != nil {
		fields, _ := u.resolve(d.f, form["Fields"])
		arr, _ := fields.(cos.Array)
		arr = append(append(cos.Array{}, arr...), field)
		if fr, ok := form["Fields"].(cos.Ref); ok {
			u.set(fr, arr)
		} else {
			form["Fields"] = arr
		}
	}
	flags, _ := cos.Int(form["SigFlags"])
	form["SigFlags"] = flags | set
	if fr, ok := formObj.(cos.Ref); ok {
		u.set(fr, form)
		return
	}
	d.catalog["AcroForm"] = form
	u.set(d.catalogRef, d.catalog)
}

// resolve is o as the update has it, or as the file has it when the update
// does not replace it.
func (u *update) resolve(f *cos.File, o cos.Object) (cos.Object, error) {
	if r, ok := o.(cos.Ref); ok {
		if x, ok := u.objs[r.Num]; ok {
			return x, nil
		}
	}
	return f.Resolve(o)
}

func (u *update) resolveDict(f *cos.File, o cos.Object) (cos.Dict, error) {
	x, err := u.resolve(f, o)
	if err != nil {
		return nil, err
	}
	d, _ := cos.AsDict(x)
	return d, nil
}

func rectSize(r cos.Array) (float64, float64) {
	var v [4]float64
	for i := range 4 {
		v[i], _ = cos.Num(r[i])
	}
	w, h := v[2]-v[0], v[3]-v[1]
	if w < 0 {
		w = -w
	}
	if h < 0 {
		h = -h
	}
	return w, h
}
