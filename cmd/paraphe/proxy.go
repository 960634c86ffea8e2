package main

import (
	"errors"
	"fmt"
	"net/url"

	"github.com/paraphe/paraphe/config"
	"github.com/paraphe/paraphe/internal/cli"
	"github.com/paraphe/paraphe/internal/explain"
	"github.com/paraphe/paraphe/netclient"
)

// proxy keeps the proxy's credentials in the keychain (never in the policy):
// "paraphe proxy login [--user U] [--proxy HOST:PORT]" and "paraphe proxy logout".
func (a *app) proxy(args []string) error {
	if len(args) == 0 || (args[0] != "login" && args[0] != "logout") {
		return &cli.ExitError{Code: explain.ExitUsage, Message: a.p.T("usage.proxy")}
	}
	fs := a.flags("proxy")
	user := fs.String("user", "", a.p.T("flag.proxy_user"))
	hostPort := fs.String("proxy", "", a.p.T("flag.proxy_addr"))
	if _, err := cli.Parse(fs, args[1:]); err != nil {
		return a.usageErr(err)
	}
	if *hostPort == "" {
		// The proxy the suite would use for the CA (a fixed one, or what a
		// PAC file or the OS settings say), named as its credentials are.
		if pol, err := a.policy(); err == nil {
			if caURL, err := url.Parse(pol.CA.URL); err == nil {
				if pu, _, err := netclient.ResolveProxy(&config.Policy{Proxy: pol.Proxy}, caURL); err == nil && pu != nil {
					*hostPort = pu.Host
				}
			}
		}
	}
	if *hostPort == "" {
		return &cli.ExitError{Code: explain.ExitUsage, Message: a.p.T("err.proxy_which")}
	}
	if args[0] == "logout" {
		if err := netclient.DeleteProxyCredentials(*hostPort); err != nil && !errors.Is(err, netclient.ErrNoProxyCredentials) {
			return err
		}
		fmt.Fprintln(a.stdout, a.p.T("proxy.forgotten", "Proxy", *hostPort))
		return nil
	}
	if *user == "" {
		var err error
		if *user, err = a.term.Line(a.p.T("prompt.proxy_user")); err != nil {
			return err
		}
	}
	pass, err := a.secret("", "PARAPHE_PROXY_PASSWORD", a.p.T("prompt.proxy_password", "Proxy", *hostPort))
	if err != nil {
		return err
	}
	defer clear(pass)
	if err := netclient.SaveProxyCredentials(*hostPort, *user, string(pass)); err != nil {
		return &cli.ExitError{Code: explain.ExitKeychain, Message: a.p.T("err.keychain"), Hint: a.p.T("hint.keychain"), Err: err}
	}
	fmt.Fprintln(a.stdout, a.p.T("proxy.saved", "Proxy", *hostPort, "User", *user))
	return nil
}
