package ca_test

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/paraphe/paraphe/ca"
	"github.com/paraphe/paraphe/internal/testenv"
)

// EST as an independent client speaks it: curl for HTTP, openssl for the
// key, the CSR, the enrolment password and the PKCS#7 reply. Nothing of
// Paraphe's client code takes part.
func TestESTWithOpenSSLAndCurl(t *testing.T) {
	testenv.Require(t, "openssl", "curl", "basenc")
	srv := testenv.StartCA(t, ca.InitOptions{})
	ref := srv.Enroll(t)
	dir := t.TempDir()
	root := filepath.Join(srv.Dir, "root.pem")
	sh := func(script string, env ...string) string {
		t.Helper()
		cmd := exec.Command("bash", "-euo", "pipefail", "-c", script)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), append([]string{"URL=" + srv.URL, "ROOT=" + root, "REF=" + ref}, env...)...)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("%s\n%v\n%s", script, err, out)
		}
		return string(out)
	}

	out := sh(`curl -sS --cacert "$ROOT" "$URL/activation/v1/$REF/questions"`)
	var q struct{ Questions []string }
	if err := json.Unmarshal([]byte(out), &q); err != nil || len(q.Questions) != 3 {
		t.Fatalf("questions: %s", out)
	}
	out = sh(`curl -sS --cacert "$ROOT" -H 'Content-Type: application/json' --data '{"answers":["Montréal","rex","jules ferry"]}' "$URL/activation/v1/$REF/answers"`)
	var auth struct {
		Code string `json:"authorization_code"`
	}
	if err := json.Unmarshal([]byte(out), &auth); err != nil || auth.Code == "" {
		t.Fatalf("answers: %s", out)
	}

	sh(`openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out key.pem 2>/dev/null
openssl req -new -key key.pem -subj "/CN=whatever the CSR says" -outform DER -out csr.der
base64 -w0 csr.der > csr.b64
openssl pkey -in key.pem -pubout -outform DER -out spki.der
openssl dgst -sha256 -mac HMAC -macopt "key:$AUTH" -binary spki.der | basenc --base64url | tr -d '=\n' > password`, "AUTH="+auth.Code)

	// Wrong credentials: 401 with a Basic challenge.
	out = sh(`curl -sS --cacert "$ROOT" -D - -o /dev/null -u "$REF:not-the-password" -H 'Content-Type: application/pkcs10' --data-binary @csr.b64 "$URL/.well-known/est/simpleenroll"`)
	if lower := strings.ToLower(out); !strings.Contains(lower, " 401") || !strings.Contains(lower, "www-authenticate: basic") {
		t.Fatalf("wrong credentials:\n%s", out)
	}

	out = sh(`curl -sS --cacert "$ROOT" -D headers -o reply.b64 -w '%{http_code}' -u "$REF:$(cat password)" -H 'Content-Type: application/pkcs10' --data-binary @csr.b64 "$URL/.well-known/est/simpleenroll"`)
	if out != "200" {
		t.Fatalf("simpleenroll status %s", out)
	}
	headers, _ := os.ReadFile(filepath.Join(dir, "headers"))
	if !strings.Contains(strings.ToLower(string(headers)), "content-type: application/pkcs7-mime; smime-type=certs-only") {
		t.Fatalf("content type:\n%s", headers)
	}
	out = sh(`base64 -di reply.b64 | openssl pkcs7 -inform DER -print_certs -noout`)
	if !strings.Contains(out, "CN = Marie Dupont") || !strings.Contains(out, "Issuing CA") || strings.Contains(out, "whatever the CSR says") {
		t.Fatalf("issued certificates:\n%s", out)
	}
	// The certificate is for openssl's key.
	out = sh(`base64 -di reply.b64 | openssl pkcs7 -inform DER -print_certs | openssl x509 -pubkey -noout | openssl pkey -pubin -outform DER | cmp - spki.der && echo same-key`)
	if !strings.Contains(out, "same-key") {
		t.Fatal("the certificate is not for the CSR's key")
	}
	// The same request again (a client whose reply was lost) gets the same
	// certificate; another key with its own valid password gets nothing: the
	// reference is spent.
	out = sh(`curl -sS --cacert "$ROOT" -o again.b64 -w '%{http_code}' -u "$REF:$(cat password)" -H 'Content-Type: application/pkcs10' --data-binary @csr.b64 "$URL/.well-known/est/simpleenroll"
base64 -di reply.b64 | openssl pkcs7 -inform DER -print_certs > first.pem
base64 -di again.b64 | openssl pkcs7 -inform DER -print_certs | cmp - first.pem && echo " same"`)
	if out != "200 same\n" {
		t.Fatalf("retried enrolment: %q", out)
	}
	out = sh(`openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out key2.pem 2>/dev/null
openssl req -new -key key2.pem -subj "/CN=x" -outform DER | base64 -w0 > csr2.b64
pass=$(openssl pkey -in key2.pem -pubout -outform DER | openssl dgst -sha256 -mac HMAC -macopt "key:$AUTH" -binary | basenc --base64url | tr -d '=\n')
curl -sS --cacert "$ROOT" -o /dev/null -w '%{http_code}' -u "$REF:$pass" -H 'Content-Type: application/pkcs10' --data-binary @csr2.b64 "$URL/.well-known/est/simpleenroll"`, "AUTH="+auth.Code)
	if out != "403" {
		t.Fatalf("a second key on a spent reference: status %s", out)
	}

	out = sh(`curl -sS --cacert "$ROOT" "$URL/.well-known/est/cacerts" | base64 -di | openssl pkcs7 -inform DER -print_certs -noout`)
	if !strings.Contains(out, "Root") || !strings.Contains(out, "Issuing CA") {
		t.Fatalf("cacerts:\n%s", out)
	}
	out = sh(`curl -sS --cacert "$ROOT" "$URL/.well-known/est/csrattrs" | base64 -di | openssl asn1parse -inform DER`)
	if !strings.Contains(out, "prime256v1") || !strings.Contains(out, "ecdsa-with-SHA256") {
		t.Fatalf("csrattrs:\n%s", out)
	}

	if log := srv.Log.String(); strings.Contains(log, auth.Code) || strings.Contains(log, ref) {
		t.Fatalf("the server log holds the authorization or reference code:\n%s", log)
	}
}
