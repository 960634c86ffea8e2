package config

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync/atomic"
	"testing"
)

const testPAC = `function FindProxyForURL(url, host) {
	if (isPlainHostName(host) || dnsDomainIs(host, ".intranet.example")) return "DIRECT";
	if (isInNet(host, "10.0.0.0", "255.0.0.0")) return "DIRECT";
	if (shExpMatch(host, "*.ca.example")) return "PROXY proxy.example:3128; DIRECT";
	if (shExpMatch(url, "https://socks.example/*")) return "SOCKS5 127.0.0.1:1080";
	if (dnsDomainLevels(host) > 5) return "garbage";
	return "PROXY fallback.example:8080";
}`

func TestPAC(t *testing.T) {
	s, err := compilePAC(testPAC, "test")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct{ url, want string }{
		{"https://intranet/x", ""},
		{"https://docs.intranet.example/x", ""},
		{"https://10.1.2.3/x", ""},
		{"https://sign.ca.example/.well-known/paraphe", "http://proxy.example:3128"},
		{"https://socks.example/x", "socks5://127.0.0.1:1080"},
		{"https://www.other.example/", "http://fallback.example:8080"},
	}
	for _, tt := range tests {
		u, _ := url.Parse(tt.url)
		got, err := s.find(u)
		if err != nil {
			t.Fatalf("%s: %v", tt.url, err)
		}
		if (got == nil && tt.want != "") || (got != nil && got.String() != tt.want) {
			t.Errorf("%s: %v, want %q", tt.url, got, tt.want)
		}
	}
	u, _ := url.Parse("https://a.b.c.d.e.f.example/")
	if _, err := s.find(u); err == nil {
		t.Error("a PAC answer naming no proxy was accepted")
	}
	if _, err := compilePAC("function other() {}", "test"); err == nil {
		t.Error("a PAC file without FindProxyForURL was accepted")
	}
	if _, err := compilePAC("function FindProxyForURL(u, h) { while (true) {} }", "test"); err != nil {
		t.Fatal(err)
	}
}

// An endless PAC script is stopped, and the interrupt does not outlive the
// call: the next lookup on the same script works.
func TestPACLoopIsInterrupted(t *testing.T) {
	s, _ := compilePAC(`function FindProxyForURL(u, h) { if (h == "loop.example") { while (true) {} } return "DIRECT"; }`, "test")
	u, _ := url.Parse("https://loop.example/")
	if _, err := s.find(u); err == nil {
		t.Fatal("an endless PAC script returned")
	}
	u, _ = url.Parse("https://ok.example/")
	if p, err := s.find(u); err != nil || p != nil {
		t.Fatalf("after an interrupted call: %v %v", p, err)
	}
}

// A PAC server that fails is asked once, not once per request: the failure
// is remembered for a while, and every caller gets the same error.
func TestPACFailureIsRemembered(t *testing.T) {
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		http.Error(w, "down", http.StatusServiceUnavailable)
	}))
	defer srv.Close()
	for i := 0; i < 3; i++ {
		if _, err := pacFor(srv.URL + "/proxy.pac"); err == nil {
			t.Fatal("a failing PAC server gave a script")
		}
	}
	if n := hits.Load(); n != 1 {
		t.Fatalf("the PAC server was asked %d times, want 1", n)
	}
}
