package ca

import (
	"crypto"
	"crypto/sha1"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// The OCSP responder signs with a key of its own, certified by the
// issuing CA as its delegated responder (RFC 6960 §4.2.2.2): extended key
// usage id-kp-OCSPSigning, and id-pkix-ocsp-nocheck, so that validators
// do not ask for the responder's own revocation status. That certificate
// therefore cannot be revoked in any way a validator would see: it is
// short-lived, and the server certifies the same key again before it
// expires (Serve checks every hour). The issuing CA's key then signs
// certificates and CRLs only, not every OCSP answer.

// Files of the responder in the CA folder.
const (
	fileOCSPCert = "ocsp.pem"
	fileOCSPKey  = "ocsp.key" // a file key store's only
)

// How long a responder certificate lives, and how long before its end the
// server certifies the key again.
const (
	responderValidity = 30 * 24 * time.Hour
	responderRenewal  = 10 * 24 * time.Hour
)

var oidOCSPNoCheck = asn1.ObjectIdentifier{1, 3, 6, 1, 5, 5, 7, 48, 1, 5}

// responder is the delegated OCSP responder: its certificate and key, and
// its ResponderID byKey (RFC 6960 §4.2.1: the SHA-1 of its public key).
type responder struct {
	cert    *x509.Certificate
	key     crypto.Signer
	keyHash []byte
}

func newResponder(cert *x509.Certificate, key crypto.Signer) *responder {
	return &responder{cert: cert, key: key, keyHash: keyHash(crypto.SHA1, cert)}
}

// newResponderCert certifies pub as the issuing CA's OCSP responder from
// now for responderValidity, and no longer than the issuing CA.
func newResponderCert(cfg Config, issuer *x509.Certificate, issuerKey crypto.Signer, pub crypto.PublicKey, now time.Time) (*x509.Certificate, error) {
	notAfter := now.Add(responderValidity)
	if notAfter.After(issuer.NotAfter) {
		notAfter = issuer.NotAfter
	}
	nocheck, _ := asn1.Marshal(asn1.NullRawValue)
	spki, _ := x509.MarshalPKIXPublicKey(pub)
	ski := sha1.Sum(spki)
	return sign(&x509.Certificate{
		Subject:               pkix.Name{CommonName: cfg.Name + " OCSP Responder", Organization: []string{cfg.Name}},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              notAfter,
		KeyUsage:              x509.KeyUsageDigitalSignature,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageOCSPSigning},
		ExtraExtensions:       []pkix.Extension{{Id: oidOCSPNoCheck, Value: nocheck}},
		BasicConstraintsValid: true,
		SubjectKeyId:          ski[:],
		IssuingCertificateURL: []string{strings.TrimRight(cfg.ValidationURL, "/") + pathIssuingCer},
	}, issuer, pub, issuerKey)
}

// loadResponderCert reads the responder's certificate from the CA folder;
// nil for a folder made before the CA had one.
func loadResponderCert(dir string) (*x509.Certificate, error) {
	path := filepath.Join(dir, fileOCSPCert)
	if _, err := os.Stat(path); os.IsNotExist(err) {
		return nil, nil
	}
	return readCert(path)
}

// renewResponder certifies the responder's key again when its certificate
// has less than responderRenewal left, and gives a CA folder made before
// responders a key and certificate. It reports whether it did.
func (a *Authority) renewResponder(now time.Time) (bool, error) {
	a.responderMu.Lock()
	defer a.responderMu.Unlock()
	old := a.responder.Load()
	if old != nil && old.cert.NotAfter.Sub(now) > responderRenewal {
		return false, nil
	}
	var key crypto.Signer
	if old != nil {
		key = old.key
	} else {
		var err error
		if key, err = a.keys.generate(a.Config.KeyType); err != nil {
			return false, err
		}
	}
	cert, err := newResponderCert(a.Config, a.Issuer, a.issuerKey, key.Public(), now)
	if err != nil {
		if old == nil {
			a.keys.discard(key)
		}
		return false, fmt.Errorf("ca: OCSP responder: %w", err)
	}
	// The key first (unchanged but for a new folder's): a crash between
	// the two leaves the old certificate, of the same key.
	if err := a.keys.keep(fileOCSPKey, key, cert); err != nil {
		return false, err
	}
	if err := a.writeFile(fileOCSPCert, pemCert(cert), 0o644); err != nil {
		return false, err
	}
	a.responder.Store(newResponder(cert, key))
	a.ocspCache.clear() // the answers kept carry the old certificate
	return true, nil
}

// ResponderCert is the OCSP responder's current certificate, nil for a
// CA folder made before it had one (its issuing CA then signs the
// answers until Serve gives it one).
func (a *Authority) ResponderCert() *x509.Certificate {
	if r := a.responder.Load(); r != nil {
		return r.cert
	}
	return nil
}
