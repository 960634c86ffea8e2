package pdf

import (
	"bytes"
	"context"
	"io"
	"runtime"
	"testing"
	"time"

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
