package pkcs

import (
	"crypto"
	"crypto/x509"
	"errors"
	"fmt"
	"strings"
)

// Errors of the token store.
var (
	// ErrNoPKCS11 is returned by builds without cgo, which cannot load a module.
	ErrNoPKCS11 = errors.New("pkcs: this build of Paraphe cannot use PKCS#11 tokens (built without cgo)")
	// ErrModule: the PKCS#11 module is missing or cannot be loaded.
	ErrModule = errors.New("pkcs: the PKCS#11 module cannot be loaded")
	// ErrNoToken: no token is present in any slot (or none with the label asked for).
	ErrNoToken = errors.New("pkcs: no token present")
	// ErrTokenRemoved: the token went away during an operation.
	ErrTokenRemoved = errors.New("pkcs: the token was removed")
	// ErrNotLoggedIn: an operation needing the PIN came before Open or Generate.
	ErrNotLoggedIn = errors.New("pkcs: the token is not logged in")
	// ErrWrongPUK: UnlockPIN was given a wrong PUK (security officer PIN).
	ErrWrongPUK = errors.New("pkcs: wrong PUK")
	// ErrPUKLocked: the PUK itself is blocked; only the issuer can help.
	ErrPUKLocked = errors.New("pkcs: the PUK is blocked")
	// ErrSecretOpen: a value sealed with a token's secret key did not
	// open: altered, sealed with another key, or for another purpose.
	ErrSecretOpen = errors.New("pkcs: the sealed value does not open with the token's secret key")
)

// TokenInfo describes a token present in a slot.
type TokenInfo struct {
	Slot         uint   `json:"slot"`
	Label        string `json:"label"`
	Serial       string `json:"serial"`
	Manufacturer string `json:"manufacturer"`
	Model        string `json:"model"`
	PINLow       bool   `json:"pin_count_low"` // a wrong PIN was entered recently
	PINFinalTry  bool   `json:"pin_final_try"` // one more wrong PIN locks it
	PINLocked    bool   `json:"pin_locked"`    // the user PIN is blocked: unlock with the PUK
}

// AmbiguousTokenError is returned when several tokens are present and
// none was named: the caller lists them and asks.
type AmbiguousTokenError struct{ Tokens []TokenInfo }

func (e *AmbiguousTokenError) Error() string {
	var names []string
	for _, t := range e.Tokens {
		names = append(names, fmt.Sprintf("%q (serial %s)", t.Label, t.Serial))
	}
	return "pkcs: several tokens are present: " + strings.Join(names, ", ")
}

// PINUnlocker is implemented by stores whose blocked PIN can be reset
// with a PUK (on a token, the security officer PIN).
type PINUnlocker interface {
	UnlockPIN(puk, newPIN []byte) error
}

// TokenKeys are the keys of a token for a server that logs in once and
// keeps several keys open for as long as it runs, as the CA does (its
// ca.Token): generated on the token, sensitive and never extractable,
// each found again by its public key (KeyID) and stored beside its
// certificate. It never asks for the PIN again (TokenStore.NewKey).
type TokenKeys struct{ s *TokenStore }

// OpenTokenKeys opens the token (OpenToken) and logs in with pin.
func OpenTokenKeys(module, token string, pin []byte) (*TokenKeys, error) {
	s, err := OpenToken(module, token)
	if err != nil {
		return nil, err
	}
	if err := s.Login(pin); err != nil {
		s.Close()
		return nil, err
	}
	return &TokenKeys{s}, nil
}

// Label is the token's label.
func (k *TokenKeys) Label() string { return k.s.Info.Label }

// NewKey generates a key of the type (ECDSAP256, RSA3072).
func (k *TokenKeys) NewKey(keyType string) (crypto.Signer, error) {
	key, err := k.s.NewKey(keyType)
	if err != nil {
		return nil, err
	}
	return key, nil
}

// Key returns the key whose public key is pub.
func (k *TokenKeys) Key(pub crypto.PublicKey) (crypto.Signer, error) {
	id, err := KeyID(pub)
	if err != nil {
		return nil, err
	}
	key, err := k.s.Key(id)
	if err != nil {
		return nil, err
	}
	return key, nil
}

// Keep stores cert beside its key, in place of the certificates it had.
func (k *TokenKeys) Keep(cert *x509.Certificate) error {
	id, err := KeyID(cert.PublicKey)
	if err != nil {
		return err
	}
	return k.s.SetChain(id, []*x509.Certificate{cert})
}

// Delete removes the key whose public key is pub, and its certificates.
func (k *TokenKeys) Delete(pub crypto.PublicKey) error {
	id, err := KeyID(pub)
	if err != nil {
		return err
	}
	return k.s.Delete(id)
}

// NewSecretKey generates an AES-256 key on the token, sensitive and never
// extractable, that seals, opens and computes CMACs there (SecretKey).
func (k *TokenKeys) NewSecretKey(label string) (*SecretKey, error) { return k.s.NewSecretKey(label) }

// SecretKey finds the secret key of that id (hex).
func (k *TokenKeys) SecretKey(id string) (*SecretKey, error) { return k.s.SecretKey(id) }

// Close logs out; the keys sign no more.
func (k *TokenKeys) Close() error { return k.s.Close() }
