package netclient

import (
	"strings"

	"golang.org/x/sys/windows/registry"
)

// readOSProxy reads the user's WinINET settings (what Internet Options and
// Edge use): a PAC file, or a fixed proxy ("host:port" or per protocol
// "http=…;https=…"), and the bypass list.
func readOSProxy() osProxy {
	k, err := registry.OpenKey(registry.CURRENT_USER, `Software\Microsoft\Windows\CurrentVersion\Internet Settings`, registry.QUERY_VALUE)
	if err != nil {
		return osProxy{}
	}
	defer k.Close()
	var p osProxy
	if pac, _, err := k.GetStringValue("AutoConfigURL"); err == nil && pac != "" {
		p.pac = pac
		return p
	}
	enabled, _, err := k.GetIntegerValue("ProxyEnable")
	if err != nil || enabled == 0 {
		return p
	}
	server, _, _ := k.GetStringValue("ProxyServer")
	if strings.Contains(server, "=") {
		for _, part := range strings.Split(server, ";") {
			if proto, addr, ok := strings.Cut(part, "="); ok && (proto == "https" || (proto == "http" && p.proxy == nil)) {
				p.proxy = parseHostPort(addr, "http")
			}
		}
	} else {
		p.proxy = parseHostPort(server, "http")
	}
	if bypass, _, err := k.GetStringValue("ProxyOverride"); err == nil {
		p.bypass = strings.Split(bypass, ";")
	}
	return p
}
