package pdf

import (
	"context"
	"crypto/x509"
	"time"
)

// CertificateReport is what VerifyCertificate found of a certificate.
type CertificateReport struct {
	// Chain goes from the certificate to its anchor when one was found.
	Chain        []*x509.Certificate
	Trusted      bool
	TrustProblem TrustProblem
	TrustSource  AnchorSource
	TrustAnchor  string
	// Revocation is the certificate's status, asked online when
	// VerifyOptions.Online (RevocationNotChecked otherwise).
	Revocation    Revocation
	RevocationSrc string
	RevokedAt     *time.Time
}

// VerifyCertificate judges a certificate presented now rather than a
// signature made in the past (a holder signing in to a web site): its chain
// through intermediates to o's anchors (Anchors by fingerprint among the
// intermediates, Trust, Roots), by the rules signatures are judged by, and,
// when o.Online, its revocation status from its OCSP responder, then its
// CRL. A relying party accepts it when it is Trusted and its Revocation is
// RevocationGood.
func VerifyCertificate(ctx context.Context, cert *x509.Certificate, intermediates []*x509.Certificate, o VerifyOptions) *CertificateReport {
	now := time.Now()
	if o.Now != nil {
		now = o.Now()
	}
	anchors := newAnchorSet(o, intermediates)
	rep := &CertificateReport{Revocation: RevocationNotChecked}
	res := anchors.chain(cert, now, now, UsageSignatures, x509.ExtKeyUsageAny)
	rep.Chain, rep.TrustProblem = res.chain, res.problem
	if res.anchor == nil {
		if rep.TrustProblem == "" {
			rep.TrustProblem = TrustUnknownAuthority
		}
		return rep
	}
	rep.Trusted, rep.TrustSource, rep.TrustAnchor = true, res.anchor.Source, res.anchor.Name
	if !o.Online {
		return rep
	}
	issuer := issuerIn(cert, res.chain, intermediates)
	if issuer == nil {
		return rep
	}
	st := onlineStatus(ctx, o.HTTP, cert, issuer, now)
	rep.Revocation, rep.RevocationSrc = st.state, st.source
	if st.state == RevocationRevoked && !st.revokedAt.IsZero() {
		t := st.revokedAt
		rep.RevokedAt = &t
	}
	return rep
}
