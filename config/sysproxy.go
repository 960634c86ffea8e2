package config

import (
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
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

func envProxySet() bool {
	for _, k := range []string{"HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy"} {
		if os.Getenv(k) != "" {
			return true
		}
	}
	return false
}

// ResolveProxy returns the proxy a request to u goes through under policy
// p, and where that setting comes from: the policy, the environment
// variables, the operating system's settings, or a PAC file.
func ResolveProxy(p *Policy, u *url.URL) (*url.URL, string, error) {
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
	for _, b := range s.bypass {
		if b != "" && (strings.EqualFold(u.Hostname(), b) || strings.HasSuffix(u.Hostname(), strings.TrimPrefix(b, "*"))) {
			return nil, SourceOS, nil
		}
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
	return &url.URL{Scheme: scheme, Host: s}
}
