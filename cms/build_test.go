package cms

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"io"
	"math/big"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ocsp"

	"github.com/paraphe/paraphe/internal/testenv"
)

// pki is a root and a signer, with the root's key to sign revocation data.
type pki struct {
	root, leaf *x509.Certificate
	rootKey    crypto.Signer
	key        crypto.Signer
	dir        string
}

func newPKI(t *testing.T, rsaKey bool) *pki {
	t.Helper()
	rk, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	var lk crypto.Signer
	if rsaKey {
		lk, _ = rsa.GenerateKey(rand.Reader, 2048)
	} else {
		lk, _ = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	}
	mk := func(tmpl, parent *x509.Certificate, pub any) *x509.Certificate {
		tmpl.SerialNumber, _ = rand.Int(rand.Reader, big.NewInt(1<<62))
		tmpl.NotBefore, tmpl.NotAfter = time.Now().Add(-time.Hour), time.Now().AddDate(1, 0, 0)
		if parent == nil {
			parent = tmpl
		}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, pub, rk)
		if err != nil {
			t.Fatal(err)
		}
		c, _ := x509.ParseCertificate(der)
		return c
	}
	p := &pki{rootKey: rk, key: lk, dir: t.TempDir()}
	p.root = mk(&x509.Certificate{Subject: pkix.Name{CommonName: "CMS Test Root " + t.Name()}, IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign}, nil, rk.Public())
	p.leaf = mk(&x509.Certificate{Subject: pkix.Name{CommonName: "ACME S.p.A.", Organization: []string{"ACME S.p.A."}, Country: []string{"IT"}},
		KeyUsage:    x509.KeyUsageDigitalSignature | x509.KeyUsageContentCommitment,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageEmailProtection}}, p.root, lk.Public())
	os.WriteFile(p.file("root.pem"), pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: p.root.Raw}), 0o644)
	return p
}

func (p *pki) file(name string) string { return filepath.Join(p.dir, name) }

func (p *pki) builder() *Builder {
	return &Builder{Key: p.key, Chain: []*x509.Certificate{p.leaf, p.root}, SigningTime: time.Now()}
}

// validation is a real CRL and a real OCSP response about the leaf,
// signed by the root.
func (p *pki) validation(t *testing.T) *Validation {
	t.Helper()
	crl, err := x509.CreateRevocationList(rand.Reader, &x509.RevocationList{Number: big.NewInt(1), ThisUpdate: time.Now(), NextUpdate: time.Now().Add(time.Hour)}, p.root, p.rootKey)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := ocsp.CreateResponse(p.root, p.root, ocsp.Response{Status: ocsp.Good, SerialNumber: p.leaf.SerialNumber,
		ThisUpdate: time.Now(), NextUpdate: time.Now().Add(time.Hour)}, p.rootKey)
	if err != nil {
		t.Fatal(err)
	}
	return &Validation{CRLs: [][]byte{crl}, OCSPs: [][]byte{resp}}
}

func openssl(t *testing.T, args ...string) string {
	t.Helper()
	testenv.Require(t, "openssl")
	out, err := exec.Command("openssl", args...).CombinedOutput()
	if err != nil {
		t.Fatalf("openssl %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// attached writes content through an AttachedWriter in pieces of
// irregular sizes and returns the .p7m.
func attached(t *testing.T, b *Builder, content []byte, v *Validation) []byte {
	t.Helper()
	var out bytes.Buffer
	w, err := b.NewAttached(&out, v)
	if err != nil {
		t.Fatal(err)
	}
	for rest, n := content, 1; len(rest) > 0; n = n*7 + 3 {
		k := min(len(rest), n%(3*segmentSize))
		if _, err := w.Write(rest[:k]); err != nil {
			t.Fatal(err)
		}
		rest = rest[k:]
	}
	sum := sha256.Sum256(content)
	if !bytes.Equal(w.Digest(), sum[:]) {
		t.Fatal("Digest is not the content's SHA-256")
	}
	s, err := b.Sign(w.Digest())
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Close(s); err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write([]byte("x")); err == nil {
		t.Fatal("Write after Close succeeded")
	}
	return out.Bytes()
}

func randomBytes(n int) []byte {
	b := make([]byte, n)
	rand.Read(b)
	return b
}

// openssl restores the content of our .p7m byte for byte, whatever its
// size against the segments, with and without validation data, and
// checks the signature on the way.
func TestAttachedOpenSSL(t *testing.T) {
	for _, rsaKey := range []bool{false, true} {
		p := newPKI(t, rsaKey)
		for _, n := range []int{0, 1, segmentSize - 1, segmentSize, segmentSize + 1, 3*segmentSize + 7} {
			for _, v := range []*Validation{nil, p.validation(t)} {
				content := randomBytes(n)
				p7m := attached(t, p.builder(), content, v)
				in, out := p.file("f.p7m"), p.file("content")
				os.WriteFile(in, p7m, 0o644)
				openssl(t, "cms", "-verify", "-inform", "DER", "-in", in, "-CAfile", p.file("root.pem"), "-purpose", "any", "-out", out)
				got, _ := os.ReadFile(out)
				if !bytes.Equal(got, content) {
					t.Fatalf("rsa %v, %d bytes, validation %v: openssl restored %d different bytes", rsaKey, n, v != nil, len(got))
				}
				printed := openssl(t, "cms", "-cmsout", "-print", "-inform", "DER", "-in", in)
				for _, want := range []string{"signingTime", "id-smime-aa-signingCertificateV2", "messageDigest"} {
					if !strings.Contains(printed, want) {
						t.Fatalf("no %s in:\n%s", want, printed)
					}
				}
				if v != nil && (!strings.Contains(printed, "otherRevInfoFormat: undefined (1.3.6.1.5.5.7.16.2)") || !strings.Contains(printed, "version: 5")) {
					t.Fatalf("the OCSP response is not an other revocation format of a version 5 SignedData:\n%s", printed)
				}
			}
		}
	}
}

func TestDetachedOpenSSL(t *testing.T) {
	p := newPKI(t, false)
	content := randomBytes(100_000)
	sum := sha256.Sum256(content)
	b := p.builder()
	s, err := b.Sign(sum[:])
	if err != nil {
		t.Fatal(err)
	}
	der, err := b.Detached(s, p.validation(t))
	if err != nil {
		t.Fatal(err)
	}
	in, data := p.file("f.p7s"), p.file("f.bin")
	os.WriteFile(in, der, 0o644)
	os.WriteFile(data, content, 0o644)
	openssl(t, "cms", "-verify", "-inform", "DER", "-in", in, "-content", data, "-binary", "-CAfile", p.file("root.pem"), "-purpose", "any", "-out", os.DevNull)
	content[0] ^= 1
	os.WriteFile(data, content, 0o644)
	if out, err := exec.Command("openssl", "cms", "-verify", "-inform", "DER", "-in", in, "-content", data, "-binary", "-CAfile", p.file("root.pem"), "-purpose", "any", "-out", os.DevNull).CombinedOutput(); err == nil {
		t.Fatalf("openssl verified a changed content:\n%s", out)
	}
	// Our own reader finds the same: detached, the signer, its revocation data.
	sd, err := Parse(der)
	if err != nil {
		t.Fatal(err)
	}
	if sd.Content != nil || len(sd.OCSPs) != 1 || len(sd.CRLs) != 1 {
		t.Fatalf("content %v, %d OCSP, %d CRL", sd.Content != nil, len(sd.OCSPs), len(sd.CRLs))
	}
	if err := sd.Signers[0].Verify(p.leaf, sum[:]); err != nil {
		t.Fatal(err)
	}
	if st, ok := sd.Signers[0].SigningTime(); !ok || time.Since(st) > time.Minute {
		t.Fatalf("signing time %v %v", st, ok)
	}
	max, err := b.MaxDetachedSize(nil)
	if err != nil || max < len(der)-len(p.validation(t).CRLs[0])-len(p.validation(t).OCSPs[0])-20 {
		t.Fatalf("MaxDetachedSize %d for %d", max, len(der))
	}
}

// readAll reads a SignedData through Reader: its content, hashed as it
// streams, and the rest.
func readAll(t *testing.T, b []byte) ([]byte, *SignedData, *Reader) {
	t.Helper()
	r, err := NewReader(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	var content bytes.Buffer
	if _, err := io.Copy(&content, r); err != nil {
		t.Fatal(err)
	}
	sd, err := r.SignedData()
	if err != nil {
		t.Fatal(err)
	}
	return content.Bytes(), sd, r
}

// The reader streams the content of SignedData as openssl writes them
// (DER with a definite OCTET STRING; BER with -stream) and as we do, and
// what follows verifies.
func TestReader(t *testing.T) {
	p := newPKI(t, false)
	content := randomBytes(200_000)
	sum := sha256.Sum256(content)
	os.WriteFile(p.file("leaf.pem"), pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: p.leaf.Raw}), 0o644)
	pk, _ := x509.MarshalPKCS8PrivateKey(p.key)
	os.WriteFile(p.file("key.pem"), pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: pk}), 0o600)
	os.WriteFile(p.file("content"), content, 0o644)
	ossl := func(extra ...string) []byte {
		out := p.file("ossl.der")
		openssl(t, append([]string{"cms", "-sign", "-binary", "-in", p.file("content"), "-signer", p.file("leaf.pem"), "-inkey", p.file("key.pem"),
			"-outform", "DER", "-out", out, "-md", "sha256"}, extra...)...)
		b, _ := os.ReadFile(out)
		return b
	}
	cases := map[string][]byte{
		"ours":           attached(t, p.builder(), content, p.validation(t)),
		"openssl DER":    ossl("-nodetach"),
		"openssl stream": ossl("-nodetach", "-stream", "-cades"),
	}
	for name, b := range cases {
		got, sd, r := readAll(t, b)
		if !r.Attached() || !bytes.Equal(got, content) || sd.Content != nil {
			t.Fatalf("%s: attached %v, content %d bytes equal %v", name, r.Attached(), len(got), bytes.Equal(got, content))
		}
		if hs := r.DigestAlgorithms(); len(hs) != 1 || hs[0] != SHA256 {
			t.Fatalf("%s: digest algorithms %v", name, hs)
		}
		if err := sd.Signers[0].Verify(p.leaf, sum[:]); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
	}
	// A detached one: no content, the same signer.
	s, _ := p.builder().Sign(sum[:])
	der, _ := p.builder().Detached(s, nil)
	got, sd, r := readAll(t, der)
	if r.Attached() || len(got) != 0 || sd.Signers[0].Verify(p.leaf, sum[:]) != nil {
		t.Fatalf("detached: attached %v, %d bytes", r.Attached(), len(got))
	}
}

// nested wraps an eContent encoding in the rest of a SignedData signed for
// content.
func nested(t *testing.T, p *pki, content, eContent []byte) []byte {
	t.Helper()
	b := p.builder()
	sum := sha256.Sum256(content)
	s, err := b.Sign(sum[:])
	if err != nil {
		t.Fatal(err)
	}
	_, fields, err := b.fields(s, nil)
	if err != nil {
		t.Fatal(err)
	}
	var out []byte
	out = append(out, 0x30, 0x80)
	out = append(out, mustMarshal(OIDSignedData)...)
	out = append(out, 0xa0, 0x80, 0x30, 0x80)
	out = append(out, mustMarshal(1)...)
	out = append(out, digestAlgorithms...)
	out = append(out, 0x30, 0x80)
	out = append(out, mustMarshal(OIDData)...)
	out = appendElement(out, []byte{0xa0}, eContent)
	out = append(out, 0, 0)
	out = append(out, fields...)
	return append(out, 0, 0, 0, 0, 0, 0)
}

func octets(s string) []byte { return appendElement(nil, []byte{0x04}, []byte(s)) }

// BER lets a constructed OCTET STRING hold constructed ones, of definite
// or indefinite length: the reader joins them all, as openssl does.
func TestReaderNestedSegments(t *testing.T) {
	p := newPKI(t, false)
	inner := appendElement(nil, []byte{0x24}, append(octets("cd"), octets("")...))
	indef := append(append([]byte{0x24, 0x80}, octets("gh")...), 0, 0)
	eContent := append([]byte{0x24, 0x80}, octets("ab")...)
	eContent = append(eContent, inner...)
	eContent = append(eContent, octets("ef")...)
	eContent = append(eContent, appendElement(nil, []byte{0x24}, indef)...)
	eContent = append(eContent, 0, 0)
	b := nested(t, p, []byte("abcdefgh"), eContent)
	got, sd, _ := readAll(t, b)
	sum := sha256.Sum256([]byte("abcdefgh"))
	if string(got) != "abcdefgh" || sd.Signers[0].Verify(p.leaf, sum[:]) != nil {
		t.Fatalf("read %q", got)
	}
	in := p.file("nested.p7m")
	os.WriteFile(in, b, 0o644)
	openssl(t, "cms", "-verify", "-inform", "DER", "-in", in, "-CAfile", p.file("root.pem"), "-purpose", "any", "-out", p.file("out"))
	if o, _ := os.ReadFile(p.file("out")); string(o) != "abcdefgh" {
		t.Fatalf("openssl read %q", o)
	}
}

// Malformed and cut SignedData are refused with ErrEncoding, never a
// panic, a hang or a content taken for whole.
func TestReaderMalformed(t *testing.T) {
	p := newPKI(t, false)
	good := attached(t, p.builder(), randomBytes(3000), nil)
	read := func(b []byte) error {
		r, err := NewReader(bytes.NewReader(b))
		if err != nil {
			return err
		}
		if _, err := io.Copy(io.Discard, r); err != nil {
			return err
		}
		_, err = r.SignedData()
		return err
	}
	for n := 0; n < len(good)-6; n++ { // the last six bytes close what is already complete
		if err := read(good[:n]); err == nil {
			t.Fatalf("cut at %d of %d: no error", n, len(good))
		}
	}
	for name, eContent := range map[string][]byte{
		"two contents":            append(octets("ab"), octets("cd")...),
		"not octets":              appendElement(nil, []byte{0x0c}, []byte("ab")),
		"segment of a UTF8String": append(append([]byte{0x24, 0x80}, appendElement(nil, []byte{0x0c}, []byte("ab"))...), 0, 0),
		"child too long":          {0x24, 0x04, 0x04, 0x05, 'a', 'b'},
	} {
		if err := read(nested(t, p, []byte("abcd"), eContent)); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
	if err := read([]byte{0x30, 0x03, 0x06, 0x01, 0x00}); err == nil {
		t.Error("a ContentInfo of another type: no error")
	}
}

func FuzzReader(f *testing.F) {
	f.Add([]byte{0x30, 0x80, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x02, 0xa0, 0x80, 0x30, 0x80, 0x02, 0x01, 0x01, 0x31, 0x00, 0x30, 0x80})
	// Real ones, attached (BER, segments) and detached (DER).
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "Fuzz"}, NotBefore: time.Now(), NotAfter: time.Now().Add(time.Hour)}
	der, _ := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	cert, _ := x509.ParseCertificate(der)
	b := &Builder{Key: key, Chain: []*x509.Certificate{cert}, SigningTime: time.Now()}
	var p7m bytes.Buffer
	w, _ := b.NewAttached(&p7m, nil)
	w.Write([]byte("fuzz me"))
	s, _ := b.Sign(w.Digest())
	w.Close(s)
	f.Add(p7m.Bytes())
	if p7s, err := b.Detached(s, nil); err == nil {
		f.Add(p7s)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := NewReader(bytes.NewReader(b))
		if err != nil {
			return
		}
		io.Copy(io.Discard, r)
		r.SignedData()
	})
}
