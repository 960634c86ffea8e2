package pdf

import (
	"fmt"
	"io"
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
)

// laterChanges compares the revision a signature covers (the first revEnd
// bytes) with the whole file and sorts what changed into allowed changes
// (signatures, validation data, their appearances, form filling) and
// others. It returns descriptions of the changes and whether any is not
// allowed.
func laterChanges(r io.ReaderAt, revEnd int64, f *cos.File) ([]string, bool) {
	old, err := cos.Open(io.NewSectionReader(r, 0, revEnd), revEnd)
	if err != nil {
		return []string{ChangeUnreadable}, true
	}
	nums := f.Nums()
	sort.Ints(nums)
	var changes []string
	bad := false
	seen := map[string]bool{}
	note := func(s string, allowed bool) {
		if !allowed {
			bad = true
		}
		if !seen[s] {
			seen[s] = true
			changes = append(changes, s)
		}
	}
	for _, n := range nums {
		k1, a1, g1 := old.Where(n)
		k2, a2, g2 := f.Where(n)
		if k1 == k2 && a1 == a2 && g1 == g2 {
			continue
		}
		obj, err := f.Get(cos.Ref{Num: n, Gen: g2})
		if err != nil {
			note(ChangeUnreadable, false)
			continue
		}
		isNew := k1 == 0
		var prev cos.Object
		if !isNew {
			prev, _ = old.Get(cos.Ref{Num: n, Gen: g1})
		}
		desc, allowed := classify(obj, prev, isNew)
		if desc == "" {
			continue
		}
		note(desc, allowed)
	}
	return changes, bad
}

func classify(obj, prev cos.Object, isNew bool) (string, bool) {
	d, isDict := cos.AsDict(obj)
	_, isStream := obj.(*cos.Stream)
	if !isDict {
		if _, ok := obj.(cos.Array); ok {
			return "", true // /Annots or /Fields lists: judged by what they hold
		}
		return ChangeContent, isNew
	}
	switch d["Type"] {
	case cos.Name("Sig"), cos.Name("DocTimeStamp"), cos.Name("SigRef"), cos.Name("TransformParams"):
		return ChangeSignature, true
	case cos.Name("DSS"), cos.Name("VRI"):
		return ChangeValidationData, true
	case cos.Name("XRef"), cos.Name("ObjStm"):
		return "", true
	case cos.Name("Font"), cos.Name("FontDescriptor"), cos.Name("XObject"):
		return "", isNew // appearance material of a new signature
	case cos.Name("Catalog"):
		pd, _ := cos.AsDict(prev)
		if onlyKeysDiffer(d, pd, "AcroForm", "DSS", "Extensions") {
			return "", true
		}
		return ChangeCatalog, false
	case cos.Name("Page"):
		pd, _ := cos.AsDict(prev)
		if isNew {
			return ChangePageAdded, false
		}
		if onlyKeysDiffer(d, pd, "Annots") {
			return "", true
		}
		return ChangePage, false
	}
	if d["FT"] == cos.Name("Sig") {
		return ChangeSignature, true
	}
	if d["FT"] != nil || d["Parent"] != nil {
		name := decodeText(toString(d["T"]))
		if name == "" {
			return ChangeFormField, true
		}
		return ChangeFormField + ":" + name, true
	}
	if d["Fields"] != nil {
		return "", true // the form dictionary
	}
	if isStream && isNew && d["Type"] == nil {
		return "", true // data of new objects (validation data, fonts)
	}
	if isNew {
		return "", true
	}
	return ChangeContent, false
}

func onlyKeysDiffer(a, b cos.Dict, allowed ...string) bool {
	ok := map[cos.Name]bool{}
	for _, k := range allowed {
		ok[cos.Name(k)] = true
	}
	for k, v := range a {
		if !ok[k] && string(cos.Append(nil, v)) != string(cos.Append(nil, b[k])) {
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
		var hh, mm int
		fmt.Sscanf(rest[1:5], "%02d%02d", &hh, &mm)
		off := hh*3600 + mm*60
		if rest[0] == '-' {
			off = -off
		}
		t = time.Date(t.Year(), t.Month(), t.Day(), t.Hour(), t.Minute(), t.Second(), 0, time.FixedZone("", off))
	}
	return t, true
}
