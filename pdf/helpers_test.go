package pdf

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/paraphe/paraphe/internal/testenv"
)

// makePDF writes a small PDF of n pages with a classic cross-reference
// table; with form, page 1 carries a text field "Client" (and the form has
// /DA and /DR, which signing must keep).
func makePDF(n int, form bool) []byte {
	var b bytes.Buffer
	var offs []int
	obj := func(s string) {
		offs = append(offs, b.Len())
		fmt.Fprintf(&b, "%d 0 obj\n%s\nendobj\n", len(offs), s)
	}
	b.WriteString("%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
	acro := ""
	if form {
		acro = " /AcroForm << /Fields [6 0 R] /DA (/Helv 0 Tf 0 g) /DR << /Font << /Helv 5 0 R >> >> /NeedAppearances false >>"
	}
	obj("<< /Type /Catalog /Pages 2 0 R" + acro + " >>") // 1
	kids := []string{}
	for i := range n {
		kids = append(kids, fmt.Sprintf("%d 0 R", 7+2*i))
	}
	obj(fmt.Sprintf("<< /Type /Pages /Kids [%s] /Count %d /MediaBox [0 0 595 842] >>", strings.Join(kids, " "), n))    // 2
	obj("<< /Producer (Paraphe tests) >>")                                                                             // 3
	obj("<< /Length 0 >>\nstream\n\nendstream")                                                                        // 4 (unused)
	obj("<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>")                                                      // 5
	obj("<< /FT /Tx /T (Client) /V (Dupont SA) /Rect [50 700 300 720] /Type /Annot /Subtype /Widget /P 7 0 R /F 4 >>") // 6
	for i := range n {
		annots := ""
		if form && i == 0 {
			annots = " /Annots [6 0 R]"
		}
		content := fmt.Sprintf("BT /F1 24 Tf 72 760 Td (Page %d of the deed) Tj ET", i+1)
		obj(fmt.Sprintf("<< /Type /Page /Parent 2 0 R /Contents %d 0 R /Resources << /Font << /F1 5 0 R >> >>%s >>", 8+2*i, annots))
		obj(fmt.Sprintf("<< /Length %d >>\nstream\n%s\nendstream", len(content), content))
	}
	xref := b.Len()
	fmt.Fprintf(&b, "xref\n0 %d\n0000000000 65535 f \n", len(offs)+1)
	for _, o := range offs {
		fmt.Fprintf(&b, "%010d 00000 n \n", o)
	}
	fmt.Fprintf(&b, "trailer\n<< /Size %d /Root 1 0 R /Info 3 0 R /ID [<0102030405060708090a0b0c0d0e0f10> <0102030405060708090a0b0c0d0e0f10>] >>\nstartxref\n%d\n%%%%EOF\n", len(offs)+1, xref)
	return b.Bytes()
}

// testPKI is a root, an issuing CA and a holder's P-256 key and certificate.
type testPKI struct {
	root, issuing, leaf *x509.Certificate
	key                 crypto.Signer
}

func newPKI(t testing.TB) *testPKI {
	t.Helper()
	mk := func(tmpl, parent *x509.Certificate, pub any, priv crypto.Signer) *x509.Certificate {
		tmpl.SerialNumber, _ = rand.Int(rand.Reader, big.NewInt(1<<62))
		tmpl.NotBefore = time.Now().Add(-time.Hour)
		if tmpl.NotAfter.IsZero() {
			tmpl.NotAfter = time.Now().AddDate(1, 0, 0)
		}
		if parent == nil {
			parent = tmpl
		}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, pub, priv)
		if err != nil {
			t.Fatal(err)
		}
		c, _ := x509.ParseCertificate(der)
		return c
	}
	rk, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	ik, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	lk, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	p := &testPKI{key: lk}
	p.root = mk(&x509.Certificate{Subject: pkix.Name{CommonName: "Test Root " + t.Name()}, IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign}, nil, &rk.PublicKey, rk)
	p.issuing = mk(&x509.Certificate{Subject: pkix.Name{CommonName: "Test Issuing CA"}, IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign}, p.root, &ik.PublicKey, rk)
	p.leaf = mk(&x509.Certificate{
		Subject: pkix.Name{CommonName: "Marie Dupont", SerialNumber: "75-1234", Organization: []string{"Chambre des notaires de Paris"},
			ExtraNames: []pkix.AttributeTypeAndValue{{Type: asn1.ObjectIdentifier{2, 5, 4, 12}, Value: "Notaire"}}},
		KeyUsage:    x509.KeyUsageDigitalSignature | x509.KeyUsageContentCommitment,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageEmailProtection},
	}, p.issuing, &lk.PublicKey, ik)
	return p
}

func (p *testPKI) chain() []*x509.Certificate { return []*x509.Certificate{p.leaf, p.issuing, p.root} }

func writePEM(t testing.TB, path string, certs ...*x509.Certificate) {
	var b []byte
	for _, c := range certs {
		b = append(b, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})...)
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// nssDB is an NSS database trusting root, as pdfsig reads it.
func nssDB(t testing.TB, root *x509.Certificate) string {
	t.Helper()
	testenv.Require(t, "certutil")
	dir := t.TempDir()
	if out, err := exec.Command("certutil", "-N", "-d", "sql:"+dir, "--empty-password").CombinedOutput(); err != nil {
		t.Fatalf("certutil -N: %v\n%s", err, out)
	}
	pemPath := filepath.Join(dir, "root.pem")
	writePEM(t, pemPath, root)
	if out, err := exec.Command("certutil", "-A", "-d", "sql:"+dir, "-n", "root", "-t", "C,C,C", "-i", pemPath).CombinedOutput(); err != nil {
		t.Fatalf("certutil -A: %v\n%s", err, out)
	}
	return dir
}

// pdfsig runs poppler's pdfsig and returns its report (it exits 0 even on
// failures: the text is what counts).
func pdfsig(t testing.TB, db, file string, args ...string) string {
	t.Helper()
	testenv.Require(t, "pdfsig")
	out, _ := exec.Command("pdfsig", append(append([]string{"-nssdir", "sql:" + db}, args...), file)...).CombinedOutput()
	return string(out)
}

// qpdfCheck runs qpdf --check: 0 fine, 3 warnings, 2 errors.
func qpdfCheck(t testing.TB, file string) (int, string) {
	t.Helper()
	testenv.Require(t, "qpdf")
	out, err := exec.Command("qpdf", "--check", file).CombinedOutput()
	if ee, ok := err.(*exec.ExitError); ok {
		return ee.ExitCode(), string(out)
	}
	return 0, string(out)
}

func errorsIs(err, target error) bool { return errors.Is(err, target) }

func itoa(n int) string { return fmt.Sprint(n) }

func writeTemp(t *testing.T, data []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "in.pdf")
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}
