package config

import (
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"testing"
)

func TestKDEProxySettings(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("KDE settings are read on Linux")
	}
	dir := t.TempDir()
	t.Setenv("XDG_CONFIG_HOME", dir)
	write := func(s string) { os.WriteFile(filepath.Join(dir, "kioslaverc"), []byte(s), 0o644) }
	write("[Proxy Settings]\nProxyType=1\nhttpsProxy=http://proxy.corp.example 3128\nNoProxyFor=localhost,.corp.example\n")
	p := kdeProxy()
	if p.proxy == nil || p.proxy.String() != "http://proxy.corp.example:3128" || len(p.bypass) != 2 {
		t.Fatalf("manual: %+v", p)
	}
	write("[Proxy Settings]\nProxyType=2\nProxy Config Script=http://wpad.corp.example/wpad.dat\n")
	if p := kdeProxy(); p.pac != "http://wpad.corp.example/wpad.dat" {
		t.Fatalf("PAC: %+v", p)
	}
	write("[Other]\nProxyType=1\n")
	if p := kdeProxy(); p.proxy != nil || p.pac != "" {
		t.Fatalf("no proxy section: %+v", p)
	}
}

func TestResolveProxySources(t *testing.T) {
	u, _ := url.Parse("https://ca.example:8443/")
	for setting, want := range map[string]string{"none": SourceNone, "http://proxy.example:3128": SourcePolicy, "socks5://127.0.0.1:1080": SourcePolicy} {
		pu, src, err := ResolveProxy(&Policy{Proxy: setting}, u)
		if err != nil || src != want || (setting != "none" && pu == nil) {
			t.Errorf("%s: %v %s %v", setting, pu, src, err)
		}
	}
}
