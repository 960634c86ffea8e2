// Package local is what the suite finds on this computer: the key stores
// the policy allows, the certificates in them, and the doctor's checks of
// both. The command line and the desktop app share it.
package local

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"path/filepath"
	"time"

	"github.com/paraphe/paraphe/config"
	"github.com/paraphe/paraphe/netcheck"
	"github.com/paraphe/paraphe/netclient"
	"github.com/paraphe/paraphe/pkcs"
	"github.com/paraphe/paraphe/pkcs/remote"
)

// Conditions a caller turns into a message.
var (
	ErrNoCert      = errors.New("no certificate on this computer")
	ErrUnknownCert = errors.New("no certificate with that ID")
	ErrWhichCert   = errors.New("several certificates and no default")
)

// Keychain returns the keychain store in the user's folder, with the
// policy's wrong-PIN limit (p may be nil).
func Keychain(p *config.Policy) (*pkcs.KeychainStore, error) {
	home, err := config.Home()
	if err != nil {
		return nil, err
	}
	attempts := 0
	if p != nil {
		attempts = p.PIN.Keychain.Attempts()
	}
	return pkcs.NewKeychainStore(filepath.Join(home, "keys"), attempts), nil
}

// Token opens the token named by label or serial, the policy's default
// token, or the only one present.
func Token(p *config.Policy, label string) (*pkcs.TokenStore, error) {
	if label == "" {
		label = p.PKCS11.Token
	}
	return pkcs.OpenToken(p.PKCS11Module(), label)
}

// Remote returns the remote signing store in the user's folder, which
// talks to the policy's CA through the policy's client (proxy, anchors).
func Remote(p *config.Policy) (*remote.Store, error) {
	home, err := config.Home()
	if err != nil {
		return nil, err
	}
	if p == nil {
		return remote.New(home, http.DefaultClient), nil
	}
	hc, err := netclient.NewHTTPClient(p, netclient.ClientOptions{})
	if err != nil {
		return nil, err
	}
	return remote.New(home, hc), nil
}

// Stores returns the stores the policy allows and this machine has: the
// keychain, every token present in the PKCS#11 module, and the remote
// store once an account has signed in. A module that cannot be loaded is
// left out here (the doctor and activation say why).
func Stores(p *config.Policy) ([]pkcs.Store, error) {
	var out []pkcs.Store
	if p == nil || p.Allows(config.StoreKeychain) {
		ks, err := Keychain(p)
		if err != nil {
			return nil, err
		}
		out = append(out, ks)
	}
	if p != nil && p.Allows(config.StorePKCS11) {
		tokens, err := pkcs.ListTokens(p.PKCS11Module())
		if err == nil {
			for _, t := range tokens {
				if ts, err := pkcs.OpenToken(p.PKCS11Module(), t.Serial); err == nil {
					out = append(out, ts)
				}
			}
		}
	}
	if p != nil && p.Allows(config.StoreRemote) {
		if rs, err := Remote(p); err == nil && rs.HasAccount() {
			out = append(out, rs)
		}
	}
	return out, nil
}

// Cert is a certificate found on this computer and the store keeping its key.
type Cert struct {
	Store pkcs.Store
	pkcs.Entry
}

// Certs lists every certificate in the stores.
func Certs(p *config.Policy) ([]Cert, error) {
	stores, err := Stores(p)
	if err != nil {
		return nil, err
	}
	var all []Cert
	for _, s := range stores {
		entries, err := s.List()
		if err != nil {
			return nil, err
		}
		for _, e := range entries {
			if e.Certificate() != nil {
				all = append(all, Cert{s, e})
			}
		}
	}
	return all, nil
}

// FindCert returns certificate id; with id empty, the default certificate
// def, or the only one.
func FindCert(p *config.Policy, id, def string) (Cert, error) {
	all, err := Certs(p)
	if err != nil {
		return Cert{}, err
	}
	want := id
	if want == "" {
		want = def
	}
	for _, c := range all {
		if c.ID == want {
			return c, nil
		}
	}
	switch {
	case id != "":
		return Cert{}, fmt.Errorf("%w: %s", ErrUnknownCert, id)
	case len(all) == 0:
		return Cert{}, ErrNoCert
	case len(all) == 1:
		return all[0], nil
	}
	return Cert{}, ErrWhichCert
}

// WarningDays is how long before expiry the policy wants a warning.
func WarningDays(p *config.Policy) int {
	if p != nil && p.RenewalWarningDays > 0 {
		return p.RenewalWarningDays
	}
	return config.DefaultPolicy().RenewalWarningDays
}

// KeychainFinding says whether the operating system's keychain answers.
func KeychainFinding(p *config.Policy) netcheck.Finding {
	f := netcheck.Finding{Check: netcheck.CheckKeystore, Target: pkcs.KeychainName, Severity: netcheck.OK, Code: netcheck.CodeKeychainOK}
	ks, err := Keychain(p)
	if err == nil {
		err = ks.Check()
	}
	if err != nil {
		f.Severity, f.Code, f.Fix = netcheck.Warning, netcheck.CodeKeychainUnavailable, netcheck.FixInstallKeyring
	}
	return f
}

// Checks returns the doctor's look at this computer: the keychain and the
// certificates with their days left.
func Checks(p *config.Policy, now func() time.Time) func(context.Context) []netcheck.Finding {
	return func(context.Context) []netcheck.Finding {
		out := []netcheck.Finding{KeychainFinding(p)}
		days := WarningDays(p)
		certs, _ := Certs(p)
		t := now()
		for _, c := range certs {
			cert := c.Certificate()
			f := netcheck.Finding{Check: netcheck.CheckCertificate, Target: c.ID, Observed: cert.Subject.CommonName,
				Details: map[string]string{"days_left": fmt.Sprint(c.DaysLeft(t))}}
			switch left := c.DaysLeft(t); {
			case t.After(cert.NotAfter):
				f.Severity, f.Code, f.Fix = netcheck.Warning, netcheck.CodeCertExpired, netcheck.FixActivate
			case left <= days:
				f.Severity, f.Code, f.Fix = netcheck.Warning, netcheck.CodeCertExpiring, netcheck.FixRenew
			default:
				f.Severity, f.Code = netcheck.OK, netcheck.CodeCertOK
			}
			out = append(out, f)
		}
		if len(certs) == 0 {
			out = append(out, netcheck.Finding{Check: netcheck.CheckCertificate, Severity: netcheck.Info, Code: netcheck.CodeNoCert, Fix: netcheck.FixActivate})
		}
		return out
	}
}
