package exchange

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"errors"
	"math/big"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/paraphe/paraphe/cms"
)

// sealedTo is content encrypted (AuthEnvelopedData) to certs.
func sealedTo(t *testing.T, content []byte, certs ...*x509.Certificate) []byte {
	t.Helper()
	var b bytes.Buffer
	w, err := cms.Encrypt(&b, certs...)
	if err != nil {
		t.Fatal(err)
	}
	w.Write(content)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// The server takes an end-to-end document only when it is encrypted to
// the recipient's registered certificate, and only while that
// certificate may be encrypted to: attempts to get past it are refused,
// each with its reason, and leave no file behind.
func TestEndToEndOnlyToTheRecipient(t *testing.T) {
	f := newFixture(t, InitOptions{})
	ctx := context.Background()
	pro := f.user(t, NewUser{Kind: Firm, Email: "anne@firm.example", Name: "Anne Martin"}, testPassword)
	client := f.user(t, NewUser{Kind: Client, Email: "paul@client.example", Name: "Paul Durand", Manager: pro.Code}, testPassword)
	eve := f.user(t, NewUser{Kind: Client, Email: "eve@else.example", Name: "Eve", Manager: pro.Code}, testPassword)
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	evil, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	cert := encryptionCert(t, key, client.Email, x509.KeyUsageKeyAgreement, f.clock.Now().AddDate(0, 0, 10))
	eveCert := certFromCA(t, evil, eve.Email, "Eve's CA", 2)
	// Another certificate with the client's address and serial, from
	// another issuer, with another key: the serial alone does not pass.
	lookalike := certFromCA(t, evil, client.Email, "Another S/MIME CA", 2)

	e2e := Sending{Recipient: client.Code, Title: "Acte", EndToEnd: true}
	var in *InputError
	if _, err := f.x.NewDraft(ctx, pro, e2e); !errors.As(err, &in) || in.Problem != "no_certificate" {
		t.Fatalf("end to end to a client without a certificate: %v", err)
	}
	if _, err := f.x.SetCertificate(ctx, client, pemOf(cert), "test"); err != nil {
		t.Fatal(err)
	}
	if _, err := f.x.SetCertificate(ctx, eve, pemOf(eveCert), "test"); err != nil {
		t.Fatal(err)
	}
	d, err := f.x.NewDraft(ctx, pro, e2e)
	if err != nil {
		t.Fatal(err)
	}
	deed := []byte("the deed, for Paul only")
	for name, doc := range map[string][]byte{
		"to another recipient":     sealedTo(t, deed, eveCert),
		"to a lookalike":           sealedTo(t, deed, lookalike),
		"truncated before its RIs": sealedTo(t, deed, cert)[:40],
	} {
		if err := d.Add(ctx, "acte.p7m", bytes.NewReader(doc)); !errors.As(err, &in) || (in.Problem != "wrong_recipient" && in.Problem != "not_encrypted") {
			t.Errorf("%s: %v", name, err)
		}
	}
	if len(d.docs) != 0 {
		t.Fatalf("refused documents were kept: %+v", d.docs)
	}
	if files := blobFiles(t, f); len(files) != 0 {
		t.Fatalf("refused documents left %v", files)
	}
	// Over the API, as a client other than Paraphe would try: refused with
	// the reason, and the parcel not made.
	srv := httptest.NewServer(f.x.Handler())
	defer srv.Close()
	tok := apiSignIn(t, srv.URL, pro.Email)
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	for k, v := range map[string]string{"recipient": client.Code, "title": "Acte", "end_to_end": "true"} {
		mw.WriteField(k, v)
	}
	part, _ := mw.CreateFormFile("document", "acte.p7m")
	part.Write(sealedTo(t, deed, eveCert))
	mw.Close()
	req, _ := http.NewRequest("POST", srv.URL+"/api/v1/parcels", &body)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set("Authorization", "Bearer "+tok)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var apiErr APIError
	json.NewDecoder(res.Body).Decode(&apiErr)
	res.Body.Close()
	if res.StatusCode != http.StatusBadRequest || apiErr.Code != "input" || apiErr.Reason != "wrong_recipient" {
		t.Fatalf("the API took a document encrypted to another: %d %+v", res.StatusCode, apiErr)
	}
	if received, _, _ := f.x.Parcels(ctx, client); len(received) != 0 {
		t.Fatalf("a parcel was made: %+v", received)
	}

	// To the recipient and someone else too: the recipient reads it.
	if err := d.Add(ctx, "acte.p7m", bytes.NewReader(sealedTo(t, deed, eveCert, cert))); err != nil {
		t.Fatal(err)
	}
	if _, _, err := d.Send(ctx, "test"); err != nil {
		t.Fatal(err)
	}

	// Once the certificate expired, nothing more is encrypted to it.
	f.clock.Add(11 * 24 * time.Hour)
	var ce *CertificateError
	if _, err := f.x.NewDraft(ctx, pro, e2e); !errors.As(err, &ce) || ce.Problem != "expired" {
		t.Fatalf("end to end to an expired certificate: %v", err)
	}
}

// A certificate its issuer revoked (a CRL, fetched by the exchange that
// goes online) is neither registered nor used; one it cannot ask about
// is refused too.
func TestRevokedRecipientCertificate(t *testing.T) {
	caKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	now := time.Now()
	ca := &x509.Certificate{SerialNumber: big.NewInt(7), Subject: pkix.Name{CommonName: "S/MIME Revoking CA"}, IsCA: true, BasicConstraintsValid: true,
		NotBefore: now.Add(-time.Hour), NotAfter: now.AddDate(1, 0, 0), KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign, SubjectKeyId: []byte{1, 2, 3}}
	caDER, _ := x509.CreateCertificate(rand.Reader, ca, ca, caKey.Public(), caKey)
	ca, _ = x509.ParseCertificate(caDER)
	var revoked atomic.Bool
	var down atomic.Bool
	crlSrv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if down.Load() {
			http.Error(w, "down", http.StatusServiceUnavailable)
			return
		}
		var entries []x509.RevocationListEntry
		if revoked.Load() {
			entries = append(entries, x509.RevocationListEntry{SerialNumber: big.NewInt(42), RevocationTime: time.Now().Add(-time.Minute)})
		}
		crl, err := x509.CreateRevocationList(rand.Reader, &x509.RevocationList{Number: big.NewInt(time.Now().UnixNano()),
			ThisUpdate: time.Now().Add(-time.Minute), NextUpdate: time.Now().Add(time.Hour), RevokedCertificateEntries: entries}, ca, caKey)
		if err != nil {
			t.Error(err)
		}
		w.Write(crl)
	}))
	defer crlSrv.Close()

	f := newFixture(t, InitOptions{VerifyOnline: true})
	ctx := context.Background()
	pro := f.user(t, NewUser{Kind: Firm, Email: "anne@firm.example", Name: "Anne Martin"}, testPassword)
	client := f.user(t, NewUser{Kind: Client, Email: "paul@client.example", Name: "Paul Durand", Manager: pro.Code}, testPassword)
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	leaf := &x509.Certificate{SerialNumber: big.NewInt(42), Subject: pkix.Name{CommonName: client.Email}, EmailAddresses: []string{client.Email},
		NotBefore: now.Add(-time.Hour), NotAfter: now.AddDate(1, 0, 0), KeyUsage: x509.KeyUsageKeyAgreement,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageEmailProtection}, CRLDistributionPoints: []string{crlSrv.URL + "/ca.crl"}}
	der, _ := x509.CreateCertificate(rand.Reader, leaf, ca, key.Public(), caKey)
	leaf, _ = x509.ParseCertificate(der)
	chain := append(pemOf(leaf), pemOf(ca)...)

	if _, err := f.x.SetCertificate(ctx, client, chain, "test"); err != nil {
		t.Fatalf("a good certificate: %v", err)
	}
	e2e := Sending{Recipient: client.Code, Title: "Acte", EndToEnd: true}
	if _, err := f.x.NewDraft(ctx, pro, e2e); err != nil {
		t.Fatal(err)
	}
	var ce *CertificateError
	down.Store(true)
	if _, err := f.x.NewDraft(ctx, pro, e2e); !errors.As(err, &ce) || ce.Problem != "revocation_unknown" {
		t.Fatalf("its CRL unreachable: %v", err)
	}
	down.Store(false)
	revoked.Store(true)
	if _, err := f.x.NewDraft(ctx, pro, e2e); !errors.As(err, &ce) || ce.Problem != "revoked" {
		t.Fatalf("once revoked: %v", err)
	}
	if _, err := f.x.SetCertificate(ctx, client, chain, "test"); !errors.As(err, &ce) || ce.Problem != "revoked" {
		t.Fatalf("registering it again: %v", err)
	}
}

// certFromCA is an encryption certificate for email with that serial,
// issued by a new CA named caName.
func certFromCA(t *testing.T, key *ecdsa.PrivateKey, email, caName string, serial int64) *x509.Certificate {
	t.Helper()
	caKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	ca := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: caName}, IsCA: true, BasicConstraintsValid: true,
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().AddDate(1, 0, 0), KeyUsage: x509.KeyUsageCertSign}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(serial), Subject: pkix.Name{CommonName: email}, EmailAddresses: []string{email},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().AddDate(1, 0, 0), KeyUsage: x509.KeyUsageKeyAgreement,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageEmailProtection}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, key.Public(), caKey)
	if err != nil {
		t.Fatal(err)
	}
	c, _ := x509.ParseCertificate(der)
	return c
}

// blobFiles are the sealed files in the documents folder.
func blobFiles(t *testing.T, f *fixture) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(f.x.docs, "*"))
	if err != nil {
		t.Fatal(err)
	}
	return files
}
