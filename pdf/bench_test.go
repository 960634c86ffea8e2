package pdf

import (
	"bufio"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// writeBigPDF writes a valid PDF of about size bytes (one page whose
// content sits next to a large image stream) without holding it in memory.
func writeBigPDF(path string, size int64) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	defer f.Close()
	w := bufio.NewWriterSize(f, 1<<20)
	var off int64
	var offs []int64
	put := func(s string) {
		n, _ := w.WriteString(s)
		off += int64(n)
	}
	obj := func(s string) {
		offs = append(offs, off)
		put(fmt.Sprintf("%d 0 obj\n%s\nendobj\n", len(offs), s))
	}
	put("%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
	obj("<< /Type /Catalog /Pages 2 0 R >>")
	obj("<< /Type /Pages /Kids [3 0 R] /Count 1 >>")
	obj("<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R /Resources << /XObject << /Im 5 0 R >> >> >>")
	obj("<< /Length 35 >>\nstream\nq 400 0 0 400 100 300 cm /Im Do Q\nendstream")
	side := int64(1)
	for 3*side*side < size {
		side *= 2
	}
	for 3*side*side > size && side > 1 {
		side--
	}
	n := 3 * side * side
	offs = append(offs, off)
	put(fmt.Sprintf("5 0 obj\n<< /Type /XObject /Subtype /Image /Width %d /Height %d /ColorSpace /DeviceRGB /BitsPerComponent 8 /Length %d >>\nstream\n", side, side, n))
	chunk := make([]byte, 1<<20)
	for i := range chunk {
		chunk[i] = byte(i * 7)
	}
	for left := n; left > 0; {
		k := min(left, int64(len(chunk)))
		w.Write(chunk[:k])
		left -= k
	}
	off += n
	put("\nendstream\nendobj\n")
	xref := off
	put(fmt.Sprintf("xref\n0 %d\n0000000000 65535 f \n", len(offs)+1))
	for _, o := range offs {
		put(fmt.Sprintf("%010d 00000 n \n", o))
	}
	put(fmt.Sprintf("trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n", len(offs)+1, xref))
	return w.Flush()
}

// BenchmarkSign signs and verifies PDFs of 1 MB and 100 MB (and 1 GiB with
// PARAPHE_BENCH_GIB=1) next to the floor: reading, writing and hashing the
// same bytes. Peak memory is measured by make bench around the binary.
func BenchmarkSign(b *testing.B) {
	sizes := []int64{1 << 20, 100 << 20}
	if os.Getenv("PARAPHE_BENCH_GIB") != "" {
		sizes = append(sizes, 1<<30)
	}
	p := newPKI(b)
	dir := b.TempDir()
	for _, size := range sizes {
		in := filepath.Join(dir, "in-"+strconv.FormatInt(size, 10)+".pdf")
		if err := writeBigPDF(in, size); err != nil {
			b.Fatal(err)
		}
		name := fmt.Sprintf("%dMB", size>>20)
		b.Run("paraphe/"+name, func(b *testing.B) {
			b.SetBytes(size)
			s := &Signer{Key: p.key, Chain: p.chain()}
			for i := range b.N {
				out := filepath.Join(dir, fmt.Sprintf("out-%d.pdf", i))
				if _, err := s.SignFile(context.Background(), in, out); err != nil {
					b.Fatal(err)
				}
				os.Remove(out)
			}
		})
		b.Run("verify/"+name, func(b *testing.B) {
			signed := filepath.Join(dir, "signed.pdf")
			s := &Signer{Key: p.key, Chain: p.chain()}
			if _, err := s.SignFile(context.Background(), in, signed); err != nil {
				b.Fatal(err)
			}
			defer os.Remove(signed)
			b.SetBytes(size)
			b.ResetTimer()
			for range b.N {
				rep, err := Verify(context.Background(), signed, VerifyOptions{Anchors: anchorsOf(p.root.Raw)})
				if err != nil || !rep.Signatures[0].Valid() {
					b.Fatalf("%v %+v", err, rep)
				}
			}
		})
		b.Run("floor/"+name, func(b *testing.B) {
			b.SetBytes(size)
			for i := range b.N {
				src, _ := os.Open(in)
				out := filepath.Join(dir, fmt.Sprintf("floor-%d", i))
				dst, _ := os.Create(out)
				h := sha256.New()
				io.Copy(io.MultiWriter(dst, h), src)
				dst.Sync()
				dst.Close()
				src.Close()
				os.Remove(out)
			}
		})
		os.Remove(in)
	}
}

// BenchmarkSign1000Small signs 1,000 one-page files per iteration on two
// workers, as paraphe sign does a batch with one PIN entry.
func BenchmarkSign1000Small(b *testing.B) {
	p := newPKI(b)
	dir := b.TempDir()
	in := filepath.Join(dir, "small.pdf")
	os.WriteFile(in, makePDF(1, true), 0o644)
	s := &Signer{Key: p.key, Chain: p.chain()}
	for i := range b.N {
		work := make(chan int)
		done := make(chan error, 2)
		for range 2 {
			go func() {
				for j := range work {
					out := filepath.Join(dir, fmt.Sprintf("o-%d-%d.pdf", i, j))
					if _, err := s.SignFile(context.Background(), in, out); err != nil {
						done <- err
						return
					}
					os.Remove(out)
				}
				done <- nil
			}()
		}
		for j := range 1000 {
			work <- j
		}
		close(work)
		for range 2 {
			if err := <-done; err != nil {
				b.Fatal(err)
			}
		}
	}
}

// TestBenchTool is make bench's helper, idle in normal runs:
// PARAPHE_BENCH_TOOL=write:PATH:BYTES writes a large PDF;
// PARAPHE_BENCH_TOOL=sign:IN:OUT signs it with a software key (the signing
// path of paraphe sign, without a key store), so that wall time and peak
// RSS can be measured from outside, next to other tools on the same file.
func TestBenchTool(t *testing.T) {
	spec := os.Getenv("PARAPHE_BENCH_TOOL")
	if spec == "" {
		t.Skip("make bench's helper")
	}
	parts := strings.SplitN(spec, ":", 3)
	if strings.HasPrefix(spec, "verify:") {
		parts = strings.Split(spec, ":")
	}
	switch parts[0] {
	case "write":
		size, _ := strconv.ParseInt(parts[2], 10, 64)
		if err := writeBigPDF(parts[1], size); err != nil {
			t.Fatal(err)
		}
	case "sign":
		p := newPKI(t)
		s := &Signer{Key: p.key, Chain: p.chain()}
		if _, err := s.SignFile(context.Background(), parts[1], parts[2]); err != nil {
			t.Fatal(err)
		}
	case "verify":
		// Every file named, as paraphe verify reads each: offline, trusting
		// nothing (the verdict does not change the work done). Files it
		// refuses (unsigned, locked by a password) count as done, as they
		// do for pdfsig.
		for _, name := range parts[1:] {
			if _, err := Verify(context.Background(), name, VerifyOptions{}); err != nil && !errors.Is(err, ErrNoSignature) {
				t.Log(name, err)
			}
		}
	}
}
