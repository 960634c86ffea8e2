package portal

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"strings"

	"github.com/paraphe/paraphe/pdf"
)

// A relying party's check of a Web eID authentication token (format
// web-eid:1.0), as any portal should make it:
//
//  1. the token is a JSON object with unverifiedCertificate, algorithm,
//     signature, format "web-eid:1.x" and appVersion;
//  2. the challenge is the one this portal issued to this browser session,
//     unused and fresh, and is used up now, before anything else is
//     looked at (Portal.token, Store.useChallenge);
//  3. the signature verifies, with the certificate's key and the algorithm
//     named, over hash(origin) ‖ hash(challenge), origin being this
//     portal's own and challenge the one kept for the session: neither is
//     read from the token;
//  4. the certificate chains to the certification authorities the portal
//     trusts, allows digital signatures and is not revoked, asked online
//     (pdf.VerifyCertificate).

// Why a token is refused; TokenError carries the trust details.
var (
	ErrTokenFormat    = errors.New("portal: not a Web eID authentication token (web-eid:1.0)")
	ErrTokenSignature = errors.New("portal: the token's signature does not hold for this site and challenge")
	ErrCertUntrusted  = errors.New("portal: the certificate does not chain to a certification authority this portal trusts")
	ErrCertUsage      = errors.New("portal: the certificate is not for signatures")
	ErrCertRevokedCA  = errors.New("portal: the certification authority revoked the certificate")
	ErrRevocation     = errors.New("portal: the certificate's revocation status could not be checked")
)

// TokenError is a token refused, with what verification found.
type TokenError struct {
	Err    error
	Report *pdf.CertificateReport // nil before the chain is looked at
}

func (e *TokenError) Error() string {
	if e.Report != nil && e.Report.TrustProblem != "" {
		return fmt.Sprintf("%v (%s)", e.Err, e.Report.TrustProblem)
	}
	return e.Err.Error()
}

func (e *TokenError) Unwrap() error { return e.Err }

type authToken struct {
	UnverifiedCertificate string `json:"unverifiedCertificate"`
	Algorithm             string `json:"algorithm"`
	Signature             string `json:"signature"`
	Format                string `json:"format"`
	AppVersion            string `json:"appVersion"`
}

// parseToken reads a token and its certificate.
func parseToken(data []byte) (*authToken, *x509.Certificate, error) {
	var t authToken
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&t); err != nil {
		return nil, nil, &TokenError{Err: ErrTokenFormat}
	}
	if !strings.HasPrefix(t.Format, "web-eid:1.") || t.UnverifiedCertificate == "" || t.Signature == "" {
		return nil, nil, &TokenError{Err: ErrTokenFormat}
	}
	der, err := base64.StdEncoding.DecodeString(t.UnverifiedCertificate)
	if err != nil {
		return nil, nil, &TokenError{Err: ErrTokenFormat}
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, nil, &TokenError{Err: ErrTokenFormat}
	}
	return &t, cert, nil
}

// verifySignature checks the token's signature over origin and challenge.
func verifySignature(t *authToken, cert *x509.Certificate, origin, challenge string) error {
	sig, err := base64.StdEncoding.DecodeString(t.Signature)
	if err != nil {
		return &TokenError{Err: ErrTokenFormat}
	}
	var h crypto.Hash
	switch t.Algorithm[len(t.Algorithm)-min(3, len(t.Algorithm)):] {
	case "256":
		h = crypto.SHA256
	case "384":
		h = crypto.SHA384
	case "512":
		h = crypto.SHA512
	default:
		return &TokenError{Err: ErrTokenFormat}
	}
	ho, hc, d := h.New(), h.New(), h.New()
	ho.Write([]byte(origin))
	hc.Write([]byte(challenge))
	d.Write(ho.Sum(nil))
	d.Write(hc.Sum(nil))
	digest := d.Sum(nil)
	ok := false
	switch pub := cert.PublicKey.(type) {
	case *ecdsa.PublicKey:
		n := (pub.Curve.Params().BitSize + 7) / 8
		ok = strings.HasPrefix(t.Algorithm, "ES") && len(sig) == 2*n &&
			ecdsa.Verify(pub, digest, new(big.Int).SetBytes(sig[:n]), new(big.Int).SetBytes(sig[n:]))
	case *rsa.PublicKey:
		switch {
		case strings.HasPrefix(t.Algorithm, "RS"):
			ok = rsa.VerifyPKCS1v15(pub, h, digest, sig) == nil
		case strings.HasPrefix(t.Algorithm, "PS"):
			ok = rsa.VerifyPSS(pub, h, digest, sig, &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash}) == nil
		}
	}
	if !ok {
		return &TokenError{Err: ErrTokenSignature}
	}
	return nil
}

// trustCertificate checks cert's chain, usage and revocation.
func trustCertificate(ctx context.Context, cert *x509.Certificate, intermediates []*x509.Certificate, o pdf.VerifyOptions) (*pdf.CertificateReport, error) {
	rep := pdf.VerifyCertificate(ctx, cert, intermediates, o)
	switch {
	case !rep.Trusted:
		return rep, &TokenError{Err: ErrCertUntrusted, Report: rep}
	case cert.KeyUsage != 0 && cert.KeyUsage&x509.KeyUsageDigitalSignature == 0:
		return rep, &TokenError{Err: ErrCertUsage, Report: rep}
	case rep.Revocation == pdf.RevocationRevoked:
		return rep, &TokenError{Err: ErrCertRevokedCA, Report: rep}
	case o.Online && rep.Revocation != pdf.RevocationGood:
		return rep, &TokenError{Err: ErrRevocation, Report: rep}
	}
	return rep, nil
}
