package cades

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/paraphe/paraphe/pdf"
)

// Signing and verifying stream the file: the bytes allocated per
// operation (B/op) stay flat from 1 MiB to 64 MiB, and the time follows
// one SHA-256 pass (compare with the hash alone, BenchmarkSHA256).
func BenchmarkCAdES(b *testing.B) {
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "Bench"}, NotBefore: time.Now().Add(-time.Hour),
		NotAfter: time.Now().Add(time.Hour), KeyUsage: x509.KeyUsageDigitalSignature}
	der, _ := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	cert, _ := x509.ParseCertificate(der)
	ps := &pdf.Signer{Key: key, Chain: []*x509.Certificate{cert}, Opts: pdf.Options{Level: pdf.LevelB}}
	fp := sha256.Sum256(cert.Raw)
	for _, size := range []int{1 << 20, 64 << 20} {
		dir := b.TempDir()
		in := filepath.Join(dir, "in.bin")
		data := make([]byte, size)
		rand.Read(data)
		os.WriteFile(in, data, 0o644)
		data = nil
		for _, detached := range []bool{false, true} {
			s := &Signer{PDF: ps, Detached: detached}
			out := OutputName(in, detached)
			b.Run(fmt.Sprintf("sign/%dMiB/detached=%v", size>>20, detached), func(b *testing.B) {
				b.SetBytes(int64(size))
				b.ReportAllocs()
				for b.Loop() {
					os.Remove(out)
					if _, err := s.SignFile(context.Background(), in, out); err != nil {
						b.Fatal(err)
					}
				}
			})
			b.Run(fmt.Sprintf("verify/%dMiB/detached=%v", size>>20, detached), func(b *testing.B) {
				b.SetBytes(int64(size))
				b.ReportAllocs()
				o := VerifyOptions{VerifyOptions: pdf.VerifyOptions{Anchors: [][]byte{fp[:]}}}
				for b.Loop() {
					rep, err := Verify(context.Background(), out, o)
					if err != nil || !rep.Signatures[0].Intact {
						b.Fatal(err)
					}
				}
			})
		}
		b.Run(fmt.Sprintf("SHA256/%dMiB", size>>20), func(b *testing.B) {
			b.SetBytes(int64(size))
			for b.Loop() {
				f, _ := os.Open(in)
				h := sha256.New()
				buf := make([]byte, 256<<10)
				for {
					n, err := f.Read(buf)
					h.Write(buf[:n])
					if err != nil {
						break
					}
				}
				f.Close()
			}
		})
	}
}
