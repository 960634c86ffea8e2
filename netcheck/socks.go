package netcheck

import (
	"context"
	"errors"
	"net/url"
	"strings"
	"time"

	"golang.org/x/net/proxy"

	"github.com/paraphe/paraphe/netclient"
)

// checkSOCKS opens a connection to target through a SOCKS5 proxy and
// names the proxy's answer when it refuses (RFC 1928 reply codes).
func checkSOCKS(ctx context.Context, p *url.URL, target string) Finding {
	f := Finding{Check: CheckProxy, Target: target, Details: map[string]string{"proxy": netclient.ProxyDisplay(p)}}
	start := time.Now()
	var auth *proxy.Auth
	if p.User != nil {
		pw, _ := p.User.Password()
		auth = &proxy.Auth{User: p.User.Username(), Password: pw}
	}
	d, err := proxy.SOCKS5("tcp", p.Host, auth, proxy.Direct)
	if err != nil {
		f.Severity, f.Code, f.Fix = Error, CodeProxyUnreachable, FixConfigureProxy
		return f
	}
	conn, err := d.(proxy.ContextDialer).DialContext(ctx, "tcp", target)
	f.Millis = time.Since(start).Milliseconds()
	if err == nil {
		conn.Close()
		f.Severity, f.Code = OK, CodeTunnelOpen
		return f
	}
	msg := err.Error()
	f.Severity, f.Observed = Error, shortErr(err)
	switch {
	case strings.Contains(msg, "dial tcp "+p.Host) || !strings.Contains(msg, "socks"):
		f.Code, f.Fix = CodeProxyUnreachable, FixConfigureProxy
		f.Target = p.Host
	case strings.Contains(msg, "not allowed by ruleset"):
		f.Code, f.Fix = CodeProxyDenied, FixAllowCAOnProxy
	case strings.Contains(msg, "connection refused"):
		f.Code, f.Fix = CodeSOCKSTargetRefused, FixServerDownOrPort
	case strings.Contains(msg, "unreachable"):
		f.Code, f.Fix = CodeSOCKSTargetUnreachable, FixOpenPort
	case errors.Is(err, context.DeadlineExceeded) || strings.Contains(msg, "timeout"):
		f.Code, f.Fix = CodeProxyNoAnswer, FixConfigureProxy
	case strings.Contains(msg, "authentication"):
		f.Code, f.Fix = CodeProxyAuthRequired, FixProxyCredentials
	default:
		f.Code, f.Fix = CodeProxyRefused, FixConfigureProxy
	}
	return f
}
