// Package pdf signs PDF documents with PAdES baseline signatures (ETSI EN
// 319 142-1: B-B, B-T, B-LT) and verifies them.
//
// Signing is an incremental update: the original bytes are copied
// unchanged, followed by the new objects and a cross-reference section
// pointing back at the old one, so earlier signatures stay valid. The file
// is read once, as a stream, while it is copied and hashed: memory does not
// grow with its size. The /Contents placeholder is sized from the actual
// certificate chain and a sample time-stamp of the authority in use, so a
// signature is never made twice.
package pdf

import (
	"bytes"
	"context"
	"crypto"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/paraphe/paraphe/internal/atomicfile"
	"github.com/paraphe/paraphe/pdf/internal/cos"
)

// Level is a PAdES baseline level.
type Level string

// The levels Paraphe makes.
const (
	LevelB  Level = "B-B"  // signature only
	LevelT  Level = "B-T"  // with a time-stamp on the signature
	LevelLT Level = "B-LT" // and the certificates and revocation data to validate it later
)

// Errors a caller branches on.
var (
	ErrNotPDF        = errors.New("pdf: not a PDF file")
	ErrEncrypted     = errors.New("pdf: the PDF is encrypted")
	ErrDamaged       = errors.New("pdf: the PDF is damaged") // past repairing; see also ErrNeedsRepair
	ErrOutputExists  = errors.New("pdf: the output file already exists")
	ErrSameFile      = errors.New("pdf: the output would replace the input")
	ErrCertified     = errors.New("pdf: the document is certified and allows no further signature")
	ErrNotFirst      = errors.New("pdf: only the first signature can certify a document")
	ErrNeedTSA       = errors.New("pdf: this level needs a time-stamping authority")
	ErrPlaceholder   = errors.New("pdf: the signature does not fit its placeholder")
	ErrUnknownField  = errors.New("pdf: no empty signature field by that name")
	ErrFieldLocked   = errors.New("pdf: the field is locked by an earlier signature")
	ErrLockField     = errors.New("pdf: no form field by that name to lock")
	ErrMDP           = errors.New("pdf: a certification allows changes at level 1, 2 or 3")
	ErrPageRange     = errors.New("pdf: no such page")
	ErrRevocationNet = errors.New("pdf: revocation data cannot be fetched")
)

// Options describe a signature. The zero value makes an invisible B-B
// approval signature.
type Options struct {
	Level   Level
	TSA     string       // time-stamping authority URL (B-T, B-LT)
	HTTP    *http.Client // for the TSA, OCSP and CRLs: the policy's client, with its proxy
	Certify bool         // a certification signature (DocMDP)
	// MDP is what a certification allows afterwards (MDPNoChanges,
	// MDPFormFilling, MDPAnnotations); zero is MDPFormFilling.
	MDP int
	// Lock names the form fields the signature locks (FieldMDP): a later
	// change to one of them invalidates it. nil locks none.
	Lock     *FieldLock
	Reason   string
	Location string
	Contact  string
	// Appearance makes the signature visible; nil leaves it invisible.
	Appearance *Appearance
	// NextField, when Appearance is nil, signs into the document's first
	// empty signature field (in the form's order) that no earlier
	// signature locks, its stamp drawn with this appearance where the
	// field has a place (its Field, Page and Rect are not read): the next
	// signer of a prepared form signs where the form expects them. A
	// document without such a field gets a new invisible one.
	NextField *Appearance
	// Now gives the claimed signing time (default time.Now).
	Now func() time.Time
	// Repair signs a file whose structure is damaged (ErrNeedsRepair)
	// after rebuilding it; Result.Repaired says what was rebuilt. Without
	// it such a file is refused.
	Repair bool
	// Password opens encrypted documents (see protected.go): the user
	// password, or the owner password where the document's permissions
	// forbid the signature (ErrPermission). A document it does not open is
	// opened with the empty password, if that one does. Job.Password
	// replaces it for one file of a batch.
	Password []byte
}

// Result tells what a signature became.
type Result struct {
	Input, Output string
	Field         string
	// Filled: Field was an empty signature field of the document (not
	// one the signature added).
	Filled        bool
	Level         Level
	SigningTime   time.Time // claimed (/M)
	TimestampTime time.Time // from the time-stamp token, for B-T and B-LT
	Bytes         int64
	// Repaired is what was rebuilt of a damaged input (Options.Repair);
	// nil for a sound one.
	Repaired *Damage
}

// Signer signs files with one key: a batch shares its PIN entry, its
// time-stamp sample and its revocation data.
type Signer struct {
	Key   crypto.Signer
	Chain []*x509.Certificate // leaf first, up to (and preferably including) the root
	Opts  Options

	mu     sync.Mutex
	sample []byte // a token of the TSA, to size placeholders
	dss    *dssData
}

func (s *Signer) http() *http.Client {
	if s.Opts.HTTP != nil {
		return s.Opts.HTTP
	}
	return http.DefaultClient
}

func (s *Signer) now() time.Time {
	if s.Opts.Now != nil {
		return s.Opts.Now()
	}
	return time.Now()
}

// OutputName is where a signed copy of in goes by default: name-signed.pdf
// beside it.
func OutputName(in string) string {
	ext := filepath.Ext(in)
	return strings.TrimSuffix(in, ext) + "-signed" + ext
}

// SignFile signs in and writes out. out is written under a temporary name
// and renamed only when complete; it must not exist, and must not be in.
func (s *Signer) SignFile(ctx context.Context, in, out string) (*Result, error) {
	return s.signFile(ctx, in, out, s.Opts.Password)
}

func (s *Signer) signFile(ctx context.Context, in, out string, password []byte) (*Result, error) {
	if len(s.Chain) == 0 {
		return nil, errChain
	}
	if s.timestamped() && s.Opts.TSA == "" {
		return nil, ErrNeedTSA
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
	if ofi, err := os.Stat(out); err == nil {
		if os.SameFile(fi, ofi) {
			return nil, fmt.Errorf("%w: %s", ErrSameFile, out)
		}
		return nil, fmt.Errorf("%w: %s", ErrOutputExists, out)
	}
	// Read as with repair: a document that may not be signed says so
	// before its damage does.
	f, doc, damage, err := openDocument(src, fi.Size(), in, true, password)
	if err != nil {
		return nil, err
	}
	if err := doc.maySign(s.Opts); err != nil {
		return nil, fmt.Errorf("%w: %s", err, in)
	}
	if damage != nil && !s.Opts.Repair {
		return nil, &DamagedError{File: in, Damage: *damage}
	}
	if p := passOf(ctx); p != nil && p.recording {
		// A batch's first pass: the digest only, nothing written.
		_, err := s.write(ctx, f, doc, src, fi.Size(), io.Discard)
		return nil, err
	}
	if s.Opts.Level == LevelLTA {
		return s.signLTA(ctx, f, doc, src, fi, in, out, damage, password)
	}
	var res *Result
	err = atomicfile.Create(out, atomicfile.CopyPerm(fi), func(w io.Writer) error {
		res, err = s.write(ctx, f, doc, src, fi.Size(), w)
		return err
	})
	if errors.Is(err, fs.ErrExist) {
		return nil, fmt.Errorf("%w: %s", ErrOutputExists, out)
	}
	if err != nil {
		return nil, err
	}
	res.Input, res.Output, res.Repaired = in, out, damage
	return res, nil
}

// signLTA signs as B-LT into a temporary file beside out, then adds the
// document time-stamp over its validation data (Extender) into out, which
// takes the permission of the temporary file: the input's.
func (s *Signer) signLTA(ctx context.Context, f *cos.File, doc *document, src io.ReaderAt, fi fs.FileInfo, in, out string, damage *Damage, password []byte) (*Result, error) {
	lt, err := os.CreateTemp(filepath.Dir(out), "."+filepath.Base(out)+".*.lt")
	if err != nil {
		return nil, err
	}
	defer os.Remove(lt.Name())
	res, err := s.write(ctx, f, doc, src, fi.Size(), lt)
	if err == nil {
		err = lt.Sync()
	}
	if cerr := lt.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Chmod(lt.Name(), atomicfile.CopyPerm(fi))
	}
	if err != nil {
		return nil, err
	}
	e := &Extender{Level: LevelLTA, TSA: s.Opts.TSA, HTTP: s.Opts.HTTP, Now: s.Opts.Now, Password: password}
	ext, err := e.ExtendFile(ctx, lt.Name(), out)
	if err != nil {
		return nil, err
	}
	if fi, err := os.Stat(out); err == nil {
		res.Bytes = fi.Size()
	}
	res.Input, res.Output, res.Repaired, res.Level = in, out, damage, LevelLTA
	_ = ext
	return res, nil
}

// pdfDate writes t as a PDF date.
func pdfDate(t time.Time) string {
	_, off := t.Zone()
	sign := '+'
	if off < 0 {
		sign, off = '-', -off
	}
	return fmt.Sprintf("D:%s%c%02d'%02d'", t.Format("20060102150405"), sign, off/3600, off%3600/60)
}

// Placeholders, patched once their values are known: widths never change.
const byteRangePlaceholder = "[0 0000000000 0000000000 0000000000]"

// write signs the document: the original bytes copied to out, then an
// incremental update with the signature (and, for B-LT, the validation
// data after it).
func (s *Signer) write(ctx context.Context, f *cos.File, doc *document, src io.ReaderAt, size int64, out io.Writer) (*Result, error) {
	if s.Opts.Certify && len(doc.signatures) > 0 {
		return nil, ErrNotFirst
	}
	if doc.docMDP == 1 {
		return nil, ErrCertified
	}
	if err := doc.checkSignature(s.Opts); err != nil {
		return nil, err
	}
	key, now := s.Signing(ctx)
	cms := &cmsBuilder{signer: key, chain: s.Chain}
	sample, placeholder, err := s.prepare(ctx, cms)
	if err != nil {
		return nil, err
	}
	u := newUpdate(f)
	if p := passOf(ctx); p != nil {
		u.newID(p.id) // both passes of a batch make the same bytes
	}
	sigRef, field, err := s.addSignature(u, doc, placeholder, now)
	if err != nil {
		return nil, err
	}
	l, err := layOut(u, sigRef, src, size, placeholder)
	if err != nil {
		return nil, err
	}
	// One pass over the original: copied and hashed together.
	h := sha256.New()
	if _, err := io.Copy(io.MultiWriter(out, h), io.NewSectionReader(src, 0, size)); err != nil {
		return nil, err
	}
	h.Write(l.lead)
	h.Write(l.data[:l.cAt])
	h.Write(l.data[l.cEnd:])
	der, tsTime, err := s.signDigest(ctx, cms, h.Sum(nil), sample)
	if err != nil {
		return nil, err
	}
	if len(der) > placeholder {
		return nil, fmt.Errorf("%w (%d bytes for %d)", ErrPlaceholder, len(der), placeholder)
	}
	hex.Encode(l.data[l.cAt+1:], der)
	if _, err := out.Write(l.lead); err != nil {
		return nil, err
	}
	if _, err := out.Write(l.data); err != nil {
		return nil, err
	}
	written := l.total
	if s.longTerm() {
		// The /VRI key: the SHA-1 of the whole /Contents string.
		contents := make([]byte, placeholder)
		copy(contents, der)
		n, err := s.appendDSS(u, doc, l.base+int64(l.xrefAt), l.total, contents, out)
		if err != nil {
			return nil, err
		}
		written += n
	}
	return &Result{Field: field, Filled: doc.emptySigs[field] != nil, Level: s.levelOrB(), SigningTime: now, TimestampTime: tsTime, Bytes: written}, nil
}

// prepare gets what the signature needs before anything is written: a
// sample time-stamp token (its size, and the TSA's certificates) and the
// validation data for the levels that have them, so that a network
// failure costs no signature; and the size of the /Contents placeholder.
func (s *Signer) prepare(ctx context.Context, cms *cmsBuilder) (sample []byte, placeholder int, err error) {
	if s.timestamped() {
		if sample, err = s.tokenSample(ctx); err != nil {
			return nil, 0, err
		}
	}
	if s.longTerm() {
		if _, err := s.validationData(ctx, sample); err != nil {
			return nil, 0, err
		}
	}
	cmsSize, err := cms.size(sample)
	if err != nil {
		return nil, 0, err
	}
	// Tokens vary by a few bytes (serial, nonce, time fraction): leave room.
	return sample, cmsSize + 256, nil
}

// addSignature adds to u the signature dictionary, with placeholders for
// its byte range and contents, the field and widget that hold it, and its
// references (DocMDP, FieldMDP) with the permissions they set.
func (s *Signer) addSignature(u *update, doc *document, placeholder int, now time.Time) (cos.Ref, string, error) {
	sig := cos.Dict{
		"Type":      cos.Name("Sig"),
		"Filter":    cos.Name("Adobe.PPKLite"),
		"SubFilter": cos.Name("ETSI.CAdES.detached"),
		"ByteRange": cos.Raw(byteRangePlaceholder),
		"Contents":  cos.Raw("<" + strings.Repeat("0", 2*placeholder) + ">"),
		"M":         cos.String(pdfDate(now)),
	}
	for k, v := range map[cos.Name]string{"Reason": s.Opts.Reason, "Location": s.Opts.Location, "ContactInfo": s.Opts.Contact} {
		if v != "" {
			sig[k] = textString(v)
		}
	}
	sigRef := u.add(sig)
	field, err := doc.addSignatureField(u, sigRef, s.Opts, s.Chain[0], now)
	if err != nil {
		return cos.Ref{}, "", err
	}
	doc.addReferences(u, sig, sigRef, s.Opts)
	return sigRef, field, nil
}

// laidOut is a signature's update serialized where it goes in the output,
// its byte range written and its /Contents still a placeholder.
type laidOut struct {
	lead      []byte // a newline, when the original lacks one at its end
	data      []byte // the update, at base in the output
	base      int64
	xrefAt    int   // the update's cross-reference, in data
	cAt, cEnd int   // the /Contents string in data, < and > included
	total     int64 // the output's size
}

// layOut serializes u after the size bytes of src (and a newline if the
// original lacks one at its end) and writes the byte range of signature
// sigRef: all but its /Contents.
func layOut(u *update, sigRef cos.Ref, src io.ReaderAt, size int64, placeholder int) (*laidOut, error) {
	l := &laidOut{}
	last := make([]byte, 1)
	if _, err := src.ReadAt(last, size-1); err == nil && last[0] != '\n' && last[0] != '\r' {
		l.lead = []byte{'\n'}
	}
	l.base = size + int64(len(l.lead))
	data, at, xrefAt := u.serialize(l.base)
	l.data, l.xrefAt = finish(data, l.base+int64(xrefAt)), xrefAt

	sigAt := at[sigRef.Num]
	brAt := sigAt + bytes.Index(l.data[sigAt:], []byte(byteRangePlaceholder))
	l.cAt = sigAt + bytes.Index(l.data[sigAt:], []byte("/Contents <")) + len("/Contents ")
	l.cEnd = l.cAt + 2 + 2*placeholder
	l.total = l.base + int64(len(l.data))
	if l.total >= 1e10 {
		return nil, fmt.Errorf("%w: files of 10 GB and more are not supported", ErrDamaged)
	}
	br := fmt.Sprintf("[0 %010d %010d %010d]", l.base+int64(l.cAt), l.base+int64(l.cEnd), l.total-(l.base+int64(l.cEnd)))
	copy(l.data[brAt:], br)
	return l, nil
}

// signDigest makes the CMS signature of digest, time-stamped when the
// level asks (sample is then the sample token), and the token's time.
func (s *Signer) signDigest(ctx context.Context, cms *cmsBuilder, digest, sample []byte) ([]byte, time.Time, error) {
	var tsTime time.Time
	var stamp func([]byte) ([]byte, error)
	if sample != nil {
		tsa := &tsaClient{url: s.Opts.TSA, http: s.http()}
		stamp = func(sigValue []byte) ([]byte, error) {
			token, t, err := tsa.stamp(ctx, sigValue)
			tsTime = t
			return token, err
		}
	}
	der, err := cms.build(digest, stamp)
	return der, tsTime, err
}

// timestamped: the level has a signature time-stamp; longTerm: and the
// validation data (B-LTA is made as B-LT, then extended).
func (s *Signer) timestamped() bool {
	return s.Opts.Level == LevelT || s.longTerm()
}

func (s *Signer) longTerm() bool { return s.Opts.Level == LevelLT || s.Opts.Level == LevelLTA }

func (s *Signer) levelOrB() Level {
	if s.Opts.Level == "" {
		return LevelB
	}
	return s.Opts.Level
}

// tokenSample asks the TSA once per batch for a token over random data, to
// size placeholders.
func (s *Signer) tokenSample(ctx context.Context) ([]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.sample != nil {
		return s.sample, nil
	}
	tsa := &tsaClient{url: s.Opts.TSA, http: s.http()}
	token, _, err := tsa.stamp(ctx, []byte(time.Now().String()))
	if err != nil {
		return nil, err
	}
	s.sample = token
	return token, nil
}
