package pdf

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/paraphe/paraphe/pdf/internal/cos"
)

// Damaged structures are refused with their damage named, leave nothing
// behind, and sign with Repair, saying what was rebuilt; qpdf and pdfsig
// judge the repaired copies.
func TestDamagedRefusedUnlessRepaired(t *testing.T) {
	p := newPKI(t)
	sound := makePDF(3, true)
	xref := bytes.LastIndex(sound, []byte("\nxref\n")) + 1
	page3 := bytes.Index(sound, []byte("11 0 obj"))
	for _, tc := range []struct {
		name string
		data []byte
		want Damage // Objects are checked when Rebuilt, as at least 1
		// qpdf's own judgement of the input: it tolerates a missing
		// %%EOF, which ISO 32000-1 7.5.5 requires.
		qpdfDamaged bool
	}{
		{"no %%EOF", bytes.TrimSuffix(sound, []byte("%%EOF\n")), Damage{Truncated: true, Pages: 3, PagesDeclared: 3}, false},
		{"cut in the cross-reference table", sound[:xref+40], Damage{Truncated: true, Rebuilt: true, Pages: 3, PagesDeclared: 3}, true},
		{"cut before the last page", sound[:page3], Damage{Truncated: true, Rebuilt: true, Pages: 2, PagesDeclared: 3}, true},
		{"startxref pointing nowhere", bytes.Replace(sound, []byte("startxref\n"+itoa(xref)), []byte("startxref\n"+itoa(xref-7)), 1),
			Damage{Rebuilt: true, Pages: 3, PagesDeclared: 3}, true},
		{"cross-reference keyword lost", append(append(append([]byte{}, sound[:xref]...), "xbad"...), sound[xref+4:]...),
			Damage{Rebuilt: true, Pages: 3, PagesDeclared: 3}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in, _, err := signFile(t, p, tc.data, Options{})
			var de *DamagedError
			if !errors.Is(err, ErrNeedsRepair) || !errors.As(err, &de) || !sameDamage(de.Damage, tc.want) {
				t.Fatalf("without Repair: %v, want damage %+v", err, tc.want)
			}
			if names, _ := os.ReadDir(filepath.Dir(in)); len(names) != 1 {
				t.Fatalf("a refused file left %d files in its folder", len(names))
			}
			if got, _ := os.ReadFile(in); !bytes.Equal(got, tc.data) {
				t.Fatal("the input changed")
			}
			if _, text := qpdfCheck(t, in); strings.Contains(text, "file is damaged") != tc.qpdfDamaged {
				t.Fatalf("qpdf --check of the input:\n%s", text)
			}
			if d, err := Inspect(in, Options{}); err != nil || d == nil || !sameDamage(*d, tc.want) {
				t.Fatalf("Inspect: %+v, %v", d, err)
			}

			in, res, err := signFile(t, p, tc.data, Options{Repair: true})
			if err != nil || res.Repaired == nil || !sameDamage(*res.Repaired, tc.want) {
				t.Fatalf("with Repair: %v, repaired %+v", err, res)
			}
			if got, _ := os.ReadFile(in); !bytes.Equal(got, tc.data) {
				t.Fatal("the input changed")
			}
			if _, text := qpdfCheck(t, res.Output); strings.Contains(text, "file is damaged") {
				t.Fatalf("qpdf --check of the repaired copy:\n%s", text)
			}
			if r := pdfsig(t, nssDB(t, p.root), res.Output); !strings.Contains(r, "Signature is Valid") || !strings.Contains(r, "Total document signed") {
				t.Fatalf("pdfsig of the repaired copy:\n%s", r)
			}
		})
	}
}

func sameDamage(got, want Damage) bool {
	if want.Rebuilt && got.Objects < 1 {
		return false
	}
	got.Objects = 0
	return got == want
}

// Damage inside a stream's data (a picture, a font, a page's content) is
// not structure damage: every corpus file with bytes garbled in its largest
// such stream still signs without Repair, and qpdf finds its structure
// sound too.
func TestStreamDamageIsNotStructural(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join("testdata", "corpus", "*.pdf"))
	if len(files) == 0 {
		t.Skip("no corpus: run scripts/corpus.sh (make test does)")
	}
	p := newPKI(t)
	s := &Signer{Key: p.key, Chain: p.chain()}
	for _, src := range files {
		t.Run(filepath.Base(src), func(t *testing.T) {
			data, _ := os.ReadFile(src)
			f, err := cos.Open(bytes.NewReader(data), int64(len(data)))
			if err != nil || f.Rebuilt || f.MissingEOF {
				t.Skip("damaged already")
			}
			at, n := largestStream(f)
			if n < 64 {
				t.Skip("no stream to garble")
			}
			garbled := append([]byte{}, data...)
			for i := at + n/2 - 16; i < at+n/2+16; i++ {
				garbled[i] ^= 0x5a
			}
			in := filepath.Join(t.TempDir(), "in.pdf")
			os.WriteFile(in, garbled, 0o644)
			if _, text := qpdfCheck(t, in); strings.Contains(text, "file is damaged") {
				t.Fatalf("qpdf finds the structure damaged:\n%s", text)
			}
			res, err := s.SignFile(context.Background(), in, OutputName(in))
			if err != nil || res.Repaired != nil {
				t.Fatalf("%v, repaired %+v", err, res)
			}
		})
	}
}

// largestStream returns where the data of f's largest stream starts and its
// length, leaving out the streams that hold the file's structure.
func largestStream(f *cos.File) (at, n int) {
	for _, num := range f.Nums() {
		if kind, _, _ := f.Where(num); kind != 'n' {
			continue
		}
		o, err := f.Get(cos.Ref{Num: num})
		s, ok := o.(*cos.Stream)
		if err != nil || !ok || s.Dict["Type"] == cos.Name("ObjStm") || s.Dict["Type"] == cos.Name("XRef") {
			continue
		}
		length, _ := f.Resolve(s.Dict["Length"])
		if l, ok := cos.Int(length); ok && int(l) > n && s.Offset+l <= f.Size {
			at, n = int(s.Offset), int(l)
		}
	}
	return at, n
}
