package pdf

import (
	"bytes"
	"io"
	"slices"
	"sort"
	"strings"
	"time"
	"unicode/utf16"

	"github.com/paraphe/paraphe/pdf/internal/cos"
)

// Kinds of change after a signature, as SignatureReport.Changes lists them
// (a form field's name follows ChangeFormField after a colon).
const (
	ChangeSignature      = "signature_added"
	ChangeValidationData = "validation_data_added"
	ChangeFormField      = "form_field_filled"
	ChangeCatalog        = "catalog_changed"
	ChangePageAdded      = "page_added"
	ChangePage           = "page_changed"
	ChangeContent        = "content_changed"
	ChangeUnreadable     = "unreadable"
	ChangeMetadata       = "metadata_changed"      // the document information or XMP metadata: allowed
	ChangeTimestamp      = "timestamp_added"       // a document time-stamp
	ChangeSignatureField = "signature_field_added" // an empty signature field, for a later signer
	ChangeAnnotation     = "annotation_changed"    // comments and other annotations: allowed by a certification of level 3
	ChangeLockedField    = "locked_field_changed"  // a field the signature locks (its name after a colon)
)

// Changes are every change kind, for the catalogue's tests.
var Changes = []string{ChangeSignature, ChangeValidationData, ChangeFormField, ChangeCatalog, ChangePageAdded, ChangePage,
	ChangeContent, ChangeUnreadable, ChangeMetadata, ChangeTimestamp, ChangeSignatureField, ChangeAnnotation, ChangeLockedField}

// changeJudge compares the revision a signature covers with the whole file.
// Every object is compared by content (objects in object streams too), and
// a change is judged by what the object was in the signed revision, never
// by what the new version says it is: the catalog may gain a form, a /DSS
// or extensions; a page may gain annotations that are signature widgets; the
// form may gain signature fields; an existing field may be filled, unless
// the signature locks it (FieldMDP); an existing /DSS may grow; under a
// certification of level 3, annotations may come, change and go; under one
// of level 1, only validation data, document time-stamps and metadata may
// be added. Anything else — content, fonts, pages, annotations that draw,
// removed objects, signature dictionaries rewritten — is a change signing
// does not allow. New objects matter only through what refers to them, so
// they are judged where they are referenced.
type changeJudge struct {
	old, cur *cos.File
	changes  []string
	bad      bool
	seen     map[string]bool
	// metadata are the signed revision's document information dictionary
	// and XMP stream; dss the objects of its /DSS. Signers and validation
	// tools update both after signing (iText's LTV writes /ModDate), and
	// neither is content (pyHanko and DSS allow them too).
	metadata, dss map[int]bool
	// document is every object number the signed revision's catalog leads
	// to other than through its /DSS and /Metadata, including numbers it
	// refers to that the revision does not hold: what the document shows
	// and does. It is found once, when first needed (documentObjects).
	document map[int]bool
	// mdp is the P of the signed revision's certification (0: none);
	// locks the fields the signature locks.
	mdp   int64
	locks *FieldLock
	form  *form // the signed revision's, found when first needed (oldForm)
	// refs are, per object of the signed revision, the numbers it refers
	// to (found with document); referrers the other way round, when first
	// needed.
	refs, referrers map[int][]int
}

// oldForm is the signed revision's form: its fields and who owns which
// object.
func (j *changeJudge) oldForm() *form {
	if j.form == nil {
		cat, _ := j.old.ResolveDict(j.old.Trailer["Root"])
		j.form = readForm(j.old, cat)
	}
	return j.form
}

// maxDocumentObjects bounds the walk of documentObjects (ISO 32000-1 C.2
// allows 8,388,607 objects).
const maxDocumentObjects = 1 << 23

// documentObjects returns the object numbers the signed revision's catalog
// leads to, the /DSS and /Metadata entries of the catalog left aside. An
// object among them is part of the document whatever it looks like, even
// when the /Info or the /DSS names it too; a number among them that the
// signed revision does not hold (a reference to nothing, which readers take
// as null) changes the document when an update fills it in. Objects are read
// in the order of their numbers, so that those of one object stream come
// together, and the references are followed in memory.
func (j *changeJudge) documentObjects() map[int]bool {
	if j.document != nil {
		return j.document
	}
	nums := j.old.Nums()
	sort.Ints(nums)
	refs := make(map[int][]int, len(nums))
	for _, n := range nums {
		o, err := j.old.Get(cos.Ref{Num: n})
		if err != nil {
			continue
		}
		refs[n] = refsIn(o, nil, 0)
	}
	j.refs = refs
	j.document = map[int]bool{}
	root, _ := j.old.Trailer["Root"].(cos.Ref)
	j.document[root.Num] = true
	var todo []int
	if cat, _ := j.old.ResolveDict(root); cat != nil {
		for k, v := range cat {
			if k != "DSS" && k != "Metadata" {
				todo = refsIn(v, todo, 0)
			}
		}
	}
	for len(todo) > 0 && len(j.document) < maxDocumentObjects {
		n := todo[len(todo)-1]
		todo = todo[:len(todo)-1]
		if j.document[n] {
			continue
		}
		j.document[n] = true
		todo = append(todo, refs[n]...)
	}
	return j.document
}

// refsIn appends the numbers of the objects o refers to.
func refsIn(o cos.Object, into []int, depth int) []int {
	if depth > 64 {
		return into
	}
	switch v := o.(type) {
	case cos.Ref:
		into = append(into, v.Num)
	case cos.Dict:
		for _, x := range v {
			into = refsIn(x, into, depth+1)
		}
	case cos.Array:
		for _, x := range v {
			into = refsIn(x, into, depth+1)
		}
	case *cos.Stream:
		into = refsIn(v.Dict, into, depth+1)
	}
	return into
}

func (j *changeJudge) note(s string, allowed bool) {
	if !allowed {
		j.bad = true
	}
	if !j.seen[s] {
		j.seen[s] = true
		j.changes = append(j.changes, s)
	}
}

// laterChanges returns the changes made after the first revEnd bytes,
// which signature sig signs, and whether any of them is not allowed.
func laterChanges(r io.ReaderAt, revEnd int64, f *cos.File, sig sigInfo) ([]string, bool) {
	old, err := f.OpenRevision(io.NewSectionReader(r, 0, revEnd), revEnd)
	if err != nil {
		return []string{ChangeUnreadable}, true
	}
	j := &changeJudge{old: old, cur: f, seen: map[string]bool{}, metadata: map[int]bool{}, dss: map[int]bool{}}
	rootOld, _ := old.Trailer["Root"].(cos.Ref)
	if r, ok := old.Trailer["Info"].(cos.Ref); ok {
		j.metadata[r.Num] = true
	}
	if cat, _ := old.ResolveDict(rootOld); cat != nil {
		if r, ok := cat["Metadata"].(cos.Ref); ok {
			j.metadata[r.Num] = true
		}
		j.reach(cat["DSS"], j.dss, 0)
		_, j.mdp = certification(old, cat)
	}
	if sig.dict != nil {
		// What the signature locks, as it signed it: its own /Reference,
		// and its field's /Lock in the signed revision.
		var field cos.Dict
		for _, ff := range j.oldForm().fields {
			if sig.field != "" && ff.name == sig.field {
				field = ff.dict
			}
		}
		j.locks = locksOf(old, sig.dict, field)
	}
	rootNew, _ := f.Trailer["Root"].(cos.Ref)
	if rootOld != rootNew {
		j.note(ChangeCatalog, false)
	}
	nums := map[int]bool{}
	for _, n := range old.Nums() {
		nums[n] = true
	}
	for _, n := range f.Nums() {
		nums[n] = true
	}
	sorted := make([]int, 0, len(nums))
	for n := range nums {
		sorted = append(sorted, n)
	}
	sort.Ints(sorted)
	for _, n := range sorted {
		k1, a1, g1 := old.Where(n)
		k2, a2, g2 := f.Where(n)
		if k1 == 'n' && k1 == k2 && a1 == a2 && g1 == g2 {
			continue // the very same bytes
		}
		if k1 == 0 {
			if j.documentObjects()[n] {
				// The signed revision referred to it, and had nothing there.
				j.note(ChangeContent, false)
			}
			continue // new: judged where it is referenced
		}
		before, err1 := old.Get(cos.Ref{Num: n, Gen: g1})
		after, err2 := f.Get(cos.Ref{Num: n, Gen: g2})
		if err1 != nil || err2 != nil {
			j.note(ChangeUnreadable, false)
			continue
		}
		if j.same(before, after) {
			continue
		}
		if before != nil && after == nil {
			j.note(ChangeContent, false) // removed
			continue
		}
		j.judge(n, before, after, n == rootOld.Num)
	}
	if j.mdp == MDPNoChanges {
		// A certification that allows no change still allows what keeps
		// its signatures verifiable (ISO 32000-2 §12.8.2.2.2, PAdES).
		for _, c := range j.changes {
			if c != ChangeValidationData && c != ChangeTimestamp && c != ChangeMetadata {
				j.bad = true
			}
		}
	}
	return j.changes, j.bad
}

// reach marks the indirect objects o leads to in the signed revision,
// within the /DSS's few levels.
func (j *changeJudge) reach(o cos.Object, into map[int]bool, depth int) {
	if depth > 4 || len(into) > 1<<16 {
		return
	}
	if r, ok := o.(cos.Ref); ok {
		if into[r.Num] {
			return
		}
		into[r.Num] = true
		o, _ = j.old.Resolve(r)
	}
	switch v := o.(type) {
	case cos.Dict:
		for _, x := range v {
			j.reach(x, into, depth+1)
		}
	case cos.Array:
		for _, x := range v {
			j.reach(x, into, depth+1)
		}
	}
}

// same compares two versions of an object by content.
func (j *changeJudge) same(a, b cos.Object) bool {
	sa, okA := a.(*cos.Stream)
	sb, okB := b.(*cos.Stream)
	if okA != okB {
		return false
	}
	if okA {
		if !bytes.Equal(cos.Append(nil, withoutLength(sa.Dict)), cos.Append(nil, withoutLength(sb.Dict))) {
			return false
		}
		da, err1 := j.old.StreamData(sa)
		db, err2 := j.cur.StreamData(sb)
		return err1 == nil && err2 == nil && bytes.Equal(da, db)
	}
	return bytes.Equal(cos.Append(nil, a), cos.Append(nil, b))
}

func withoutLength(d cos.Dict) cos.Dict {
	c := copyDict(d)
	delete(c, "Length")
	return c
}

// judge decides about an object that existed in the signed revision and
// changed since.
func (j *changeJudge) judge(num int, before, after cos.Object, isRoot bool) {
	bd, _ := cos.AsDict(before)
	_, isArray := before.(cos.Array)
	bs, isStream := before.(*cos.Stream)
	as, afterStream := after.(*cos.Stream)
	plain := !isRoot && !isField(bd) && (bd["Type"] == nil || bd["Type"] == cos.Name("DSS") || bd["Type"] == cos.Name("VRI"))
	xmp := isStream && afterStream && bs.Dict["Type"] == cos.Name("Metadata") && as.Dict["Type"] == cos.Name("Metadata")
	switch {
	// Only what metadata and validation data look like, and nothing the
	// document itself uses: a crafted /Info or /DSS pointing at a page, its
	// resources or its contents must not make them free.
	case j.metadata[num] && (plain && !isStream && !afterStream || xmp) && !j.documentObjects()[num]:
		j.note(ChangeMetadata, true)
		return
	case j.dss[num] && !isStream && !afterStream && (isArray && !j.isFields(num) && !j.isAnnots(num) || plain) && !j.documentObjects()[num]:
		j.note(ChangeValidationData, true)
		return
	}
	ad, _ := cos.AsDict(after)
	_, bStream := before.(*cos.Stream)
	_, aStream := after.(*cos.Stream)
	if bStream || aStream {
		if bd["Type"] == cos.Name("XRef") || bd["Type"] == cos.Name("ObjStm") {
			return // containers: what they hold is compared object by object
		}
		j.note(ChangeContent, false)
		return
	}
	switch {
	case isRoot:
		if !onlyKeysDiffer(ad, bd, "AcroForm", "DSS", "Extensions", "Metadata") {
			j.note(ChangeCatalog, false)
			return
		}
		if !sameValue(bd["Metadata"], ad["Metadata"]) {
			j.note(ChangeMetadata, true)
		}
		j.formChanged(bd["AcroForm"], ad["AcroForm"])
		if !sameValue(bd["DSS"], ad["DSS"]) {
			j.note(ChangeValidationData, true)
		}
	case bd["Type"] == cos.Name("Page"):
		if !onlyKeysDiffer(ad, bd, "Annots") {
			j.note(ChangePage, false)
			return
		}
		j.listGrew(bd["Annots"], ad["Annots"], true)
	case bd["Type"] == cos.Name("Pages"):
		j.note(ChangePageAdded, false)
	case bd["Type"] == cos.Name("Sig") || bd["Type"] == cos.Name("DocTimeStamp"):
		j.note(ChangeContent, false) // a signature dictionary rewritten
	case bd["Type"] == cos.Name("DSS"):
		j.note(ChangeValidationData, true)
	case bd["Fields"] != nil && j.isForm(num):
		j.formChanged(cos.Ref{Num: num}, cos.Ref{Num: num})
	case j.oldForm().owner[num] != nil || isField(bd):
		j.fieldFilled(num, bd, ad)
	case isAnnotation(bd):
		// A comment, a highlight, a link…: its own kind of change, allowed
		// only by a certification of level 3; still an annotation after.
		j.note(ChangeAnnotation, j.mdp == MDPAnnotations && isAnnotation(ad) && j.onlyAnAnnotation(num))
	default:
		if _, isArray := before.(cos.Array); isArray {
			switch {
			case j.isFields(num):
				j.listGrew(before, after, false)
				return
			case j.isAnnots(num):
				j.listGrew(before, after, true)
				return
			}
		}
		j.note(ChangeContent, false)
	}
}

// onlyAnAnnotation reports whether the signed revision's object num is an
// annotation and nothing else: listed in a page's /Annots, and referred to
// only from there and from other annotations' /Popup, /IRT or /Parent. A
// dictionary that only looks like one (a page's resources given a
// /Subtype) must not make what it really is free to change under P=3.
func (j *changeJudge) onlyAnAnnotation(num int) bool {
	j.documentObjects()
	if j.referrers == nil {
		j.referrers = map[int][]int{}
		for n, rs := range j.refs {
			for _, r := range rs {
				j.referrers[r] = append(j.referrers[r], n)
			}
		}
	}
	refersBesides := func(d cos.Dict, keys ...cos.Name) bool {
		c := copyDict(d)
		for _, k := range keys {
			delete(c, k)
		}
		return slices.Contains(refsIn(c, nil, 0), num)
	}
	listed := false
	for _, r := range j.referrers[num] {
		o, _ := j.old.Get(cos.Ref{Num: r})
		d, isDict := o.(cos.Dict)
		_, isArray := o.(cos.Array)
		switch {
		case isArray && j.isAnnots(r):
			listed = true
		case isDict && d["Type"] == cos.Name("Page") && !refersBesides(d, "Annots"):
			annots, _ := d["Annots"].(cos.Array)
			listed = listed || slices.Contains(refsIn(annots, nil, 0), num)
		case isDict && isAnnotation(d) && !refersBesides(d, "Popup", "IRT", "Parent"):
		default:
			return false
		}
	}
	return listed
}

// isAnnotation tells an annotation that is not a widget (a field's).
func isAnnotation(d cos.Dict) bool {
	st, ok := d["Subtype"].(cos.Name)
	return ok && st != "Widget" && (d["Type"] == nil || d["Type"] == cos.Name("Annot")) && d["FT"] == nil &&
		d["Kids"] == nil && d["Fields"] == nil
}

// isField tells a form field (or its widget) in the signed revision.
func isField(d cos.Dict) bool {
	return d["FT"] != nil || (d["Parent"] != nil && d["T"] != nil) ||
		(d["Subtype"] == cos.Name("Widget") && d["Parent"] != nil)
}

// fieldFilled judges a change to an object of a field (the field, a
// widget of it, or a node above it, num): its value and appearance may
// change (form filling), and an empty signature field may receive its
// signature; not when the signature locks the field.
func (j *changeJudge) fieldFilled(num int, before, after cos.Dict) {
	node := j.oldForm().owner[num]
	if !onlyKeysDiffer(after, before, "V", "AS", "AP", "MK") {
		j.note(ChangeContent, false)
		return
	}
	name := decodeText(toString(before["T"]))
	var field *formField
	if node != nil {
		name, field = node.name, node.field
	}
	if name != "" && j.locks.covers(name) {
		j.note(ChangeLockedField+":"+name, false)
		return
	}
	if before["FT"] == cos.Name("Sig") || field != nil && field.ft == cos.Name("Sig") {
		j.signatureFilled(num, before, after, field)
		return
	}
	if name == "" {
		j.note(ChangeFormField, true)
		return
	}
	j.note(ChangeFormField+":"+name, true)
}

// signatureFilled judges a change to a signature field or its widget (num):
// an empty field may receive a new signature, and its widgets the
// appearance of it; an appearance alone, nobody's signature, draws on the
// signed page.
func (j *changeJudge) signatureFilled(num int, before, after cos.Dict, field *formField) {
	valueBefore, now := before["V"], after
	if field != nil && field.ref.Num != num {
		// A widget apart from its field: the field's value says.
		valueBefore = field.v
		now, _ = j.cur.ResolveDict(field.ref)
	}
	if valueBefore != nil {
		j.note(ChangeContent, false) // a signed field's value or appearance replaced
		return
	}
	vr, _ := now["V"].(cos.Ref)
	v, _ := j.cur.ResolveDict(vr)
	signed := v != nil && isSignatureDict(v) && j.isNew(vr.Num)
	if !signed && !sameValue(before["AP"], after["AP"]) && !j.drawsNothing(after) {
		j.note(ChangeContent, false)
		return
	}
	if signed && v["Type"] == cos.Name("DocTimeStamp") {
		j.note(ChangeTimestamp, true)
		return
	}
	j.note(ChangeSignature, true)
}

// isForm reports whether num is the signed revision's form dictionary.
func (j *changeJudge) isForm(num int) bool {
	cat, _ := j.old.ResolveDict(j.old.Trailer["Root"])
	r, ok := cat["AcroForm"].(cos.Ref)
	return ok && r.Num == num
}

// isFields reports whether num is, in the signed revision, the form's
// /Fields array.
func (j *changeJudge) isFields(num int) bool {
	cat, _ := j.old.ResolveDict(j.old.Trailer["Root"])
	form, _ := j.old.ResolveDict(cat["AcroForm"])
	r, ok := form["Fields"].(cos.Ref)
	return ok && r.Num == num
}

// isAnnots reports whether num is, in the signed revision, a page's
// /Annots array.
func (j *changeJudge) isAnnots(num int) bool {
	cat, _ := j.old.ResolveDict(j.old.Trailer["Root"])
	found := false
	eachPage(j.old, cat, func(p cos.Dict) {
		if r, ok := p["Annots"].(cos.Ref); ok && r.Num == num {
			found = true
		}
	})
	return found
}

// formChanged judges the form dictionary: its /Fields may only gain
// signature fields; /SigFlags may change.
func (j *changeJudge) formChanged(before, after cos.Object) {
	bd, _ := j.old.ResolveDict(before)
	ad, _ := j.cur.ResolveDict(after)
	if ad == nil && bd == nil {
		return
	}
	if !onlyKeysDiffer(ad, bd, "Fields", "SigFlags") {
		j.note(ChangeContent, false)
		return
	}
	j.listGrew(bd["Fields"], ad["Fields"], false)
}

// listGrew allows a /Fields or /Annots list to keep all it had and gain
// signature fields and widgets only; under a certification of level 3, a
// page's annotations (annots) may also come and go.
func (j *changeJudge) listGrew(before, after cos.Object, annots bool) {
	b, _ := j.old.Resolve(before)
	a, _ := j.cur.Resolve(after)
	ba, _ := b.(cos.Array)
	aa, _ := a.(cos.Array)
	var added cos.Array
	if annots && j.mdp == MDPAnnotations {
		var ok bool
		if added, ok = j.annotationsChanged(ba, aa); !ok {
			return
		}
	} else {
		if len(aa) < len(ba) {
			j.note(ChangeContent, false)
			return
		}
		for i := range ba {
			if !sameValue(ba[i], aa[i]) {
				j.note(ChangeContent, false)
				return
			}
		}
		added = aa[len(ba):]
	}
	for _, x := range added {
		d, _ := j.cur.ResolveDict(x)
		switch {
		case d != nil && annots && isAnnotation(d):
			j.note(ChangeAnnotation, j.mdp == MDPAnnotations)
			continue
		case d == nil || !j.isSignatureField(d):
			j.note(ChangeContent, false) // an annotation or field that is not a signature
			return
		}
		signed := j.newSignedField(x, d)
		if !signed && !j.drawsNothing(d) {
			// A signature field nobody signed (or someone else's widget)
			// drawing over the page: the "sneaky signature" of Mainka et
			// al. (2021).
			j.note(ChangeContent, false)
			return
		}
		switch {
		case !signed:
			j.note(ChangeSignatureField, true)
		case j.signatureOf(d)["Type"] == cos.Name("DocTimeStamp"):
			j.note(ChangeTimestamp, true)
		default:
			j.note(ChangeSignature, true)
		}
	}
}

// annotationsChanged compares a page's annotations under a certification
// of level 3: those removed must have been annotations (not widgets). It
// returns those added, for listGrew to judge, and false once a removal is
// not allowed.
func (j *changeJudge) annotationsChanged(before, after cos.Array) (cos.Array, bool) {
	key := func(o cos.Object) string { return string(cos.Append(nil, o)) }
	had := map[string]bool{}
	for _, x := range before {
		had[key(x)] = true
	}
	has := map[string]bool{}
	var added cos.Array
	for _, x := range after {
		has[key(x)] = true
		if !had[key(x)] {
			added = append(added, x)
		}
	}
	for _, x := range before {
		if has[key(x)] {
			continue
		}
		d, _ := j.old.ResolveDict(x)
		r, indirect := x.(cos.Ref)
		if d == nil || !isAnnotation(d) || indirect && !j.onlyAnAnnotation(r.Num) {
			j.note(ChangeContent, false) // a widget, a field's, taken away
			return nil, false
		}
		j.note(ChangeAnnotation, true)
	}
	return added, true
}

// signatureOf returns the signature dictionary of the field of the widget
// or field d.
func (j *changeJudge) signatureOf(d cos.Dict) cos.Dict {
	field := d
	if d["FT"] != cos.Name("Sig") {
		field, _ = j.cur.ResolveDict(d["Parent"])
	}
	v, _ := j.cur.ResolveDict(field["V"])
	return v
}

// newSignedField reports whether the field of the widget or field d (ref
// o) is new since the signed revision and holds a new signature
// dictionary: a signature verification reports in its own right, whatever
// it draws.
func (j *changeJudge) newSignedField(o cos.Object, d cos.Dict) bool {
	field, ref := d, o
	if d["FT"] != cos.Name("Sig") {
		ref = d["Parent"]
		field, _ = j.cur.ResolveDict(ref)
	}
	r, ok := ref.(cos.Ref)
	if !ok || field == nil {
		return false
	}
	vr, ok := field["V"].(cos.Ref)
	if !ok || !j.isNew(r.Num) || !j.isNew(vr.Num) {
		// A new field pointing at the signed revision's own signature
		// dictionary would be reported once, as that signature.
		return false
	}
	v, _ := j.cur.ResolveDict(vr)
	return v != nil && isSignatureDict(v)
}

// isNew reports whether object num is new since the signed revision (and
// no reference of it named that number).
func (j *changeJudge) isNew(num int) bool {
	k, _, _ := j.old.Where(num)
	return k == 0 && !j.documentObjects()[num]
}

// drawsNothing reports whether a widget (or a field without one) shows
// nothing: hidden, of no area, without appearance, or with appearance
// streams that are empty.
func (j *changeJudge) drawsNothing(d cos.Dict) bool {
	if fl, _ := cos.Int(s0(j.cur, d["F"])); fl&(2|32) != 0 { // Hidden, NoView
		return true
	}
	rect, _ := s0(j.cur, d["Rect"]).(cos.Array)
	if len(rect) == 4 {
		var v [4]float64
		for i := range 4 {
			v[i], _ = cos.Num(s0(j.cur, rect[i]))
		}
		if v[0] == v[2] || v[1] == v[3] {
			return true
		}
	} else if d["Rect"] == nil {
		return true
	}
	ap, _ := j.cur.ResolveDict(d["AP"])
	for _, k := range []cos.Name{"N", "R", "D"} {
		x := s0(j.cur, ap[k])
		streams := []cos.Object{x}
		if states, ok := x.(cos.Dict); ok {
			streams = streams[:0]
			for _, st := range states {
				streams = append(streams, s0(j.cur, st))
			}
		}
		for _, st := range streams {
			switch s := st.(type) {
			case nil:
			case *cos.Stream:
				data, err := j.cur.StreamData(s)
				if err != nil || len(bytes.TrimSpace(data)) > 0 {
					return false
				}
			default:
				return false
			}
		}
	}
	return true
}

func (j *changeJudge) isSignatureField(d cos.Dict) bool {
	if d["FT"] == cos.Name("Sig") {
		return true
	}
	parent, _ := j.cur.ResolveDict(d["Parent"])
	return parent != nil && parent["FT"] == cos.Name("Sig")
}

func sameValue(a, b cos.Object) bool {
	return bytes.Equal(cos.Append(nil, a), cos.Append(nil, b))
}

func onlyKeysDiffer(a, b cos.Dict, allowed ...string) bool {
	ok := map[cos.Name]bool{}
	for _, k := range allowed {
		ok[cos.Name(k)] = true
	}
	for k, v := range a {
		if !ok[k] && !sameValue(v, b[k]) {
			return false
		}
	}
	for k := range b {
		if _, present := a[k]; !present && !ok[k] {
			return false
		}
	}
	return true
}

// decodeText reads a PDF text string (UTF-16BE with a byte-order mark, or
// PDFDocEncoding, treated as Latin-1).
func decodeText(b []byte) string {
	if len(b) >= 2 && b[0] == 0xFE && b[1] == 0xFF {
		u := make([]uint16, 0, len(b)/2)
		for i := 2; i+1 < len(b); i += 2 {
			u = append(u, uint16(b[i])<<8|uint16(b[i+1]))
		}
		return string(utf16.Decode(u))
	}
	var s strings.Builder
	for _, c := range b {
		s.WriteRune(rune(c))
	}
	return s.String()
}

// parsePDFDate reads D:YYYYMMDDHHmmSS+HH'mm'.
func parsePDFDate(s string) (time.Time, bool) {
	s = strings.TrimPrefix(s, "D:")
	if len(s) < 14 {
		return time.Time{}, false
	}
	t, err := time.Parse("20060102150405", s[:14])
	if err != nil {
		return time.Time{}, false
	}
	rest := strings.ReplaceAll(s[14:], "'", "")
	if len(rest) >= 5 && (rest[0] == '+' || rest[0] == '-') {
		hh := int(rest[1]-'0')*10 + int(rest[2]-'0')
		mm := int(rest[3]-'0')*10 + int(rest[4]-'0')
		off := hh*3600 + mm*60
		if rest[0] == '-' {
			off = -off
		}
		t = time.Date(t.Year(), t.Month(), t.Day(), t.Hour(), t.Minute(), t.Second(), 0, time.FixedZone("", off))
	}
	return t, true
}
