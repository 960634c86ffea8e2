package trust

import (
	"bytes"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/paraphe/paraphe/internal/testenv"
	"github.com/paraphe/paraphe/pdf"
)

func pemOf(certs ...*x509.Certificate) []byte {
	var b bytes.Buffer
	for _, c := range certs {
		pem.Encode(&b, &pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})
	}
	return b.Bytes()
}

// openssl writes the bundles: PKCS#7 certs-only (as .p7b exports are) in
// DER and PEM, and OpenSSL's "TRUSTED CERTIFICATE".
func opensslBundles(t *testing.T, dir string, certs ...*x509.Certificate) (p7der, p7pem, trusted string) {
	t.Helper()
	testenv.Require(t, "openssl")
	in := writeFile(t, dir, "in.pem", pemOf(certs...))
	p7der, p7pem, trusted = filepath.Join(dir, "bundle.p7b"), filepath.Join(dir, "bundle.p7c"), filepath.Join(dir, "trusted.crt")
	for _, args := range [][]string{
		{"crl2pkcs7", "-nocrl", "-certfile", in, "-outform", "DER", "-out", p7der},
		{"crl2pkcs7", "-nocrl", "-certfile", in, "-out", p7pem},
		{"x509", "-in", in, "-addtrust", "emailProtection", "-trustout", "-out", trusted},
	} {
		if out, err := exec.Command("openssl", args...).CombinedOutput(); err != nil {
			t.Fatalf("openssl %v: %v\n%s", args, err, out)
		}
	}
	return p7der, p7pem, trusted
}

func TestReadFileFormats(t *testing.T) {
	dir := t.TempDir()
	a, b := newCA(t, "A"), newCA(t, "B")
	p7der, p7pem, trusted := opensslBundles(t, dir, a, b)
	der, err := os.ReadFile(p7der)
	if err != nil {
		t.Fatal(err)
	}
	// The same bundle in BER, with an indefinite length, as some Windows
	// exports write it.
	if der[0] != 0x30 || der[1] != 0x82 {
		t.Fatalf("unexpected DER header % x", der[:4])
	}
	ber := append(append([]byte{0x30, 0x80}, der[4:]...), 0, 0)

	cases := []struct {
		name string
		path string
		want int
	}{
		{"pem", writeFile(t, dir, "one.pem", pemOf(a)), 1},
		{"pem with text", writeFile(t, dir, "two.pem", append([]byte("Subject: A\nissuer: ...\n"), pemOf(a, b)...)), 2},
		{"der", writeFile(t, dir, "a.cer", a.Raw), 1},
		{"pkcs7 der", p7der, 2},
		{"pkcs7 ber", writeFile(t, dir, "ber.p7b", ber), 2},
		{"pkcs7 pem", p7pem, 2},
		{"trusted certificate", trusted, 1},
	}
	for _, c := range cases {
		certs, err := ReadFile(c.path)
		if err != nil {
			t.Errorf("%s: %v", c.name, err)
			continue
		}
		if len(certs) != c.want || !certs[0].Equal(a) {
			t.Errorf("%s: %d certificates", c.name, len(certs))
		}
	}
}

func TestReadFileRefusesGarbage(t *testing.T) {
	dir := t.TempDir()
	key := pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: []byte{1, 2, 3}})
	big := filepath.Join(dir, "big.pem")
	if err := os.WriteFile(big, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(big, MaxFileSize+1); err != nil {
		t.Fatal(err)
	}
	broken := pemOf(newCA(t, "A"))
	broken[len(broken)/2] ^= 0x20
	cases := []struct {
		name, path string
		want       error
	}{
		{"empty", writeFile(t, dir, "empty.pem", nil), ErrNoCertificate},
		{"blank", writeFile(t, dir, "blank.pem", []byte("\n \n")), ErrNoCertificate},
		{"text", writeFile(t, dir, "readme.crt", []byte("not a certificate")), ErrNotCertificate},
		{"private key", writeFile(t, dir, "key.pem", append(pemOf(newCA(t, "A")), key...)), ErrNotCertificate},
		{"missing", filepath.Join(dir, "missing.pem"), fs.ErrNotExist},
		{"too large", big, ErrTooLarge},
	}
	for _, c := range cases {
		_, err := ReadFile(c.path)
		var fe *FileError
		if !errors.As(err, &fe) || fe.Path != c.path || !errors.Is(err, c.want) {
			t.Errorf("%s: %v, want a file error %v", c.name, err, c.want)
		}
	}
	if _, err := ReadFile(writeFile(t, dir, "broken.pem", broken)); err == nil {
		t.Error("a damaged certificate read")
	}
}

func TestLoadFiles(t *testing.T) {
	dir := t.TempDir()
	folder := filepath.Join(dir, "policy.d")
	os.Mkdir(folder, 0o755)
	a, b, c := newCA(t, "A"), newCA(t, "B"), newCA(t, "C")
	writeFile(t, folder, "a.pem", pemOf(a))
	writeFile(t, folder, "b.CRT", b.Raw)
	writeFile(t, folder, "README.txt", []byte("certificates for Paraphe"))
	writeFile(t, folder, ".a.pem.1234", []byte("half-written"))
	os.Mkdir(filepath.Join(folder, "old"), 0o755)
	writeFile(t, filepath.Join(folder, "old"), "c.pem", pemOf(c))
	bad := writeFile(t, folder, "bad.pem", []byte("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"))
	single := writeFile(t, dir, "c.bundle", pemOf(c))

	anchors, err := LoadFiles(pdf.SourcePolicy, folder, single, filepath.Join(dir, "gone.pem"))
	var fe *FileError
	if !errors.As(err, &fe) || fe.Path != bad {
		t.Errorf("error %v, want one naming %s", err, bad)
	}
	if !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("error %v does not report the missing path", err)
	}
	if len(anchors) != 3 {
		t.Fatalf("%d anchors, want a, b (folder) and c (named file)", len(anchors))
	}
	for i, want := range []struct {
		cert *x509.Certificate
		name string
	}{{a, filepath.Join(folder, "a.pem")}, {b, filepath.Join(folder, "b.CRT")}, {c, single}} {
		got := anchors[i]
		if !got.Cert.Equal(want.cert) || got.Name != want.name || got.Source != pdf.SourcePolicy || got.Usage != 0 || got.Periods != nil {
			t.Errorf("anchor %d: %+v", i, got)
		}
	}
	if anchors, err := LoadFiles(pdf.SourceBundle, single); err != nil || anchors[0].Source != pdf.SourceBundle {
		t.Errorf("bundle: %v", err)
	}
}
