package config

import (
	"errors"
	"strings"
	"testing"
)

func TestBridgePolicy(t *testing.T) {
	base := `{"version":1,"ca":{"url":"https://x","anchors":["` + anchor + `"]}`
	p, err := ParsePolicy([]byte(base + `}`))
	if err != nil {
		t.Fatal(err)
	}
	if p.BridgePort != DefaultBridgePort || p.BridgeAddr() != "127.0.0.1:27461" || p.AllowsOrigin("https://portal.example") {
		t.Fatalf("defaults: port %d, %s, origins %v", p.BridgePort, p.BridgeAddr(), p.WebOrigins)
	}
	var none *Policy
	if none.BridgeAddr() != "127.0.0.1:27461" || none.AllowsOrigin("https://portal.example") {
		t.Fatal("without a policy: the default port, no origin")
	}
	p, err = ParsePolicy([]byte(base + `,"bridge_port":31000,"web_origins":["https://portal.example","https://marches.example.fr:8443","http://127.0.0.1:8080","http://localhost:3000","http://[::1]:9000"]}`))
	if err != nil {
		t.Fatal(err)
	}
	if p.BridgeAddr() != "127.0.0.1:31000" {
		t.Fatal(p.BridgeAddr())
	}
	for o, want := range map[string]bool{
		"https://portal.example": true, "https://marches.example.fr:8443": true, "http://127.0.0.1:8080": true,
		"https://portal.example:443": false, "http://portal.example": false, "https://PORTAL.example": false,
		"https://evil.portal.example": false, "https://portal.example.evil": false, "null": false, "": false,
		"https://marches.example.fr": false, "http://127.0.0.1:8081": false,
	} {
		if p.AllowsOrigin(o) != want {
			t.Errorf("AllowsOrigin(%q) = %v", o, !want)
		}
	}
	for _, tt := range []struct{ json, field, reason, says string }{
		{`"bridge_port":80`, "bridge_port", ReasonRange, "1024"},
		{`"bridge_port":70000`, "bridge_port", ReasonRange, ""},
		{`"bridge_port":"27461"`, "bridge_port", ReasonValue, ""},
		{`"web_origins":"https://portal.example"`, "web_origins", ReasonValue, ""},
		{`"web_origins":["https://portal.example/"]`, "web_origins[0]", ReasonValue, "no path"},
		{`"web_origins":["https://portal.example","https://portal.example/login"]`, "web_origins[1]", ReasonValue, "write https://portal.example"},
		{`"web_origins":["https://portal.example?"]`, "web_origins[0]", ReasonValue, ""},
		{`"web_origins":["https://portal.example#x"]`, "web_origins[0]", ReasonValue, ""},
		{`"web_origins":["https://user@portal.example"]`, "web_origins[0]", ReasonValue, "credentials"},
		{`"web_origins":["https://*.example"]`, "web_origins[0]", ReasonValue, "wildcards"},
		{`"web_origins":["*"]`, "web_origins[0]", ReasonValue, ""},
		{`"web_origins":["portal.example"]`, "web_origins[0]", ReasonValue, ""},
		{`"web_origins":["https://Portal.example"]`, "web_origins[0]", ReasonValue, "lower case"},
		{`"web_origins":["https://portal.example:443"]`, "web_origins[0]", ReasonValue, "default port"},
		{`"web_origins":["http://portal.example:80"]`, "web_origins[0]", ReasonValue, "default port"},
		{`"web_origins":["http://portal.example"]`, "web_origins[0]", ReasonValue, "https://"},
		{`"web_origins":["ftp://portal.example"]`, "web_origins[0]", ReasonValue, "scheme"},
		{`"web_origins":["https://portal.example:99999"]`, "web_origins[0]", ReasonValue, ""},
	} {
		_, err := ParsePolicy([]byte(base + "," + tt.json + "}"))
		var fe *FieldError
		if !errors.As(err, &fe) || fe.Field != tt.field || fe.Reason != tt.reason || !strings.Contains(fe.Detail, tt.says) {
			t.Errorf("%s: got %v, want %s %s saying %q", tt.json, err, tt.field, tt.reason, tt.says)
		}
	}
}
