package pdf

import (
	"context"
	"crypto/x509"
	"encoding/asn1"
	"net/http"
	"slices"
	"time"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
	"golang.org/x/crypto/ocsp"

	"github.com/paraphe/paraphe/cms"
	"github.com/paraphe/paraphe/pdf/internal/cos"
)

// dssContent is the document security store (ETSI EN 319 142-1 §5.4):
// certificates, OCSP responses and CRLs for every signature, and per
// signature in /VRI.
type dssContent struct {
	certs []*x509.Certificate
	ocsps [][]byte
	crls  [][]byte
	// offset is where the /DSS dictionary lies in the file (-1 without
	// one): a document time-stamp whose signed bytes reach past it covers it.
	offset int64
}

// Bounds on what the /DSS may make us read, far beyond real files.
const maxDSSItems = 10000

func readDSS(f *cos.File, catalog cos.Dict) *dssContent {
	d := &dssContent{offset: -1}
	dss, _ := f.ResolveDict(catalog["DSS"])
	if dss == nil {
		return d
	}
	d.offset = 0
	if ref, ok := catalog["DSS"].(cos.Ref); ok {
		switch kind, off, _ := f.Where(ref.Num); kind {
		case 'n':
			d.offset = off
		case 'c':
			if k, o, _ := f.Where(int(off)); k == 'n' {
				d.offset = o // the object stream holding it
			}
		}
	} else if ref, ok := f.Trailer["Root"].(cos.Ref); ok {
		if kind, off, _ := f.Where(ref.Num); kind == 'n' {
			d.offset = off
		}
	}
	seen := map[cos.Object]bool{}
	n := 0
	each := func(arr cos.Object, fn func([]byte)) {
		a, _ := s0(f, arr).(cos.Array)
		for _, r := range a {
			if n++; n > maxDSSItems {
				return
			}
			if ref, ok := r.(cos.Ref); ok {
				if seen[ref] {
					continue // decoded once
				}
				seen[ref] = true
			}
			if s, ok := s0(f, r).(*cos.Stream); ok {
				if data, err := f.StreamData(s); err == nil {
					fn(data)
				}
			}
		}
	}
	addCert := func(b []byte) {
		if c, err := cms.ParseCertificate(b); err == nil {
			d.certs = append(d.certs, c)
		}
	}
	addOCSP := func(b []byte) { d.ocsps = append(d.ocsps, b) }
	addCRL := func(b []byte) { d.crls = append(d.crls, b) }
	each(dss["Certs"], addCert)
	each(dss["OCSPs"], addOCSP)
	each(dss["CRLs"], addCRL)
	// /VRI: per-signature entries; what they name is normally also in the
	// arrays above, but signers do not all repeat it.
	vri, _ := f.ResolveDict(dss["VRI"])
	i := 0
	for _, entry := range vri {
		if i++; i > maxDSSItems {
			break
		}
		e, _ := f.ResolveDict(entry)
		each(e["Cert"], addCert)
		each(e["OCSP"], addOCSP)
		each(e["CRL"], addCRL)
	}
	return d
}

// revocationData gathers what speaks for the revocation status of e's
// certificates: the /DSS, the SignedData's own crls field, Adobe's signed
// revocation attribute, CAdES's revocation-values, and the time-stamp
// tokens' data.
func (v *verifier) revocationData(e *examined) (ocsps, crls [][]byte) {
	ocsps = append(ocsps, v.dss.ocsps...)
	crls = append(crls, v.dss.crls...)
	if e.sd != nil {
		ocsps = append(ocsps, e.sd.OCSPs...)
		crls = append(crls, e.sd.CRLs...)
	}
	if e.si != nil {
		c, o := e.si.RevocationInfo()
		crls, ocsps = append(crls, c...), append(ocsps, o...)
		c, o = e.si.RevocationValues()
		crls, ocsps = append(crls, c...), append(ocsps, o...)
	}
	for _, t := range e.tokens {
		ocsps = append(ocsps, t.SignedData.OCSPs...)
		crls = append(crls, t.SignedData.CRLs...)
	}
	return ocsps, crls
}

// maxRevocationAge is how long before the time judged revocation data may
// have been produced and still speak for it.
const maxRevocationAge = 7 * 24 * time.Hour

// status is what revocation data says about a certificate.
type status struct {
	state     Revocation
	source    string
	revokedAt time.Time
	// found: data about the certificate was there, but none fresh enough.
	found bool
}

// statusOf returns cert's status at time at from OCSP responses and CRLs
// (DER) issued by issuer or its delegated responder. A statement that the
// certificate is revoked counts whenever it was made (a revocation is for
// good; a hold only while fresh) and wins over any statement that it is
// good, whatever their order in the file. A statement that it is good
// counts when produced no earlier than maxRevocationAge before at, no later
// than now, and, for a certificate expired since (validated in the past),
// while it was still valid — afterwards a CA may drop it from its CRLs; a
// CRL says so only when it is complete for the certificate (crlCovers).
func statusOf(cert, issuer *x509.Certificate, ocsps, crls [][]byte, at, now time.Time, source string) status {
	fresh := func(t time.Time) bool {
		if t.Before(at.Add(-maxRevocationAge)) || t.After(now.Add(5*time.Minute)) {
			return false
		}
		return !now.After(cert.NotAfter) || !t.After(cert.NotAfter.Add(time.Hour))
	}
	var revoked *status
	revoke := func(t time.Time) {
		if revoked == nil || t.Before(revoked.revokedAt) {
			revoked = &status{state: RevocationRevoked, source: source, revokedAt: t}
		}
	}
	found, good := false, false
	for _, der := range ocsps {
		resp, err := ocsp.ParseResponseForCert(der, cert, issuer)
		if err != nil || resp.SerialNumber.Cmp(cert.SerialNumber) != 0 {
			continue
		}
		// Signed by the issuer itself, or by a responder it delegated to.
		if resp.Certificate != nil && !hasEKU(resp.Certificate, x509.ExtKeyUsageOCSPSigning) {
			continue
		}
		isFresh := fresh(resp.ThisUpdate)
		switch {
		case resp.Status == ocsp.Revoked && (isFresh || resp.RevocationReason != ocsp.CertificateHold):
			revoke(resp.RevokedAt)
		case !isFresh:
			found = true
		case resp.Status == ocsp.Good:
			good = true
		}
	}
	for _, der := range crls {
		crl, err := x509.ParseRevocationList(der)
		if err != nil || crl.CheckSignatureFrom(issuer) != nil {
			continue
		}
		complete, usable := crlCovers(crl, cert)
		if !usable {
			continue
		}
		isFresh, listed := fresh(crl.ThisUpdate), false
		for _, e := range crl.RevokedCertificateEntries {
			if e.SerialNumber.Cmp(cert.SerialNumber) == 0 {
				listed = true
				if isFresh || e.ReasonCode != int(ocsp.CertificateHold) {
					revoke(e.RevocationTime)
				}
			}
		}
		switch {
		case !isFresh:
			found = true
		case !listed && complete:
			good = true
		}
	}
	switch {
	case revoked != nil:
		return *revoked
	case good:
		return status{state: RevocationGood, source: source}
	}
	return status{state: RevocationNotChecked, found: found}
}

// Extensions of CRLs (RFC 5280 §5.2).
var (
	oidCRLIssuingDistributionPoint = asn1.ObjectIdentifier{2, 5, 29, 28}
	oidCRLDeltaIndicator           = asn1.ObjectIdentifier{2, 5, 29, 27}
	oidCRLAuthorityKeyID           = asn1.ObjectIdentifier{2, 5, 29, 35}
	oidCRLNumber                   = asn1.ObjectIdentifier{2, 5, 29, 20}
)

// crlCovers tells what a CRL signed by cert's issuer says about cert
// (RFC 5280 §6.3.3): complete, when a certificate it does not list is not
// revoked — not a delta CRL, not limited to some reasons or to another kind
// of certificate, and, when it names its distribution point, one the
// certificate names; usable, when its entries are about the issuer's
// certificates at all (an indirect CRL's may be another issuer's).
func crlCovers(crl *x509.RevocationList, cert *x509.Certificate) (complete, usable bool) {
	complete = true
	for _, ext := range crl.Extensions {
		switch {
		case ext.Id.Equal(oidCRLIssuingDistributionPoint):
			var ok, indirect bool
			ok, indirect = idpCovers(ext.Value, cert)
			if indirect {
				return false, false
			}
			complete = complete && ok
		case ext.Id.Equal(oidCRLDeltaIndicator):
			complete = false
		case ext.Critical && !ext.Id.Equal(oidCRLAuthorityKeyID) && !ext.Id.Equal(oidCRLNumber):
			complete = false // a critical extension not understood
		}
	}
	return complete, true
}

// idpCovers reads an IssuingDistributionPoint (RFC 5280 §5.2.5) and tells
// whether the CRL is complete for cert, and whether it is indirect.
func idpCovers(der []byte, cert *x509.Certificate) (covers, indirect bool) {
	in := cryptobyte.String(der)
	var idp cryptobyte.String
	if !in.ReadASN1(&idp, cbasn1.SEQUENCE) {
		return false, true // unreadable: trust none of it
	}
	covers = true
	if idp.PeekASN1Tag(cbasn1.Tag(0).Constructed().ContextSpecific()) {
		var dpn, full cryptobyte.String
		idp.ReadASN1(&dpn, cbasn1.Tag(0).Constructed().ContextSpecific())
		named := false
		if dpn.ReadASN1(&full, cbasn1.Tag(0).Constructed().ContextSpecific()) {
			for !full.Empty() {
				var gn cryptobyte.String
				var tag cbasn1.Tag
				if !full.ReadAnyASN1(&gn, &tag) {
					break
				}
				if tag == cbasn1.Tag(6).ContextSpecific() && slices.Contains(cert.CRLDistributionPoints, string(gn)) {
					named = true
				}
			}
		}
		covers = named
	}
	flag := func(n uint8) bool {
		var v cryptobyte.String
		var present bool
		if !idp.ReadOptionalASN1(&v, &present, cbasn1.Tag(n).ContextSpecific()) {
			return true // malformed: as if set
		}
		return present && len(v) == 1 && v[0] != 0
	}
	userOnly, caOnly := flag(1), flag(2)
	if idp.PeekASN1Tag(cbasn1.Tag(3).ContextSpecific()) {
		var reasons cryptobyte.String
		idp.ReadASN1(&reasons, cbasn1.Tag(3).ContextSpecific())
		covers = false // only some reasons
	}
	indirect, attrOnly := flag(4), flag(5)
	if userOnly && cert.IsCA || caOnly && !cert.IsCA || attrOnly {
		covers = false
	}
	return covers, indirect
}

// onlineStatus asks the certificate's OCSP responder, then its CRL
// distribution point, now.
func onlineStatus(ctx context.Context, hc *http.Client, cert, issuer *x509.Certificate, now time.Time) status {
	if hc == nil {
		hc = http.DefaultClient
	}
	s := &Signer{Opts: Options{HTTP: hc}}
	if len(cert.OCSPServer) > 0 {
		if req, err := ocsp.CreateRequest(cert, issuer, nil); err == nil {
			if der, err := s.get(ctx, http.MethodPost, cert.OCSPServer[0], "application/ocsp-request", req); err == nil {
				if st := statusOf(cert, issuer, [][]byte{der}, nil, now, now, RevocationOnline); st.state != RevocationNotChecked {
					return st
				}
			}
		}
	}
	if len(cert.CRLDistributionPoints) > 0 {
		if der, err := s.get(ctx, http.MethodGet, cert.CRLDistributionPoints[0], "", nil); err == nil {
			if st := statusOf(cert, issuer, nil, [][]byte{der}, now, now, RevocationOnline); st.state != RevocationNotChecked {
				return st
			}
		}
	}
	return status{state: RevocationUnknown, source: RevocationOnline}
}

func hasEKU(c *x509.Certificate, want x509.ExtKeyUsage) bool {
	for _, u := range c.ExtKeyUsage {
		if u == want {
			return true
		}
	}
	return false
}
