package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/paraphe/paraphe/config"
	"github.com/paraphe/paraphe/internal/cli"
	"github.com/paraphe/paraphe/internal/explain"
	"github.com/paraphe/paraphe/internal/local"
	"github.com/paraphe/paraphe/parcel"
)

// exchangeFlags are how send and receive reach the firm's exchange.
type exchangeFlags struct {
	url, login, passwordFile *string
}

func (a *app) addExchangeFlags(fs *flag.FlagSet) *exchangeFlags {
	return &exchangeFlags{
		url:          fs.String("exchange", "", a.p.T("flag.exchange")),
		login:        fs.String("login", "", a.p.T("flag.exchange_login")),
		passwordFile: fs.String("password-file", "", a.p.T("flag.exchange_password_file")),
	}
}

// exchangePolicy is the machine policy, or nil where there is none (or
// only the packages' template): the exchange may be reached without one,
// through the system's proxy and roots.
func (a *app) exchangePolicy() (*config.Policy, error) {
	pol, err := config.LoadPolicy()
	if errors.Is(err, config.ErrNoPolicy) || errors.Is(err, config.ErrUnconfigured) {
		return nil, nil
	}
	return pol, err
}

// signIn opens a session with the exchange named by --exchange or the
// policy: the login from --login, PARAPHE_EXCHANGE_LOGIN or the terminal;
// the password from --password-file, PARAPHE_EXCHANGE_PASSWORD or the
// terminal, never an argument; the two-factor code, when the account has
// one, from PARAPHE_OTP or the terminal. The token lives for this command
// only (the caller signs out): nothing is kept on disk or in the keychain.
func (a *app) signIn(ctx context.Context, pol *config.Policy, f *exchangeFlags) (*parcel.Client, error) {
	addr := *f.url
	if addr == "" && pol != nil {
		addr = pol.Exchange
	}
	if addr == "" {
		return nil, &cli.ExitError{Code: explain.ExitUsage, Message: a.p.T("err.exchange_none"), Hint: a.p.T("hint.exchange_none")}
	}
	c, err := parcel.New(addr, local.ExchangeClient(pol))
	if err != nil {
		return nil, &cli.ExitError{Code: explain.ExitUsage, Message: a.p.T("err.exchange_url", "URL", addr), Hint: a.p.T("hint.exchange_none"), Err: err}
	}
	login := *f.login
	if login == "" {
		login = os.Getenv("PARAPHE_EXCHANGE_LOGIN")
	}
	if login == "" {
		if login, err = a.term.Line(a.p.T("prompt.exchange_login", "URL", c.URL())); errors.Is(err, io.EOF) {
			return nil, &cli.ExitError{Code: explain.ExitUsage, Message: a.p.T("err.exchange_no_login"), Hint: a.p.T("hint.exchange_no_login")}
		} else if err != nil {
			return nil, err
		}
	}
	password, err := a.secret(*f.passwordFile, "PARAPHE_EXCHANGE_PASSWORD", a.p.T("prompt.exchange_password", "Login", login))
	if errors.Is(err, io.EOF) {
		return nil, &cli.ExitError{Code: explain.ExitUsage, Message: a.p.T("err.exchange_no_password"), Hint: a.p.T("hint.exchange_no_password")}
	} else if err != nil {
		return nil, err
	}
	defer clear(password)
	err = c.SignIn(ctx, login, string(password), "")
	if errors.Is(err, parcel.ErrTOTPRequired) {
		code := os.Getenv("PARAPHE_OTP")
		if code == "" {
			if code, err = a.term.Line(a.p.T("prompt.exchange_totp")); errors.Is(err, io.EOF) {
				return nil, parcel.ErrTOTPRequired // none given: said as such
			} else if err != nil {
				return nil, err
			}
		}
		err = c.SignIn(ctx, login, string(password), strings.TrimSpace(code))
	}
	if err != nil {
		return nil, err
	}
	return c, nil
}

// signOut ends the session, whatever became of the command.
func signOut(c *parcel.Client) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c.SignOut(ctx)
}

// sendFlags are send's own.
type sendFlags struct {
	to, name, title, note, noteFile, fingerprint *string
	days                                         *int
	e2e, json                                    *bool
}

// send delivers files (signed PDFs, typically) to a client, or a client's
// to their account manager, as a secure folder on the exchange.
func (a *app) send(args []string) error {
	fs := a.flags("send")
	ef := a.addExchangeFlags(fs)
	f := &sendFlags{
		to: fs.String("to", "", a.p.T("flag.send_to")), name: fs.String("name", "", a.p.T("flag.send_name")),
		title: fs.String("title", "", a.p.T("flag.send_title")), note: fs.String("note", "", a.p.T("flag.send_note")),
		noteFile: fs.String("note-file", "", a.p.T("flag.send_note_file")), days: fs.Int("days", 0, a.p.T("flag.send_days")),
		e2e: fs.Bool("e2e", false, a.p.T("flag.send_e2e")), fingerprint: fs.String("e2e-fingerprint", "", a.p.T("flag.send_fingerprint")),
		json: fs.Bool("json", false, a.p.T("flag.json")),
	}
	paths, err := cli.Parse(fs, args)
	if err != nil {
		return a.usageErr(err)
	}
	if len(paths) == 0 || (*f.note != "" && *f.noteFile != "") || (*f.fingerprint != "" && !*f.e2e) {
		return &cli.ExitError{Code: explain.ExitUsage, Message: a.p.T("usage.send")}
	}
	s := parcel.Sending{Recipient: *f.to, RecipientName: *f.name, Title: *f.title, Note: *f.note, Days: *f.days}
	if *f.noteFile != "" {
		data, err := os.ReadFile(*f.noteFile)
		if err != nil {
			return &cli.ExitError{Code: explain.ExitUsage, Message: a.p.T("err.read_file", "File", *f.noteFile), Err: err}
		}
		s.Note = string(data)
	}
	files, err := a.openFiles(paths)
	if err != nil {
		return err
	}
	defer func() {
		for _, file := range files {
			file.Body.(io.Closer).Close()
		}
	}()
	if s.Title == "" {
		s.Title = defaultTitle(paths)
	}
	pol, err := a.exchangePolicy()
	if err != nil {
		return err
	}
	ctx := context.Background()
	c, err := a.signIn(ctx, pol, ef)
	if err != nil {
		return err
	}
	defer signOut(c)
	return a.deliver(ctx, pol, c, s, files, f)
}

// deliver names the recipient, judges their certificate for end to end,
// sends, and says what was done.
func (a *app) deliver(ctx context.Context, pol *config.Policy, c *parcel.Client, s parcel.Sending, files []parcel.File, f *sendFlags) error {
	if c.Account.Kind != "client" && s.Recipient == "" {
		return &cli.ExitError{Code: explain.ExitUsage, Message: a.p.T("err.send_no_recipient"), Hint: a.p.T("hint.send_no_recipient")}
	}
	r, err := c.Recipient(ctx, s.Recipient)
	if err != nil {
		return err
	}
	fingerprint := ""
	if *f.e2e {
		if r.Account == nil {
			return local.ErrNoEncryptionCertificate
		}
		if err := local.CheckRecipient(pol, r.Chain, r.Account.Email, *f.fingerprint, a.now()); err != nil {
			return err
		}
		s.EncryptTo, fingerprint = r.Chain[:1], local.Fingerprint(r.Chain[0])
	}
	sent, err := c.Send(ctx, s, files)
	if err != nil {
		return err
	}
	if *f.json {
		return cli.WriteJSON(a.stdout, struct {
			*parcel.Sent
			EndToEnd    bool   `json:"end_to_end"`
			Fingerprint string `json:"certificate_sha256,omitempty"`
		}{sent, fingerprint != "", fingerprint})
	}
	fmt.Fprintln(a.stdout, a.p.T("send.done", "Title", sent.Title, "Name", sent.Recipient.Name, "Email", sent.Recipient.Email,
		"Count", len(files), "Expires", sent.Expires.Local().Format(a.p.T("format.datetime"))))
	fmt.Fprintln(a.stdout, "  "+sent.URL)
	switch {
	case r.New != "":
		fmt.Fprintln(a.stdout, a.p.T("send.invited", "Email", r.New))
	case sent.Mailed:
		fmt.Fprintln(a.stdout, a.p.T("send.mailed", "Name", sent.Recipient.Name))
	default:
		fmt.Fprintln(a.stdout, a.p.T("send.not_mailed", "Name", sent.Recipient.Name))
	}
	if fingerprint != "" {
		fmt.Fprintln(a.stdout, a.p.T("send.e2e", "Fingerprint", fingerprint))
	}
	return nil
}

// openFiles opens the files to send, each a regular file.
func (a *app) openFiles(paths []string) ([]parcel.File, error) {
	var files []parcel.File
	for _, p := range paths {
		f, err := os.Open(p)
		var fi os.FileInfo
		if err == nil {
			if fi, err = f.Stat(); err == nil && !fi.Mode().IsRegular() {
				err = errors.New("not a regular file")
			}
		}
		if err != nil {
			if f != nil {
				f.Close()
			}
			for _, o := range files {
				o.Body.(io.Closer).Close()
			}
			return nil, &cli.ExitError{Code: explain.ExitUsage, Message: a.p.T("err.read_file", "File", p), Err: err}
		}
		files = append(files, parcel.File{Name: filepath.Base(p), Size: fi.Size(), Body: f})
	}
	return files, nil
}

// defaultTitle is the files' names, when no --title is given.
func defaultTitle(paths []string) string {
	var names []string
	for _, p := range paths {
		names = append(names, filepath.Base(p))
	}
	t := strings.Join(names, ", ")
	if r := []rune(t); len(r) > 200 {
		t = string(r[:199]) + "…"
	}
	return t
}
