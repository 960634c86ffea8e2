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
	sh := shell(t, dir, srv)

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

// OCSP as openssl asks: with a nonce (RFC 8954, updated by RFC 9654),
// which the reply must echo; and by GET, whose base64 may hold "//" (the
// server must not clean the path into another request).
func TestOCSPNonceAndGETWithOpenSSL(t *testing.T) {
	testenv.Require(t, "openssl", "curl")
	srv := testenv.StartCA(t, ca.InitOptions{})
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	leaf := srv.Issue(t, key)
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "leaf.pem"), pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: leaf.Raw}), 0o644)
	sh := shell(t, dir, srv)
	// POST with a nonce: openssl checks the reply echoes it.
	out := sh(`openssl ocsp -issuer "$CA/issuing.pem" -cert leaf.pem -url "$VURL/ocsp" -CAfile "$CA/root.pem" -VAfile "$CA/issuing.pem" -nonce -resp_text 2>&1`)
	if !strings.Contains(out, "leaf.pem: good") || !strings.Contains(out, "Response verify OK") ||
		strings.Contains(out, "no nonce in response") || !strings.Contains(out, "OCSP Nonce") {
		t.Fatalf("ocsp with a nonce:\n%s", out)
	}
	// A SHA-256 CertID is answered with the same CertID.
	out = sh(`openssl ocsp -sha256 -issuer "$CA/issuing.pem" -cert leaf.pem -url "$VURL/ocsp" -CAfile "$CA/root.pem" -VAfile "$CA/issuing.pem" -nonce -resp_text 2>&1`)
	if !strings.Contains(out, "leaf.pem: good") || !strings.Contains(out, "Hash Algorithm: sha256") || strings.Contains(out, "nonce in response") {
		t.Fatalf("ocsp with a SHA-256 CertID:\n%s", out)
	}
	// GET with "//" in its base64: openssl's request with its nonce (the
	// last 16 bytes) set to ff…ff, whose base64 is "/" throughout.
	out = sh(`openssl ocsp -issuer "$CA/issuing.pem" -cert leaf.pem -nonce -reqout random.der >/dev/null
{ head -c -16 random.der; printf '\377%.0s' $(seq 16); } > req.der
openssl ocsp -reqin req.der -req_text | grep -A1 'OCSP Nonce' | tail -1
b64=$(base64 -w0 req.der)
echo "GET $b64"
curl -sS -o resp.der -w '%{http_code}\n' "$VURL/ocsp/$b64"
openssl ocsp -no_nonce -reqin req.der -respin resp.der -issuer "$CA/issuing.pem" -cert leaf.pem -CAfile "$CA/root.pem" -VAfile "$CA/issuing.pem" 2>&1
# The same request URL-encoded, as RFC 6960 A.1 writes it.
enc=$(printf %s "$b64" | sed 's|+|%2B|g; s|/|%2F|g; s|=|%3D|g')
curl -sS -o resp2.der -w '%{http_code}\n' "$VURL/ocsp/$enc"
openssl ocsp -no_nonce -reqin req.der -respin resp2.der -issuer "$CA/issuing.pem" -cert leaf.pem -CAfile "$CA/root.pem" -VAfile "$CA/issuing.pem" 2>&1`)
	if !strings.Contains(out, "0410FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF") || !strings.Contains(out, "//////") {
		t.Fatalf("the request is not the one the test needs:\n%s", out)
	}
	// openssl -reqin checks the nonce: "Nonce Verify error" when the
	// reply's differs, a warning when it has none.
	if strings.Count(out, "\n200\n") != 2 || strings.Count(out, "leaf.pem: good") != 2 || strings.Count(out, "Response verify OK") != 2 ||
		strings.Contains(out, "nonce") || strings.Contains(out, "Nonce") {
		t.Fatalf("ocsp by GET:\n%s", out)
	}
}

// shell returns a function that runs a bash script in dir with the CA's
// addresses and folder in $URL, $VURL and $CA, failing the test when the
// script fails.
func shell(t *testing.T, dir string, srv *testenv.CA) func(script string) string {
	return func(script string) string {
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
}

// RFC 3161 section 2.4.2: the TSA refuses what it cannot vouch for. The
// requests are made by openssl (its ASN.1 generator where openssl ts
// itself refuses to write them) and read back by openssl ts -text.
func TestTSARefusalsWithOpenSSL(t *testing.T) {
	testenv.Require(t, "openssl", "curl")
	srv := testenv.StartCA(t, ca.InitOptions{})
	dir := t.TempDir()
	sh := shell(t, dir, srv)
	const imprint = `[imprint]
alg=SEQUENCE:alg
msg=FORMAT:HEX,OCTETSTRING:%s
[alg]
oid=OID:sha256
null=NULL
`
	os.WriteFile(filepath.Join(dir, "short.cnf"), []byte(`asn1=SEQUENCE:req
[req]
version=INTEGER:1
imprint=SEQUENCE:imprint
certReq=BOOLEAN:true
`+fmt.Sprintf(imprint, "00112233445566")), 0o644)
	os.WriteFile(filepath.Join(dir, "ext.cnf"), []byte(`asn1=SEQUENCE:req
[req]
version=INTEGER:1
imprint=SEQUENCE:imprint
certReq=BOOLEAN:true
ext=IMPLICIT:0,SEQUENCE:exts
[exts]
e1=SEQUENCE:e1
[e1]
id=OID:1.3.6.1.4.1.99999.7
value=FORMAT:HEX,OCTETSTRING:0500
`+fmt.Sprintf(imprint, strings.Repeat("ab", 32))), 0o644)
	ask := `curl -sS --cacert "$CA/root.pem" -H 'Content-Type: application/timestamp-query' --data-binary @"$1" "$URL/tsa" -o "$1.tsr"
openssl ts -reply -in "$1.tsr" -text`
	for _, tt := range []struct{ name, make, want string }{
		{"7-byte SHA-256 imprint", `openssl asn1parse -genconf short.cnf -noout -out req.tsq
openssl ts -query -in req.tsq -text | grep -A1 'Message data'`, "the data submitted has the wrong format"},
		{"unknown extension", `openssl asn1parse -genconf ext.cnf -noout -out req.tsq
openssl ts -query -in req.tsq -text | grep -A1 'Extensions'`, "the requested extension is not supported by the TSA"},
		{"policy of another TSA", `echo data > doc.txt
openssl ts -query -data doc.txt -sha256 -tspolicy 1.2.3.4 -out req.tsq`, "the requested TSA policy is not supported by the TSA"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			out := shell(t, dir, srv)(tt.make + "\nset -- req.tsq\n" + ask)
			if !strings.Contains(out, "Status: Rejected") || !strings.Contains(out, "Failure info: "+tt.want) || !strings.Contains(out, "TST info:\nNot included") {
				t.Fatalf("reply:\n%s", out)
			}
		})
	}
	// The TSA's own policy, asked by name, is granted.
	out := sh(`echo data > doc.txt
openssl ts -query -data doc.txt -sha256 -tspolicy 1.3.6.1.4.1.99999.1.1 -cert -out req.tsq
set -- req.tsq
` + ask + `
openssl ts -verify -in req.tsq.tsr -queryfile req.tsq -CAfile "$CA/root.pem" -untrusted "$CA/tsa.pem"`)
	if !strings.Contains(out, "Status: Granted") || !strings.Contains(out, "Verification: OK") {
		t.Fatalf("request for the TSA's policy:\n%s", out)
	}
}

// The time-stamps as openssl reads and verifies them, for every imprint
// hash the TSA takes, with its certificate asked for and not, from a CA
// on ECDSA and one on RSA: the token's fields (policy, accuracy,
// ordering, nonce, the TSA's name, the serial) and its signature.
func TestTimestampTokensWithOpenSSL(t *testing.T) {
	testenv.Require(t, "openssl", "curl")
	for _, keyType := range []string{"ecdsa-p256", "rsa-3072"} {
		t.Run(keyType, func(t *testing.T) {
			srv := testenv.StartCA(t, ca.InitOptions{KeyType: keyType})
			sh := shell(t, t.TempDir(), srv)
			for _, hash := range []string{"sha256", "sha384", "sha512"} {
				for _, cert := range []string{"-cert", "-no_nonce"} {
					out := sh(fmt.Sprintf(`echo "document bytes" > doc.txt
openssl ts -query -data doc.txt -%s %s -out req.tsq
curl -sS --cacert "$CA/root.pem" -H 'Content-Type: application/timestamp-query' --data-binary @req.tsq "$URL/tsa" -o resp.tsr
openssl ts -reply -in resp.tsr -text
openssl ts -verify -in resp.tsr -queryfile req.tsq -CAfile "$CA/root.pem" -untrusted "$CA/tsa.pem"
openssl ts -verify -in resp.tsr -data doc.txt -CAfile "$CA/root.pem" -untrusted "$CA/tsa.pem"`, hash, cert))
					for _, want := range []string{"Status: Granted", "Policy OID: 1.3.6.1.4.1.99999.1.1", "Hash Algorithm: " + hash,
						"Accuracy: 0x01 seconds", "Ordering: no", "TSA: DirName:", "Time-Stamping Authority", "Serial number: 0x"} {
						if !strings.Contains(out, want) {
							t.Fatalf("%s %s: no %q in\n%s", hash, cert, want, out)
						}
					}
					if n := strings.Count(out, "Verification: OK"); n != 2 {
						t.Fatalf("%s %s: verified %d times of 2:\n%s", hash, cert, n, out)
					}
					if nonce := strings.Contains(out, "Nonce: 0x"); nonce != (cert == "-cert") {
						t.Fatalf("%s %s: nonce in the reply %v:\n%s", hash, cert, nonce, out)
					}
				}
			}
		})
	}
}
