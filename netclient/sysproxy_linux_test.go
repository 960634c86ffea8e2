package netclient

import (
	"os"
	"path/filepath"
	"testing"
)

func TestKDEProxySettings(t *testing.T) {
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
