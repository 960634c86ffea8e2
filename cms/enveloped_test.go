package cms

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"io"
	"math/big"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// recipientKey is a certificate for encryption and its key, in files
// openssl reads too.
type recipientKey struct {
	cert       *x509.Certificate
	key        crypto.Signer
	certFile   string
	keyFile    string
	agreeOrDec any // what Open takes: the key as a Decrypter or a KeyAgreer
}

func newRecipient(t *testing.T, kind string, usage x509.KeyUsage) *recipientKey {
	t.Helper()
	var key crypto.Signer
	switch kind {
	case "rsa":
		key, _ = rsa.GenerateKey(rand.Reader, 2048)
	case "p256":
		key, _ = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	case "p384":
		key, _ = ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: "Paul Durand " + kind},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), KeyUsage: usage,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageEmailProtection}, EmailAddresses: []string{"paul@client.example"}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	dir := t.TempDir()
	r := &recipientKey{cert: cert, key: key, certFile: filepath.Join(dir, "cert.pem"), keyFile: filepath.Join(dir, "key.pem")}
	pk8, _ := x509.MarshalPKCS8PrivateKey(key)
	os.WriteFile(r.certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644)
	os.WriteFile(r.keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: pk8}), 0o600)
	r.agreeOrDec = key
	if ec, ok := key.(*ecdsa.PrivateKey); ok {
		r.agreeOrDec, _ = ec.ECDH()
	}
	return r
}

func encryptTo(t *testing.T, content []byte, to ...*x509.Certificate) []byte {
	t.Helper()
	var out bytes.Buffer
	w, err := Encrypt(&out, to...)
	if err != nil {
		t.Fatal(err)
	}
	// In uneven pieces, across segments.
	for rest := content; len(rest) > 0; {
		n := min(len(rest), 1+len(rest)/3+7777)
		if _, err := w.Write(rest[:n]); err != nil {
			t.Fatal(err)
		}
		rest = rest[n:]
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}

func decrypt(msg []byte, cert *x509.Certificate, key any) ([]byte, error) {
	e, err := ReadEnveloped(bytes.NewReader(msg))
	if err != nil {
		return nil, err
	}
	if err := e.Open(cert, key); err != nil {
		return nil, err
	}
	return io.ReadAll(e)
}

// What we encrypt, openssl decrypts; what openssl encrypts (AES-256-GCM,
// RSA-OAEP with SHA-256, ECDH with the X9.63 KDF over SHA-256), we do:
// RSA, P-256 and P-384 recipients, empty, small and multi-segment content.
func TestEncryptionAgainstOpenSSL(t *testing.T) {
	dir := t.TempDir()
	for _, kind := range []string{"rsa", "p256", "p384"} {
		usage := x509.KeyUsageKeyAgreement
		if kind == "rsa" {
			usage = x509.KeyUsageKeyEncipherment
		}
		r := newRecipient(t, kind, usage|x509.KeyUsageDigitalSignature)
		for _, size := range []int{0, 1, 100, 3*segmentSize + 5} {
			content := make([]byte, size)
			rand.Read(content)
			in, out := filepath.Join(dir, "msg.p7m"), filepath.Join(dir, "out.bin")
			os.WriteFile(in, encryptTo(t, content, r.cert), 0o644)
			openssl(t, "cms", "-decrypt", "-binary", "-inform", "DER", "-in", in, "-recip", r.certFile, "-inkey", r.keyFile, "-out", out)
			if got, _ := os.ReadFile(out); !bytes.Equal(got, content) {
				t.Fatalf("%s, %d bytes: openssl decrypted %d different bytes", kind, size, len(got))
			}

			plain, enc := filepath.Join(dir, "plain.bin"), filepath.Join(dir, "openssl.p7m")
			os.WriteFile(plain, content, 0o644)
			args := []string{"cms", "-encrypt", "-aes-256-gcm", "-binary", "-in", plain, "-outform", "DER", "-out", enc, "-recip", r.certFile}
			if kind == "rsa" {
				args = append(args, "-keyopt", "rsa_padding_mode:oaep", "-keyopt", "rsa_oaep_md:sha256")
			} else {
				args = append(args, "-keyopt", "ecdh_kdf_md:sha256")
			}
			openssl(t, args...)
			msg, _ := os.ReadFile(enc)
			got, err := decrypt(msg, r.cert, r.agreeOrDec)
			if err != nil || !bytes.Equal(got, content) {
				t.Fatalf("%s, %d bytes: openssl's message: %v", kind, size, err)
			}
		}
	}
}

// openssl's streaming (BER, indefinite lengths) output and its defaults
// for EC (the KDF over SHA-1) are read too.
func TestDecryptOpenSSLStreamed(t *testing.T) {
	dir := t.TempDir()
	r := newRecipient(t, "p256", 0)
	content := bytes.Repeat([]byte("deed "), 50000)
	plain, enc := filepath.Join(dir, "plain.bin"), filepath.Join(dir, "openssl.p7m")
	os.WriteFile(plain, content, 0o644)
	openssl(t, "cms", "-encrypt", "-stream", "-aes-128-gcm", "-binary", "-in", plain, "-outform", "DER", "-out", enc, "-recip", r.certFile)
	msg, _ := os.ReadFile(enc)
	got, err := decrypt(msg, r.cert, r.agreeOrDec)
	if err != nil || !bytes.Equal(got, content) {
		t.Fatalf("%v (%d bytes)", err, len(got))
	}
}

// Refusals: another recipient's key, a changed or cut message (the
// integrity check fails, and nothing is called complete), a message
// without integrity protection, a certificate that may not receive.
func TestDecryptRefusals(t *testing.T) {
	paul := newRecipient(t, "rsa", 0)
	anne := newRecipient(t, "rsa", 0)
	content := bytes.Repeat([]byte("confidential "), 20000)
	msg := encryptTo(t, content, paul.cert)

	if _, err := decrypt(msg, anne.cert, anne.key); !errors.Is(err, ErrNotRecipient) {
		t.Errorf("another certificate: %v", err)
	}
	if _, err := decrypt(msg, paul.cert, anne.key); !errors.Is(err, ErrDecrypt) {
		t.Errorf("another key for the right certificate: %v", err)
	}
	for _, at := range []int{len(msg) / 2, len(msg) - 20} {
		bad := bytes.Clone(msg)
		bad[at] ^= 0x40
		if _, err := decrypt(bad, paul.cert, paul.key); !errors.Is(err, ErrAuthentication) && !errors.Is(err, ErrEncoding) {
			t.Errorf("a byte changed at %d of %d: %v", at, len(msg), err)
		}
	}
	for _, n := range []int{len(msg) / 2, len(msg) - 12} {
		if _, err := decrypt(msg[:n], paul.cert, paul.key); err == nil {
			t.Errorf("cut at %d of %d: no error", n, len(msg))
		}
	}
	dir := t.TempDir()
	plain, cbc := filepath.Join(dir, "plain.bin"), filepath.Join(dir, "cbc.p7m")
	os.WriteFile(plain, content, 0o644)
	openssl(t, "cms", "-encrypt", "-aes-256-cbc", "-binary", "-in", plain, "-outform", "DER", "-out", cbc, "-recip", paul.certFile)
	old, _ := os.ReadFile(cbc)
	if _, err := ReadEnveloped(bytes.NewReader(old)); !errors.Is(err, ErrUnsupportedAlgorithm) {
		t.Errorf("EnvelopedData with AES-CBC: %v", err)
	}
	if _, err := ReadEnveloped(bytes.NewReader([]byte("%PDF-1.7\n"))); !errors.Is(err, ErrNotEnveloped) {
		t.Errorf("a PDF: %v", err)
	}

	signing := newRecipient(t, "p256", x509.KeyUsageDigitalSignature|x509.KeyUsageContentCommitment)
	var re *RecipientError
	if _, err := Encrypt(io.Discard, signing.cert); !errors.As(err, &re) || re.Reason != "usage" {
		t.Errorf("a signing-only certificate: %v", err)
	}
	rsaSigning := newRecipient(t, "rsa", x509.KeyUsageDigitalSignature)
	if _, err := Encrypt(io.Discard, rsaSigning.cert); !errors.As(err, &re) || re.Reason != "usage" {
		t.Errorf("an RSA signing-only certificate: %v", err)
	}
}

// One message for two recipients: each opens it with their own key.
func TestEncryptToSeveral(t *testing.T) {
	paul, anne := newRecipient(t, "rsa", 0), newRecipient(t, "p256", 0)
	content := []byte("for both")
	msg := encryptTo(t, content, paul.cert, anne.cert)
	for _, r := range []*recipientKey{paul, anne} {
		if got, err := decrypt(msg, r.cert, r.agreeOrDec); err != nil || !bytes.Equal(got, content) {
			t.Errorf("%s: %v", r.cert.Subject.CommonName, err)
		}
	}
}

// The tag's length is the unauthenticated aes-ICVlen (RFC 5084: 12 to 16
// bytes): a message whose parameters say 12 and whose tag is its first 12
// bytes opens (openssl reads it too); a tag shorter than the parameters
// say, or parameters below 12, never do; a changed ciphertext byte gives
// ErrAuthentication, never io.EOF, whatever the tag's length.
func TestDecryptTagLength(t *testing.T) {
	paul := newRecipient(t, "rsa", 0)
	content := bytes.Repeat([]byte("tag "), 5000)
	msg := encryptTo(t, content, paul.cert)
	params := []byte{0x02, 0x01, 0x10} // aes-ICVlen 16, after the nonce
	if bytes.Count(msg, params) < 1 {
		t.Fatal("no aes-ICVlen in the message")
	}
	end := len(msg) - 3*2 // the mac, then AuthEnvelopedData's, [0]'s and ContentInfo's ends
	mac := msg[end-18 : end]
	if mac[0] != 0x04 || mac[1] != 16 {
		t.Fatalf("no 16-byte mac before the end: % x", mac)
	}
	withTag := func(icv byte, tagLen int) []byte {
		at := bytes.Index(msg, params)
		out := append(bytes.Clone(msg[:at]), 0x02, 0x01, icv)
		out = append(out, msg[at+3:end-18]...)
		out = append(out, 0x04, byte(tagLen))
		out = append(out, mac[2:2+tagLen]...)
		return append(out, msg[end:]...)
	}
	short := withTag(12, 12)
	if got, err := decrypt(short, paul.cert, paul.key); err != nil || !bytes.Equal(got, content) {
		t.Errorf("a 12-byte tag the parameters announce: %v", err)
	}
	in := filepath.Join(t.TempDir(), "short.p7m")
	os.WriteFile(in, short, 0o644)
	openssl(t, "cms", "-decrypt", "-binary", "-inform", "DER", "-in", in, "-recip", paul.certFile, "-inkey", paul.keyFile, "-out", in+".out")

	if _, err := decrypt(withTag(16, 12), paul.cert, paul.key); !errors.Is(err, ErrAuthentication) {
		t.Errorf("a tag shorter than announced: %v", err)
	}
	for _, icv := range []byte{0, 4, 8, 11, 17} {
		if _, err := decrypt(withTag(icv, min(int(icv), 16)), paul.cert, paul.key); !errors.Is(err, ErrUnsupportedEncryption) {
			t.Errorf("aes-ICVlen %d: %v", icv, err)
		}
	}
	bad := bytes.Clone(short)
	bad[len(bad)/2] ^= 1
	if _, err := decrypt(bad, paul.cert, paul.key); !errors.Is(err, ErrAuthentication) {
		t.Errorf("a changed byte under a 12-byte tag: %v", err)
	}
}

// FuzzEnveloped: whatever the bytes, the reader does not panic, and the
// only content it ever completes (io.EOF) is what was encrypted: what a
// changed message can still vary is its unauthenticated framing
// (segments, lengths, unauthenticated attributes), never a byte of the
// content.
func FuzzEnveloped(f *testing.F) {
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "Fuzz"},
		NotBefore: time.Now(), NotAfter: time.Now().Add(time.Hour), KeyUsage: x509.KeyUsageKeyAgreement}
	der, _ := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	cert, _ := x509.ParseCertificate(der)
	agree, _ := key.ECDH()
	content := []byte("the deed, signed")
	for _, c := range [][]byte{nil, content} {
		var out bytes.Buffer
		w, _ := Encrypt(&out, cert)
		w.Write(c)
		w.Close()
		f.Add(out.Bytes())
	}
	f.Fuzz(func(t *testing.T, msg []byte) {
		got, err := decrypt(msg, cert, agree)
		if err == nil && len(got) != 0 && !bytes.Equal(got, content) {
			t.Fatalf("a changed message opened to %q", got)
		}
	})
}
