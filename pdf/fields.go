package pdf

import (
	"sort"

	"github.com/paraphe/paraphe/pdf/internal/cos"
)

// sigInfo is a signature dictionary found in the file, and the field that
// holds it.
type sigInfo struct {
	field string  // fully qualified field name; "" when no field refers to it
	ref   cos.Ref // the signature dictionary (indirect), zero when direct
	dict  cos.Dict
	// unreferenced: found among the file's objects, not through a field.
	unreferenced bool
	widgets      []Widget // where its field shows
}

// Limits on the walks, far beyond real documents.
const (
	maxFieldDepth = 32
	maxVisited    = 1 << 16
)

// formField is a terminal field of the form: one without kids that are
// fields themselves.
type formField struct {
	name string   // fully qualified: the partial names from the root, joined by periods
	ref  cos.Ref  // the field dictionary; zero when it is direct
	dict cos.Dict // as found
	// ft and v are the field's type and value, its own or inherited from
	// a parent (ISO 32000-1 §12.7.3.1).
	ft, v cos.Object
	// widgets are its annotations: the field itself when field and widget
	// are merged, else its kids.
	widgets []widget
}

// widget is one annotation of a field.
type widget struct {
	ref  cos.Ref // zero when direct
	dict cos.Dict
}

// form is what the walk of a form finds: its terminal fields, in the order
// met, and for every object of a field (its ancestors, itself, its widgets)
// the field it belongs to.
type form struct {
	fields []*formField
	// owner maps each object number of a field hierarchy to the full name
	// of the field it is (or is a widget of); for a field with kids, the
	// partial name up to it.
	owner map[int]*fieldNode
}

// fieldNode is an object of the form's hierarchy.
type fieldNode struct {
	name string
	// field is the terminal field it belongs to: nil for a node with field
	// kids (an ancestor).
	field *formField
}

// readForm walks the form's fields: through /Fields (any /Kids hierarchy;
// /FT and /V inherited from a parent; field and widget merged or not),
// then through the pages' widgets (some signers leave their field out of
// /Fields), naming each field in full as ISO 32000-1 §12.7.3.2 says.
func readForm(f *cos.File, catalog cos.Dict) *form {
	fm := &form{owner: map[int]*fieldNode{}}
	visited := map[cos.Ref]bool{}
	var walk func(o cos.Object, prefix string, ft, v cos.Object, depth int)
	walk = func(o cos.Object, prefix string, ft, v cos.Object, depth int) {
		r, indirect := o.(cos.Ref)
		if indirect {
			if visited[r] {
				return
			}
			visited[r] = true
		}
		d, err := f.ResolveDict(o)
		if err != nil || d == nil || depth > maxFieldDepth || len(visited) > maxVisited {
			return
		}
		name := prefix
		if t := toString(d["T"]); t != nil {
			if name != "" {
				name += "."
			}
			name += decodeText(t)
		}
		if x, ok := d["FT"]; ok {
			ft = x
		}
		if x, ok := d["V"]; ok {
			v = x
		}
		kids, _ := f.Resolve(d["Kids"])
		ka, _ := kids.(cos.Array)
		// Kids that are fields (they have /T) carry on the name; kids
		// that are only widgets belong to this field.
		fieldKids := false
		for _, k := range ka {
			if kd, _ := f.ResolveDict(k); kd != nil && kd["T"] != nil {
				fieldKids = true
			}
		}
		if fieldKids {
			if indirect {
				fm.owner[r.Num] = &fieldNode{name: name}
			}
			for _, k := range ka {
				walk(k, name, ft, v, depth+1)
			}
			return
		}
		ff := &formField{name: name, dict: d, ft: ft, v: v}
		if indirect {
			ff.ref = r
			fm.owner[r.Num] = &fieldNode{name: name, field: ff}
		}
		if len(ka) == 0 {
			if d["Subtype"] == cos.Name("Widget") || d["Rect"] != nil {
				ff.widgets = append(ff.widgets, widget{ref: ff.ref, dict: d})
			}
		}
		for _, k := range ka {
			kd, _ := f.ResolveDict(k)
			if kd == nil {
				continue
			}
			kr, _ := k.(cos.Ref)
			if kr != (cos.Ref{}) {
				if visited[kr] {
					continue
				}
				visited[kr] = true
				fm.owner[kr.Num] = &fieldNode{name: name, field: ff}
			}
			ff.widgets = append(ff.widgets, widget{ref: kr, dict: kd})
		}
		fm.fields = append(fm.fields, ff)
	}
	acro, _ := f.ResolveDict(catalog["AcroForm"])
	fields, _ := f.Resolve(acro["Fields"])
	if arr, ok := fields.(cos.Array); ok {
		for _, fo := range arr {
			walk(fo, "", nil, nil, 0)
		}
	}
	eachPage(f, catalog, func(page cos.Dict) {
		annots, _ := f.Resolve(page["Annots"])
		arr, _ := annots.(cos.Array)
		for _, a := range arr {
			if r, ok := a.(cos.Ref); ok && fm.owner[r.Num] != nil {
				continue // a widget of a field already met
			}
			// A widget whose field is not in /Fields: climb to its field
			// through /Parent to name it as its form would.
			if d, _ := f.ResolveDict(a); d != nil && (d["Subtype"] == cos.Name("Widget") || d["FT"] != nil) {
				walk(topField(f, a), "", nil, nil, 0)
			}
		}
	})
	return fm
}

// signatureFields are the form's fields of type /Sig.
func (fm *form) signatureFields() []*formField {
	var out []*formField
	for _, ff := range fm.fields {
		if ff.ft == cos.Name("Sig") {
			out = append(out, ff)
		}
	}
	return out
}

// collectSignatures finds every signature dictionary the form's signature
// fields hold (readForm says where it looks).
func collectSignatures(f *cos.File, catalog cos.Dict) []sigInfo {
	var out []sigInfo
	var pages map[cos.Ref]int // read once a signed field is met
	seen := map[cos.Ref]bool{}
	for _, ff := range readForm(f, catalog).signatureFields() {
		if ff.v == nil {
			continue
		}
		ref, _ := ff.v.(cos.Ref)
		if ref != (cos.Ref{}) && seen[ref] {
			continue
		}
		d, _ := f.ResolveDict(ff.v)
		if d == nil || !isSignatureDict(d) {
			continue
		}
		if ref != (cos.Ref{}) {
			seen[ref] = true
		}
		if pages == nil {
			pages = widgetPages(f, catalog)
		}
		out = append(out, sigInfo{field: ff.name, ref: ref, dict: d, widgets: widgetsOf(f, ff, pages)})
	}
	return out
}

// unreferencedSignatures returns the signature dictionaries among the
// file's objects that known (the ones fields lead to) does not hold, so
// that a signature no field refers to is reported rather than dropped.
func unreferencedSignatures(f *cos.File, known []sigInfo) []sigInfo {
	seen := map[cos.Ref]bool{}
	for _, s := range known {
		seen[s.ref] = true
	}
	nums := f.Nums()
	sort.Ints(nums)
	var out []sigInfo
	for _, n := range nums {
		kind, _, gen := f.Where(n)
		ref := cos.Ref{Num: n}
		if kind == 'n' {
			ref.Gen = gen
		}
		if seen[ref] {
			continue
		}
		o, err := f.Get(ref)
		if err != nil {
			continue
		}
		if d, ok := o.(cos.Dict); ok && isSignatureDict(d) {
			out = append(out, sigInfo{ref: ref, dict: d, unreferenced: true})
		}
	}
	return out
}

// isSignatureDict reports whether d is a signature or document time-stamp
// dictionary with a value: /ByteRange and /Contents, and a /Type of /Sig or
// /DocTimeStamp or a /Filter (the type is optional for signatures).
func isSignatureDict(d cos.Dict) bool {
	if d["ByteRange"] == nil || d["Contents"] == nil {
		return false
	}
	switch d["Type"] {
	case cos.Name("Sig"), cos.Name("DocTimeStamp"):
		return true
	case nil:
		return d["Filter"] != nil || d["SubFilter"] != nil
	}
	return false
}

// topField follows /Parent from a widget to the outermost field, so a walk
// from there names the field in full.
func topField(f *cos.File, o cos.Object) cos.Object {
	for range maxFieldDepth {
		d, _ := f.ResolveDict(o)
		if d == nil || d["Parent"] == nil {
			return o
		}
		p, _ := f.ResolveDict(d["Parent"])
		if p == nil {
			return o
		}
		o = d["Parent"]
	}
	return o
}

// eachPage calls fn for every page of the page tree, once each.
func eachPage(f *cos.File, catalog cos.Dict, fn func(cos.Dict)) {
	visited := map[cos.Ref]bool{}
	var walk func(o cos.Object, depth int)
	walk = func(o cos.Object, depth int) {
		if r, ok := o.(cos.Ref); ok {
			if visited[r] {
				return
			}
			visited[r] = true
		}
		d, err := f.ResolveDict(o)
		if err != nil || d == nil || depth > 64 || len(visited) > 1<<20 {
			return
		}
		if kids, _ := f.Resolve(d["Kids"]); kids != nil {
			ka, _ := kids.(cos.Array)
			for _, k := range ka {
				walk(k, depth+1)
			}
			return
		}
		fn(d)
	}
	walk(catalog["Pages"], 0)
}
