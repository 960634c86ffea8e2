package pdf

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"math/big"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/paraphe/paraphe/internal/testenv"
)

// qcTypeExt is a QCStatements extension with QcType typ.
func qcTypeExt(typ asn1.ObjectIdentifier) pkix.Extension {
	type statement struct {
		ID   asn1.ObjectIdentifier
		Info []asn1.ObjectIdentifier
	}
	der, _ := asn1.Marshal([]statement{{oidQcType, []asn1.ObjectIdentifier{typ}}})
	return pkix.Extension{Id: oidQCStatements, Value: der}
}

func TestIsSeal(t *testing.T) {
	orgID := pkix.AttributeTypeAndValue{Type: asn1.ObjectIdentifier{2, 5, 4, 97}, Value: "VATIT-01234567890"}
	title := pkix.AttributeTypeAndValue{Type: asn1.ObjectIdentifier{2, 5, 4, 12}, Value: "Notaire"}
	given := pkix.AttributeTypeAndValue{Type: asn1.ObjectIdentifier{2, 5, 4, 42}, Value: "Mario"}
	for _, c := range []struct {
		name    string
		subject pkix.Name
		ext     []pkix.Extension
		seal    bool
	}{
		{"paraphe-ca's seal", pkix.Name{CommonName: "ACME S.p.A.", Organization: []string{"ACME S.p.A."}, Country: []string{"IT"}, ExtraNames: []pkix.AttributeTypeAndValue{orgID}}, nil, true},
		{"a seal named by its organisation only", pkix.Name{Organization: []string{"ACME"}, Country: []string{"FR"}}, nil, true},
		{"a seal with a name of its own", pkix.Name{CommonName: "ACME invoicing", Organization: []string{"ACME"}, ExtraNames: []pkix.AttributeTypeAndValue{orgID}}, nil, true},
		{"QcType eseal", pkix.Name{CommonName: "Fatturazione", Organization: []string{"ACME"}}, []pkix.Extension{qcTypeExt(oidQcTypeESeal)}, true},
		{"a notary", pkix.Name{CommonName: "Marie Dupont", Organization: []string{"Chambre des notaires"}, ExtraNames: []pkix.AttributeTypeAndValue{title}}, nil, false},
		{"an employee", pkix.Name{CommonName: "Mario Rossi", Organization: []string{"ACME"}}, nil, false},
		{"an employee with the company's identifier", pkix.Name{CommonName: "Mario Rossi", Organization: []string{"ACME"}, ExtraNames: []pkix.AttributeTypeAndValue{orgID, given}}, nil, false},
		{"QcType esign", pkix.Name{CommonName: "Mario Rossi", Organization: []string{"ACME"}}, []pkix.Extension{qcTypeExt(asn1.ObjectIdentifier{0, 4, 0, 1862, 1, 6, 1})}, false},
		{"no organisation", pkix.Name{CommonName: "Mario Rossi"}, nil, false},
	} {
		key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: c.subject, NotBefore: time.Now(), NotAfter: time.Now().Add(time.Hour), ExtraExtensions: c.ext}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
		if err != nil {
			t.Fatal(err)
		}
		cert, _ := x509.ParseCertificate(der)
		if got := IsSeal(cert); got != c.seal {
			t.Errorf("%s: IsSeal %v", c.name, got)
		}
	}
}

// A seal's visible stamp names the organisation once, with its
// identifier, under the seal's own words; no person.
func TestSealStamp(t *testing.T) {
	testenv.Require(t, "pdftotext")
	p := newPKI(t)
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	ik, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	// A CA of its own for the seal: the stamp does not depend on the chain.
	issuerTmpl := &x509.Certificate{SerialNumber: big.NewInt(7), Subject: pkix.Name{CommonName: "Seal CA " + t.Name()}, IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().AddDate(1, 0, 0)}
	ider, _ := x509.CreateCertificate(rand.Reader, issuerTmpl, issuerTmpl, ik.Public(), ik)
	issuer, _ := x509.ParseCertificate(ider)
	leafTmpl := &x509.Certificate{SerialNumber: big.NewInt(8), NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().AddDate(1, 0, 0),
		Subject: pkix.Name{CommonName: "ACME S.p.A.", Organization: []string{"ACME S.p.A."}, Country: []string{"IT"},
			ExtraNames: []pkix.AttributeTypeAndValue{{Type: asn1.ObjectIdentifier{2, 5, 4, 97}, Value: "VATIT-01234567890"}}},
		KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageContentCommitment}
	lder, _ := x509.CreateCertificate(rand.Reader, leafTmpl, issuer, key.Public(), ik)
	leaf, _ := x509.ParseCertificate(lder)
	p.root, p.issuing, p.leaf, p.key = issuer, issuer, leaf, key
	app := &Appearance{Page: 1, Rect: [4]float64{330, 60, 220, 80}, Labels: Labels{SealedBy: "Sigillo elettronico di", DateLayout: "02/01/2006"}}
	_, out := signBytes(t, p, makePDF(1, false), Options{Appearance: app})
	text, err := exec.Command("pdftotext", out, "-").CombinedOutput()
	if err != nil {
		t.Fatal(err)
	}
	s := string(text)
	if !strings.Contains(s, "Sigillo elettronico di") || strings.Count(s, "ACME S.p.A.") != 1 || !strings.Contains(s, "VATIT-01234567890") || strings.Contains(s, "Digitally signed") {
		t.Fatalf("the stamp reads:\n%s", s)
	}
}
