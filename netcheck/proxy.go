package netcheck

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/paraphe/paraphe/netclient"
)

// checkConnect asks an HTTP proxy for a tunnel to target, as the suite's
// requests do, and tells apart: tunnel open, credentials required (with the
// schemes the proxy offers), target refused by the proxy's rules.
func checkConnect(ctx context.Context, proxy *url.URL, target string) Finding {
	f := Finding{Check: CheckProxy, Target: target, Details: map[string]string{"proxy": netclient.ProxyDisplay(proxy)}}
	if proxy.User != nil {
		f.Details["credentials"] = "keychain"
	}
	start := time.Now()
	conn, err := netclient.Tunnel(ctx, &net.Dialer{}, proxy, target)
	f.Millis = time.Since(start).Milliseconds()
	var (
		auth   *netclient.ProxyAuthError
		status *netclient.ProxyStatusError
		op     *net.OpError
	)
	switch {
	case err == nil:
		conn.Close()
		f.Severity, f.Code = OK, CodeTunnelOpen
	case errors.As(err, &auth):
		f.Observed = strings.Join(auth.Schemes, ", ")
		answerable := false
		for _, s := range auth.Schemes {
			answerable = answerable || strings.EqualFold(s, "Basic") || strings.EqualFold(s, "NTLM")
		}
		switch {
		case !answerable:
			// Negotiate (Kerberos) only: not a password problem.
			f.Severity, f.Code, f.Fix = Error, CodeProxyAuthUnsupported, FixExemptCAFromProxyAuth
		case auth.Tried != "":
			f.Severity, f.Code, f.Fix = Error, CodeProxyAuthRejected, FixProxyCredentials
		default:
			f.Severity, f.Code, f.Fix = Error, CodeProxyAuthRequired, FixProxyCredentials
			if err := netclient.ProxyCredentialsErr(proxy.Host); err != nil && !errors.Is(err, netclient.ErrNoProxyCredentials) {
				f.Code, f.Fix = CodeProxyCredentialsUnreadable, FixInstallKeyring
				f.Observed = shortErr(err)
			}
		}
	case errors.As(err, &status) && status.Code == http.StatusForbidden:
		f.Severity, f.Code, f.Fix, f.Observed = Error, CodeProxyDenied, FixAllowCAOnProxy, status.Status
	case errors.As(err, &status):
		f.Severity, f.Code, f.Fix, f.Observed = Error, CodeProxyRefused, FixConfigureProxy, status.Status
	case errors.As(err, &op) && op.Op == "dial":
		f.Severity, f.Code, f.Fix = Error, CodeProxyUnreachable, FixConfigureProxy
		f.Target = proxy.Host
	default:
		f.Severity, f.Code, f.Fix, f.Observed = Error, CodeProxyNoAnswer, FixConfigureProxy, shortErr(err)
	}
	return f
}
