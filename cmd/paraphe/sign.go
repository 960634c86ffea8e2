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
	what string // Repaired in words
}

type repairJSON struct {
	Truncated     bool `json:"truncated"`
	Rebuilt       bool `json:"rebuilt"`
	Objects       int  `json:"objects,omitempty"`
	Pages         int  `json:"pages"`
	PagesDeclared int  `json:"pages_declared"`
}

func (a *app) sign(args []string) error {
	fs := a.flags("sign")
	certID := fs.String("cert", "", a.p.T("flag.cert"))
	level := fs.String("level", "B-T", a.p.T("flag.level"))
	tsa := fs.String("tsa", "", a.p.T("flag.tsa"))
	certify := fs.Bool("certify", false, a.p.T("flag.certify"))
	mdp := fs.Int("mdp", 0, a.p.T("flag.mdp"))
	var lock *pdf.FieldLock
	fs.Func("lock", a.p.T("flag.lock"), func(s string) error {
		lock = addLock(lock, s)
		return nil
	})
	visible := fs.Bool("visible", false, a.p.T("flag.visible"))
	page := fs.Int("page", 1, a.p.T("flag.page"))
	rect := fs.String("rect", "", a.p.T("flag.rect"))
	field := fs.String("field", "", a.p.T("flag.field"))
	reason := fs.String("reason", "", a.p.T("flag.reason"))
	location := fs.String("location", "", a.p.T("flag.location"))
	image := fs.String("image", "", a.p.T("flag.image"))
	out := fs.String("o", "", a.p.T("flag.output_pdf"))
	outDir := fs.String("out-dir", "", a.p.T("flag.out_dir"))
	asJSON := fs.Bool("json", false, a.p.T("flag.json"))
	pinFile := fs.String("pin-file", "", a.p.T("flag.pin_file_current"))
	repair := fs.Bool("repair", false, a.p.T("flag.repair"))
	passwordFile := fs.String("password-file", "", a.p.T("flag.password_file"))
	detached := fs.Bool("detached", false, a.p.T("flag.detached"))
	files, err := cli.Parse(fs, args)
	if err != nil {
		return a.usageErr(err)
	}
	usage := func(key string) error {
		return &cli.ExitError{Code: explain.ExitUsage, Message: a.p.T(key), Hint: a.p.T("usage.sign")}
	}
	switch {
	case len(files) == 0:
		return usage("err.sign_no_files")
	case *out != "" && (len(files) > 1 || *outDir != ""):
		return usage("err.sign_o_one")
	case *field != "" && *rect != "":
		return usage("err.sign_field_rect")
	case *mdp != 0 && !*certify:
		return usage("err.sign_mdp_certify")
	case *mdp < 0 || *mdp > pdf.MDPAnnotations:
		return usage("err.sign_mdp")
	}
	lvl := pdf.Level(strings.ToUpper(*level))
	if lvl != pdf.LevelB && lvl != pdf.LevelT && lvl != pdf.LevelLT && lvl != pdf.LevelLTA {
		return usage("err.sign_level")
	}
	others := notPDFs(files)
	if err := a.checkCAdES(fs, others, lvl, *detached); err != nil {
		return err
	}
	opts := pdf.Options{Level: lvl, TSA: *tsa, Certify: *certify, MDP: *mdp, Lock: lock, Reason: *reason, Location: *location, Repair: *repair}
	if *visible || *field != "" || *rect != "" {
		app := &pdf.Appearance{Page: *page, Field: *field, Lang: a.p.Lang, Zone: time.Local, Labels: explain.StampLabels(a.p)}
		if *rect != "" {
			r, err := parseRect(*rect)
			if err != nil {
				return usage("err.sign_rect")
			}
			app.Rect = r
		}
		if *image != "" {
			if app.Image, err = os.ReadFile(*image); err != nil {
				return &cli.ExitError{Code: explain.ExitUsage, Message: a.p.T("err.read_file", "File", *image), Err: err}
			}
		}
		opts.Appearance = app
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

	// An encrypted document's password: the one given for the batch, or
	// asked for each document that needs one, before the PIN.
	if opts.Password, err = a.givenPDFPassword(*passwordFile); err != nil {
		return &cli.ExitError{Code: explain.ExitUsage, Message: a.p.T("err.read_file", "File", *passwordFile), Err: err}
	}
	ask := opts.Password == nil && a.term.IsTerminal()
	jobs := make([]pdf.Job, len(files))
	for i, f := range files {
		jobs[i] = pdf.Job{In: f, Out: outputFor(f, *out, *outDir)}
		if others[f] {
			jobs[i].Out = cadesOutput(f, *out, *outDir, *detached)
			continue
		}
		if ask {
			if _, err := pdf.Inspect(f, opts); err != nil {
				jobs[i].Password = a.askPDFPassword(f, err)
			}
		}
	}
	defer func() {
		clear(opts.Password)
		for _, j := range jobs {
			clear(j.Password)
		}
	}()

	_, key, pin, err := a.openCert(pol, *certID, *pinFile)
	if err != nil {
		return err
	}
	clear(pin)
	signer := &pdf.Signer{Key: key, Chain: key.Chain, Opts: opts}
	// Files that are not PDFs get a CAdES signature of the same key and
	// level, in the same batch.
	other := &cades.Signer{PDF: signer, Detached: *detached}
	for i, f := range files {
		if others[f] {
			jobs[i].Signer = other
		}
	}
	progress := a.progress(len(files), *asJSON)
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
	if *asJSON {
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
	r.OK, r.Output, r.Field, r.Level = true, res.Output, res.Field, string(res.Level)
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
			if r.what != "" {
				fmt.Fprintln(a.stdout, a.p.T("sign.repaired", "What", r.what))
			}
		} else {
			fmt.Fprintln(a.stdout, a.p.T("sign.failed", "Input", r.Input, "Error", r.Error))
		}
	}
}
