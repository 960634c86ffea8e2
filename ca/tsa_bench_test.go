package ca

import (
	"bytes"
	"crypto"
	"testing"
	"time"

	"github.com/digitorus/timestamp"
)

// BenchmarkTimestamp is the time-stamping authority's work for one
// request, in process (the HTTPS figure is make bench's): go test -bench
// Timestamp ./ca.
func BenchmarkTimestamp(b *testing.B) {
	a := newCA(b, InitOptions{})
	req, err := timestamp.CreateRequest(bytes.NewReader([]byte("paraphe")), &timestamp.RequestOptions{Hash: crypto.SHA256})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := a.Timestamp(req, time.Now()); err != nil {
			b.Fatal(err)
		}
	}
}
