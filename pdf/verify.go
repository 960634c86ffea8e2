package pdf

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"sort"
	"time"

	"github.com/paraphe/paraphe/cms"
	"github.com/paraphe/paraphe/pdf/internal/cos"
)

// VerifyOptions say what to trust and whether to go online. The zero value
// trusts nothing and stays offline: every signature is then at best
// INDETERMINATE, never called altered for being unknown.
type VerifyOptions struct {
	// Anchors are trusted roots by SHA-256 fingerprint (the policy's CA);
	// the certificates themselves come from the signature or the /DSS.
	Anchors [][]byte
	// Roots are trusted too (the system's); may be nil.
	Roots *x509.CertPool
	// Trust are further anchors: IT's and the user's certificates, bundles,
	// trusted-list services.
	Trust []Anchor
	// Online fetches OCSP or CRLs when the file carries none.
	Online bool
	HTTP   *http.Client
	// Now is the validation time (time.Now when nil).
	Now func() time.Time
	// Password opens an encrypted document; most signed ones open with
	// the empty password (they are encrypted only to restrict changes).
	Password []byte
}

// ErrPassword is returned for an encrypted document the empty password
// does not open, when no other is given (ErrWrongPassword when one is).
var ErrPassword = errors.New("pdf: the document needs a password to open")

// Revocation is the revocation state of a signer's certificate.
type Revocation string

// Revocation states.
const (
	RevocationGood       Revocation = "good"
	RevocationRevoked    Revocation = "revoked"
	RevocationUnknown    Revocation = "unknown"     // asked online, no answer
	RevocationNotChecked Revocation = "not_checked" // no data in the file, not asked online
	RevocationStale      Revocation = "stale"       // data in the file, but from too long before the time judged
)

// Revocations are every revocation state, for the catalogue's tests.
var Revocations = []Revocation{RevocationGood, RevocationRevoked, RevocationUnknown, RevocationNotChecked, RevocationStale}

// Where revocation data came from.
const (
	RevocationEmbedded = "embedded"
	RevocationOnline   = "online"
)

// SignatureReport is what verification found about one signature or
// document time-stamp.
type SignatureReport struct {
	// Field is the signature field's full name; empty when no field of the
	// form refers to the signature (Unreferenced).
	Field        string `json:"field"`
	Unreferenced bool   `json:"unreferenced,omitempty"`
	// Widgets are where the field shows: its page and its place there
	// (all zero for an invisible signature); none when no field refers to
	// the signature.
	Widgets []Widget `json:"widgets,omitempty"`
	Kind    Kind     `json:"kind"`
	// Indication and SubIndication are the verdict (ETSI EN 319 102-1).
	Indication    Indication    `json:"indication"`
	SubIndication SubIndication `json:"sub_indication,omitempty"`

	// Certificate is the signer's (or, for a document time-stamp, the
	// time-stamping unit's); Chain goes from it to the trust anchor when one
	// was found.
	Certificate *x509.Certificate   `json:"-"`
	Chain       []*x509.Certificate `json:"-"`

	SubFilter          string `json:"subfilter"`
	DigestAlgorithm    string `json:"digest_algorithm,omitempty"`
	SignatureAlgorithm string `json:"signature_algorithm,omitempty"`
	KeyBits            int    `json:"key_bits,omitempty"`
	Reason             string `json:"reason,omitempty"`
	Location           string `json:"location,omitempty"`
	ContactInfo        string `json:"contact_info,omitempty"`
	// ClaimedTime is the time the signer's computer gave (/M or the
	// signing-time attribute): a claim, not a proof.
	ClaimedTime *time.Time `json:"claimed_time,omitempty"`
	// TimestampTime is the time of the signature's own time-stamp (or, for a
	// document time-stamp, its time), when it is valid and trusted.
	TimestampTime *time.Time `json:"timestamp_time,omitempty"`
	// ProofTime is the earliest time a trusted time-stamp proves the
	// signature existed (its own, or a later document time-stamp's): the
	// time the signature is judged at when its certificate has expired since.
	ProofTime *time.Time `json:"proof_time,omitempty"`
	// ValidationTime is the time the certificate chain was judged at: now,
	// or ProofTime for a certificate that expired since (ExpiredSince).
	ValidationTime time.Time         `json:"validation_time"`
	ExpiredSince   bool              `json:"expired_since,omitempty"`
	Timestamps     []TimestampReport `json:"timestamps,omitempty"`

	// Intact: the signed bytes hash to what was signed, and the signature
	// value verifies with the certificate's key.
	Intact bool `json:"intact"`
	// CoversWholeFile: nothing was added after this signature.
	CoversWholeFile bool `json:"covers_whole_file"`
	// Revision is the number of the revision the signature signs (1 is the
	// oldest).
	Revision int `json:"revision"`
	// ByteRange is the signature's /ByteRange as verified: the two spans
	// of the file it signs, offset and length each; all zero when it could
	// not be read. The revision signed ends where the second span ends
	// (SignedRevision).
	ByteRange [4]int64 `json:"byte_range"`
	// ModifiedAfter: later updates change the document beyond what signing
	// allows (new signatures, validation data, form filling when permitted).
	ModifiedAfter bool     `json:"modified_after"`
	Changes       []string `json:"changes,omitempty"`

	Trusted      bool         `json:"trusted"`
	TrustProblem TrustProblem `json:"trust_problem,omitempty"`
	// TrustSource and TrustAnchor say who vouches for the chain.
	TrustSource AnchorSource `json:"trust_source,omitempty"`
	TrustAnchor string       `json:"trust_anchor,omitempty"`
	// Qualified: a qualified certificate under a trusted-list CA/QC service
	// granted at the signing time.
	Qualified bool `json:"qualified,omitempty"`

	Revocation    Revocation `json:"revocation"`
	RevocationSrc string     `json:"revocation_source,omitempty"`
	RevokedAt     *time.Time `json:"revoked_at,omitempty"`

	Level Level `json:"level,omitempty"`
	// CAdES: a signer of a CAdES file (.p7m, .p7s), not of a PDF; its
	// level is CAdES's (ETSI EN 319 122-1).
	CAdES bool `json:"cades,omitempty"`
	// Weak lists algorithms no longer considered safe ("SHA-1", "RSA-1024").
	Weak     []string  `json:"weak,omitempty"`
	Problems []Problem `json:"problems,omitempty"`
}

// TimestampReport is a signature time-stamp token as found.
type TimestampReport struct {
	Time      time.Time `json:"time"`
	Authority string    `json:"authority,omitempty"`
	Hash      string    `json:"hash,omitempty"`
	Trusted   bool      `json:"trusted"`
	Problem   Problem   `json:"problem,omitempty"`
}

// SignedRevision is the document as the signature signed it: the first
// bytes of file (the PDF the report is of) up to the end of its byte
// range, a PDF of their own (an incremental update only adds to a file).
// It reads file, copying nothing; ok is false when the byte range could
// not be read.
func (r *SignatureReport) SignedRevision(file io.ReaderAt) (rev *io.SectionReader, ok bool) {
	end := r.ByteRange[2] + r.ByteRange[3]
	if end <= 0 {
		return nil, false
	}
	return io.NewSectionReader(file, 0, end), true
}

// Valid reports whether the signature passed (TOTAL-PASSED).
func (r *SignatureReport) Valid() bool { return r.Indication == TotalPassed }

// Report is the verification of a file.
type Report struct {
	File           string            `json:"file"`
	ValidationTime time.Time         `json:"validation_time"`
	Signatures     []SignatureReport `json:"signatures"`
}

// ErrNoSignature is returned for a PDF without signatures.
var ErrNoSignature = errors.New("pdf: the document is not signed")

// Verify checks every signature and document time-stamp of the PDF at path.
// A malformed signature is reported as such and never hides the others.
func Verify(ctx context.Context, path string, o VerifyOptions) (*Report, error) {
	fh, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer fh.Close()
	fi, err := fh.Stat()
	if err != nil {
		return nil, err
	}
	return VerifyReader(ctx, fh, fi.Size(), path, o)
}

// VerifyReader is Verify for a PDF of size bytes read from r; name is what
// the report calls it.
func VerifyReader(ctx context.Context, r io.ReaderAt, size int64, name string, o VerifyOptions) (*Report, error) {
	f, err := cos.OpenDecrypted(r, size, o.Password)
	switch {
	case errors.Is(err, cos.ErrNotPDF):
		return nil, ErrNotPDF
	case errors.Is(err, cos.ErrPassword) && len(o.Password) > 0:
		return nil, ErrWrongPassword
	case errors.Is(err, cos.ErrPassword):
		return nil, ErrPassword
	case errors.Is(err, cos.ErrUnsupportedEncryption):
		return nil, fmt.Errorf("%w: %v", ErrEncrypted, err)
	case err != nil:
		return nil, fmt.Errorf("%w: %v", ErrDamaged, err)
	}
	doc, err := readDocument(f)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrDamaged, err)
	}
	sigs := collectSignatures(f, doc.catalog)
	sigs = append(sigs, unreferencedSignatures(f, sigs)...)
	if len(sigs) == 0 {
		return nil, ErrNoSignature
	}
	v := &verifier{r: r, size: size, f: f, o: o, now: time.Now()}
	if o.Now != nil {
		v.now = o.Now()
	}
	v.dss = readDSS(f, doc.catalog)
	rep := &Report{File: name, ValidationTime: v.now}
	for _, e := range v.verifyAll(ctx, sigs) {
		rep.Signatures = append(rep.Signatures, e.rep)
	}
	return rep, nil
}

// verifier holds what the signatures of one file share: the file, its
// validation data, every certificate met, the trust anchors.
type verifier struct {
	r    io.ReaderAt
	size int64
	f    *cos.File
	o    VerifyOptions
	now  time.Time
	dss  *dssContent
	// certs are every certificate met in the signatures, their time-stamps
	// and the /DSS: the intermediates chains are built from.
	certs   []*x509.Certificate
	anchors *anchorSet
}

// examined is one signature through verification.
type examined struct {
	sigInfo
	rep    SignatureReport
	br     [4]int64
	revEnd int64 // end of the revision it signs
	sd     *cms.SignedData
	si     *cms.SignerInfo
	// tokens are the signature time-stamps (for a document time-stamp, the
	// token itself).
	tokens []*cms.Timestamp
	// broken: verification cannot go beyond integrity (malformed, altered).
	broken bool
	// rsaSHA1 holds the /Cert chain of an adbe.x509.rsa_sha1 signature.
	rsaSHA1 []*x509.Certificate
	// proves is, for a trusted and intact document time-stamp, the time it
	// proves what it covers existed.
	proves *time.Time
	// outside: a signer of a SignedData over content outside any PDF
	// (VerifySignedData): no byte range, no revisions, no later changes.
	outside bool
}

// verifyAll checks integrity of every signature first (gathering their
// certificates), then judges document time-stamps from the newest back
// (each proves the existence of what it covers), then signatures.
func (v *verifier) verifyAll(ctx context.Context, sigs []sigInfo) []*examined {
	all := make([]*examined, len(sigs))
	for i, s := range sigs {
		all[i] = v.examine(s)
	}
	v.certs = append(v.certs, v.dss.certs...)
	v.anchors = newAnchorSet(v.o, v.certs)
	order := append([]*examined{}, all...)
	sort.SliceStable(order, func(i, j int) bool { return order[i].revEnd < order[j].revEnd })
	for i := len(order) - 1; i >= 0; i-- {
		if e := order[i]; e.rep.Kind == KindDocumentTimestamp && !e.broken {
			v.judgeDocTimestamp(e, order[i+1:])
		}
	}
	for i, e := range order {
		if e.rep.Kind == KindSignature && !e.broken {
			v.judgeSignature(ctx, e, order[i+1:])
		}
	}
	for _, e := range all {
		e.rep.Level = levelOf(e, order, v)
		conclude(&e.rep)
	}
	return all
}

// earliestProof returns the earliest time a trusted document time-stamp
// among later proves e existed: one whose signed bytes hold e's /Contents.
func earliestProof(e *examined, later []*examined) *time.Time {
	var best *time.Time
	for _, d := range later {
		if d.proves == nil || d.br[1] <= e.br[1] || e.revEnd > d.revEnd {
			continue // not trusted, or does not cover e's signature value
		}
		if best == nil || d.proves.Before(*best) {
			best = d.proves
		}
	}
	return best
}
