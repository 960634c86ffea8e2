package config

import (
	"net/url"
	"testing"
)

func TestResolveProxySources(t *testing.T) {
	u, _ := url.Parse("https://ca.example:8443/")
	for setting, want := range map[string]string{"none": SourceNone, "http://proxy.example:3128": SourcePolicy, "socks5://127.0.0.1:1080": SourcePolicy} {
		pu, src, err := ResolveProxy(&Policy{Proxy: setting}, u)
		if err != nil || src != want || (setting != "none" && pu == nil) {
			t.Errorf("%s: %v %s %v", setting, pu, src, err)
		}
	}
}

func TestBypassList(t *testing.T) {
	list := []string{" .Corp.example ", "<local>", "127.0.0.0/8", "exact.example"}
	for host, want := range map[string]bool{
		"a.corp.example": true, "CORP.EXAMPLE": true, "notcorp.example": false, "intranet": true,
		"127.0.0.1": true, "10.0.0.1": false, "exact.example": true, "x.exact.example": true, "other.example": false,
	} {
		if got := bypassed(host, list); got != want {
			t.Errorf("%s: %v, want %v", host, got, want)
		}
	}
}
