package netclient

import (
	"bufio"
	"context"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// readOSProxy reads the desktop's proxy settings: GNOME (gsettings), then
// KDE (kioslaverc).
func readOSProxy() osProxy {
	if p, ok := gnomeProxy(); ok {
		return p
	}
	return kdeProxy()
}

func gsettings(schema, key string) string {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, "gsettings", "get", schema, key).Output()
	if err != nil {
		return ""
	}
	return strings.Trim(strings.TrimSpace(string(out)), "'")
}

func gnomeProxy() (osProxy, bool) {
	if _, err := exec.LookPath("gsettings"); err != nil {
		return osProxy{}, false
	}
	switch gsettings("org.gnome.system.proxy", "mode") {
	case "manual":
		host := gsettings("org.gnome.system.proxy.https", "host")
		port := gsettings("org.gnome.system.proxy.https", "port")
		p := osProxy{}
		if host != "" && port != "" && port != "0" {
			p.proxy = parseHostPort(net.JoinHostPort(host, port), "http")
		}
		ignore := gsettings("org.gnome.system.proxy", "ignore-hosts")
		for _, h := range strings.Split(strings.Trim(ignore, "[]"), ",") {
			p.bypass = append(p.bypass, strings.Trim(strings.TrimSpace(h), "'"))
		}
		return p, true
	case "auto":
		return osProxy{pac: gsettings("org.gnome.system.proxy", "autoconfig-url")}, true
	case "none":
		return osProxy{}, true
	}
	return osProxy{}, false
}

// kdeProxy reads [Proxy Settings] of kioslaverc: ProxyType 1 is manual, 2 a
// PAC file.
func kdeProxy() osProxy {
	dir := os.Getenv("XDG_CONFIG_HOME")
	if dir == "" {
		home, _ := os.UserHomeDir()
		dir = filepath.Join(home, ".config")
	}
	f, err := os.Open(filepath.Join(dir, "kioslaverc"))
	if err != nil {
		return osProxy{}
	}
	defer f.Close()
	values := map[string]string{}
	section := ""
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if strings.HasPrefix(line, "[") {
			section = line
			continue
		}
		if k, v, ok := strings.Cut(line, "="); ok && section == "[Proxy Settings]" {
			values[strings.TrimSpace(k)] = strings.TrimSpace(v)
		}
	}
	switch values["ProxyType"] {
	case "1":
		// "http://host port" or "http://host:port"
		v := strings.Replace(values["httpsProxy"], " ", ":", 1)
		return osProxy{proxy: parseHostPort(v, "http"), bypass: strings.Split(values["NoProxyFor"], ",")}
	case "2":
		return osProxy{pac: values["Proxy Config Script"]}
	}
	return osProxy{}
}
