package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/term"

	"github.com/paraphe/paraphe/activation"
	"github.com/paraphe/paraphe/cades"
	"github.com/paraphe/paraphe/internal/cli"
	"github.com/paraphe/paraphe/internal/explain"
	"github.com/paraphe/paraphe/pdf"
)

// signResult is one line of "paraphe sign --json".
type signResult struct {
	Input         string     `json:"input"`
	Output        string     `json:"output,omitempty"`
	OK            bool       `json:"ok"`
	Error         string     `json:"error,omitempty"`
	Field         string     `json:"field,omitempty"`
	Level         string     `json:"level,omitempty"`
	SigningTime   *time.Time `json:"signing_time,omitempty"`
	TimestampTime *time.Time `json:"timestamp_time,omitempty"`
	// Repaired is what was rebuilt of a damaged input (--repair).
	Repaired *repairJSON `json:"repaired,omitempty"`
	// Code is the exit code this file alone would have given.
	Code int `json:"code,omitempty"`
	hint string
	// filled: Field was an empty field of the document.
	filled bool
	what   string // Repaired in words
}

type repairJSON struct {
	Truncated     bool `json:"truncated"`
	Rebuilt       bool `json:"rebuilt"`
	Objects       int  `json:"objects,omitempty"`
	Pages         int  `json:"pages"`
	PagesDeclared int  `json:"pages_declared"`
}

func (a *app) sign(args []string) error {
	f, err := a.signFlags(args)
	if err != nil {
		return err
	}
	lvl := pdf.Level(strings.ToUpper(f.level))
	if lvl != pdf.LevelB && lvl != pdf.LevelT && lvl != pdf.LevelLT && lvl != pdf.LevelLTA {
		return a.signUsage("err.sign_level")
	}
	others := notPDFs(f.files)
	if err := a.checkCAdES(f.fs, others, lvl, f.detached); err != nil {
		return err
	}
	opts, err := a.signOptions(f, lvl)
	if err != nil {
		return err
	}

	pol, err := a.policy()
	if err != nil {
		return err
	}
	// The CA's own time-stamping authority unless one is named.
	ctx, cancel := context.WithTimeout(context.Background(), networkTimeout)
	hc, caTSA, err := activation.SigningServices(ctx, pol, lvl != pdf.LevelB && opts.TSA == "")
	cancel()
	if err != nil {
		return err
	}
	opts.HTTP = hc
	if opts.TSA == "" {
		opts.TSA = caTSA
	}

	jobs, err := a.signJobs(f, &opts, others)
	defer func() {
		clear(opts.Password)
		for _, j := range jobs {
			clear(j.Password)
		}
	}()
	if err != nil {
		return err
	}

	_, key, pin, err := a.openCert(pol, f.certID, f.pinFile)
	if err != nil {
		return err
	}
	clear(pin)
	signer := &pdf.Signer{Key: key, Chain: key.Chain, Opts: opts}
	// Files that are not PDFs get a CAdES signature of the same key and
	// level, in the same batch.
	other := &cades.Signer{PDF: signer, Detached: f.detached}
	for i, in := range f.files {
		if others[in] {
			jobs[i].Signer = other
		}
	}
	return a.signFiles(signer, jobs, f)
}

// signArgs are paraphe sign's flags and files.
type signArgs struct {
	fs    *flag.FlagSet // as parsed: which flags were given
	files []string

	certID, pinFile  string // the certificate, and a file with its PIN
	level, tsa       string
	reason, location string
	certify, repair  bool
	mdp              int
	lock             *pdf.FieldLock
	out, outDir      string
	asJSON           bool
	passwordFile     string // the encrypted documents' password
	detached         bool   // files that are not PDFs: a .p7s beside them

	// The visible signature.
	visible            bool
	page               int
	rect, field, image string
}

// signFlags reads paraphe sign's command line and refuses what does not go
// together.
func (a *app) signFlags(args []string) (*signArgs, error) {
	f := &signArgs{fs: a.flags("sign")}
	fs := f.fs
	fs.StringVar(&f.certID, "cert", "", a.p.T("flag.cert"))
	fs.StringVar(&f.level, "level", "B-T", a.p.T("flag.level"))
	fs.StringVar(&f.tsa, "tsa", "", a.p.T("flag.tsa"))
	fs.BoolVar(&f.certify, "certify", false, a.p.T("flag.certify"))
	fs.IntVar(&f.mdp, "mdp", 0, a.p.T("flag.mdp"))
	fs.Func("lock", a.p.T("flag.lock"), func(s string) error {
		f.lock = addLock(f.lock, s)
		return nil
	})
	fs.BoolVar(&f.visible, "visible", false, a.p.T("flag.visible"))
	fs.IntVar(&f.page, "page", 1, a.p.T("flag.page"))
	fs.StringVar(&f.rect, "rect", "", a.p.T("flag.rect"))
	fs.StringVar(&f.field, "field", "", a.p.T("flag.field"))
	fs.StringVar(&f.reason, "reason", "", a.p.T("flag.reason"))
	fs.StringVar(&f.location, "location", "", a.p.T("flag.location"))
	fs.StringVar(&f.image, "image", "", a.p.T("flag.image"))
	fs.StringVar(&f.out, "o", "", a.p.T("flag.output_pdf"))
	fs.StringVar(&f.outDir, "out-dir", "", a.p.T("flag.out_dir"))
	fs.BoolVar(&f.asJSON, "json", false, a.p.T("flag.json"))
	fs.StringVar(&f.pinFile, "pin-file", "", a.p.T("flag.pin_file_current"))
	fs.StringVar(&a.otpFile, "otp-file", "", a.p.T("flag.otp_file"))
	fs.BoolVar(&f.repair, "repair", false, a.p.T("flag.repair"))
	fs.StringVar(&f.passwordFile, "password-file", "", a.p.T("flag.password_file"))
	fs.BoolVar(&f.detached, "detached", false, a.p.T("flag.detached"))
	files, err := cli.Parse(fs, args)
	if err != nil {
		return nil, a.usageErr(err)
	}
	f.files = files
	switch {
	case len(files) == 0:
		return nil, a.signUsage("err.sign_no_files")
	case f.out != "" && (len(files) > 1 || f.outDir != ""):
		return nil, a.signUsage("err.sign_o_one")
	case f.field != "" && f.rect != "":
		return nil, a.signUsage("err.sign_field_rect")
	case f.mdp != 0 && !f.certify:
		return nil, a.signUsage("err.sign_mdp_certify")
	case f.mdp < 0 || f.mdp > pdf.MDPAnnotations:
		return nil, a.signUsage("err.sign_mdp")
	}
	return f, nil
}

func (a *app) signUsage(key string) error {
	return &cli.ExitError{Code: explain.ExitUsage, Message: a.p.T(key), Hint: a.p.T("usage.sign")}
}

// signOptions are the signer's options the flags ask for: time-stamping
// authority, certification and locks, the visible stamp.
func (a *app) signOptions(f *signArgs, lvl pdf.Level) (pdf.Options, error) {
	opts := pdf.Options{Level: lvl, TSA: f.tsa, Certify: f.certify, MDP: f.mdp, Lock: f.lock, Reason: f.reason, Location: f.location, Repair: f.repair}
	app := &pdf.Appearance{Page: f.page, Field: f.field, Lang: a.p.Lang, Zone: time.Local, Labels: explain.StampLabels(a.p)}
	if !f.visible && f.field == "" && f.rect == "" {
		// A prepared form: the next empty field is where this signer signs.
		opts.NextField = app
		return opts, a.readImage(f, app)
	}
	if f.rect != "" {
		r, err := parseRect(f.rect)
		if err != nil {
			return pdf.Options{}, a.signUsage("err.sign_rect")
		}
		app.Rect = r
	}
	if err := a.readImage(f, app); err != nil {
		return pdf.Options{}, err
	}
	opts.Appearance = app
	return opts, nil
}

// readImage puts the picture --image names in the stamp.
func (a *app) readImage(f *signArgs, app *pdf.Appearance) error {
	if f.image == "" {
		return nil
	}
	var err error
	if app.Image, err = os.ReadFile(f.image); err != nil {
		return &cli.ExitError{Code: explain.ExitUsage, Message: a.p.T("err.read_file", "File", f.image), Err: err}
	}
	return nil
}

// signJobs are the files to sign and where each signature goes. An
// encrypted document's password is the one given for the batch (in
// opts), or asked for each document that needs one, before the PIN.
func (a *app) signJobs(f *signArgs, opts *pdf.Options, others map[string]bool) ([]pdf.Job, error) {
	var err error
	if opts.Password, err = a.givenPDFPassword(f.passwordFile); err != nil {
		return nil, &cli.ExitError{Code: explain.ExitUsage, Message: a.p.T("err.read_file", "File", f.passwordFile), Err: err}
	}
	ask := opts.Password == nil && a.term.IsTerminal()
	jobs := make([]pdf.Job, len(f.files))
	for i, in := range f.files {
		jobs[i] = pdf.Job{In: in, Out: outputFor(in, f.out, f.outDir)}
		if others[in] {
			jobs[i].Out = cadesOutput(in, f.out, f.outDir, f.detached)
			continue
		}
		if ask {
			if _, err := pdf.Inspect(in, *opts); err != nil {
				jobs[i].Password = a.askPDFPassword(in, err)
			}
		}
	}
	return jobs, nil
}

// signFiles signs the jobs, says how each went and ends with the exit of
// the one that failed, or of some that did.
func (a *app) signFiles(signer *pdf.Signer, jobs []pdf.Job, f *signArgs) error {
	files := f.files
	progress := a.progress(len(files), f.asJSON)
	done := signer.SignFiles(context.Background(), jobs, pdf.Progress{
		FileTimeout: networkTimeout,
		Done:        func(i int, _ pdf.JobResult) { progress(files[i]) },
	})
	results := make([]signResult, len(files))
	for i, r := range done {
		results[i] = a.signResult(jobs[i], r)
	}

	failed := 0
	for _, r := range results {
		if !r.OK {
			failed++
		}
	}
	if failed == len(files) && len(files) > 1 && oneError(done) {
		// The batch's authorisation was refused (a remote key's wrong PIN
		// or one-time password): nothing was signed, for one reason.
		e := explain.Error(a.p, done[0].Err)
		return &cli.ExitError{Code: e.Code, Message: a.p.T("err.sign_batch_refused", "Total", len(files), "Err", e.Text), Hint: e.Hint, Err: done[0].Err}
	}
	if f.asJSON {
		cli.WriteJSON(a.stdout, results)
	} else {
		a.printSignResults(results)
	}
	switch {
	case failed == 0:
		return nil
	case len(files) == 1:
		return &cli.ExitError{Code: results[0].Code, Message: results[0].Error, Hint: results[0].hint}
	}
	return &cli.ExitError{Code: explain.ExitSomeFailed, Message: a.p.T("err.sign_some_failed", "Failed", failed, "Total", len(files))}
}

// oneError reports whether every file failed with the same error (one
// value: a batch's authorisation refused for all).
func oneError(done []pdf.JobResult) bool {
	for _, r := range done {
		if r.Err == nil || r.Err != done[0].Err {
			return false
		}
	}
	return true
}

func outputFor(in, out, outDir string) string {
	switch {
	case out != "":
		return out
	case outDir != "":
		return filepath.Join(outDir, filepath.Base(pdf.OutputName(in)))
	}
	return pdf.OutputName(in)
}

// cadesOutput is where the signature of a file that is not a PDF goes:
// FILE.p7m (or .p7s) beside it or in outDir, or out.
func cadesOutput(in, out, outDir string, detached bool) string {
	switch {
	case out != "":
		return out
	case outDir != "":
		return filepath.Join(outDir, filepath.Base(cades.OutputName(in, detached)))
	}
	return cades.OutputName(in, detached)
}

// notPDFs are the files signed as CAdES: those whose content is not a
// PDF's, whatever their name, unless it ends in .pdf (such a file is meant
// to be a PDF, and signing it says it is not one). A file that cannot be
// read stays with the PDFs, whose signer says why.
func notPDFs(files []string) map[string]bool {
	out := map[string]bool{}
	for _, f := range files {
		if ok, err := pdf.IsPDF(f); err == nil && !ok && !strings.EqualFold(filepath.Ext(f), ".pdf") {
			out[f] = true
		}
	}
	return out
}

// pdfOnlyFlags are the sign flags that describe a PDF signature: a file
// that is not a PDF has no page, field, picture or certification, and a
// CAdES signature here carries no reason or place.
var pdfOnlyFlags = []string{"certify", "mdp", "lock", "visible", "page", "rect", "field", "image", "reason", "location", "repair"}

// checkCAdES refuses, before any PIN is asked, what files that are not
// PDFs cannot have: B-LTA (archive time-stamps are PDFs' here), PDF-only
// flags; and --detached when every file is a PDF.
func (a *app) checkCAdES(fs *flag.FlagSet, others map[string]bool, lvl pdf.Level, detached bool) error {
	usage := func(key string, args ...any) error {
		return &cli.ExitError{Code: explain.ExitUsage, Message: a.p.T(key, args...), Hint: a.p.T("usage.sign")}
	}
	if len(others) == 0 {
		if detached {
			return usage("err.sign_detached_pdf")
		}
		return nil
	}
	var first string
	for f := range others {
		if first == "" || f < first {
			first = f
		}
	}
	if lvl == pdf.LevelLTA {
		return usage("err.sign_lta_cades", "File", first)
	}
	var bad string
	fs.Visit(func(f *flag.Flag) {
		if bad == "" && slices.Contains(pdfOnlyFlags, f.Name) {
			bad = f.Name
		}
	})
	if bad != "" {
		return usage("err.sign_pdf_only", "File", first, "Flag", "--"+bad)
	}
	return nil
}

func parseRect(s string) ([4]float64, error) {
	var r [4]float64
	parts := strings.Split(s, ",")
	if len(parts) != 4 {
		return r, errors.New("four numbers")
	}
	for i, p := range parts {
		v, err := strconv.ParseFloat(strings.TrimSpace(p), 64)
		if err != nil || v < 0 {
			return r, errors.New("not a number")
		}
		r[i] = v
	}
	if r[2] < 20 || r[3] < 10 {
		return r, errors.New("too small")
	}
	return r, nil
}

// signResult says how one file went.
func (a *app) signResult(job pdf.Job, jr pdf.JobResult) signResult {
	r := signResult{Input: job.In}
	if jr.Err != nil {
		e := explain.Sign(a.p, jr.Err, job.In)
		r.Error, r.Code, r.hint = e.Text, e.Code, e.Hint
		return r
	}
	res := jr.Result
	r.OK, r.Output, r.Field, r.Level, r.filled = true, res.Output, res.Field, string(res.Level), res.Filled
	r.SigningTime = &res.SigningTime
	if !res.TimestampTime.IsZero() {
		r.TimestampTime = &res.TimestampTime
	}
	if d := res.Repaired; d != nil {
		r.Repaired = &repairJSON{Truncated: d.Truncated, Rebuilt: d.Rebuilt, Objects: d.Objects, Pages: d.Pages, PagesDeclared: d.PagesDeclared}
		r.what = explain.Damage(a.p, *d)
	}
	return r
}

// progress returns a function that reports each finished file: a line that
// rewrites itself on a terminal, nothing otherwise (or with --json).
func (a *app) progress(total int, quiet bool) func(input string) {
	f, ok := a.stderr.(*os.File)
	if quiet || !ok || !term.IsTerminal(int(f.Fd())) {
		return func(string) {}
	}
	var mu sync.Mutex
	done := 0
	return func(input string) {
		mu.Lock()
		defer mu.Unlock()
		done++
		fmt.Fprintf(a.stderr, "\r\033[K%s", a.p.T("sign.progress", "Done", done, "Total", total, "File", filepath.Base(input)))
		if done == total {
			fmt.Fprint(a.stderr, "\r\033[K")
		}
	}
}

func (a *app) printSignResults(results []signResult) {
	for _, r := range results {
		if r.OK {
			fmt.Fprintln(a.stdout, a.p.T("sign.ok", "Input", r.Input, "Output", r.Output, "Level", r.Level))
			if r.filled {
				fmt.Fprintln(a.stdout, "  "+a.p.T("sign.into_field", "Field", r.Field))
			}
			if r.what != "" {
				fmt.Fprintln(a.stdout, a.p.T("sign.repaired", "What", r.what))
			}
		} else {
			fmt.Fprintln(a.stdout, a.p.T("sign.failed", "Input", r.Input, "Error", r.Error))
		}
	}
}
