package pdf

import (
	"bytes"
	"crypto/sha1"
	"crypto/x509"
	"encoding/asn1"
	"errors"
	"hash"
	"io"

	"github.com/paraphe/paraphe/cms"
	"github.com/paraphe/paraphe/pdf/internal/cos"
)

// Problem names what verification found wrong with a signature; each has
// words in the catalogue (verify.problem.NAME).
type Problem string

// Problems, from the document's structure to the time-stamps.
const (
	ProblemByteRange          Problem = "byterange"           // the signed ranges are malformed or do not fit the signature
	ProblemCMS                Problem = "cms"                 // the signature data cannot be read
	ProblemNoCertificate      Problem = "no_certificate"      // the signer's certificate is not in the file
	ProblemSigningCertificate Problem = "signing_certificate" // the signed attributes name another certificate
	ProblemAlgorithm          Problem = "unsupported_algorithm"
	ProblemDigestMismatch     Problem = "digest_mismatch"   // the signed bytes changed
	ProblemSignatureInvalid   Problem = "signature_invalid" // the signature value is wrong for the key
	ProblemDamaged            Problem = "damaged"           // the file's structure had to be rebuilt
	ProblemModified           Problem = "modified"          // changed after signing beyond what signing allows
	ProblemUnreferenced       Problem = "unreferenced"      // no form field refers to the signature
	ProblemSeveralSigners     Problem = "several_signers"   // the signature holds more than one signer
	ProblemWeakAlgorithm      Problem = "weak_algorithm"
	ProblemTimestampInvalid   Problem = "timestamp_invalid"   // a time-stamp cannot be read or its signature is wrong
	ProblemTimestampMismatch  Problem = "timestamp_mismatch"  // a time-stamp is for other data
	ProblemTimestampUntrusted Problem = "timestamp_untrusted" // a time-stamping authority is not trusted
	ProblemRevocationMissing  Problem = "revocation_unavailable"
)

// Problems are every Problem, for the catalogue's tests.
var Problems = []Problem{ProblemByteRange, ProblemCMS, ProblemNoCertificate, ProblemSigningCertificate, ProblemAlgorithm,
	ProblemDigestMismatch, ProblemSignatureInvalid, ProblemDamaged, ProblemModified, ProblemUnreferenced, ProblemSeveralSigners,
	ProblemWeakAlgorithm, ProblemTimestampInvalid, ProblemTimestampMismatch, ProblemTimestampUntrusted, ProblemRevocationMissing}

// Sub-filters (ISO 32000-2 §12.8.3, ETSI EN 319 142-1).
const (
	subPKCS7Detached = "adbe.pkcs7.detached"
	subPKCS7SHA1     = "adbe.pkcs7.sha1"
	subX509RSASHA1   = "adbe.x509.rsa_sha1"
	subCAdES         = "ETSI.CAdES.detached"
	subRFC3161       = "ETSI.RFC3161"
)

func (e *examined) problem(p Problem) {
	for _, q := range e.rep.Problems {
		if q == p {
			return
		}
	}
	e.rep.Problems = append(e.rep.Problems, p)
}

// fail marks the signature as not verifiable past this point.
func (e *examined) fail(ind Indication, sub SubIndication, p Problem) {
	e.problem(p)
	if !e.broken {
		e.rep.Indication, e.rep.SubIndication = ind, sub
	}
	e.broken = true
}

// examine reads one signature dictionary and checks its integrity: the
// byte range, the signature data, the digest of the signed bytes and the
// signature value. Trust and time come later, once every signature's
// certificates are known.
func (v *verifier) examine(s sigInfo) (e *examined) {
	e = &examined{sigInfo: s}
	r := &e.rep
	r.Field, r.Unreferenced, r.Widgets = s.field, s.unreferenced, s.widgets
	r.Revocation = RevocationNotChecked
	r.ValidationTime = v.now
	if s.unreferenced {
		e.problem(ProblemUnreferenced)
	}
	defer func() {
		// A reader bug must cost one signature's verdict, never the others'.
		if p := recover(); p != nil {
			e.fail(TotalFailed, FormatFailure, ProblemCMS)
		}
	}()
	r.SubFilter = nameOf(s.dict["SubFilter"])
	r.Kind = KindSignature
	if s.dict["Type"] == cos.Name("DocTimeStamp") || r.SubFilter == subRFC3161 {
		r.Kind = KindDocumentTimestamp
	}
	r.Reason = decodeText(toString(s.dict["Reason"]))
	r.Location = decodeText(toString(s.dict["Location"]))
	r.ContactInfo = decodeText(toString(s.dict["ContactInfo"]))
	if t, ok := parsePDFDate(string(toString(s.dict["M"]))); ok {
		r.ClaimedTime = &t
	}
	br, ok := v.byteRange(s)
	if !ok {
		e.fail(TotalFailed, FormatFailure, ProblemByteRange)
		return e
	}
	e.br, e.revEnd = br, br[2]+br[3]
	r.ByteRange = br
	r.CoversWholeFile = e.revEnd == v.size
	if v.f.Rebuilt || v.f.MissingEOF {
		// The cross-reference had to be rebuilt by scanning: what the file
		// says is no longer certain, whatever the signature says.
		e.problem(ProblemDamaged)
	}
	contents := toString(s.dict["Contents"])
	switch {
	case r.Kind == KindDocumentTimestamp:
		v.checkDocTimestamp(e, contents)
	case r.SubFilter == subX509RSASHA1:
		v.checkRSASHA1(e, contents)
	default:
		v.checkCMS(e, contents)
	}
	return e
}

func nameOf(o cos.Object) string {
	n, _ := o.(cos.Name)
	return string(n)
}

// byteRange reads /ByteRange and checks that it fits the file and that the
// signature dictionary lies, unchanged, in the signed revision with its
// /Contents exactly in the gap.
func (v *verifier) byteRange(s sigInfo) ([4]int64, bool) {
	var br [4]int64
	arr, _ := s.dict["ByteRange"].(cos.Array)
	if len(arr) != 4 {
		return br, false
	}
	for i := range 4 {
		n, ok := cos.Int(arr[i])
		if !ok {
			return br, false
		}
		br[i] = n
	}
	if br[0] != 0 || br[1] <= 0 || br[2] <= br[1] || br[3] < 0 || br[2]+br[3] > v.size {
		return br, false
	}
	return br, signedDictInPlace(v.r, v.size, v.f, s.ref, br)
}

// rangeDigests hashes the signed bytes once with every hash asked for, and
// counts the revisions they hold (the first time): the signature signs the
// revision that many end-of-file markers close.
func (v *verifier) rangeDigests(e *examined, hs ...cms.Hash) map[cms.Hash][]byte {
	ws := make([]io.Writer, 0, len(hs)+1)
	hh := make([]hash.Hash, len(hs))
	for i, h := range hs {
		hh[i] = h.New()
		ws = append(ws, hh[i])
	}
	var eofs *eofCounter
	if e.rep.Revision == 0 {
		eofs = &eofCounter{}
		ws = append(ws, eofs)
	}
	w := io.MultiWriter(ws...)
	buf := make([]byte, 256<<10)
	io.CopyBuffer(w, io.NewSectionReader(v.r, e.br[0], e.br[1]), buf)
	io.CopyBuffer(w, io.NewSectionReader(v.r, e.br[2], e.br[3]), buf)
	if eofs != nil {
		e.rep.Revision = max(eofs.n, 1)
	}
	out := map[cms.Hash][]byte{}
	for i, h := range hs {
		out[h] = hh[i].Sum(nil)
	}
	return out
}

// eofCounter counts "%%EOF" markers in what is written to it.
type eofCounter struct {
	n    int
	tail []byte // the last bytes of the previous write
}

var eofMarker = []byte("%%EOF")

func (c *eofCounter) Write(p []byte) (int, error) {
	if len(c.tail) > 0 {
		// A marker across the boundary: look in the joint only.
		k := min(len(p), len(eofMarker)-1)
		joint := append(append([]byte{}, c.tail...), p[:k]...)
		c.n += bytes.Count(joint, eofMarker)
	}
	c.n += bytes.Count(p, eofMarker)
	k := min(len(p), len(eofMarker)-1)
	c.tail = append(c.tail[:0], p[len(p)-k:]...)
	return len(p), nil
}

// checkCMS verifies a CMS signature: adbe.pkcs7.detached and
// ETSI.CAdES.detached (the signed bytes are detached content), and
// adbe.pkcs7.sha1 (their SHA-1 is the encapsulated content).
func (v *verifier) checkCMS(e *examined, contents []byte) {
	sd, err := cms.Parse(contents)
	if err != nil {
		e.fail(TotalFailed, FormatFailure, ProblemCMS)
		return
	}
	e.sd = sd
	v.certs = append(v.certs, sd.Certificates...)
	if len(sd.Signers) > 1 {
		e.problem(ProblemSeveralSigners)
	}
	v.checkSigner(e, sd.Signers[0], func(alg cms.Algorithms) []byte {
		// What was signed: the signed bytes' digest (detached), or for
		// adbe.pkcs7.sha1 the encapsulated SHA-1 of them.
		r := &e.rep
		if r.SubFilter == subPKCS7SHA1 || (sd.Content != nil && len(sd.Content) == sha1.Size && r.SubFilter != subCAdES) {
			sum := v.rangeDigests(e, cms.SHA1)[cms.SHA1]
			if !bytes.Equal(sum, sd.Content) {
				e.fail(TotalFailed, HashFailure, ProblemDigestMismatch)
				return nil
			}
			h := alg.Digest.New()
			h.Write(sd.Content)
			e.problem(ProblemWeakAlgorithm)
			r.Weak = append(r.Weak, cms.SHA1.Name)
			return h.Sum(nil)
		}
		return v.rangeDigests(e, alg.Digest)[alg.Digest]
	})
}

// checkSigner verifies one signer of e.sd: its algorithms, claimed time
// and time-stamps, the digest of what it signed (digest returns it, or
// nil once it has failed e), its certificate and signature value.
func (v *verifier) checkSigner(e *examined, si *cms.SignerInfo, digest func(cms.Algorithms) []byte) {
	r := &e.rep
	e.si = si
	alg, err := si.Algorithms()
	if err != nil {
		e.fail(Indeterminate, CryptoConstraintsFailure, ProblemAlgorithm)
		return
	}
	r.DigestAlgorithm, r.SignatureAlgorithm = alg.Digest.Name, alg.Scheme.Name
	if t, ok := si.SigningTime(); ok && r.ClaimedTime == nil {
		r.ClaimedTime = &t
	}
	for _, tok := range si.TimestampTokens() {
		ts, err := cms.ParseTimestamp(tok)
		if err != nil {
			r.Timestamps = append(r.Timestamps, TimestampReport{Problem: ProblemTimestampInvalid})
			e.problem(ProblemTimestampInvalid)
			continue
		}
		v.certs = append(v.certs, ts.SignedData.Certificates...)
		e.tokens = append(e.tokens, ts)
	}
	d := digest(alg)
	if d == nil {
		return
	}
	if si.SignedAttrs != nil {
		switch md := si.MessageDigest(); {
		case md == nil:
			e.fail(TotalFailed, FormatFailure, ProblemCMS)
			return
		case !bytes.Equal(md, d):
			// Whatever the certificate, the signed bytes are not those signed.
			e.fail(TotalFailed, HashFailure, ProblemDigestMismatch)
			return
		}
	}
	values := si.CertificateValues()
	v.certs = append(v.certs, values...)
	candidates := si.Candidates(e.sd.Certificates, v.dss.certs, values)
	if len(candidates) == 0 {
		e.fail(Indeterminate, NoSigningCertificateFound, ProblemNoCertificate)
		return
	}
	// The one whose key verifies the signature (the certificate set is not
	// signed: an added look-alike must not make it look broken).
	cert := candidates[0]
	for _, c := range candidates {
		if si.Verify(c, d) == nil {
			cert = c
			break
		}
	}
	r.Certificate, r.KeyBits = cert, cms.KeyBits(cert.PublicKey)
	v.verifySigner(e, si, cert, d)
}

// verifySigner checks the signature value and the signing-certificate
// attribute.
func (v *verifier) verifySigner(e *examined, si *cms.SignerInfo, cert *x509.Certificate, digest []byte) {
	switch err := si.Verify(cert, digest); {
	case errors.Is(err, cms.ErrDigestMismatch):
		e.fail(TotalFailed, HashFailure, ProblemDigestMismatch)
		return
	case errors.Is(err, cms.ErrUnsupportedAlgorithm):
		e.fail(Indeterminate, CryptoConstraintsFailure, ProblemAlgorithm)
		return
	case err != nil:
		e.fail(TotalFailed, SigCryptoFailure, ProblemSignatureInvalid)
		return
	}
	e.rep.Intact = true
	if h := si.VerifiedWith(); h.Weak() && e.rep.DigestAlgorithm != h.Name {
		// Verified under the weaker hash the signature algorithm names.
		e.rep.Weak = append(e.rep.Weak, h.Name)
		e.problem(ProblemWeakAlgorithm)
	}
	// CAdES binds the signer's certificate into the signed attributes; a
	// reference to another certificate means the one at hand is not the
	// signer's (ETSI EN 319 102-1 §5.2.3).
	if ref, ok, err := si.SigningCertificate(); err != nil || (ok && !ref.Matches(cert)) {
		e.fail(Indeterminate, NoSigningCertificateFound, ProblemSigningCertificate)
	}
}

// checkRSASHA1 verifies adbe.x509.rsa_sha1: /Contents is a DER OCTET
// STRING holding a PKCS#1 v1.5 RSA signature of the signed bytes, the
// signer's certificate (and its chain) are in /Cert. ISO 32000 lets the
// DigestInfo name SHA-1, SHA-256, SHA-384 or SHA-512.
func (v *verifier) checkRSASHA1(e *examined, contents []byte) {
	r := &e.rep
	var sig []byte
	if _, err := asn1.Unmarshal(trimDER(contents), &sig); err != nil {
		e.fail(TotalFailed, FormatFailure, ProblemCMS)
		return
	}
	var certs []*x509.Certificate
	add := func(o cos.Object) {
		if c, err := cms.ParseCertificate(toString(o)); err == nil {
			certs = append(certs, c)
		}
	}
	switch c := s0(v.f, e.dict["Cert"]).(type) {
	case cos.Array:
		for _, x := range c {
			add(s0(v.f, x))
		}
	default:
		add(c)
	}
	if len(certs) == 0 {
		e.fail(Indeterminate, NoSigningCertificateFound, ProblemNoCertificate)
		return
	}
	e.rsaSHA1 = certs
	v.certs = append(v.certs, certs...)
	cert := certs[0]
	r.Certificate, r.KeyBits, r.SignatureAlgorithm = cert, cms.KeyBits(cert.PublicKey), "RSA"
	hashes := []cms.Hash{cms.SHA1, cms.SHA256, cms.SHA384, cms.SHA512}
	sums := v.rangeDigests(e, hashes...)
	for _, h := range hashes {
		if err := cms.VerifyPKCS1(cert.PublicKey, h, sums[h], sig); err == nil {
			r.DigestAlgorithm, r.Intact = h.Name, true
			if h.Weak() {
				e.problem(ProblemWeakAlgorithm)
				r.Weak = append(r.Weak, h.Name)
			}
			return
		}
	}
	// The digest is inside the signature: a changed byte and a wrong
	// signature cannot be told apart.
	e.fail(TotalFailed, SigCryptoFailure, ProblemSignatureInvalid)
}

// s0 resolves an object, ignoring errors.
func s0(f *cos.File, o cos.Object) cos.Object {
	x, _ := f.Resolve(o)
	return x
}

// checkDocTimestamp verifies a document time-stamp (ETSI.RFC3161): a
// time-stamp token whose imprint is the digest of the signed bytes.
func (v *verifier) checkDocTimestamp(e *examined, contents []byte) {
	r := &e.rep
	ts, err := cms.ParseTimestamp(contents)
	if err != nil {
		e.fail(TotalFailed, FormatFailure, ProblemTimestampInvalid)
		return
	}
	e.sd, e.si, e.tokens = ts.SignedData, ts.SignedData.Signers[0], []*cms.Timestamp{ts}
	v.certs = append(v.certs, ts.SignedData.Certificates...)
	if alg, err := e.si.Algorithms(); err == nil {
		r.DigestAlgorithm, r.SignatureAlgorithm = ts.Hash.Name, alg.Scheme.Name
	}
	if !bytes.Equal(v.rangeDigests(e, ts.Hash)[ts.Hash], ts.Imprint) {
		e.fail(TotalFailed, HashFailure, ProblemDigestMismatch)
		return
	}
	tsa := ts.Signer(v.dss.certs)
	if tsa == nil {
		e.fail(Indeterminate, NoSigningCertificateFound, ProblemNoCertificate)
		return
	}
	r.Certificate, r.KeyBits = tsa, cms.KeyBits(tsa.PublicKey)
	switch err := ts.Verify(tsa); {
	case errors.Is(err, cms.ErrUnsupportedAlgorithm):
		e.fail(Indeterminate, CryptoConstraintsFailure, ProblemAlgorithm)
		return
	case err != nil:
		e.fail(TotalFailed, SigCryptoFailure, ProblemSignatureInvalid)
		return
	}
	r.Intact = true
	t := ts.Time
	r.ClaimedTime = &t
}

// trimDER drops the zero padding after a DER value.
func trimDER(b []byte) []byte {
	var v asn1.RawValue
	if rest, err := asn1.Unmarshal(b, &v); err == nil {
		return b[:len(b)-len(rest)]
	}
	return b
}

// signedDictInPlace checks that the signature dictionary is one the
// signature covers, and that the gap it leaves is exactly its /Contents: the
// dictionary is an indirect object of the signed revision, before the gap,
// not replaced since; read from the file itself its /Contents value spans
// the gap (and only hex digits fill it), and no key appears twice. Without
// this a forged dictionary could point its /ByteRange at signed bytes moved
// elsewhere, or unsigned keys could hide in the gap.
func signedDictInPlace(r io.ReaderAt, size int64, f *cos.File, ref cos.Ref, br [4]int64) bool {
	if ref == (cos.Ref{}) {
		return false
	}
	kind, off, _ := f.Where(ref.Num)
	if kind != 'n' || off >= br[1] {
		return false
	}
	revEnd := br[2] + br[3]
	old, err := f.OpenRevision(io.NewSectionReader(r, 0, revEnd), revEnd)
	if err != nil {
		return false
	}
	if k2, off2, _ := old.Where(ref.Num); k2 != 'n' || off2 != off {
		return false // replaced after the signature
	}
	spans, err := cos.DictSpans(io.NewSectionReader(r, 0, revEnd), revEnd, off)
	if err != nil {
		return false
	}
	c, ok := spans["Contents"]
	if !ok || c.Start != br[1] || c.End != br[2] {
		return false
	}
	gap := io.NewSectionReader(r, br[1]+1, br[2]-br[1]-2)
	buf := make([]byte, 32<<10)
	for {
		n, err := gap.Read(buf)
		for _, b := range buf[:n] {
			if !isHexOrSpace(b) {
				return false
			}
		}
		if err != nil {
			return err == io.EOF
		}
	}
}

func isHexOrSpace(b byte) bool {
	return (b >= '0' && b <= '9') || (b >= 'a' && b <= 'f') || (b >= 'A' && b <= 'F') ||
		b == ' ' || b == '\n' || b == '\r' || b == '\t'
}
