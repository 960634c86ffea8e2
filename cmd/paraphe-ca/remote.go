package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/paraphe/paraphe/ca"
	"github.com/paraphe/paraphe/internal/atomicfile"
	"github.com/paraphe/paraphe/internal/cli"
	"github.com/paraphe/paraphe/pdf"
)

// paraphe-ca remote enroll: a remote signature holder, whose key pair is
// made on the CA's token, and their activation envelope, a PDF that only
// the passphrase they chose opens (pdf.WriteLetter: AES-256). The
// envelope is written here, in the binary: package ca writes no PDF. It
// is written before the enrolment is committed, and removed if the
// enrolment fails, so that no holder is enrolled whose envelope was not
// written, nor an envelope left for a holder who is not.

// minPassphrase is the shortest passphrase an envelope takes.
const minPassphrase = 8

func (c *command) remote(args []string) error {
	if len(args) == 0 {
		return c.usage(c.p.T("ca.usage.remote"))
	}
	switch args[0] {
	case "enroll":
		return c.remoteEnroll(args)
	case "list":
		return c.remoteList(args[1:])
	case "unlock":
		return c.remoteUnlock(args[1:])
	}
	return c.usage(c.p.T("ca.usage.remote"))
}

func (c *command) remoteEnroll(args []string) error {
	if err := c.refusePINArgs(args); err != nil {
		return err
	}
	if err := c.refuseSecretArgs(args, []string{"passphrase", "password"}, "ca.err.passphrase_on_command_line", "ca.hint.passphrase_file"); err != nil {
		return err
	}
	fs := c.flags("remote")
	dir := c.dirFlag(fs)
	file := fs.String("file", "", c.p.T("ca.flag.file"))
	passFile := fs.String("passphrase-file", "", c.p.T("ca.flag.passphrase_file"))
	envelope := fs.String("envelope", "", c.p.T("ca.flag.envelope"))
	pinFile := c.pinFlag(fs)
	if _, err := cli.Parse(fs, args[1:]); err != nil {
		return c.usage(err.Error())
	}
	if *envelope == "" {
		return c.usage(c.p.T("ca.err.need_envelope"))
	}
	if _, err := os.Lstat(*envelope); err == nil {
		return &cli.ExitError{Code: exitState, Message: c.p.T("ca.err.envelope_exists", "File", *envelope), Hint: c.p.T("ca.hint.envelope_exists")}
	}
	h, passphrase, err := c.remoteRecord(*file, *passFile)
	if err != nil {
		return err
	}
	defer clear(passphrase)
	a, err := c.open(*dir)
	if err != nil {
		return err
	}
	defer a.Close()
	if !a.NeedsToken() {
		return &cli.ExitError{Code: exitState, Message: c.p.T("ca.err.remote_needs_token"), Hint: c.p.T("ca.hint.remote_needs_token"), Err: ca.ErrRemoteNeedsToken}
	}
	if err := c.useToken(a, *pinFile); err != nil {
		return err
	}
	written := false
	e, err := a.EnrollRemote(c.ctx(), h, func(e *ca.RemoteEnrolment) error {
		if written { // the same enrolment again (a transaction run twice)
			return nil
		}
		if err := c.writeEnvelope(*envelope, a.Config.Name, e, passphrase); err != nil {
			return err
		}
		written = true
		return nil
	})
	if err != nil {
		if written {
			os.Remove(*envelope)
		}
		if isTokenError(err) {
			return &tokenError{p: a.Config.PKCS11, err: err}
		}
		return err
	}
	fmt.Fprintln(c.stdout, c.p.T("ca.remote.enrolled", "Name", e.Holder.DisplayName(), "Serial", e.Serial, "File", *envelope))
	fmt.Fprintln(c.stdout, c.p.T("ca.remote.user_id"))
	fmt.Fprintln(c.stdout, e.UserID)
	return nil
}

// refuseSecretArgs refuses a flag named one of names (a secret on the
// command line, which every user of the machine can read) before the
// flags are parsed, saying msg and hint.
func (c *command) refuseSecretArgs(args, names []string, msg, hint string) error {
	for _, arg := range args {
		name, _, _ := strings.Cut(strings.TrimLeft(arg, "-"), "=")
		if strings.HasPrefix(arg, "-") && slices.Contains(names, name) {
			return &cli.ExitError{Code: exitUsage, Message: c.p.T(msg), Hint: c.p.T(hint)}
		}
	}
	return nil
}

// remoteRecord reads the holder record (from file, or standard input)
// and the envelope's passphrase: from passFile (its first line), or the
// record's "passphrase" field.
func (c *command) remoteRecord(file, passFile string) (ca.Holder, []byte, error) {
	in := c.stdin
	if file != "" {
		f, err := os.Open(file)
		if err != nil {
			return ca.Holder{}, nil, &cli.ExitError{Code: exitInput, Message: c.p.T("ca.err.record_file", "Err", err.Error()), Hint: c.p.T("ca.hint.record_file"), Err: err}
		}
		defer f.Close()
		in = f
	}
	var rec struct {
		ca.Holder
		Passphrase string `json:"passphrase,omitempty"`
	}
	dec := json.NewDecoder(in)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&rec); err != nil {
		return ca.Holder{}, nil, &cli.ExitError{Code: exitInput, Message: c.p.T("ca.err.record_json", "Err", err.Error()), Hint: c.p.T("ca.hint.record_json")}
	}
	passphrase := []byte(rec.Passphrase)
	if passFile != "" {
		data, err := os.ReadFile(passFile)
		if err != nil {
			return ca.Holder{}, nil, &cli.ExitError{Code: exitInput, Message: c.p.T("ca.err.passphrase_file", "Err", err.Error()), Hint: c.p.T("ca.hint.passphrase_file"), Err: err}
		}
		line, _, _ := bytes.Cut(data, []byte("\n"))
		passphrase = bytes.TrimSuffix(line, []byte("\r"))
		clear(data[len(line):])
	}
	switch {
	case len(passphrase) == 0:
		return ca.Holder{}, nil, &cli.ExitError{Code: exitUsage, Message: c.p.T("ca.err.no_passphrase"), Hint: c.p.T("ca.hint.passphrase_file")}
	case utf8.RuneCount(passphrase) < minPassphrase:
		return ca.Holder{}, nil, &cli.ExitError{Code: exitInput, Message: c.p.T("ca.err.passphrase_short", "N", minPassphrase)}
	}
	return rec.Holder, passphrase, nil
}

// writeEnvelope writes e's activation envelope to path, opened by
// passphrase: a new file (0600), complete or not at all.
func (c *command) writeEnvelope(path, caName string, e *ca.RemoteEnrolment, passphrase []byte) error {
	p := c.p
	l := pdf.Letter{Title: p.T("envelope.title", "CA", caName), Lang: p.Lang, Password: passphrase, Parts: []pdf.LetterPart{
		{Text: p.T("envelope.intro", "Name", e.Holder.DisplayName(), "CA", caName)},
		{Label: p.T("envelope.user_id"), Text: e.UserID},
		{Label: p.T("envelope.password"), Text: e.Password},
		{Label: p.T("envelope.emergency"), Text: e.EmergencyCode},
		{Label: p.T("envelope.pin"), Text: e.PIN},
		{Label: p.T("envelope.puk"), Text: e.PUK},
		{Label: p.T("envelope.serial"), Text: e.Serial},
		{Text: p.T("envelope.steps", "User", e.UserID)},
		{Text: p.T("envelope.keep")},
	}}
	var buf bytes.Buffer
	if err := pdf.WriteLetter(&buf, l); err != nil {
		return err
	}
	err := atomicfile.Create(path, 0o600, func(w io.Writer) error {
		_, err := w.Write(buf.Bytes())
		return err
	})
	clear(buf.Bytes())
	if err != nil {
		return &envelopeError{path, err}
	}
	return nil
}

// envelopeError: the envelope could not be written.
type envelopeError struct {
	path string
	err  error
}

func (e *envelopeError) Error() string {
	return "writing the envelope " + e.path + ": " + e.err.Error()
}
func (e *envelopeError) Unwrap() error { return e.err }

// explainRemote says remote signing's errors, or returns nil.
func (c *command) explainRemote(err error) error {
	var ee *envelopeError
	wrong, left := ca.IsRemoteRefusal(err, ca.RemoteEmergencyWrong)
	blocked, _ := ca.IsRemoteRefusal(err, ca.RemoteEmergencyLocked)
	switch {
	case wrong:
		return &cli.ExitError{Code: exitEmergencyWrong, Message: c.p.T("ca.err.emergency_wrong", "Left", left), Hint: c.p.T("ca.hint.emergency_wrong"), Err: err}
	case blocked:
		return &cli.ExitError{Code: exitEmergencyLocked, Message: c.p.T("ca.err.emergency_locked"), Hint: c.p.T("ca.hint.emergency_locked"), Err: err}
	case errors.Is(err, ca.ErrNoRemoteHolder):
		return &cli.ExitError{Code: exitNotFound, Message: c.p.T("ca.err.no_remote_holder"), Hint: c.p.T("ca.hint.no_remote_holder"), Err: err}
	case errors.As(err, &ee):
		return &cli.ExitError{Code: exitError, Message: c.p.T("ca.err.envelope_write", "File", ee.path, "Err", ee.err.Error()), Err: err}
	case errors.Is(err, ca.ErrRemoteSealKey):
		return &cli.ExitError{Code: exitState, Message: c.p.T("ca.err.remote_seal_key"), Hint: c.p.T("ca.hint.remote_seal_key"), Err: err}
	case errors.Is(err, ca.ErrRemoteNeedsToken):
		return &cli.ExitError{Code: exitState, Message: c.p.T("ca.err.remote_needs_token"), Hint: c.p.T("ca.hint.remote_needs_token"), Err: err}
	}
	return nil
}
