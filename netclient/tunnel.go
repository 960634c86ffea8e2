package netclient

import (
	"bufio"
	"context"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"

	ntlmssp "github.com/Azure/go-ntlmssp"
)

// ProxyAuthError is a proxy's refusal of a tunnel for want of (valid)
// credentials: 407 with the schemes it offers, after trying what the
// keychain had (Tried is "", "Basic" or "NTLM").
type ProxyAuthError struct {
	Proxy   string
	Schemes []string
	Tried   string
}

func (e *ProxyAuthError) Error() string {
	s := fmt.Sprintf("netclient: proxy %s requires authentication (%s)", e.Proxy, strings.Join(e.Schemes, ", "))
	if e.Tried != "" {
		s += "; " + e.Tried + " credentials from the keychain were refused"
	}
	return s
}

// ProxyStatusError is any other refusal of a tunnel (403 for a host the
// proxy does not allow, 502 when it cannot reach it…).
type ProxyStatusError struct {
	Proxy  string
	Status string
	Code   int
}

func (e *ProxyStatusError) Error() string {
	return fmt.Sprintf("netclient: proxy %s refused the tunnel: %s", e.Proxy, e.Status)
}

// Tunnel opens a TCP tunnel to target (host:port) through the HTTP proxy
// with CONNECT, answering its challenge with the credentials in proxy.User
// (from the keychain): Basic, or NTLM when that is what the proxy offers
// (NTLM authenticates the connection, so its three messages go over one).
// net/http's own proxy support knows Basic only.
func Tunnel(ctx context.Context, dialer *net.Dialer, proxy *url.URL, target string) (net.Conn, error) {
	// No credentials until the proxy asks, and then in the scheme it asks
	// for: NTLM rather than Basic when both are offered, so a domain
	// password never crosses the network in clear when it need not.
	conn, br, resp, err := connect(ctx, dialer, nil, nil, proxy, target, "")
	if err != nil {
		return nil, err
	}
	tried := ""
	if resp.StatusCode == http.StatusProxyAuthRequired && proxy.User != nil {
		switch {
		case offers(resp, "NTLM"):
			tried = "NTLM"
			conn, br, resp, err = ntlmConnect(ctx, dialer, conn, br, resp, proxy, target)
		case offers(resp, "Basic"):
			tried = "Basic"
			if resp.Close {
				conn.Close()
				conn, br = nil, nil
			}
			conn, br, resp, err = connect(ctx, dialer, conn, br, proxy, target, basicAuth(proxy.User))
		}
		if err != nil {
			return nil, err
		}
	}
	switch resp.StatusCode {
	case http.StatusOK:
		if br.Buffered() > 0 {
			return &bufferedConn{Conn: conn, r: br}, nil
		}
		return conn, nil
	case http.StatusProxyAuthRequired:
		conn.Close()
		return nil, &ProxyAuthError{Proxy: proxy.Host, Schemes: schemes(resp), Tried: tried}
	}
	conn.Close()
	return nil, &ProxyStatusError{Proxy: proxy.Host, Status: resp.Status, Code: resp.StatusCode}
}

// ntlmConnect runs NTLM's negotiate, challenge, authenticate on one
// connection (a new one when the proxy closed the first).
func ntlmConnect(ctx context.Context, dialer *net.Dialer, conn net.Conn, br *bufio.Reader, first *http.Response, proxy *url.URL, target string) (net.Conn, *bufio.Reader, *http.Response, error) {
	user, domain, domainNeeded := ntlmssp.GetDomain(proxy.User.Username())
	negotiate, err := ntlmssp.NewNegotiateMessage(domain, "")
	if err != nil {
		conn.Close()
		return nil, nil, nil, err
	}
	if first.Close {
		conn.Close()
		conn, br = nil, nil
	}
	conn, br, resp, err := connect(ctx, dialer, conn, br, proxy, target, "NTLM "+base64.StdEncoding.EncodeToString(negotiate))
	if err != nil {
		return nil, nil, nil, err
	}
	challenge := ntlmChallenge(resp)
	if resp.StatusCode != http.StatusProxyAuthRequired || challenge == nil || resp.Close {
		return conn, br, resp, nil // not the challenge: let the caller say why
	}
	pass, _ := proxy.User.Password()
	auth, err := ntlmssp.ProcessChallenge(tidyChallenge(challenge), user, pass, domainNeeded)
	if err != nil {
		conn.Close()
		return nil, nil, nil, fmt.Errorf("netclient: proxy %s: NTLM challenge: %w", proxy.Host, err)
	}
	return connect(ctx, dialer, conn, br, proxy, target, "NTLM "+base64.StdEncoding.EncodeToString(auth))
}

// connect sends one CONNECT (on conn, or a new connection to the proxy)
// and reads the answer, its body drained so the connection can go on.
func connect(ctx context.Context, dialer *net.Dialer, conn net.Conn, br *bufio.Reader, proxy *url.URL, target, auth string) (net.Conn, *bufio.Reader, *http.Response, error) {
	if conn == nil {
		c, err := dialer.DialContext(ctx, "tcp", proxy.Host)
		if err != nil {
			return nil, nil, nil, err
		}
		conn, br = c, bufio.NewReader(c)
	}
	// The handshake obeys ctx; the tunnel, once open, has no deadline.
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	req := &http.Request{Method: http.MethodConnect, URL: &url.URL{Opaque: target}, Host: target, Header: http.Header{}}
	if auth != "" {
		req.Header.Set("Proxy-Authorization", auth)
	}
	if err := req.Write(conn); err != nil {
		stop()
		conn.Close()
		return nil, nil, nil, ctxErr(ctx, err)
	}
	resp, err := http.ReadResponse(br, req)
	if err != nil {
		stop()
		conn.Close()
		return nil, nil, nil, ctxErr(ctx, err)
	}
	if resp.StatusCode != http.StatusOK {
		// Drained whole, or the connection cannot carry the next answer.
		if n, _ := io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20)); n == 1<<20 {
			resp.Close = true
		}
		resp.Body.Close()
	}
	if !stop() { // ctx ended as the answer came: conn is closed
		return nil, nil, nil, ctxErr(ctx, context.Canceled)
	}
	return conn, br, resp, nil
}

func ctxErr(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return ctx.Err()
	}
	return err
}

func basicAuth(u *url.Userinfo) string {
	if u == nil {
		return ""
	}
	pass, _ := u.Password()
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(u.Username()+":"+pass))
}

// schemes lists the authentication schemes a 407 offers.
func schemes(resp *http.Response) []string {
	var out []string
	for _, h := range resp.Header.Values("Proxy-Authenticate") {
		scheme, _, _ := strings.Cut(h, " ")
		out = append(out, scheme)
	}
	return out
}

func offers(resp *http.Response, scheme string) bool {
	for _, s := range schemes(resp) {
		if strings.EqualFold(s, scheme) {
			return true
		}
	}
	return false
}

// ntlmChallenge is the challenge message of an NTLM 407, or nil.
func ntlmChallenge(resp *http.Response) []byte {
	for _, h := range resp.Header.Values("Proxy-Authenticate") {
		scheme, data, ok := strings.Cut(h, " ")
		if ok && strings.EqualFold(scheme, "NTLM") {
			if b, err := base64.StdEncoding.DecodeString(strings.TrimSpace(data)); err == nil {
				return b
			}
		}
	}
	return nil
}

// ntlmRetry sends again, authenticated, a plain http:// request that an
// HTTP proxy refused for want of credentials: NTLM when offered, else
// Basic. (notTunnelled keeps the credentials out of the proxy URL net/http
// sees, which would otherwise send them in Basic before being asked.)
// Tunnels (https://) are authenticated by Tunnel.
type ntlmRetry struct {
	next   http.RoundTripper
	proxy  func(*http.Request) (*url.URL, error)
	dialer *net.Dialer
}

// CloseIdleConnections passes on to the transports.
func (n *ntlmRetry) CloseIdleConnections() {
	if c, ok := n.next.(interface{ CloseIdleConnections() }); ok {
		c.CloseIdleConnections()
	}
}

func (n *ntlmRetry) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := n.next.RoundTrip(req)
	if err != nil || resp.StatusCode != http.StatusProxyAuthRequired || req.URL.Scheme != "http" {
		return resp, err
	}
	proxy, perr := n.proxy(req)
	if perr != nil || proxy == nil || proxy.User == nil || proxy.Scheme != "http" || (req.Body != nil && req.GetBody == nil) {
		return resp, err
	}
	switch {
	case offers(resp, "NTLM"):
		resp.Body.Close()
		return ntlmRequest(req, n.dialer, proxy)
	case offers(resp, "Basic") && req.Header.Get("Proxy-Authorization") == "":
		resp.Body.Close()
		r := req.Clone(req.Context())
		if req.GetBody != nil {
			body, err := req.GetBody()
			if err != nil {
				return nil, err
			}
			r.Body = body
		}
		r.Header.Set("Proxy-Authorization", basicAuth(proxy.User))
		return n.next.RoundTrip(r)
	}
	return resp, err
}

// ntlmRequest sends req through the proxy on one connection: negotiate,
// challenge, then the request with its authentication. The connection is
// closed with the response's body.
func ntlmRequest(req *http.Request, dialer *net.Dialer, proxy *url.URL) (*http.Response, error) {
	ctx := req.Context()
	conn, err := dialer.DialContext(ctx, "tcp", proxy.Host)
	if err != nil {
		return nil, err
	}
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	br := bufio.NewReader(conn)
	send := func(auth string) (*http.Response, error) {
		r := req.Clone(ctx)
		if req.GetBody != nil {
			body, err := req.GetBody()
			if err != nil {
				return nil, err
			}
			r.Body = body
		}
		r.Header.Set("Proxy-Authorization", auth)
		r.Header.Set("Proxy-Connection", "keep-alive")
		if err := r.WriteProxy(conn); err != nil {
			return nil, ctxErr(ctx, err)
		}
		resp, err := http.ReadResponse(br, r)
		return resp, ctxErr(ctx, err)
	}
	fail := func(err error) (*http.Response, error) {
		stop()
		conn.Close()
		return nil, err
	}
	user, domain, domainNeeded := ntlmssp.GetDomain(proxy.User.Username())
	negotiate, err := ntlmssp.NewNegotiateMessage(domain, "")
	if err != nil {
		return fail(err)
	}
	resp, err := send("NTLM " + base64.StdEncoding.EncodeToString(negotiate))
	if err != nil {
		return fail(err)
	}
	io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
	resp.Body.Close()
	challenge := ntlmChallenge(resp)
	if resp.StatusCode != http.StatusProxyAuthRequired || challenge == nil || resp.Close {
		return fail(&ProxyAuthError{Proxy: proxy.Host, Schemes: schemes(resp), Tried: "NTLM"})
	}
	pass, _ := proxy.User.Password()
	auth, err := ntlmssp.ProcessChallenge(tidyChallenge(challenge), user, pass, domainNeeded)
	if err != nil {
		return fail(fmt.Errorf("netclient: proxy %s: NTLM challenge: %w", proxy.Host, err))
	}
	resp, err = send("NTLM " + base64.StdEncoding.EncodeToString(auth))
	if err != nil {
		return fail(err)
	}
	resp.Body = &closeBoth{ReadCloser: resp.Body, close: func() { stop(); conn.Close() }}
	return resp, nil
}

// closeBoth closes the body, then the connection it came on.
type closeBoth struct {
	io.ReadCloser
	close func()
}

func (c *closeBoth) Close() error {
	err := c.ReadCloser.Close()
	c.close()
	return err
}

// tidyChallenge drops the fields of an NTLM challenge that point outside
// the message, as some proxies' helpers send them (squid's ntlm_fake_auth
// gives its target name a random offset and announces target information
// it does not include). The client needs neither; a well-formed challenge
// comes back unchanged.
func tidyChallenge(b []byte) []byte {
	const header = 40 // up to the target information's field
	if len(b) < 32 {
		return b // not a challenge: go-ntlmssp says so
	}
	c := append([]byte(nil), b...)
	if len(c) < header+8 {
		c = append(c, make([]byte, header+8-len(c))...)
	}
	for _, at := range []int{12, header} { // TargetName, TargetInfo
		n := int(binary.LittleEndian.Uint16(c[at:]))
		off := int(binary.LittleEndian.Uint32(c[at+4:]))
		if n > 0 && (off < header || off+n > len(b)) {
			clear(c[at : at+8])
		}
	}
	return c
}

// bufferedConn reads first what the CONNECT's reader already holds.
type bufferedConn struct {
	net.Conn
	r *bufio.Reader
}

func (c *bufferedConn) Read(p []byte) (int, error) { return c.r.Read(p) }
