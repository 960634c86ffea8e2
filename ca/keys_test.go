package ca_test

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/hex"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/digitorus/timestamp"
	"golang.org/x/crypto/ocsp"

	"github.com/paraphe/paraphe/ca"
	"github.com/paraphe/paraphe/internal/testenv"
	"github.com/paraphe/paraphe/pkcs"
)

// tokenCA is a CA whose keys are on tok, with its token handed over.
func tokenCA(t testing.TB, tok *testenv.Token, keyType string) *ca.Authority {
	t.Helper()
	keys := openKeys(t, tok, tok.PIN)
	defer keys.Close()
	o := ca.InitOptions{KeyType: keyType, KeyStore: ca.KeyStorePKCS11, PKCS11: &ca.PKCS11{Module: tok.Module, Token: tok.Label}, Token: keys}
	dir := filepath.Join(t.TempDir(), "ca")
	if err := ca.Init(dir, o); err != nil {
		t.Fatal(err)
	}
	a, err := ca.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close() })
	return a
}

func openKeys(t testing.TB, tok *testenv.Token, pin string) *pkcs.TokenKeys {
	t.Helper()
	keys, err := pkcs.OpenTokenKeys(tok.Module, tok.Label, []byte(pin))
	if errors.Is(err, pkcs.ErrNoPKCS11) {
		t.Skip(err)
	} else if err != nil {
		t.Fatal(err)
	}
	return keys
}

// The tests run on SQLite, then on PostgreSQL (main_test.go), in one
// SoftHSM folder.
func TestMain(m *testing.M) { os.Exit(testenv.Main(ca.OnBothStores(m))) }

// The issuing CA's, the TSA's and the OCSP responder's keys on a token:
// made there (no key file), locked until the token is handed over, then
// signing certificates, time-stamps and OCSP answers; pkcs11-tool sees
// them sensitive and never extractable. (One token for the whole test
// process: SoftHSM sees the tokens made before it is first loaded.)
func TestKeysOnToken(t *testing.T) {
	tok := testenv.ProcessToken(t)
	for _, kt := range []string{"ecdsa-p256", "rsa-3072"} {
		t.Run(kt, func(t *testing.T) {
			a := tokenCA(t, tok, kt)
			for _, f := range []string{"issuing.key", "tsa.key", "ocsp.key"} {
				if _, err := os.Stat(filepath.Join(a.Dir, f)); !os.IsNotExist(err) {
					t.Errorf("%s is in the CA folder: %v", f, err)
				}
			}
			if !a.NeedsToken() {
				t.Fatal("a token CA needs no token")
			}
			if _, err := a.Timestamp(tsq(t), time.Now()); !errors.Is(err, ca.ErrKeysLocked) {
				t.Fatalf("time-stamping before the token is handed over: %v", err)
			}
			if _, err := pkcs.OpenTokenKeys(tok.Module, tok.Label, []byte("00000000")); !errors.Is(err, pkcs.ErrWrongPIN) {
				t.Fatalf("a wrong PIN: %v", err)
			}
			if err := a.UseToken(openKeys(t, tok, tok.PIN)); err != nil {
				t.Fatal(err)
			}
			key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
			leaf := testenv.Issue(t, a, key)
			if err := leaf.CheckSignatureFrom(a.Issuer); err != nil {
				t.Fatal(err)
			}
			checkTokenServices(t, a, leaf)
			for _, c := range []*x509.Certificate{a.Issuer, stamp(t, a), a.ResponderCert()} {
				listsSensitiveKey(t, tok, c)
			}
		})
	}
	t.Run("tsa renewal", func(t *testing.T) { testTokenTSARenewal(t, tok) })
}

// checkTokenServices asks a for a time-stamp and an OCSP answer about
// leaf and checks their signatures.
func checkTokenServices(t *testing.T, a *ca.Authority, leaf *x509.Certificate) {
	t.Helper()
	stamp(t, a)
	req, _ := ocsp.CreateRequest(leaf, a.Issuer, nil)
	a.OCSP(req, time.Now()) // kept: the next one is signed again with the nonce
	der, err := a.OCSP(req, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if resp, err := ocsp.ParseResponseForCert(der, leaf, a.Issuer); err != nil || resp.Status != ocsp.Good || !resp.Certificate.Equal(a.ResponderCert()) {
		t.Fatalf("OCSP %+v: %v", resp, err)
	}
}

// listsSensitiveKey checks with pkcs11-tool that the token holds the
// private key of c, sensitive, never extractable, for signing.
func listsSensitiveKey(t *testing.T, tok *testenv.Token, c *x509.Certificate) {
	t.Helper()
	testenv.Require(t, "pkcs11-tool")
	id, _ := pkcs.KeyID(c.PublicKey)
	out, err := exec.Command("pkcs11-tool", "--module", tok.Module, "--token-label", tok.Label, "--login", "--pin", tok.PIN,
		"--list-objects", "--type", "privkey").CombinedOutput()
	if err != nil {
		t.Fatalf("pkcs11-tool: %v\n%s", err, out)
	}
	// One block per key (pkcs11-tool lists them all, whatever --id says).
	var block string
	for _, b := range strings.Split(string(out), "Private Key Object") {
		if strings.Contains(b, "ID:         "+hex.EncodeToString([]byte(id))+"\n") {
			block = b
		}
	}
	if block == "" {
		t.Fatalf("the key of %q is not on the token:\n%s", c.Subject.CommonName, out)
	}
	for _, want := range []string{"Usage:      sign\n", "Access:     sensitive, always sensitive, never extractable"} {
		if !strings.Contains(block, want) {
			t.Errorf("the key of %q is not %q:\n%s", c.Subject.CommonName, want, block)
		}
	}
}

// The TSA's renewal makes its new key on the token; the next Open signs
// with it.
func testTokenTSARenewal(t *testing.T, tok *testenv.Token) {
	a := tokenCA(t, tok, "ecdsa-p256")
	if err := a.UseToken(openKeys(t, tok, tok.PIN)); err != nil {
		t.Fatal(err)
	}
	r, err := ca.OpenRoot(filepath.Join(a.Dir, "root"))
	if err != nil {
		t.Fatal(err)
	}
	if err := a.UseRoot(r); err != nil {
		t.Fatal(err)
	}
	_, cert, err := a.RenewServiceCert(context.Background(), ca.RoleTSA)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(a.Dir, "tsa.key")); !os.IsNotExist(err) {
		t.Fatalf("tsa.key after renewal: %v", err)
	}
	listsSensitiveKey(t, tok, cert)
	b, err := ca.Open(a.Dir)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if err := b.UseToken(openKeys(t, tok, tok.PIN)); err != nil {
		t.Fatal(err)
	}
	if signer := stamp(t, b); !signer.Equal(cert) {
		t.Fatal("the TSA does not sign with its new key")
	}
}

// tsq is a time-stamp request for "document" that asks for the TSA's
// certificate.
func tsq(t *testing.T) []byte {
	q, err := timestamp.CreateRequest(strings.NewReader("document"), &timestamp.RequestOptions{Hash: crypto.SHA256, Certificates: true})
	if err != nil {
		t.Fatal(err)
	}
	return q
}

// stamp asks a for a time-stamp, checks it and returns the certificate
// whose key signed it.
func stamp(t *testing.T, a *ca.Authority) *x509.Certificate {
	t.Helper()
	reply, err := a.Timestamp(tsq(t), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	ts, err := timestamp.ParseResponse(reply) // checks the signature
	digest := sha256.Sum256([]byte("document"))
	if err != nil || string(ts.HashedMessage) != string(digest[:]) || len(ts.Certificates) == 0 {
		t.Fatalf("time-stamp %+v: %v", ts, err)
	}
	return ts.Certificates[0]
}

// BenchmarkTokenOCSP is BenchmarkOCSP with the responder's key on SoftHSM:
// the answers served from the cache, and those signed on the token for
// each request (with a nonce).
func BenchmarkTokenOCSP(b *testing.B) {
	tok := testenv.ProcessToken(b)
	a := tokenCA(b, tok, "ecdsa-p256")
	if err := a.UseToken(openKeys(b, tok, tok.PIN)); err != nil {
		b.Fatal(err)
	}
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	leaf := testenv.Issue(b, a, key)
	plain, _ := ocsp.CreateRequest(leaf, a.Issuer, nil)
	nonced, _ := ocsp.CreateRequest(leaf, a.Issuer, nil)
	nonced = withNonce(b, nonced)
	for _, r := range []struct {
		name string
		req  []byte
	}{{"cached", plain}, {"signed", nonced}} {
		b.Run(r.name, func(b *testing.B) {
			for b.Loop() {
				if _, err := a.OCSP(r.req, time.Now()); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// withNonce adds a 16-byte nonce to an OCSP request (built again with
// openssl's layout: x/crypto/ocsp writes none).
func withNonce(b *testing.B, req []byte) []byte {
	var q struct {
		TBS struct {
			Version     int `asn1:"optional,explicit,tag:0,default:0"`
			RequestList []asn1.RawValue
			Extensions  []pkix.Extension `asn1:"optional,explicit,tag:2"`
		}
	}
	if _, err := asn1.Unmarshal(req, &q); err != nil {
		b.Fatal(err)
	}
	nonce, _ := asn1.Marshal([]byte("0123456789abcdef"))
	q.TBS.Extensions = []pkix.Extension{{Id: asn1.ObjectIdentifier{1, 3, 6, 1, 5, 5, 7, 48, 1, 2}, Value: nonce}}
	out, err := asn1.Marshal(q)
	if err != nil {
		b.Fatal(err)
	}
	return out
}
