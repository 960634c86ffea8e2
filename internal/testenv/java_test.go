package testenv

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// onePagePDF is a one-page PDF with a classic cross-reference table.
func onePagePDF() []byte {
	var b bytes.Buffer
	var offs []int
	obj := func(s string) {
		offs = append(offs, b.Len())
		fmt.Fprintf(&b, "%d 0 obj\n%s\nendobj\n", len(offs), s)
	}
	b.WriteString("%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
	content := "BT /F1 24 Tf 72 760 Td (Deed of sale) Tj ET"
	obj("<< /Type /Catalog /Pages 2 0 R >>")
	obj("<< /Type /Pages /Kids [3 0 R] /Count 1 /MediaBox [0 0 595 842] >>")
	obj("<< /Type /Page /Parent 2 0 R /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>")
	obj(fmt.Sprintf("<< /Length %d >>\nstream\n%s\nendstream", len(content), content))
	obj("<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>")
	xref := b.Len()
	fmt.Fprintf(&b, "xref\n0 %d\n0000000000 65535 f \n", len(offs)+1)
	for _, o := range offs {
		fmt.Fprintf(&b, "%010d 00000 n \n", o)
	}
	fmt.Fprintf(&b, "trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n", len(offs)+1, xref)
	return b.Bytes()
}

func selfSigned(t *testing.T, key any, pub any) *x509.Certificate {
	t.Helper()
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: "Java Test " + t.Name()},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageContentCommitment | x509.KeyUsageCertSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, pub, key)
	if err != nil {
		t.Fatal(err)
	}
	c, _ := x509.ParseCertificate(der)
	return c
}

// TestJavaJobs signs with both producers in one JVM, has iText verify the
// results, and checks that a failing job is reported without hiding the
// jobs after it and without leaving an output behind.
func TestJavaJobs(t *testing.T) {
	j := Java(t)
	rk, _ := rsa.GenerateKey(rand.Reader, 2048)
	ek, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	rsaP12, rsaPW := WritePKCS12(t, rk, []*x509.Certificate{selfSigned(t, rk, &rk.PublicKey)})
	ecP12, ecPW := WritePKCS12(t, ek, []*x509.Certificate{selfSigned(t, ek, &ek.PublicKey)})
	dir := t.TempDir()
	in := filepath.Join(dir, "in.pdf")
	if err := os.WriteFile(in, onePagePDF(), 0o644); err != nil {
		t.Fatal(err)
	}
	out := func(name string) string { return filepath.Join(dir, name) }
	jobs := []JavaJob{
		{Op: "sign", Producer: "itext", In: in, Out: out("itext.pdf"), PKCS12: rsaP12, Password: rsaPW, SubFilter: "ETSI.CAdES.detached", Field: "Notary"},
		{Op: "sign", Producer: "pdfbox", In: in, Out: out("wrong-password.pdf"), PKCS12: ecP12, Password: "wrong"},
		{Op: "sign", Producer: "pdfbox", In: out("itext.pdf"), Out: out("both.pdf"), PKCS12: ecP12, Password: ecPW, SubFilter: "adbe.pkcs7.detached", Field: "Witness", Visible: true},
	}
	res := j.Run(t, jobs...)
	if err := res[0].Err(); err != nil {
		t.Fatalf("iText: %v", err)
	}
	if res[1].OK || !strings.Contains(res[1].Error, "wrong password") {
		t.Errorf("wrong password: %+v", res[1])
	}
	if _, err := os.Stat(out("wrong-password.pdf")); err == nil {
		t.Error("a failed job left its output behind")
	}
	if err := res[2].Err(); err != nil {
		t.Fatalf("PDFBox: %v", err)
	}

	vs := j.VerifyIText(t, out("both.pdf"))
	if len(vs) != 2 {
		t.Fatalf("iText sees %d signatures: %+v", len(vs), vs)
	}
	want := map[string]string{"Notary": "ETSI.CAdES.detached", "Witness": "adbe.pkcs7.detached"}
	for _, v := range vs {
		if v.Integrity != "true" || want[v.Field] != v.SubFilter {
			t.Errorf("%+v", v)
		}
		if v.CoversWholeDocument != (v.Field == "Witness") {
			t.Errorf("%s covers the whole document: %v", v.Field, v.CoversWholeDocument)
		}
	}

	// One byte of the page's content stream changed: both signatures broken.
	data, _ := os.ReadFile(out("both.pdf"))
	i := bytes.Index(data, []byte("Deed of sale"))
	data[i] = 'S'
	broken := out("broken.pdf")
	os.WriteFile(broken, data, 0o644)
	for _, v := range j.VerifyIText(t, broken) {
		if v.Integrity != "false" {
			t.Errorf("altered file: %+v", v)
		}
	}
}
