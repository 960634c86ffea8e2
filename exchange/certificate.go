package exchange

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/paraphe/paraphe/cms"
	"github.com/paraphe/paraphe/pdf"
)

// A user may register an encryption certificate (an S/MIME certificate
// their CA issued, with its chain), so that senders encrypt documents to
// it end to end: the exchange then stores and serves ciphertext it cannot
// read. The exchange only keeps the certificate and hands it out; the
// sender's computer judges whether to trust it (its chain, and the
// recipient's address in it), since an exchange that could swap it could
// read what is encrypted to its own.

// maxChain bounds the certificates registered at once.
const maxChain = 5

// CertificateError is an encryption certificate the exchange does not
// take; Problem is a catalogue key's last part ("exchange.cert.<problem>").
type CertificateError struct {
	Problem string
	Detail  string
}

func (e *CertificateError) Error() string {
	s := "exchange: encryption certificate: " + e.Problem
	if e.Detail != "" {
		s += ": " + e.Detail
	}
	return s
}

// Certificate is a registered encryption certificate, as pages show it.
type Certificate struct {
	Subject     string    `json:"subject"`
	Issuer      string    `json:"issuer"`
	NotAfter    time.Time `json:"not_after"`
	Fingerprint string    `json:"fingerprint"` // SHA-256 of the leaf, hex
	Chain       [][]byte  `json:"chain"`       // DER, leaf first
}

// parseChain reads certificates in PEM or DER, the leaf first.
func parseChain(data []byte) ([]*x509.Certificate, error) {
	certs, err := pemCertificates(data)
	if err != nil {
		return nil, &CertificateError{"unreadable", err.Error()}
	}
	if len(certs) == 0 { // DER: one certificate, or several one after another
		if certs, err = x509.ParseCertificates(data); err != nil || len(certs) == 0 {
			return nil, &CertificateError{"unreadable", ""}
		}
	}
	if len(certs) > maxChain {
		return nil, &CertificateError{"too_many", fmt.Sprint(len(certs))}
	}
	return certs, nil
}

// SetCertificate registers u's encryption certificate (PEM or DER, the
// leaf first, its chain optional): one that documents can be encrypted
// to (cms.CheckRecipient: not a signing-only one), valid now, for u's own
// e-mail address.
func (x *Exchange) SetCertificate(ctx context.Context, u *User, data []byte, remote string) (*Certificate, error) {
	certs, err := parseChain(data)
	if err != nil {
		return nil, err
	}
	leaf := certs[0]
	var re *cms.RecipientError
	if err := cms.CheckRecipient(leaf); errors.As(err, &re) {
		return nil, &CertificateError{re.Reason, re.Detail}
	}
	if err := x.usable(ctx, certs); err != nil {
		return nil, err
	}
	if !slices.ContainsFunc(leaf.EmailAddresses, func(e string) bool { return strings.EqualFold(e, u.Email) }) {
		return nil, &CertificateError{"email", strings.Join(leaf.EmailAddresses, ", ")}
	}
	var der []byte
	for _, c := range certs {
		der = append(der, c.Raw...)
	}
	err = x.withTx(ctx, func(t *tx) error {
		if err := t.setCertificate(u.ID, der); err != nil {
			return err
		}
		return t.event(x.now(), u.ID, "", "", "certificate_set", remote)
	})
	if err != nil {
		return nil, err
	}
	u.certificate = der
	x.Log.Info("encryption certificate registered", "user", u.Code, "fingerprint", fingerprint(leaf))
	return certificateOf(der), nil
}

// usable checks that a recipient's chain (leaf first) may be encrypted
// to now: within its validity, and, when the exchange goes online
// (Config.VerifyOnline) and the certificate names an OCSP responder or a
// CRL, not revoked by its issuer, asked now (OCSP first, then the CRL;
// an unanswered question refuses it too: the exchange does not encrypt
// to a certificate it cannot tell is still good). The issuer is the one
// the chain holds, or in the exchange's roots; the leaf must be signed
// by it.
func (x *Exchange) usable(ctx context.Context, chain []*x509.Certificate) error {
	leaf := chain[0]
	if now := x.now(); now.Before(leaf.NotBefore) || now.After(leaf.NotAfter) {
		return &CertificateError{"expired", leaf.NotAfter.UTC().Format(time.DateOnly)}
	}
	if !x.Config.VerifyOnline || (len(leaf.OCSPServer) == 0 && len(leaf.CRLDistributionPoints) == 0) {
		return nil
	}
	o := pdf.VerifyOptions{Roots: x.roots, Online: true, Now: x.now}
	if len(chain) > 1 {
		// The chain's own top anchors the question (not a trust in it:
		// the answer must come signed by the leaf's issuer).
		top := sha256.Sum256(chain[len(chain)-1].Raw)
		o.Anchors = [][]byte{top[:]}
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	rep := pdf.VerifyCertificate(ctx, leaf, chain[1:], o)
	switch rep.Revocation {
	case pdf.RevocationGood:
		return nil
	case pdf.RevocationRevoked:
		detail := ""
		if rep.RevokedAt != nil {
			detail = rep.RevokedAt.UTC().Format(time.DateOnly)
		}
		return &CertificateError{"revoked", detail}
	}
	return &CertificateError{"revocation_unknown", string(rep.TrustProblem)}
}

// recipientChain is u's registered chain, checked usable now.
func (x *Exchange) recipientChain(ctx context.Context, u *User) ([]*x509.Certificate, error) {
	certs, err := x509.ParseCertificates(u.certificate)
	if err != nil || len(certs) == 0 {
		return nil, &InputError{"end_to_end", "no_certificate"}
	}
	if err := x.usable(ctx, certs); err != nil {
		return nil, err
	}
	return certs, nil
}

// checkEncryptedTo refuses an end-to-end document (its first bytes in
// head) unless one of its recipient infos names cert (issuer and serial,
// or subject key identifier): the server cannot read the content, but it
// can tell whom it is for. (A name is all a recipient info carries: a
// certificate another CA issued under the same issuer name and serial
// would pass for it; the key wrapped for it cannot be checked without
// the recipient's private key.)
func checkEncryptedTo(head []byte, cert *x509.Certificate) error {
	e, err := cms.ReadEnveloped(bytes.NewReader(head))
	if err != nil {
		return &InputError{"document", "not_encrypted"}
	}
	for _, id := range e.Recipients() {
		if id.Matches(cert) {
			return nil
		}
	}
	return &InputError{"document", "wrong_recipient"}
}

// RemoveCertificate forgets u's encryption certificate: parcels are no
// longer encrypted to it.
func (x *Exchange) RemoveCertificate(ctx context.Context, u *User, remote string) error {
	u.certificate = nil
	return x.withTx(ctx, func(t *tx) error {
		if err := t.setCertificate(u.ID, nil); err != nil {
			return err
		}
		return t.event(x.now(), u.ID, "", "", "certificate_removed", remote)
	})
}

// Certificate is u's registered encryption certificate, or nil.
func (u *User) Certificate() *Certificate { return certificateOf(u.certificate) }

// certificateOf describes a chain kept in the database (nil for none).
func certificateOf(der []byte) *Certificate {
	if len(der) == 0 {
		return nil
	}
	certs, err := x509.ParseCertificates(der)
	if err != nil || len(certs) == 0 {
		return nil
	}
	c := &Certificate{Subject: certs[0].Subject.String(), Issuer: certs[0].Issuer.String(), NotAfter: certs[0].NotAfter,
		Fingerprint: fingerprint(certs[0])}
	for _, cert := range certs {
		c.Chain = append(c.Chain, cert.Raw)
	}
	return c
}

func fingerprint(c *x509.Certificate) string {
	sum := sha256.Sum256(c.Raw)
	return hex.EncodeToString(sum[:])
}
