package main

import (
	"errors"
	"fmt"
	"os"

	"github.com/paraphe/paraphe/config"
	"github.com/paraphe/paraphe/pkcs"
)

// keyStores returns the stores the policy allows and this machine has: the
// keychain, and every token present in the PKCS#11 module. A module that
// cannot be loaded is left out here (the doctor and activate say why).
func (a *app) keyStores(p *config.Policy) ([]pkcs.Store, error) {
	var out []pkcs.Store
	if p == nil || p.Allows(config.StoreKeychain) {
		ks, err := a.keychain(p)
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
	return out, nil
}

// token opens the token named by label or serial, or the only one present.
func (a *app) token(p *config.Policy, label string) (*pkcs.TokenStore, error) {
	if label == "" {
		label = p.PKCS11.Token
	}
	return pkcs.OpenToken(p.PKCS11Module(), label)
}

// errNoCert and friends are turned into messages by explain.
var (
	errNoCert      = errors.New("no certificate on this computer")
	errUnknownCert = errors.New("no certificate with that ID")
	errWhichCert   = errors.New("several certificates and no default")
)

// findCert returns the store and entry of certificate id; with id empty,
// the default certificate, or the only one.
func (a *app) findCert(p *config.Policy, id string) (pkcs.Store, pkcs.Entry, error) {
	stores, err := a.keyStores(p)
	if err != nil {
		return nil, pkcs.Entry{}, err
	}
	type found struct {
		s pkcs.Store
		e pkcs.Entry
	}
	var all []found
	for _, s := range stores {
		entries, err := s.List()
		if err != nil {
			return nil, pkcs.Entry{}, err
		}
		for _, e := range entries {
			if e.Certificate() != nil {
				all = append(all, found{s, e})
			}
		}
	}
	want := id
	if want == "" {
		want = a.settings.DefaultCert
	}
	for _, f := range all {
		if f.e.ID == want {
			return f.s, f.e, nil
		}
	}
	switch {
	case id != "":
		return nil, pkcs.Entry{}, fmt.Errorf("%w: %s", errUnknownCert, id)
	case len(all) == 0:
		return nil, pkcs.Entry{}, errNoCert
	case len(all) == 1:
		return all[0].s, all[0].e, nil
	}
	return nil, pkcs.Entry{}, errWhichCert
}

// secret reads a PIN, PUK or password: from the file named by a flag, from
// an environment variable (for scripts), or asked on the terminal. Never
// from an argument.
func (a *app) secret(file, envVar, prompt string) ([]byte, error) {
	switch {
	case file != "":
		return readPIN(file)
	case os.Getenv(envVar) != "":
		return []byte(os.Getenv(envVar)), nil
	}
	return a.term.Secret(prompt)
}

// newSecret reads a new PIN from file or environment (checked against the
// rules), or asks for it twice on the terminal.
func (a *app) newSecret(file, envVar string, rules config.PINPolicy) ([]byte, error) {
	if file != "" || os.Getenv(envVar) != "" {
		pin, err := a.secret(file, envVar, "")
		if err != nil {
			return nil, err
		}
		return pin, rules.Check(pin)
	}
	return a.newPIN(rules)
}

// openCert finds certificate id (or the default) and unlocks its key with a
// PIN from pinFile, PARAPHE_PIN or the terminal.
func (a *app) openCert(pol *config.Policy, id, pinFile string) (pkcs.Store, *pkcs.Key, []byte, error) {
	store, entry, err := a.findCert(pol, id)
	if err != nil {
		return nil, nil, nil, err
	}
	h := pkcs.HolderOf(entry.Certificate())
	pin, err := a.secret(pinFile, "PARAPHE_PIN", a.p.T("prompt.pin", "Name", h.Name, "ID", entry.ID))
	if err != nil {
		return nil, nil, nil, err
	}
	key, err := store.Open(entry.ID, pin)
	if err != nil {
		clear(pin)
		return nil, nil, nil, err
	}
	return store, key, pin, nil
}
