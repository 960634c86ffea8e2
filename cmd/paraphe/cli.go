package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"
	"syscall"
	"time"

	"github.com/paraphe/paraphe/config"
	"github.com/paraphe/paraphe/internal/cli"
	"github.com/paraphe/paraphe/internal/explain"
	"github.com/paraphe/paraphe/internal/i18n"
	"github.com/paraphe/paraphe/internal/local"
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

type app struct {
	p        *i18n.Printer
	term     *cli.Terminal
	stdout   io.Writer
	stderr   io.Writer
	settings config.Settings
	now      func() time.Time
	// otpFile is --otp-file, for the commands that may sign with a
	// remote key (its one-time password).
	otpFile string
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
	if pdfs, err := pdfArgs(args); len(args) == 0 || pdfs {
		// PDFs: "Open with Paraphe" from a file manager, or paraphe
		// FILE.pdf; one that cannot be read is said before any window.
		if err != nil {
			return cli.Exit(stderr, "paraphe", exitOf(explain.Sign(a.p, err, err.Path)), a.p.T("hint"))
		}
		return a.gui(args)
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
		"trust":    a.trustCmd,
		"extend":   a.extend,
		"fields":   a.fields,
		"demo":     a.demoCmd,
		"bridge":   a.bridgeCmd,
		"send":     a.send,
		"receive":  a.receive,
		"remote":   a.remote,
	}
	switch args[0] {
	case "-h", "--help", "help":
		fmt.Fprint(stdout, a.p.T("usage"))
		return explain.ExitOK
	case "--version", "-version":
		args[0] = "version"
	}
	f, ok := cmds[args[0]]
	if !ok {
		fmt.Fprintln(stderr, a.p.T("err.unknown_command", "Command", args[0]))
		fmt.Fprint(stderr, a.p.T("usage"))
		return explain.ExitUsage
	}
	if args[0] != "version" && args[0] != "doctor" && args[0] != "admin" && args[0] != "demo" && args[0] != "fields" {
		a.warnExpiring()
	}
	err := f(args[1:])
	if err == nil || errors.Is(err, flag.ErrHelp) {
		return explain.ExitOK
	}
	return cli.Exit(stderr, "paraphe", a.exitError(err), a.p.T("hint"))
}

// exitError is err as the command ends with it: an *cli.ExitError a
// command made stays as it is; any other error is said by explain.
func (a *app) exitError(err error) *cli.ExitError {
	var ee *cli.ExitError
	if errors.As(err, &ee) {
		return ee
	}
	return exitOf(explain.Error(a.p, err))
}

// exitOf is what explain says, as the exit the command line ends with.
func exitOf(m explain.Message) *cli.ExitError {
	return &cli.ExitError{Code: m.Code, Message: m.Text, Hint: m.Hint, Err: m.Err}
}

func (a *app) flags(name string) *flag.FlagSet {
	return cli.FlagSet("paraphe "+name, a.stderr, a.p.T("usage."+name))
}

func (a *app) usageErr(err error) error {
	return &cli.ExitError{Code: explain.ExitUsage, Message: err.Error()}
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

// warnExpiring prints, before any command, a warning for each certificate
// inside the policy's renewal window.
func (a *app) warnExpiring() {
	p, _ := config.LoadPolicy()
	days := local.WarningDays(p)
	certs, err := local.Certs(p)
	if err != nil {
		return
	}
	now := a.now()
	for _, c := range certs {
		cert := c.Certificate()
		name := pkcs.HolderOf(cert).Name
		switch {
		case now.After(cert.NotAfter):
			fmt.Fprintln(a.stderr, a.p.T("warn.expired", "Name", name, "ID", c.ID))
		case c.DaysLeft(now) <= days:
			fmt.Fprintln(a.stderr, a.p.T("warn.expiring", "Name", name, "ID", c.ID, "Days", c.DaysLeft(now)))
		}
	}
}

// pdfArgs reports whether args all name PDFs (files ending in .pdf), and
// when they do, why the first that cannot be read cannot.
func pdfArgs(args []string) (bool, *fs.PathError) {
	for _, f := range args {
		if !strings.EqualFold(filepath.Ext(f), ".pdf") {
			return false, nil
		}
	}
	for _, f := range args {
		if fi, err := os.Stat(f); err != nil {
			var pe *fs.PathError
			if errors.As(err, &pe) {
				return true, pe
			}
			return true, &fs.PathError{Op: "stat", Path: f, Err: err}
		} else if fi.IsDir() {
			return true, &fs.PathError{Op: "open", Path: f, Err: syscall.EISDIR}
		}
	}
	return true, nil
}
