package pdf

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/paraphe/paraphe/ca"
	"github.com/paraphe/paraphe/config"
	"github.com/paraphe/paraphe/internal/testenv"
	"github.com/paraphe/paraphe/netclient"
)

// caPKI issues a holder certificate from a real paraphe-ca (with its TSA,
// OCSP responder and CRLs) and returns the signer's material and a client
// that trusts the CA.
func caPKI(t *testing.T) (*testenv.CA, crypto.Signer, []*x509.Certificate, *http.Client) {
	t.Helper()
	srv := testenv.StartCA(t, ca.InitOptions{})
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	leaf := srv.Issue(t, key)
	pol, err := config.ReadPolicy(srv.Policy)
	if err != nil {
		t.Fatal(err)
	}
	hc, err := netclient.NewHTTPClient(pol, netclient.ClientOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return srv, key, []*x509.Certificate{leaf, srv.Issuer, srv.Root}, hc
}

func signWith(t *testing.T, s *Signer, in []byte) string {
	t.Helper()
	dir := t.TempDir()
	p := filepath.Join(dir, "deed.pdf")
	os.WriteFile(p, in, 0o644)
	if _, err := s.SignFile(context.Background(), p, OutputName(p)); err != nil {
		t.Fatal(err)
	}
	return OutputName(p)
}

func TestSignBTAndBLT(t *testing.T) {
	srv, key, chain, hc := caPKI(t)
	db := nssDB(t, srv.Root)
	tsa := srv.URL + "/tsa"

	bt := &Signer{Key: key, Chain: chain, Opts: Options{Level: LevelT, TSA: tsa, HTTP: hc}}
	out := signWith(t, bt, makePDF(1, false))
	if r := pdfsig(t, db, out); !strings.Contains(r, "Signature is Valid") || !strings.Contains(r, "Certificate is Trusted") || !strings.Contains(r, "Total document signed") {
		t.Fatalf("B-T pdfsig:\n%s", r)
	}
	if !strings.Contains(cmsPrint(t, mustRead(t, out)), "id-smime-aa-timeStampToken") {
		t.Fatal("B-T signature has no time-stamp token")
	}

	blt := &Signer{Key: key, Chain: chain, Opts: Options{Level: LevelLT, TSA: tsa, HTTP: hc}}
	out = signWith(t, blt, makePDF(1, false))
	if r := pdfsig(t, db, out); !strings.Contains(r, "Signature is Valid") || !strings.Contains(r, "Certificate is Trusted") {
		t.Fatalf("B-LT pdfsig:\n%s", r)
	}
	if code, text := qpdfCheck(t, out); code != 0 {
		t.Fatalf("qpdf --check %d:\n%s", code, text)
	}
	dump := qpdfTransform(t, mustRead(t, out), "--qdf", "--object-streams=disable")
	for _, want := range []string{"/DSS", "/Certs", "/OCSPs", "/CRLs"} {
		if !bytes.Contains(dump, []byte(want)) {
			t.Errorf("B-LT file lacks %s", want)
		}
	}
}

func TestTimestampFailureFails(t *testing.T) {
	srv, key, chain, hc := caPKI(t)
	for _, tsa := range []string{srv.URL + "/nowhere", "https://127.0.0.1:1/tsa"} {
		s := &Signer{Key: key, Chain: chain, Opts: Options{Level: LevelT, TSA: tsa, HTTP: hc}}
		dir := t.TempDir()
		in := filepath.Join(dir, "deed.pdf")
		os.WriteFile(in, makePDF(1, false), 0o644)
		if _, err := s.SignFile(context.Background(), in, OutputName(in)); !errors.Is(err, ErrTimestamp) {
			t.Fatalf("TSA %s: %v, want ErrTimestamp", tsa, err)
		}
		if _, err := os.Stat(OutputName(in)); err == nil {
			t.Fatal("an output was written without its time-stamp")
		}
	}
}

func TestRevokedSignerCannotSignBLT(t *testing.T) {
	srv, key, chain, hc := caPKI(t)
	if err := srv.Revoke(context.Background(), fmt.Sprintf("%x", chain[0].SerialNumber), "keyCompromise"); err != nil {
		t.Fatal(err)
	}
	s := &Signer{Key: key, Chain: chain, Opts: Options{Level: LevelLT, TSA: srv.URL + "/tsa", HTTP: hc}}
	dir := t.TempDir()
	in := filepath.Join(dir, "deed.pdf")
	os.WriteFile(in, makePDF(1, false), 0o644)
	if _, err := s.SignFile(context.Background(), in, OutputName(in)); !errors.Is(err, ErrRevoked) {
		t.Fatalf("revoked signer: %v", err)
	}
}

func cmsPrint(t *testing.T, signed []byte) string {
	t.Helper()
	testenv.Require(t, "openssl")
	der := lastCMS(signed)
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "sig.der"), der, 0o644)
	out, _ := exec.Command("openssl", "cms", "-cmsout", "-print", "-inform", "DER", "-in", filepath.Join(dir, "sig.der")).CombinedOutput()
	return string(out)
}
