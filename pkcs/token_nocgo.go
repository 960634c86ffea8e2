//go:build !cgo

package pkcs

// TokenStore is unavailable without cgo; see token_cgo.go.
type TokenStore struct{ Store }

// ListTokens reports that tokens need a cgo build.
func ListTokens(module string) ([]TokenInfo, error) { return nil, ErrNoPKCS11 }

// OpenToken reports that tokens need a cgo build.
func OpenToken(module, token string) (*TokenStore, error) { return nil, ErrNoPKCS11 }
