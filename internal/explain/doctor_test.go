package explain

import (
	"strings"
	"testing"
	"time"

	"github.com/paraphe/paraphe/internal/i18n"
	"github.com/paraphe/paraphe/netcheck"
)

// Findings are said in words: the raw values the doctor records for its
// JSON report (an OCSP status, a cipher suite, a store's name, a key ID,
// times in UTC, the computer's details as key=value) never reach the line.
func TestFindingsInWords(t *testing.T) {
	findings := []netcheck.Finding{
		{Check: netcheck.CheckOCSP, Target: "http://127.0.0.1:8081/ocsp", Code: netcheck.CodeAnswered, Observed: "OCSP unknown"},
		{Check: netcheck.CheckTLS, Target: "127.0.0.1:8443", Code: netcheck.CodeVerified, Observed: "TLS 1.3 TLS_AES_128_GCM_SHA256"},
		{Check: netcheck.CheckTSA, Target: "https://127.0.0.1:8443/tsa", Code: netcheck.CodeAnswered, Observed: "2026-11-22 23:19:15 UTC"},
		{Check: netcheck.CheckClock, Code: netcheck.CodeSkew, Observed: "2026-11-22T23:19:15Z", Expected: "2026-11-22T23:29:15Z"},
		{Check: netcheck.CheckKeystore, Target: "keychain", Code: netcheck.CodeKeychainOK},
		{Check: netcheck.CheckCertificate, Target: "ba255804deadbeef", Code: netcheck.CodeCertOK, Observed: "Marie Dupont",
			Details: map[string]string{"days_left": "1094"}},
		{Check: netcheck.CheckEnvironment, Code: netcheck.CodePolicyValid, Observed: "/etc/paraphe/policy.json",
			Details: map[string]string{"os": "linux", "arch": "amd64", "admin": "true", "install": "machine", "version": "1.4.0", "policy": "/etc/paraphe/policy.json"}},
		{Check: netcheck.CheckPolicy, Code: netcheck.CodeNoPolicy, Observed: "/etc/paraphe/policy.json",
			Details: map[string]string{"os": "windows", "arch": "amd64", "install": "user", "version": "1.4.0"}},
	}
	raw := []string{"OCSP unknown", "TLS_AES", "UTC", "T23:", "(keychain)", "ba255804", "admin=", "arch=", "os=", "install=", "[", "]"}
	defer func(l *time.Location) { time.Local = l }(time.Local)
	time.Local = time.FixedZone("CET", 3600) // the reader's zone, not the report's UTC
	for _, lang := range []string{"en", "fr", "it"} {
		p := i18n.NewVariant(lang, "gui")
		for _, f := range findings {
			line := Finding(p, f)
			for _, r := range raw {
				if strings.Contains(line, r) {
					t.Errorf("%s: %q shows %q", lang, line, r)
				}
			}
		}
	}
	p := i18n.New("en")
	for f, want := range map[int]string{
		0: "OCSP responder: answers (http://127.0.0.1:8081/ocsp)",
		2: "Time-stamping: answers (its clock says 23 Nov 2026 00:19 CET) (https://127.0.0.1:8443/tsa)",
		1: "Secure connection: verified against the CA's root (TLS 1.3) (127.0.0.1:8443)",
		4: "Key store: the keychain answers",
		5: "Certificate: Marie Dupont, valid (1094 days left)",
		6: "This computer: the machine policy /etc/paraphe/policy.json is in force; Linux (amd64), Paraphe 1.4.0 installed for all users, with administrator rights",
	} {
		if got := Finding(p, findings[f]); got != want {
			t.Errorf("said %q\nwant %q", got, want)
		}
	}
	if got := Finding(i18n.New("fr"), findings[4]); got != "Magasin de clés\u202f: le trousseau répond" {
		t.Errorf("in French: %q", got)
	}
}
