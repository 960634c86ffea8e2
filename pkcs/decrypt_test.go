//go:build cgo

package pkcs

import (
	"bytes"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"io"
	"math/big"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/paraphe/paraphe/cms"
	"github.com/paraphe/paraphe/internal/testenv"
)

// certFor is a self-signed certificate for key with the key usage given.
func certFor(t *testing.T, key crypto.Signer, usage x509.KeyUsage) []*x509.Certificate {
	t.Helper()
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: "Paul Durand"},
		EmailAddresses: []string{"paul@client.example"}, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour), KeyUsage: usage}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		t.Fatal(err)
	}
	c, _ := x509.ParseCertificate(der)
	return []*x509.Certificate{c}
}

// opensslEncrypt has openssl encrypt content to cert (AES-256-GCM, RSA-OAEP
// with SHA-256 or ECDH with SHA-256): an independent sender.
func opensslEncrypt(t *testing.T, cert *x509.Certificate, rsaKey bool, content []byte) []byte {
	t.Helper()
	testenv.Require(t, "openssl")
	dir := t.TempDir()
	certFile, in, out := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "in"), filepath.Join(dir, "out")
	os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.Raw}), 0o644)
	os.WriteFile(in, content, 0o644)
	args := []string{"cms", "-encrypt", "-aes-256-gcm", "-binary", "-in", in, "-outform", "DER", "-out", out, "-recip", certFile}
	if rsaKey {
		args = append(args, "-keyopt", "rsa_padding_mode:oaep", "-keyopt", "rsa_oaep_md:sha256")
	} else {
		args = append(args, "-keyopt", "ecdh_kdf_md:sha256")
	}
	if b, err := exec.Command("openssl", args...).CombinedOutput(); err != nil {
		t.Fatalf("openssl: %v\n%s", err, b)
	}
	msg, _ := os.ReadFile(out)
	return msg
}

func decryptWith(msg []byte, cert *x509.Certificate, key *Key) ([]byte, error) {
	e, err := cms.ReadEnveloped(bytes.NewReader(msg))
	if err != nil {
		return nil, err
	}
	if err := e.Open(cert, key); err != nil {
		return nil, err
	}
	return io.ReadAll(e)
}

// Keys imported with an encryption certificate decrypt what openssl
// encrypted to it, in the keychain and on the token (RSA-OAEP on the
// token itself, ECDH derived there); keys of signing certificates, and
// keys the token generated for signing, refuse.
func TestDecryptInBothStores(t *testing.T) {
	testenv.NeedSecretService(t)
	ts, tok := newToken(t)
	stores := []struct {
		s   Importer
		pin string
	}{{NewKeychainStore(t.TempDir(), 5), "Corr3ct-Horse"}, {ts, tok.PIN}}
	content := bytes.Repeat([]byte("acte de vente "), 5000)
	for _, st := range stores {
		for _, kt := range []string{ECDSAP256, RSA3072} {
			usage := x509.KeyUsageKeyAgreement
			if kt == RSA3072 {
				usage = x509.KeyUsageKeyEncipherment
			}
			soft, _ := generateSoftware(kt)
			chain := certFor(t, soft, usage|x509.KeyUsageDigitalSignature)
			if _, err := st.s.Import(soft, chain, []byte(st.pin)); err != nil {
				t.Fatal(err)
			}
			key, err := st.s.(Store).Open(mustID(t, soft), []byte(st.pin))
			if err != nil {
				t.Fatal(err)
			}
			got, err := decryptWith(opensslEncrypt(t, chain[0], kt == RSA3072, content), chain[0], key)
			if err != nil || !bytes.Equal(got, content) {
				t.Fatalf("%s %s: %v", st.s.(Store).Name(), kt, err)
			}

			signing, _ := generateSoftware(kt)
			schain := certFor(t, signing, x509.KeyUsageDigitalSignature|x509.KeyUsageContentCommitment)
			skey, err := st.s.Import(signing, schain, []byte(st.pin))
			if err != nil {
				t.Fatal(err)
			}
			// The certificate cannot receive: encrypt to the same key
			// under an encryption certificate, as an attacker would.
			forged := certFor(t, signing, usage)
			if _, err := decryptWith(opensslEncrypt(t, forged[0], kt == RSA3072, content), forged[0], skey); !errors.Is(err, ErrNotForDecryption) {
				t.Errorf("%s %s: the key of a signing certificate: %v", st.s.(Store).Name(), kt, err)
			}
		}
	}
	// A key the token made for signing refuses, whatever certificate is
	// put beside it.
	for _, kt := range []string{ECDSAP256, RSA3072} {
		key, err := ts.Generate(kt, []byte(tok.PIN))
		if err != nil {
			t.Fatal(err)
		}
		usage := x509.KeyUsageKeyAgreement
		if kt == RSA3072 {
			usage = x509.KeyUsageKeyEncipherment
		}
		chain := certFor(t, key, usage)
		ts.SetChain(key.ID, chain)
		key, _ = ts.Open(key.ID, []byte(tok.PIN))
		if _, err := decryptWith(opensslEncrypt(t, chain[0], kt == RSA3072, content), chain[0], key); !errors.Is(err, ErrNotForDecryption) {
			t.Errorf("a token's signing key %s: %v", kt, err)
		}
	}
}

func mustID(t *testing.T, key crypto.Signer) string {
	t.Helper()
	id, err := KeyID(key.Public())
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// The OAEP decoding done here for tokens that lack the hash: against the
// standard library's, over raw RSA done with big integers as a token
// does; a changed ciphertext never decodes.
func TestDecodeOAEP(t *testing.T) {
	key, _ := generateSoftware(RSA3072)
	priv := key.(*rsa.PrivateKey)
	raw := func(c []byte) []byte {
		return new(big.Int).Exp(new(big.Int).SetBytes(c), priv.D, priv.N).Bytes()
	}
	for _, h := range []crypto.Hash{crypto.SHA1, crypto.SHA256, crypto.SHA384} {
		for _, n := range []int{0, 1, 32, 100} {
			msg := make([]byte, n)
			rand.Read(msg)
			c, err := rsa.EncryptOAEP(h.New(), rand.Reader, &priv.PublicKey, msg, nil)
			if err != nil {
				t.Fatal(err)
			}
			got, err := decodeOAEP(h, h, &priv.PublicKey, raw(c))
			if err != nil || !bytes.Equal(got, msg) {
				t.Fatalf("%v, %d bytes: %v", h, n, err)
			}
			c[len(c)/2] ^= 1
			if _, err := decodeOAEP(h, h, &priv.PublicKey, raw(c)); err == nil {
				t.Fatalf("%v: a changed ciphertext decoded", h)
			}
		}
	}
}

// A token that does OAEP with SHA-1 itself decrypts such messages on the
// token (CKM_RSA_PKCS_OAEP), as openssl writes them.
func TestTokenOAEPSHA1(t *testing.T) {
	ts, tok := newToken(t)
	soft, _ := generateSoftware(RSA3072)
	chain := certFor(t, soft, x509.KeyUsageKeyEncipherment)
	key, err := ts.Import(soft, chain, []byte(tok.PIN))
	if err != nil {
		t.Fatal(err)
	}
	testenv.Require(t, "openssl")
	dir := t.TempDir()
	certFile, in, out := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "in"), filepath.Join(dir, "out")
	os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: chain[0].Raw}), 0o644)
	os.WriteFile(in, []byte("SHA-1 OAEP"), 0o644)
	if b, err := exec.Command("openssl", "cms", "-encrypt", "-aes-128-gcm", "-binary", "-in", in, "-outform", "DER", "-out", out,
		"-recip", certFile, "-keyopt", "rsa_padding_mode:oaep").CombinedOutput(); err != nil {
		t.Fatalf("openssl: %v\n%s", err, b)
	}
	msg, _ := os.ReadFile(out)
	if got, err := decryptWith(msg, chain[0], key); err != nil || string(got) != "SHA-1 OAEP" {
		t.Fatalf("%q, %v", got, err)
	}
}
