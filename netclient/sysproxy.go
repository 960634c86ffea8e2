package netclient

import (
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"os"
	"strings"
	"sync"

	"github.com/paraphe/paraphe/config"
)

// Where an effective proxy setting comes from.
const (
	SourcePolicy      = "policy"
	SourceEnvironment = "environment"
	SourceOS          = "os"
	SourcePAC         = "pac"
	SourceNone        = "none"
)

// osProxy is what the operating system's settings say (per platform file:
// GNOME and KDE on Linux, WinINET on Windows, System Configuration on
// macOS): a fixed proxy, a PAC file, or nothing, plus hosts to bypass.
type osProxy struct {
	proxy  *url.URL
	pac    string
	bypass []string
}

var osProxyOnce struct {
	sync.Once
	p osProxy
}

func systemSettings() osProxy {
	osProxyOnce.Do(func() { osProxyOnce.p = readOSProxy() })
	return osProxyOnce.p
}

// envProxySet: the environment decides when it names a proxy for https,
// the only scheme the suite speaks to its CA (as net/http reads it).
func envProxySet() bool {
	return os.Getenv("HTTPS_PROXY") != "" || os.Getenv("https_proxy") != ""
}

// ResolveProxy returns the proxy a request to u goes through under policy
// p, and where that setting comes from: the policy, the environment
// variables, the operating system's settings, or a PAC file.
func ResolveProxy(p *config.Policy, u *url.URL) (*url.URL, string, error) {
	req := &http.Request{URL: u}
	switch {
	case p.Proxy == "none":
		return nil, SourceNone, nil
	case strings.HasPrefix(p.Proxy, "pac+"):
		fn, _ := ProxyFunc(p.Proxy)
		pu, err := fn(req)
		return pu, SourcePAC, err
	case p.Proxy != "" && p.Proxy != "system":
		fn, err := ProxyFunc(p.Proxy)
		if err != nil {
			return nil, SourcePolicy, err
		}
		pu, err := fn(req)
		return pu, SourcePolicy, err
	case envProxySet():
		pu, err := http.ProxyFromEnvironment(req)
		return withCredentials(pu), SourceEnvironment, err
	}
	s := systemSettings()
	if bypassed(u.Hostname(), s.bypass) {
		return nil, SourceOS, nil
	}
	switch {
	case s.pac != "":
		script, err := pacFor(s.pac)
		if err != nil {
			return nil, SourceOS, err
		}
		pu, err := script.find(u)
		return withCredentials(pu), SourceOS, err
	case s.proxy != nil:
		return withCredentials(s.proxy), SourceOS, nil
	}
	return nil, SourceNone, nil
}

// bypassed matches a host against a bypass list as browsers do: exact
// names, domain suffixes on a dot boundary ("example.com", ".example.com",
// "*.example.com"), "<local>" for names without a dot, CIDR ranges and
// addresses; case and spaces do not matter.
func bypassed(host string, list []string) bool {
	host = strings.ToLower(strings.TrimSuffix(host, "."))
	ip, ipErr := netip.ParseAddr(host)
	for _, b := range list {
		b = strings.ToLower(strings.TrimSpace(b))
		switch {
		case b == "":
			continue
		case b == "<local>":
			if !strings.Contains(host, ".") {
				return true
			}
			continue
		case strings.Contains(b, "/"):
			if pfx, err := netip.ParsePrefix(b); err == nil && ipErr == nil && pfx.Contains(ip) {
				return true
			}
			continue
		}
		d := strings.TrimPrefix(strings.TrimPrefix(b, "*"), ".")
		if d != "" && (host == d || strings.HasSuffix(host, "."+d)) {
			return true
		}
	}
	return false
}

// parseHostPort makes a proxy URL of "host:port" or a URL.
func parseHostPort(s, scheme string) *url.URL {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil
	}
	if strings.Contains(s, "://") {
		u, err := url.Parse(s)
		if err != nil || u.Host == "" {
			return nil
		}
		return u
	}
	return withDefaultPort(&url.URL{Scheme: scheme, Host: s})
}

// withDefaultPort completes a proxy address without a port, as net/http
// would (http 80, https 443, socks5 1080), so that every place names it the
// same way (the keychain entry of its credentials among them).
func withDefaultPort(u *url.URL) *url.URL {
	if u == nil || u.Port() != "" {
		return u
	}
	port := map[string]string{"http": "80", "https": "443", "socks5": "1080", "socks5h": "1080"}[u.Scheme]
	if port == "" {
		return u
	}
	c := *u
	c.Host = net.JoinHostPort(u.Hostname(), port)
	return &c
}

// ProxyDisplay is how a proxy is shown in reports: scheme and address only,
// never credentials (nor anything a malformed setting may have put elsewhere).
func ProxyDisplay(u *url.URL) string {
	if u == nil {
		return ""
	}
	return u.Scheme + "://" + u.Host
}
