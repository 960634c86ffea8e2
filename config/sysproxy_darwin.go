package config

import (
	"net"
	"os/exec"
	"strings"
)

// readOSProxy reads the System Configuration proxies ("scutil --proxy").
func readOSProxy() osProxy {
	out, err := exec.Command("scutil", "--proxy").Output()
	if err != nil {
		return osProxy{}
	}
	v := map[string]string{}
	for _, line := range strings.Split(string(out), "\n") {
		if k, val, ok := strings.Cut(line, " : "); ok {
			v[strings.TrimSpace(k)] = strings.TrimSpace(val)
		}
	}
	switch {
	case v["ProxyAutoConfigEnable"] == "1":
		return osProxy{pac: v["ProxyAutoConfigURLString"]}
	case v["HTTPSEnable"] == "1":
		return osProxy{proxy: parseHostPort(net.JoinHostPort(v["HTTPSProxy"], v["HTTPSPort"]), "http")}
	}
	return osProxy{}
}
