//go:build !cgo

package pkcs

import (
	"crypto"
	"crypto/x509"
)

// TokenStore is unavailable in builds without cgo: every function and
// method here reports ErrNoPKCS11, so that callers compile and say so.
type TokenStore struct {
	Module string
	Info   TokenInfo
}

// ListTokens reports that tokens need a cgo build.
func ListTokens(module string) ([]TokenInfo, error) { return nil, ErrNoPKCS11 }

// OpenToken reports that tokens need a cgo build.
func OpenToken(module, token string) (*TokenStore, error) { return nil, ErrNoPKCS11 }

func (s *TokenStore) Name() string                               { return TokenName }
func (s *TokenStore) Login(pin []byte) error                     { return ErrNoPKCS11 }
func (s *TokenStore) Close() error                               { return nil }
func (s *TokenStore) Generate(string, []byte) (*Key, error)      { return nil, ErrNoPKCS11 }
func (s *TokenStore) SetChain(string, []*x509.Certificate) error { return ErrNoPKCS11 }
func (s *TokenStore) Open(string, []byte) (*Key, error)          { return nil, ErrNoPKCS11 }
func (s *TokenStore) Key(string) (*Key, error)                   { return nil, ErrNoPKCS11 }
func (s *TokenStore) NewKey(string) (*Key, error)                { return nil, ErrNoPKCS11 }
func (s *TokenStore) List() ([]Entry, error)                     { return nil, ErrNoPKCS11 }
func (s *TokenStore) Delete(string) error                        { return ErrNoPKCS11 }
func (s *TokenStore) ChangePIN(string, []byte, []byte) error     { return ErrNoPKCS11 }
func (s *TokenStore) UnlockPIN([]byte, []byte) error             { return ErrNoPKCS11 }
func (s *TokenStore) Import(crypto.Signer, []*x509.Certificate, []byte) (*Key, error) {
	return nil, ErrNoPKCS11
}

// SecretKey is unavailable in builds without cgo.
type SecretKey struct{ ID string }

func (s *TokenStore) NewSecretKey(string) (*SecretKey, error) { return nil, ErrNoPKCS11 }
func (s *TokenStore) SecretKey(string) (*SecretKey, error)    { return nil, ErrNoPKCS11 }
func (k *SecretKey) Seal(plain, aad []byte) ([]byte, error)   { return nil, ErrNoPKCS11 }
func (k *SecretKey) Open(sealed, aad []byte) ([]byte, error)  { return nil, ErrNoPKCS11 }
func (k *SecretKey) CMAC(msg []byte) ([]byte, error)          { return nil, ErrNoPKCS11 }
func (k *SecretKey) Destroy() error                           { return ErrNoPKCS11 }
