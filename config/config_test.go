package config

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

const anchor = "11d95a6f5508e54134a75866e23d3aff7e940c115617c22e006335cb18cc0b67"

func TestParsePolicy(t *testing.T) {
	tests := []struct {
		name, json string
		field      string // "" for a valid policy
		reason     string
	}{
		{"minimal", `{"version":1,"ca":{"url":"https://ca.example:8443","anchors":["` + anchor + `"]}}`, "", ""},
		{"colons and prefix", `{"version":1,"ca":{"url":"https://ca.example","anchors":["SHA256:` + strings.ToUpper(colons(anchor)) + `"]}}`, "", ""},
		{"syntax", `{"version":1,`, "(file)", ReasonSyntax},
		{"unknown field", `{"version":1,"ca":{"url":"https://x","anchors":["` + anchor + `"]},"prxy":"none"}`, "prxy", ReasonUnknown},
		{"wrong type", `{"version":"1"}`, "version", ReasonValue},
		{"version", `{"version":2,"ca":{"url":"https://x","anchors":["` + anchor + `"]}}`, "version", ReasonValue},
		{"no url", `{"version":1,"ca":{"anchors":["` + anchor + `"]}}`, "ca.url", ReasonRequired},
		{"http url", `{"version":1,"ca":{"url":"http://x","anchors":["` + anchor + `"]}}`, "ca.url", ReasonHTTPS},
		{"no anchors", `{"version":1,"ca":{"url":"https://x"}}`, "ca.anchors", ReasonRequired},
		{"system roots only", `{"version":1,"ca":{"url":"https://x","allow_system_roots":true}}`, "ca.anchors", ReasonRequired},
		{"https proxy", `{"version":1,"ca":{"url":"https://x","anchors":["` + anchor + `"]},"proxy":"https://proxy:3128"}`, "proxy", ReasonValue},
		{"short anchor", `{"version":1,"ca":{"url":"https://x","anchors":["abcd"]}}`, "ca.anchors[0]", ReasonFingerprint},
		{"proxy credentials", `{"version":1,"ca":{"url":"https://x","anchors":["` + anchor + `"]},"proxy":"http://u:p@proxy:3128"}`, "proxy", ReasonValue},
		{"proxy scheme", `{"version":1,"ca":{"url":"https://x","anchors":["` + anchor + `"]},"proxy":"ftp://proxy"}`, "proxy", ReasonValue},
		{"socks proxy", `{"version":1,"ca":{"url":"https://x","anchors":["` + anchor + `"]},"proxy":"socks5://127.0.0.1:1080"}`, "", ""},
		{"store", `{"version":1,"ca":{"url":"https://x","anchors":["` + anchor + `"]},"key_stores":["file"]}`, "key_stores[0]", ReasonValue},
		{"warning days", `{"version":1,"ca":{"url":"https://x","anchors":["` + anchor + `"]},"renewal_warning_days":400}`, "renewal_warning_days", ReasonRange},
		{"pin policy", `{"version":1,"ca":{"url":"https://x","anchors":["` + anchor + `"]},"pin_policy":{"token":{"min_length":2}}}`, "pin_policy.token.min_length", ReasonRange},
		{"exchange", `{"version":1,"ca":{"url":"https://x","anchors":["` + anchor + `"]},"exchange":"https://parcels.example"}`, "", ""},
		{"exchange over http", `{"version":1,"ca":{"url":"https://x","anchors":["` + anchor + `"]},"exchange":"http://parcels.example"}`, "exchange", ReasonHTTPS},
		{"exchange with credentials", `{"version":1,"ca":{"url":"https://x","anchors":["` + anchor + `"]},"exchange":"https://u:p@parcels.example"}`, "exchange", ReasonHTTPS},
		{"exchange without host", `{"version":1,"ca":{"url":"https://x","anchors":["` + anchor + `"]},"exchange":"https:///parcels"}`, "exchange", ReasonHTTPS},
		// The packages' template names no CA: its other fields are still checked.
		{"template with a bad proxy", `{"version":1,"ca":{"url":"","anchors":[]},"proxy":"ftp://proxy"}`, "proxy", ReasonValue},
		{"template of another version", `{"version":2,"ca":{"url":"","anchors":[]}}`, "version", ReasonValue},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := ParsePolicy([]byte(tt.json))
			if tt.field == "" {
				if err != nil {
					t.Fatal(err)
				}
				if p.Proxy != "system" && !strings.Contains(tt.json, "proxy") || len(p.KeyStores) == 0 || p.RenewalWarningDays != 30 {
					t.Fatalf("defaults not applied: %+v", p)
				}
				return
			}
			var fe *FieldError
			if !errors.As(err, &fe) || fe.Field != tt.field || fe.Reason != tt.reason {
				t.Fatalf("got %v, want %s %s", err, tt.field, tt.reason)
			}
		})
	}
}

// A wrong store is answered with the JSON's words: the stores there are,
// or the type the file must give.
func TestStoreErrorsSayWhatIsExpected(t *testing.T) {
	for js, detail := range map[string]string{
		`["file"]`: `file (use "keychain", "pkcs11" or "remote")`,
		`[1]`:      "expected string",
	} {
		_, err := ParsePolicy([]byte(`{"version":1,"ca":{"url":"https://x","anchors":["` + anchor + `"]},"key_stores":` + js + `}`))
		var fe *FieldError
		if !errors.As(err, &fe) || fe.Reason != ReasonValue || fe.Detail != detail {
			t.Errorf("key_stores %s: %v, want the detail %q", js, err, detail)
		}
	}
}

func TestUnconfiguredPolicy(t *testing.T) {
	for _, js := range []string{
		`{"version":1,"ca":{"url":"","anchors":[]}}`,
		`{"version":1,"ca":{"url":"","anchors":[]},"proxy":"http://proxy:3128","key_stores":["pkcs11"]}`,
	} {
		if _, err := ParsePolicy([]byte(js)); !errors.Is(err, ErrUnconfigured) {
			t.Errorf("%s: got %v, want ErrUnconfigured", js, err)
		}
	}
	path := filepath.Join(t.TempDir(), "policy.json")
	os.WriteFile(path, []byte(`{"version":1,"ca":{"url":"","anchors":[]}}`), 0o644)
	t.Setenv("PARAPHE_POLICY", path)
	if _, err := LoadPolicy(); !errors.Is(err, ErrUnconfigured) || errors.Is(err, ErrNoPolicy) || !strings.Contains(err.Error(), path) {
		t.Fatalf("LoadPolicy of the template: %v", err)
	}
	// Half a CA is not the template: it is an invalid policy.
	if _, err := ParsePolicy([]byte(`{"version":1,"ca":{"url":"https://ca.example"}}`)); errors.Is(err, ErrUnconfigured) {
		t.Fatal("a CA without anchors passed for the template")
	}
}

func colons(h string) string {
	var b strings.Builder
	for i := 0; i < len(h); i += 2 {
		if i > 0 {
			b.WriteByte(':')
		}
		b.WriteString(h[i : i+2])
	}
	return b.String()
}

func TestPolicyLocation(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "policy.json")
	t.Setenv("PARAPHE_POLICY", path)
	if _, err := LoadPolicy(); !errors.Is(err, ErrNoPolicy) {
		t.Fatalf("missing policy: %v", err)
	}
	os.WriteFile(path, []byte(`{"version":1,"ca":{"url":"ftp://x","anchors":["`+anchor+`"]}}`), 0o644)
	_, err := LoadPolicy()
	var fe *FieldError
	if !errors.As(err, &fe) || fe.Path != path || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), "ca.url") {
		t.Fatalf("invalid policy error does not name file and field: %v", err)
	}
	t.Setenv("PARAPHE_POLICY", "")
	if PolicyPath() != systemPolicyPath() || systemPolicyPath() == "" {
		t.Fatal("no system policy path")
	}
}

// The policy written for a CA reads back as the defaults with that CA,
// every default written out (so IT sees what it may change); a CA the
// clients could not reach is refused.
func TestPolicyFor(t *testing.T) {
	data, err := PolicyFor("https://ca.example:8443", anchor)
	if err != nil {
		t.Fatal(err)
	}
	p, err := ParsePolicy(data)
	if err != nil {
		t.Fatal(err)
	}
	want := DefaultPolicy()
	want.CA = CA{URL: "https://ca.example:8443", Anchors: []string{anchor}}
	if !reflect.DeepEqual(*p, want) {
		t.Fatalf("read back %+v, want %+v", *p, want)
	}
	for _, field := range []string{`"proxy": "system"`, `"key_stores"`, `"pin_policy"`, `"renewal_warning_days": 30`} {
		if !strings.Contains(string(data), field) {
			t.Errorf("%s is not written out:\n%s", field, data)
		}
	}
	var fe *FieldError
	if _, err := PolicyFor("http://ca.example", anchor); !errors.As(err, &fe) || fe.Field != "ca.url" {
		t.Errorf("http:// CA: %v", err)
	}
	if _, err := PolicyFor("https://ca.example"); !errors.As(err, &fe) || fe.Field != "ca.anchors" {
		t.Errorf("no anchor: %v", err)
	}
}

func TestSettingsRoundTrip(t *testing.T) {
	t.Setenv("PARAPHE_HOME", filepath.Join(t.TempDir(), "home"))
	s, err := LoadSettings()
	if err != nil || s != (Settings{}) {
		t.Fatalf("fresh settings %+v %v", s, err)
	}
	if err := SaveSettings(Settings{Language: "it", DefaultCert: "abc"}); err != nil {
		t.Fatal(err)
	}
	s, err = LoadSettings()
	if err != nil || s.Language != "it" || s.DefaultCert != "abc" {
		t.Fatalf("reloaded %+v %v", s, err)
	}
}

func TestPINPolicy(t *testing.T) {
	pw, tok := DefaultPasswordPolicy(), DefaultTokenPolicy()
	tests := []struct {
		rules PINPolicy
		pin   string
		rule  string // "" when the PIN is acceptable
	}{
		{pw, "Corr3ct-Horse", ""},
		{pw, "Sh0rt!", RuleTooShort},
		{pw, strings.Repeat("Ab1!", 17), RuleTooLong},
		{pw, "corr3ct-horse", RuleUpper},
		{pw, "CORR3CT-HORSE", RuleLower},
		{pw, "Correct-Horse", RuleDigit},
		{pw, "Corr3ctHorse", RuleSpecial},
		{pw, "Corr3ct-Hooorse", RuleRepeat},
		{pw, "Éléphant-2024", ""}, // non-ASCII letters count as letters
		{tok, "12345678", ""},
		{tok, "1234567", RuleTooShort},
		{tok, "123456789", RuleTooLong},
		{tok, "1234567a", RuleDigitsOnly},
	}
	for _, tt := range tests {
		t.Run(tt.pin, func(t *testing.T) {
			err := tt.rules.Check([]byte(tt.pin))
			var pe *PINError
			switch {
			case tt.rule == "" && err != nil:
				t.Fatalf("rejected: %v", err)
			case tt.rule != "" && (!errors.As(err, &pe) || pe.Rule != tt.rule):
				t.Fatalf("got %v, want rule %s", err, tt.rule)
			}
		})
	}
}

// Users may set their own proxy and PKCS#11 library only where the policy
// says so; a setting that would not be valid in the policy is left out.
func TestUserMay(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("PARAPHE_HOME", dir)
	base := `{"version": 1, "ca": {"url": "https://ca.example", "anchors": ["` + strings.Repeat("ab", 32) + `"]}, "proxy": "none"%s}`
	write := func(extra string) {
		t.Setenv("PARAPHE_POLICY", filepath.Join(dir, "policy.json"))
		if err := os.WriteFile(filepath.Join(dir, "policy.json"), []byte(fmt.Sprintf(base, extra)), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := SaveSettings(Settings{Proxy: "http://proxy.example:3128", PKCS11Module: "/opt/card/lib.so"}); err != nil {
		t.Fatal(err)
	}
	write("")
	p, err := LoadPolicy()
	if err != nil || p.Proxy != "none" || p.PKCS11.Module != "" || len(p.FromUser) != 0 {
		t.Fatalf("without user_may: %+v %v", p, err)
	}
	write(`, "user_may": {"proxy": true, "pkcs11_module": true}`)
	p, err = LoadPolicy()
	if err != nil || p.Proxy != "http://proxy.example:3128" || p.PKCS11Module() != "/opt/card/lib.so" || len(p.FromUser) != 2 {
		t.Fatalf("with user_may: %+v %v", p, err)
	}
	SaveSettings(Settings{Proxy: "http://user:secret@proxy.example:3128", PKCS11Module: "relative.so"})
	p, _ = LoadPolicy()
	if p.Proxy != "none" || p.PKCS11.Module != "" {
		t.Fatalf("invalid user settings were applied: %+v", p)
	}
}
