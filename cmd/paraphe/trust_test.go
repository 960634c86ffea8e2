package main

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/json"
	"encoding/pem"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/paraphe/paraphe/internal/explain"
	"github.com/paraphe/paraphe/pdf"
	"github.com/paraphe/paraphe/trust/tltest"
)

// testCert makes a certificate: a CA when parent is nil's sibling, a
// holder's (with the QcCompliance statement when qc) otherwise.
func testCert(t *testing.T, name string, parent *x509.Certificate, parentKey crypto.Signer, ca, qc bool) (*x509.Certificate, crypto.Signer) {
	t.Helper()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	serial, _ := rand.Int(rand.Reader, big.NewInt(1<<62))
	tmpl := &x509.Certificate{SerialNumber: serial, Subject: pkix.Name{CommonName: name, Country: []string{"FR"}},
		NotBefore: time.Now().Add(-48 * time.Hour), NotAfter: time.Now().AddDate(2, 0, 0)}
	if ca {
		tmpl.IsCA, tmpl.BasicConstraintsValid = true, true
		tmpl.KeyUsage = x509.KeyUsageCertSign | x509.KeyUsageCRLSign
	} else {
		tmpl.KeyUsage = x509.KeyUsageDigitalSignature | x509.KeyUsageContentCommitment
	}
	if qc {
		// QCStatements with QcCompliance (ETSI EN 319 412-5).
		v, _ := asn1.Marshal([]struct{ ID asn1.ObjectIdentifier }{{asn1.ObjectIdentifier{0, 4, 0, 1862, 1, 1}}})
		tmpl.ExtraExtensions = []pkix.Extension{{Id: asn1.ObjectIdentifier{1, 3, 6, 1, 5, 5, 7, 1, 3}, Value: v}}
	}
	if parent == nil {
		parent, parentKey = tmpl, key
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, &key.PublicKey, parentKey)
	if err != nil {
		t.Fatal(err)
	}
	c, _ := x509.ParseCertificate(der)
	return c, key
}

func signedDeed(t *testing.T, key crypto.Signer, chain ...*x509.Certificate) string {
	t.Helper()
	deed, err := os.ReadFile(filepath.Join("..", "..", "assets", "demo", "deed.pdf"))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	in := filepath.Join(dir, "deed.pdf")
	os.WriteFile(in, deed, 0o644)
	s := &pdf.Signer{Key: key, Chain: chain, Opts: pdf.Options{Level: pdf.LevelB}}
	if _, err := s.SignFile(context.Background(), in, pdf.OutputName(in)); err != nil {
		t.Fatal(err)
	}
	return pdf.OutputName(in)
}

func writeCerts(t *testing.T, path string, certs ...*x509.Certificate) string {
	t.Helper()
	var b []byte
	for _, c := range certs {
		b = append(b, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})...)
	}
	os.WriteFile(path, b, 0o644)
	return path
}

// TestTrustedListsCLI: a signer under a CA that a (test) EU trusted list
// grants is trusted and qualified once the lists are downloaded; under a
// service withdrawn before the signing time, not; a list whose signature
// is broken (downloaded so, or changed in the cache) is refused with its
// reason, and nothing it names is trusted.
func TestTrustedListsCLI(t *testing.T) {
	qca, qcaKey := testCert(t, "Autorité qualifiée de test", nil, nil, true, false)
	holder, holderKey := testCert(t, "Jeanne Martin", qca, qcaKey, false, true)
	wca, wcaKey := testCert(t, "Autorité retirée", nil, nil, true, false)
	late, lateKey := testCert(t, "Paul Durand", wca, wcaKey, false, true)
	year := time.Now().AddDate(-1, 0, 0)
	fr := &tltest.List{Territory: "FR", Providers: []tltest.Provider{{Name: "Prestataire de test", Services: []tltest.Service{
		{Type: tltest.CAQC, Name: "Autorité qualifiée de test", Status: tltest.Granted, Start: year, Certs: []*x509.Certificate{qca}},
		{Type: tltest.CAQC, Name: "Autorité retirée", Status: tltest.Withdrawn, Start: time.Now().Add(-24 * time.Hour),
			Certs: []*x509.Certificate{wca}, History: []tltest.History{{Status: tltest.Granted, Start: year}}},
	}}}}
	eu := tltest.NewEU(t, fr)
	dir := t.TempDir()
	pins := writeCerts(t, filepath.Join(dir, "lotl-pins.pem"), eu.Pins()...)
	policy := filepath.Join(dir, "policy.json")
	os.WriteFile(policy, []byte(`{"version": 1, "ca": {"url": "https://ca.invalid", "anchors": ["`+strings.Repeat("0", 64)+`"]},
		"proxy": "none", "trust": {"lotl": "`+eu.LOTLURL()+`", "lotl_pins": "`+pins+`"}}`), 0o644)
	home := t.TempDir()
	env := []string{"PARAPHE_HOME=" + home, "PARAPHE_POLICY=" + policy}
	qualified := signedDeed(t, holderKey, holder, qca)
	withdrawn := signedDeed(t, lateKey, late, wca)

	// Before the lists are downloaded: intact, not trusted, and said why.
	r := runBin(t, "", env, "paraphe", "verify", qualified)
	if r.code != explain.ExitSigUntrusted || !strings.Contains(r.stdout, "INTACT, SIGNER NOT TRUSTED") || !strings.Contains(r.stderr, "paraphe trust update") {
		t.Fatalf("before update: %+v", r)
	}
	r = runBin(t, "", env, "paraphe", "trust", "update")
	if r.code != 0 || !strings.Contains(r.stdout, "national trusted list (France): up to date") {
		t.Fatalf("trust update: %+v", r)
	}
	r = runBin(t, "", env, "paraphe", "verify", qualified)
	if r.code != 0 || !strings.Contains(r.stdout, "Qualified certificate (eIDAS): issued under Autorité qualifiée de test") {
		t.Fatalf("qualified: %+v", r)
	}
	var js struct {
		Signatures []struct {
			Indication  string `json:"indication"`
			Qualified   bool   `json:"qualified"`
			TrustSource string `json:"trust_source"`
		} `json:"signatures"`
	}
	r = runBin(t, "", env, "paraphe", "verify", "--json", qualified)
	if err := json.Unmarshal([]byte(r.stdout), &js); err != nil || len(js.Signatures) != 1 || js.Signatures[0].Indication != "TOTAL-PASSED" ||
		!js.Signatures[0].Qualified || js.Signatures[0].TrustSource != "trusted_list" {
		t.Fatalf("--json: %v %+v", err, r)
	}
	r = runBin(t, "", env, "paraphe", "verify", withdrawn)
	if r.code != explain.ExitSigUntrusted || !strings.Contains(r.stdout, "not listed as granted on the trusted list at the signing time") {
		t.Fatalf("withdrawn before signing: %+v", r)
	}
	if r := runBin(t, "", env, "paraphe", "trust", "list"); r.code != 0 || !strings.Contains(r.stdout, "EU trusted lists: 1 national lists") {
		t.Fatalf("trust list: %+v", r)
	}

	// The cached French list changed after it was verified: refused.
	cached := filepath.Join(home, "trusted-lists", "FR.xml")
	data, err := os.ReadFile(cached)
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(cached, bytes.Replace(data, []byte("Prestataire de test"), []byte("Prestataire de tesT"), 1), 0o644)
	r = runBin(t, "", env, "paraphe", "verify", qualified)
	if r.code != explain.ExitSigUntrusted || !strings.Contains(r.stderr, "national trusted list (France) is not used: it was changed after it was signed") {
		t.Fatalf("a changed cached list: %+v", r)
	}

	// A list served with a broken signature, on a computer without a copy.
	served := eu.Server.Get("/FR.xml")
	eu.Server.Put("/FR.xml", bytes.Replace(served, []byte("Autorité retirée"), []byte("Autorité retiréE"), 1))
	env2 := []string{"PARAPHE_HOME=" + t.TempDir(), "PARAPHE_POLICY=" + policy}
	r = runBin(t, "", env2, "paraphe", "trust", "update")
	if r.code != explain.ExitTrustUpdate || !strings.Contains(r.stdout, "national trusted list (France): not updated: it was changed after it was signed") {
		t.Fatalf("a broken list: %+v", r)
	}
	if r := runBin(t, "", env2, "paraphe", "verify", qualified); r.code != explain.ExitSigUntrusted {
		t.Fatalf("trusted through a refused list: %+v", r)
	}
}

// TestTrustAddList: a user trusts their correspondent's CA; a policy that
// does not let users trust certificates refuses it.
func TestTrustAddList(t *testing.T) {
	ca, caKey := testCert(t, "Cabinet Martin CA", nil, nil, true, false)
	signer, key := testCert(t, "Me Martin", ca, caKey, false, false)
	deed := signedDeed(t, key, signer, ca)
	dir := t.TempDir()
	caFile := writeCerts(t, filepath.Join(dir, "ca.pem"), ca)
	env := []string{"PARAPHE_HOME=" + t.TempDir(), "PARAPHE_POLICY=" + filepath.Join(dir, "none.json")}
	if r := runBin(t, "", env, "paraphe", "verify", deed); r.code != explain.ExitSigUntrusted {
		t.Fatalf("unknown CA: %+v", r)
	}
	r := runBin(t, "", env, "paraphe", "trust", "add", caFile)
	if r.code != 0 || !strings.Contains(r.stdout, "Trusted: Cabinet Martin CA") {
		t.Fatalf("trust add: %+v", r)
	}
	if r := runBin(t, "", env, "paraphe", "trust", "add", caFile); r.code != explain.ExitTrustFile || !strings.Contains(r.stderr, "already trusted") {
		t.Fatalf("added twice: %+v", r)
	}
	if r := runBin(t, "", env, "paraphe", "trust", "add", filepath.Join("..", "..", "README.md")); r.code != explain.ExitTrustFile || !strings.Contains(r.stderr, "holds no certificate") {
		t.Fatalf("not a certificate: %+v", r)
	}
	r = runBin(t, "", env, "paraphe", "verify", deed)
	if r.code != 0 || !strings.Contains(r.stdout, "which you added to your trusted certificates") {
		t.Fatalf("verify after trust add: %+v", r)
	}
	r = runBin(t, "", env, "paraphe", "trust", "list")
	if r.code != 0 || !strings.Contains(r.stdout, "Cabinet Martin CA") {
		t.Fatalf("trust list: %+v", r)
	}
	var listed struct {
		Certificates []struct{ Source, Name, Fingerprint string }
	}
	r = runBin(t, "", env, "paraphe", "trust", "list", "--json")
	if err := json.Unmarshal([]byte(r.stdout), &listed); err != nil || len(listed.Certificates) != 1 || listed.Certificates[0].Source != "user" {
		t.Fatalf("trust list --json: %v %+v", err, r)
	}
	if r := runBin(t, "", env, "paraphe", "trust", "remove", "ffffffff"); r.code != explain.ExitNoCert {
		t.Fatalf("remove an unknown one: %+v", r)
	}
	if r := runBin(t, "", env, "paraphe", "trust", "remove", listed.Certificates[0].Fingerprint[:8]); r.code != 0 {
		t.Fatalf("trust remove: %+v", r)
	}
	if r := runBin(t, "", env, "paraphe", "verify", deed); r.code != explain.ExitSigUntrusted {
		t.Fatalf("still trusted after remove: %+v", r)
	}
	// A machine policy that keeps trust to IT.
	policy := filepath.Join(dir, "policy.json")
	os.WriteFile(policy, []byte(`{"version": 1, "ca": {"url": "https://ca.invalid", "anchors": ["`+strings.Repeat("0", 64)+`"]}}`), 0o644)
	locked := []string{"PARAPHE_HOME=" + t.TempDir(), "PARAPHE_POLICY=" + policy}
	if r := runBin(t, "", locked, "paraphe", "trust", "add", caFile); r.code != explain.ExitTrustNotAllowed || !strings.Contains(r.stderr, "IT department") {
		t.Fatalf("a policy that does not allow it: %+v", r)
	}
	// IT's own certificates count.
	os.WriteFile(policy, []byte(`{"version": 1, "ca": {"url": "https://ca.invalid", "anchors": ["`+strings.Repeat("0", 64)+`"]},
		"trust": {"certificates": ["`+caFile+`"]}}`), 0o644)
	if r := runBin(t, "", locked, "paraphe", "verify", deed); r.code != 0 || !strings.Contains(r.stdout, "which your organisation's policy trusts") {
		t.Fatalf("IT's certificate: %+v", r)
	}
}

// TestVerifyUnreadablePolicy: a machine policy that cannot be read is not
// "no policy": without one the user decides what to trust, with one IT
// does. A verification under a policy broken by a typo must not fall back
// on the user's own certificates (nor the system's roots) the policy
// keeps out.
func TestVerifyUnreadablePolicy(t *testing.T) {
	ca, caKey := testCert(t, "Cabinet Martin CA", nil, nil, true, false)
	signer, key := testCert(t, "Me Martin", ca, caKey, false, false)
	deed := signedDeed(t, key, signer, ca)
	dir := t.TempDir()
	caFile := writeCerts(t, filepath.Join(dir, "ca.pem"), ca)
	home := t.TempDir()
	// Trusted by the user while no policy was installed.
	if r := runBin(t, "", []string{"PARAPHE_HOME=" + home, "PARAPHE_POLICY=" + filepath.Join(dir, "none.json")}, "paraphe", "trust", "add", caFile); r.code != 0 {
		t.Fatalf("trust add: %+v", r)
	}
	policy := filepath.Join(dir, "policy.json")
	good := `{"version": 1, "ca": {"url": "https://ca.invalid", "anchors": ["` + strings.Repeat("0", 64) + `"]}, "trust": {"system_roots": false}}`
	env := []string{"PARAPHE_HOME=" + home, "PARAPHE_POLICY=" + policy}
	os.WriteFile(policy, []byte(good), 0o644)
	if r := runBin(t, "", env, "paraphe", "verify", deed); r.code != explain.ExitSigUntrusted {
		t.Fatalf("the policy keeps the user's certificates out: %+v", r)
	}
	os.WriteFile(policy, []byte(strings.Replace(good, `"system_roots"`, `"sytem_roots"`, 1)), 0o644)
	if r := runBin(t, "", env, "paraphe", "verify", deed); r.code == 0 || strings.Contains(r.stdout, "which you added to your trusted certificates") || !strings.Contains(r.stderr, "sytem_roots") {
		t.Fatalf("under a policy with a typo, the user's certificates are trusted: %+v", r)
	}
}
