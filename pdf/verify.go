package pdf

import (
	"bytes"
	"context"
	"crypto"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/x509"
	"encoding/asn1"
	"errors"
	"fmt"
	"hash"
	"io"
	"math/big"
	"net/http"
	"os"
	"time"

	"github.com/digitorus/timestamp"
	"golang.org/x/crypto/ocsp"

	"github.com/paraphe/paraphe/pdf/internal/cos"
)

// VerifyOptions say what to trust and whether to go online.
type VerifyOptions struct {
	// Anchors are trusted roots by SHA-256 fingerprint (the policy's); the
	// certificates themselves come from the signature or the /DSS.
	Anchors [][]byte
	// Roots are trusted too (e.g. the system's); may be nil.
	Roots *x509.CertPool
	// Trust are further anchors: IT's and the user's certificates, bundles,
	// trusted-list services.
	Trust []Anchor
	// Online fetches OCSP or CRLs when the file carries none.
	Online bool
	HTTP   *http.Client
	Now    func() time.Time
}

// Revocation states of a signer's certificate.
const (
	RevocationGood       = "good"
	RevocationRevoked    = "revoked"
	RevocationUnknown    = "unknown"
	RevocationNotChecked = "not_checked"
)

// SignatureReport is what verification found about one signature.
type SignatureReport struct {
	Field string `json:"field"`
	Kind  Kind   `json:"kind"`
	// Indication and SubIndication are the verdict (ETSI EN 319 102-1).
	Indication    Indication    `json:"indication"`
	SubIndication SubIndication `json:"sub_indication,omitempty"`
	Certificate *x509.Certificate `json:"-"`
	SubFilter   string            `json:"subfilter"`
	Reason      string            `json:"reason,omitempty"`
	Location    string            `json:"location,omitempty"`
	ClaimedTime *time.Time        `json:"claimed_time,omitempty"`
	// TimestampTime is the time-stamp's time, when one is there and valid.
	TimestampTime *time.Time `json:"timestamp_time,omitempty"`
	// Intact: the signed bytes hash to what was signed, and the signature
	// verifies with the certificate's key.
	Intact bool `json:"intact"`
	// CoversWholeFile: nothing was added after this signature.
	CoversWholeFile bool `json:"covers_whole_file"`
	// ModifiedAfter: later updates change the document beyond what signing
	// allows (new signatures, validation data, form filling when permitted).
	ModifiedAfter bool     `json:"modified_after"`
	Changes       []string `json:"changes,omitempty"`
	Trusted       bool     `json:"trusted"`
	TrustProblem  string   `json:"trust_problem,omitempty"` // a Trust… constant
	Revocation    string   `json:"revocation"`
	RevocationSrc string   `json:"revocation_source,omitempty"` // embedded, online
	Level         string   `json:"level"`                       // B-B, B-T, B-LT, or "" for non-PAdES
	Problems      []string `json:"problems,omitempty"`
}

// Valid reports whether the signature is intact, trusted, not revoked and
// the document not modified beyond what is allowed.
func (r *SignatureReport) Valid() bool {
	return r.Intact && r.Trusted && !r.ModifiedAfter && r.Revocation != RevocationRevoked
}

// Report is the verification of a file.
type Report struct {
	File       string            `json:"file"`
	Signatures []SignatureReport `json:"signatures"`
}

// ErrNoSignature is returned for a PDF without signatures.
var ErrNoSignature = errors.New("pdf: the document is not signed")

type sigInfo struct {
	field string
	ref   cos.Ref // the signature dictionary (indirect), zero when direct
	dict  cos.Dict
}

// Verify checks every signature of the PDF at path.
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
	f, err := cos.Open(fh, fi.Size())
	switch {
	case errors.Is(err, cos.ErrNotPDF):
		return nil, ErrNotPDF
	case errors.Is(err, cos.ErrEncrypted):
		return nil, ErrEncrypted
	case err != nil:
		return nil, fmt.Errorf("%w: %v", ErrDamaged, err)
	}
	doc, err := readDocument(f)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrDamaged, err)
	}
	sigs := collectSignatures(f, doc.catalog)
	if len(sigs) == 0 {
		return nil, ErrNoSignature
	}
	dss := readDSS(f, doc.catalog)
	rep := &Report{File: path}
	for _, s := range sigs {
		sr := verifyOne(ctx, fh, fi.Size(), f, s, dss, o)
		if f.Rebuilt {
			// The cross-reference had to be rebuilt by scanning: what the
			// file says is no longer certain, whatever the signature says.
			sr.Intact = false
			sr.Problems = append(sr.Problems, ProblemDamaged)
		}
		rep.Signatures = append(rep.Signatures, sr)
	}
	return rep, nil
}

func collectSignatures(f *cos.File, catalog cos.Dict) []sigInfo {
	form, _ := f.ResolveDict(catalog["AcroForm"])
	fields, _ := f.Resolve(form["Fields"])
	var out []sigInfo
	visited := map[cos.Ref]bool{}
	seenSig := map[cos.Ref]bool{}
	var walk func(o cos.Object, prefix string, depth int)
	walk = func(o cos.Object, prefix string, depth int) {
		if r, ok := o.(cos.Ref); ok {
			if visited[r] {
				return
			}
			visited[r] = true
		}
		d, err := f.ResolveDict(o)
		if err != nil || d == nil || depth > 16 || len(visited) > 1<<16 {
			return
		}
		name := prefix + string(toString(d["T"]))
		if kids, _ := f.Resolve(d["Kids"]); kids != nil {
			if ka, ok := kids.(cos.Array); ok && d["FT"] == nil {
				for _, k := range ka {
					walk(k, name+".", depth+1)
				}
				return
			}
		}
		if d["FT"] == cos.Name("Sig") {
			if v, _ := f.ResolveDict(d["V"]); v != nil {
				ref, _ := d["V"].(cos.Ref)
				if !seenSig[ref] || ref == (cos.Ref{}) {
					seenSig[ref] = true
					out = append(out, sigInfo{field: name, ref: ref, dict: v})
				}
			}
		}
	}
	if arr, ok := fields.(cos.Array); ok {
		for _, fo := range arr {
			walk(fo, "", 0)
		}
	}
	// Some signers (poppler's pdfsig among them) leave their field out of
	// /Fields: their widget is only in a page's /Annots.
	eachPage(f, catalog, func(page cos.Dict) {
		annots, _ := f.Resolve(page["Annots"])
		arr, _ := annots.(cos.Array)
		for _, a := range arr {
			walk(a, "", 0)
		}
	})
	return out
}

// eachPage calls fn for every page of the page tree, once each.
func eachPage(f *cos.File, catalog cos.Dict, fn func(cos.Dict)) {
	visited := map[cos.Ref]bool{}
	var walk func(o cos.Object, depth int)
	walk = func(o cos.Object, depth int) {
		if r, ok := o.(cos.Ref); ok {
			if visited[r] {
				return
			}
			visited[r] = true
		}
		d, err := f.ResolveDict(o)
		if err != nil || d == nil || depth > 64 || len(visited) > 1<<20 {
			return
		}
		if kids, _ := f.Resolve(d["Kids"]); kids != nil {
			ka, _ := kids.(cos.Array)
			for _, k := range ka {
				walk(k, depth+1)
			}
			return
		}
		fn(d)
	}
	walk(catalog["Pages"], 0)
}

type dssContent struct {
	certs []*x509.Certificate
	ocsps [][]byte
	crls  []*x509.RevocationList
}

func readDSS(f *cos.File, catalog cos.Dict) *dssContent {
	d := &dssContent{}
	dss, _ := f.ResolveDict(catalog["DSS"])
	if dss == nil {
		return d
	}
	seen := map[cos.Object]bool{}
	each := func(key cos.Name, fn func([]byte)) {
		arr, _ := f.Resolve(dss[key])
		a, _ := arr.(cos.Array)
		if len(a) > 10000 {
			a = a[:10000] // far beyond any real chain
		}
		for _, r := range a {
			if ref, ok := r.(cos.Ref); ok {
				if seen[ref] {
					continue // decoded once
				}
				seen[ref] = true
			}
			o, _ := f.Resolve(r)
			if s, ok := o.(*cos.Stream); ok {
				if data, err := f.StreamData(s); err == nil {
					fn(data)
				}
			}
		}
	}
	each("Certs", func(b []byte) {
		if c, err := x509.ParseCertificate(b); err == nil {
			d.certs = append(d.certs, c)
		}
	})
	each("OCSPs", func(b []byte) { d.ocsps = append(d.ocsps, b) })
	each("CRLs", func(b []byte) {
		if c, err := x509.ParseRevocationList(b); err == nil {
			d.crls = append(d.crls, c)
		}
	})
	return d
}

// parsedCMS is what verification needs of a SignedData.
type parsedCMS struct {
	certs       []*x509.Certificate
	digestAlg   asn1.ObjectIdentifier
	signedAttrs []byte // DER, re-tagged as SET
	sigAlg      asn1.ObjectIdentifier
	signature   []byte
	issuer      []byte
	serial      *big.Int
	digest      []byte // message-digest attribute
	certHash    []byte // signing-certificate-v2's SHA-256 of the signer's certificate
	token       []byte // signature time-stamp token
}

type rawSignerInfo struct {
	Version         int
	SID             asn1.RawValue
	DigestAlgorithm struct {
		Algorithm asn1.ObjectIdentifier
		Params    asn1.RawValue `asn1:"optional"`
	}
	SignedAttrs        asn1.RawValue `asn1:"optional,tag:0"`
	SignatureAlgorithm struct {
		Algorithm asn1.ObjectIdentifier
		Params    asn1.RawValue `asn1:"optional"`
	}
	Signature     []byte
	UnsignedAttrs asn1.RawValue `asn1:"optional,tag:1"`
}

type rawSignedData struct {
	Version          int
	DigestAlgorithms asn1.RawValue
	EncapContentInfo asn1.RawValue
	Certificates     asn1.RawValue   `asn1:"optional,tag:0"`
	CRLs             asn1.RawValue   `asn1:"optional,tag:1"`
	SignerInfos      []rawSignerInfo `asn1:"set"`
}

func parseCMS(der []byte) (*parsedCMS, error) {
	var ci struct {
		Type    asn1.ObjectIdentifier
		Content asn1.RawValue `asn1:"explicit,tag:0"`
	}
	if _, err := asn1.Unmarshal(der, &ci); err != nil {
		return nil, err
	}
	if !ci.Type.Equal(oidSignedData) {
		return nil, errors.New("not a SignedData")
	}
	var sd rawSignedData
	if _, err := asn1.Unmarshal(ci.Content.Bytes, &sd); err != nil {
		return nil, err
	}
	if len(sd.SignerInfos) != 1 {
		return nil, fmt.Errorf("%d signers", len(sd.SignerInfos))
	}
	si := sd.SignerInfos[0]
	p := &parsedCMS{digestAlg: si.DigestAlgorithm.Algorithm, sigAlg: si.SignatureAlgorithm.Algorithm, signature: si.Signature}
	if len(sd.Certificates.Bytes) > 0 {
		certs, err := x509.ParseCertificates(sd.Certificates.Bytes)
		if err != nil {
			return nil, err
		}
		p.certs = certs
	}
	var ias struct {
		Issuer asn1.RawValue
		Serial *big.Int
	}
	if _, err := asn1.Unmarshal(si.SID.FullBytes, &ias); err != nil {
		return nil, errors.New("signer identified by key ID, not issuer and serial")
	}
	p.issuer, p.serial = ias.Issuer.FullBytes, ias.Serial
	if len(si.SignedAttrs.FullBytes) == 0 {
		return nil, errors.New("no signed attributes")
	}
	set := append([]byte{0x31}, si.SignedAttrs.FullBytes[1:]...)
	p.signedAttrs = set
	var attrs []attribute
	if _, err := asn1.UnmarshalWithParams(set, &attrs, "set"); err != nil {
		return nil, err
	}
	for _, a := range attrs {
		if a.Type.Equal(oidMessageDigest) && len(a.Values) == 1 {
			asn1.Unmarshal(a.Values[0].FullBytes, &p.digest)
		}
		if a.Type.Equal(oidSigningCertificateV2) && len(a.Values) == 1 {
			// ESSCertIDv2 may start with a hash algorithm (SHA-256 is the
			// default and then left out): read loosely, check SHA-256 only.
			var raw struct{ Certs []asn1.RawValue }
			if _, err := asn1.Unmarshal(a.Values[0].FullBytes, &raw); err == nil && len(raw.Certs) > 0 {
				var id essCertIDv2
				if _, err := asn1.Unmarshal(raw.Certs[0].FullBytes, &id); err == nil {
					p.certHash = id.Hash
				}
			}
		}
	}
	if len(si.UnsignedAttrs.Bytes) > 0 {
		var un []attribute
		if _, err := asn1.UnmarshalWithParams(append([]byte{0x31}, si.UnsignedAttrs.FullBytes[1:]...), &un, "set"); err == nil {
			for _, a := range un {
				if a.Type.Equal(oidTimeStampToken) && len(a.Values) == 1 {
					p.token = a.Values[0].FullBytes
				}
			}
		}
	}
	return p, nil
}

var hashByOID = map[string]crypto.Hash{
	"2.16.840.1.101.3.4.2.1": crypto.SHA256, "2.16.840.1.101.3.4.2.2": crypto.SHA384,
	"2.16.840.1.101.3.4.2.3": crypto.SHA512, "1.3.14.3.2.26": crypto.SHA1,
}

func newHash(h crypto.Hash) hash.Hash {
	switch h {
	case crypto.SHA384:
		return sha512.New384()
	case crypto.SHA512:
		return sha512.New()
	case crypto.SHA1:
		return sha1.New()
	}
	return sha256.New()
}

func x509Algorithm(sigAlg asn1.ObjectIdentifier, h crypto.Hash, pub any) x509.SignatureAlgorithm {
	switch pub.(type) {
	case interface{ Size() int }: // *rsa.PublicKey
		switch h {
		case crypto.SHA384:
			return x509.SHA384WithRSA
		case crypto.SHA512:
			return x509.SHA512WithRSA
		case crypto.SHA1:
			return x509.SHA1WithRSA
		}
		return x509.SHA256WithRSA
	}
	switch h {
	case crypto.SHA384:
		return x509.ECDSAWithSHA384
	case crypto.SHA512:
		return x509.ECDSAWithSHA512
	case crypto.SHA1:
		return x509.ECDSAWithSHA1
	}
	return x509.ECDSAWithSHA256
}

func verifyOne(ctx context.Context, r io.ReaderAt, size int64, f *cos.File, s sigInfo, dss *dssContent, o VerifyOptions) SignatureReport {
	rep := SignatureReport{Field: s.field, Revocation: RevocationNotChecked}
	problem := func(p string) { rep.Problems = append(rep.Problems, p) }
	if sf, ok := s.dict["SubFilter"].(cos.Name); ok {
		rep.SubFilter = string(sf)
	}
	rep.Reason = decodeText(toString(s.dict["Reason"]))
	rep.Location = decodeText(toString(s.dict["Location"]))
	if t, ok := parsePDFDate(string(toString(s.dict["M"]))); ok {
		rep.ClaimedTime = &t
	}
	brArr, _ := s.dict["ByteRange"].(cos.Array)
	var br [4]int64
	if len(brArr) != 4 {
		problem("byterange")
		return rep
	}
	for i := range 4 {
		br[i], _ = cos.Int(brArr[i])
	}
	if br[0] != 0 || br[1] <= 0 || br[2] <= br[1] || br[3] < 0 || br[2]+br[3] > size {
		problem("byterange")
		return rep
	}
	if !signedDictInPlace(r, size, f, s.ref, br) {
		problem("byterange")
		return rep
	}
	rep.CoversWholeFile = br[2]+br[3] == size
	contents := toString(s.dict["Contents"])
	cms, err := parseCMS(trimDER(contents))
	if err != nil {
		problem("cms")
		return rep
	}
	for _, c := range cms.certs {
		if bytes.Equal(c.RawIssuer, cms.issuer) && c.SerialNumber.Cmp(cms.serial) == 0 {
			rep.Certificate = c
		}
	}
	if rep.Certificate == nil {
		problem("no_certificate")
		return rep
	}
	// PAdES binds the signer's certificate into the signed attributes.
	if sum := sha256.Sum256(rep.Certificate.Raw); rep.SubFilter == "ETSI.CAdES.detached" && !bytes.Equal(cms.certHash, sum[:]) {
		problem("signing_certificate")
		return rep
	}
	hashAlg, ok := hashByOID[cms.digestAlg.String()]
	if !ok {
		problem("digest_algorithm")
		return rep
	}
	h := newHash(hashAlg)
	io.Copy(h, io.NewSectionReader(r, br[0], br[1]))
	io.Copy(h, io.NewSectionReader(r, br[2], br[3]))
	digest := h.Sum(nil)
	if !bytes.Equal(digest, cms.digest) {
		problem("digest_mismatch")
	} else if err := rep.Certificate.CheckSignature(x509Algorithm(cms.sigAlg, hashAlg, rep.Certificate.PublicKey), cms.signedAttrs, cms.signature); err != nil {
		problem("signature_invalid")
	} else {
		rep.Intact = true
	}

	// Trust: roots are the anchors found among the certificates at hand,
	// plus the given pool.
	pool := x509.NewCertPool()
	if o.Roots != nil {
		pool = o.Roots.Clone()
	}
	inter := x509.NewCertPool()
	all := append(append([]*x509.Certificate{}, cms.certs...), dss.certs...)
	for _, c := range all {
		fp := sha256.Sum256(c.Raw)
		anchored := false
		for _, a := range o.Anchors {
			if bytes.Equal(a, fp[:]) {
				anchored = true
			}
		}
		if anchored {
			pool.AddCert(c)
		} else {
			inter.AddCert(c)
		}
	}
	now := time.Now()
	if o.Now != nil {
		now = o.Now()
	}
	// The time-stamp: its signer (found by issuer and serial, as the token
	// names it) must chain to a trusted root for time-stamping.
	if cms.token != nil {
		ts, err := timestamp.Parse(cms.token)
		sum := sha256.Sum256(cms.signature)
		switch {
		case err != nil:
			problem("timestamp_invalid")
		case ts.HashAlgorithm != crypto.SHA256 || !bytes.Equal(ts.HashedMessage, sum[:]):
			problem("timestamp_mismatch")
		case !tsaTrusted(cms.token, pool, inter, ts.Time):
			problem("timestamp_untrusted")
		default:
			t := ts.Time
			rep.TimestampTime = &t
		}
	}
	at := now
	if rep.TimestampTime != nil {
		at = *rep.TimestampTime
	}
	chains, err := rep.Certificate.Verify(x509.VerifyOptions{Roots: pool, Intermediates: inter, CurrentTime: at,
		KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny}})
	switch {
	case err != nil:
		rep.TrustProblem = trustProblem(err)
	case !signingUsage(rep.Certificate):
		rep.TrustProblem = TrustUsage // e.g. a web server's certificate
	default:
		rep.Trusted = true
	}

	// Revocation: embedded first, then online when asked.
	if len(chains) > 0 && len(chains[0]) > 1 {
		issuer := chains[0][1]
		rep.Revocation, rep.RevocationSrc = embeddedStatus(rep.Certificate, issuer, dss, at, now)
		if rep.Revocation == RevocationNotChecked && o.Online {
			rep.Revocation = onlineStatus(ctx, o.HTTP, rep.Certificate, issuer)
			rep.RevocationSrc = "online"
		}
	}

	// Changes after the signature. A certification that allows no change
	// (DocMDP P=1) still allows validation data to be added.
	if !rep.CoversWholeFile {
		rep.Changes, rep.ModifiedAfter = laterChanges(r, br[2]+br[3], f)
		if docMDPLevel(f, s.ref) == 1 {
			for _, c := range rep.Changes {
				if c != ChangeValidationData {
					rep.ModifiedAfter = true
				}
			}
		}
	}

	switch {
	case rep.SubFilter != "ETSI.CAdES.detached":
		rep.Level = ""
	case rep.TimestampTime != nil && rep.RevocationSrc == "embedded" && len(dss.certs) > 0:
		rep.Level = "B-LT"
	case rep.TimestampTime != nil:
		rep.Level = "B-T"
	default:
		rep.Level = "B-B"
	}
	return rep
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
	old, err := cos.Open(io.NewSectionReader(r, 0, revEnd), revEnd)
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

// ProblemDamaged is reported for every signature of a file whose structure
// had to be rebuilt.
const ProblemDamaged = "damaged"

// Trust problems, as SignatureReport.TrustProblem names them.
const (
	TrustUnknownAuthority = "unknown_authority" // no chain to a trusted root
	TrustExpired          = "expired"           // not valid at the time of signing
	TrustUsage            = "usage"             // not meant for this use
	TrustOther            = "other"
)

func trustProblem(err error) string {
	var ua x509.UnknownAuthorityError
	var ci x509.CertificateInvalidError
	switch {
	case errors.As(err, &ua):
		return TrustUnknownAuthority
	case errors.As(err, &ci) && ci.Reason == x509.Expired:
		return TrustExpired
	case errors.As(err, &ci) && ci.Reason == x509.IncompatibleUsage:
		return TrustUsage
	}
	return TrustOther
}

// docMDPLevel is the P of the certification made by signature ref, or 0
// when ref does not certify the document.
func docMDPLevel(f *cos.File, ref cos.Ref) int64 {
	cat, _ := f.ResolveDict(f.Trailer["Root"])
	perms, _ := f.ResolveDict(cat["Perms"])
	if r, ok := perms["DocMDP"].(cos.Ref); !ok || r != ref {
		return 0
	}
	sig, _ := f.ResolveDict(ref)
	refs, _ := f.Resolve(sig["Reference"])
	arr, _ := refs.(cos.Array)
	for _, x := range arr {
		d, _ := f.ResolveDict(x)
		params, _ := f.ResolveDict(d["TransformParams"])
		if p, ok := cos.Int(params["P"]); ok {
			return p
		}
		return 2
	}
	return 2
}

// trimDER drops the zero padding after a DER value.
func trimDER(b []byte) []byte {
	var v asn1.RawValue
	if rest, err := asn1.Unmarshal(b, &v); err == nil {
		return b[:len(b)-len(rest)]
	}
	return b
}

// maxRevocationAge is how long before the signing time revocation data
// may have been produced and still speak for it.
const maxRevocationAge = 7 * 24 * time.Hour

func embeddedStatus(cert, issuer *x509.Certificate, dss *dssContent, signedAt, now time.Time) (string, string) {
	for _, der := range dss.ocsps {
		resp, err := ocsp.ParseResponseForCert(der, cert, issuer)
		if err != nil || resp.SerialNumber.Cmp(cert.SerialNumber) != 0 {
			continue
		}
		// Signed by the issuer itself, or by a responder it delegated to
		// (id-kp-OCSPSigning); produced around or after the signature.
		if resp.Certificate != nil && !hasEKU(resp.Certificate, x509.ExtKeyUsageOCSPSigning) {
			continue
		}
		if resp.ThisUpdate.Before(signedAt.Add(-maxRevocationAge)) || resp.ThisUpdate.After(now.Add(5*time.Minute)) {
			continue
		}
		switch resp.Status {
		case ocsp.Good:
			return RevocationGood, "embedded"
		case ocsp.Revoked:
			return RevocationRevoked, "embedded"
		}
	}
	for _, crl := range dss.crls {
		if crl.CheckSignatureFrom(issuer) != nil || crl.ThisUpdate.Before(signedAt.Add(-maxRevocationAge)) ||
			crl.ThisUpdate.After(now.Add(5*time.Minute)) {
			continue
		}
		for _, e := range crl.RevokedCertificateEntries {
			if e.SerialNumber.Cmp(cert.SerialNumber) == 0 {
				return RevocationRevoked, "embedded"
			}
		}
		return RevocationGood, "embedded"
	}
	return RevocationNotChecked, ""
}

func onlineStatus(ctx context.Context, hc *http.Client, cert, issuer *x509.Certificate) string {
	if hc == nil {
		hc = http.DefaultClient
	}
	s := &Signer{Opts: Options{HTTP: hc}}
	if len(cert.OCSPServer) > 0 {
		if _, err := s.fetchOCSP(ctx, cert, issuer); err == nil {
			return RevocationGood
		} else if errors.Is(err, ErrRevoked) {
			return RevocationRevoked
		}
	}
	if len(cert.CRLDistributionPoints) > 0 {
		if _, err := s.fetchCRL(ctx, cert, issuer); err == nil {
			return RevocationGood
		} else if errors.Is(err, ErrRevoked) {
			return RevocationRevoked
		}
	}
	return RevocationUnknown
}

func hasEKU(c *x509.Certificate, want x509.ExtKeyUsage) bool {
	for _, u := range c.ExtKeyUsage {
		if u == want {
			return true
		}
	}
	return false
}

// Extended key usages that mean "signs documents": e-mail protection (the
// common one), document signing (RFC 9336), Adobe's and Microsoft's.
var signingEKUs = []asn1.ObjectIdentifier{
	{1, 3, 6, 1, 5, 5, 7, 3, 36},
	{1, 2, 840, 113583, 1, 1, 5},
	{1, 3, 6, 1, 4, 1, 311, 10, 3, 12},
}

// signingUsage reports whether a certificate is meant for signing
// documents: a key usage allowing signatures, and an extended key usage,
// when it has one, that covers documents.
func signingUsage(c *x509.Certificate) bool {
	if c.KeyUsage != 0 && c.KeyUsage&(x509.KeyUsageDigitalSignature|x509.KeyUsageContentCommitment) == 0 {
		return false
	}
	if len(c.ExtKeyUsage) == 0 && len(c.UnknownExtKeyUsage) == 0 {
		return true
	}
	if hasEKU(c, x509.ExtKeyUsageEmailProtection) || hasEKU(c, x509.ExtKeyUsageAny) {
		return true
	}
	for _, u := range c.UnknownExtKeyUsage {
		for _, w := range signingEKUs {
			if u.Equal(w) {
				return true
			}
		}
	}
	return false
}

// tsaTrusted finds the time-stamp token's signer by issuer and serial and
// checks it chains to a trusted root for time-stamping at the token's time.
func tsaTrusted(token []byte, roots, inter *x509.CertPool, at time.Time) bool {
	p, err := parseCMS(token)
	if err != nil {
		return false
	}
	pool := inter.Clone()
	for _, c := range p.certs {
		pool.AddCert(c)
	}
	for _, c := range p.certs {
		if !bytes.Equal(c.RawIssuer, p.issuer) || c.SerialNumber.Cmp(p.serial) != 0 {
			continue
		}
		_, err := c.Verify(x509.VerifyOptions{Roots: roots, Intermediates: pool, CurrentTime: at,
			KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageTimeStamping}})
		return err == nil
	}
	return false
}
