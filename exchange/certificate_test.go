package exchange

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"database/sql"
	"encoding/pem"
	"errors"
	"math/big"
	"path/filepath"
	"testing"
	"time"

	"github.com/paraphe/paraphe/cms"
)

// encryptionCert is a certificate for email made by a throwaway CA, with
// the key usage given, and its key.
func encryptionCert(t *testing.T, key crypto.Signer, email string, usage x509.KeyUsage, notAfter time.Time) *x509.Certificate {
	t.Helper()
	caKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	ca := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "S/MIME Test CA"}, IsCA: true, BasicConstraintsValid: true,
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().AddDate(1, 0, 0), KeyUsage: x509.KeyUsageCertSign}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: email}, EmailAddresses: []string{email},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: notAfter, KeyUsage: usage, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageEmailProtection}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, key.Public(), caKey)
	if err != nil {
		t.Fatal(err)
	}
	c, _ := x509.ParseCertificate(der)
	return c
}

func pemOf(c *x509.Certificate) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})
}

// A client registers an encryption certificate; their manager's
// computer gets it with the recipient; certificates that must not
// receive are refused, each with its reason.
func TestEncryptionCertificate(t *testing.T) {
	f := newFixture(t, InitOptions{})
	ctx := context.Background()
	pro := f.user(t, NewUser{Kind: Firm, Email: "anne@firm.example", Name: "Anne Martin"}, testPassword)
	client := f.user(t, NewUser{Kind: Client, Email: "paul@client.example", Name: "Paul Durand", Manager: pro.Code}, testPassword)
	rsaKey, _ := rsa.GenerateKey(rand.Reader, 2048)
	year := time.Now().AddDate(1, 0, 0)

	for name, tt := range map[string]struct {
		data    []byte
		problem string
	}{
		"signing only":  {pemOf(encryptionCert(t, rsaKey, client.Email, x509.KeyUsageDigitalSignature|x509.KeyUsageContentCommitment, year)), "usage"},
		"another email": {pemOf(encryptionCert(t, rsaKey, "someone@else.example", x509.KeyUsageKeyEncipherment, year)), "email"},
		"expired":       {pemOf(encryptionCert(t, rsaKey, client.Email, x509.KeyUsageKeyEncipherment, time.Now().Add(-time.Minute))), "expired"},
		"not one":       {[]byte("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"), "unreadable"},
		"small key":     {pemOf(encryptionCert(t, mustRSA(t, 1024), client.Email, x509.KeyUsageKeyEncipherment, year)), "key"},
	} {
		var ce *CertificateError
		if _, err := f.x.SetCertificate(ctx, client, tt.data, "test"); !errors.As(err, &ce) || ce.Problem != tt.problem {
			t.Errorf("%s: %v, want %s", name, err, tt.problem)
		}
	}
	info, _ := f.x.RecipientOf(ctx, pro, client.Code)
	if info.Certificate != nil {
		t.Fatal("a refused certificate was kept")
	}

	cert := encryptionCert(t, rsaKey, "Paul@Client.example", x509.KeyUsageKeyEncipherment|x509.KeyUsageDigitalSignature, year)
	desc, err := f.x.SetCertificate(ctx, client, cert.Raw, "test") // DER
	if err != nil || desc.Subject != "CN=Paul@Client.example" || len(desc.Chain) != 1 {
		t.Fatalf("register: %+v, %v", desc, err)
	}
	info, err = f.x.RecipientOf(ctx, pro, "paul@client.example")
	if err != nil || info.Recipient.Code != client.Code || info.Certificate == nil || !bytes.Equal(info.Certificate.Chain[0], cert.Raw) {
		t.Fatalf("the manager's view: %+v, %v", info, err)
	}
	// A client's parcel goes to their manager, whatever they name.
	if info, _ := f.x.RecipientOf(ctx, client, "anyone@else.example"); info.Recipient == nil || info.Recipient.Code != pro.Code || info.Certificate != nil {
		t.Fatalf("the client's view: %+v", info)
	}
	if info, _ := f.x.RecipientOf(ctx, pro, "new@client.example"); info.Recipient != nil || info.New != "new@client.example" {
		t.Fatalf("a new address: %+v", info)
	}
	if err := f.x.RemoveCertificate(ctx, client, "test"); err != nil {
		t.Fatal(err)
	}
	if info, _ := f.x.RecipientOf(ctx, pro, client.Code); info.Certificate != nil {
		t.Fatal("a removed certificate is still handed out")
	}
}

func mustRSA(t *testing.T, bits int) *rsa.PrivateKey {
	t.Helper()
	k, err := rsa.GenerateKey(rand.Reader, bits)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// An end-to-end parcel holds what the sender encrypted, byte for byte and
// unjudged; a document that is not encrypted is refused and leaves no
// file behind.
func TestEndToEndParcel(t *testing.T) {
	f := newFixture(t, InitOptions{})
	ctx := context.Background()
	pro := f.user(t, NewUser{Kind: Firm, Email: "anne@firm.example", Name: "Anne Martin"}, testPassword)
	client := f.user(t, NewUser{Kind: Client, Email: "paul@client.example", Name: "Paul Durand", Manager: pro.Code}, testPassword)
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	cert := encryptionCert(t, key, client.Email, x509.KeyUsageKeyAgreement, time.Now().AddDate(1, 0, 0))
	if _, err := f.x.SetCertificate(ctx, client, pemOf(cert), "test"); err != nil {
		t.Fatal(err)
	}
	_, deed := signedPDF(t)
	var sealed bytes.Buffer
	w, err := cms.Encrypt(&sealed, cert)
	if err != nil {
		t.Fatal(err)
	}
	w.Write(deed)
	w.Close()

	d, err := f.x.NewDraft(ctx, pro, Sending{Recipient: client.Code, Title: "Acte", EndToEnd: true})
	if err != nil {
		t.Fatal(err)
	}
	var in *InputError
	if err := d.Add(ctx, "acte.pdf", bytes.NewReader(deed)); !errors.As(err, &in) || in.Problem != "not_encrypted" {
		t.Fatalf("a PDF in clear in an end-to-end parcel: %v", err)
	}
	if files, _ := filepath.Glob(filepath.Join(f.dir, "documents", "*")); len(files) != 0 {
		t.Fatalf("the refused document left %v", files)
	}
	if err := d.Add(ctx, "acte.pdf.p7m", bytes.NewReader(sealed.Bytes())); err != nil {
		t.Fatal(err)
	}
	p, _, err := d.Send(ctx, "test")
	if err != nil {
		t.Fatal(err)
	}
	got, err := f.x.Parcel(ctx, client, p.ID, "test")
	if err != nil || !got.Documents[0].EndToEnd || got.Documents[0].IsPDF() || got.Documents[0].Verdicts != nil {
		t.Fatalf("the parcel: %+v, %v", got.Documents, err)
	}
	o, err := f.x.OpenDocument(ctx, client, p.ID, p.Documents[0].ID, "downloaded", "test")
	if b := readAll(t, o, err); !bytes.Equal(b, sealed.Bytes()) {
		t.Fatal("the encrypted document came out changed")
	}
	e, err := cms.ReadEnveloped(bytes.NewReader(sealed.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	ek, _ := key.ECDH()
	if err := e.Open(cert, ek); err != nil {
		t.Fatal(err)
	}
}

// A database made before certificates were kept gains the column when
// it is opened.
func TestMigration(t *testing.T) {
	dir := t.TempDir()
	if err := Init(dir, InitOptions{}); err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open("sqlite", "file:"+filepath.Join(dir, fileDB))
	if err != nil {
		t.Fatal(err)
	}
	// As it was before migrations were numbered.
	if _, err := db.Exec(`ALTER TABLE users DROP COLUMN certificate; DROP TABLE schema_migrations`); err != nil {
		t.Fatal(err)
	}
	db.Close()
	x, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer x.Close()
	if _, _, _, err := x.AddUser(context.Background(), NewUser{Kind: Client, Email: "a@b.example", Name: "A"}); err != nil {
		t.Fatal(err)
	}
	if u, err := x.User(context.Background(), "a@b.example"); err != nil || u.Certificate() != nil {
		t.Fatalf("%+v, %v", u, err)
	}
}
