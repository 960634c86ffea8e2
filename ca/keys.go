package ca

import (
	"crypto"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/paraphe/paraphe/internal/atomicfile"
	"github.com/paraphe/paraphe/pkcs"
)

// The CA's own signing keys — the issuing CA's, the time-stamping unit's
// and the OCSP responder's — live in files of the CA folder
// (KeyStoreFile) or on a PKCS#11 token (KeyStorePKCS11: a hardware
// security module in production, SoftHSM2 in tests), generated there as
// sensitive, never extractable keys, through pkcs.TokenStore. The
// server's TLS key stays a file (every handshake uses it), the root's in
// its own offline folder.
//
// A key on a token is found again by its certificate: its CKA_ID is
// pkcs.KeyID of the certificate's public key, and the certificate is
// stored beside it. A token's keys need its PIN: Open leaves them locked
// (they sign nothing and say ErrKeysLocked) until Unlock.

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
	// ErrKeysLocked: the CA's keys are on a token, not unlocked with its
	// PIN (Unlock).
	ErrKeysLocked = errors.New("ca: the CA's keys are on a token and need its PIN")
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

// tokenKeys keeps keys on a PKCS#11 token, logged in with its PIN.
type tokenKeys struct {
	s   *pkcs.TokenStore
	pin []byte
}

// openTokenKeys opens the token of p and checks pin, so that a wrong PIN
// is known before any other work.
func openTokenKeys(p *PKCS11, pin []byte) (*tokenKeys, error) {
	if p == nil || p.Module == "" {
		return nil, ErrKeyStore
	}
	s, err := pkcs.OpenToken(p.Module, p.Token)
	if err != nil {
		return nil, fmt.Errorf("ca: %w", err)
	}
	if err := s.Login(pin); err != nil {
		s.Close()
		return nil, fmt.Errorf("ca: token %q: %w", s.Info.Label, err)
	}
	return &tokenKeys{s: s, pin: append([]byte(nil), pin...)}, nil
}

func (k *tokenKeys) generate(keyType string) (crypto.Signer, error) {
	key, err := k.s.Generate(keyType, k.pin)
	if err != nil {
		return nil, fmt.Errorf("ca: token %q: %w", k.s.Info.Label, err)
	}
	return key, nil
}

func (k *tokenKeys) keep(_ string, key crypto.Signer, cert *x509.Certificate) error {
	id, err := pkcs.KeyID(key.Public())
	if err != nil {
		return err
	}
	if err := k.s.SetChain(id, []*x509.Certificate{cert}); err != nil {
		return fmt.Errorf("ca: token %q: %w", k.s.Info.Label, err)
	}
	return nil
}

func (k *tokenKeys) open(name string, cert *x509.Certificate) (crypto.Signer, error) {
	id, err := pkcs.KeyID(cert.PublicKey)
	if err != nil {
		return nil, err
	}
	key, err := k.s.Open(id, k.pin)
	if err != nil {
		return nil, fmt.Errorf("ca: the key of %s on token %q: %w", name, k.s.Info.Label, err)
	}
	return key, nil
}

func (k *tokenKeys) discard(key crypto.Signer) {
	if id, err := pkcs.KeyID(key.Public()); err == nil {
		k.s.Delete(id)
	}
}

func (k *tokenKeys) close() error {
	clear(k.pin)
	return k.s.Close()
}

// lockedKey stands for a key on a token before Unlock: it knows its
// public key (from the certificate) and signs nothing.
type lockedKey struct{ pub crypto.PublicKey }

func (k lockedKey) Public() crypto.PublicKey { return k.pub }

func (k lockedKey) Sign(io.Reader, []byte, crypto.SignerOpts) ([]byte, error) {
	return nil, ErrKeysLocked
}

// NeedsPIN reports whether the CA's keys are on a token, which Unlock
// opens with its PIN before the CA can sign.
func (a *Authority) NeedsPIN() bool { return a.Config.KeyStore == KeyStorePKCS11 }

// Unlock opens the CA's keys on its token with pin. A CA whose keys are
// files needs no PIN: Unlock does nothing.
func (a *Authority) Unlock(pin []byte) error {
	if !a.NeedsPIN() {
		return nil
	}
	k, err := openTokenKeys(a.Config.PKCS11, pin)
	if err != nil {
		return err
	}
	var ocspCert *x509.Certificate
	if r := a.responder.Load(); r != nil {
		ocspCert = r.cert
	}
	if err := a.openKeys(k, ocspCert); err != nil {
		k.close()
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

// lockedKeys is a token's key store before Unlock: its keys sign
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
		return openTokenKeys(o.PKCS11, o.PIN)
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
