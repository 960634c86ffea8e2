package ca_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/pem"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/paraphe/paraphe/ca"
	"github.com/paraphe/paraphe/internal/testenv"
)

// The time-stamping authority, OCSP responder and CRLs as openssl sees them.
func TestServicesWithOpenSSL(t *testing.T) {
	testenv.Require(t, "openssl", "curl")
	srv := testenv.StartCA(t, ca.InitOptions{})
	ctx := context.Background()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	leaf := srv.Issue(t, key)
	if len(leaf.OCSPServer) != 1 || leaf.OCSPServer[0] != srv.ValidationURL+"/ocsp" || leaf.CRLDistributionPoints[0] != srv.ValidationURL+"/crl/issuing.crl" {
		t.Fatalf("leaf AIA/CDP: %v %v", leaf.OCSPServer, leaf.CRLDistributionPoints)
	}
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "leaf.pem"), pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: leaf.Raw}), 0o644)
	sh := func(script string) string {
		t.Helper()
		cmd := exec.Command("bash", "-euo", "pipefail", "-c", script)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "URL="+srv.URL, "VURL="+srv.ValidationURL, "CA="+srv.Dir)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("%s\n%v\n%s", script, err, out)
		}
		return string(out)
	}

	// RFC 3161: a request with a nonce, answered and verified against the root.
	out := sh(`echo "document bytes" > doc.txt
openssl ts -query -data doc.txt -sha256 -cert -out req.tsq
curl -sS --cacert "$CA/root.pem" -H 'Content-Type: application/timestamp-query' --data-binary @req.tsq "$URL/tsa" -o resp.tsr
openssl ts -reply -in resp.tsr -text | grep -E 'Status:|Nonce|Policy OID'
openssl ts -verify -in resp.tsr -queryfile req.tsq -CAfile "$CA/root.pem" -untrusted "$CA/tsa.pem"`)
	if !strings.Contains(out, "Granted") || !strings.Contains(out, "Nonce") || !strings.Contains(out, "Verification: OK") {
		t.Fatalf("timestamp:\n%s", out)
	}

	// OCSP: good, then revoked once the operator revokes it.
	ocspCheck := `openssl ocsp -issuer "$CA/issuing.pem" -cert leaf.pem -url "$VURL/ocsp" -CAfile "$CA/root.pem" -VAfile "$CA/issuing.pem" -no_nonce 2>&1 || true`
	if out := sh(ocspCheck); !strings.Contains(out, "leaf.pem: good") || !strings.Contains(out, "Response verify OK") {
		t.Fatalf("ocsp before revocation:\n%s", out)
	}
	if err := srv.Revoke(ctx, fmt.Sprintf("%x", leaf.SerialNumber), "keyCompromise"); err != nil {
		t.Fatal(err)
	}
	if out := sh(ocspCheck); !strings.Contains(out, "leaf.pem: revoked") || !strings.Contains(out, "keyCompromise") {
		t.Fatalf("ocsp after revocation:\n%s", out)
	}

	// CRLs: signed by their CA, listing the revoked serial, over plain HTTP.
	out = sh(`curl -sS "$VURL/crl/issuing.crl" -o issuing.crl
openssl crl -inform DER -in issuing.crl -CAfile <(cat "$CA/issuing.pem" "$CA/root.pem") -noout -text 2>&1
curl -sS "$VURL/crl/root.crl" | openssl crl -inform DER -CAfile "$CA/root.pem" -noout 2>&1`)
	serial := strings.ToUpper(fmt.Sprintf("%x", leaf.SerialNumber))
	if strings.Count(out, "verify OK") != 2 || !strings.Contains(strings.ToUpper(out), serial) {
		t.Fatalf("CRLs:\n%s", out)
	}
}
