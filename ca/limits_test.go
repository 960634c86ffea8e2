package ca

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// serveCA serves a on two loopback listeners until the test ends and
// returns the HTTPS and plain-HTTP addresses.
func serveCA(t *testing.T, a *Authority) (string, string) {
	t.Helper()
	return serveCAWithLog(t, a, slog.New(slog.DiscardHandler))
}

// serveCAWithLog is serveCA with the server's log going to log.
func serveCAWithLog(t *testing.T, a *Authority, log *slog.Logger) (string, string) {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	lv, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.Serve(ctx, l, lv, log) }()
	t.Cleanup(func() {
		cancel()
		<-done
	})
	return l.Addr().String(), lv.Addr().String()
}

// testClient talks to a's two addresses; one connection per request, so
// that none stays open between requests.
func testClient(a *Authority) *http.Client {
	roots := x509.NewCertPool()
	roots.AddCert(a.Root)
	return &http.Client{Transport: &http.Transport{DisableKeepAlives: true,
		TLSClientConfig: &tls.Config{RootCAs: roots, ServerName: "localhost"}}}
}

// Both listeners serve a bounded number of connections at once and refuse
// the ones beyond at once; both refuse oversized request headers.
func TestListenerLimits(t *testing.T) {
	a := newCA(t, InitOptions{})
	a.MaxConnections = 3
	addr, vaddr := serveCA(t, a)
	hc := testClient(a)
	for _, tt := range []struct{ name, url string }{
		{"https", "https://" + addr + "/ca/root.cer"},
		{"http", "http://" + vaddr + "/ca/root.cer"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			host := strings.TrimPrefix(strings.TrimPrefix(tt.url, "https://"), "http://")
			host, _, _ = strings.Cut(host, "/")
			var held []net.Conn
			for range a.MaxConnections {
				c, err := net.Dial("tcp", host)
				if err != nil {
					t.Fatal(err)
				}
				defer c.Close()
				held = append(held, c)
			}
			// The listener accepts in order: the held connections take
			// every slot before this request's connection is accepted.
			if resp, err := hc.Get(tt.url); err == nil {
				resp.Body.Close()
				t.Fatalf("a request beyond %d open connections was served: %s", a.MaxConnections, resp.Status)
			}
			held[0].Close()
			// The server sees the close when it next reads: poll.
			resp, err := poll(t, hc, func() *http.Request { r, _ := http.NewRequest(http.MethodGet, tt.url, nil); return r })
			if err != nil {
				t.Fatalf("no request served after a held connection closed: %v", err)
			}
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("status %s", resp.Status)
			}
			for _, c := range held[1:] {
				c.Close()
			}

			resp, err = poll(t, hc, func() *http.Request {
				r, _ := http.NewRequest(http.MethodGet, tt.url, nil)
				r.Header.Set("X-Padding", strings.Repeat("a", 64<<10))
				return r
			})
			if err != nil {
				t.Fatal(err)
			}
			if resp.StatusCode != http.StatusRequestHeaderFieldsTooLarge {
				t.Fatalf("64 KiB of request headers: %s, want 431", resp.Status)
			}
		})
	}
}

// poll sends the request until the server answers, for up to 10 s, and
// returns the reply with its body read.
func poll(t *testing.T, hc *http.Client, req func() *http.Request) (*http.Response, error) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		resp, err := hc.Do(req())
		if err == nil {
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			return resp, nil
		}
		if time.Now().After(deadline) {
			return nil, err
		}
		time.Sleep(5 * time.Millisecond)
	}
}
