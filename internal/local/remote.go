package local

import (
	"context"
	"errors"

	"github.com/paraphe/paraphe/activation"
	"github.com/paraphe/paraphe/config"
	"github.com/paraphe/paraphe/netclient"
	"github.com/paraphe/paraphe/pkcs/remote"
)

// NoRemoteError: the CA's service document names no remote signing.
type NoRemoteError struct{ CA string }

func (e *NoRemoteError) Error() string { return e.CA + " offers no remote signing" }

// RemoteService is the CA's remote signing, from its service document:
// a *NoRemoteError when it has none.
func RemoteService(ctx context.Context, p *config.Policy) (remote.Service, error) {
	c, err := activation.New(p, netclient.ClientOptions{})
	if err != nil {
		return remote.Service{}, err
	}
	doc, err := c.Discover(ctx)
	if err != nil {
		return remote.Service{}, err
	}
	if doc.CSC == "" || doc.Remote == "" {
		return remote.Service{}, &NoRemoteError{CA: doc.Name}
	}
	return remote.Service{CSC: doc.CSC, Remote: doc.Remote}, nil
}

// CheckRemotePassword checks a new password of remote signing against the
// service's rules (the server checks them again): nil, or a
// *remote.PasswordRuleError naming the first rule it breaks.
func CheckRemotePassword(pw []byte) error {
	var pe *config.PINError
	if err := config.DefaultPasswordPolicy().Check(pw); errors.As(err, &pe) {
		return &remote.PasswordRuleError{Rule: pe.Rule, N: pe.N}
	}
	return nil
}
