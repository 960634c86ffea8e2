package pdf

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/paraphe/paraphe/cms"
	"github.com/paraphe/paraphe/pdf/internal/cos"
)

// FuzzSign feeds arbitrary bytes to everything that reads a PDF on the way
// to a signature: the parser, the document walk, the update writer. It may
// refuse the input, never panic or hang.
func FuzzSign(f *testing.F) {
	f.Add(makePDF(1, true))
	f.Add(makePDF(3, false))
	f.Add([]byte("%PDF-1.7\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj trailer << /Root 1 0 R >>"))
	f.Add([]byte("%PDF-1.5\n1 0 obj\n<< /Type /XRef /W [1 2 1] /Size 3 /Filter /FlateDecode /Length 3 >>\nstream\nxyz\nendstream\nendobj\nstartxref\n9\n%%EOF"))
	p := newPKI(f)
	// Invisible: the stamp's font work is not parser-facing.
	s := &Signer{Key: p.key, Chain: p.chain()}
	f.Fuzz(func(t *testing.T, data []byte) {
		done := make(chan struct{})
		go func() {
			defer close(done)
			r := bytes.NewReader(data)
			file, err := cos.Open(r, int64(len(data)))
			if err != nil {
				return
			}
			doc, err := readDocument(file)
			if err != nil {
				return
			}
			collectSignatures(file, doc.catalog)
			readDSS(file, doc.catalog)
			s.write(context.Background(), file, doc, r, int64(len(data)), io.Discard)
		}()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			buf := make([]byte, 1<<16)
			t.Fatalf("no answer in 10 s:\n%s", buf[:runtime.Stack(buf, true)])
		}
	})
}

// FuzzVerify feeds arbitrary bytes to the verifier, seeded with the real
// signed files of the DSS corpus, signatures of our own at each level and
// the signature data alone: it may refuse or fail a signature, never panic
// or hang.
func FuzzVerify(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("..", "..", "shared", "corpus", "dss-samples", "*.pdf"))
	for _, name := range files {
		if data, err := os.ReadFile(name); err == nil && len(data) < 256<<10 && bytes.Contains(data, []byte("/ByteRange")) {
			f.Add(data)
		}
	}
	p := newPKI(f)
	for _, in := range [][]byte{makePDF(1, true), makePDF(2, false)} {
		dir := f.TempDir()
		src := filepath.Join(dir, "in.pdf")
		os.WriteFile(src, in, 0o644)
		s := &Signer{Key: p.key, Chain: p.chain()}
		if _, err := s.SignFile(context.Background(), src, filepath.Join(dir, "out.pdf")); err == nil {
			data, _ := os.ReadFile(filepath.Join(dir, "out.pdf"))
			f.Add(data)
		}
	}
	opts := VerifyOptions{Trust: []Anchor{{Cert: p.root, Source: SourcePolicy}}}
	f.Fuzz(func(t *testing.T, data []byte) {
		done := make(chan struct{})
		go func() {
			defer close(done)
			rep, err := VerifyReader(context.Background(), bytes.NewReader(data), int64(len(data)), "fuzz.pdf", opts)
			if err == nil {
				for _, s := range rep.Signatures {
					if s.Indication == "" || (s.Indication == TotalPassed && !s.Intact) {
						t.Errorf("verdict %q with intact=%v", s.Indication, s.Intact)
					}
				}
			}
			// The signature data alone, as the CMS reader meets it.
			cms.Parse(data)
			cms.ParseTimestamp(data)
		}()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			buf := make([]byte, 1<<16)
			t.Fatalf("no answer in 10 s:\n%s", buf[:runtime.Stack(buf, true)])
		}
	})
}
