package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime/debug"
	"time"

	"github.com/paraphe/paraphe/config"
	"github.com/paraphe/paraphe/internal/cli"
	"github.com/paraphe/paraphe/internal/i18n"
	"github.com/paraphe/paraphe/pkcs"
)

// version is set at build time with -ldflags "-X main.version=…".
var version = ""

func paraphVersion() string {
	if version != "" {
		return version
	}
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return bi.Main.Version
	}
	return "dev"
}

// Exit codes, documented in the usage text and the README.
const (
	exitOK            = 0
	exitError         = 1
	exitUsage         = 2
	exitUnknownRef    = 3
	exitExpiredRef    = 4
	exitLockedRef     = 5
	exitWrongAnswers  = 6
	exitUsedRef       = 7
	exitUnreachable   = 8
	exitTLSAnchor     = 9
	exitBadReply      = 10
	exitKeychain      = 11
	exitPINPolicy     = 12
	exitNoPolicy      = 13
	exitWrongPIN      = 14
	exitPINLocked     = 15
	exitStoreDisabled = 16
	exitToken         = 17 // module missing, no token, token removed
	exitWrongPUK      = 18
	exitNoCert        = 19
	exitNoPUK         = 20 // a keychain key has no PUK
	exitBadFile       = 21 // a PKCS#12 file that cannot be read
	exitRefused       = 22 // the CA refused the request for another reason

	exitSomeFailed         = 23 // a batch where some files could not be signed
	exitPDFEncrypted       = 24
	exitPDFBad             = 25 // not a PDF, or damaged
	exitOutput             = 26 // the output exists, or would replace the input
	exitValidationServices = 27 // time-stamping or revocation services unreachable
	exitPDFCertified       = 28 // the document's certification forbids this signature

	exitSigInvalid   = 30 // a signature is broken or its certificate revoked
	exitSigUntrusted = 31 // a signature does not chain to a trusted root
	exitSigModified  = 32 // the document changed after a signature beyond what is allowed
	exitNotSigned    = 33

	exitUnconfigured = 34 // the machine policy is the packages' template: no CA yet
	exitNotAdmin     = 35 // writing the machine policy needs administrator rights
)

type app struct {
	p        *i18n.Printer
	term     *cli.Terminal
	stdout   io.Writer
	stderr   io.Writer
	settings config.Settings
	now      func() time.Time
}

func run(args []string, stdin *os.File, stdout, stderr io.Writer) int {
	settings, _ := config.LoadSettings()
	a := &app{
		p:        i18n.New(i18n.Detect(settings.Language)),
		term:     &cli.Terminal{In: stdin, Out: stderr},
		stdout:   stdout,
		stderr:   stderr,
		settings: settings,
		now:      time.Now,
	}
	if len(args) == 0 {
		// The GUI arrives with the desktop issue; until then, say what works.
		fmt.Fprint(stdout, a.p.T("usage"))
		return exitOK
	}
	cmds := map[string]func([]string) error{
		"activate": a.activate,
		"certs":    a.certs,
		"renew":    a.renew,
		"pin":      a.pin,
		"import":   a.importP12,
		"export":   a.export,
		"sign":     a.sign,
		"verify":   a.verify,
		"doctor":   a.doctor,
		"proxy":    a.proxy,
		"version":  a.version,
		"admin":    a.admin,
	}
	switch args[0] {
	case "-h", "--help", "help":
		fmt.Fprint(stdout, a.p.T("usage"))
		return exitOK
	case "--version", "-version":
		args[0] = "version"
	}
	f, ok := cmds[args[0]]
	if !ok {
		fmt.Fprintln(stderr, a.p.T("err.unknown_command", "Command", args[0]))
		fmt.Fprint(stderr, a.p.T("usage"))
		return exitUsage
	}
	if args[0] != "version" && args[0] != "doctor" && args[0] != "admin" {
		a.warnExpiring()
	}
	err := f(args[1:])
	if err == nil || errors.Is(err, flag.ErrHelp) {
		return exitOK
	}
	return cli.Exit(stderr, "paraphe", a.explain(err), a.p.T("hint"))
}

func (a *app) flags(name string) *flag.FlagSet {
	return cli.FlagSet("paraphe "+name, a.stderr, a.p.T("usage."+name))
}

func (a *app) usageErr(err error) error {
	return &cli.ExitError{Code: exitUsage, Message: err.Error()}
}

func (a *app) version([]string) error {
	fmt.Fprintf(a.stdout, "paraphe %s\n", paraphVersion())
	return nil
}

// policy loads the machine policy or explains how to get one.
func (a *app) policy() (*config.Policy, error) {
	p, err := config.LoadPolicy()
	if err != nil {
		return nil, err
	}
	return p, nil
}

// keychain returns the keychain store in the user's folder.
func (a *app) keychain(p *config.Policy) (*pkcs.KeychainStore, error) {
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

// warnExpiring prints, before any command, a warning for each certificate
// inside the policy's renewal window.
func (a *app) warnExpiring() {
	p, err := config.LoadPolicy()
	days := config.DefaultPolicy().RenewalWarningDays
	if err == nil {
		days = p.RenewalWarningDays
	}
	stores, err := a.keyStores(p)
	if err != nil {
		return
	}
	now := a.now()
	for _, s := range stores {
		entries, err := s.List()
		if err != nil {
			continue
		}
		for _, e := range entries {
			c := e.Certificate()
			if c == nil {
				continue
			}
			left := e.DaysLeft(now)
			name := pkcs.HolderOf(c).Name
			switch {
			case now.After(c.NotAfter):
				fmt.Fprintln(a.stderr, a.p.T("warn.expired", "Name", name, "ID", e.ID))
			case left <= days:
				fmt.Fprintln(a.stderr, a.p.T("warn.expiring", "Name", name, "ID", e.ID, "Days", left))
			}
		}
	}
}
