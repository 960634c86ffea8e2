//go:build linux

package main

import (
	"crypto/tls"
	"crypto/x509"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// The load's client reads every kind of reply net/http's server writes
// (a length, chunks, a connection closed after the reply), over HTTP and
// HTTPS, with keep-alive and without: it counts what the server answered,
// and a reply that is not 200 or too short as a failure.
func TestLoadCountsWhatTheServerAnswered(t *testing.T) {
	body := strings.Repeat("x", 600)
	var served atomic.Int64
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		served.Add(1)
		switch r.URL.Path {
		case "/chunked": // more than net/http buffers before chunking
			w.Write([]byte(strings.Repeat(body, 8)))
		case "/close":
			w.Header().Set("Connection", "close")
			w.Write([]byte(body))
		case "/short":
			w.Write([]byte("x"))
		case "/refused":
			http.Error(w, body, http.StatusServiceUnavailable)
		default:
			w.Write([]byte(body))
		}
	})
	plain := httptest.NewServer(h)
	defer plain.Close()
	secure := httptest.NewTLSServer(h)
	defer secure.Close()
	pool := x509.NewCertPool()
	pool.AddCert(secure.Certificate())
	for _, tt := range []struct {
		path      string
		tls       bool
		keepAlive bool
		failing   bool
	}{
		{"/length", false, true, false}, {"/length", false, false, false}, {"/chunked", false, true, false},
		{"/close", false, true, false}, {"/length", true, true, false}, {"/chunked", true, false, false},
		{"/short", false, true, true}, {"/refused", false, true, true},
	} {
		srv, tc := plain, (*tls.Config)(nil)
		if tt.tls {
			srv, tc = secure, &tls.Config{RootCAs: pool}
		}
		served.Store(0)
		r := (&load{addrs: []string{srv.Listener.Addr().String()}, tls: tc, path: tt.path, ctype: "application/octet-stream",
			bodies: [][]byte{[]byte("request")}, keepAlive: tt.keepAlive, conns: 4, duration: 200 * time.Millisecond, minBody: 100}).run()
		answered := r.requests + r.failed
		if tt.failing {
			answered = r.failed
			if r.requests != 0 {
				t.Errorf("%s: %d counted as answered", tt.path, r.requests)
			}
		}
		if answered == 0 || answered != served.Load() || (!tt.failing && r.failed != 0) {
			t.Errorf("%s (TLS %v, keep-alive %v): %+v, the server answered %d", tt.path, tt.tls, tt.keepAlive, r, served.Load())
		}
		if reconnected := r.reconnects > 0; tt.keepAlive && reconnected != (tt.path == "/close") {
			t.Errorf("%s: %d connections closed by the server", tt.path, r.reconnects)
		}
	}
}
