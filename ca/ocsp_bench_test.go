package ca

import (
	"bytes"
	"io"
	"log/slog"
	"net"
	"net/http"
	"testing"
	"time"

	"golang.org/x/crypto/ocsp"
)

// BenchmarkOCSP compares the answers served from the cache with the ones
// signed for each request (a request with a nonce is, as every request
// was before the cache), in process and over HTTP on loopback with
// keep-alive (the client's work included): go test -bench OCSP ./ca.
// BenchmarkTokenOCSP does the same with the keys on SoftHSM.
func BenchmarkOCSP(b *testing.B) {
	a := newCA(b, InitOptions{})
	benchOCSP(b, a)
}

func benchOCSP(b *testing.B, a *Authority) {
	leaf, err := activate(b, a, mustEnroll(b, a), p256(b))
	if err != nil {
		b.Fatal(err)
	}
	plain, _ := ocsp.CreateRequest(leaf, a.Issuer, nil)
	nonced := withNonce(b, plain, octets(b, []byte("0123456789abcdef")))
	for _, r := range []struct {
		name string
		req  []byte
	}{{"cached", plain}, {"signed", nonced}} {
		b.Run(r.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := a.OCSP(r.req, time.Now()); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
	url := serveValidation(b, a)
	for _, r := range []struct {
		name string
		req  []byte
	}{{"http-cached", plain}, {"http-signed", nonced}} {
		b.Run(r.name, func(b *testing.B) {
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					resp, err := http.Post(url, "application/ocsp-request", bytes.NewReader(r.req))
					if err != nil {
						b.Fatal(err)
					}
					body, _ := io.ReadAll(resp.Body)
					resp.Body.Close()
					if len(body) < 100 {
						b.Fatalf("reply of %d bytes", len(body))
					}
				}
			})
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "req/s")
		})
	}
}

// serveValidation serves a's validation handler on loopback until the
// benchmark ends, and returns its OCSP URL.
func serveValidation(b *testing.B, a *Authority) string {
	b.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	srv := &http.Server{Handler: a.ValidationHandler(slog.New(slog.DiscardHandler))}
	go srv.Serve(l)
	b.Cleanup(func() { srv.Close() })
	http.DefaultTransport.(*http.Transport).MaxIdleConnsPerHost = 64
	return "http://" + l.Addr().String() + pathOCSP
}
