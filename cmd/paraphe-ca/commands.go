package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"text/tabwriter"

	"github.com/paraphe/paraphe/ca"
	"github.com/paraphe/paraphe/config"
	"github.com/paraphe/paraphe/internal/atomicfile"
	"github.com/paraphe/paraphe/internal/cli"
	"github.com/paraphe/paraphe/internal/i18n"
	"github.com/paraphe/paraphe/protocol"
)

// Exit codes, documented in the usage text.
const (
	exitOK       = 0
	exitError    = 1
	exitUsage    = 2
	exitInput    = 3 // the record or argument is invalid
	exitNotFound = 4 // no such reference code or serial number
	exitState    = 5 // the object is not in a state that allows this
)

type command struct {
	p      *i18n.Printer
	stdin  io.Reader
	stdout io.Writer
	stderr io.Writer
	term   *cli.Terminal // what is typed on stdin, once asked for
}

func run(p *i18n.Printer, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	c := &command{p: p, stdin: stdin, stdout: stdout, stderr: stderr}
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprint(stdout, p.T("ca.usage"))
		if len(args) == 0 {
			return exitUsage
		}
		return exitOK
	}
	cmds := map[string]func([]string) error{
		"init": c.init, "enroll": c.enroll, "list": c.list, "revoke": c.revoke,
		"reissue": c.reissue, "policy": c.policy, "serve": c.serve, "coupon": c.coupon, "root": c.root,
		"migrate": c.migrate, "audit": c.audit, "rao": c.rao, "remote": c.remote,
	}
	f, ok := cmds[args[0]]
	if !ok {
		fmt.Fprintln(stderr, p.T("ca.unknown_command", "Command", args[0]))
		fmt.Fprint(stderr, p.T("ca.usage"))
		return exitUsage
	}
	err := f(args[1:])
	if err == nil {
		return exitOK
	}
	if errors.Is(err, flag.ErrHelp) {
		return exitOK
	}
	return cli.Exit(stderr, "paraphe-ca", c.explain(err), p.T("hint"))
}

func (c *command) flags(name string) *flag.FlagSet {
	return cli.FlagSet("paraphe-ca "+name, c.stderr, c.p.T("ca.usage."+name))
}

func (c *command) usage(msg string) error {
	return &cli.ExitError{Code: exitUsage, Message: msg}
}

// dirFlag adds --dir, defaulting to $PARAPHE_CA_DIR.
func (c *command) dirFlag(fs *flag.FlagSet) *string {
	return fs.String("dir", os.Getenv("PARAPHE_CA_DIR"), c.p.T("ca.flag.dir"))
}

// parseOpen parses the command line of a command that works on a CA
// folder, checks it has npos positional arguments, and opens the CA.
func (c *command) parseOpen(fs *flag.FlagSet, dir *string, args []string, npos int) ([]string, *ca.Authority, error) {
	pos, err := cli.Parse(fs, args)
	if err != nil {
		return nil, nil, c.usage(err.Error())
	}
	if len(pos) != npos {
		return nil, nil, c.usage(c.p.T("ca.usage." + strings.TrimPrefix(fs.Name(), "paraphe-ca ")))
	}
	a, err := c.open(*dir)
	return pos, a, err
}

func (c *command) open(dir string) (*ca.Authority, error) {
	if dir == "" {
		return nil, c.usage(c.p.T("ca.need_dir"))
	}
	return ca.Open(dir)
}

// explain turns library errors into messages in the operator's language.
func (c *command) explain(err error) error {
	var e *cli.ExitError
	if errors.As(err, &e) {
		return err
	}
	if e := c.explainRecords(err); e != nil {
		return e
	}
	if e := c.explainOfficers(err); e != nil {
		return e
	}
	if e := c.explainRemote(err); e != nil {
		return e
	}
	p := c.p
	var in *ca.InputError
	var te *tokenError
	switch {
	case errors.As(err, &te):
		return c.explainToken(te)
	case errors.Is(err, ca.ErrKeyStore):
		return &cli.ExitError{Code: exitUsage, Message: p.T("ca.err.key_store"), Hint: p.T("ca.hint.key_store"), Err: err}
	case errors.As(err, &in):
		return &cli.ExitError{Code: exitInput, Message: p.T("ca.err.input", "Field", in.Field, "Problem", in.Problem), Err: err}
	case errors.Is(err, protocol.ErrRefFormat), errors.Is(err, protocol.ErrRefCheck):
		return &cli.ExitError{Code: exitInput, Message: p.T("ca.err.ref_format"), Err: err}
	case errors.Is(err, ca.ErrUnknownReference):
		return &cli.ExitError{Code: exitNotFound, Message: p.T("ca.err.unknown_ref"), Hint: p.T("ca.hint.list"), Err: err}
	case errors.Is(err, ca.ErrUnknownSerial):
		return &cli.ExitError{Code: exitNotFound, Message: p.T("ca.err.unknown_serial"), Hint: p.T("ca.hint.list"), Err: err}
	case errors.Is(err, ca.ErrStillUsable):
		return &cli.ExitError{Code: exitState, Message: p.T("ca.err.still_usable"), Hint: p.T("ca.hint.force"), Err: err}
	case errors.Is(err, ca.ErrSerialFormat):
		return &cli.ExitError{Code: exitInput, Message: p.T("ca.err.serial_format"), Hint: p.T("ca.hint.list"), Err: err}
	case errors.Is(err, ca.ErrReason):
		return &cli.ExitError{Code: exitInput, Message: p.T("ca.err.reason"), Hint: p.T("ca.hint.reason"), Err: err}
	case errors.Is(err, ca.ErrAlreadyRevoked):
		return &cli.ExitError{Code: exitState, Message: p.T("ca.err.already_revoked"), Err: err}
	case errors.Is(err, ca.ErrNeedRoot):
		return &cli.ExitError{Code: exitUsage, Message: p.T("ca.err.need_root"), Hint: p.T("ca.hint.need_root"), Err: err}
	case errors.Is(err, ca.ErrNoRoot):
		return &cli.ExitError{Code: exitNotFound, Message: p.T("ca.err.no_root"), Hint: p.T("ca.hint.no_root"), Err: err}
	case errors.Is(err, ca.ErrWrongRoot):
		return &cli.ExitError{Code: exitInput, Message: p.T("ca.err.wrong_root"), Hint: p.T("ca.hint.no_root"), Err: err}
	case errors.Is(err, ca.ErrRootExists):
		return &cli.ExitError{Code: exitState, Message: p.T("ca.err.root_exists"), Hint: p.T("ca.hint.other_root_dir"), Err: err}
	case errors.Is(err, ca.ErrRootCRLDays):
		return &cli.ExitError{Code: exitInput, Message: p.T("ca.err.root_crl_days"), Err: err}
	case errors.Is(err, ca.ErrRenewalOverlap):
		return &cli.ExitError{Code: exitInput, Message: p.T("ca.err.renewal_overlap"), Err: err}
	case errors.Is(err, ca.ErrNoCA):
		return &cli.ExitError{Code: exitNotFound, Message: p.T("ca.err.no_ca"), Hint: p.T("ca.hint.init"), Err: err}
	case errors.Is(err, ca.ErrExists):
		return &cli.ExitError{Code: exitState, Message: p.T("ca.err.exists"), Hint: p.T("ca.hint.other_dir"), Err: err}
	}
	return &cli.ExitError{Code: exitError, Message: err.Error()}
}

type multiFlag []string

func (m *multiFlag) String() string     { return strings.Join(*m, ",") }
func (m *multiFlag) Set(s string) error { *m = append(*m, s); return nil }

func (c *command) init(args []string) error {
	if err := c.refusePINArgs(args); err != nil {
		return err
	}
	fs := c.flags("init")
	dir := c.dirFlag(fs)
	var o ca.InitOptions
	var hosts multiFlag
	fs.StringVar(&o.URL, "url", "https://localhost:8443", c.p.T("ca.flag.url"))
	fs.StringVar(&o.ValidationURL, "validation-url", "", c.p.T("ca.flag.validation_url"))
	fs.StringVar(&o.Name, "name", "Paraphe Demo CA", c.p.T("ca.flag.name"))
	fs.StringVar(&o.KeyType, "key-type", protocol.KeyECDSAP256, c.p.T("ca.flag.key_type"))
	fs.StringVar(&o.HolderKeyType, "holder-key-type", protocol.KeyECDSAP256, c.p.T("ca.flag.holder_key_type"))
	fs.IntVar(&o.ReferenceTTL, "reference-ttl", 15, c.p.T("ca.flag.reference_ttl"))
	fs.IntVar(&o.Validity, "validity", 1095, c.p.T("ca.flag.validity"))
	fs.Var(&hosts, "host", c.p.T("ca.flag.host"))
	fs.BoolVar(&o.RenewalCoupon, "renewal-coupon", false, c.p.T("ca.flag.renewal_coupon"))
	fs.BoolVar(&o.RenewalApproval, "renewal-approval", false, c.p.T("ca.flag.renewal_approval"))
	fs.IntVar(&o.RenewalOverlap, "renewal-overlap", 0, c.p.T("ca.flag.renewal_overlap"))
	fs.IntVar(&o.RootCRLDays, "root-crl-days", 90, c.p.T("ca.flag.root_crl_days"))
	rootDir := c.rootDirFlag(fs)
	var p11 ca.PKCS11
	fs.StringVar(&o.KeyStore, "key-store", ca.KeyStoreFile, c.p.T("ca.flag.key_store"))
	fs.StringVar(&p11.Module, "pkcs11-module", "", c.p.T("ca.flag.pkcs11_module"))
	fs.StringVar(&p11.Token, "token", "", c.p.T("ca.flag.ca_token"))
	pinFile := c.pinFlag(fs)
	dbFlags := c.databaseFlags(fs, &o)
	if _, err := cli.Parse(fs, args); err != nil {
		return c.usage(err.Error())
	}
	if *dir == "" {
		return c.usage(c.p.T("ca.need_dir"))
	}
	if err := dbFlags(); err != nil {
		return err
	}
	o.Hosts, o.RootDir = hosts, rootDirOf(*dir, *rootDir)
	if err := c.initKeyStore(&o, p11, *pinFile); err != nil {
		return err
	}
	if o.Token != nil {
		defer o.Token.Close()
	}
	if err := ca.Init(*dir, o); err != nil {
		if o.Token != nil && isTokenError(err) {
			return &tokenError{p: o.PKCS11, err: err}
		}
		return err
	}
	policy := filepath.Join(*dir, "policy.json")
	if err := writeClientPolicy(*dir, policy); err != nil {
		return err
	}
	fmt.Fprintln(c.stdout, c.p.T("ca.init.done", "Dir", *dir, "Policy", policy))
	fmt.Fprintln(c.stdout, c.p.T("ca.init.root", "Root", o.RootDir, "Days", o.RootCRLDays))
	if o.Token != nil {
		fmt.Fprintln(c.stdout, c.p.T("ca.init.token", "Token", o.Token.Label()))
	}
	if o.RenewalApproval {
		fmt.Fprintln(c.stdout, c.p.T("ca.init.approval"))
	}
	return nil
}

// initKeyStore checks init's key store flags and, for a token, opens it.
func (c *command) initKeyStore(o *ca.InitOptions, p11 ca.PKCS11, pinFile string) error {
	switch o.KeyStore {
	case ca.KeyStoreFile:
		if p11.Module != "" || p11.Token != "" || pinFile != "" {
			return c.usage(c.p.T("ca.err.token_flags"))
		}
		return nil
	case ca.KeyStorePKCS11:
		if p11.Module == "" {
			return c.usage(c.p.T("ca.err.need_module"))
		}
		keys, err := c.openToken(&p11, pinFile)
		if err != nil {
			return err
		}
		o.PKCS11, o.Token = &p11, keys
		return nil
	}
	return &cli.ExitError{Code: exitUsage, Message: c.p.T("ca.err.key_store"), Hint: c.p.T("ca.hint.key_store")}
}

// writeClientPolicy writes the machine policy that points clients at the
// new CA in dir, for its operator to hand to IT.
func writeClientPolicy(dir, path string) error {
	a, err := ca.Open(dir)
	if err != nil {
		return err
	}
	defer a.Close()
	data, err := config.PolicyFor(a.Config.URL, ca.Fingerprint(a.Root))
	if err != nil {
		return err
	}
	return atomicfile.Write(path, data, 0o644)
}

// rootDirFlag adds --root-dir, the folder of the root CA's key.
func (c *command) rootDirFlag(fs *flag.FlagSet) *string {
	return fs.String("root-dir", "", c.p.T("ca.flag.root_dir"))
}

// rootDirOf is the root folder given, or the one init makes by default:
// beside the CA folder, never in it.
func rootDirOf(dir, rootDir string) string {
	if rootDir != "" {
		return rootDir
	}
	return filepath.Clean(dir) + "-root"
}

// useRoot opens the root key in rootDir for a.
func useRoot(a *ca.Authority, dir, rootDir string) error {
	r, err := ca.OpenRoot(rootDirOf(dir, rootDir))
	if err != nil {
		return err
	}
	return a.UseRoot(r)
}

func (c *command) enroll(args []string) error {
	// The record, answers included, comes from a file or standard input:
	// a command line is read by every user of the machine (ps,
	// /proc/PID/cmdline) and kept in shell histories. Older scripts that
	// still pass --question and --answer are told so, not shown a flag
	// error.
	for _, arg := range args {
		name, _, _ := strings.Cut(strings.TrimLeft(arg, "-"), "=")
		if strings.HasPrefix(arg, "-") && (name == "answer" || name == "question") {
			return &cli.ExitError{Code: exitUsage, Message: c.p.T("ca.err.answers_on_command_line"), Hint: c.p.T("ca.hint.record_file")}
		}
	}
	fs := c.flags("enroll")
	dir := c.dirFlag(fs)
	asJSON := fs.Bool("json", false, c.p.T("ca.flag.json"))
	file := fs.String("file", "", c.p.T("ca.flag.file"))
	seal := fs.Bool("seal", false, c.p.T("ca.flag.seal"))
	if _, err := cli.Parse(fs, args); err != nil {
		return c.usage(err.Error())
	}
	in := c.stdin
	if *file != "" {
		f, err := os.Open(*file)
		if err != nil {
			return &cli.ExitError{Code: exitInput, Message: c.p.T("ca.err.record_file", "Err", err.Error()), Hint: c.p.T("ca.hint.record_file"), Err: err}
		}
		defer f.Close()
		in = f
	}
	var h ca.Holder
	dec := json.NewDecoder(in)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&h); err != nil {
		return &cli.ExitError{Code: exitInput, Message: c.p.T("ca.err.record_json", "Err", err.Error()), Hint: c.p.T("ca.hint.record_json")}
	}
	h.Seal = h.Seal || *seal
	a, err := c.open(*dir)
	if err != nil {
		return err
	}
	defer a.Close()
	id, code, err := a.EnrollHolder(c.ctx(), h)
	if err != nil {
		return err
	}
	if *asJSON {
		h.ID, h.Questions = id, nil
		json.NewEncoder(c.stdout).Encode(struct {
			ca.Holder
			Reference string `json:"reference"`
		}{h, code})
		return nil
	}
	if h.Seal {
		fmt.Fprintln(c.stdout, c.p.T("ca.enroll.done_seal", "Name", h.Organization))
	} else {
		fmt.Fprintln(c.stdout, c.p.T("ca.enroll.done", "Name", h.Name))
	}
	fmt.Fprintln(c.stdout, code)
	return nil
}

func (c *command) list(args []string) error {
	fs := c.flags("list")
	dir := c.dirFlag(fs)
	asJSON := fs.Bool("json", false, c.p.T("ca.flag.json"))
	full := fs.Bool("full-codes", false, c.p.T("ca.flag.full_codes"))
	caCerts := fs.Bool("ca", false, c.p.T("ca.flag.ca_certs"))
	_, a, err := c.parseOpen(fs, dir, args, 0)
	if err != nil {
		return err
	}
	defer a.Close()
	if *caCerts {
		return c.listAuthority(a, *asJSON)
	}
	hs, err := a.List(c.ctx(), *full)
	if err != nil {
		return err
	}
	if *asJSON {
		if hs == nil {
			hs = []ca.HolderStatus{}
		}
		return cli.WriteJSON(c.stdout, hs)
	}
	if len(hs) == 0 {
		fmt.Fprintln(c.stdout, c.p.T("ca.list.empty"))
		return nil
	}
	tw := tabwriter.NewWriter(c.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, c.p.T("ca.list.header"))
	for _, h := range hs {
		ref, state := "-", "-"
		if n := len(h.References); n > 0 {
			ref, state = h.References[n-1].Code, c.p.T("state."+h.References[n-1].State)
		}
		certs := []string{}
		for _, ct := range h.Certificates {
			s := ct.Serial
			switch {
			case ct.Revoked != nil && ct.Reason == "superseded":
				s += " (" + c.p.T("ca.list.superseded") + ")"
			case ct.Revoked != nil:
				s += " (" + c.p.T("ca.list.revoked") + ")"
			case ct.SupersededFrom != nil:
				s += " (" + c.p.T("ca.list.superseded_from", "Date", c.p.Date(*ct.SupersededFrom)) + ")"
			}
			certs = append(certs, s)
		}
		name, number := h.Name, h.MemberNumber
		if h.Seal {
			name, number = c.p.T("ca.list.seal", "Name", h.Organization), h.OrganizationID
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\n", h.ID, name, number, ref, state, strings.Join(certs, ", "))
	}
	return tw.Flush()
}

// listAuthority lists the certificates the root issued, and until when
// the root CRL is signed.
func (c *command) listAuthority(a *ca.Authority, asJSON bool) error {
	certs, err := a.ListAuthority(c.ctx())
	if err != nil {
		return err
	}
	if asJSON {
		return cli.WriteJSON(c.stdout, certs)
	}
	tw := tabwriter.NewWriter(c.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, c.p.T("ca.list.ca_header"))
	for _, ct := range certs {
		state := c.p.T("ca.list.in_use")
		switch {
		case ct.Revoked != nil:
			state = c.p.T("ca.list.revoked")
		case !ct.Current:
			state = c.p.T("ca.list.replaced")
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t(%s)\t%s\n", c.p.T("ca.role."+ct.Role), ct.Serial, c.p.Date(ct.NotAfter), state, ct.Subject)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if l, err := a.RootCRLInfo(); err == nil {
		fmt.Fprintln(c.stdout, c.p.T("ca.list.root_crl", "Date", c.p.Date(l.NextUpdate)))
	}
	return nil
}

func (c *command) revoke(args []string) error {
	fs := c.flags("revoke")
	dir := c.dirFlag(fs)
	reason := fs.String("reason", "unspecified", c.p.T("ca.flag.reason"))
	rootDir := c.rootDirFlag(fs)
	pos, a, err := c.parseOpen(fs, dir, args, 1)
	if err != nil {
		return err
	}
	defer a.Close()
	serial, err := ca.ParseSerial(pos[0])
	if err != nil {
		return err
	}
	if *rootDir != "" {
		if err := useRoot(a, *dir, *rootDir); err != nil {
			return err
		}
	}
	revoked, err := a.RevokeChain(c.ctx(), serial, *reason)
	if err != nil {
		return err
	}
	fmt.Fprintln(c.stdout, c.p.T("ca.revoke.done", "Serial", serial))
	if len(revoked) > 1 {
		fmt.Fprintln(c.stdout, c.p.T("ca.revoke.successors", "Serials", strings.Join(revoked[1:], ", ")))
	}
	if *rootDir != "" {
		if l, err := a.RootCRLInfo(); err == nil {
			fmt.Fprintln(c.stdout, c.p.T("ca.root_crl.signed", "Date", c.p.Date(l.NextUpdate)))
		}
	}
	return nil
}

func (c *command) reissue(args []string) error {
	fs := c.flags("reissue")
	dir := c.dirFlag(fs)
	force := fs.Bool("force", false, c.p.T("ca.flag.force"))
	pos, a, err := c.parseOpen(fs, dir, args, 1)
	if err != nil {
		return err
	}
	defer a.Close()
	code, err := a.Reissue(c.ctx(), pos[0], *force)
	if err != nil {
		return err
	}
	fmt.Fprintln(c.stdout, c.p.T("ca.reissue.done"))
	fmt.Fprintln(c.stdout, code)
	return nil
}

func (c *command) policy(args []string) error {
	fs := c.flags("policy")
	dir := c.dirFlag(fs)
	u := fs.String("url", "", c.p.T("ca.flag.policy_url"))
	_, a, err := c.parseOpen(fs, dir, args, 0)
	if err != nil {
		return err
	}
	defer a.Close()
	if *u == "" {
		*u = a.Config.URL
	}
	data, err := config.PolicyFor(*u, ca.Fingerprint(a.Root))
	if err != nil {
		return &cli.ExitError{Code: exitInput, Message: c.p.T("ca.err.policy_url", "URL", *u), Err: err}
	}
	_, err = c.stdout.Write(data)
	return err
}

func (c *command) serve(args []string) error {
	if err := c.refusePINArgs(args); err != nil {
		return err
	}
	fs := c.flags("serve")
	dir := c.dirFlag(fs)
	addr := fs.String("addr", "127.0.0.1:8443", c.p.T("ca.flag.addr"))
	httpAddr := fs.String("http-addr", "127.0.0.1:8080", c.p.T("ca.flag.http_addr"))
	maxConns := fs.Int("max-connections", ca.DefaultMaxConnections, c.p.T("ca.flag.max_connections"))
	answerQueue := fs.Int("answer-queue", 0, c.p.T("ca.flag.answer_queue", "PerCPU", ca.AnswerQueuePerCPU))
	adminAddr := fs.String("admin-addr", "127.0.0.1:9180", c.p.T("ca.flag.admin_addr"))
	pinFile := c.pinFlag(fs)
	_, a, err := c.parseOpen(fs, dir, args, 0)
	if err != nil {
		return err
	}
	defer a.Close()
	// The server never holds the root key: the root folder is kept
	// apart, offline; the root CRL is a file signed ahead.
	if p := a.RootKeyInFolder(); p != "" {
		return &cli.ExitError{Code: exitState, Message: c.p.T("ca.err.root_key_in_folder", "File", p),
			Hint: c.p.T("ca.hint.root_key_in_folder", "File", p, "Dir", *dir, "Root", rootDirOf(*dir, "")), Err: ca.ErrRootKeyInFolder}
	}
	if _, err := a.RootCRLInfo(); err != nil {
		return &cli.ExitError{Code: exitState, Message: c.p.T("ca.err.no_root_crl"),
			Hint: c.p.T("ca.hint.root_crl", "Dir", *dir, "Root", rootDirOf(*dir, "")), Err: err}
	}
	if *maxConns < 1 {
		return c.usage(c.p.T("ca.err.max_connections"))
	}
	if *answerQueue < 0 {
		return c.usage(c.p.T("ca.err.answer_queue"))
	}
	if err := c.useToken(a, *pinFile); err != nil {
		return err
	}
	a.MaxConnections, a.AnswerQueue = *maxConns, *answerQueue
	l, lv, err := listeners(*addr, *httpAddr)
	if err != nil {
		return &cli.ExitError{Code: exitError, Message: c.p.T("ca.err.listen", "Addr", *addr+" "+*httpAddr), Hint: c.p.T("ca.hint.listen"), Err: err}
	}
	adminURL := ""
	if *adminAddr != "" {
		if a.Admin, err = net.Listen("tcp", *adminAddr); err != nil {
			l.Close()
			lv.Close()
			return &cli.ExitError{Code: exitError, Message: c.p.T("ca.err.listen", "Addr", *adminAddr), Hint: c.p.T("ca.hint.listen"), Err: err}
		}
		adminURL = "http://" + a.Admin.Addr().String()
	}
	log := slog.New(slog.NewJSONHandler(c.stderr, nil))
	slog.SetDefault(log)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	// The first line tells scripts and tests where the server listens
	// (useful with --addr 127.0.0.1:0).
	log.Info("listening", "addr", l.Addr().String(), "url", "https://"+l.Addr().String(),
		"validation_url", "http://"+lv.Addr().String(), "admin_url", adminURL, "dir", *dir)
	err = a.Serve(ctx, l, lv, log)
	log.Info("stopped")
	return err
}

func (c *command) coupon(args []string) error {
	if len(args) == 0 || args[0] != "create" {
		return c.usage(c.p.T("ca.usage.coupon"))
	}
	fs := c.flags("coupon")
	dir := c.dirFlag(fs)
	count := fs.Int("count", 1, c.p.T("ca.flag.count"))
	_, a, err := c.parseOpen(fs, dir, args[1:], 0)
	if err != nil {
		return err
	}
	defer a.Close()
	codes, err := a.CreateCoupons(c.ctx(), *count)
	if err != nil {
		return err
	}
	if !a.Config.RenewalNeedsCoupon {
		fmt.Fprintln(c.stderr, c.p.T("ca.coupon.not_required"))
	}
	for _, code := range codes {
		fmt.Fprintln(c.stdout, code)
	}
	return nil
}

// root runs the commands that need the root CA's key.
func (c *command) root(args []string) error {
	if len(args) == 0 || (args[0] != "crl" && args[0] != "renew") {
		return c.usage(c.p.T("ca.usage.root"))
	}
	if err := c.refusePINArgs(args); err != nil {
		return err
	}
	fs := c.flags("root")
	dir := c.dirFlag(fs)
	rootDir := c.rootDirFlag(fs)
	pinFile := c.pinFlag(fs)
	npos := 0
	if args[0] == "renew" {
		npos = 1
	}
	pos, a, err := c.parseOpen(fs, dir, args[1:], npos)
	if err != nil {
		return err
	}
	defer a.Close()
	if err := useRoot(a, *dir, *rootDir); err != nil {
		return err
	}
	ctx := c.ctx()
	if args[0] == "crl" {
		l, err := a.SignRootCRL(ctx)
		if err != nil {
			return err
		}
		fmt.Fprintln(c.stdout, c.p.T("ca.root_crl.signed", "Date", c.p.Date(l.NextUpdate)))
		return nil
	}
	if pos[0] != ca.RoleTLS && pos[0] != ca.RoleTSA {
		return c.usage(c.p.T("ca.usage.root"))
	}
	if pos[0] == ca.RoleTSA { // its new key is made where the CA's keys are
		if err := c.useToken(a, *pinFile); err != nil {
			return err
		}
	}
	old, cert, err := a.RenewServiceCert(ctx, pos[0])
	if err != nil {
		return err
	}
	fmt.Fprintln(c.stdout, c.p.T("ca.root.renewed", "Role", c.p.T("ca.role."+pos[0]), "Serial", ca.SerialOf(cert), "Date", c.p.Date(cert.NotAfter)))
	fmt.Fprintln(c.stdout, c.p.T("ca.root.renewed_next", "Old", old, "Dir", *dir, "Root", rootDirOf(*dir, *rootDir)))
	return nil
}

// listeners returns the HTTPS and plain-HTTP sockets: the two systemd (or
// a test) passed in (socket activation: LISTEN_FDS=2, descriptors 3 and 4,
// in that order), or new ones on addr and httpAddr.
func listeners(addr, httpAddr string) (net.Listener, net.Listener, error) {
	pid := os.Getenv("LISTEN_PID")
	if os.Getenv("LISTEN_FDS") == "2" && (pid == "" || pid == strconv.Itoa(os.Getpid())) {
		var ls [2]net.Listener
		for i := range ls {
			f := os.NewFile(uintptr(3+i), "listener")
			l, err := net.FileListener(f)
			f.Close()
			if err != nil {
				return nil, nil, err
			}
			ls[i] = l
		}
		return ls[0], ls[1], nil
	}
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, nil, err
	}
	lv, err := net.Listen("tcp", httpAddr)
	if err != nil {
		l.Close()
		return nil, nil, err
	}
	return l, lv, nil
}
