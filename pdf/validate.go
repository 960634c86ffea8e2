package pdf

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/x509"
	"encoding/asn1"
	"errors"
	"slices"
	"strconv"
	"time"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"

	"github.com/paraphe/paraphe/cms"
)

// TrustProblem says why a chain was not trusted; each has words in the
// catalogue (verify.trust.NAME).
type TrustProblem string

// Trust problems.
const (
	TrustUnknownAuthority TrustProblem = "unknown_authority" // no chain to a trusted anchor
	TrustExpired          TrustProblem = "expired"           // outside its validity at the time judged, with no proof of an earlier time
	TrustNotYetValid      TrustProblem = "not_yet_valid"     // proven to be used before it was issued
	TrustUsage            TrustProblem = "usage"             // not meant for this use
	TrustNotGranted       TrustProblem = "not_granted"       // the trusted list did not list its service as granted then
	TrustOther            TrustProblem = "other"
)

// TrustProblems are every TrustProblem, for the catalogue's tests.
var TrustProblems = []TrustProblem{TrustUnknownAuthority, TrustExpired, TrustNotYetValid, TrustUsage, TrustNotGranted, TrustOther}

// anchorSet is what a file's signatures may chain to.
type anchorSet struct {
	// byFP are the anchors of each certificate: a trusted list may name
	// one certificate for several services (a CA/QC and a TSA/QTST, two
	// CA/QC with their own histories), each with its usage and periods.
	byFP    map[[32]byte][]*Anchor
	signers *x509.CertPool // anchors for signers' certificates
	stamps  *x509.CertPool // anchors for time-stamping units
	system  *x509.CertPool
	inter   *x509.CertPool
}

func newAnchorSet(o VerifyOptions, met []*x509.Certificate) *anchorSet {
	a := &anchorSet{byFP: map[[32]byte][]*Anchor{}, signers: x509.NewCertPool(), stamps: x509.NewCertPool(),
		system: o.Roots, inter: x509.NewCertPool()}
	add := func(an *Anchor) {
		fp := sha256.Sum256(an.Cert.Raw)
		for _, had := range a.byFP[fp] {
			if had.Source == an.Source && had.Usage == an.Usage && slices.Equal(had.Periods, an.Periods) {
				return // the same twice
			}
		}
		a.byFP[fp] = append(a.byFP[fp], an)
		if an.usable(UsageSignatures) {
			a.signers.AddCert(an.Cert)
		}
		if an.usable(UsageTimestamps) {
			a.stamps.AddCert(an.Cert)
		}
	}
	for i := range o.Trust {
		if o.Trust[i].Cert != nil {
			add(&o.Trust[i])
		}
	}
	for _, c := range met {
		fp := sha256.Sum256(c.Raw)
		for _, want := range o.Anchors {
			if bytes.Equal(want, fp[:]) {
				add(&Anchor{Cert: c, Source: SourcePolicy, Name: c.Subject.CommonName})
			}
		}
		a.inter.AddCert(c)
	}
	return a
}

// chainResult is a certificate's chain to an anchor, or why there is none.
type chainResult struct {
	chain   []*x509.Certificate
	anchor  *Anchor
	period  Period
	problem TrustProblem
}

// chain builds cert's chain to an anchor for usage, valid at time at, whose
// anchor was trusted at trustAt (a trusted list's status then).
func (a *anchorSet) chain(cert *x509.Certificate, at, trustAt time.Time, usage Usage, eku x509.ExtKeyUsage) chainResult {
	roots := a.signers
	if usage == UsageTimestamps {
		roots = a.stamps
		if !hasEKU(cert, x509.ExtKeyUsageTimeStamping) {
			// crypto/x509 reads no extended key usage as any: a signer's
			// certificate without one would vouch for times of its own
			// choosing. A unit's certificate names time-stamping (RFC 3161
			// §2.3).
			return chainResult{problem: TrustUsage}
		}
	}
	opts := x509.VerifyOptions{Roots: roots, Intermediates: a.inter, CurrentTime: at, KeyUsages: []x509.ExtKeyUsage{eku}}
	chains, err := cert.Verify(opts)
	if err == nil {
		notGranted := false
		for _, ch := range chains {
			for _, an := range a.byFP[sha256.Sum256(ch[len(ch)-1].Raw)] {
				if !an.usable(usage) {
					continue
				}
				p, ok := an.PeriodAt(trustAt)
				if !ok {
					notGranted = true
					continue
				}
				return chainResult{chain: ch, anchor: an, period: p}
			}
		}
		if notGranted {
			return chainResult{chain: chains[0], problem: TrustNotGranted}
		}
	}
	if a.system != nil {
		opts.Roots = a.system
		if chains, serr := cert.Verify(opts); serr == nil {
			ch := chains[0]
			return chainResult{chain: ch, anchor: &Anchor{Cert: ch[len(ch)-1], Source: SourceSystem, Name: ch[len(ch)-1].Subject.CommonName}}
		} else if err == nil || isUnknownAuthority(err) {
			err = serr
		}
	}
	return chainResult{problem: trustProblem(err, cert, at)}
}

func isUnknownAuthority(err error) bool {
	var ua x509.UnknownAuthorityError
	return errors.As(err, &ua)
}

func trustProblem(err error, cert *x509.Certificate, at time.Time) TrustProblem {
	var ci x509.CertificateInvalidError
	switch {
	case err == nil:
		return TrustOther
	case isUnknownAuthority(err):
		return TrustUnknownAuthority
	case errors.As(err, &ci) && ci.Reason == x509.Expired:
		if at.Before(cert.NotBefore) {
			return TrustNotYetValid
		}
		return TrustExpired
	case errors.As(err, &ci) && ci.Reason == x509.IncompatibleUsage:
		return TrustUsage
	}
	return TrustOther
}

// tokenTrusted checks a time-stamp token: its unit's certificate, its
// signature, and the unit's chain to a time-stamping anchor at at.
func (v *verifier) tokenTrusted(ts *cms.Timestamp, at time.Time) (*x509.Certificate, chainResult, Problem) {
	tsa := ts.Signer(v.certs)
	if tsa == nil {
		return nil, chainResult{}, ProblemTimestampInvalid
	}
	if err := ts.Verify(tsa); err != nil {
		return tsa, chainResult{}, ProblemTimestampInvalid
	}
	res := v.anchors.chain(tsa, at, at, UsageTimestamps, x509.ExtKeyUsageTimeStamping)
	if res.anchor == nil {
		return tsa, res, ProblemTimestampUntrusted
	}
	return tsa, res, ""
}

// judgeDocTimestamp decides a document time-stamp: its unit trusted now,
// or, when a later trusted time-stamp proves the token existed, at that
// proof's time (not at the token's own claim: a unit's key that leaked
// after its certificate expired could claim any time).
func (v *verifier) judgeDocTimestamp(e *examined, later []*examined) {
	r := &e.rep
	ts := e.tokens[0]
	t := ts.Time
	r.TimestampTime = &t
	at := v.now
	if p := earliestProof(e, later); p != nil {
		r.ProofTime, at = p, *p
	}
	r.ValidationTime = at
	v.changesAfter(e)
	res := v.anchors.chain(r.Certificate, at, at, UsageTimestamps, x509.ExtKeyUsageTimeStamping)
	v.trust(e, res)
	switch {
	case r.ModifiedAfter:
		e.fail(TotalFailed, FormatFailure, ProblemModified)
	case res.anchor == nil:
		r.Indication, r.SubIndication = Indeterminate, chainSubIndication(res.problem, r.ProofTime != nil)
	case v.weak(e, at):
		r.Indication, r.SubIndication = Indeterminate, CryptoConstraintsFailureNoPOE
	default:
		r.Indication = TotalPassed
		e.proves = &t
	}
}

// judgeSignature decides a signature whose bytes are intact: its time
// (time-stamps, proofs of existence), its chain, its revocation status and
// the changes made after it.
func (v *verifier) judgeSignature(ctx context.Context, e *examined, later []*examined) {
	r := &e.rep
	cert := r.Certificate
	proofByLater := earliestProof(e, later)
	poe := v.signatureTimestamps(e, proofByLater)
	if proofByLater != nil && (poe == nil || proofByLater.Before(*poe)) {
		poe = proofByLater
	}
	r.ProofTime = poe
	trustAt := v.now
	if poe != nil {
		trustAt = *poe
	}
	res := v.anchors.chain(cert, v.now, trustAt, UsageSignatures, x509.ExtKeyUsageAny)
	if res.problem == TrustExpired && poe != nil {
		// Expired since: judged when a trusted time-stamp proves it was used.
		if past := v.anchors.chain(cert, *poe, *poe, UsageSignatures, x509.ExtKeyUsageAny); past.anchor != nil || past.problem != TrustExpired {
			res = past
			r.ValidationTime, r.ExpiredSince = *poe, past.anchor != nil
		}
	}
	if res.problem == TrustExpired && res.anchor == nil {
		// Expired, and no proof of an earlier time: would it chain to
		// anything trusted while it was valid? If not, that is the news.
		if within := v.anchors.chain(cert, cert.NotAfter.Add(-time.Second), cert.NotAfter.Add(-time.Second), UsageSignatures, x509.ExtKeyUsageAny); within.problem == TrustUnknownAuthority {
			res = within
		}
	}
	if res.anchor != nil && !signingUsage(cert) {
		res = chainResult{chain: res.chain, problem: TrustUsage}
	}
	v.trust(e, res)
	st := v.signerStatus(ctx, e, res, trustAt)
	v.changesAfter(e)
	weak := v.weak(e, trustAt)
	switch {
	case r.ModifiedAfter:
		e.fail(TotalFailed, FormatFailure, ProblemModified)
	case st.state == RevocationRevoked && !st.revokedAt.After(trustAt) && poe != nil:
		r.Indication, r.SubIndication = TotalFailed, Revoked
	case st.state == RevocationRevoked && !st.revokedAt.After(trustAt):
		r.Indication, r.SubIndication = Indeterminate, RevokedNoPOE
	case res.problem == TrustNotYetValid && poe != nil:
		r.Indication, r.SubIndication = TotalFailed, NotYetValid
	case res.anchor == nil:
		sub := chainSubIndication(res.problem, poe != nil)
		if sub == OutOfBoundsNoPOE && st.state == RevocationGood {
			sub = OutOfBoundsNotRevoked
		}
		r.Indication, r.SubIndication = Indeterminate, sub
	case v.caRevoked(e, res.chain, trustAt):
		r.Indication, r.SubIndication = Indeterminate, RevokedCANoPOE
	case weak:
		r.Indication, r.SubIndication = Indeterminate, CryptoConstraintsFailureNoPOE
	case st.state == RevocationUnknown:
		r.Indication, r.SubIndication = Indeterminate, TryLater
	case r.ExpiredSince && st.state != RevocationGood:
		// Valid when signed, but nothing says it was not revoked then, and
		// its CA owes an expired certificate no answer any more: only
		// revocation data embedded at the time can settle it (B-LT).
		r.Indication, r.SubIndication = Indeterminate, TryLater
	default:
		r.Indication = TotalPassed
	}
}

// chainSubIndication maps a trust problem to ETSI's words.
func chainSubIndication(p TrustProblem, proof bool) SubIndication {
	switch p {
	case TrustUnknownAuthority, TrustNotGranted:
		return NoCertificateChainFound
	case TrustExpired:
		return OutOfBoundsNoPOE
	case TrustNotYetValid:
		return NotYetValid
	case TrustUsage:
		return ChainConstraintsFailure
	}
	return CertificateChainGeneralFail
}

// trust records a chain result in the report.
func (v *verifier) trust(e *examined, res chainResult) {
	r := &e.rep
	r.Chain = res.chain
	if res.anchor == nil {
		r.TrustProblem = res.problem
		return
	}
	r.Trusted = true
	r.TrustSource, r.TrustAnchor = res.anchor.Source, res.anchor.Name
	r.Qualified = e.rep.Kind == KindSignature && res.period.Qualified && qcCompliant(r.Certificate)
}

// signatureTimestamps checks the signature's own time-stamps and returns
// the earliest trusted time. A token is judged now, or at the time a later
// document time-stamp proves it existed (proof).
func (v *verifier) signatureTimestamps(e *examined, proof *time.Time) *time.Time {
	var best *time.Time
	for _, ts := range e.tokens {
		tr := TimestampReport{Time: ts.Time, Hash: ts.Hash.Name}
		at := v.now
		if proof != nil {
			at = *proof
		}
		switch {
		case !ts.Covers(e.si.Signature):
			tr.Problem = ProblemTimestampMismatch
		default:
			tsa, res, p := v.tokenTrusted(ts, at)
			if tsa != nil {
				tr.Authority = tsa.Subject.CommonName
				if tr.Authority == "" && len(tsa.Subject.Organization) > 0 {
					tr.Authority = tsa.Subject.Organization[0]
				}
			}
			tr.Problem = p
			tr.Trusted = p == "" && res.anchor != nil
		}
		if tr.Problem != "" {
			e.problem(tr.Problem)
		}
		e.rep.Timestamps = append(e.rep.Timestamps, tr)
		if tr.Trusted && (best == nil || ts.Time.Before(*best)) {
			t := ts.Time
			best = &t
		}
	}
	if best != nil {
		t := *best
		e.rep.TimestampTime = &t
	}
	return best
}

// signerStatus finds the signer certificate's revocation status at at:
// from the file, then online when asked.
func (v *verifier) signerStatus(ctx context.Context, e *examined, res chainResult, at time.Time) status {
	r := &e.rep
	issuer := issuerIn(r.Certificate, res.chain, v.certs)
	if issuer == nil {
		return status{state: RevocationNotChecked}
	}
	ocsps, crls := v.revocationData(e)
	st := statusOf(r.Certificate, issuer, ocsps, crls, at, v.now, RevocationEmbedded)
	if v.o.Online && !r.ExpiredSince && st.state != RevocationRevoked {
		// Asked even when the file has an answer: that one may predate a
		// revocation (OCSP answers anyone, so a thief of the key can embed
		// one fetched before), and a revocation known now wins.
		switch on := onlineStatus(ctx, v.o.HTTP, r.Certificate, issuer, v.now); {
		case on.state == RevocationRevoked, st.state == RevocationNotChecked:
			st = on
			if st.state == RevocationUnknown {
				e.problem(ProblemRevocationMissing)
			}
		}
	}
	r.Revocation, r.RevocationSrc = st.state, st.source
	if st.state == RevocationNotChecked && st.found {
		r.Revocation, r.RevocationSrc = RevocationStale, RevocationEmbedded
	}
	if st.state == RevocationRevoked && !st.revokedAt.IsZero() {
		t := st.revokedAt
		r.RevokedAt = &t
	}
	return st
}

// caRevoked reports whether embedded data shows a CA of the chain (below
// its anchor) revoked at or before at.
func (v *verifier) caRevoked(e *examined, chain []*x509.Certificate, at time.Time) bool {
	ocsps, crls := v.revocationData(e)
	for i := 1; i+1 < len(chain); i++ {
		st := statusOf(chain[i], chain[i+1], ocsps, crls, at, v.now, RevocationEmbedded)
		if st.state == RevocationRevoked && !st.revokedAt.After(at) {
			return true
		}
	}
	return false
}

// issuerIn returns cert's issuer: the next in its chain, or one met.
func issuerIn(cert *x509.Certificate, chain, met []*x509.Certificate) *x509.Certificate {
	if len(chain) > 1 {
		return chain[1]
	}
	for _, c := range met {
		if bytes.Equal(c.RawSubject, cert.RawIssuer) && cert.CheckSignatureFrom(c) == nil {
			return c
		}
	}
	return nil
}

// changesAfter judges the updates made after the signature.
func (v *verifier) changesAfter(e *examined) {
	r := &e.rep
	if r.CoversWholeFile || e.outside {
		return
	}
	r.Changes, r.ModifiedAfter = laterChanges(v.r, e.revEnd, v.f, e.sigInfo)
	if v.f.Rebuilt || v.f.MissingEOF {
		// What follows the signature is cut short or broken: nobody can
		// tell what it changed.
		r.ModifiedAfter = true
		if !slices.Contains(r.Changes, ChangeUnreadable) {
			r.Changes = append(r.Changes, ChangeUnreadable)
		}
	}
}

// Algorithms' end dates: after them a signature needs a proof that it
// existed before (a trusted time-stamp) to count. Our choice, after ETSI TS
// 119 312 and the EU's DSS default policy: MD5 and SHA-1 no longer resist
// collisions, RSA and DSA keys under 1,900 bits are within reach.
var (
	sha1Sunset     = time.Date(2010, 1, 1, 0, 0, 0, 0, time.UTC)
	shortKeySunset = time.Date(2010, 1, 1, 0, 0, 0, 0, time.UTC)
)

// weak records weak algorithms and reports whether one of them makes the
// signature undecidable: used after its end date, or with no proof of an
// earlier time than at (the proof of existence, or now).
func (v *verifier) weak(e *examined, at time.Time) bool {
	r := &e.rep
	add := func(name string) {
		if !slices.Contains(r.Weak, name) {
			r.Weak = append(r.Weak, name)
		}
	}
	if r.DigestAlgorithm == cms.SHA1.Name {
		add(cms.SHA1.Name)
	}
	switch r.SignatureAlgorithm {
	case "RSA", "RSA-PSS", "DSA":
		if r.KeyBits > 0 && r.KeyBits < 1900 {
			add(r.SignatureAlgorithm + "-" + strconv.Itoa(r.KeyBits))
		}
	}
	if len(r.Weak) == 0 {
		return false
	}
	e.problem(ProblemWeakAlgorithm)
	for _, w := range r.Weak {
		sunset := shortKeySunset
		if w == cms.SHA1.Name {
			sunset = sha1Sunset
		}
		if !at.Before(sunset) {
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

var (
	oidQCStatements = asn1.ObjectIdentifier{1, 3, 6, 1, 5, 5, 7, 1, 3}
	oidQcCompliance = asn1.ObjectIdentifier{0, 4, 0, 1862, 1, 1}
)

// qcCompliant reports whether the certificate states it is qualified (the
// ETSI EN 319 412-5 QcCompliance statement).
func qcCompliant(c *x509.Certificate) bool {
	found := false
	qcStatements(c, func(id asn1.ObjectIdentifier, _ cryptobyte.String) {
		found = found || id.Equal(oidQcCompliance)
	})
	return found
}

// QcType eseal (ETSI EN 319 412-5 §4.2.3): issued as an electronic seal's.
var (
	oidQcType      = asn1.ObjectIdentifier{0, 4, 0, 1862, 1, 6}
	oidQcTypeESeal = asn1.ObjectIdentifier{0, 4, 0, 1862, 1, 6, 2}
)

// hasQcType reports whether the certificate's QcType statement names typ.
func hasQcType(c *x509.Certificate, typ asn1.ObjectIdentifier) bool {
	found := false
	qcStatements(c, func(id asn1.ObjectIdentifier, info cryptobyte.String) {
		if !id.Equal(oidQcType) {
			return
		}
		// QcType-statementInfo ::= SEQUENCE OF OBJECT IDENTIFIER
		var types cryptobyte.String
		if !info.ReadASN1(&types, cbasn1.SEQUENCE) {
			return
		}
		for !types.Empty() {
			var t asn1.ObjectIdentifier
			if !types.ReadASN1ObjectIdentifier(&t) {
				return
			}
			found = found || t.Equal(typ)
		}
	})
	return found
}

// qcStatements calls f with each QCStatement of the certificate: its id
// and what follows it (the statementInfo, when there is one).
func qcStatements(c *x509.Certificate, f func(id asn1.ObjectIdentifier, info cryptobyte.String)) {
	for _, ext := range c.Extensions {
		if !ext.Id.Equal(oidQCStatements) {
			continue
		}
		in := cryptobyte.String(ext.Value)
		var seq cryptobyte.String
		if !in.ReadASN1(&seq, cbasn1.SEQUENCE) {
			return
		}
		for !seq.Empty() {
			var st cryptobyte.String
			var id asn1.ObjectIdentifier
			if !seq.ReadASN1(&st, cbasn1.SEQUENCE) || !st.ReadASN1ObjectIdentifier(&id) {
				return
			}
			f(id, st)
		}
	}
}
