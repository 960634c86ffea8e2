package netclient

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/paraphe/paraphe/config"
)

// AnchorError is returned (wrapped in the request's error) when the CA's TLS
// chain does not end at one of the policy anchors: the network in between
// may be intercepting TLS. Issuer names the root the chain ended at instead.
type AnchorError struct {
	Host   string
	Issuer string
	Err    error
}

func (e *AnchorError) Error() string {
	return fmt.Sprintf("netclient: TLS chain of %s does not end at a policy anchor (it ends at %q): %v", e.Host, e.Issuer, e.Err)
}

func (e *AnchorError) Unwrap() error { return e.Err }

// CertificateError is a CA certificate that chains to the anchors but does
// not fit: issued for another name, or outside its validity period (often
// this computer's clock being wrong).
type CertificateError struct {
	Host   string
	Reason string // CertName or CertExpired
	Err    error
}

// Reasons of a CertificateError.
const (
	CertName    = "name"
	CertExpired = "expired"
)

func (e *CertificateError) Error() string {
	return fmt.Sprintf("netclient: certificate of %s: %v", e.Host, e.Err)
}

func (e *CertificateError) Unwrap() error { return e.Err }

// ClientOptions adjust NewHTTPClient.
type ClientOptions struct {
	// Certificate is presented when the server asks for one (renewal).
	Certificate *tls.Certificate
	// Timeout bounds each request end to end; zero means 60 s, a negative
	// value none (uploads and downloads of any size, which their context
	// bounds instead).
	Timeout time.Duration
	// SystemRoots also trusts the operating system's roots for hosts other
	// than the CA's, as AllowSystemRoots in the policy does: for a server
	// that users reach with their browsers too (the firm's exchange), whose
	// certificate a public CA issued.
	SystemRoots bool
	// Discover accepts whatever certificate chain a server presents. It
	// exists only to learn the anchors of a CA that no policy names yet;
	// the caller must then check the chain against the anchors it learned
	// (activation.DiscoverCA does, with a second, verifying client).
	Discover bool
}

// NewHTTPClient returns the client every request to the CA and its services
// goes through: the policy's proxy, the policy's TLS anchors (and the
// system roots only when the policy allows them).
func NewHTTPClient(p *config.Policy, opt ClientOptions) (*http.Client, error) {
	proxy, err := ProxyFunc(p.Proxy)
	if err != nil {
		return nil, err
	}
	anchors := make([][]byte, 0, len(p.CA.Anchors))
	for _, a := range p.CA.Anchors {
		fp, err := config.ParseFingerprint(a)
		if err != nil {
			return nil, err
		}
		anchors = append(anchors, fp)
	}
	caURL, err := url.Parse(p.CA.URL)
	if err != nil {
		return nil, fmt.Errorf("netclient: %w", err)
	}
	caHost := caURL.Hostname()
	timeout, headerTimeout := opt.Timeout, 30*time.Second
	switch {
	case timeout == 0:
		timeout = 60 * time.Second
	case timeout < 0:
		timeout, headerTimeout = 0, 0 // a large upload is answered when it is sealed
	}
	systemRoots := p.CA.AllowSystemRoots || opt.SystemRoots
	tunnels := &sync.Map{} // host:port → the HTTP proxy to tunnel through
	rt := &perHost{newTransport: func(host string) *http.Transport {
		tc := &tls.Config{
			MinVersion: tls.VersionTLS12,
			// Verification is ours: the roots are the policy anchors, known
			// by fingerprint, and they arrive in the server's chain.
			InsecureSkipVerify: true,
			VerifyConnection: func(cs tls.ConnectionState) error {
				if opt.Discover {
					return nil
				}
				return verifyChain(cs, host, anchors, systemRoots && host != caHost)
			},
		}
		if opt.Certificate != nil {
			cert := opt.Certificate
			tc.GetClientCertificate = func(*tls.CertificateRequestInfo) (*tls.Certificate, error) { return cert, nil }
		}
		dialer := &net.Dialer{Timeout: 15 * time.Second, KeepAlive: 30 * time.Second}
		return &http.Transport{
			Proxy:                 notTunnelled(proxy, tunnels),
			DialContext:           tunnelDialer(proxy, tunnels, dialer),
			TLSClientConfig:       tc,
			TLSHandshakeTimeout:   15 * time.Second,
			ResponseHeaderTimeout: headerTimeout,
			MaxIdleConnsPerHost:   4,
			IdleConnTimeout:       90 * time.Second,
			ForceAttemptHTTP2:     true,
		}
	}}
	var t http.RoundTripper = rt
	if proxy != nil {
		t = &ntlmRetry{next: rt, proxy: proxy, dialer: &net.Dialer{Timeout: 15 * time.Second}}
	}
	return &http.Client{Transport: t, Timeout: timeout}, nil
}

// perHost keeps one transport per host name, so that each TLS verification
// knows the name it must check, even for an IP address (for which no SNI,
// hence no ConnectionState.ServerName, exists) and through a proxy.
type perHost struct {
	newTransport func(host string) *http.Transport
	mu           sync.Mutex
	byHost       map[string]*http.Transport
}

func (p *perHost) RoundTrip(req *http.Request) (*http.Response, error) {
	host := req.URL.Hostname()
	p.mu.Lock()
	t, ok := p.byHost[host]
	if !ok {
		if p.byHost == nil {
			p.byHost = map[string]*http.Transport{}
		}
		t = p.newTransport(host)
		p.byHost[host] = t
	}
	p.mu.Unlock()
	return t.RoundTrip(req)
}

// CloseIdleConnections lets http.Client.CloseIdleConnections reach every transport.
func (p *perHost) CloseIdleConnections() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, t := range p.byHost {
		t.CloseIdleConnections()
	}
}

// notTunnelled leaves to net/http the proxies it handles well: SOCKS5, and
// HTTP proxies for http:// URLs (absolute-URI requests). For https:// URLs
// through an HTTP proxy it records the proxy in tunnels for tunnelDialer,
// which opens the tunnel, and tells net/http to dial "directly".
func notTunnelled(proxy func(*http.Request) (*url.URL, error), tunnels *sync.Map) func(*http.Request) (*url.URL, error) {
	if proxy == nil {
		return nil
	}
	return func(r *http.Request) (*url.URL, error) {
		u, err := proxy(r)
		if u != nil && u.Scheme == "http" && r.URL.Scheme == "https" {
			tunnels.Store(hostPort(r.URL), u)
			return nil, err
		}
		if r.URL.Scheme == "https" {
			tunnels.Delete(hostPort(r.URL))
		}
		if u != nil && u.Scheme == "http" && u.User != nil {
			// net/http would send these in Basic before being asked:
			// ntlmRetry answers the proxy's challenge instead.
			c := *u
			c.User = nil
			return &c, err
		}
		return u, err
	}
}

// hostPort is u's host:port, the port made explicit.
func hostPort(u *url.URL) string {
	if u.Port() != "" {
		return u.Host
	}
	if u.Scheme == "http" {
		return net.JoinHostPort(u.Hostname(), "80")
	}
	return net.JoinHostPort(u.Hostname(), "443")
}

// tunnelDialer dials the addresses notTunnelled recorded through their
// HTTP proxy with our own CONNECT (Tunnel), which answers NTLM challenges
// as well as Basic ones; everything else is dialled directly (including
// the proxies themselves, for the requests net/http sends them).
func tunnelDialer(proxy func(*http.Request) (*url.URL, error), tunnels *sync.Map, d *net.Dialer) func(ctx context.Context, network, addr string) (net.Conn, error) {
	if proxy == nil {
		return d.DialContext
	}
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		if u, ok := tunnels.Load(addr); ok {
			return Tunnel(ctx, d, u.(*url.URL), addr)
		}
		return d.DialContext(ctx, network, addr)
	}
}

// ProxyFunc turns a policy proxy setting into an http.Transport Proxy hook.
// Credentials stored in the keychain for the proxy are added.
func ProxyFunc(setting string) (func(*http.Request) (*url.URL, error), error) {
	switch setting {
	case "", "system":
		return func(r *http.Request) (*url.URL, error) {
			u, _, err := ResolveProxy(&config.Policy{Proxy: "system"}, r.URL)
			return u, err
		}, nil
	case "none":
		return nil, nil
	}
	if err := config.CheckProxy(setting); err != nil {
		return nil, fmt.Errorf("netclient: proxy: %w", err)
	}
	if pac, ok := strings.CutPrefix(setting, "pac+"); ok {
		return func(r *http.Request) (*url.URL, error) {
			script, err := pacFor(pac)
			if err != nil {
				return nil, err
			}
			u, err := script.find(r.URL)
			return withCredentials(withDefaultPort(u)), err
		}, nil
	}
	u, _ := url.Parse(setting)
	u = withCredentials(withDefaultPort(u))
	return http.ProxyURL(u), nil
}

func verifyChain(cs tls.ConnectionState, host string, anchors [][]byte, system bool) error {
	certs := cs.PeerCertificates
	if len(certs) == 0 {
		return errors.New("netclient: server sent no certificate")
	}
	isAnchor := func(c *x509.Certificate) bool {
		sum := sha256.Sum256(c.Raw)
		for _, a := range anchors {
			if bytes.Equal(a, sum[:]) {
				return true
			}
		}
		return false
	}
	roots := x509.NewCertPool()
	inter := x509.NewCertPool()
	if isAnchor(certs[0]) {
		// The server's own certificate is pinned: name and dates remain.
		if err := certs[0].VerifyHostname(host); err != nil {
			return &CertificateError{Host: host, Reason: CertName, Err: err}
		}
		if now := time.Now(); now.Before(certs[0].NotBefore) || now.After(certs[0].NotAfter) {
			return &CertificateError{Host: host, Reason: CertExpired, Err: errors.New("outside its validity period")}
		}
		return nil
	}
	for _, c := range certs[1:] {
		if isAnchor(c) {
			roots.AddCert(c)
		} else {
			inter.AddCert(c)
		}
	}
	opts := x509.VerifyOptions{DNSName: host, Roots: roots, Intermediates: inter}
	_, err := certs[0].Verify(opts)
	if err != nil && system {
		opts.Roots = nil // the system pool
		_, err = certs[0].Verify(opts)
	}
	if err == nil {
		return nil
	}
	var hostErr x509.HostnameError
	var invalid x509.CertificateInvalidError
	switch {
	case errors.As(err, &hostErr):
		return &CertificateError{Host: host, Reason: CertName, Err: err}
	case errors.As(err, &invalid) && invalid.Reason == x509.Expired:
		return &CertificateError{Host: host, Reason: CertExpired, Err: err}
	}
	top := certs[len(certs)-1]
	issuer := top.Issuer.String()
	if issuer == "" {
		issuer = top.Subject.String()
	}
	return &AnchorError{Host: host, Issuer: issuer, Err: err}
}
