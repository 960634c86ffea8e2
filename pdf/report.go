package pdf

import (
	"crypto/x509"
	"time"

	"github.com/paraphe/paraphe/cms"
)

// Indication is a signature's overall result in the words of ETSI EN 319
// 102-1 (§5.1.3): passed, failed, or not decidable with what is at hand.
type Indication string

// The three indications.
const (
	TotalPassed   Indication = "TOTAL-PASSED"
	Indeterminate Indication = "INDETERMINATE"
	TotalFailed   Indication = "TOTAL-FAILED"
)

// SubIndication says why a signature failed or could not be decided (ETSI
// EN 319 102-1, table 5). Only the ones this verifier can reach are listed.
type SubIndication string

// Sub-indications of TOTAL-FAILED.
const (
	FormatFailure    SubIndication = "FORMAT_FAILURE"     // not a well-formed signature, or the document changed in ways signing does not allow
	HashFailure      SubIndication = "HASH_FAILURE"       // the signed bytes are not the ones that were signed
	SigCryptoFailure SubIndication = "SIG_CRYPTO_FAILURE" // the signature value does not verify with the signer's key
	Revoked          SubIndication = "REVOKED"            // the signer's certificate was revoked before the signing time was proven
)

// Sub-indications of INDETERMINATE.
const (
	NoSigningCertificateFound     SubIndication = "NO_SIGNING_CERTIFICATE_FOUND"
	NoCertificateChainFound       SubIndication = "NO_CERTIFICATE_CHAIN_FOUND"
	OutOfBoundsNoPOE              SubIndication = "OUT_OF_BOUNDS_NO_POE"
	OutOfBoundsNotRevoked         SubIndication = "OUT_OF_BOUNDS_NOT_REVOKED"
	RevokedNoPOE                  SubIndication = "REVOKED_NO_POE"
	RevokedCANoPOE                SubIndication = "REVOKED_CA_NO_POE"
	TryLater                      SubIndication = "TRY_LATER"
	CryptoConstraintsFailureNoPOE SubIndication = "CRYPTO_CONSTRAINTS_FAILURE_NO_POE"
	CryptoConstraintsFailure      SubIndication = "CRYPTO_CONSTRAINTS_FAILURE" // an algorithm this verifier does not know or accept
	ChainConstraintsFailure       SubIndication = "CHAIN_CONSTRAINTS_FAILURE"
	CertificateChainGeneralFail   SubIndication = "CERTIFICATE_CHAIN_GENERAL_FAILURE"
	NotYetValid                   SubIndication = "NOT_YET_VALID"
)

// SubIndications are every SubIndication this verifier gives.
var SubIndications = []SubIndication{FormatFailure, HashFailure, SigCryptoFailure, Revoked, NoSigningCertificateFound,
	NoCertificateChainFound, OutOfBoundsNoPOE, OutOfBoundsNotRevoked, RevokedNoPOE, RevokedCANoPOE, TryLater,
	CryptoConstraintsFailureNoPOE, CryptoConstraintsFailure, ChainConstraintsFailure, CertificateChainGeneralFail,
	NotYetValid}

// Kind tells a signature from a document time-stamp.
type Kind string

// Kinds of signature dictionaries.
const (
	KindSignature         Kind = "signature"          // /Type /Sig (or none)
	KindDocumentTimestamp Kind = "document_timestamp" // /Type /DocTimeStamp, ETSI.RFC3161
)

// AnchorSource says who decided to trust an anchor.
type AnchorSource string

// Where trust anchors come from.
const (
	SourcePolicy      AnchorSource = "policy"       // the machine policy (IT)
	SourceUser        AnchorSource = "user"         // the user's own trusted certificates
	SourceBundle      AnchorSource = "bundle"       // a bundle an organisation provides (PEM or PKCS#7)
	SourceTrustedList AnchorSource = "trusted_list" // an EU trusted list (ETSI TS 119 612)
	SourceSystem      AnchorSource = "system"       // the operating system's roots
)

// AnchorSources are every AnchorSource, for the catalogue's tests.
var AnchorSources = []AnchorSource{SourcePolicy, SourceUser, SourceBundle, SourceTrustedList, SourceSystem}

// Usage says what an anchor may vouch for.
type Usage uint8

// Anchor usages; the zero value means both.
const (
	UsageSignatures Usage = 1 << iota // certificates of signers (a CA service)
	UsageTimestamps                   // time-stamping units (a TSA service)
)

// Anchor is a certificate a chain may end at, with who trusts it and, for
// a trusted-list service, when. The certificate need not be self-signed: a
// trusted list names issuing CAs.
type Anchor struct {
	Cert   *x509.Certificate
	Source AnchorSource
	// Name says where the anchor comes from in words: the service and its
	// provider for a trusted list, a file name for a bundle.
	Name string
	// Country is a trusted list's territory ("FR", "IT").
	Country string
	// Usage limits the anchor to signers or time-stamps; zero is both.
	Usage Usage
	// Periods, when not empty, are the only times the anchor is trusted (a
	// trusted-list service's "granted" periods); empty means always.
	Periods []Period
}

// Period is a span of time an anchor was trusted; a zero To is open-ended.
type Period struct {
	From, To time.Time
	// Qualified: the service issued qualified certificates then (a CA/QC
	// service of an EU trusted list); a signer's certificate under it that
	// carries the QcCompliance statement is qualified.
	Qualified bool
}

// Covers reports whether the period includes t.
func (p Period) Covers(t time.Time) bool {
	return !t.Before(p.From) && (p.To.IsZero() || t.Before(p.To))
}

// PeriodAt returns the anchor's period covering t; ok is false when the
// anchor was not trusted at t. An anchor without periods is always trusted.
func (a *Anchor) PeriodAt(t time.Time) (p Period, ok bool) {
	if len(a.Periods) == 0 {
		return Period{}, true
	}
	for _, p := range a.Periods {
		if p.Covers(t) {
			return p, true
		}
	}
	return Period{}, false
}

// usable reports whether the anchor may vouch for u.
func (a *Anchor) usable(u Usage) bool { return a.Usage == 0 || a.Usage&u != 0 }

// ParseCertificate parses a DER certificate as crypto/x509 does, and also
// one whose key is on a Brainpool curve, which crypto/x509 refuses (German
// and Austrian eID cards and their CAs, their trusted-list services).
func ParseCertificate(der []byte) (*x509.Certificate, error) { return cms.ParseCertificate(der) }
