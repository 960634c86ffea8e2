package pdf

import (
	"context"
	"crypto/sha256"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/paraphe/paraphe/internal/testenv"
)

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
		if err := testenv.WriteBigPDF(in, size); err != nil {
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
