package netcheck

import (
	"bufio"
	"context"
	"encoding/base64"
	"errors"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/paraphe/paraphe/config"
)

// checkConnect asks an HTTP proxy for a tunnel to target, as the suite's
// requests do, and tells apart: tunnel open, credentials required (with the
// schemes the proxy offers), target refused by the proxy's rules.
func checkConnect(ctx context.Context, proxy *url.URL, target string) Finding {
	f := Finding{Check: "proxy", Target: target, Details: map[string]string{"proxy": config.ProxyDisplay(proxy)}}
	start := time.Now()
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", proxy.Host)
	if err != nil {
		f.Severity, f.Code, f.Fix = Error, "proxy_unreachable", "configure_proxy"
		f.Target = proxy.Host
		return f
	}
	defer conn.Close()
	if dl, ok := ctx.Deadline(); ok {
		conn.SetDeadline(dl)
	}
	req := &http.Request{Method: http.MethodConnect, URL: &url.URL{Opaque: target}, Host: target, Header: http.Header{}}
	if proxy.User != nil {
		pass, _ := proxy.User.Password()
		req.Header.Set("Proxy-Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte(proxy.User.Username()+":"+pass)))
		f.Details["credentials"] = "keychain"
	}
	if err := req.Write(conn); err != nil {
		f.Severity, f.Code, f.Fix = Error, "proxy_unreachable", "configure_proxy"
		return f
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), req)
	f.Millis = time.Since(start).Milliseconds()
	if err != nil {
		f.Severity, f.Code, f.Fix, f.Observed = Error, "proxy_no_answer", "configure_proxy", shortErr(err)
		return f
	}
	resp.Body.Close()
	switch {
	case resp.StatusCode == http.StatusOK:
		f.Severity, f.Code = OK, "tunnel_open"
	case resp.StatusCode == http.StatusProxyAuthRequired:
		var schemes []string
		basic := false
		for _, h := range resp.Header.Values("Proxy-Authenticate") {
			scheme, _, _ := strings.Cut(h, " ")
			schemes = append(schemes, scheme)
			basic = basic || strings.EqualFold(scheme, "Basic")
		}
		f.Observed = strings.Join(schemes, ", ")
		switch {
		case !basic:
			// NTLM or Negotiate only: not a password problem.
			f.Severity, f.Code, f.Fix = Error, "proxy_auth_unsupported", "exempt_ca_from_proxy_auth"
		case proxy.User != nil:
			f.Severity, f.Code, f.Fix = Error, "proxy_auth_rejected", "proxy_credentials"
		default:
			f.Severity, f.Code, f.Fix = Error, "proxy_auth_required", "proxy_credentials"
			if err := config.ProxyCredentialsErr(proxy.Host); err != nil && !errors.Is(err, config.ErrNoProxyCredentials) {
				f.Code, f.Fix = "proxy_credentials_unreadable", "install_keyring"
				f.Observed = shortErr(err)
			}
		}
	case resp.StatusCode == http.StatusForbidden:
		f.Severity, f.Code, f.Fix = Error, "proxy_denied", "allow_ca_on_proxy"
		f.Observed = resp.Status
	default:
		f.Severity, f.Code, f.Fix = Error, "proxy_refused", "configure_proxy"
		f.Observed = resp.Status
	}
	return f
}
