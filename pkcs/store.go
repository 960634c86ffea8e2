package pkcs

import (
	"crypto"
	"crypto/ecdh"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"time"
)

// Key types a store can generate; the names are those of the CA protocol.
const (
	ECDSAP256 = "ecdsa-p256"
	RSA3072   = "rsa-3072"
)

// The stores' names, as Store.Name, Entry.Store and the errors' Store
// fields give them: the policy's names for them (config.Stores).
const (
	KeychainName = "keychain"
	TokenName    = "pkcs11"
	RemoteName   = "remote" // pkcs/remote: a key in the CA's HSM
)

// Errors a caller branches on.
var (
	ErrWrongPIN            = errors.New("pkcs: wrong PIN")
	ErrLocked              = errors.New("pkcs: key locked after too many wrong PINs")
	ErrNotFound            = errors.New("pkcs: no such key")
	ErrKeychainUnavailable = errors.New("pkcs: the operating system keychain is not available")
	// ErrKeyFileStale: a keychain key's file is a copy from before a PIN
	// change (restored from a backup); it opens with no PIN.
	ErrKeyFileStale = errors.New("pkcs: the key file is an older copy, sealed before a PIN change")
	// ErrNotForDecryption: the key does not decrypt: its certificate is
	// for signing only (a professional's signing key never decrypts), or
	// the token keeps it for signing (CKA_DECRYPT, CKA_DERIVE off).
	ErrNotForDecryption = errors.New("pkcs: this key is not for decryption")
)

// WrongPINError is returned for a wrong PIN; it wraps ErrWrongPIN, and
// ErrLocked as well when that was the last try.
type WrongPINError struct {
	Store     string // KeychainName or TokenName
	TriesLeft int    // -1 when the store does not know
	Low       bool   // the token says few tries are left, not how many
}

// LockedError is returned for a key (keychain) or token whose PIN is
// blocked; it wraps ErrLocked. A token's can be unlocked with its PUK, a
// keychain key's cannot.
type LockedError struct{ Store string }

func (e *LockedError) Error() string {
	if e.Store == TokenName {
		return "pkcs: the token's PIN is blocked (unlock it with the PUK)"
	}
	return "pkcs: the key is locked after too many wrong PINs"
}

func (e *LockedError) Is(target error) bool { return target == ErrLocked }

func (e *WrongPINError) Error() string {
	if e.TriesLeft == 0 {
		return "pkcs: wrong PIN; the key is now locked"
	}
	if e.Low {
		return "pkcs: wrong PIN (few tries left)"
	}
	if e.TriesLeft > 0 {
		return fmt.Sprintf("pkcs: wrong PIN (%d tries left)", e.TriesLeft)
	}
	return "pkcs: wrong PIN"
}

func (e *WrongPINError) Is(target error) bool {
	return target == ErrWrongPIN || (target == ErrLocked && e.TriesLeft == 0)
}

// A Store holds private keys behind a PIN and the certificate chains issued
// for them.
type Store interface {
	// Name is the store's name in the policy (KeychainName, TokenName).
	Name() string
	// Generate creates a key of the given type protected by pin. It has no
	// certificate until SetChain.
	Generate(keyType string, pin []byte) (*Key, error)
	// SetChain stores the certificate chain (leaf first) of key id.
	SetChain(id string, chain []*x509.Certificate) error
	// Open unlocks key id with pin.
	Open(id string, pin []byte) (*Key, error)
	// List returns every key of the store with its chain, without a PIN.
	List() ([]Entry, error)
	// Delete removes a key and its certificates.
	Delete(id string) error
	// Close releases what the store keeps open: a token's sessions (the
	// last store of the process on the token logs it out, and keys opened
	// from it sign no more); a keychain store keeps nothing open.
	Close() error
}

// PINChanger is implemented by stores whose keys' PIN can be changed.
type PINChanger interface {
	ChangePIN(id string, oldPIN, newPIN []byte) error
}

// Importer is implemented by stores that take in an existing key (from a
// PKCS#12 file) with its chain. The key is software on the way in; in the
// store it is as protected as a generated one, except that a token marks it
// as once extractable.
type Importer interface {
	Import(key crypto.Signer, chain []*x509.Certificate, pin []byte) (*Key, error)
}

// Entry describes a key without unlocking it.
type Entry struct {
	ID    string
	Store string
	Chain []*x509.Certificate // leaf first; empty for a key whose activation did not finish
}

// Certificate returns the leaf certificate, or nil.
func (e Entry) Certificate() *x509.Certificate {
	if len(e.Chain) == 0 {
		return nil
	}
	return e.Chain[0]
}

// DaysLeft is the number of whole days before the certificate expires
// (negative once it has).
func (e Entry) DaysLeft(now time.Time) int {
	c := e.Certificate()
	if c == nil {
		return 0
	}
	return int(c.NotAfter.Sub(now).Hours() / 24)
}

// Key is an unlocked private key: a crypto.Signer, safe for concurrent use,
// with the certificate chain issued for it.
type Key struct {
	Entry
	signer crypto.Signer
}

// WrapKey is the Key of a store outside this package (pkcs/remote): the
// entry e, whose key signer is.
func WrapKey(e Entry, signer crypto.Signer) *Key { return &Key{Entry: e, signer: signer} }

// Unwrap returns the store's own signer, with the capabilities it has
// beyond crypto.Signer (a remote key's batch: pdf.BatchSigner).
func (k *Key) Unwrap() crypto.Signer { return k.signer }

// Public returns the public key.
func (k *Key) Public() crypto.PublicKey { return k.signer.Public() }

// Sign signs digest with the private key.
func (k *Key) Sign(r io.Reader, digest []byte, opts crypto.SignerOpts) ([]byte, error) {
	return k.signer.Sign(r, digest, opts)
}

// Decrypt decrypts msg with an RSA key, for RSA-OAEP key transport
// (opts an *rsa.OAEPOptions): a crypto.Decrypter, so that cms opens a
// message encrypted to the key's certificate.
func (k *Key) Decrypt(r io.Reader, msg []byte, opts crypto.DecrypterOpts) ([]byte, error) {
	if err := k.mayDecrypt(x509.KeyUsageKeyEncipherment); err != nil {
		return nil, err
	}
	d, ok := k.signer.(crypto.Decrypter)
	if _, isRSA := k.Public().(*rsa.PublicKey); !ok || !isRSA {
		return nil, ErrNotForDecryption
	}
	return d.Decrypt(r, msg, opts)
}

// ECDH agrees on a shared secret with peer, with an EC key, for key
// agreement (cms.KeyAgreer).
func (k *Key) ECDH(peer *ecdh.PublicKey) ([]byte, error) {
	if err := k.mayDecrypt(x509.KeyUsageKeyAgreement); err != nil {
		return nil, err
	}
	switch s := k.signer.(type) {
	case *ecdsa.PrivateKey:
		e, err := s.ECDH()
		if err != nil {
			return nil, fmt.Errorf("pkcs: %w", err)
		}
		return e.ECDH(peer)
	case interface {
		ECDH(*ecdh.PublicKey) ([]byte, error)
	}:
		return s.ECDH(peer)
	}
	return nil, ErrNotForDecryption
}

// mayDecrypt refuses a key whose certificate states a key usage without
// usage: the key of a signing certificate does not decrypt.
func (k *Key) mayDecrypt(usage x509.KeyUsage) error {
	if c := k.Certificate(); c != nil && c.KeyUsage != 0 && c.KeyUsage&usage == 0 {
		return ErrNotForDecryption
	}
	return nil
}

// KeyID derives a key's ID from its public key: the first 8 bytes of the
// SHA-256 of its SubjectPublicKeyInfo, in hex. Stores use it as the name of
// the key (and, on a token, as CKA_ID).
func KeyID(pub crypto.PublicKey) (string, error) {
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return "", fmt.Errorf("pkcs: %w", err)
	}
	sum := sha256.Sum256(der)
	return hex.EncodeToString(sum[:8]), nil
}

func generateSoftware(keyType string) (crypto.Signer, error) {
	switch keyType {
	case ECDSAP256, "":
		return ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	case RSA3072:
		return rsa.GenerateKey(rand.Reader, 3072)
	}
	return nil, fmt.Errorf("pkcs: unknown key type %q", keyType)
}

// NewCSR returns a PKCS#10 request signed by key. The subject is left empty:
// the CA takes the holder's identity from its own records, never from the CSR.
func NewCSR(key crypto.Signer) ([]byte, error) {
	der, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{}, key)
	if err != nil {
		return nil, fmt.Errorf("pkcs: CSR: %w", err)
	}
	return der, nil
}
