package main

import (
	"errors"
	"flag"

	"github.com/paraphe/paraphe/exchange"
	"github.com/paraphe/paraphe/internal/cli"
	"github.com/paraphe/paraphe/pkcs"
)

// The master key on a PKCS#11 token: init makes an AES key there
// (--pkcs11-module … --token …), serve seals and opens with it. The
// token's PIN comes from a file (--pin-file) or the environment
// ($PARAPHE_EXCHANGE_PIN), never from the command line, which every user
// of the machine can read.

// pinEnv is the environment variable that may hold the token's PIN.
const pinEnv = "PARAPHE_EXCHANGE_PIN"

// Exit codes of the token.
const (
	exitKeyStore = 8 // the PKCS#11 module, the token or the key on it cannot be had
	exitWrongPIN = 9
	exitLocked   = 10 // the token's PIN is blocked
)

// masterKeyLabel labels the key init makes on the token.
const masterKeyLabel = "Paraphe exchange master key"

func (c *command) pinFlag(fs *flag.FlagSet) *string {
	return fs.String("pin-file", "", c.p.T("exchange.flag.pin_file"))
}

// refusePINArgs refuses a PIN on the command line, before the flags are
// parsed, so that it is said plainly.
func (c *command) refusePINArgs(args []string) error {
	if cli.PINOnCommandLine(args) {
		return &cli.ExitError{Code: exitUsage, Message: c.p.T("exchange.cli.err.pin_on_command_line"), Hint: c.p.T("exchange.cli.hint.pin_file")}
	}
	return nil
}

// readPIN reads the PIN from file (its first line), or from
// $PARAPHE_EXCHANGE_PIN when file is empty.
func (c *command) readPIN(file string) ([]byte, error) {
	pin, err := cli.ReadPIN(file, pinEnv)
	switch {
	case errors.Is(err, cli.ErrNoPIN):
		return nil, &cli.ExitError{Code: exitUsage, Message: c.p.T("exchange.cli.err.no_pin"), Hint: c.p.T("exchange.cli.hint.pin_file")}
	case err != nil:
		return nil, &cli.ExitError{Code: exitInput, Message: c.p.T("exchange.cli.err.pin_file", "File", file), Hint: c.p.T("exchange.cli.hint.pin_file"), Err: err}
	}
	return pin, nil
}

// openToken opens and logs in to the token of p.
func (c *command) openToken(p *exchange.PKCS11, pinFile string) (*pkcs.TokenKeys, error) {
	pin, err := c.readPIN(pinFile)
	if err != nil {
		return nil, err
	}
	defer clear(pin)
	keys, err := pkcs.OpenTokenKeys(p.Module, p.Token, pin)
	if err != nil {
		return nil, c.explainToken(p, err)
	}
	return keys, nil
}

// useToken hands x its master key, when it is on a token; the returned
// function logs out.
func (c *command) useToken(x *exchange.Exchange, pinFile string) (func(), error) {
	if !x.NeedsToken() {
		return func() {}, nil
	}
	p := x.Config.MasterKeyToken
	keys, err := c.openToken(p, pinFile)
	if err != nil {
		return nil, err
	}
	key, err := keys.SecretKey(p.KeyID)
	if err == nil {
		err = x.UseToken(key)
	}
	if err != nil {
		keys.Close()
		return nil, c.explainToken(p, err)
	}
	return func() { keys.Close() }, nil
}

// explainToken says a token's failure in the operator's words.
func (c *command) explainToken(t *exchange.PKCS11, err error) error {
	p := c.p
	token := t.Token
	if token == "" {
		token = "-"
	}
	exit := func(code int, key, hint string, args ...any) error {
		return &cli.ExitError{Code: code, Message: p.T(key, args...), Hint: p.T(hint, args...), Err: err}
	}
	var amb *pkcs.AmbiguousTokenError
	switch {
	case errors.Is(err, pkcs.ErrNoPKCS11):
		return exit(exitKeyStore, "exchange.cli.err.no_pkcs11", "exchange.cli.hint.no_pkcs11")
	case errors.Is(err, pkcs.ErrModule):
		return exit(exitKeyStore, "exchange.cli.err.module", "exchange.cli.hint.module", "Module", t.Module)
	case errors.As(err, &amb), errors.Is(err, pkcs.ErrNoToken):
		return exit(exitKeyStore, "exchange.cli.err.no_token", "exchange.cli.hint.no_token", "Token", token, "Module", t.Module)
	case errors.Is(err, pkcs.ErrLocked):
		return exit(exitLocked, "exchange.cli.err.token_locked", "exchange.cli.hint.token_locked", "Token", token)
	case errors.Is(err, pkcs.ErrWrongPIN):
		return exit(exitWrongPIN, "exchange.cli.err.token_pin", "exchange.cli.hint.token_pin", "Token", token)
	case errors.Is(err, pkcs.ErrNotFound), errors.Is(err, exchange.ErrMasterKey):
		return exit(exitKeyStore, "exchange.cli.err.token_key", "exchange.cli.hint.token_key", "Token", token, "Key", t.KeyID)
	}
	return &cli.ExitError{Code: exitKeyStore, Message: p.T("exchange.cli.err.token", "Token", token, "Err", err.Error()), Err: err}
}
