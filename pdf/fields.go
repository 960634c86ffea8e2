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
}

// Limits on the walks, far beyond real documents.
const (
	maxFieldDepth = 32
	maxVisited    = 1 << 16
)

// collectSignatures finds every signature dictionary: through the form's
// fields (any /Kids hierarchy; /FT and /V inherited from a parent, as ISO
// 32000-1 §12.7.3.1 allows; field and widget merged or not), through the
// pages' widgets (some signers leave their field out of /Fields).
func collectSignatures(f *cos.File, catalog cos.Dict) []sigInfo {
	var out []sigInfo
	seen := map[cos.Ref]bool{}
	visited := map[cos.Ref]bool{}
	add := func(field string, v cos.Object) {
		ref, _ := v.(cos.Ref)
		if ref != (cos.Ref{}) && seen[ref] {
			return
		}
		d, _ := f.ResolveDict(v)
		if d == nil || !isSignatureDict(d) {
			return
		}
		if ref != (cos.Ref{}) {
			seen[ref] = true
		}
		out = append(out, sigInfo{field: field, ref: ref, dict: d})
	}
	var walk func(o cos.Object, prefix string, ft, v cos.Object, depth int)
	walk = func(o cos.Object, prefix string, ft, v cos.Object, depth int) {
		if r, ok := o.(cos.Ref); ok {
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
		if ka, ok := kids.(cos.Array); ok && len(ka) > 0 {
			// Kids that are fields (they have /T) carry on the name; kids
			// that are only widgets belong to this field.
			fieldKids := false
			for _, k := range ka {
				if kd, _ := f.ResolveDict(k); kd != nil && kd["T"] != nil {
					fieldKids = true
				}
			}
			if fieldKids {
				for _, k := range ka {
					walk(k, name, ft, v, depth+1)
				}
				return
			}
		}
		if ft == cos.Name("Sig") && v != nil {
			add(name, v)
		}
	}
	form, _ := f.ResolveDict(catalog["AcroForm"])
	fields, _ := f.Resolve(form["Fields"])
	if arr, ok := fields.(cos.Array); ok {
		for _, fo := range arr {
			walk(fo, "", nil, nil, 0)
		}
	}
	eachPage(f, catalog, func(page cos.Dict) {
		annots, _ := f.Resolve(page["Annots"])
		arr, _ := annots.(cos.Array)
		for _, a := range arr {
			// A widget whose field is not in /Fields: climb to its field
			// through /Parent to name it as its form would.
			walk(topField(f, a), "", nil, nil, 0)
		}
	})
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
