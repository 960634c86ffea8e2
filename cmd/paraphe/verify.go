package main

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/paraphe/paraphe/config"
	"github.com/paraphe/paraphe/internal/cli"
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
		return &cli.ExitError{Code: exitUsage, Message: a.p.T("usage.verify")}
	}
	opts := pdf.VerifyOptions{Online: *online}
	if pol, err := a.policy(); err == nil {
		for _, s := range pol.CA.Anchors {
			if fp, err := config.ParseFingerprint(s); err == nil {
				opts.Anchors = append(opts.Anchors, fp)
			}
		}
		if hc, err := config.NewHTTPClient(pol, config.ClientOptions{}); err == nil {
			opts.HTTP = hc
		}
	}
	if sys, err := x509.SystemCertPool(); err == nil {
		opts.Roots = sys
	}
	ctx, cancel := context.WithTimeout(context.Background(), networkTimeout)
	defer cancel()
	rep, err := pdf.Verify(ctx, files[0], opts)
	if errors.Is(err, pdf.ErrNoSignature) {
		return &cli.ExitError{Code: exitNotSigned, Message: a.p.T("verify.unsigned", "File", files[0])}
	}
	if err != nil {
		return a.explainSign(err, files[0])
	}
	code := exitOK
	worst := func(c int) {
		if code == exitOK || c < code {
			code = c
		}
	}
	var out []verifyJSON
	for i, s := range rep.Signatures {
		v := verifyJSON{SignatureReport: s, Valid: s.Valid()}
		if s.Certificate != nil {
			h := pkcs.HolderOf(s.Certificate)
			v.Signer = &h
		}
		out = append(out, v)
		switch {
		case !s.Intact || s.Revocation == pdf.RevocationRevoked:
			worst(exitSigInvalid)
		case s.ModifiedAfter:
			worst(exitSigModified)
		case !s.Trusted:
			worst(exitSigUntrusted)
		}
		if !*asJSON {
			a.printSignature(i+1, v)
		}
	}
	if *asJSON {
		cli.WriteJSON(a.stdout, struct {
			File       string       `json:"file"`
			Valid      bool         `json:"valid"`
			Signatures []verifyJSON `json:"signatures"`
		}{rep.File, code == exitOK, out})
	}
	if code != exitOK {
		return &cli.ExitError{Code: code, Message: a.p.T(map[int]string{exitSigInvalid: "verify.err.invalid",
			exitSigModified: "verify.err.modified", exitSigUntrusted: "verify.err.untrusted"}[code])}
	}
	return nil
}

func (a *app) printSignature(n int, v verifyJSON) {
	p := a.p
	state := p.T("verify.state.valid")
	switch {
	case !v.Intact:
		state = p.T("verify.state.broken")
	case v.Revocation == pdf.RevocationRevoked:
		state = p.T("verify.state.revoked")
	case v.ModifiedAfter:
		state = p.T("verify.state.modified")
	case !v.Trusted:
		state = p.T("verify.state.untrusted")
	}
	fmt.Fprintln(a.stdout, p.T("verify.header", "N", n, "Field", v.Field, "State", state))
	if v.Signer != nil {
		fmt.Fprintln(a.stdout, "  "+p.T("verify.signer", "Name", v.Signer.Name, "Title", v.Signer.Title, "Member", v.Signer.MemberNumber, "Org", v.Signer.Organization))
	}
	when := func(t *time.Time) string { return t.Local().Format(p.T("format.datetime")) }
	if v.TimestampTime != nil {
		fmt.Fprintln(a.stdout, "  "+p.T("verify.timestamp", "Time", when(v.TimestampTime)))
	} else if v.ClaimedTime != nil {
		fmt.Fprintln(a.stdout, "  "+p.T("verify.claimed", "Time", when(v.ClaimedTime)))
	}
	if v.Intact {
		fmt.Fprintln(a.stdout, "  "+p.T("verify.intact"))
	} else {
		var problems []string
		for _, pr := range v.Problems {
			problems = append(problems, p.T("verify.problem."+pr))
		}
		fmt.Fprintln(a.stdout, "  "+p.T("verify.not_intact", "Problems", strings.Join(problems, ", ")))
	}
	var changes []string
	for _, c := range v.Changes {
		kind, field, _ := strings.Cut(c, ":")
		changes = append(changes, p.T("verify.change."+kind, "Field", field))
	}
	switch {
	case v.CoversWholeFile:
		fmt.Fprintln(a.stdout, "  "+p.T("verify.no_changes"))
	case v.ModifiedAfter:
		fmt.Fprintln(a.stdout, "  "+p.T("verify.bad_changes", "Changes", strings.Join(changes, "; ")))
	default:
		fmt.Fprintln(a.stdout, "  "+p.T("verify.allowed_changes", "Changes", strings.Join(changes, "; ")))
	}
	if v.Trusted {
		fmt.Fprintln(a.stdout, "  "+p.T("verify.trusted"))
	} else {
		fmt.Fprintln(a.stdout, "  "+p.T("verify.untrusted", "Why", p.T("verify.trust."+v.TrustProblem)))
	}
	fmt.Fprintln(a.stdout, "  "+p.T("verify.revocation."+v.Revocation))
	if v.Level != "" {
		fmt.Fprintln(a.stdout, "  "+p.T("verify.level", "Level", v.Level))
	}
}
