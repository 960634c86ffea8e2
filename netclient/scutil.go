package netclient

import (
	"net"
	"strings"
)

// parseScutilProxy reads the output of macOS "scutil --proxy": a PAC URL or
// the HTTPS proxy, with the bypass list (ExceptionsList, and
// ExcludeSimpleHostnames as "<local>"). It lives outside the darwin file so
// that it is tested everywhere.
func parseScutilProxy(out string) osProxy {
	v := map[string]string{}
	var exceptions []string
	inExceptions := false
	for _, line := range strings.Split(out, "\n") {
		line = strings.TrimSpace(line)
		if inExceptions {
			if line == "}" {
				inExceptions = false
			} else if _, val, ok := strings.Cut(line, " : "); ok {
				exceptions = append(exceptions, strings.TrimSpace(val))
			}
			continue
		}
		k, val, ok := strings.Cut(line, " : ")
		if !ok {
			continue
		}
		k, val = strings.TrimSpace(k), strings.TrimSpace(val)
		if k == "ExceptionsList" && strings.HasPrefix(val, "<array>") {
			inExceptions = true
			continue
		}
		v[k] = val
	}
	if v["ExcludeSimpleHostnames"] == "1" {
		exceptions = append(exceptions, "<local>")
	}
	switch {
	case v["ProxyAutoConfigEnable"] == "1":
		// The bypass list is for manual proxies; a PAC script decides alone.
		return osProxy{pac: v["ProxyAutoConfigURLString"]}
	case v["HTTPSEnable"] == "1":
		return osProxy{proxy: parseHostPort(net.JoinHostPort(v["HTTPSProxy"], v["HTTPSPort"]), "http"), bypass: exceptions}
	}
	return osProxy{}
}
