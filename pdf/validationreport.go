package pdf

import (
	"bytes"
	"crypto/sha256"
	"crypto/x509"
	"encoding/asn1"
	"encoding/base64"
	"encoding/hex"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/paraphe/paraphe/cms"
	"github.com/paraphe/paraphe/pdf/internal/cos"
)

// An ETSI TS 119 102-2 validation report: the verdict of each signature and
// document time-stamp, in the XML that relying parties' validators (the
// EU's DSS first) write and read. The schema is the one DSS validates its
// own reports with, namespace http://uri.etsi.org/19102/v1.2.1#; a copy
// and its sources are in testdata/etsi.
//
// The report says only what verification established or what the file
// holds: optional parts the verifier has no answer for (a validation
// policy, the building blocks' results, a signature quality, a conformant
// validation process) are left out rather than guessed.

// XML namespaces of the report.
const (
	etsiNS = "http://uri.etsi.org/19102/v1.2.1#"
	dsigNS = "http://www.w3.org/2000/09/xmldsig#"
	tslNS  = "http://uri.etsi.org/02231/v2#"
)

// ETSIOptions adjust an ETSI validation report. The zero value names the
// validator "Paraphe".
type ETSIOptions struct {
	// Validator names the software that validated, as the report's
	// SignatureValidator says it ("Paraphe 1.4.0").
	Validator string
	// Password opens an encrypted document: the one verification used.
	Password []byte
}

// ErrReportMismatch is returned when the file given to WriteETSI does not
// hold the signatures the report speaks of.
var ErrReportMismatch = errors.New("pdf: the file is not the one the report was made from")

// WriteETSI writes r as an ETSI TS 119 102-2 validation report: one
// SignatureValidationReport per signature and per document time-stamp, and
// the certificates, time-stamp tokens, signed data and /DSS validation data
// they refer to as validation objects. src (size bytes) is the file r was
// made from: the report takes from it what identifies each signature (its
// value, its signed bytes' digest, its time-stamp tokens), which a Report
// does not keep. The output is the same for the same report and file, and
// is written in one piece: nothing reaches w on error.
func (r *Report) WriteETSI(w io.Writer, src io.ReaderAt, size int64, o ETSIOptions) error {
	ev, dss, err := readEvidence(src, size, o.Password, r)
	if err != nil {
		return err
	}
	b := &etsiBuilder{rep: r, ev: ev, dss: dss, index: map[string]int{}}
	doc := b.build(o)
	var buf bytes.Buffer
	buf.WriteString(xml.Header)
	enc := xml.NewEncoder(&buf)
	enc.Indent("", "  ")
	if err := enc.Encode(doc); err != nil {
		return fmt.Errorf("pdf: validation report: %w", err)
	}
	buf.WriteByte('\n')
	_, err = w.Write(buf.Bytes())
	return err
}

// sigEvidence is what the report needs of one signature dictionary that a
// SignatureReport does not keep, read again from the file.
type sigEvidence struct {
	byteRange []int64 // the /ByteRange as written (4 numbers), nil when unreadable
	signed    []byte  // SHA-256 of the signed bytes; nil when the ranges do not fit
	contents  []byte  // /Contents, without its zero padding when it is DER
	filter    string
	name      string // /Name
	// From the CMS (or the time-stamp token of a document time-stamp):
	sigValue   []byte
	digestAlg  *cms.Hash // the signer's digest algorithm
	scheme     string    // "RSA", "ECDSA"…
	claimed    []byte    // message-digest attribute, or a document time-stamp's imprint
	claimedAlg *cms.Hash
	signingAt  *time.Time   // the signed signing-time attribute
	certRef    *cms.CertRef // the signing-certificate(-v2) attribute
	tokens     []tokenEvidence
	// docTS is a document time-stamp's own token.
	docTS *tokenEvidence
}

// tokenEvidence is one time-stamp token as the file holds it.
type tokenEvidence struct {
	raw []byte
	ts  *cms.Timestamp // nil when it cannot be read
	tsa *x509.Certificate
}

// readEvidence reads the signatures of the file the way VerifyReader does,
// in the same order, and checks they are the report's.
func readEvidence(src io.ReaderAt, size int64, password []byte, r *Report) ([]sigEvidence, *dssContent, error) {
	f, err := cos.OpenDecrypted(src, size, password)
	switch {
	case errors.Is(err, cos.ErrNotPDF):
		return nil, nil, ErrNotPDF
	case errors.Is(err, cos.ErrPassword):
		return nil, nil, ErrPassword
	case errors.Is(err, cos.ErrUnsupportedEncryption):
		return nil, nil, fmt.Errorf("%w: %v", ErrEncrypted, err)
	case err != nil:
		return nil, nil, fmt.Errorf("%w: %v", ErrDamaged, err)
	}
	doc, err := readDocument(f)
	if err != nil {
		return nil, nil, fmt.Errorf("%w: %v", ErrDamaged, err)
	}
	sigs := collectSignatures(f, doc.catalog)
	sigs = append(sigs, unreferencedSignatures(f, sigs)...)
	if len(sigs) != len(r.Signatures) {
		return nil, nil, fmt.Errorf("%w: %d signatures in the file, %d in the report", ErrReportMismatch, len(sigs), len(r.Signatures))
	}
	v := &verifier{r: src, size: size, f: f}
	dss := readDSS(f, doc.catalog)
	out := make([]sigEvidence, len(sigs))
	for i, s := range sigs {
		sr := &r.Signatures[i]
		if s.field != sr.Field || s.unreferenced != sr.Unreferenced || nameOf(s.dict["SubFilter"]) != sr.SubFilter {
			return nil, nil, fmt.Errorf("%w: signature %d is %q in the file, %q in the report", ErrReportMismatch, i+1, s.field, sr.Field)
		}
		out[i] = v.evidence(s, sr, dss)
	}
	return out, dss, nil
}

// evidence reads one signature dictionary. What cannot be read is left
// out: a malformed signature still gets its report.
func (v *verifier) evidence(s sigInfo, sr *SignatureReport, dss *dssContent) (ev sigEvidence) {
	defer func() {
		if recover() != nil {
			ev = sigEvidence{contents: ev.contents, byteRange: ev.byteRange, filter: ev.filter}
		}
	}()
	ev.filter = nameOf(s.dict["Filter"])
	ev.name = decodeText(toString(s.dict["Name"]))
	if arr, ok := s.dict["ByteRange"].(cos.Array); ok && len(arr) == 4 {
		br := make([]int64, 4)
		for i := range 4 {
			if br[i], ok = cos.Int(arr[i]); !ok {
				break
			}
		}
		if ok {
			ev.byteRange = br
		}
	}
	if br, ok := v.byteRange(s); ok {
		e := &examined{br: br}
		ev.signed = v.rangeDigests(e, cms.SHA256)[cms.SHA256]
	}
	contents := toString(s.dict["Contents"])
	ev.contents = trimDER(contents)
	switch {
	case sr.Kind == KindDocumentTimestamp:
		tok := readToken(contents, dss.certs)
		ev.docTS = &tok
		if tok.ts != nil {
			h := tok.ts.Hash
			ev.claimed, ev.claimedAlg = tok.ts.Imprint, &h
			ev.fromSigner(tok.ts.SignedData.Signers[0])
		}
	case sr.SubFilter == subX509RSASHA1:
		var sig []byte
		if _, err := asn1.Unmarshal(ev.contents, &sig); err == nil {
			ev.sigValue, ev.scheme = sig, "RSA"
		}
		for _, h := range cms.Hashes {
			if h.Name == sr.DigestAlgorithm {
				ev.digestAlg = &h
			}
		}
	default:
		sd, err := cms.Parse(contents)
		if err != nil {
			return ev
		}
		si := sd.Signers[0]
		ev.fromSigner(si)
		if md := si.MessageDigest(); md != nil && ev.digestAlg != nil {
			ev.claimed, ev.claimedAlg = md, ev.digestAlg
		}
		if t, ok := si.SigningTime(); ok {
			ev.signingAt = &t
		}
		if ref, ok, err := si.SigningCertificate(); ok && err == nil {
			ev.certRef = ref
		}
		for _, raw := range si.TimestampTokens() {
			ev.tokens = append(ev.tokens, readToken(raw, sd.Certificates, dss.certs))
		}
	}
	return ev
}

// fromSigner takes the signature value and algorithms of a SignerInfo.
func (ev *sigEvidence) fromSigner(si *cms.SignerInfo) {
	ev.sigValue = si.Signature
	if alg, err := si.Algorithms(); err == nil {
		h := alg.Digest
		ev.digestAlg, ev.scheme = &h, alg.Scheme.Name
	}
}

func readToken(raw []byte, extra ...[]*x509.Certificate) tokenEvidence {
	t := tokenEvidence{raw: trimDER(raw)}
	if ts, err := cms.ParseTimestamp(raw); err == nil {
		t.ts, t.tsa = ts, ts.Signer(extra...)
	}
	return t
}

// etsiBuilder turns a report and its evidence into the XML document,
// gathering validation objects once each, in the order first met.
type etsiBuilder struct {
	rep     *Report
	ev      []sigEvidence
	dss     *dssContent
	objects []vrObject
	index   map[string]int // object id → position in objects
	sigIDs  map[string]bool
}

func (b *etsiBuilder) build(o ETSIOptions) *vrReport {
	doc := &vrReport{}
	b.sigIDs = map[string]bool{}
	ids := make([]string, len(b.rep.Signatures))
	for i := range b.rep.Signatures {
		ids[i] = b.signatureID(i)
	}
	for i := range b.rep.Signatures {
		doc.Signatures = append(doc.Signatures, b.signature(i, ids[i]))
	}
	b.timestampObjects()
	b.dssObjects()
	if len(b.objects) > 0 {
		doc.Objects = &vrObjects{Objects: b.objects}
	}
	name := o.Validator
	if name == "" {
		name = "Paraphe"
	}
	doc.Validator = &vrValidator{DigitalID: []vrDigitalID{{Other: &tslOther{Text: name}}}}
	return doc
}

// signatureID is the signature's id: S- and the SHA-256 of its /Contents,
// made unique should two dictionaries hold the same bytes.
func (b *etsiBuilder) signatureID(i int) string {
	base := "S-" + hexID(b.ev[i].contents)
	if len(b.ev[i].contents) == 0 {
		base = "S-" + hexID([]byte(strconv.Itoa(i)+"\x00"+b.rep.Signatures[i].Field))
	}
	id := base
	for n := 2; b.sigIDs[id]; n++ {
		id = base + "-" + strconv.Itoa(n)
	}
	b.sigIDs[id] = true
	return id
}

func (b *etsiBuilder) signature(i int, id string) vrSignature {
	r, ev := &b.rep.Signatures[i], &b.ev[i]
	s := vrSignature{
		Identifier: &vrSignatureID{ID: id},
		Status:     etsiStatus(r.Indication, r.SubIndication, true),
	}
	if ev.claimed != nil {
		s.Identifier.Digest = digestOf(*ev.claimedAlg, ev.claimed)
	}
	if ev.sigValue != nil {
		s.Identifier.Value = &dsSignatureValue{Value: b64(ev.sigValue)}
	}
	s.TimeInfo = &vrTimeInfo{ValidationTime: utc(b.rep.ValidationTime), Best: b.bestTime(i)}
	if ev.signed != nil {
		d := b.addObject(vrObject{ID: "D-" + hexUpper(ev.signed), Type: objSignedData,
			Repr: vrRepresentation{Digest: digestOf(cms.SHA256, ev.signed)}})
		s.SignersDocument = &vrSignersDocument{Digest: *digestOf(cms.SHA256, ev.signed), Ref: ref(d)}
	}
	s.Attributes = b.attributes(i)
	if r.Certificate != nil {
		c := b.cert(r.Certificate)
		s.Signer = &vrSignerInfo{Certificate: ref(c), Name: certName(r.Certificate)}
		s.Status.Data = append(s.Status.Data, b.reportData(r, ev, id, c))
	}
	return s
}

// bestTime is the earliest time the signature is proven to have existed:
// the trusted time-stamp that proves it, or else the validation itself.
func (b *etsiBuilder) bestTime(i int) vrPOE {
	r := &b.rep.Signatures[i]
	if r.ProofTime == nil {
		return vrPOE{Time: utc(b.rep.ValidationTime), Type: poeValidation}
	}
	p := vrPOE{Time: utc(*r.ProofTime), Type: poeValidation}
	if id := b.proofToken(i, *r.ProofTime); id != "" {
		p.Object = ref(id)
	}
	return p
}

// proofToken finds the trusted time-stamp whose time is at: one of the
// signature's own, or a document time-stamp after it.
func (b *etsiBuilder) proofToken(i int, at time.Time) string {
	tr := b.tokenReports(i)
	for k, t := range b.ev[i].tokens {
		if t.ts != nil && tr[k] != nil && tr[k].Trusted && t.ts.Time.Equal(at) {
			return tokenID(t.raw)
		}
	}
	for _, j := range b.coveringDocTimestamps(i) {
		d := &b.rep.Signatures[j]
		if d.Valid() && d.TimestampTime != nil && d.TimestampTime.Equal(at) {
			return tokenID(b.ev[j].docTS.raw)
		}
	}
	return ""
}

// coveringDocTimestamps are the document time-stamps whose signed bytes
// hold signature i's (they prove it existed at their time).
func (b *etsiBuilder) coveringDocTimestamps(i int) []int {
	e := b.ev[i].byteRange
	var out []int
	for j := range b.rep.Signatures {
		d := b.ev[j].byteRange
		if j == i || b.rep.Signatures[j].Kind != KindDocumentTimestamp || b.ev[j].docTS == nil || b.ev[j].docTS.ts == nil ||
			e == nil || d == nil || b.ev[j].signed == nil {
			continue
		}
		if d[1] > e[1] && e[2]+e[3] <= d[2]+d[3] {
			out = append(out, j)
		}
	}
	return out
}

// tokenReports pairs the signature's tokens with the report's
// TimestampReports: verification lists first the tokens it could not read,
// then, once it judged the signature, the others in order. A token without
// its report (the signature was not judged) gets nil.
func (b *etsiBuilder) tokenReports(i int) []*TimestampReport {
	toks, trs := b.ev[i].tokens, b.rep.Signatures[i].Timestamps
	out := make([]*TimestampReport, len(toks))
	var unread, read []int
	for k, t := range toks {
		if t.ts == nil {
			unread = append(unread, k)
		} else {
			read = append(read, k)
		}
	}
	if len(trs) < len(unread) {
		return out
	}
	for n, k := range unread {
		if trs[n].Problem == ProblemTimestampInvalid {
			out[k] = &trs[n]
		}
	}
	rest := trs[len(unread):]
	if len(rest) != len(read) {
		return out
	}
	for n, k := range read {
		if rest[n].Time.Equal(toks[k].ts.Time) {
			out[k] = &rest[n]
		}
	}
	return out
}

func (b *etsiBuilder) attributes(i int) *vrAttributes {
	r, ev := &b.rep.Signatures[i], &b.ev[i]
	a := &vrAttributes{}
	if r.Kind == KindSignature {
		if r.ClaimedTime != nil {
			st := &saSigningTime{Time: utc(*r.ClaimedTime)}
			// Signed: the time is the CMS signed signing-time attribute.
			st.Signed = ev.signingAt != nil && ev.signingAt.Equal(*r.ClaimedTime)
			a.SigningTime = st
		}
		if ev.certRef != nil {
			// The certificate the signed attribute names: the signer's, or
			// (the signature then fails) another, by its digest.
			switch uri := digestURI(ev.certRef.Hash); {
			case r.Certificate != nil && ev.certRef.Matches(r.Certificate):
				a.SigningCertificate = &saCertIDList{Signed: true, Objects: []vrRef{*ref(b.cert(r.Certificate))}}
			case uri != "":
				a.SigningCertificate = &saCertIDList{Signed: true,
					CertIDs: []saCertID{{Method: dsDigestMethod{Algorithm: uri}, Value: b64(ev.certRef.Digest)}}}
			}
		}
		if r.Location != "" {
			a.ProductionPlace = &saProductionPlace{Address: []string{r.Location}}
		}
		tr := b.tokenReports(i)
		for k, t := range ev.tokens {
			id := b.addToken(t, tr[k], r)
			if t.ts != nil && id != "" {
				a.SignatureTimestamps = append(a.SignatureTimestamps, saTimestamp{Objects: []vrRef{*ref(id)}, Value: utc(t.ts.Time)})
			}
		}
		if ev.claimed != nil {
			a.MessageDigest = &saMessageDigest{Signed: true, Digest: b64(ev.claimed)}
		}
		a.DSS = b.dssAttribute()
		for _, j := range b.coveringDocTimestamps(i) {
			t := b.ev[j].docTS
			a.DocTimestamps = append(a.DocTimestamps, saTimestamp{Objects: []vrRef{*ref(tokenID(t.raw))}, Value: utc(t.ts.Time)})
		}
	}
	if r.Reason != "" {
		a.Reason = &saReason{Text: r.Reason}
	}
	if ev.name != "" {
		a.Name = &saName{Text: ev.name}
	}
	if r.ContactInfo != "" {
		a.ContactInfo = &saContactInfo{Text: r.ContactInfo}
	}
	if r.SubFilter != "" {
		a.SubFilter = &saSubFilter{Text: r.SubFilter}
	}
	if ev.byteRange != nil {
		parts := make([]string, len(ev.byteRange))
		for k, n := range ev.byteRange {
			parts[k] = strconv.FormatInt(n, 10)
		}
		a.ByteRange = strings.Join(parts, " ")
	}
	if ev.filter != "" {
		a.Filter = &saFilter{Text: ev.filter}
	}
	if a.empty() {
		return nil
	}
	return a
}

// reportData is the chain, revocation and algorithm behind a verdict.
func (b *etsiBuilder) reportData(r *SignatureReport, ev *sigEvidence, sigID, certID string) vrReportData {
	d := vrReportData{}
	ch := &vrChain{Signing: *ref(certID)}
	chain := r.Chain
	if len(chain) > 0 && chain[0].Equal(r.Certificate) {
		chain = chain[1:]
	}
	if r.Trusted && len(chain) > 0 {
		anchor := b.cert(chain[len(chain)-1])
		chain = chain[:len(chain)-1]
		ch.Anchor, d.TrustAnchor = ref(anchor), ref(anchor)
	} else if r.Trusted {
		// The signer's own certificate is the anchor.
		ch.Anchor, d.TrustAnchor = ref(certID), ref(certID)
	}
	for _, c := range chain {
		ch.Intermediates = append(ch.Intermediates, *ref(b.cert(c)))
	}
	d.Chain = ch
	if r.Revocation == RevocationRevoked && r.RevokedAt != nil {
		d.Revocation = &vrRevocation{Object: *ref(certID), Time: utc(*r.RevokedAt)}
	}
	if uri := signatureURI(ev.scheme, ev.digestAlg); uri != "" {
		secure := len(weakAlgorithms(r)) == 0 && (ev.digestAlg == nil || !ev.digestAlg.Weak())
		d.Crypto = &vrCrypto{Object: *ref(sigID), Algorithm: uri, Secure: secure}
	}
	return d
}

// weakAlgorithms are the algorithms of r the verifier holds weak, asked
// again: a signature that failed early was not asked.
func weakAlgorithms(r *SignatureReport) []string {
	e := &examined{rep: SignatureReport{DigestAlgorithm: r.DigestAlgorithm, SignatureAlgorithm: r.SignatureAlgorithm,
		KeyBits: r.KeyBits, Weak: append([]string(nil), r.Weak...)}}
	(&verifier{}).weak(e, time.Time{})
	return e.rep.Weak
}

// addToken adds a signature time-stamp token as a validation object, with
// the verdict the report gives it.
func (b *etsiBuilder) addToken(t tokenEvidence, tr *TimestampReport, sig *SignatureReport) string {
	if len(t.raw) == 0 {
		return ""
	}
	o := vrObject{ID: tokenID(t.raw), Type: objTimestamp, Repr: vrRepresentation{Base64: b64(t.raw)}}
	if tr != nil {
		vr := &vrSignature{Status: tokenStatus(tr)}
		if t.tsa != nil {
			vr.Signer = &vrSignerInfo{Certificate: ref(b.cert(t.tsa)), Name: certName(t.tsa)}
		}
		o.Report = vr
		if tr.Trusted && t.ts != nil && sig.Field != "" {
			o.Provisioning = &vrPOEProvisioning{Time: utc(t.ts.Time), Signatures: []vrSignatureRef{{FieldName: sig.Field}}}
		}
	}
	return b.addObject(o)
}

// timestampObjects adds the document time-stamps' tokens, with what each
// proves existed when its report says it passed.
func (b *etsiBuilder) timestampObjects() {
	for j := range b.rep.Signatures {
		d, t := &b.rep.Signatures[j], b.ev[j].docTS
		if d.Kind != KindDocumentTimestamp || t == nil || len(t.raw) == 0 {
			continue
		}
		o := vrObject{ID: tokenID(t.raw), Type: objTimestamp, Repr: vrRepresentation{Base64: b64(t.raw)}}
		if d.Valid() && t.ts != nil && b.ev[j].signed != nil {
			p := &vrPOEProvisioning{Time: utc(t.ts.Time)}
			p.Objects = append(p.Objects, *ref("D-" + hexUpper(b.ev[j].signed)))
			for i := range b.rep.Signatures {
				if !containsInt(b.coveringDocTimestamps(i), j) {
					continue
				}
				if b.ev[i].signed != nil {
					p.Objects = append(p.Objects, *ref("D-" + hexUpper(b.ev[i].signed)))
				}
				for _, tok := range b.ev[i].tokens {
					if len(tok.raw) > 0 {
						p.Objects = append(p.Objects, *ref(tokenID(tok.raw)))
					}
				}
				if older := b.ev[i].docTS; older != nil && len(older.raw) > 0 {
					p.Objects = append(p.Objects, *ref(tokenID(older.raw)))
				}
				if b.rep.Signatures[i].Field != "" {
					p.Signatures = append(p.Signatures, vrSignatureRef{FieldName: b.rep.Signatures[i].Field})
				}
			}
			o.Provisioning = p
		}
		b.addObject(o)
	}
}

// dssAttribute lists the /DSS's validation data as objects.
func (b *etsiBuilder) dssAttribute() *saDSS {
	if b.dss == nil || b.dss.offset < 0 {
		return nil
	}
	a := &saDSS{}
	var certs, crls, ocsps []string
	for _, c := range b.dss.certs {
		certs = appendUnique(certs, certID(c))
	}
	for _, c := range b.dss.crls {
		crls = appendUnique(crls, "R-"+hexID(c))
	}
	for _, o := range b.dss.ocsps {
		ocsps = appendUnique(ocsps, "R-"+hexID(o))
	}
	if len(certs) > 0 {
		a.Certs = &vrRef{IDs: strings.Join(certs, " ")}
	}
	if len(crls) > 0 {
		a.CRLs = &vrRef{IDs: strings.Join(crls, " ")}
	}
	if len(ocsps) > 0 {
		a.OCSPs = &vrRef{IDs: strings.Join(ocsps, " ")}
	}
	if *a == (saDSS{}) {
		return nil
	}
	return a
}

// dssObjects adds what dssAttribute refers to.
func (b *etsiBuilder) dssObjects() {
	if b.dss == nil || b.dss.offset < 0 {
		return
	}
	for _, c := range b.dss.certs {
		b.cert(c)
	}
	for _, c := range b.dss.crls {
		b.addObject(vrObject{ID: "R-" + hexID(c), Type: objCRL, Repr: vrRepresentation{Base64: b64(c)}})
	}
	for _, o := range b.dss.ocsps {
		b.addObject(vrObject{ID: "R-" + hexID(o), Type: objOCSP, Repr: vrRepresentation{Base64: b64(o)}})
	}
}

// cert adds a certificate as a validation object and returns its id.
func (b *etsiBuilder) cert(c *x509.Certificate) string {
	return b.addObject(vrObject{ID: certID(c), Type: objCertificate, Repr: vrRepresentation{Base64: b64(c.Raw)}})
}

// addObject adds o unless an object with its id is there; a later one that
// says more (a verdict, a proof of existence) completes the first.
func (b *etsiBuilder) addObject(o vrObject) string {
	if k, ok := b.index[o.ID]; ok {
		if b.objects[k].Report == nil {
			b.objects[k].Report = o.Report
		}
		if b.objects[k].Provisioning == nil {
			b.objects[k].Provisioning = o.Provisioning
		}
		return o.ID
	}
	b.index[o.ID] = len(b.objects)
	b.objects = append(b.objects, o)
	return o.ID
}

// etsiStatus is a verdict as the schema's URIs: the signature-level words
// (total-passed, total-failed) for a signature, the building-block words
// (passed, failed) for a validation object (TS 119 102-2 §4.3.4.2).
func etsiStatus(ind Indication, sub SubIndication, signature bool) vrStatus {
	s := vrStatus{}
	switch ind {
	case TotalPassed:
		s.Main = mainTotalPassed
		if !signature {
			s.Main = mainPassed
		}
	case TotalFailed:
		s.Main = mainTotalFailed
		if !signature {
			s.Main = mainFailed
		}
	default:
		s.Main = mainIndeterminate
	}
	if sub != "" {
		s.Sub = []string{subIndicationPrefix + string(sub)}
	}
	return s
}

// tokenStatus is a signature time-stamp's verdict: passed when trusted,
// failed when it is not for the signature or its signature is wrong,
// indeterminate when its authority is not trusted.
func tokenStatus(tr *TimestampReport) vrStatus {
	switch {
	case tr.Trusted:
		return etsiStatus(TotalPassed, "", false)
	case tr.Problem == ProblemTimestampMismatch:
		return etsiStatus(TotalFailed, HashFailure, false)
	case tr.Problem == ProblemTimestampInvalid:
		return etsiStatus(TotalFailed, "", false)
	}
	return etsiStatus(Indeterminate, "", false)
}

// URIs of TS 119 102-2.
const (
	mainTotalPassed     = "urn:etsi:019102:mainindication:total-passed"
	mainTotalFailed     = "urn:etsi:019102:mainindication:total-failed"
	mainIndeterminate   = "urn:etsi:019102:mainindication:indeterminate"
	mainPassed          = "urn:etsi:019102:mainindication:passed"
	mainFailed          = "urn:etsi:019102:mainindication:failed"
	subIndicationPrefix = "urn:etsi:019102:subindication:"
	poeValidation       = "urn:etsi:019102:poetype:validation"
	objCertificate      = "urn:etsi:019102:validationObject:certificate"
	objTimestamp        = "urn:etsi:019102:validationObject:timestamp"
	objSignedData       = "urn:etsi:019102:validationObject:signedData"
	objCRL              = "urn:etsi:019102:validationObject:CRL"
	objOCSP             = "urn:etsi:019102:validationObject:OCSPResponse"
)

// Digest algorithm URIs (XML Signature, RFC 6931).
var digestURIs = map[string]string{
	cms.SHA1.Name:     "http://www.w3.org/2000/09/xmldsig#sha1",
	cms.SHA224.Name:   "http://www.w3.org/2001/04/xmldsig-more#sha224",
	cms.SHA256.Name:   "http://www.w3.org/2001/04/xmlenc#sha256",
	cms.SHA384.Name:   "http://www.w3.org/2001/04/xmldsig-more#sha384",
	cms.SHA512.Name:   "http://www.w3.org/2001/04/xmlenc#sha512",
	cms.SHA3_256.Name: "http://www.w3.org/2007/05/xmldsig-more#sha3-256",
	cms.SHA3_384.Name: "http://www.w3.org/2007/05/xmldsig-more#sha3-384",
	cms.SHA3_512.Name: "http://www.w3.org/2007/05/xmldsig-more#sha3-512",
}

func digestURI(h cms.Hash) string { return digestURIs[h.Name] }

// signatureURI names a signature algorithm (XML Signature, RFC 6931, RFC
// 9231); "" for a pairing without a URI of its own, left out of the report.
func signatureURI(scheme string, h *cms.Hash) string {
	if h == nil && scheme != "Ed25519" {
		return ""
	}
	switch scheme {
	case "RSA":
		return map[string]string{
			cms.SHA1.Name:   "http://www.w3.org/2000/09/xmldsig#rsa-sha1",
			cms.SHA224.Name: "http://www.w3.org/2001/04/xmldsig-more#rsa-sha224",
			cms.SHA256.Name: "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256",
			cms.SHA384.Name: "http://www.w3.org/2001/04/xmldsig-more#rsa-sha384",
			cms.SHA512.Name: "http://www.w3.org/2001/04/xmldsig-more#rsa-sha512",
		}[h.Name]
	case "RSA-PSS":
		return "http://www.w3.org/2007/05/xmldsig-more#rsa-pss"
	case "ECDSA":
		return map[string]string{
			cms.SHA1.Name:   "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha1",
			cms.SHA224.Name: "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha224",
			cms.SHA256.Name: "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256",
			cms.SHA384.Name: "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha384",
			cms.SHA512.Name: "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha512",
		}[h.Name]
	case "DSA":
		return map[string]string{
			cms.SHA1.Name:   "http://www.w3.org/2000/09/xmldsig#dsa-sha1",
			cms.SHA256.Name: "http://www.w3.org/2009/xmldsig11#dsa-sha256",
		}[h.Name]
	case "Ed25519":
		return "http://www.w3.org/2021/04/xmldsig-more#eddsa-ed25519"
	}
	return ""
}

func digestOf(h cms.Hash, v []byte) *vrDigest {
	uri := digestURI(h)
	if uri == "" {
		return nil
	}
	return &vrDigest{Method: dsDigestMethod{Algorithm: uri}, Value: dsDigestValue{Value: b64(v)}}
}

// certName is how the report names a certificate's holder.
func certName(c *x509.Certificate) string {
	switch {
	case c.Subject.CommonName != "":
		return c.Subject.CommonName
	case len(c.Subject.Organization) > 0:
		return c.Subject.Organization[0]
	}
	return c.Subject.String()
}

func certID(c *x509.Certificate) string { return "C-" + hexID(c.Raw) }
func tokenID(raw []byte) string         { return "T-" + hexID(raw) }

// hexID is the SHA-256 of b in upper-case hexadecimal, as DSS writes ids.
func hexID(b []byte) string {
	sum := sha256.Sum256(b)
	return hexUpper(sum[:])
}

func hexUpper(b []byte) string { return strings.ToUpper(hex.EncodeToString(b)) }

func b64(b []byte) string { return base64.StdEncoding.EncodeToString(b) }

func utc(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }

func ref(ids ...string) *vrRef { return &vrRef{IDs: strings.Join(ids, " ")} }

func appendUnique(s []string, v string) []string {
	for _, x := range s {
		if x == v {
			return s
		}
	}
	return append(s, v)
}

func containsInt(s []int, v int) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

// The report's XML, in the schema's order. Elements of the report's
// namespace inherit it from the root; XML Signature and trusted-list
// elements name their own.

type vrReport struct {
	XMLName    xml.Name      `xml:"http://uri.etsi.org/19102/v1.2.1# ValidationReport"`
	Signatures []vrSignature `xml:"SignatureValidationReport"`
	Objects    *vrObjects    `xml:"SignatureValidationObjects,omitempty"`
	Validator  *vrValidator  `xml:"SignatureValidator,omitempty"`
}

type vrSignature struct {
	Identifier      *vrSignatureID     `xml:"SignatureIdentifier,omitempty"`
	TimeInfo        *vrTimeInfo        `xml:"ValidationTimeInfo,omitempty"`
	SignersDocument *vrSignersDocument `xml:"SignersDocument,omitempty"`
	Attributes      *vrAttributes      `xml:"SignatureAttributes,omitempty"`
	Signer          *vrSignerInfo      `xml:"SignerInformation,omitempty"`
	Status          vrStatus           `xml:"SignatureValidationStatus"`
}

type vrSignatureID struct {
	ID          string            `xml:"id,attr"`
	Digest      *vrDigest         `xml:"DigestAlgAndValue,omitempty"`
	Value       *dsSignatureValue `xml:"SignatureValue,omitempty"`
	HashOnly    bool              `xml:"HashOnly"`
	DocHashOnly bool              `xml:"DocHashOnly"`
}

type dsSignatureValue struct {
	XMLName xml.Name `xml:"http://www.w3.org/2000/09/xmldsig# SignatureValue"`
	Value   string   `xml:",chardata"`
}

type vrDigest struct {
	Method dsDigestMethod `xml:"DigestMethod"`
	Value  dsDigestValue  `xml:"DigestValue"`
}

type dsDigestMethod struct {
	XMLName   xml.Name `xml:"http://www.w3.org/2000/09/xmldsig# DigestMethod"`
	Algorithm string   `xml:"Algorithm,attr"`
}

type dsDigestValue struct {
	XMLName xml.Name `xml:"http://www.w3.org/2000/09/xmldsig# DigestValue"`
	Value   string   `xml:",chardata"`
}

type vrTimeInfo struct {
	ValidationTime string `xml:"ValidationTime"`
	Best           vrPOE  `xml:"BestSignatureTime"`
}

type vrPOE struct {
	Time   string `xml:"POETime"`
	Type   string `xml:"TypeOfProof"`
	Object *vrRef `xml:"POEObject,omitempty"`
}

type vrSignersDocument struct {
	Digest vrDigest `xml:"DigestAlgAndValue"`
	Ref    *vrRef   `xml:"SignersDocumentRef,omitempty"`
}

type vrRef struct {
	IDs string `xml:"VOReference,attr"`
}

// vrAttributes holds the attributes the report gives, each at most once
// but for the time-stamps; the schema allows any order.
type vrAttributes struct {
	SigningTime         *saSigningTime     `xml:"SigningTime,omitempty"`
	SigningCertificate  *saCertIDList      `xml:"SigningCertificate,omitempty"`
	ProductionPlace     *saProductionPlace `xml:"SignatureProductionPlace,omitempty"`
	SignatureTimestamps []saTimestamp      `xml:"SignatureTimeStamp,omitempty"`
	MessageDigest       *saMessageDigest   `xml:"MessageDigest,omitempty"`
	DSS                 *saDSS             `xml:"DSS,omitempty"`
	DocTimestamps       []saTimestamp      `xml:"DocTimeStamp,omitempty"`
	Reason              *saReason          `xml:"Reason,omitempty"`
	Name                *saName            `xml:"Name,omitempty"`
	ContactInfo         *saContactInfo     `xml:"ContactInfo,omitempty"`
	SubFilter           *saSubFilter       `xml:"SubFilter,omitempty"`
	ByteRange           string             `xml:"ByteRange,omitempty"`
	Filter              *saFilter          `xml:"Filter,omitempty"`
}

func (a *vrAttributes) empty() bool {
	return a.SigningTime == nil && a.SigningCertificate == nil && a.ProductionPlace == nil && len(a.SignatureTimestamps) == 0 &&
		a.MessageDigest == nil && a.DSS == nil && len(a.DocTimestamps) == 0 && a.Reason == nil && a.Name == nil &&
		a.ContactInfo == nil && a.SubFilter == nil && a.ByteRange == "" && a.Filter == nil
}

type saSigningTime struct {
	Signed bool   `xml:"Signed,attr,omitempty"`
	Time   string `xml:"Time"`
}

type saCertIDList struct {
	Signed  bool       `xml:"Signed,attr,omitempty"`
	Objects []vrRef    `xml:"AttributeObject,omitempty"`
	CertIDs []saCertID `xml:"CertID,omitempty"`
}

type saCertID struct {
	Method dsDigestMethod `xml:"DigestMethod"`
	Value  string         `xml:"http://www.w3.org/2000/09/xmldsig# DigestValue"`
}

type saProductionPlace struct {
	Address []string `xml:"AddressString"`
}

type saTimestamp struct {
	Objects []vrRef `xml:"AttributeObject,omitempty"`
	Value   string  `xml:"TimeStampValue"`
}

type saMessageDigest struct {
	Signed bool   `xml:"Signed,attr,omitempty"`
	Digest string `xml:"Digest"`
}

type saDSS struct {
	Certs *vrRef `xml:"Certs,omitempty"`
	CRLs  *vrRef `xml:"CRLs,omitempty"`
	OCSPs *vrRef `xml:"OCSPs,omitempty"`
}

type saReason struct {
	Text string `xml:"ReasonElement"`
}

type saName struct {
	Text string `xml:"NameElement"`
}

type saContactInfo struct {
	Text string `xml:"ContactInfoElement"`
}

type saSubFilter struct {
	Text string `xml:"SubFilterElement"`
}

type saFilter struct {
	Text string `xml:"Filter"`
}

type vrSignerInfo struct {
	Certificate *vrRef `xml:"SignerCertificate"`
	Name        string `xml:"Signer,omitempty"`
}

type vrStatus struct {
	Main string         `xml:"MainIndication"`
	Sub  []string       `xml:"SubIndication,omitempty"`
	Data []vrReportData `xml:"AssociatedValidationReportData,omitempty"`
}

type vrReportData struct {
	TrustAnchor *vrRef        `xml:"TrustAnchor,omitempty"`
	Chain       *vrChain      `xml:"CertificateChain,omitempty"`
	Revocation  *vrRevocation `xml:"RevocationStatusInformation,omitempty"`
	Crypto      *vrCrypto     `xml:"CryptoInformation,omitempty"`
}

type vrChain struct {
	Signing       vrRef   `xml:"SigningCertificate"`
	Intermediates []vrRef `xml:"IntermediateCertificate,omitempty"`
	Anchor        *vrRef  `xml:"TrustAnchor,omitempty"`
}

type vrRevocation struct {
	Object vrRef  `xml:"ValidationObjectId"`
	Time   string `xml:"RevocationTime"`
}

type vrCrypto struct {
	Object    vrRef  `xml:"ValidationObjectId"`
	Algorithm string `xml:"Algorithm"`
	Secure    bool   `xml:"SecureAlgorithm"`
}

type vrObjects struct {
	Objects []vrObject `xml:"ValidationObject"`
}

type vrObject struct {
	ID           string             `xml:"id,attr"`
	Type         string             `xml:"ObjectType"`
	Repr         vrRepresentation   `xml:"ValidationObjectRepresentation"`
	Provisioning *vrPOEProvisioning `xml:"POEProvisioning,omitempty"`
	Report       *vrSignature       `xml:"ValidationReport,omitempty"`
}

// vrRepresentation holds exactly one of its fields (a choice).
type vrRepresentation struct {
	Base64 string    `xml:"base64,omitempty"`
	Digest *vrDigest `xml:"DigestAlgAndValue,omitempty"`
}

type vrPOEProvisioning struct {
	Time       string           `xml:"POETime"`
	Objects    []vrRef          `xml:"ValidationObject,omitempty"`
	Signatures []vrSignatureRef `xml:"SignatureReference,omitempty"`
}

type vrSignatureRef struct {
	FieldName string `xml:"PAdESFieldName"`
}

type vrValidator struct {
	DigitalID []vrDigitalID `xml:"DigitalId"`
}

type vrDigitalID struct {
	Other *tslOther `xml:"Other"`
}

type tslOther struct {
	XMLName xml.Name `xml:"http://uri.etsi.org/02231/v2# Other"`
	Text    string   `xml:",chardata"`
}
