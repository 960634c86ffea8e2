package main

import (
	"errors"
	"flag"
	"strings"

	"github.com/paraphe/paraphe/ca"
	"github.com/paraphe/paraphe/internal/cli"
	"github.com/paraphe/paraphe/pkcs"
)

// The CA's keys on a PKCS#11 token: init makes them there (--key-store
// pkcs11 --pkcs11-module … --token …), serve and root renew tsa sign with
// them. The token's PIN comes from a file (--pin-file) or the environment
// ($PARAPHE_CA_PIN), never from the command line, which every user of the
// machine can read.

// pinEnv is the environment variable that may hold the token's PIN.
const pinEnv = "PARAPHE_CA_PIN"

// Exit codes of the key store.
const (
	exitKeyStore = 6 // the PKCS#11 module, the token or a key on it cannot be had
	exitWrongPIN = 7
	exitLocked   = 8 // the token's PIN is blocked
)

// pinFlag adds --pin-file.
func (c *command) pinFlag(fs *flag.FlagSet) *string {
	return fs.String("pin-file", "", c.p.T("ca.flag.pin_file"))
}

// refusePINArgs refuses a PIN on the command line (--pin, --pin=…, and
// the like), before the flags are parsed, so that it is said plainly.
func (c *command) refusePINArgs(args []string) error {
	if cli.PINOnCommandLine(args) {
		return &cli.ExitError{Code: exitUsage, Message: c.p.T("ca.err.pin_on_command_line"), Hint: c.p.T("ca.hint.pin_file")}
	}
	return nil
}

// readPIN reads the token's PIN from file (one line; its end of line is
// not part of it), or from $PARAPHE_CA_PIN when file is empty.
func (c *command) readPIN(file string) ([]byte, error) {
	pin, err := cli.ReadPIN(file, pinEnv)
	switch {
	case errors.Is(err, cli.ErrNoPIN):
		return nil, &cli.ExitError{Code: exitUsage, Message: c.p.T("ca.err.no_pin"), Hint: c.p.T("ca.hint.pin_file")}
	case errors.Is(err, cli.ErrEmptyPIN):
		return nil, &cli.ExitError{Code: exitInput, Message: c.p.T("ca.err.pin_file", "Err", c.p.T("ca.err.pin_file_empty")), Hint: c.p.T("ca.hint.pin_file")}
	case err != nil:
		return nil, &cli.ExitError{Code: exitInput, Message: c.p.T("ca.err.pin_file", "Err", err.Error()), Hint: c.p.T("ca.hint.pin_file"), Err: err}
	}
	return pin, nil
}

// openToken opens the token of p and logs in with the PIN from pinFile
// or the environment.
func (c *command) openToken(p *ca.PKCS11, pinFile string) (*pkcs.TokenKeys, error) {
	pin, err := c.readPIN(pinFile)
	if err != nil {
		return nil, err
	}
	defer clear(pin)
	keys, err := pkcs.OpenTokenKeys(p.Module, p.Token, pin)
	if err != nil {
		return nil, &tokenError{p: p, err: err}
	}
	return keys, nil
}

// useToken hands a its token, when its keys are on one.
func (c *command) useToken(a *ca.Authority, pinFile string) error {
	if !a.NeedsToken() {
		return nil
	}
	keys, err := c.openToken(a.Config.PKCS11, pinFile)
	if err != nil {
		return err
	}
	if err := a.UseToken(keys); err != nil {
		keys.Close()
		return &tokenError{p: a.Config.PKCS11, err: err}
	}
	return nil
}

// isTokenError reports whether err comes from the token.
func isTokenError(err error) bool {
	var amb *pkcs.AmbiguousTokenError
	for _, e := range []error{pkcs.ErrNoPKCS11, pkcs.ErrModule, pkcs.ErrNoToken, pkcs.ErrLocked, pkcs.ErrWrongPIN,
		pkcs.ErrNotFound, pkcs.ErrTokenRemoved, pkcs.ErrNotLoggedIn} {
		if errors.Is(err, e) {
			return true
		}
	}
	return errors.As(err, &amb)
}

// tokenError is a key store failure with the token it is about.
type tokenError struct {
	p   *ca.PKCS11
	err error
}

func (e *tokenError) Error() string { return e.err.Error() }
func (e *tokenError) Unwrap() error { return e.err }

// explainToken says a key store failure in the operator's words.
func (c *command) explainToken(e *tokenError) error {
	p, err := c.p, e.err
	token := e.p.Token
	if token == "" {
		token = "-"
	}
	exit := func(code int, msg, hint string) error {
		return &cli.ExitError{Code: code, Message: msg, Hint: hint, Err: err}
	}
	var amb *pkcs.AmbiguousTokenError
	switch {
	case errors.Is(err, pkcs.ErrNoPKCS11):
		return exit(exitKeyStore, p.T("ca.err.no_pkcs11"), p.T("ca.hint.no_pkcs11"))
	case errors.Is(err, pkcs.ErrModule):
		return exit(exitKeyStore, p.T("ca.err.module", "Module", e.p.Module), p.T("ca.hint.module"))
	case errors.As(err, &amb):
		var names []string
		for _, t := range amb.Tokens {
			names = append(names, t.Label)
		}
		return exit(exitKeyStore, p.T("ca.err.tokens_ambiguous", "Tokens", strings.Join(names, ", ")), p.T("ca.hint.tokens_ambiguous"))
	case errors.Is(err, pkcs.ErrNoToken):
		return exit(exitKeyStore, p.T("ca.err.no_token", "Token", token), p.T("ca.hint.no_token", "Module", e.p.Module))
	case errors.Is(err, pkcs.ErrLocked):
		return exit(exitLocked, p.T("ca.err.token_locked", "Token", token), p.T("ca.hint.token_locked"))
	case errors.Is(err, pkcs.ErrWrongPIN):
		return exit(exitWrongPIN, p.T("ca.err.token_pin", "Token", token), p.T("ca.hint.token_pin"))
	case errors.Is(err, pkcs.ErrNotFound):
		return exit(exitKeyStore, p.T("ca.err.token_key", "Token", token), p.T("ca.hint.token_key"))
	case errors.Is(err, pkcs.ErrTokenRemoved):
		return exit(exitKeyStore, p.T("ca.err.token_removed", "Token", token), p.T("ca.hint.token_removed"))
	}
	return exit(exitKeyStore, p.T("ca.err.token", "Token", token, "Err", err.Error()), "")
}
