package main

import (
	"os"

	"github.com/paraphe/paraphe/config"
	"github.com/paraphe/paraphe/internal/local"
	"github.com/paraphe/paraphe/pkcs"
)

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
// PIN from pinFile, PARAPHE_PIN or the terminal. A remote key asks its
// one-time password when it signs (--otp-file, PARAPHE_OTP, the terminal).
func (a *app) openCert(pol *config.Policy, id, pinFile string) (pkcs.Store, *pkcs.Key, []byte, error) {
	c, err := local.FindCert(pol, id, a.settings.DefaultCert)
	if err != nil {
		return nil, nil, nil, err
	}
	store, entry := c.Store, c.Entry
	h := pkcs.HolderOf(entry.Certificate())
	a.useRemote(store, h.Name)
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
