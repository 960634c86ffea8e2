package main

import (
	"crypto"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"os"
	"strings"

	"software.sslmate.com/src/go-pkcs12"

	"github.com/paraphe/paraphe/config"
	"github.com/paraphe/paraphe/internal/atomicfile"
	"github.com/paraphe/paraphe/internal/cli"
	"github.com/paraphe/paraphe/internal/explain"
	"github.com/paraphe/paraphe/internal/local"
	"github.com/paraphe/paraphe/pkcs"
)

// importP12 takes a key and its chain from a PKCS#12 file into a store.
func (a *app) importP12(args []string) error {
	fs := a.flags("import")
	storeName := fs.String("store", "", a.p.T("flag.store"))
	tokenLabel := fs.String("token", "", a.p.T("flag.token"))
	passFile := fs.String("password-file", "", a.p.T("flag.password_file"))
	pinFile := fs.String("pin-file", "", a.p.T("flag.pin_file"))
	pos, err := cli.Parse(fs, args)
	if err != nil {
		return a.usageErr(err)
	}
	if len(pos) != 1 {
		return &cli.ExitError{Code: explain.ExitUsage, Message: a.p.T("usage.import")}
	}
	pol, err := a.policy()
	if err != nil {
		return err
	}
	data, err := os.ReadFile(pos[0])
	if err != nil {
		return &cli.ExitError{Code: explain.ExitUsage, Message: a.p.T("err.read_file", "File", pos[0]), Err: err}
	}
	password, err := a.secret(*passFile, "PARAPHE_P12_PASSWORD", a.p.T("prompt.p12_password", "File", pos[0]))
	if err != nil {
		return err
	}
	priv, leaf, cas, err := pkcs12.DecodeChain(data, string(password))
	clear(password)
	if err != nil {
		if strings.Contains(err.Error(), "password") {
			return &cli.ExitError{Code: explain.ExitBadFile, Message: a.p.T("err.p12_password"), Err: err}
		}
		return &cli.ExitError{Code: explain.ExitBadFile, Message: a.p.T("err.p12_format", "File", pos[0]), Err: err}
	}
	signer, ok := priv.(crypto.Signer)
	if !ok {
		return &cli.ExitError{Code: explain.ExitBadFile, Message: a.p.T("err.p12_format", "File", pos[0])}
	}
	chain := append([]*x509.Certificate{leaf}, cas...)
	store, pin, err := a.storeForNewKey(pol, config.Store(*storeName), *tokenLabel, *pinFile, true)
	if err != nil {
		return err
	}
	defer clear(pin)
	importer, ok := store.(pkcs.Importer)
	if !ok {
		return &cli.ExitError{Code: explain.ExitStoreDisabled, Message: a.p.T("err.store_unsupported", "Store", store.Name())}
	}
	key, err := importer.Import(signer, chain, pin)
	if err != nil {
		return err
	}
	h := pkcs.HolderOf(leaf)
	fmt.Fprintln(a.stdout, a.p.T("import.done", "Name", h.Name, "ID", key.ID, "Store", a.p.T("store."+store.Name())))
	return nil
}

// export writes a certificate chain (public data only) as PEM.
func (a *app) export(args []string) error {
	fs := a.flags("export")
	certID := fs.String("cert", "", a.p.T("flag.cert"))
	out := fs.String("o", "", a.p.T("flag.output"))
	if _, err := cli.Parse(fs, args); err != nil {
		return a.usageErr(err)
	}
	pol, _ := a.policy()
	entry, err := local.FindCert(pol, *certID, a.settings.DefaultCert)
	if err != nil {
		return err
	}
	var buf []byte
	for _, c := range entry.Chain {
		buf = append(buf, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})...)
	}
	if *out == "" {
		_, err := a.stdout.Write(buf)
		return err
	}
	if err := atomicfile.Write(*out, buf, 0o644); err != nil {
		return &cli.ExitError{Code: explain.ExitError, Message: a.p.T("err.write_file", "File", *out), Err: err}
	}
	fmt.Fprintln(a.stderr, a.p.T("export.done", "File", *out, "Count", len(entry.Chain)))
	return nil
}
