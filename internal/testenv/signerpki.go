package testenv

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/pem"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"testing"
	"time"

	"software.sslmate.com/src/go-pkcs12"
)

// KeyType is the kind of key a producer's signer holds.
type KeyType string

// Signer key types.
const (
	RSA2048 KeyType = "RSA-2048"
	RSA3072 KeyType = "RSA-3072"
	P256    KeyType = "P-256"
	P384    KeyType = "P-384"
	P521    KeyType = "P-521"
	Ed25519 KeyType = "Ed25519"
)

// P12Password protects the PKCS#12 files SignerPKI writes.
const P12Password = "paraphe-test"

// SignerPKI is a root, an issuing CA and a signer, as another producer's
// user would hold them, with the files the producers read in Dir:
// root.pem, issuing.pem, chain.pem (issuing CA then root), leaf.pem,
// key.pem (PKCS#8) and signer.p12 (key, leaf, issuing CA and root, under P12Password).
type SignerPKI struct {
	Root, Issuing, Leaf *x509.Certificate
	Key                 crypto.Signer
	Dir                 string
}

// NewSignerPKI makes a three-level PKI whose signer has a key of type kt.
// The CAs have RSA-2048 keys under an RSA signer (node-forge, behind
// node-signpdf, reads no other certificate in a PKCS#12) and P-256 keys
// otherwise. The CAs' names carry the test's name and a random tag, so that
// two PKIs never share a CA name, nor an issuer and serial number, in one
// NSS database.
func NewSignerPKI(t testing.TB, kt KeyType) *SignerPKI {
	t.Helper()
	key, err := newKey(kt)
	if err != nil {
		t.Fatal(err)
	}
	caType := P256
	if _, ok := key.(*rsa.PrivateKey); ok {
		caType = RSA2048
	}
	rk, err := newKey(caType)
	if err != nil {
		t.Fatal(err)
	}
	ik, err := newKey(caType)
	if err != nil {
		t.Fatal(err)
	}
	var tag [4]byte
	rand.Read(tag[:])
	suffix := fmt.Sprintf(" %s %x", t.Name(), tag)
	now := time.Now()
	mk := func(tmpl, parent *x509.Certificate, pub any, priv crypto.Signer) *x509.Certificate {
		serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 62))
		if err != nil {
			t.Fatal(err)
		}
		tmpl.SerialNumber = serial
		tmpl.NotBefore = now.Add(-time.Hour)
		tmpl.NotAfter = now.AddDate(1, 0, 0)
		if parent == nil {
			parent = tmpl
		}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, pub, priv)
		if err != nil {
			t.Fatalf("certificate %s: %v", tmpl.Subject.CommonName, err)
		}
		c, err := x509.ParseCertificate(der)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	ski, err := subjectKeyID(key.Public())
	if err != nil {
		t.Fatal(err)
	}
	p := &SignerPKI{Key: key, Dir: t.TempDir()}
	p.Root = mk(&x509.Certificate{
		Subject: pkix.Name{CommonName: "Producers Root" + suffix, Organization: []string{"Paraphe tests"}},
		IsCA:    true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
	}, nil, rk.Public(), rk)
	p.Issuing = mk(&x509.Certificate{
		Subject: pkix.Name{CommonName: "Producers Issuing CA" + suffix, Organization: []string{"Paraphe tests"}},
		IsCA:    true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
	}, p.Root, ik.Public(), rk)
	p.Leaf = mk(&x509.Certificate{
		Subject:      pkix.Name{CommonName: "Lucia Bianchi", Organization: []string{"Studio notarile Bianchi"}, Country: []string{"IT"}},
		SubjectKeyId: ski,
		KeyUsage:     x509.KeyUsageDigitalSignature | x509.KeyUsageContentCommitment,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageEmailProtection},
	}, p.Issuing, key.Public(), ik)
	if err := p.writeFiles(); err != nil {
		t.Fatal(err)
	}
	return p
}

func newKey(kt KeyType) (crypto.Signer, error) {
	switch kt {
	case RSA2048:
		return rsa.GenerateKey(rand.Reader, 2048)
	case RSA3072:
		return rsa.GenerateKey(rand.Reader, 3072)
	case P256:
		return ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	case P384:
		return ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	case P521:
		return ecdsa.GenerateKey(elliptic.P521(), rand.Reader)
	case Ed25519:
		_, k, err := ed25519.GenerateKey(rand.Reader)
		return k, err
	}
	return nil, fmt.Errorf("testenv: unknown key type %q", kt)
}

// subjectKeyID is the SHA-1 of the subjectPublicKey bits (RFC 5280,
// 4.2.1.2, method 1).
func subjectKeyID(pub crypto.PublicKey) ([]byte, error) {
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return nil, err
	}
	var spki struct {
		Algorithm pkix.AlgorithmIdentifier
		Key       asn1.BitString
	}
	if _, err := asn1.Unmarshal(der, &spki); err != nil {
		return nil, err
	}
	sum := sha1.Sum(spki.Key.Bytes)
	return sum[:], nil
}

// Chain is the leaf, the issuing CA and the root.
func (p *SignerPKI) Chain() []*x509.Certificate {
	return []*x509.Certificate{p.Leaf, p.Issuing, p.Root}
}

// File is the path of one of the PKI's files in Dir.
func (p *SignerPKI) File(name string) string { return filepath.Join(p.Dir, name) }

// pemCerts encodes DER certificates as PEM.
func pemCerts(ders ...[]byte) []byte {
	var b []byte
	for _, der := range ders {
		b = append(b, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})...)
	}
	return b
}

func (p *SignerPKI) writeFiles() error {
	pkcs8, err := x509.MarshalPKCS8PrivateKey(p.Key)
	if err != nil {
		return err
	}
	// Modern: PBES2 with AES-256-CBC and PBKDF2-HMAC-SHA-256, a SHA-256
	// MAC; NSS 3.87 and node-forge 1.3 both read it.
	p12, err := pkcs12.Modern.Encode(p.Key, p.Leaf, []*x509.Certificate{p.Issuing, p.Root}, P12Password)
	if err != nil {
		return err
	}
	for name, data := range map[string][]byte{
		"root.pem":    pemCerts(p.Root.Raw),
		"issuing.pem": pemCerts(p.Issuing.Raw),
		"chain.pem":   pemCerts(p.Issuing.Raw, p.Root.Raw),
		"leaf.pem":    pemCerts(p.Leaf.Raw),
		"key.pem":     pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: pkcs8}),
		"signer.p12":  p12,
	} {
		if err := os.WriteFile(p.File(name), data, 0o600); err != nil {
			return err
		}
	}
	return nil
}
