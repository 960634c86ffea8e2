package main

import (
	"context"
	"errors"
	"fmt"
	"slices"

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

func (a *app) verify(args []string) error {
	fs := a.flags("verify")
	asJSON := fs.Bool("json", false, a.p.T("flag.json"))
	online := fs.Bool("online", false, a.p.T("flag.online"))
	files, err := cli.Parse(fs, args)
	if err != nil {
		return a.usageErr(err)
	}
	if len(files) != 1 {
		return &cli.ExitError{Code: explain.ExitUsage, Message: a.p.T("usage.verify")}
	}
	pol, _ := a.policy()
	opts := local.VerifyOptions(pol, *online)
	ctx, cancel := context.WithTimeout(context.Background(), networkTimeout)
	defer cancel()
	rep, err := pdf.Verify(ctx, files[0], opts)
	if errors.Is(err, pdf.ErrNoSignature) {
		return &cli.ExitError{Code: explain.ExitNotSigned, Message: a.p.T("verify.unsigned", "File", files[0])}
	}
	if err != nil {
		return explain.Sign(a.p, err, files[0])
	}
	code := explain.ExitOK
	var out []verifyJSON
	for i, s := range rep.Signatures {
		v := verifyJSON{SignatureReport: s, Valid: s.Valid()}
		if s.Certificate != nil {
			h := pkcs.HolderOf(s.Certificate)
			v.Signer = &h
		}
		out = append(out, v)
		code = worstExit(code, verifyExit(s))
		if !*asJSON {
			a.printSignature(i+1, v)
		}
	}
	if *asJSON {
		cli.WriteJSON(a.stdout, struct {
			File           string       `json:"file"`
			Valid          bool         `json:"valid"`
			ValidationTime string       `json:"validation_time"`
			Signatures     []verifyJSON `json:"signatures"`
		}{rep.File, code == explain.ExitOK, rep.ValidationTime.UTC().Format("2006-01-02T15:04:05Z"), out})
	}
	if code != explain.ExitOK {
		return &cli.ExitError{Code: code, Message: a.p.T(map[int]string{explain.ExitSigInvalid: "verify.err.invalid",
			explain.ExitSigModified: "verify.err.modified", explain.ExitSigUntrusted: "verify.err.untrusted"}[code])}
	}
	return nil
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

// worstExit keeps the most serious of two verification exit codes: failed,
// then changed, then not confirmed.
func worstExit(a, b int) int {
	rank := map[int]int{explain.ExitOK: 0, explain.ExitSigUntrusted: 1, explain.ExitSigModified: 2, explain.ExitSigInvalid: 3}
	if rank[b] > rank[a] {
		return b
	}
	return a
}

func (a *app) printSignature(n int, v verifyJSON) {
	state, lines := explain.Signature(a.p, v.SignatureReport)
	field := v.Field
	if field == "" {
		field = a.p.T("verify.no_field")
	}
	fmt.Fprintln(a.stdout, a.p.T("verify.header", "N", n, "Field", field, "State", state))
	for _, l := range lines {
		fmt.Fprintln(a.stdout, "  "+l)
	}
}
