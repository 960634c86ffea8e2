package main

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/paraphe/paraphe/activation"
	"github.com/paraphe/paraphe/config"
	"github.com/paraphe/paraphe/internal/cli"
	"github.com/paraphe/paraphe/internal/explain"
	"github.com/paraphe/paraphe/internal/local"
	"github.com/paraphe/paraphe/pdf"
)

// extendResult is one file in "paraphe extend --json".
type extendResult struct {
	Input, Output string
	OK            bool   `json:"ok"`
	Level         string `json:"level,omitempty"`
	Signatures    int    `json:"signatures,omitempty"`
	Fetched       int    `json:"fetched,omitempty"`
	Error         string `json:"error,omitempty"`
	Code          int    `json:"code,omitempty"`
}

// extend brings signed documents up to B-LT or B-LTA: the validation data
// of every signature, and for B-LTA a document time-stamp over it.
func (a *app) extend(args []string) error {
	fs := a.flags("extend")
	level := fs.String("level", "B-LTA", a.p.T("flag.extend_level"))
	tsa := fs.String("tsa", "", a.p.T("flag.tsa"))
	out := fs.String("o", "", a.p.T("flag.extend_out"))
	outDir := fs.String("out-dir", "", a.p.T("flag.extend_out_dir"))
	asJSON := fs.Bool("json", false, a.p.T("flag.json"))
	passwordFile := fs.String("password-file", "", a.p.T("flag.password_file"))
	files, err := cli.Parse(fs, args)
	if err != nil {
		return a.usageErr(err)
	}
	password, err := a.givenPDFPassword(*passwordFile)
	if err != nil {
		return &cli.ExitError{Code: explain.ExitUsage, Message: a.p.T("err.read_file", "File", *passwordFile), Err: err}
	}
	defer clear(password)
	lvl := pdf.Level(strings.ToUpper(*level))
	if len(files) == 0 || (*out != "" && len(files) > 1) || (lvl != pdf.LevelLT && lvl != pdf.LevelLTA) {
		return &cli.ExitError{Code: explain.ExitUsage, Message: a.p.T("usage.extend")}
	}
	// The proxy and the CA's time-stamping authority from the policy; with
	// no policy, the system's proxy settings and the --tsa given.
	pol, err := a.policy()
	if err != nil && !errors.Is(err, config.ErrNoPolicy) {
		return err
	}
	hc := local.HTTPClient(pol)
	if pol != nil && lvl == pdf.LevelLTA && *tsa == "" {
		ctx, cancel := context.WithTimeout(context.Background(), networkTimeout)
		hc, *tsa, err = activation.SigningServices(ctx, pol, true)
		cancel()
		if err != nil {
			return err
		}
	}
	if lvl == pdf.LevelLTA && *tsa == "" {
		return &cli.ExitError{Code: explain.ExitUsage, Message: a.p.T("err.extend_tsa")}
	}
	e := &pdf.Extender{Level: lvl, TSA: *tsa, HTTP: hc, Password: password}
	var results []extendResult
	failed := 0
	for _, f := range files {
		r := extendResult{Input: f, Output: extendedName(f, *out, *outDir)}
		ctx, cancel := context.WithTimeout(context.Background(), networkTimeout)
		res, err := e.ExtendFile(ctx, f, r.Output)
		cancel()
		if err != nil {
			x := exitOf(explain.Sign(a.p, err, f))
			if errors.Is(err, pdf.ErrNothingToExtend) {
				x = &cli.ExitError{Code: explain.ExitNotSigned, Message: a.p.T("verify.unsigned", "File", f)}
			}
			r.Error, r.Code = x.Message, x.Code
			failed++
			if !*asJSON {
				fmt.Fprintln(a.stderr, a.p.T("extend.failed", "Input", f, "Err", x.Message))
			}
		} else {
			r.OK, r.Level, r.Signatures, r.Fetched = true, string(res.Level), res.Signatures, res.Fetched
			if !*asJSON {
				fmt.Fprintln(a.stdout, a.p.T("extend.ok", "Input", f, "Output", r.Output, "Level", r.Level, "N", r.Signatures))
			}
		}
		results = append(results, r)
	}
	if *asJSON {
		cli.WriteJSON(a.stdout, results)
	}
	switch {
	case failed == 0:
		return nil
	case len(files) == 1:
		return &cli.ExitError{Code: results[0].Code, Message: results[0].Error}
	}
	return &cli.ExitError{Code: explain.ExitSomeFailed, Message: a.p.T("err.extend_some_failed", "Failed", failed, "Total", len(files))}
}

// extendedName is where an extended copy goes: -o, the --out-dir, or
// NAME-extended.pdf beside the input.
func extendedName(in, out, outDir string) string {
	name := strings.TrimSuffix(in, filepath.Ext(in)) + "-extended" + filepath.Ext(in)
	switch {
	case out != "":
		return out
	case outDir != "":
		return filepath.Join(outDir, filepath.Base(name))
	}
	return name
}
