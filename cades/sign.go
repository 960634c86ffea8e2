// Package cades signs files of any kind with CAdES baseline signatures
// (ETSI EN 319 122-1: B-B, B-T, B-LT) and verifies them: a .p7m holds the
// file inside its SignedData (attached, as Italian users exchange them), a
// .p7s sits beside it (detached).
//
// The file is read once, as a stream, while it is hashed (and, for a
// .p7m, copied into the SignedData in segments of a BER constructed OCTET
// STRING): memory does not grow with its size. Verification streams it
// the same way, and judges each signer as package pdf judges PDF
// signatures, in the same words (pdf.VerifySignedData).
//
// For B-LT the certificates and revocation data go in the SignedData's
// own certificates and crls fields, where EN 319 122-1's B-LT puts them
// and where every CMS reader (openssl, Bouncy Castle, DSS) finds them,
// rather than in the CAdES-X-L attributes certificate-values and
// revocation-values, which only CAdES validators read (and which this
// package reads in others' files).
package cades

import (
	"bufio"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"

	"github.com/paraphe/paraphe/cms"
	"github.com/paraphe/paraphe/internal/atomicfile"
	"github.com/paraphe/paraphe/pdf"
)

// Errors a caller branches on.
var (
	// ErrLevel: the level asked is not one a CAdES file is made at here
	// (B-LTA needs archive time-stamps, which PDFs get and these do not).
	ErrLevel = errors.New("cades: CAdES files are signed at B-B, B-T or B-LT")
	// ErrNotSignature: the file is not a CMS signature (DER, BER, PEM or
	// base64).
	ErrNotSignature = errors.New("cades: not a CMS signature")
	// ErrNoContent: the file a detached signature signs is not there.
	ErrNoContent = errors.New("cades: the signed file of a detached signature is missing")
	// ErrHasContent: a content file was given for a signature that holds
	// its own.
	ErrHasContent = errors.New("cades: the signature holds its content")
	// ErrNothingToExtract: extraction was asked of a detached signature.
	ErrNothingToExtract = errors.New("cades: a detached signature holds no content to extract")
)

// Signer signs files that are not PDFs, with the key, chain and options of
// a pdf.Signer — level, time-stamping authority, HTTP client, clock — and
// its batch's shared time-stamp sample and validation data.
type Signer struct {
	PDF *pdf.Signer
	// Detached writes a .p7s beside the file instead of a .p7m holding it.
	Detached bool
}

// OutputName is where a signature of in goes by default: in.p7m (attached)
// or in.p7s (detached) beside it.
func OutputName(in string, detached bool) string {
	if detached {
		return in + ".p7s"
	}
	return in + ".p7m"
}

// SignFile signs in and writes the signature to out: written under a
// temporary name and renamed only when complete; out must not exist, and
// must not be in.
func (s *Signer) SignFile(ctx context.Context, in, out string) (*pdf.Result, error) {
	p := s.PDF
	level := p.Opts.Level
	switch level {
	case "":
		level = pdf.LevelB
	case pdf.LevelB, pdf.LevelT, pdf.LevelLT:
	default:
		return nil, fmt.Errorf("%w (asked: %s)", ErrLevel, level)
	}
	if len(p.Chain) == 0 {
		return nil, cms.ErrNoCertificate
	}
	if level != pdf.LevelB && p.Opts.TSA == "" {
		return nil, pdf.ErrNeedTSA
	}
	src, err := os.Open(in)
	if err != nil {
		return nil, err
	}
	defer src.Close()
	fi, err := src.Stat()
	if err != nil {
		return nil, err
	}
	if err := checkOutput(fi, out); err != nil {
		return nil, err
	}
	var v *cms.Validation
	if level == pdf.LevelLT {
		// Validation data first: a network failure costs no signature.
		if v, err = p.ValidationData(ctx); err != nil {
			return nil, err
		}
	}
	key, now := p.Signing(ctx)
	b := &cms.Builder{Key: key, Chain: p.Chain, SigningTime: now}
	res := &pdf.Result{Input: in, Output: out, Level: level, SigningTime: now}
	stamp := func(sig *cms.Signature) error {
		if level == pdf.LevelB {
			return nil
		}
		token, t, err := p.Timestamp(ctx, sig.Value)
		if err != nil {
			return err
		}
		sig.AddTimestamp(token)
		res.TimestampTime = t
		return nil
	}
	err = writeNew(out, fi, func(w io.Writer) error {
		if s.Detached {
			return writeDetached(w, src, b, v, stamp)
		}
		return writeAttached(w, src, b, v, stamp)
	})
	if err != nil {
		return nil, err
	}
	if fi, err := os.Stat(out); err == nil {
		res.Bytes = fi.Size()
	}
	return res, nil
}

// writeDetached hashes content and writes a DER .p7s.
func writeDetached(w io.Writer, content io.Reader, b *cms.Builder, v *cms.Validation, stamp func(*cms.Signature) error) error {
	h := sha256.New()
	if _, err := io.CopyBuffer(h, content, make([]byte, 256<<10)); err != nil {
		return err
	}
	sig, err := b.Sign(h.Sum(nil))
	if err != nil {
		return err
	}
	if err := stamp(sig); err != nil {
		return err
	}
	der, err := b.Detached(sig, v)
	if err != nil {
		return err
	}
	_, err = w.Write(der)
	return err
}

// writeAttached streams content into a BER .p7m.
func writeAttached(w io.Writer, content io.Reader, b *cms.Builder, v *cms.Validation, stamp func(*cms.Signature) error) error {
	bw := bufio.NewWriterSize(w, 256<<10)
	aw, err := b.NewAttached(bw, v)
	if err != nil {
		return err
	}
	if _, err := io.CopyBuffer(aw, content, make([]byte, 256<<10)); err != nil {
		return err
	}
	sig, err := b.Sign(aw.Digest())
	if err != nil {
		return err
	}
	if err := stamp(sig); err != nil {
		return err
	}
	if err := aw.Close(sig); err != nil {
		return err
	}
	return bw.Flush()
}

// checkOutput refuses an output that exists, or is the input.
func checkOutput(in os.FileInfo, out string) error {
	ofi, err := os.Stat(out)
	if err != nil {
		return nil
	}
	if in != nil && os.SameFile(in, ofi) {
		return fmt.Errorf("%w: %s", pdf.ErrSameFile, out)
	}
	return fmt.Errorf("%w: %s", pdf.ErrOutputExists, out)
}

// writeNew writes out through write, whole or not at all, never over a
// file (atomicfile.Create), readable by those who can read the file it
// comes from (from; its owner only when it is not known), as signed PDFs
// are.
func writeNew(out string, from os.FileInfo, write func(io.Writer) error) error {
	perm := os.FileMode(0o600)
	if from != nil {
		perm = atomicfile.CopyPerm(from)
	}
	err := atomicfile.Create(out, perm, write)
	if errors.Is(err, fs.ErrExist) {
		return fmt.Errorf("%w: %s", pdf.ErrOutputExists, out)
	}
	return err
}
