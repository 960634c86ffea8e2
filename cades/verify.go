package cades

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"hash"
	"io"
	"os"
	"strings"

	"github.com/paraphe/paraphe/cms"
	"github.com/paraphe/paraphe/pdf"
)

// VerifyOptions say what to trust (as for PDFs) and where the content is.
type VerifyOptions struct {
	pdf.VerifyOptions
	// Content is the file a detached signature signs; empty means the
	// signature's own name without its .p7s ending.
	Content string
	// Extract, when not empty, receives the content of an attached
	// signature: written whole once the signature is read through, or
	// not at all. It must not exist.
	Extract string
}

// Report is the verification of a CAdES file: one signature per signer.
type Report struct {
	*pdf.Report
	// Attached: the signature holds its content (a .p7m).
	Attached bool `json:"attached"`
	// Content is the file a detached signature was judged against.
	Content string `json:"content,omitempty"`
}

// ContentName is the file a detached signature at sig signs by default:
// its name without .p7s, or "" when it has no such ending.
func ContentName(sig string) string {
	if n := len(sig) - len(".p7s"); n > 0 && strings.EqualFold(sig[n:], ".p7s") {
		return sig[:n]
	}
	return ""
}

// Form is what a file is to this package.
type Form int

// Forms of files.
const (
	NotSignature Form = iota // not a CMS signature (or not readable)
	Attached                 // a signature that holds its content (.p7m)
	Detached                 // a signature beside its content (.p7s)
)

// Sniff tells from its opening whether the file at path is a CMS
// signature (DER or BER, or their PEM or base64 text), attached or
// detached.
func Sniff(path string) Form {
	f, err := os.Open(path)
	if err != nil {
		return NotSignature
	}
	defer f.Close()
	r, err := openSignature(f)
	switch {
	case err != nil:
		return NotSignature
	case r.Attached():
		return Attached
	}
	return Detached
}

// openSignature reads the opening of a SignedData from r, unwrapping PEM
// or base64 text.
func openSignature(r io.Reader) (*cms.Reader, error) {
	br := bufio.NewReaderSize(r, 64<<10)
	head, _ := br.Peek(64)
	var in io.Reader = br
	switch {
	case len(head) > 0 && head[0] == 0x30:
	case bytes.HasPrefix(head, []byte("-----BEGIN")):
		if _, err := br.ReadString('\n'); err != nil {
			return nil, ErrNotSignature
		}
		in = base64.NewDecoder(base64.StdEncoding, &untilDash{r: br})
	case isBase64(head):
		in = base64.NewDecoder(base64.StdEncoding, br)
	default:
		return nil, ErrNotSignature
	}
	cr, err := cms.NewReader(in)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrNotSignature, err)
	}
	return cr, nil
}

// isBase64 reports whether b looks like the start of base64 text (which
// Italian signers also send .p7m files as).
func isBase64(b []byte) bool {
	if len(b) < 4 {
		return false
	}
	for _, c := range b {
		switch {
		case c >= 'A' && c <= 'Z', c >= 'a' && c <= 'z', c >= '0' && c <= '9', c == '+', c == '/', c == '=', c == '\r', c == '\n':
		default:
			return false
		}
	}
	return true
}

// untilDash reads up to the first '-' (a PEM block's END line).
type untilDash struct {
	r   *bufio.Reader
	end bool
}

func (u *untilDash) Read(p []byte) (int, error) {
	if u.end {
		return 0, io.EOF
	}
	n, err := u.r.Read(p)
	if i := bytes.IndexByte(p[:n], '-'); i >= 0 {
		u.end, n, err = true, i, nil
	}
	return n, err
}

// Verify judges the CAdES file at path: a .p7m with its content, or a
// .p7s against the file it signs.
func Verify(ctx context.Context, path string, o VerifyOptions) (*Report, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	cr, err := openSignature(f)
	if err != nil {
		return nil, err
	}
	if !cr.Attached() {
		return verifyDetached(ctx, path, cr, o)
	}
	if o.Content != "" {
		return nil, fmt.Errorf("%w: %s", ErrHasContent, path)
	}
	// The content streams through every hash the SignedData announces,
	// and into the extracted file when asked.
	sums := hashes(cr.DigestAlgorithms())
	ws := []io.Writer{}
	for _, h := range sums {
		ws = append(ws, h)
	}
	var sd *cms.SignedData
	read := func(w io.Writer) error {
		if _, err := io.CopyBuffer(io.MultiWriter(append(ws, w)...), cr, make([]byte, 256<<10)); err != nil {
			return fmt.Errorf("%w: %v", ErrNotSignature, err)
		}
		if sd, err = cr.SignedData(); err != nil {
			return fmt.Errorf("%w: %v", ErrNotSignature, err)
		}
		return nil
	}
	if o.Extract != "" {
		fi, _ := f.Stat()
		if err := checkOutput(fi, o.Extract); err != nil {
			return nil, err
		}
		err = writeNew(o.Extract, fi, read)
	} else {
		err = read(io.Discard)
	}
	if err != nil {
		return nil, err
	}
	digest := func(h cms.Hash) ([]byte, error) {
		if s, ok := sums[h]; ok {
			return s.Sum(nil), nil
		}
		// A signer whose hash the SignedData did not announce: the
		// content once more, for it alone.
		again, err := os.Open(path)
		if err != nil {
			return nil, err
		}
		defer again.Close()
		r, err := openSignature(again)
		if err != nil {
			return nil, err
		}
		d := h.New()
		if _, err := io.Copy(d, r); err != nil {
			return nil, fmt.Errorf("%w: %v", ErrNotSignature, err)
		}
		return d.Sum(nil), nil
	}
	rep, err := pdf.VerifySignedData(ctx, sd, digest, path, o.VerifyOptions)
	if err != nil {
		return nil, err
	}
	return &Report{Report: rep, Attached: true}, nil
}

func verifyDetached(ctx context.Context, path string, cr *cms.Reader, o VerifyOptions) (*Report, error) {
	if o.Extract != "" {
		return nil, fmt.Errorf("%w: %s", ErrNothingToExtract, path)
	}
	sd, err := cr.SignedData()
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrNotSignature, err)
	}
	content := o.Content
	if content == "" {
		if content = ContentName(path); content == "" {
			return nil, fmt.Errorf("%w: name the file %s signs", ErrNoContent, path)
		}
	}
	cf, err := os.Open(content)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrNoContent, err)
	}
	defer cf.Close()
	// One pass over the content for every hash its signers used.
	var algs []cms.Hash
	for _, si := range sd.Signers {
		if a, err := si.Algorithms(); err == nil {
			algs = append(algs, a.Digest)
		}
	}
	sums := hashes(algs)
	ws := []io.Writer{}
	for _, h := range sums {
		ws = append(ws, h)
	}
	if _, err := io.CopyBuffer(io.MultiWriter(ws...), cf, make([]byte, 256<<10)); err != nil {
		return nil, err
	}
	digest := func(h cms.Hash) ([]byte, error) {
		if s, ok := sums[h]; ok {
			return s.Sum(nil), nil
		}
		return nil, fmt.Errorf("cades: no %s digest of the content", h)
	}
	rep, err := pdf.VerifySignedData(ctx, sd, digest, path, o.VerifyOptions)
	if err != nil {
		return nil, err
	}
	return &Report{Report: rep, Content: content}, nil
}

func hashes(hs []cms.Hash) map[cms.Hash]hash.Hash {
	out := map[cms.Hash]hash.Hash{}
	for _, h := range hs {
		if _, ok := out[h]; !ok {
			out[h] = h.New()
		}
	}
	return out
}
