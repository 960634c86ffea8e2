package testenv

import (
	"bytes"
	"crypto/sha1"
	"encoding/asn1"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// Signatures made by the openssl command line, for the CMS variants and the
// legacy subfilters that no maintained producer here writes. The PDF side
// is SignOnePage's incremental update; the signature values all come from
// openssl.

// CMSSpec says how openssl cms -sign makes a SignedData.
type CMSSpec struct {
	Digest string // -md: sha1, sha224, sha256, sha3-256…; sha256 when empty
	KeyID  bool   // -keyid: the signer named by subjectKeyIdentifier
	NoAttr bool   // -noattr: no signed attributes
	// Stream is -stream: BER with indefinite lengths. OpenSSL 3.0 then
	// encapsulates the content even for a detached signature; unless
	// Encapsulate, OpenSSLCMS removes that copy (DetachContent).
	Stream bool
	CAdES  bool // -cades: ESS signing-certificate (SHA-1) or -v2 (other digests)
	// KeyOpts are -keyopt values: rsa_padding_mode:pss, rsa_pss_saltlen:N,
	// rsa_mgf1_md:sha512.
	KeyOpts []string
	// Encapsulate puts the content inside the SignedData (-nodetach), as
	// adbe.pkcs7.sha1 wants.
	Encapsulate bool
}

// OpenSSLCMS signs content with openssl cms -sign as s says and returns the
// SignedData (DER, or BER with -stream), with the issuing CA among its
// certificates.
func OpenSSLCMS(t testing.TB, p *SignerPKI, content []byte, s CMSSpec) ([]byte, error) {
	t.Helper()
	Require(t, "openssl")
	dir := t.TempDir()
	in, out := filepath.Join(dir, "content.bin"), filepath.Join(dir, "sig.der")
	if err := os.WriteFile(in, content, 0o600); err != nil {
		return nil, err
	}
	md := s.Digest
	if md == "" {
		md = "sha256"
	}
	// The issuing CA goes in, not the root: what most producers embed.
	args := []string{"cms", "-sign", "-binary", "-in", in, "-signer", p.File("leaf.pem"), "-inkey", p.File("key.pem"),
		"-certfile", p.File("issuing.pem"), "-outform", "DER", "-out", out, "-md", md}
	for _, f := range []struct {
		on   bool
		flag string
	}{{s.KeyID, "-keyid"}, {s.NoAttr, "-noattr"}, {s.Stream, "-stream"}, {s.CAdES, "-cades"}, {s.Encapsulate, "-nodetach"}} {
		if f.on {
			args = append(args, f.flag)
		}
	}
	for _, o := range s.KeyOpts {
		args = append(args, "-keyopt", o)
	}
	if _, err := run("openssl", args...); err != nil {
		return nil, err
	}
	der, err := os.ReadFile(out)
	if err != nil || !s.Stream || s.Encapsulate {
		return der, err
	}
	return DetachContent(der)
}

// SignWithOpenSSL signs OnePagePDF with subFilter and a SignedData from
// OpenSSLCMS: detached over the signed bytes for adbe.pkcs7.detached and
// ETSI.CAdES.detached; for adbe.pkcs7.sha1, the SHA-1 digest of the signed
// bytes encapsulated as the signed content (ISO 32000-1, 12.8.3.3.1).
func SignWithOpenSSL(t testing.TB, p *SignerPKI, subFilter string, s CMSSpec) ([]byte, error) {
	t.Helper()
	d := SigDict{SubFilter: subFilter, Reason: "openssl cms " + subFilter, Time: time.Now()}
	return SignOnePage(d, func(signed []byte) ([]byte, error) {
		if subFilter == "adbe.pkcs7.sha1" {
			sum := sha1.Sum(signed)
			signed = sum[:]
			s.Encapsulate = true
		}
		return OpenSSLCMS(t, p, signed, s)
	})
}

// SignX509RSASHA1 signs OnePagePDF with the subfilter adbe.x509.rsa_sha1:
// /Contents is a DER OCTET STRING holding the PKCS#1 v1.5 RSA signature
// (over a SHA-1 DigestInfo) of the signed bytes, made by openssl dgst, and
// /Cert holds the signer's certificate (a string) or, with chain, the
// signer's certificate then its issuer (an array of strings).
func SignX509RSASHA1(t testing.TB, p *SignerPKI, chain bool) ([]byte, error) {
	t.Helper()
	Require(t, "openssl")
	certs := [][]byte{p.Leaf.Raw}
	if chain {
		certs = append(certs, p.Issuing.Raw)
	}
	d := SigDict{SubFilter: "adbe.x509.rsa_sha1", Cert: certs, Reason: "openssl adbe.x509.rsa_sha1", Time: time.Now(), Size: 1024}
	return SignOnePage(d, func(signed []byte) ([]byte, error) {
		sig, err := opensslSign(t, p, "sha1", signed)
		if err != nil {
			return nil, err
		}
		return asn1.Marshal(sig)
	})
}

// opensslSign signs data with the signer's key: openssl dgst for RSA
// (PKCS#1 v1.5) and ECDSA, openssl pkeyutl -rawin for Ed25519 (pure
// EdDSA hashes nothing first).
func opensslSign(t testing.TB, p *SignerPKI, md string, data []byte) ([]byte, error) {
	dir := t.TempDir()
	in, out := filepath.Join(dir, "data.bin"), filepath.Join(dir, "sig.bin")
	if err := os.WriteFile(in, data, 0o600); err != nil {
		return nil, err
	}
	args := []string{"dgst", "-" + md, "-sign", p.File("key.pem"), "-out", out, in}
	if md == "" {
		args = []string{"pkeyutl", "-sign", "-rawin", "-inkey", p.File("key.pem"), "-in", in, "-out", out}
	}
	if _, err := run("openssl", args...); err != nil {
		return nil, err
	}
	return os.ReadFile(out)
}

// OpenSSLVerifyCMS has openssl cms -verify check a detached SignedData over
// content, with the chain to the PKI's root (any purpose). The zeros that
// pad a /Contents may follow the SignedData.
func OpenSSLVerifyCMS(t testing.TB, p *SignerPKI, cms, content []byte) error {
	t.Helper()
	Require(t, "openssl")
	sig, c, err := writeCMS(t, cms, content)
	if err != nil {
		return err
	}
	_, err = run("openssl", "cms", "-verify", "-inform", "DER", "-in", sig, "-content", c, "-binary",
		"-CAfile", p.File("root.pem"), "-certfile", p.File("chain.pem"), "-purpose", "any", "-out", os.DevNull)
	return err
}

// OpenSSLVerifyPKCS7SHA1 checks an adbe.pkcs7.sha1 signature: openssl cms
// -verify of the SignedData with its encapsulated content, which must be
// the SHA-1 digest of the signed bytes.
func OpenSSLVerifyPKCS7SHA1(t testing.TB, p *SignerPKI, cms, signed []byte) error {
	t.Helper()
	Require(t, "openssl")
	sig, _, err := writeCMS(t, cms, nil)
	if err != nil {
		return err
	}
	out := filepath.Join(filepath.Dir(sig), "content.bin")
	if _, err := run("openssl", "cms", "-verify", "-inform", "DER", "-in", sig, "-binary",
		"-CAfile", p.File("root.pem"), "-certfile", p.File("chain.pem"), "-purpose", "any", "-out", out); err != nil {
		return err
	}
	got, err := os.ReadFile(out)
	if err != nil {
		return err
	}
	if sum := sha1.Sum(signed); !bytes.Equal(got, sum[:]) {
		return fmt.Errorf("the encapsulated content %x is not the SHA-1 of the signed bytes %x", got, sum)
	}
	return nil
}

// OpenSSLVerifyX509RSASHA1 checks an adbe.x509.rsa_sha1 signature:
// openssl verify chains the /Cert certificate to the root, and openssl
// dgst -verify checks the RSA signature in the /Contents OCTET STRING over
// the signed bytes with that certificate's key.
func OpenSSLVerifyX509RSASHA1(t testing.TB, p *SignerPKI, contents, signed []byte, cert []byte) error {
	t.Helper()
	Require(t, "openssl")
	var sig []byte
	if _, err := asn1.Unmarshal(contents, &sig); err != nil {
		return fmt.Errorf("/Contents is not a DER OCTET STRING: %w", err)
	}
	dir := t.TempDir()
	files := map[string][]byte{"sig.bin": sig, "signed.bin": signed, "cert.pem": pemCerts(cert)}
	for name, data := range files {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o600); err != nil {
			return err
		}
	}
	if _, err := run("openssl", "verify", "-CAfile", p.File("root.pem"), "-untrusted", p.File("chain.pem"), "-purpose", "any",
		filepath.Join(dir, "cert.pem")); err != nil {
		return err
	}
	pub := filepath.Join(dir, "pub.pem")
	if _, err := run("openssl", "x509", "-in", filepath.Join(dir, "cert.pem"), "-pubkey", "-noout", "-out", pub); err != nil {
		return err
	}
	_, err := run("openssl", "dgst", "-sha1", "-verify", pub, "-signature", filepath.Join(dir, "sig.bin"), filepath.Join(dir, "signed.bin"))
	return err
}

// writeCMS writes cms, trimmed to its BER length, as sig.der in a new
// folder, and content, when not nil, as content.bin beside it.
func writeCMS(t testing.TB, cms, content []byte) (sig, contentFile string, err error) {
	n, err := CMSLength(cms)
	if err != nil {
		return "", "", err
	}
	dir := t.TempDir()
	sig = filepath.Join(dir, "sig.der")
	if err := os.WriteFile(sig, cms[:n], 0o600); err != nil {
		return "", "", err
	}
	if content == nil {
		return sig, "", nil
	}
	contentFile = filepath.Join(dir, "content.bin")
	return sig, contentFile, os.WriteFile(contentFile, content, 0o600)
}

// run runs a command and returns what it wrote (standard output and error
// together); its error carries that too.
func run(name string, args ...string) ([]byte, error) {
	out, err := exec.Command(name, args...).CombinedOutput()
	if err != nil {
		msg := bytes.TrimSpace(out)
		if len(msg) > 2000 {
			msg = msg[:2000]
		}
		return out, fmt.Errorf("%s %s: %w\n%s", name, args[0], err, msg)
	}
	return out, nil
}
