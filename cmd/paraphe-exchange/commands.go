package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"text/tabwriter"

	"github.com/paraphe/paraphe/exchange"
	"github.com/paraphe/paraphe/internal/cli"
	"github.com/paraphe/paraphe/internal/i18n"
	"github.com/paraphe/paraphe/pkcs"
)

// Exit codes, documented in the usage text.
const (
	exitOK       = 0
	exitError    = 1
	exitUsage    = 2
	exitInput    = 3 // an argument or setting is invalid
	exitNotFound = 4 // no such exchange or account
	exitState    = 5 // not allowed in this state
	exitMail     = 6 // the account is made, but its invitation could not be mailed
	exitDatabase = 7 // the PostgreSQL database cannot be reached
)

type command struct {
	p      *i18n.Printer
	stdin  io.Reader
	stdout io.Writer
	stderr io.Writer
}

func run(p *i18n.Printer, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	c := &command{p: p, stdin: stdin, stdout: stdout, stderr: stderr}
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprint(stdout, p.T("exchange.usage"))
		if len(args) == 0 {
			return exitUsage
		}
		return exitOK
	}
	cmds := map[string]func([]string) error{"init": c.init, "serve": c.serve, "user": c.user, "sweep": c.sweep}
	f, ok := cmds[args[0]]
	if !ok {
		fmt.Fprintln(stderr, p.T("exchange.cli.unknown_command", "Command", args[0]))
		fmt.Fprint(stderr, p.T("exchange.usage"))
		return exitUsage
	}
	err := f(args[1:])
	if err == nil || errors.Is(err, flag.ErrHelp) {
		return exitOK
	}
	return cli.Exit(stderr, "paraphe-exchange", c.explain(err), p.T("hint"))
}

func (c *command) flags(name string) *flag.FlagSet {
	return cli.FlagSet("paraphe-exchange "+name, c.stderr, c.p.T("exchange.usage."+strings.ReplaceAll(name, " ", "_")))
}

func (c *command) usage(msg string) error { return &cli.ExitError{Code: exitUsage, Message: msg} }

// dirFlag adds --dir, defaulting to $PARAPHE_EXCHANGE_DIR.
func (c *command) dirFlag(fs *flag.FlagSet) *string {
	return fs.String("dir", os.Getenv("PARAPHE_EXCHANGE_DIR"), c.p.T("exchange.flag.dir"))
}

// parseOpen parses a command line of npos positional arguments and opens
// the exchange of --dir.
func (c *command) parseOpen(fs *flag.FlagSet, dir *string, args []string, npos int) ([]string, *exchange.Exchange, error) {
	pos, err := cli.Parse(fs, args)
	if err != nil {
		return nil, nil, c.usage(err.Error())
	}
	if len(pos) != npos {
		return nil, nil, c.usage(c.p.T("exchange.usage." + strings.ReplaceAll(strings.TrimPrefix(fs.Name(), "paraphe-exchange "), " ", "_")))
	}
	if *dir == "" {
		return nil, nil, c.usage(c.p.T("exchange.cli.need_dir"))
	}
	x, err := exchange.Open(*dir)
	return pos, x, err
}

// explain turns library errors into the operator's words and exit codes.
func (c *command) explain(err error) error {
	var e *cli.ExitError
	if errors.As(err, &e) {
		return err
	}
	p := c.p
	var ce *exchange.ConfigError
	var in *exchange.InputError
	var unreachable *exchange.UnreachableError
	exit := func(code int, key, hint string, args ...any) error {
		h := ""
		if hint != "" {
			h = p.T(hint)
		}
		return &cli.ExitError{Code: code, Message: p.T(key, args...), Hint: h, Err: err}
	}
	switch {
	case errors.As(err, &ce):
		return exit(exitInput, "exchange.cli.err.config", "", "Field", ce.Field, "Problem", ce.Problem)
	case errors.As(err, &in):
		return exit(exitInput, "exchange.cli.err.input", "", "Problem", p.T("exchange.input."+in.Problem))
	case errors.Is(err, exchange.ErrNoExchange):
		return exit(exitNotFound, "exchange.cli.err.no_exchange", "exchange.cli.hint.init")
	case errors.Is(err, exchange.ErrExists):
		return exit(exitState, "exchange.cli.err.exists", "exchange.cli.hint.other_dir")
	case errors.Is(err, exchange.ErrMasterKey):
		return exit(exitState, "exchange.cli.err.master_key", "exchange.cli.hint.master_key")
	case errors.Is(err, exchange.ErrNoUser):
		return exit(exitNotFound, "exchange.cli.err.no_user", "exchange.cli.hint.list")
	case errors.Is(err, exchange.ErrEmailTaken):
		return exit(exitState, "exchange.cli.err.email_taken", "exchange.cli.hint.invite")
	case errors.Is(err, exchange.ErrManager):
		return exit(exitInput, "exchange.cli.err.manager", "exchange.cli.hint.list")
	case errors.Is(err, exchange.ErrDatabaseURL), errors.Is(err, exchange.ErrPasswordFile):
		return exit(exitInput, "exchange.cli.err.database", "exchange.cli.hint.database", "Err", err.Error())
	case errors.Is(err, exchange.ErrDatabaseInUse):
		return exit(exitState, "exchange.cli.err.database_in_use", "exchange.cli.hint.database_in_use")
	case errors.As(err, &unreachable):
		return exit(exitDatabase, "exchange.cli.err.database_unreachable", "exchange.cli.hint.database_unreachable", "Database", unreachable.Database, "Err", unreachable.Reason)
	case errors.Is(err, exchange.ErrPlainHTTP):
		return exit(exitState, "exchange.cli.err.plain_http", "exchange.cli.hint.plain_http")
	}
	return &cli.ExitError{Code: exitError, Message: err.Error()}
}

func (c *command) init(args []string) error {
	if err := c.refusePINArgs(args); err != nil {
		return err
	}
	fs := c.flags("init")
	dir := c.dirFlag(fs)
	var o exchange.InitOptions
	var p11 exchange.PKCS11
	fs.StringVar(&o.DatabasePasswordFile, "db-password-file", "", c.p.T("exchange.flag.db_password_file"))
	fs.StringVar(&p11.Module, "pkcs11-module", "", c.p.T("exchange.flag.pkcs11_module"))
	fs.StringVar(&p11.Token, "token", "", c.p.T("exchange.flag.token"))
	pinFile := c.pinFlag(fs)
	fs.StringVar(&o.Name, "name", "", c.p.T("exchange.flag.name"))
	fs.StringVar(&o.URL, "url", "", c.p.T("exchange.flag.url"))
	fs.StringVar(&o.Database, "db", "", c.p.T("exchange.flag.db"))
	fs.StringVar(&o.Documents, "documents", "", c.p.T("exchange.flag.documents"))
	fs.StringVar(&o.MasterKey, "master-key", "", c.p.T("exchange.flag.master_key"))
	fs.StringVar(&o.TLSCert, "tls-cert", "", c.p.T("exchange.flag.tls_cert"))
	fs.StringVar(&o.TLSKey, "tls-key", "", c.p.T("exchange.flag.tls_key"))
	fs.StringVar(&o.SMTP.Addr, "smtp", "", c.p.T("exchange.flag.smtp"))
	fs.StringVar(&o.SMTP.From, "from", "", c.p.T("exchange.flag.from"))
	fs.StringVar(&o.SMTP.Username, "smtp-user", "", c.p.T("exchange.flag.smtp_user"))
	fs.StringVar(&o.SMTP.PasswordFile, "smtp-password-file", "", c.p.T("exchange.flag.smtp_password_file"))
	fs.StringVar(&o.SMTP.TLS, "smtp-tls", "", c.p.T("exchange.flag.smtp_tls"))
	fs.StringVar(&o.Trust, "trust", "", c.p.T("exchange.flag.trust"))
	fs.BoolVar(&o.VerifyOnline, "verify-online", false, c.p.T("exchange.flag.verify_online"))
	proxies := fs.String("trusted-proxies", "", c.p.T("exchange.flag.trusted_proxies"))
	if _, err := cli.Parse(fs, args); err != nil {
		return c.usage(err.Error())
	}
	for _, p := range strings.Split(*proxies, ",") {
		if p = strings.TrimSpace(p); p != "" {
			o.TrustedProxies = append(o.TrustedProxies, p)
		}
	}
	if *dir == "" {
		return c.usage(c.p.T("exchange.cli.need_dir"))
	}
	for _, p := range []*string{&o.TLSCert, &o.TLSKey, &o.SMTP.PasswordFile, &o.DatabasePasswordFile} {
		if *p != "" {
			abs, err := filepath.Abs(*p)
			if err != nil {
				return err
			}
			*p = abs
		}
	}
	done, err := c.initToken(&o, &p11, *pinFile)
	if err != nil {
		return err
	}
	defer done()
	if err := exchange.Init(*dir, o); err != nil {
		if key, ok := o.TokenKey.(*pkcs.SecretKey); ok {
			key.Destroy() // made for this exchange, which is not: not left on the token
		}
		return err
	}
	x, err := exchange.Open(*dir)
	if err != nil {
		return err
	}
	defer x.Close()
	fmt.Fprintln(c.stdout, c.p.T("exchange.cli.init.done", "Dir", *dir, "URL", x.Config.URL))
	if o.PKCS11 != nil {
		fmt.Fprintln(c.stdout, c.p.T("exchange.cli.init.token", "Token", p11.Token, "Key", p11.KeyID))
	}
	if !x.CanMail() {
		fmt.Fprintln(c.stdout, c.p.T("exchange.cli.init.no_mail"))
	}
	return nil
}

func (c *command) serve(args []string) error {
	if err := c.refusePINArgs(args); err != nil {
		return err
	}
	fs := c.flags("serve")
	dir := c.dirFlag(fs)
	addr := fs.String("addr", "127.0.0.1:8444", c.p.T("exchange.flag.addr"))
	pinFile := c.pinFlag(fs)
	_, x, err := c.parseOpen(fs, dir, args, 0)
	if err != nil {
		return err
	}
	defer x.Close()
	logout, err := c.useToken(x, *pinFile)
	if err != nil {
		return err
	}
	defer logout()
	l, err := listener(*addr)
	if err != nil {
		return &cli.ExitError{Code: exitError, Message: c.p.T("exchange.cli.err.listen", "Addr", *addr), Hint: c.p.T("exchange.cli.hint.listen"), Err: err}
	}
	defer l.Close()
	log := slog.New(slog.NewJSONHandler(c.stderr, nil))
	x.Log = log
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	// The first line tells scripts and tests where the server listens
	// (useful with --addr 127.0.0.1:0).
	scheme := "http"
	if x.Config.TLSCert != "" {
		scheme = "https"
	}
	log.Info("listening", "addr", l.Addr().String(), "url", scheme+"://"+l.Addr().String(), "public_url", x.Config.URL, "dir", *dir)
	err = x.Serve(ctx, l)
	log.Info("stopped")
	return err
}

// initToken checks init's token flags and, with --pkcs11-module, makes
// the master key on the token; done logs out.
func (c *command) initToken(o *exchange.InitOptions, p11 *exchange.PKCS11, pinFile string) (done func(), err error) {
	if p11.Module == "" {
		if p11.Token != "" || pinFile != "" {
			return nil, c.usage(c.p.T("exchange.cli.err.token_flags"))
		}
		return func() {}, nil
	}
	if o.MasterKey != "" {
		return nil, c.usage(c.p.T("exchange.cli.err.token_flags"))
	}
	keys, err := c.openToken(p11, pinFile)
	if err != nil {
		return nil, err
	}
	key, err := keys.NewSecretKey(masterKeyLabel)
	if err != nil {
		keys.Close()
		return nil, c.explainToken(p11, err)
	}
	p11.KeyID = key.ID
	o.PKCS11, o.TokenKey = p11, key
	return func() { keys.Close() }, nil
}

// listener is the socket systemd passed (LISTEN_FDS=1, for this process
// when LISTEN_PID says so; a test hands one over without it), or a new one.
func listener(addr string) (net.Listener, error) {
	if pid := os.Getenv("LISTEN_PID"); os.Getenv("LISTEN_FDS") == "1" && (pid == "" || pid == fmt.Sprint(os.Getpid())) {
		f := os.NewFile(3, "listener")
		defer f.Close()
		return net.FileListener(f)
	}
	return net.Listen("tcp", addr)
}

func (c *command) sweep(args []string) error {
	fs := c.flags("sweep")
	dir := c.dirFlag(fs)
	_, x, err := c.parseOpen(fs, dir, args, 0)
	if err != nil {
		return err
	}
	defer x.Close()
	n, err := x.Sweep(context.Background())
	if err != nil {
		return err
	}
	fmt.Fprintln(c.stdout, c.p.T("exchange.cli.sweep.done", "Count", n))
	return nil
}

// user runs the account commands.
func (c *command) user(args []string) error {
	sub := map[string]func([]string) error{"add": c.userAdd, "list": c.userList, "invite": c.userInvite,
		"unlock": c.userUnlock, "manager": c.userManager}
	if len(args) == 0 || sub[args[0]] == nil {
		return c.usage(c.p.T("exchange.usage.user"))
	}
	return sub[args[0]](args[1:])
}

func (c *command) userAdd(args []string) error {
	fs := c.flags("user add")
	dir := c.dirFlag(fs)
	firm := fs.Bool("firm", false, c.p.T("exchange.flag.firm"))
	client := fs.Bool("client", false, c.p.T("exchange.flag.client"))
	var n exchange.NewUser
	fs.StringVar(&n.Email, "email", "", c.p.T("exchange.flag.email"))
	fs.StringVar(&n.Name, "name", "", c.p.T("exchange.flag.user_name"))
	fs.StringVar(&n.Lang, "lang", "fr", c.p.T("exchange.flag.lang"))
	fs.StringVar(&n.Manager, "manager", "", c.p.T("exchange.flag.manager"))
	asJSON := fs.Bool("json", false, c.p.T("exchange.flag.json"))
	_, x, err := c.parseOpen(fs, dir, args, 0)
	if err != nil {
		return err
	}
	defer x.Close()
	switch {
	case *firm == *client:
		return c.usage(c.p.T("exchange.cli.err.firm_or_client"))
	case *firm && n.Manager != "":
		return c.usage(c.p.T("exchange.cli.err.manager_for_client"))
	case *firm:
		n.Kind = exchange.Firm
	default:
		n.Kind = exchange.Client
	}
	u, link, mailed, err := x.AddUser(context.Background(), n)
	if u == nil {
		return err
	}
	return c.invited(x, u, link, mailed, err, *asJSON)
}

// invited tells the operator about a new invitation: mailed, or the link
// to hand out.
func (c *command) invited(x *exchange.Exchange, u *exchange.User, link string, mailed bool, err error, asJSON bool) error {
	if asJSON {
		out := struct {
			*exchange.User
			Invitation string `json:"invitation,omitempty"`
			Mailed     bool   `json:"mailed"`
		}{u, "", mailed}
		if !mailed {
			out.Invitation = link
		}
		cli.WriteJSON(c.stdout, out)
	} else {
		fmt.Fprintln(c.stdout, c.p.T("exchange.cli.user.added", "Name", u.Name, "Code", u.Code, "Email", u.Email))
		if mailed {
			fmt.Fprintln(c.stdout, c.p.T("exchange.cli.user.mailed", "Email", u.Email, "Hours", x.Config.InvitationHours))
		} else {
			fmt.Fprintln(c.stdout, c.p.T("exchange.cli.user.link", "Hours", x.Config.InvitationHours))
			fmt.Fprintln(c.stdout, link)
		}
	}
	if err != nil {
		return &cli.ExitError{Code: exitMail, Message: c.p.T("exchange.cli.err.mail", "Err", err.Error()),
			Hint: c.p.T("exchange.cli.hint.mail", "Code", u.Code), Err: err}
	}
	return nil
}

func (c *command) userInvite(args []string) error {
	fs := c.flags("user invite")
	dir := c.dirFlag(fs)
	asJSON := fs.Bool("json", false, c.p.T("exchange.flag.json"))
	pos, x, err := c.parseOpen(fs, dir, args, 1)
	if err != nil {
		return err
	}
	defer x.Close()
	u, link, mailed, err := x.Invite(context.Background(), pos[0])
	if u == nil {
		return err
	}
	return c.invited(x, u, link, mailed, err, *asJSON)
}

func (c *command) userList(args []string) error {
	fs := c.flags("user list")
	dir := c.dirFlag(fs)
	asJSON := fs.Bool("json", false, c.p.T("exchange.flag.json"))
	_, x, err := c.parseOpen(fs, dir, args, 0)
	if err != nil {
		return err
	}
	defer x.Close()
	us, err := x.Users(context.Background(), 0)
	if err != nil {
		return err
	}
	if *asJSON {
		if us == nil {
			us = []exchange.User{}
		}
		return cli.WriteJSON(c.stdout, us)
	}
	if len(us) == 0 {
		fmt.Fprintln(c.stdout, c.p.T("exchange.cli.user.none"))
		return nil
	}
	tw := tabwriter.NewWriter(c.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, c.p.T("exchange.cli.user.header"))
	for _, u := range us {
		state := c.p.T("exchange.cli.user.invited")
		switch {
		case u.Locked:
			state = c.p.T("exchange.cli.user.locked")
		case u.HasPassword && u.TOTP:
			state = c.p.T("exchange.cli.user.active_totp")
		case u.HasPassword:
			state = c.p.T("exchange.cli.user.active")
		}
		manager := u.Manager
		if manager == "" {
			manager = "-"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", u.Code, c.p.T("exchange.kind."+string(u.Kind)), u.Name, u.Email, manager, state)
	}
	return tw.Flush()
}

func (c *command) userUnlock(args []string) error {
	fs := c.flags("user unlock")
	dir := c.dirFlag(fs)
	pos, x, err := c.parseOpen(fs, dir, args, 1)
	if err != nil {
		return err
	}
	defer x.Close()
	u, err := x.Unlock(context.Background(), pos[0])
	if err != nil {
		return err
	}
	fmt.Fprintln(c.stdout, c.p.T("exchange.cli.user.unlocked", "Name", u.Name, "Code", u.Code))
	return nil
}

func (c *command) userManager(args []string) error {
	fs := c.flags("user manager")
	dir := c.dirFlag(fs)
	pos, x, err := c.parseOpen(fs, dir, args, 2)
	if err != nil {
		return err
	}
	defer x.Close()
	if err := x.SetManager(context.Background(), pos[0], pos[1]); err != nil {
		return err
	}
	fmt.Fprintln(c.stdout, c.p.T("exchange.cli.user.manager_set", "Client", pos[0], "Manager", pos[1]))
	return nil
}
