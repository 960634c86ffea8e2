package netclient

import (
	"net/url"
	"testing"

	"github.com/paraphe/paraphe/config"
)

func TestResolveProxySources(t *testing.T) {
	u, _ := url.Parse("https://ca.example:8443/")
	for setting, want := range map[string]string{"none": SourceNone, "http://proxy.example:3128": SourcePolicy, "socks5://127.0.0.1:1080": SourcePolicy} {
		pu, src, err := ResolveProxy(&config.Policy{Proxy: setting}, u)
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

// The shape of "scutil --proxy" on macOS: the HTTPS proxy with its
// exceptions (and plain host names) is read; a PAC URL wins when enabled.
func TestParseScutilProxy(t *testing.T) {
	out := `<dictionary> {
  ExceptionsList : <array> {
    0 : *.local
    1 : 169.254.0.0/16
    2 : ca.intranet.example
  }
  ExcludeSimpleHostnames : 1
  FTPPassive : 1
  HTTPEnable : 1
  HTTPPort : 8080
  HTTPProxy : other.example
  HTTPSEnable : 1
  HTTPSPort : 3128
  HTTPSProxy : proxy.example
}
`
	p := parseScutilProxy(out)
	if p.proxy == nil || p.proxy.String() != "http://proxy.example:3128" || p.pac != "" {
		t.Fatalf("proxy %v pac %q", p.proxy, p.pac)
	}
	for host, want := range map[string]bool{"printer.local": true, "169.254.3.4": true, "ca.intranet.example": true,
		"intranet": true, "ca.example": false} {
		if got := bypassed(host, p.bypass); got != want {
			t.Errorf("%s bypassed = %v, want %v (list %q)", host, got, want, p.bypass)
		}
	}
	pac := parseScutilProxy("<dictionary> {\n  ProxyAutoConfigEnable : 1\n  ProxyAutoConfigURLString : http://wpad.example/proxy.pac\n  HTTPSEnable : 1\n  HTTPSProxy : proxy.example\n  HTTPSPort : 3128\n}\n")
	if pac.pac != "http://wpad.example/proxy.pac" || pac.proxy != nil {
		t.Fatalf("PAC: %+v", pac)
	}
	if off := parseScutilProxy("<dictionary> {\n  HTTPEnable : 0\n}\n"); off.proxy != nil || off.pac != "" {
		t.Fatalf("no proxy: %+v", off)
	}
}
