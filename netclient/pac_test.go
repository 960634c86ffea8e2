package netclient

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"
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
	if testing.Short() {
		t.Skip("slow (a PAC script that loops until its time limit): make test runs it")
	}
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

// dateRange in the forms of the PAC specification, on a fixed date.
func TestDateRange(t *testing.T) {
	now := time.Date(2026, time.November, 22, 12, 0, 0, 0, time.UTC)
	for _, tt := range []struct {
		args string
		want bool
	}{
		{"22", true}, {"21", false},
		{"NOV", true}, {"DEC", false},
		{"2026", true}, {"2025", false},
		{"1 25", true}, {"23 31", false}, {"25 5", false}, {"20 3", true},
		{"OCT DEC", true}, {"JAN MAR", false}, {"DEC JAN", false}, {"SEP JAN", true},
		{"2024 2026", true}, {"2027 2030", false}, {"2026 2024", false},
		{"1 NOV 30 NOV", true}, {"23 NOV 31 DEC", false}, {"15 DEC 25 NOV", true},
		{"OCT 2026 JAN 2027", true}, {"DEC 2026 JAN 2027", false},
		{"1 JAN 2026 31 DEC 2026", true}, {"23 NOV 2026 1 JAN 2027", false}, {"22 NOV 2026 22 NOV 2026", true},
		{"1 2026 1 2027", false}, {"NOV NOV NOV", false}, {"", false}, {"NOVEMBER", false}, {"0", false},
	} {
		if got := dateRangeAt(now, strings.Fields(tt.args)); got != tt.want {
			t.Errorf("dateRange(%s) = %v, want %v", tt.args, got, tt.want)
		}
	}
}

// The PAC helper receives the script's values (numbers and strings) as
// goja gives them.
func TestDateRangeFromScript(t *testing.T) {
	s, err := compilePAC(`function FindProxyForURL(u, h) {
		if (dateRange(2000, 9999) && dateRange("JAN", "DEC", "GMT") && !dateRange(1999)) return "DIRECT";
		return "PROXY proxy.example:3128";
	}`, "test")
	if err != nil {
		t.Fatal(err)
	}
	u, _ := url.Parse("https://ca.example/")
	if p, err := s.find(u); err != nil || p != nil {
		t.Fatalf("dateRange from a script: %v %v", p, err)
	}
}
