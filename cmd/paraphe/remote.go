package main

import (
	"context"
	"errors"
	"fmt"
	"os"

	"github.com/paraphe/paraphe/config"
	"github.com/paraphe/paraphe/internal/atomicfile"
	"github.com/paraphe/paraphe/internal/cli"
	"github.com/paraphe/paraphe/internal/explain"
	"github.com/paraphe/paraphe/internal/local"
	"github.com/paraphe/paraphe/pkcs"
	"github.com/paraphe/paraphe/pkcs/remote"
	"github.com/paraphe/paraphe/protocol"
)

// paraphe remote: remote signing, the key in the CA's HSM. login signs in
// (changing the initial password first), activate activates the
// certificate (PUK, new PIN, one-time-password generator), status says
// where the account stands. Signing, PIN change and unlock, renewal are
// the commands every certificate has (sign, pin, renew), which ask the
// one-time password a remote key needs. Secrets come from the
// environment, files or the terminal, never from arguments.

func (a *app) remote(args []string) error {
	if len(args) == 0 {
		return &cli.ExitError{Code: explain.ExitUsage, Message: a.p.T("usage.remote")}
	}
	switch args[0] {
	case "login":
		return a.remoteLogin(args[1:])
	case "activate":
		return a.remoteActivate(args[1:])
	case "status":
		return a.remoteStatus(args[1:])
	}
	return &cli.ExitError{Code: explain.ExitUsage, Message: a.p.T("usage.remote")}
}

func (a *app) remoteLogin(args []string) error {
	fs := a.flags("remote")
	user := fs.String("user", "", a.p.T("flag.remote_user"))
	pwFile := fs.String("password-file", "", a.p.T("flag.remote_password_file"))
	newPWFile := fs.String("new-password-file", "", a.p.T("flag.remote_new_password_file"))
	if _, err := cli.Parse(fs, args); err != nil {
		return a.usageErr(err)
	}
	if *user == "" {
		return &cli.ExitError{Code: explain.ExitUsage, Message: a.p.T("err.remote_user"), Hint: a.p.T("usage.remote")}
	}
	pol, err := a.policy()
	if err != nil {
		return err
	}
	svc, err := withTimeout(func(ctx context.Context) (remote.Service, error) { return local.RemoteService(ctx, pol) })
	if err != nil {
		return err
	}
	store, err := local.Remote(pol)
	if err != nil {
		return err
	}
	password, err := a.secret(*pwFile, "PARAPHE_PASSWORD", a.p.T("prompt.remote_password", "User", *user))
	if err != nil {
		return err
	}
	defer clear(password)
	newPW, err := a.givenNewPassword(*newPWFile)
	if err != nil {
		return err
	}
	defer clear(newPW)
	acc, err := withTimeout(func(ctx context.Context) (*protocol.RemoteAccount, error) {
		return store.Login(ctx, svc, *user, password, newPW)
	})
	if errors.Is(err, remote.ErrPasswordChange) && newPW == nil && a.term.IsTerminal() {
		fmt.Fprintln(a.stderr, a.p.T("remote.must_change"))
		if newPW, err = a.askNewPassword(); err != nil {
			return err
		}
		acc, err = withTimeout(func(ctx context.Context) (*protocol.RemoteAccount, error) {
			return store.Login(ctx, svc, *user, password, newPW)
		})
	}
	if err != nil {
		return err
	}
	if newPW != nil {
		fmt.Fprintln(a.stdout, a.p.T("remote.password_changed"))
	}
	fmt.Fprintln(a.stdout, a.p.T("remote.signed_in", "User", acc.UserID))
	return a.remoteNext(store, acc)
}

// remoteNext says what the holder does next, given the account's state.
func (a *app) remoteNext(store *remote.Store, acc *protocol.RemoteAccount) error {
	switch acc.State {
	case protocol.RemoteStateActivation, protocol.RemoteStateOTP:
		fmt.Fprintln(a.stdout, a.p.T("remote.next_activate"))
	case protocol.RemoteStateActive:
		entries, err := store.List()
		if err != nil {
			return err
		}
		for _, e := range entries {
			fmt.Fprintln(a.stdout, a.p.T("remote.certificate", "ID", e.ID, "Name", pkcs.HolderOf(e.Certificate()).Name,
				"Until", a.p.Date(e.Certificate().NotAfter.Local())))
		}
	}
	return nil
}

// givenNewPassword is the new password given by file or environment
// (nil when none), checked against the service's rules.
func (a *app) givenNewPassword(file string) ([]byte, error) {
	if file == "" && os.Getenv("PARAPHE_NEW_PASSWORD") == "" {
		return nil, nil
	}
	pw, err := a.secret(file, "PARAPHE_NEW_PASSWORD", "")
	if err != nil {
		return nil, err
	}
	return pw, local.CheckRemotePassword(pw)
}

// askNewPassword asks a new password twice on the terminal.
func (a *app) askNewPassword() ([]byte, error) {
	return a.askNew(newSecretPrompts{rules: a.p.T("remote.password_rules", "Min", remote.PasswordMin, "Repeat", remote.PasswordRepeat),
		prompt: "prompt.remote_new_password", again: "prompt.remote_new_password_again", mismatch: "err.password_mismatch",
		check:       local.CheckRemotePassword,
		mismatchErr: &cli.ExitError{Code: explain.ExitRemotePassword, Message: a.p.T("err.password_mismatch")}})
}

func (a *app) remoteActivate(args []string) error {
	fs := a.flags("remote")
	pukFile := fs.String("puk-file", "", a.p.T("flag.puk_file"))
	newPINFile := fs.String("new-pin-file", "", a.p.T("flag.new_pin_file"))
	uriFile := fs.String("otp-uri-file", "", a.p.T("flag.otp_uri_file"))
	fs.StringVar(&a.otpFile, "otp-file", "", a.p.T("flag.otp_file"))
	if _, err := cli.Parse(fs, args); err != nil {
		return a.usageErr(err)
	}
	pol, store, acc, err := a.remoteAccount()
	if err != nil {
		return err
	}
	switch acc.State {
	case protocol.RemoteStatePassword:
		return remote.ErrPasswordChange
	case protocol.RemoteStateActive:
		fmt.Fprintln(a.stdout, a.p.T("remote.already_active"))
		return a.remoteNext(store, acc)
	}
	if acc.State == protocol.RemoteStateActivation || *pukFile != "" || os.Getenv("PARAPHE_PUK") != "" {
		if err := a.remoteSetPIN(store, pol, *pukFile, *newPINFile, *uriFile); err != nil {
			return err
		}
	}
	if a.otpFile == "" && os.Getenv("PARAPHE_OTP") == "" && !a.term.IsTerminal() {
		fmt.Fprintln(a.stdout, a.p.T("remote.confirm_later"))
		return nil
	}
	otp, err := a.otp(a.p.T("prompt.otp_first"))
	if err != nil {
		return err
	}
	defer clear(otp)
	if _, err := withTimeout(func(ctx context.Context) (struct{}, error) { return struct{}{}, store.ConfirmOTP(ctx, otp) }); err != nil {
		return err
	}
	fmt.Fprintln(a.stdout, a.p.T("remote.activated"))
	acc.State = protocol.RemoteStateActive
	return a.remoteNext(store, acc)
}

// remoteAccount is the remote store and where its account stands.
func (a *app) remoteAccount() (*config.Policy, *remote.Store, *protocol.RemoteAccount, error) {
	pol, err := a.policy()
	if err != nil {
		return nil, nil, nil, err
	}
	store, err := local.Remote(pol)
	if err != nil {
		return nil, nil, nil, err
	}
	acc, err := withTimeout(store.Account)
	return pol, store, acc, err
}

// remoteSetPIN sets the new PIN with the PUK and shows the
// one-time-password generator's key (and writes it to uriFile).
func (a *app) remoteSetPIN(store *remote.Store, pol *config.Policy, pukFile, newPINFile, uriFile string) error {
	puk, err := a.secret(pukFile, "PARAPHE_PUK", a.p.T("prompt.puk"))
	if err != nil {
		return err
	}
	defer clear(puk)
	pin, err := a.newSecret(newPINFile, "PARAPHE_NEW_PIN", pol.PINPolicyFor(config.StoreRemote))
	if err != nil {
		return err
	}
	defer clear(pin)
	setup, err := withTimeout(func(ctx context.Context) (*protocol.RemoteOTPSetup, error) { return store.Activate(ctx, puk, pin) })
	if err != nil {
		return err
	}
	fmt.Fprintln(a.stdout, a.p.T("remote.otp_enrol"))
	fmt.Fprintln(a.stdout, setup.URI)
	fmt.Fprintln(a.stdout, a.p.T("remote.otp_key", "Key", remote.GroupKey(setup.Secret)))
	if uriFile != "" {
		if err := atomicfile.Write(uriFile, []byte(setup.URI+"\n"), 0o600); err != nil {
			return &cli.ExitError{Code: explain.ExitError, Message: a.p.T("err.write_file", "File", uriFile, "Err", err.Error()), Err: err}
		}
	}
	return nil
}

// otp reads a one-time password: --otp-file (its first line), then
// PARAPHE_OTP, then the terminal.
func (a *app) otp(prompt string) ([]byte, error) {
	return a.secret(a.otpFile, "PARAPHE_OTP", prompt)
}

// useRemote gives a remote store the one-time password it will ask for
// (store is any store; only a remote one asks).
func (a *app) useRemote(store pkcs.Store, name string) {
	if rs, ok := store.(*remote.Store); ok {
		rs.OTP = func(context.Context) ([]byte, error) { return a.otp(a.p.T("prompt.otp", "Name", name)) }
	}
}

func (a *app) remoteStatus(args []string) error {
	fs := a.flags("remote")
	asJSON := fs.Bool("json", false, a.p.T("flag.json"))
	if _, err := cli.Parse(fs, args); err != nil {
		return a.usageErr(err)
	}
	_, store, acc, err := a.remoteAccount()
	if err != nil {
		return err
	}
	if *asJSON {
		return cli.WriteJSON(a.stdout, acc)
	}
	fmt.Fprintln(a.stdout, a.p.T("remote.status", "User", acc.UserID, "State", a.p.T("remote.state."+acc.State),
		"PIN", acc.PINTriesLeft, "OTP", acc.OTPTriesLeft, "PUK", acc.PUKTriesLeft))
	return a.remoteNext(store, acc)
}
