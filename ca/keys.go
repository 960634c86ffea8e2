package ca

import (
	"crypto"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/paraphe/paraphe/internal/atomicfile"
)

// The CA's own signing keys — the issuing CA's, the time-stamping unit's
// and the OCSP responder's — live in files of the CA folder
// (KeyStoreFile) or on a PKCS#11 token (KeyStorePKCS11: a hardware
// security module in production, SoftHSM2 in tests), generated there as
// sensitive, never extractable keys, through pkcs.TokenKeys. The
// server's TLS key stays a file (every handshake uses it), the root's in
// its own offline folder.
//
// A key on a token is found again by its certificate: its CKA_ID is
// derived from the certificate's public key, and the certificate is
// stored beside it. A token's keys need its PIN, which ca never sees: Open
// leaves them locked (they sign nothing and say ErrKeysLocked) until the
// binary, which reads the PIN, hands the token over logged in (UseToken).

// Key stores of Config.KeyStore.
const (
	KeyStoreFile   = "file"
	KeyStorePKCS11 = "pkcs11"
)

// PKCS11 names the token that holds a CA's keys (Config.PKCS11).
type PKCS11 struct {
	Module string `json:"module"`          // the PKCS#11 library
	Token  string `json:"token,omitempty"` // label or serial number; empty: the only token present
}

// Errors of the key stores.
var (
	// ErrKeysLocked: the CA's keys are on a token not handed over yet
	// (UseToken).
	ErrKeysLocked = errors.New("ca: the CA's keys are on a token, not opened (UseToken)")
	// ErrKeyStore: the configuration names no key store this CA knows,
	// or a token store without its module.
	ErrKeyStore = errors.New("ca: the key store must be file or pkcs11, with a PKCS#11 module for pkcs11")
)

// keyStore is where the CA makes its keys and finds them again.
type keyStore interface {
	// generate makes a new key of the type.
	generate(keyType string) (crypto.Signer, error)
	// keep records key once its certificate is issued: its file under
	// name, or the certificate beside it on the token.
	keep(name string, key crypto.Signer, cert *x509.Certificate) error
	// open returns the key kept under name for cert.
	open(name string, cert *x509.Certificate) (crypto.Signer, error)
	// discard removes a key generated and not kept (a failed Init).
	discard(key crypto.Signer)
	close() error
}

// fileKeys keeps keys as PKCS#8 files of the CA folder, the operator's
// only (0600).
type fileKeys struct{ dir string }

func (fileKeys) generate(keyType string) (crypto.Signer, error) { return newKey(keyType) }

func (k fileKeys) keep(name string, key crypto.Signer, _ *x509.Certificate) error {
	return writeFileIn(k.dir, name, pemKey(key), 0o600)
}

func (k fileKeys) open(name string, cert *x509.Certificate) (crypto.Signer, error) {
	key, err := readKey(filepath.Join(k.dir, name))
	if err != nil {
		return nil, err
	}
	if !publicKeysEqual(key.Public(), cert.PublicKey) {
		return nil, fmt.Errorf("ca: %s does not hold the key of its certificate", name)
	}
	return key, nil
}

func (fileKeys) discard(crypto.Signer) {}
func (fileKeys) close() error          { return nil }

// A Token is the PKCS#11 token that holds a CA's keys, logged in once:
// pkcs.TokenKeys (pkcs.OpenTokenKeys), which the binaries open and hand
// over (InitOptions.Token, UseToken) with the PIN they read; ca does not
// import pkcs, whose own tests start a CA (internal/testenv).
type Token interface {
	Label() string
	// NewKey generates a key of the type on the token, sensitive and
	// never extractable.
	NewKey(keyType string) (crypto.Signer, error)
	// Key returns the key whose public key is pub.
	Key(pub crypto.PublicKey) (crypto.Signer, error)
	// Keep stores cert beside its key.
	Keep(cert *x509.Certificate) error
	// Delete removes the key whose public key is pub.
	Delete(pub crypto.PublicKey) error
	Close() error
}

// tokenKeys keeps keys on a token.
type tokenKeys struct{ t Token }

func (k tokenKeys) generate(keyType string) (crypto.Signer, error) {
	key, err := k.t.NewKey(keyType)
	if err != nil {
		return nil, fmt.Errorf("ca: token %q: %w", k.t.Label(), err)
	}
	return key, nil
}

func (k tokenKeys) keep(_ string, _ crypto.Signer, cert *x509.Certificate) error {
	if err := k.t.Keep(cert); err != nil {
		return fmt.Errorf("ca: token %q: %w", k.t.Label(), err)
	}
	return nil
}

func (k tokenKeys) open(name string, cert *x509.Certificate) (crypto.Signer, error) {
	key, err := k.t.Key(cert.PublicKey)
	if err != nil {
		return nil, fmt.Errorf("ca: the key of %s on token %q: %w", strings.TrimSuffix(name, ".key"), k.t.Label(), err)
	}
	return key, nil
}

func (k tokenKeys) discard(key crypto.Signer) { k.t.Delete(key.Public()) }
func (k tokenKeys) close() error              { return k.t.Close() }

// lockedKey stands for a key on a token before UseToken: it knows its
// public key (from the certificate) and signs nothing.
type lockedKey struct{ pub crypto.PublicKey }

func (k lockedKey) Public() crypto.PublicKey { return k.pub }

func (k lockedKey) Sign(io.Reader, []byte, crypto.SignerOpts) ([]byte, error) {
	return nil, ErrKeysLocked
}

// NeedsToken reports whether the CA's keys are on a token, which
// UseToken hands over, logged in, before the CA can sign.
func (a *Authority) NeedsToken() bool { return a.Config.KeyStore == KeyStorePKCS11 }

// UseToken opens the CA's keys on t, the token Config.PKCS11 names,
// logged in; the Authority then closes it with its own Close (the caller
// does, when UseToken fails).
func (a *Authority) UseToken(t Token) error {
	if !a.NeedsToken() {
		return fmt.Errorf("%w: this CA keeps its keys in files", ErrKeyStore)
	}
	var ocspCert *x509.Certificate
	if r := a.responder.Load(); r != nil {
		ocspCert = r.cert
	}
	k := tokenKeys{t}
	if err := a.openKeys(k, ocspCert); err != nil {
		return err
	}
	a.keys.close()
	a.keys = k
	return nil
}

// openKeys opens the issuing CA's, the TSA's and, when ocspCert is not
// nil, the OCSP responder's keys in k.
func (a *Authority) openKeys(k keyStore, ocspCert *x509.Certificate) error {
	issuer, err := k.open(fileIssuerKey, a.Issuer)
	if err != nil {
		return err
	}
	tsa, err := k.open(fileTSAKey, a.tsaCert)
	if err != nil {
		return err
	}
	var r *responder
	if ocspCert != nil {
		key, err := k.open(fileOCSPKey, ocspCert)
		if err != nil {
			return err
		}
		r = newResponder(ocspCert, key)
	}
	a.issuerKey, a.tsaKey = issuer, tsa
	if r != nil {
		a.responder.Store(r)
	}
	return nil
}

// lockedKeys is a token's key store before UseToken: its keys sign
// nothing, and it makes none.
type lockedKeys struct{}

func (lockedKeys) generate(string) (crypto.Signer, error) { return nil, ErrKeysLocked }
func (lockedKeys) keep(string, crypto.Signer, *x509.Certificate) error {
	return ErrKeysLocked
}
func (lockedKeys) open(_ string, cert *x509.Certificate) (crypto.Signer, error) {
	return lockedKey{cert.PublicKey}, nil
}
func (lockedKeys) discard(crypto.Signer) {}
func (lockedKeys) close() error          { return nil }

// keyStoreFor is the key store Init makes keys in.
func keyStoreFor(dir string, o InitOptions) (keyStore, error) {
	switch o.KeyStore {
	case "", KeyStoreFile:
		return fileKeys{dir}, nil
	case KeyStorePKCS11:
		if o.Token == nil || o.PKCS11 == nil || o.PKCS11.Module == "" {
			return nil, fmt.Errorf("%w: no token", ErrKeyStore)
		}
		return tokenKeys{o.Token}, nil
	}
	return nil, fmt.Errorf("%w: %q", ErrKeyStore, o.KeyStore)
}

// writeFileIn replaces a file of dir, keeping it the folder owner's.
func writeFileIn(dir, name string, data []byte, perm os.FileMode) error {
	path := filepath.Join(dir, name)
	if err := atomicfile.Write(path, data, perm); err != nil {
		return fmt.Errorf("ca: %w", err)
	}
	if err := keepOwner(path); err != nil {
		return fmt.Errorf("ca: %w", err)
	}
	return nil
}
