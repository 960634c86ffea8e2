package pdf

import (
	"fmt"
	"slices"
	"strings"

	"github.com/paraphe/paraphe/pdf/internal/cos"
)

// Permissions of a certification (DocMDP, ISO 32000-2 §12.8.2.2): what may
// change in the document after it without invalidating it.
const (
	MDPNoChanges   = 1 // nothing (validation data and document time-stamps aside)
	MDPFormFilling = 2 // filling forms, signing; the default
	MDPAnnotations = 3 // also adding, changing and removing annotations
)

// LockAction says which fields a FieldLock covers.
type LockAction string

// The actions of ISO 32000-2 Table 259.
const (
	LockAll     LockAction = "All"     // every field of the form
	LockInclude LockAction = "Include" // the fields named
	LockExclude LockAction = "Exclude" // every field but those named
)

// FieldLock is the set of form fields a signature locks (FieldMDP, ISO
// 32000-2 §12.8.2.4): a later change to one of them invalidates the
// signature. A name also locks the fields under it in the form's
// hierarchy ("Acte" locks "Acte.Date").
type FieldLock struct {
	Action LockAction `json:"action"`
	Fields []string   `json:"fields,omitempty"` // full field names, for Include and Exclude
}

// covers reports whether the lock applies to the field (or the node of the
// form's hierarchy) named name.
func (l *FieldLock) covers(name string) bool {
	if l == nil {
		return false
	}
	switch l.Action {
	case LockAll:
		return true
	case LockInclude:
		for _, f := range l.Fields {
			// The field itself, one under it, or a node above it whose
			// change (an inherited value) reaches it.
			if f == name || strings.HasPrefix(name, f+".") || strings.HasPrefix(f, name+".") {
				return true
			}
		}
		return false
	case LockExclude:
		for _, f := range l.Fields {
			if f == name || strings.HasPrefix(name, f+".") {
				return false
			}
		}
		return true
	}
	return false
}

// union is the lock covering what a or b covers.
func (l *FieldLock) union(m *FieldLock) *FieldLock {
	a, b := l, m
	switch {
	case a == nil:
		return b
	case b == nil:
		return a
	case a.Action == LockAll || b.Action == LockAll:
		return &FieldLock{Action: LockAll}
	case a.Action == LockInclude && b.Action == LockInclude:
		fields := append(append([]string{}, a.Fields...), b.Fields...)
		slices.Sort(fields)
		return &FieldLock{Action: LockInclude, Fields: slices.Compact(fields)}
	case a.Action == LockExclude && b.Action == LockExclude:
		var both []string
		for _, f := range a.Fields {
			if slices.Contains(b.Fields, f) {
				both = append(both, f)
			}
		}
		return &FieldLock{Action: LockExclude, Fields: both}
	}
	// One excludes, the other includes: everything but what the first
	// excludes and the second does not name.
	ex, in := a, b
	if b.Action == LockExclude {
		ex, in = b, a
	}
	var left []string
	for _, f := range ex.Fields {
		if !slices.Contains(in.Fields, f) {
			left = append(left, f)
		}
	}
	return &FieldLock{Action: LockExclude, Fields: left}
}

// dict writes the lock as the entries of a FieldMDP transform parameters or
// a signature field lock dictionary (ISO 32000-2 Tables 259 and 236).
func (l *FieldLock) dict(typ cos.Name) cos.Dict {
	d := cos.Dict{"Type": typ, "Action": cos.Name(l.Action)}
	if l.Action != LockAll {
		names := cos.Array{}
		for _, f := range l.Fields {
			names = append(names, textString(f))
		}
		d["Fields"] = names
	}
	return d
}

// readLock reads a FieldMDP transform parameters or a field's /Lock
// dictionary; nil when it says nothing that can be read.
func readLock(f *cos.File, o cos.Object) *FieldLock {
	d, _ := f.ResolveDict(o)
	if d == nil {
		return nil
	}
	l := &FieldLock{Action: LockAction(nameOf(d["Action"]))}
	switch l.Action {
	case LockAll:
		return l
	case LockInclude, LockExclude:
	default:
		return nil
	}
	names, _ := f.Resolve(d["Fields"])
	arr, _ := names.(cos.Array)
	for _, n := range arr {
		x, _ := f.Resolve(n)
		if s := toString(x); s != nil {
			l.Fields = append(l.Fields, decodeText(s))
		}
	}
	return l
}

// references reads a signature dictionary's /Reference: the P of its
// DocMDP transform (0 without one; 2 when it has no P, its default), and
// the fields its FieldMDP transforms lock.
func references(f *cos.File, sig cos.Dict) (p int64, lock *FieldLock) {
	refs, _ := f.Resolve(sig["Reference"])
	arr, _ := refs.(cos.Array)
	for _, x := range arr {
		d, _ := f.ResolveDict(x)
		switch d["TransformMethod"] {
		case cos.Name("DocMDP"):
			params, _ := f.ResolveDict(d["TransformParams"])
			p = MDPFormFilling
			if n, ok := cos.Int(params["P"]); ok && n >= MDPNoChanges && n <= MDPAnnotations {
				p = n
			}
		case cos.Name("FieldMDP"):
			lock = lock.union(readLock(f, d["TransformParams"]))
		}
	}
	return p, lock
}

// certification returns the P of the document's certification: the
// signature the catalog's /Perms names as its DocMDP, 0 when there is none.
func certification(f *cos.File, catalog cos.Dict) (cos.Ref, int64) {
	perms, _ := f.ResolveDict(catalog["Perms"])
	ref, _ := perms["DocMDP"].(cos.Ref)
	sig, _ := f.ResolveDict(perms["DocMDP"])
	if sig == nil {
		return ref, 0
	}
	p, _ := references(f, sig)
	if p == 0 {
		// Named in /Perms without a DocMDP reference: readers take the
		// default.
		p = MDPFormFilling
	}
	return ref, p
}

// locksOf is what a signature locks: its FieldMDP transforms, and the
// /Lock of its field as the signature signed it.
func locksOf(f *cos.File, sig cos.Dict, field cos.Dict) *FieldLock {
	_, lock := references(f, sig)
	if field != nil {
		lock = lock.union(readLock(f, field["Lock"]))
	}
	return lock
}

// checkSignature refuses, before anything is fetched or signed, what the
// options ask that the document cannot take: a certification level out of
// range, a field locked by an earlier signature, a lock on a field the
// form does not have.
func (d *document) checkSignature(o Options) error {
	if o.MDP != 0 && (o.MDP < MDPNoChanges || o.MDP > MDPAnnotations) {
		return fmt.Errorf("%w: %d", ErrMDP, o.MDP)
	}
	if app := d.appearance(o); app != nil && app.Field != "" {
		name := app.Field
		if d.emptySigs[name] == nil {
			return fmt.Errorf("%w: %q", ErrUnknownField, name)
		}
		if by := d.lockedBy(name); by != "" {
			return &FieldLockedError{Field: name, By: by}
		}
	}
	if o.Lock != nil {
		for _, name := range o.Lock.Fields {
			if !d.hasField(name) {
				return fmt.Errorf("%w: %q", ErrLockField, name)
			}
		}
	}
	return nil
}

// FieldLockedError says which signature locks a field (ErrFieldLocked).
type FieldLockedError struct {
	Field string // the field asked for
	By    string // the signed field whose signature locks it
}

func (e *FieldLockedError) Error() string {
	return fmt.Sprintf("pdf: the field %q is locked by the signature in %q", e.Field, e.By)
}

func (e *FieldLockedError) Unwrap() error { return ErrFieldLocked }

// hasField reports whether the form has a field named name, or fields
// under it.
func (d *document) hasField(name string) bool {
	for _, ff := range d.form.fields {
		if ff.name == name || strings.HasPrefix(ff.name, name+".") {
			return true
		}
	}
	return false
}

// lockedBy returns the name of the signed field whose signature locks the
// field named name, or "".
func (d *document) lockedBy(name string) string {
	for _, ff := range d.form.signatureFields() {
		if ff.name == name {
			continue
		}
		sig, _ := d.f.ResolveDict(ff.v)
		if sig == nil || !isSignatureDict(sig) {
			continue
		}
		if locksOf(d.f, sig, ff.dict).covers(name) && fieldExistedWhenSigned(d.f, sig, name) {
			return ff.name
		}
	}
	return ""
}

// addReferences writes the signature's /Reference: a certification's
// DocMDP transform (and the catalog's /Perms naming it), and a FieldMDP
// transform for the fields it locks: those asked, and those the field it
// fills asks to lock (its /Lock).
func (d *document) addReferences(u *update, sig cos.Dict, sigRef cos.Ref, o Options) {
	var refs cos.Array
	if o.Certify {
		p := int64(o.MDP)
		if p == 0 {
			p = MDPFormFilling
		}
		refs = append(refs, cos.Dict{"Type": cos.Name("SigRef"), "TransformMethod": cos.Name("DocMDP"),
			"TransformParams": cos.Dict{"Type": cos.Name("TransformParams"), "P": p, "V": cos.Name("1.2")}})
		perms, _ := d.f.ResolveDict(d.catalog["Perms"]) // keep /UR3 and the like
		perms = copyDict(perms)
		perms["DocMDP"] = sigRef
		d.catalog["Perms"] = perms
		u.set(d.catalogRef, d.catalog)
	}
	lock := o.Lock
	if app := d.appearance(o); app != nil && app.Field != "" {
		if ff := d.emptySigs[app.Field]; ff != nil {
			lock = lock.union(readLock(d.f, ff.dict["Lock"]))
		}
	}
	if lock != nil {
		params := lock.dict("TransformParams")
		params["V"] = cos.Name("1.2")
		// /Data, the object the analysis starts from, is the catalog (as
		// Acrobat and pyHanko write it).
		refs = append(refs, cos.Dict{"Type": cos.Name("SigRef"), "TransformMethod": cos.Name("FieldMDP"),
			"Data": d.catalogRef, "TransformParams": params})
	}
	if len(refs) > 0 {
		sig["Reference"] = refs
	}
}

// fieldExistedWhenSigned reports whether the field named name was in the
// form the signature sig signed: a lock covers the fields there were then
// (the verifier judges so; a field added afterwards may still be signed).
func fieldExistedWhenSigned(f *cos.File, sig cos.Dict, name string) bool {
	arr, _ := sig["ByteRange"].(cos.Array)
	if len(arr) != 4 {
		return true
	}
	a, _ := cos.Int(arr[2])
	b, _ := cos.Int(arr[3])
	old, err := f.Revision(a + b)
	if err != nil {
		return true
	}
	doc, err := readDocument(old)
	if err != nil {
		return true
	}
	for _, ff := range readForm(old, doc.catalog).fields {
		if ff.name == name || strings.HasPrefix(ff.name, name+".") {
			return true
		}
	}
	return false
}
