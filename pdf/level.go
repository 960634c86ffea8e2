package pdf

// Levels a verification reports besides the PAdES baseline levels a
// signature is made at: B-LTA, and the levels of signatures that are not
// PAdES (adbe.pkcs7.detached and the other CMS sub-filters), named as the
// EU's DSS names them.
const (
	LevelLTA    Level = "B-LTA" // and a document time-stamp over the validation data
	LevelPKCS7B Level = "PKCS7-B"
	LevelPKCS7T Level = "PKCS7-T"
	LevelPKCS7L Level = "PKCS7-LT"
	LevelPKCS7A Level = "PKCS7-LTA"
)

// levelOf is the level a signature's structure reaches (ETSI EN 319 142-1
// §6): B-B, plus a time-stamp over it (its own, or a document time-stamp
// after it) for B-T, plus revocation data for its certificate in the /DSS
// (in a CAdES file: in the SignedData) for B-LT, plus a document
// time-stamp over that /DSS for B-LTA. A
// signature that is not CAdES with a signing-certificate attribute gets
// the PKCS7 names. Document time-stamps and unreadable signatures have no
// level.
func levelOf(e *examined, all []*examined, v *verifier) Level {
	if e.rep.Kind != KindSignature || e.si == nil && e.rsaSHA1 == nil {
		return ""
	}
	cades := false
	if (e.rep.SubFilter == subCAdES || e.outside) && e.si != nil {
		_, cades, _ = e.si.SigningCertificate()
	}
	name := func(b, p Level) Level {
		if cades {
			return b
		}
		return p
	}
	timed := false
	for _, ts := range e.tokens {
		if ts.Covers(e.si.Signature) {
			timed = true
		}
	}
	var covering []*examined
	for _, d := range all {
		if d.rep.Kind == KindDocumentTimestamp && d.rep.Intact && d.br[1] > e.br[1] {
			covering = append(covering, d)
		}
	}
	if !timed && len(covering) == 0 {
		return name(LevelB, LevelPKCS7B)
	}
	if !v.hasValidationData(e) {
		return name(LevelT, LevelPKCS7T)
	}
	for _, d := range covering {
		if v.dss.offset >= 0 && d.br[1] > v.dss.offset {
			return name(LevelLTA, LevelPKCS7A)
		}
	}
	return name(LevelLT, LevelPKCS7L)
}

// hasValidationData reports whether the /DSS (or, for signatures that are
// not PAdES, Adobe's revocation attribute) holds revocation data for the
// signer's certificate.
func (v *verifier) hasValidationData(e *examined) bool {
	cert := e.rep.Certificate
	if cert == nil {
		return false
	}
	issuer := issuerIn(cert, e.rep.Chain, v.certs)
	if issuer == nil {
		return false
	}
	ocsps, crls := v.dss.ocsps, v.dss.crls
	switch {
	case e.outside:
		// A CAdES file's own: the SignedData's crls field, or its
		// revocation-values attribute.
		ocsps, crls = v.revocationData(e)
	case e.rep.SubFilter != subCAdES && e.si != nil:
		c, o := e.si.RevocationInfo()
		crls, ocsps = append(append([][]byte{}, crls...), c...), append(append([][]byte{}, ocsps...), o...)
	}
	// Any time will do: the level says what the file holds, not whether
	// it is fresh.
	st := statusOf(cert, issuer, ocsps, crls, cert.NotBefore.Add(maxRevocationAge), cert.NotAfter, "")
	return st.state != RevocationNotChecked
}

// conclude gives a verdict to a signature nothing else decided (one that
// stopped before trust was judged gets it from fail).
func conclude(r *SignatureReport) {
	if r.Indication == "" {
		r.Indication, r.SubIndication = Indeterminate, CertificateChainGeneralFail
	}
}
