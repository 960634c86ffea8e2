package config

import (
	"fmt"
	"net"
	"net/url"
	"slices"
	"strconv"
	"strings"
)

// DefaultBridgePort is the loopback port the signing bridge listens on
// when the policy names none: below every system's ephemeral range
// (Linux from 32768, Windows and macOS from 49152), so that an outgoing
// connection never holds it, and registered to no known service.
const DefaultBridgePort = 27461

// BridgeAddr is the address the signing bridge listens on: loopback only,
// at the policy's port (p may be nil: the default port).
func (p *Policy) BridgeAddr() string {
	port := DefaultBridgePort
	if p != nil && p.BridgePort != 0 {
		port = p.BridgePort
	}
	return net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
}

// AllowsOrigin reports whether the signing bridge answers a page of
// origin, as the browser sends it in the Origin header: only an exact
// match of one of WebOrigins (p may be nil: none).
func (p *Policy) AllowsOrigin(origin string) bool {
	return p != nil && origin != "" && slices.Contains(p.WebOrigins, origin)
}

// CheckOrigin says whether s is written as a browser serialises a web
// origin, the only form an exact comparison can match: scheme, host and a
// port other than the scheme's default, lower case, nothing else.
// https:// is required, except for the loopback addresses a portal under
// development runs on.
func CheckOrigin(s string) error {
	u, err := url.Parse(s)
	switch {
	case err != nil || u.Host == "" || u.Opaque != "":
		return fmt.Errorf("%q is not scheme://host[:port]", s)
	case u.Scheme != "https" && u.Scheme != "http":
		return fmt.Errorf("%q: the scheme is https:// (http:// for a portal on this computer only)", s)
	case u.User != nil || u.Path != "" || u.RawQuery != "" || u.ForceQuery || strings.Contains(s, "#"):
		return fmt.Errorf("%q: an origin has no path, query or credentials (write %s://%s)", s, u.Scheme, u.Host)
	case strings.Contains(u.Host, "*"):
		return fmt.Errorf("%q: origins are exact, without wildcards", s)
	case s != strings.ToLower(s):
		return fmt.Errorf("%q: browsers send origins in lower case (write %s)", s, strings.ToLower(s))
	}
	if port := u.Port(); port != "" {
		n, err := strconv.Atoi(port)
		if err != nil || n < 1 || n > 65535 {
			return fmt.Errorf("%q: port %s is not a port", s, port)
		}
		if (u.Scheme == "https" && n == 443) || (u.Scheme == "http" && n == 80) {
			return fmt.Errorf("%q: browsers leave the default port out (write %s://%s)", s, u.Scheme, u.Hostname())
		}
	}
	if u.Scheme == "http" && !loopbackHost(u.Hostname()) {
		return fmt.Errorf("%q: a portal on the network is reached over https:// (a page sent in clear could ask for signatures in its name)", s)
	}
	return nil
}

func loopbackHost(h string) bool {
	if h == "localhost" {
		return true
	}
	ip := net.ParseIP(h)
	return ip != nil && ip.IsLoopback()
}

// validateBridge checks bridge_port and web_origins.
func (p *Policy) validateBridge() error {
	if p.BridgePort != 0 && (p.BridgePort < 1024 || p.BridgePort > 65535) {
		return &FieldError{Path: p.Path, Field: "bridge_port", Reason: ReasonRange, Detail: fmt.Sprint(p.BridgePort, " (1024 to 65535)")}
	}
	for i, o := range p.WebOrigins {
		if err := CheckOrigin(o); err != nil {
			return &FieldError{Path: p.Path, Field: fmt.Sprintf("web_origins[%d]", i), Reason: ReasonValue, Detail: err.Error()}
		}
	}
	return nil
}
