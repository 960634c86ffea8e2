package main

import (
	"context"
	"crypto/x509"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"

	"github.com/paraphe/paraphe/cms"
	"github.com/paraphe/paraphe/config"
	"github.com/paraphe/paraphe/internal/atomicfile"
	"github.com/paraphe/paraphe/internal/cli"
	"github.com/paraphe/paraphe/internal/explain"
	"github.com/paraphe/paraphe/internal/local"
	"github.com/paraphe/paraphe/parcel"
	"github.com/paraphe/paraphe/pkcs"
)

// receiveFlags are receive's own.
type receiveFlags struct {
	outDir, certID, pinFile *string
	register, json          *bool
}

// receive lists the secure folders received, downloads one (decrypting
// what was encrypted end to end with the key of this computer's
// certificate it was encrypted to), or registers the user's encryption
// certificate for senders to encrypt to.
func (a *app) receive(args []string) error {
	fs := a.flags("receive")
	ef := a.addExchangeFlags(fs)
	f := &receiveFlags{
		outDir: fs.String("out-dir", ".", a.p.T("flag.receive_out_dir")), certID: fs.String("cert", "", a.p.T("flag.cert")),
		pinFile: fs.String("pin-file", "", a.p.T("flag.pin_file_current")), register: fs.Bool("register", false, a.p.T("flag.receive_register")),
		json: fs.Bool("json", false, a.p.T("flag.json")),
	}
	pos, err := cli.Parse(fs, args)
	if err != nil {
		return a.usageErr(err)
	}
	if len(pos) > 1 || (*f.register && len(pos) > 0) {
		return &cli.ExitError{Code: explain.ExitUsage, Message: a.p.T("usage.receive")}
	}
	pol, err := a.exchangePolicy()
	if err != nil {
		return err
	}
	var mine *local.Cert
	if *f.register { // before signing in: the certificate must be one to encrypt to
		c, err := local.FindCert(pol, *f.certID, a.settings.DefaultCert)
		if err != nil {
			return err
		}
		if err := cms.CheckRecipient(c.Certificate()); err != nil {
			return &local.RecipientCertError{Reason: "own_usage", Detail: c.ID, Fingerprint: local.Fingerprint(c.Certificate()), Err: err}
		}
		mine = &c
	}
	ctx := context.Background()
	c, err := a.signIn(ctx, pol, ef)
	if err != nil {
		return err
	}
	defer signOut(c)
	switch {
	case mine != nil:
		if err := c.RegisterCertificate(ctx, mine.Chain); err != nil {
			return err
		}
		fmt.Fprintln(a.stdout, a.p.T("receive.registered", "ID", mine.ID, "Fingerprint", local.Fingerprint(mine.Certificate())))
		return nil
	case len(pos) == 0:
		return a.listReceived(ctx, c, *f.json)
	}
	return a.fetch(ctx, pol, c, parcelID(pos[0]), f)
}

// parcelID is a folder's ID, given as it is or as its page's address.
func parcelID(s string) string {
	s = strings.TrimRight(s, "/")
	if i := strings.LastIndex(s, "/parcels/"); i >= 0 {
		s = s[i+len("/parcels/"):]
	}
	id, _, _ := strings.Cut(s, "?")
	return id
}

func (a *app) listReceived(ctx context.Context, c *parcel.Client, asJSON bool) error {
	received, _, err := c.Parcels(ctx)
	if err != nil {
		return err
	}
	if asJSON {
		if received == nil {
			received = []parcel.Parcel{}
		}
		return cli.WriteJSON(a.stdout, received)
	}
	if len(received) == 0 {
		fmt.Fprintln(a.stdout, a.p.T("receive.none"))
		return nil
	}
	tw := tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, a.p.T("receive.header"))
	for _, p := range received {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%s\t%s\n", p.ID, p.Sender.Name, p.Title, p.Count,
			p.Expires.Local().Format(a.p.T("format.datetime")), a.p.T("receive.status."+p.Status))
	}
	return tw.Flush()
}

// saved is a document written to disk.
type saved struct {
	Name     string `json:"name"`
	Path     string `json:"path"`
	Size     int64  `json:"size"`
	EndToEnd bool   `json:"end_to_end"`
	Cert     string `json:"decrypted_with,omitempty"` // the certificate whose key opened it
}

// fetch downloads every document of folder id into --out-dir: none is
// written unless all names are free, each appears whole or not at all,
// and one encrypted end to end only once its integrity is checked.
func (a *app) fetch(ctx context.Context, pol *config.Policy, c *parcel.Client, id string, f *receiveFlags) error {
	p, err := c.Parcel(ctx, id)
	if err != nil {
		return err
	}
	paths := make([]string, len(p.Documents))
	for i, d := range p.Documents {
		paths[i] = filepath.Join(*f.outDir, local.ReceivedName(d))
		if _, err := os.Lstat(paths[i]); err == nil {
			return &cli.ExitError{Code: explain.ExitOutput, Message: a.p.T("err.receive_exists", "File", paths[i]), Hint: a.p.T("hint.receive_exists")}
		}
	}
	if !*f.json {
		fmt.Fprintln(a.stdout, a.p.T("receive.folder", "Title", p.Title, "Name", p.Sender.Name, "Email", p.Sender.Email,
			"Expires", p.Expires.Local().Format(a.p.T("format.datetime"))))
		if p.Note != "" {
			fmt.Fprintln(a.stdout, a.p.T("receive.note"))
			fmt.Fprintln(a.stdout, "  "+strings.ReplaceAll(strings.TrimSpace(p.Note), "\n", "\n  "))
		}
	}
	keys := &keyring{a: a, pol: pol, certID: *f.certID, pinFile: *f.pinFile, open: map[string]*pkcs.Key{}}
	var out []saved
	for i, d := range p.Documents {
		s := saved{Name: filepath.Base(paths[i]), Path: paths[i], Size: d.Size, EndToEnd: d.EndToEnd}
		if d.EndToEnd {
			s.Cert, err = a.fetchEncrypted(ctx, c, p.ID, d, paths[i], keys)
		} else {
			err = atomicfile.Create(paths[i], 0o644, func(w io.Writer) error { return c.Download(ctx, p.ID, d, w) })
		}
		if err != nil {
			return err
		}
		out = append(out, s)
		if !*f.json {
			a.sayFetched(s)
		}
	}
	if *f.json {
		return cli.WriteJSON(a.stdout, struct {
			*parcel.Parcel
			Saved []saved `json:"saved"`
		}{p, out})
	}
	return nil
}

func (a *app) sayFetched(s saved) {
	if s.EndToEnd {
		fmt.Fprintln(a.stdout, a.p.T("receive.decrypted", "Path", s.Path, "ID", s.Cert))
		return
	}
	fmt.Fprintln(a.stdout, a.p.T("receive.saved", "Path", s.Path))
}

// fetchEncrypted downloads an end-to-end document to a file beside its
// destination, then decrypts it into path with the key of the
// certificate it is encrypted to; it returns that certificate's ID.
func (a *app) fetchEncrypted(ctx context.Context, c *parcel.Client, parcelID string, d parcel.Document, path string, keys *keyring) (string, error) {
	enc, err := local.DownloadEncrypted(ctx, c, parcelID, d, filepath.Dir(path))
	if err != nil {
		return "", err
	}
	defer enc.Close()
	id, cert, key, err := keys.forRecipients(enc.Recipients())
	if err != nil {
		return "", err
	}
	return id, atomicfile.Create(path, 0o644, func(w io.Writer) error { return enc.Decrypt(cert, key, w) })
}

// keyring opens, once each, the keys of this computer's certificates that
// documents are encrypted to.
type keyring struct {
	a       *app
	pol     *config.Policy
	certID  string
	pinFile string
	open    map[string]*pkcs.Key
}

// forRecipients finds a certificate here that one of ids names (only
// --cert's, when given) and its key, asking for its PIN the first time.
func (k *keyring) forRecipients(ids []cms.RecipientID) (string, *x509.Certificate, *pkcs.Key, error) {
	certs, err := local.Certs(k.pol)
	if err != nil {
		return "", nil, nil, err
	}
	c, err := local.RecipientCert(certs, ids, k.certID)
	if err != nil {
		return "", nil, nil, err
	}
	if key, ok := k.open[c.ID]; ok {
		return c.ID, c.Certificate(), key, nil
	}
	_, key, pin, err := k.a.openCert(k.pol, c.ID, k.pinFile)
	if err != nil {
		return "", nil, nil, err
	}
	clear(pin)
	k.open[c.ID] = key
	return c.ID, c.Certificate(), key, nil
}
