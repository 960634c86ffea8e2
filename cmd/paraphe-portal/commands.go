package main

import (
	"context"
	"crypto/x509"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/paraphe/paraphe/config"
	"github.com/paraphe/paraphe/internal/cli"
	"github.com/paraphe/paraphe/internal/i18n"
	"github.com/paraphe/paraphe/pdf"
	"github.com/paraphe/paraphe/portal"
	"github.com/paraphe/paraphe/trust"
)

// Exit codes, documented in the usage text.
const (
	exitOK    = 0
	exitError = 1
	exitUsage = 2
	exitTrust = 3 // the CA certificates to trust cannot be read
	exitStore = 4 // the database cannot be opened (a file, a PostgreSQL server)
)

type command struct {
	p      *i18n.Printer
	stdout io.Writer
	stderr io.Writer
}

func run(p *i18n.Printer, args []string, stdout, stderr io.Writer) int {
	c := &command{p: p, stdout: stdout, stderr: stderr}
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprint(stdout, p.T("portal.usage"))
		if len(args) == 0 {
			return exitUsage
		}
		return exitOK
	}
	var err error
	switch {
	case args[0] == "serve":
		err = c.serve(args[1:])
	case args[0] == "supplier" && len(args) > 1 && args[1] == "add":
		err = c.supplierAdd(args[2:])
	case args[0] == "supplier" && len(args) > 1 && args[1] == "list":
		err = c.supplierList(args[2:])
	default:
		fmt.Fprintln(stderr, p.T("portal.unknown_command", "Command", strings.Join(args, " ")))
		fmt.Fprint(stderr, p.T("portal.usage"))
		return exitUsage
	}
	if err == nil || errors.Is(err, flag.ErrHelp) {
		return exitOK
	}
	return cli.Exit(stderr, "paraphe-portal", err, p.T("hint"))
}

func (c *command) flags(name string) *flag.FlagSet {
	return cli.FlagSet("paraphe-portal "+name, c.stderr, c.p.T("portal.usage"))
}

func (c *command) usage(err error) error {
	return &cli.ExitError{Code: exitUsage, Message: err.Error(), Hint: c.p.T("portal.hint.usage")}
}

// dbFlags are --db and --db-password-file.
type dbFlags struct{ url, passwordFile *string }

func (c *command) dbFlags(fs *flag.FlagSet) dbFlags {
	return dbFlags{fs.String("db", "portal.db", c.p.T("portal.flag.db")),
		fs.String("db-password-file", "", c.p.T("portal.flag.db_password_file"))}
}

func (c *command) openStore(f dbFlags) (*portal.Store, error) {
	d := portal.Database{URL: *f.url, PasswordFile: *f.passwordFile}
	st, err := portal.Open(context.Background(), d)
	if err != nil {
		return nil, &cli.ExitError{Code: exitStore, Message: c.p.T("portal.err.database", "File", d.Redacted(), "Reason", c.dbReason(d, err)),
			Hint: c.p.T("portal.hint.database"), Err: err}
	}
	return st, nil
}

// dbReason says why the database did not open, in the operator's words.
func (c *command) dbReason(d portal.Database, err error) string {
	var ue *portal.UnreachableError
	switch {
	case errors.Is(err, portal.ErrDatabasePassword):
		return c.p.T("portal.db.password")
	case errors.Is(err, portal.ErrPasswordFile):
		return c.p.T("portal.db.password_file", "File", d.PasswordFile)
	case errors.As(err, &ue):
		return c.p.T("portal.db.unreachable", "Reason", ue.Reason)
	case errors.Is(err, portal.ErrSchemaNewer):
		return c.p.T("portal.db.newer")
	}
	return err.Error()
}

// supplierAdd registers a supplier the operator approved and prints its
// master code, shown this once.
func (c *command) supplierAdd(args []string) error {
	fs := c.flags("supplier add")
	db := c.dbFlags(fs)
	pos, err := cli.Parse(fs, args)
	if err != nil {
		return c.usage(err)
	}
	if len(pos) != 1 || strings.TrimSpace(pos[0]) == "" {
		return c.usage(errors.New(c.p.T("portal.err.supplier_name")))
	}
	st, err := c.openStore(db)
	if err != nil {
		return err
	}
	defer st.Close()
	sp, code, err := st.AddSupplier(context.Background(), strings.TrimSpace(pos[0]), time.Now())
	if err != nil {
		return err
	}
	fmt.Fprintln(c.stderr, c.p.T("portal.supplier.added", "Name", sp.Name))
	fmt.Fprintln(c.stdout, code)
	return nil
}

func (c *command) supplierList(args []string) error {
	fs := c.flags("supplier list")
	db := c.dbFlags(fs)
	if _, err := cli.Parse(fs, args); err != nil {
		return c.usage(err)
	}
	st, err := c.openStore(db)
	if err != nil {
		return err
	}
	defer st.Close()
	sps, err := st.Suppliers(context.Background())
	if err != nil {
		return err
	}
	for _, sp := range sps {
		fmt.Fprintf(c.stdout, "%d\t%s\n", sp.ID, sp.Name)
	}
	return nil
}

// serve serves the portal until interrupted.
func (c *command) serve(args []string) error {
	fs := c.flags("serve")
	db := c.dbFlags(fs)
	addr := fs.String("addr", "127.0.0.1:8080", c.p.T("portal.flag.addr"))
	origin := fs.String("origin", "", c.p.T("portal.flag.origin"))
	trusted := fs.String("trust", "", c.p.T("portal.flag.trust"))
	bridgeURL := fs.String("bridge-url", portal.DefaultBridgeURL, c.p.T("portal.flag.bridge_url"))
	certFile := fs.String("tls-cert", "", c.p.T("portal.flag.tls_cert"))
	keyFile := fs.String("tls-key", "", c.p.T("portal.flag.tls_key"))
	offline := fs.Bool("no-revocation", false, c.p.T("portal.flag.no_revocation"))
	if pos, err := cli.Parse(fs, args); err != nil {
		return c.usage(err)
	} else if len(pos) != 0 {
		return c.usage(errors.New(c.p.T("portal.usage")))
	}
	if err := config.CheckOrigin(*origin); err != nil {
		return c.usage(errors.New(c.p.T("portal.err.origin", "Origin", *origin, "Detail", err.Error())))
	}
	if (*certFile == "") != (*keyFile == "") {
		return c.usage(errors.New(c.p.T("portal.err.tls_pair")))
	}
	anchors, inter, err := c.trust(*trusted)
	if err != nil {
		return err
	}
	st, err := c.openStore(db)
	if err != nil {
		return err
	}
	defer st.Close()
	l, err := listener(*addr)
	if err != nil {
		return &cli.ExitError{Code: exitError, Message: c.p.T("portal.err.listen", "Addr", *addr), Err: err}
	}
	log := slog.New(slog.NewJSONHandler(c.stderr, nil))
	p := &portal.Portal{Store: st, Origin: *origin, BridgeURL: strings.TrimRight(*bridgeURL, "/"), Log: log, Intermediates: inter,
		Trust: pdf.VerifyOptions{Trust: anchors, Online: !*offline, HTTP: &http.Client{Timeout: 20 * time.Second}}}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	scheme := "http://"
	if *certFile != "" {
		scheme = "https://"
	}
	log.Info("listening", "addr", l.Addr().String(), "url", scheme+l.Addr().String(), "origin", *origin, "anchors", len(anchors))
	fmt.Fprintln(c.stdout, c.p.T("portal.listening", "URL", scheme+l.Addr().String(), "Origin", *origin))
	err = p.Serve(ctx, l, *certFile, *keyFile)
	log.Info("stopped")
	return err
}

// trust reads the CA certificates the portal trusts (PEM, DER or PKCS#7
// files, or folders of them, separated by commas): each is an anchor, and
// those that are not self-signed may also complete a chain.
func (c *command) trust(list string) ([]pdf.Anchor, []*x509.Certificate, error) {
	if strings.TrimSpace(list) == "" {
		return nil, nil, c.usage(errors.New(c.p.T("portal.err.no_trust")))
	}
	var paths []string
	for _, f := range strings.Split(list, ",") {
		paths = append(paths, strings.TrimSpace(f))
	}
	anchors, err := trust.LoadFiles(pdf.SourcePolicy, paths...)
	if err != nil || len(anchors) == 0 {
		return nil, nil, &cli.ExitError{Code: exitTrust, Message: c.p.T("portal.err.trust", "Files", list), Hint: c.p.T("portal.hint.trust"), Err: err}
	}
	var inter []*x509.Certificate
	for _, a := range anchors {
		inter = append(inter, a.Cert)
	}
	return anchors, inter, nil
}

// listener is the socket a service manager handed over (LISTEN_FDS=1), or
// a new one on addr.
func listener(addr string) (net.Listener, error) {
	pid := os.Getenv("LISTEN_PID")
	if os.Getenv("LISTEN_FDS") == "1" && (pid == "" || pid == strconv.Itoa(os.Getpid())) {
		f := os.NewFile(3, "portal")
		defer f.Close()
		return net.FileListener(f)
	}
	return net.Listen("tcp", addr)
}
