package main

import (
	"fmt"

	"github.com/paraphe/paraphe/config"
	"github.com/paraphe/paraphe/internal/cli"
	"github.com/paraphe/paraphe/internal/explain"
	"github.com/paraphe/paraphe/internal/local"
	"github.com/paraphe/paraphe/pkcs"
)

func (a *app) pin(args []string) error {
	if len(args) == 0 || (args[0] != "change" && args[0] != "unlock") {
		return &cli.ExitError{Code: explain.ExitUsage, Message: a.p.T("usage.pin")}
	}
	fs := a.flags("pin")
	certID := fs.String("cert", "", a.p.T("flag.cert"))
	tokenLabel := fs.String("token", "", a.p.T("flag.token"))
	pinFile := fs.String("pin-file", "", a.p.T("flag.pin_file_current"))
	newPINFile := fs.String("new-pin-file", "", a.p.T("flag.new_pin_file"))
	pukFile := fs.String("puk-file", "", a.p.T("flag.puk_file"))
	fs.StringVar(&a.otpFile, "otp-file", "", a.p.T("flag.otp_file"))
	if _, err := cli.Parse(fs, args[1:]); err != nil {
		return a.usageErr(err)
	}
	pol, err := a.policy()
	if err != nil {
		return err
	}
	// The store: a token when one is named, else the certificate's.
	var store pkcs.Store
	id := ""
	if *tokenLabel != "" {
		if store, err = local.Token(pol, *tokenLabel); err != nil {
			return err
		}
	} else {
		c, err := local.FindCert(pol, *certID, a.settings.DefaultCert)
		if err != nil {
			return err
		}
		store, id = c.Store, c.ID
		a.useRemote(store, pkcs.HolderOf(c.Certificate()).Name)
	}
	rules := pol.PINPolicyFor(config.Store(store.Name()))
	if args[0] == "unlock" {
		unlocker, ok := store.(pkcs.PINUnlocker)
		if !ok {
			return &cli.ExitError{Code: explain.ExitNoPUK, Message: a.p.T("err.no_puk"), Hint: a.p.T("hint.no_puk")}
		}
		puk, err := a.secret(*pukFile, "PARAPHE_PUK", a.p.T("prompt.puk"))
		if err != nil {
			return err
		}
		defer clear(puk)
		newPIN, err := a.newSecret(*newPINFile, "PARAPHE_NEW_PIN", rules)
		if err != nil {
			return err
		}
		defer clear(newPIN)
		if err := unlocker.UnlockPIN(puk, newPIN); err != nil {
			return err
		}
		if store.Name() == pkcs.RemoteName {
			fmt.Fprintln(a.stdout, a.p.T("pin.unlocked.remote"))
			return nil
		}
		fmt.Fprintln(a.stdout, a.p.T("pin.unlocked"))
		return nil
	}
	changer, ok := store.(pkcs.PINChanger)
	if !ok {
		return &cli.ExitError{Code: explain.ExitStoreDisabled, Message: a.p.T("err.store_unsupported", "Store", store.Name())}
	}
	old, err := a.secret(*pinFile, "PARAPHE_PIN", a.p.T("prompt.current_pin"))
	if err != nil {
		return err
	}
	defer clear(old)
	newPIN, err := a.newSecret(*newPINFile, "PARAPHE_NEW_PIN", rules)
	if err != nil {
		return err
	}
	defer clear(newPIN)
	if err := changer.ChangePIN(id, old, newPIN); err != nil {
		return err
	}
	fmt.Fprintln(a.stdout, a.p.T("pin.changed."+store.Name()))
	return nil
}
