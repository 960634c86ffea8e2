package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/paraphe/paraphe/cades"
	"github.com/paraphe/paraphe/config"
	"github.com/paraphe/paraphe/internal/atomicfile"
	"github.com/paraphe/paraphe/internal/cli"
	"github.com/paraphe/paraphe/internal/explain"
	"github.com/paraphe/paraphe/internal/local"
	"github.com/paraphe/paraphe/pdf"
	"github.com/paraphe/paraphe/pkcs"
)

// verifyJSON is one signature in "paraphe verify --json".
type verifyJSON struct {
	pdf.SignatureReport
	Signer *pkcs.Holder `json:"signer,omitempty"`
	Valid  bool         `json:"valid"`
}

// fileJSON is one file in "paraphe verify --json".
type fileJSON struct {
	File  string `json:"file"`
	Valid bool   `json:"valid"`
	Code  int    `json:"code"`
	Error string `json:"error,omitempty"`
	// CAdES is, for a signature file, "attached" (a .p7m) or "detached"
	// (a .p7s); Content the file a detached one signs; Extracted where
	// --extract wrote an attached one's.
	CAdES          string       `json:"cades,omitempty"`
	Content        string       `json:"content,omitempty"`
	Extracted      string       `json:"extracted,omitempty"`
	ValidationTime string       `json:"validation_time,omitempty"`
	Signatures     []verifyJSON `json:"signatures,omitempty"`
}

// verifyItem is a file to verify: a PDF, or a CAdES signature with, for a
// detached one, the file it signs when named after it.
type verifyItem struct {
	file, content string
	cades         bool
}

// verifyItems reads the command line's files: a detached signature takes
// the next file as its content, unless that one is a signature too, or a
// PDF not named after it (FILE.pdf.p7s FILE.pdf: the PDF is its content;
// SIG.p7s OTHER.pdf: two files to verify).
func verifyItems(files []string) []verifyItem {
	var items []verifyItem
	for i := 0; i < len(files); i++ {
		f := files[i]
		if ok, err := pdf.IsPDF(f); err != nil || ok || strings.EqualFold(filepath.Ext(f), ".pdf") {
			items = append(items, verifyItem{file: f})
			continue
		}
		it := verifyItem{file: f, cades: true}
		if cades.Sniff(f) == cades.Detached && i+1 < len(files) {
			next := files[i+1]
			isPDF, _ := pdf.IsPDF(next)
			if cades.Sniff(next) == cades.NotSignature && (!isPDF || next == cades.ContentName(f)) {
				it.content = next
				i++
			}
		}
		items = append(items, it)
	}
	return items
}

func (a *app) verify(args []string) error {
	fs := a.flags("verify")
	asJSON := fs.Bool("json", false, a.p.T("flag.json"))
	online := fs.Bool("online", false, a.p.T("flag.online"))
	report := fs.String("report", "", a.p.T("flag.report"))
	passwordFile := fs.String("password-file", "", a.p.T("flag.password_file"))
	extract := fs.String("extract", "", a.p.T("flag.extract"))
	files, err := cli.Parse(fs, args)
	if err != nil {
		return a.usageErr(err)
	}
	items := verifyItems(files)
	switch {
	case len(files) == 0 || (*report != "" && len(items) != 1) || (*extract != "" && len(items) != 1):
		return &cli.ExitError{Code: explain.ExitUsage, Message: a.p.T("usage.verify")}
	case *report != "" && items[0].cades:
		return &cli.ExitError{Code: explain.ExitUsage, Message: a.p.T("err.verify_report_pdf"), Hint: a.p.T("usage.verify")}
	case *extract != "" && !items[0].cades:
		return &cli.ExitError{Code: explain.ExitUsage, Message: a.p.T("err.verify_extract_pdf"), Hint: a.p.T("usage.verify")}
	}
	// Without a machine policy (or with the template no CA was set in) the
	// user decides what to trust; a policy that cannot be read is said so,
	// not taken for none, which would trust what it keeps out.
	pol, err := a.policy()
	if err != nil && !errors.Is(err, config.ErrNoPolicy) && !errors.Is(err, config.ErrUnconfigured) {
		return err
	}
	opts, warnings := local.VerifyOptions(pol, *online)
	ctx, cancel := context.WithTimeout(context.Background(), networkTimeout)
	defer cancel()
	code := explain.ExitOK
	var first *cli.ExitError
	var all []fileJSON
	for i, it := range items {
		if len(items) > 1 && !*asJSON {
			if i > 0 {
				fmt.Fprintln(a.stdout)
			}
			fmt.Fprintln(a.stdout, a.p.T("verify.file", "File", it.file))
		}
		var fj fileJSON
		var ferr *cli.ExitError
		if it.cades {
			fj, ferr = a.verifyCAdES(ctx, it, opts, *extract, !*asJSON)
		} else {
			fj, ferr = a.verifyFile(ctx, it.file, opts, *passwordFile, *report, !*asJSON)
		}
		if ferr != nil {
			if first == nil {
				first = ferr
			}
			if len(items) > 1 && !*asJSON {
				fmt.Fprintln(a.stdout, "  "+ferr.Message)
			}
		}
		code = worstExit(code, fj.Code)
		all = append(all, fj)
	}
	a.trustWarnings(warnings, all)
	if *asJSON {
		if len(items) == 1 {
			cli.WriteJSON(a.stdout, all[0])
		} else {
			cli.WriteJSON(a.stdout, all)
		}
	}
	switch {
	case len(items) == 1 && first != nil:
		return first
	case code == explain.ExitOK:
		return nil
	case code == explain.ExitSigInvalid || code == explain.ExitSigModified || code == explain.ExitSigUntrusted:
		return &cli.ExitError{Code: code, Message: a.p.T(map[int]string{explain.ExitSigInvalid: "verify.err.invalid",
			explain.ExitSigModified: "verify.err.modified", explain.ExitSigUntrusted: "verify.err.untrusted"}[code])}
	}
	return &cli.ExitError{Code: code, Message: a.p.T("verify.err.files")}
}

// verifyFile verifies one file; an encrypted one is opened with the empty
// password, then the one from --password-file, PARAPHE_PDF_PASSWORD or the
// terminal. It prints the signatures unless quiet, and writes the ETSI
// validation report to report when one is asked.
func (a *app) verifyFile(ctx context.Context, file string, opts pdf.VerifyOptions, passwordFile, report string, print bool) (fileJSON, *cli.ExitError) {
	fj := fileJSON{File: file}
	rep, err := pdf.Verify(ctx, file, opts)
	if errors.Is(err, pdf.ErrPassword) {
		pw, perr := a.pdfPassword(passwordFile, file)
		if perr == nil {
			opts.Password = pw
			rep, err = pdf.Verify(ctx, file, opts)
		}
	}
	if err != nil {
		var e *cli.ExitError
		switch {
		case errors.Is(err, pdf.ErrNoSignature):
			e = &cli.ExitError{Code: explain.ExitNotSigned, Message: a.p.T("verify.unsigned", "File", file)}
		case errors.Is(err, pdf.ErrPassword):
			e = &cli.ExitError{Code: explain.ExitPDFEncrypted, Message: a.p.T("err.pdf_password", "File", file), Hint: a.p.T("hint.pdf_password"), Err: err}
		default:
			e = exitOf(explain.Sign(a.p, err, file))
		}
		fj.Code, fj.Error = e.Code, e.Message
		return fj, e
	}
	a.signatures(&fj, rep, "", print)
	if report != "" {
		if err := writeReport(report, file, rep, opts.Password); err != nil {
			e := &cli.ExitError{Code: explain.ExitError, Message: a.p.T("verify.report_failed", "File", report, "Err", err.Error()), Err: err}
			fj.Code, fj.Error = e.Code, e.Message
			return fj, e
		}
	}
	return fj, nil
}

// signatures adds rep's signatures to fj, with their exit code, and
// prints them unless quiet; label names a signature without a field.
func (a *app) signatures(fj *fileJSON, rep *pdf.Report, label string, print bool) {
	fj.ValidationTime = rep.ValidationTime.UTC().Format("2006-01-02T15:04:05Z")
	for i, s := range rep.Signatures {
		v := verifyJSON{SignatureReport: s, Valid: s.Valid()}
		if s.Certificate != nil {
			h := pkcs.HolderOf(s.Certificate)
			v.Signer = &h
		}
		fj.Signatures = append(fj.Signatures, v)
		fj.Code = worstExit(fj.Code, verifyExit(s))
		if print {
			a.printSignature(i+1, v, label)
		}
	}
	fj.Valid = fj.Code == explain.ExitOK
}

// verifyCAdES verifies a .p7m (writing its content to extract when asked)
// or a .p7s against the file it signs.
func (a *app) verifyCAdES(ctx context.Context, it verifyItem, opts pdf.VerifyOptions, extract string, print bool) (fileJSON, *cli.ExitError) {
	fj := fileJSON{File: it.file}
	rep, err := cades.Verify(ctx, it.file, cades.VerifyOptions{VerifyOptions: opts, Content: it.content, Extract: extract})
	if err != nil {
		var e *cli.ExitError
		switch {
		case extract != "" && errors.Is(err, pdf.ErrOutputExists):
			e = &cli.ExitError{Code: explain.ExitOutput, Message: a.p.T("err.extract_exists", "File", extract), Hint: a.p.T("hint.extract_exists"), Err: err}
		default:
			e = exitOf(explain.Sign(a.p, err, it.file))
		}
		fj.Code, fj.Error = e.Code, e.Message
		return fj, e
	}
	fj.CAdES, fj.Content = "detached", rep.Content
	if rep.Attached {
		fj.CAdES, fj.Extracted = "attached", extract
	}
	if print && fj.Content != "" {
		fmt.Fprintln(a.stdout, a.p.T("verify.cades.content", "File", fj.Content))
	}
	a.signatures(&fj, rep.Report, a.p.T("verify.cades."+fj.CAdES), print)
	if print && fj.Extracted != "" {
		fmt.Fprintln(a.stdout, a.p.T("verify.cades.extracted", "File", fj.Extracted))
	}
	return fj, nil
}

// writeReport writes rep as an ETSI TS 119 102-2 report, whole or not at
// all; the report reads the signatures' evidence from the file again.
func writeReport(path, file string, rep *pdf.Report, password []byte) error {
	fh, err := os.Open(file)
	if err != nil {
		return err
	}
	defer fh.Close()
	fi, err := fh.Stat()
	if err != nil {
		return err
	}
	var b bytes.Buffer
	if err := rep.WriteETSI(&b, fh, fi.Size(), pdf.ETSIOptions{Validator: "Paraphe " + version, Password: password}); err != nil {
		return err
	}
	return atomicfile.Write(path, b.Bytes(), 0o644)
}

// givenPDFPassword is the password of encrypted documents given in a file
// or the environment (never an argument); nil when neither gives one.
func (a *app) givenPDFPassword(file string) ([]byte, error) {
	if file == "" && os.Getenv("PARAPHE_PDF_PASSWORD") == "" {
		return nil, nil
	}
	return a.secret(file, "PARAPHE_PDF_PASSWORD", "")
}

// askPDFPassword asks on the terminal for the password a document needs
// to be signed, as err says: the one that opens it (pdf.ErrPassword), or
// its owner password (pdf.ErrPermission). It is nil for another error, or
// when nothing is typed.
func (a *app) askPDFPassword(file string, err error) []byte {
	key := "prompt.pdf_password"
	switch {
	case errors.Is(err, pdf.ErrPermission):
		key = "prompt.pdf_owner_password"
	case !errors.Is(err, pdf.ErrPassword):
		return nil
	}
	pw, err := a.term.Secret(a.p.T(key, "File", file))
	if err != nil || len(pw) == 0 {
		return nil
	}
	return pw
}

// pdfPassword reads a document's password from a file, the environment or
// the terminal (never an argument).
func (a *app) pdfPassword(file, pdfName string) ([]byte, error) {
	if file == "" && os.Getenv("PARAPHE_PDF_PASSWORD") == "" && !a.term.IsTerminal() {
		return nil, pdf.ErrPassword
	}
	return a.secret(file, "PARAPHE_PDF_PASSWORD", a.p.T("prompt.pdf_password", "File", pdfName))
}

// trustWarnings says which sources of trust could not be used, where it
// matters.
func (a *app) trustWarnings(warnings []error, files []fileJSON) {
	var sigs []pdf.SignatureReport
	for _, f := range files {
		for _, s := range f.Signatures {
			sigs = append(sigs, s.SignatureReport)
		}
	}
	for _, w := range explain.RelevantTrustWarnings(warnings, sigs) {
		fmt.Fprintln(a.stderr, explain.TrustWarning(a.p, w))
	}
}

// verifyExit is a signature's exit code: 30 failed (altered, broken,
// revoked), 32 changed afterwards, 31 not confirmed (INDETERMINATE).
func verifyExit(s pdf.SignatureReport) int {
	switch s.Indication {
	case pdf.TotalPassed:
		return explain.ExitOK
	case pdf.TotalFailed:
		if slices.Contains(s.Problems, pdf.ProblemModified) {
			return explain.ExitSigModified
		}
		return explain.ExitSigInvalid
	}
	return explain.ExitSigUntrusted
}

// worstExit keeps the more serious of two exit codes of verification: a
// file that could not be read, then failed, changed, not confirmed, not
// signed.
func worstExit(a, b int) int {
	rank := func(c int) int {
		switch c {
		case explain.ExitOK:
			return 0
		case explain.ExitNotSigned:
			return 1
		case explain.ExitSigUntrusted:
			return 2
		case explain.ExitSigModified:
			return 3
		case explain.ExitSigInvalid:
			return 4
		}
		return 5
	}
	if rank(b) > rank(a) {
		return b
	}
	return a
}

func (a *app) printSignature(n int, v verifyJSON, label string) {
	state, lines := explain.Signature(a.p, v.SignatureReport)
	field := v.Field
	switch {
	case field != "":
	case label != "":
		field = label
	default:
		field = a.p.T("verify.no_field")
	}
	fmt.Fprintln(a.stdout, a.p.T("verify.header", "N", n, "Field", field, "State", state))
	for _, l := range lines {
		fmt.Fprintln(a.stdout, "  "+l)
	}
}
