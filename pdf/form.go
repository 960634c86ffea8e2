package pdf

import (
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/paraphe/paraphe/cms"
	"github.com/paraphe/paraphe/pdf/internal/cos"
)

// Field is a signature field of a document's form, empty or signed.
type Field struct {
	// Name is the field's full name, as --field and the verifier's reports
	// call it ("Acte.Notaire" for a field inside another).
	Name    string   `json:"name"`
	Widgets []Widget `json:"widgets"`
	Signed  bool     `json:"signed"`
	// Kind, Signer and SigningTime describe what a signed field holds, as
	// it says (verification, not this, says whether it is true): the
	// certificate the signature names, and the time its signer's computer
	// claimed.
	Kind        Kind              `json:"kind,omitempty"`
	Signer      *x509.Certificate `json:"-"`
	SigningTime *time.Time        `json:"signing_time,omitempty"`
	// Locks is what signing the field locks (its /Lock), for an empty
	// field; what its signature locks, for a signed one.
	Locks *FieldLock `json:"locks,omitempty"`
	// LockedBy names, for an empty field, the signed field whose signature
	// locks it: it can no longer be signed without invalidating that
	// signature.
	LockedBy string `json:"locked_by,omitempty"`
	// Certification is, when the field's signature certifies the document,
	// what the certification allows afterwards (MDPNoChanges,
	// MDPFormFilling, MDPAnnotations).
	Certification int `json:"certification,omitempty"`
}

// Widget is where a field shows: its page (from 1; 0 when no page lists
// it) and its place on it, x, y, width and height in points from the
// page's lower left corner (all zero for an invisible field).
type Widget struct {
	Page int        `json:"page"`
	Rect [4]float64 `json:"rect"`
}

// Fields lists the signature fields of the PDF at path, in the form's
// order, wherever they sit in its hierarchy.
func Fields(path string) (out []Field, err error) {
	err = lookAt(path, nil, func(doc *document, _ *Damage) error {
		pages := widgetPages(doc.f, doc.catalog)
		certifier, level := certification(doc.f, doc.catalog)
		for _, ff := range doc.form.signatureFields() {
			fd := Field{Name: ff.name, Locks: readLock(doc.f, ff.dict["Lock"]), Widgets: widgetsOf(doc.f, ff, pages)}
			if sig, _ := doc.f.ResolveDict(ff.v); sig != nil && isSignatureDict(sig) {
				fd.Signed = true
				fd.Kind, fd.Signer = signerOf(doc.f, sig)
				if t, ok := parsePDFDate(string(toString(sig["M"]))); ok {
					fd.SigningTime = &t
				}
				fd.Locks = locksOf(doc.f, sig, ff.dict)
				if r, ok := ff.v.(cos.Ref); ok && r == certifier {
					fd.Certification = int(level)
				}
			} else {
				fd.LockedBy = doc.lockedBy(ff.name)
			}
			out = append(out, fd)
		}
		return nil
	})
	return out, err
}

// widgetsOf is where field ff shows: the page and place of each of its
// widgets (pages from widgetPages).
func widgetsOf(f *cos.File, ff *formField, pages map[cos.Ref]int) []Widget {
	var out []Widget
	for _, w := range ff.widgets {
		wd := Widget{Page: pages[w.ref]}
		rect, _ := f.Resolve(w.dict["Rect"])
		if ra, ok := rect.(cos.Array); ok && len(ra) == 4 {
			wd.Rect = normalRect(f, ra)
		}
		out = append(out, wd)
	}
	return out
}

// widgetPages maps each annotation on a page to that page's number.
func widgetPages(f *cos.File, catalog cos.Dict) map[cos.Ref]int {
	pages := map[cos.Ref]int{}
	n := 0
	eachPage(f, catalog, func(page cos.Dict) {
		n++
		annots, _ := f.Resolve(page["Annots"])
		arr, _ := annots.(cos.Array)
		for _, a := range arr {
			if r, ok := a.(cos.Ref); ok && pages[r] == 0 {
				pages[r] = n
			}
		}
	})
	delete(pages, cos.Ref{})
	return pages
}

// normalRect turns [llx lly urx ury] (corners in any order) into x, y,
// width, height.
func normalRect(f *cos.File, ra cos.Array) [4]float64 {
	var v [4]float64
	for i := range 4 {
		x, _ := f.Resolve(ra[i])
		v[i], _ = cos.Num(x)
	}
	x, y := min(v[0], v[2]), min(v[1], v[3])
	return [4]float64{x, y, max(v[0], v[2]) - x, max(v[1], v[3]) - y}
}

// signerOf reads, without verifying anything, the certificate a signature
// dictionary names as its signer's.
func signerOf(f *cos.File, sig cos.Dict) (Kind, *x509.Certificate) {
	contents := toString(sig["Contents"])
	if sig["Type"] == cos.Name("DocTimeStamp") || nameOf(sig["SubFilter"]) == subRFC3161 {
		ts, err := cms.ParseTimestamp(trimDER(contents))
		if err != nil {
			return KindDocumentTimestamp, nil
		}
		return KindDocumentTimestamp, ts.Signer()
	}
	if nameOf(sig["SubFilter"]) == subX509RSASHA1 {
		certs, _ := f.Resolve(sig["Cert"])
		first := certs
		if arr, ok := certs.(cos.Array); ok && len(arr) > 0 {
			first, _ = f.Resolve(arr[0])
		}
		if c, err := cms.ParseCertificate(toString(first)); err == nil {
			return KindSignature, c
		}
		return KindSignature, nil
	}
	sd, err := cms.Parse(contents)
	if err != nil || len(sd.Signers) == 0 {
		return KindSignature, nil
	}
	return KindSignature, sd.Signers[0].Signer(sd.Certificates)
}

// NewField is an empty signature field to add to a document for a signer
// to come.
type NewField struct {
	// Name is the field's name: not empty, no period (ISO 32000-2
	// §12.7.4.2), not the name of a field the form has.
	Name string
	Page int        // from 1
	Rect [4]float64 // x, y, width and height in points from the page's lower left corner
	// Lock is what signing the field will lock (its /Lock); nil for nothing.
	Lock *FieldLock
}

// Errors of AddFields.
var (
	ErrFieldExists = errors.New("pdf: the form already has a field by that name")
	ErrFieldName   = errors.New("pdf: a field name cannot be empty or hold a period")
)

// AddFields writes to out a copy of the PDF in with the empty signature
// fields added, in an incremental update: the original bytes stay as they
// are, so earlier signatures stay valid. out is written under a temporary
// name and renamed when complete; it must not exist, and must not be in.
func AddFields(in, out string, fields ...NewField) error {
	return writeAtomically(in, out, func(src *os.File, size int64, w io.Writer) error {
		f, doc, _, err := openDocument(src, size, in, false, nil)
		if err != nil {
			return err
		}
		if doc.docMDP == MDPNoChanges {
			return ErrCertified
		}
		// An encrypted document (opened by the empty password) gets its
		// fields encrypted, if its permissions allow new ones.
		if err := doc.allow(true, false); err != nil {
			return fmt.Errorf("%w: %s", err, in)
		}
		u := newUpdate(f)
		if err := doc.addEmptyFields(u, fields); err != nil {
			return err
		}
		if _, err := io.Copy(w, io.NewSectionReader(src, 0, size)); err != nil {
			return err
		}
		base := size
		last := make([]byte, 1)
		if _, err := src.ReadAt(last, size-1); err == nil && last[0] != '\n' && last[0] != '\r' {
			if _, err := w.Write([]byte{'\n'}); err != nil {
				return err
			}
			base++
		}
		data, _ := u.serializeFinished(base)
		_, err = w.Write(data)
		return err
	})
}

// addEmptyFields adds the fields to the update, each a field merged with
// its widget, with an empty appearance: nothing shows until it is signed.
func (d *document) addEmptyFields(u *update, fields []NewField) error {
	taken := map[string]bool{}
	for _, nf := range fields {
		taken[nf.Name] = true
	}
	for _, nf := range fields {
		switch {
		case nf.Name == "" || strings.Contains(nf.Name, "."):
			return fmt.Errorf("%w: %q", ErrFieldName, nf.Name)
		case d.names[nf.Name] || d.hasField(nf.Name):
			return fmt.Errorf("%w: %q", ErrFieldExists, nf.Name)
		case nf.Rect[2] <= 0 || nf.Rect[3] <= 0:
			return fmt.Errorf("pdf: field %q: a width and a height are needed", nf.Name)
		}
		if nf.Lock != nil {
			for _, name := range nf.Lock.Fields {
				if !d.hasField(name) && !taken[name] {
					return fmt.Errorf("%w: %q", ErrLockField, name)
				}
			}
		}
		pageRef, page, err := d.pageFor(max(nf.Page, 1))
		if err != nil {
			return err
		}
		if p, ok := u.objs[pageRef.Num].(cos.Dict); ok {
			page = p // a page that already gained a field in this update
		}
		r := nf.Rect
		ap := &cos.Stream{Dict: cos.Dict{"Type": cos.Name("XObject"), "Subtype": cos.Name("Form"),
			"BBox": cos.Array{int64(0), int64(0), r[2], r[3]}}, Raw: []byte{}}
		widget := cos.Dict{
			"Type": cos.Name("Annot"), "Subtype": cos.Name("Widget"), "FT": cos.Name("Sig"),
			"T": textString(nf.Name), "F": int64(4), // Print
			"P": pageRef, "Rect": cos.Array{r[0], r[1], r[0] + r[2], r[1] + r[3]},
			"AP": cos.Dict{"N": u.add(ap)},
		}
		if nf.Lock != nil {
			widget["Lock"] = nf.Lock.dict("SigFieldLock")
		}
		if _, rotate := d.pageBox(page); rotate != 0 {
			widget["MK"] = cos.Dict{"R": int64(rotate)} // upright on the turned page, as a signature drawn in it is
		}
		if err := d.addWidget(u, widget, pageRef, page); err != nil {
			return err
		}
		d.names[nf.Name] = true
	}
	return nil
}
