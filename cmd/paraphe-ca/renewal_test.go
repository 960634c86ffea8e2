package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/paraphe/paraphe/ca"
	"github.com/paraphe/paraphe/internal/testenv"
)

// Renew with curl and openssl (the client certificate authenticates the
// renewal), revoke the original for keyCompromise with paraphe-ca revoke:
// openssl ocsp reports the successor revoked, and renewing the successor
// is refused as revoked.
func TestKeyCompromiseRevokesSuccessors(t *testing.T) {
	testenv.Require(t, "openssl", "curl")
	bin := testenv.GoBuild(t, t.TempDir(), "github.com/paraphe/paraphe/cmd/paraphe-ca")
	srv := testenv.StartCAProcess(t, filepath.Join(bin, "paraphe-ca"))
	dir := t.TempDir()

	// The original, issued in process to a key written for curl.
	a, err := ca.Open(srv.Dir)
	if err != nil {
		t.Fatal(err)
	}
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	orig := testenv.Issue(t, a, key)
	validation := a.Config.ValidationURL
	a.Close()
	der, _ := x509.MarshalPKCS8PrivateKey(key)
	os.WriteFile(filepath.Join(dir, "orig.key"), pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600)
	os.WriteFile(filepath.Join(dir, "orig.pem"), pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: orig.Raw}), 0o644)

	sh := func(script string) string {
		t.Helper()
		cmd := exec.Command("bash", "-euo", "pipefail", "-c", script)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "URL="+srv.URL, "VURL="+validation, "CA="+srv.Dir)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("%s\n%v\n%s", script, err, out)
		}
		return string(out)
	}
	// renew $1 (certificate and key) into $2.pem and $2.key; prints the
	// HTTP status, then the reply when it is not 200.
	const renew = `renew() {
  openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$2.key" 2>/dev/null
  openssl req -new -key "$2.key" -subj /CN=x -outform DER | base64 -w0 > "$2.csr"
  code=$(curl -sS --cacert "$CA/root.pem" --cert "$1.pem" --key "$1.key" -o "$2.reply" -w '%{http_code}' \
    -H 'Content-Type: application/pkcs10' --data-binary @"$2.csr" "$URL/.well-known/est/simplereenroll")
  echo "$code"
  if [ "$code" = 200 ]; then base64 -di "$2.reply" | openssl pkcs7 -inform DER -print_certs | openssl x509 > "$2.pem"; else cat "$2.reply"; fi
}
ocsp() { openssl ocsp -issuer "$CA/issuing.pem" -cert "$1.pem" -url "$VURL/ocsp" -CAfile "$CA/root.pem" -VAfile "$CA/issuing.pem" -no_nonce 2>&1; }
`
	if out := sh(renew + `renew orig succ; ocsp succ; ocsp orig`); !strings.HasPrefix(out, "200\n") || !strings.Contains(out, "succ.pem: good") {
		t.Fatalf("renewal:\n%s", out)
	}
	printed := strings.TrimSpace(sh(`openssl x509 -in orig.pem -noout -serial`))
	if code, stdout, stderr := runCA(t, "", "revoke", "--dir", srv.Dir, printed, "--reason", "keyCompromise"); code != exitOK || !strings.Contains(stdout, "renewed from it are revoked too") {
		t.Fatalf("revoke: %d %s %s", code, stdout, stderr)
	}
	out := sh(renew + `ocsp succ; ocsp orig; renew succ again`)
	if strings.Count(out, ": revoked") != 2 || strings.Count(out, "Reason: keyCompromise") != 2 {
		t.Fatalf("OCSP after revoking the original for keyCompromise:\n%s", out)
	}
	if !strings.Contains(out, "\n403\n") || !strings.Contains(out, `"error":"certificate_revoked"`) || !strings.Contains(out, "is revoked and cannot be renewed") {
		t.Fatalf("renewal of the revoked successor:\n%s", out)
	}
}

// init --renewal-overlap keeps a renewed certificate valid that long; list
// says until when.
func TestRenewalOverlapFlag(t *testing.T) {
	if code, _, stderr := runCA(t, "", "init", "--dir", filepath.Join(t.TempDir(), "ca"), "--renewal-overlap", "91"); code != exitInput || !strings.Contains(stderr, "0 to 90 days") {
		t.Fatalf("init --renewal-overlap 91: %d %s", code, stderr)
	}
	dir := filepath.Join(t.TempDir(), "ca")
	if code, _, stderr := runCA(t, "", "init", "--dir", dir, "--renewal-overlap", "7"); code != exitOK {
		t.Fatalf("init: %d %s", code, stderr)
	}
	a, err := ca.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	first := testenv.Issue(t, a, key)
	if _, err := a.Reenroll(t.Context(), first, testenv.CSR(t, key), ""); err != nil {
		t.Fatal(err)
	}
	a.Close()
	_, stdout, _ := runCA(t, "", "list", "--dir", dir)
	if !strings.Contains(stdout, "(superseded from ") || strings.Contains(stdout, "(revoked)") {
		t.Fatalf("list during the overlap:\n%s", stdout)
	}
	// Without an overlap, the predecessor is superseded at once.
	dir = filepath.Join(t.TempDir(), "ca")
	if code, _, stderr := runCA(t, "", "init", "--dir", dir); code != exitOK {
		t.Fatalf("init: %d %s", code, stderr)
	}
	if a, err = ca.Open(dir); err != nil {
		t.Fatal(err)
	}
	first = testenv.Issue(t, a, key)
	if _, err := a.Reenroll(t.Context(), first, testenv.CSR(t, key), ""); err != nil {
		t.Fatal(err)
	}
	a.Close()
	if _, stdout, _ = runCA(t, "", "list", "--dir", dir); !strings.Contains(stdout, "(renewed, superseded)") {
		t.Fatalf("list after a renewal:\n%s", stdout)
	}
}
