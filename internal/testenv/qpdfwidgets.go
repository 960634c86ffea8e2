package testenv

import (
	"encoding/json"
	"os/exec"
	"path/filepath"
	"testing"
)

// QPDFWidget is where qpdf finds a signature field's widget: its page
// (from 1; 0 when no page lists it) and its /Rect as x, y, width, height.
type QPDFWidget struct {
	Page int
	Rect [4]float64
}

// QPDFSignatureWidgets reads, with qpdf, the widgets of each signature
// field of file, by the field's full name: a reading of the file nobody
// here wrote.
func QPDFSignatureWidgets(t testing.TB, file string) map[string][]QPDFWidget {
	t.Helper()
	Require(t, "qpdf")
	out, err := exec.Command("qpdf", "--json=2", "--json-key=acroform", "--json-key=qpdf", file).Output()
	if err != nil && len(out) == 0 { // exit status 3: warnings, the JSON is there
		t.Fatalf("qpdf --json %s: %v", filepath.Base(file), err)
	}
	var doc struct {
		AcroForm struct {
			Fields []struct {
				FullName   string `json:"fullname"`
				FieldType  string `json:"fieldtype"`
				Page       int    `json:"pageposfrom1"`
				Annotation struct {
					Object string `json:"object"`
				} `json:"annotation"`
			} `json:"fields"`
		} `json:"acroform"`
		QPDF []map[string]json.RawMessage `json:"qpdf"`
	}
	if err := json.Unmarshal(out, &doc); err != nil {
		t.Fatalf("qpdf --json %s: %v", filepath.Base(file), err)
	}
	widgets := map[string][]QPDFWidget{}
	for _, f := range doc.AcroForm.Fields {
		if f.FieldType != "/Sig" {
			continue
		}
		w := QPDFWidget{Page: f.Page}
		var obj struct {
			Value struct {
				Rect []float64 `json:"/Rect"`
			} `json:"value"`
		}
		if len(doc.QPDF) > 1 && json.Unmarshal(doc.QPDF[1]["obj:"+f.Annotation.Object], &obj) == nil && len(obj.Value.Rect) == 4 {
			r := obj.Value.Rect
			x, y := min(r[0], r[2]), min(r[1], r[3])
			w.Rect = [4]float64{x, y, max(r[0], r[2]) - x, max(r[1], r[3]) - y}
		}
		widgets[f.FullName] = append(widgets[f.FullName], w)
	}
	return widgets
}
