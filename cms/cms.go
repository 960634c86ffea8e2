// Package cms reads and verifies CMS SignedData (RFC 5652) as signers
// everywhere write it, in PDFs (PAdES) and around any file (CAdES): DER or
// BER, signer named by issuer and serial number or by subject key
// identifier, with or without signed attributes, RSA
// (PKCS#1 v1.5 and PSS), ECDSA (NIST and Brainpool curves, DER or plain
// r‖s), Ed25519 and DSA, SHA-1 to SHA-512 and SHA-3; and RFC 3161
// time-stamp tokens, which are SignedData too.
//
// It parses with golang.org/x/crypto/cryptobyte after converting BER's
// length forms to DER (toDER), verifies with the standard library, and
// reads Brainpool keys through github.com/ProtonMail/go-crypto/brainpool.
// Reader streams the content of an attached SignedData; Builder and
// AttachedWriter make ETSI baseline SignedData (build.go). Judging what a
// signature means (trust, time, revocation) is the caller's.
package cms

import (
	"bytes"
	"crypto/sha1"
	"crypto/x509"
	"encoding/asn1"
	"fmt"
	"math/big"
	"time"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

// Object identifiers of the content types and attributes read here.
var (
	OIDData                  = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 7, 1}
	OIDSignedData            = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 7, 2}
	OIDTSTInfo               = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 16, 1, 4}
	OIDContentType           = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 3}
	OIDMessageDigest         = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 4}
	OIDSigningTime           = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 5}
	OIDSigningCertificate    = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 16, 2, 12}
	OIDSigningCertificateV2  = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 16, 2, 47}
	OIDTimeStampToken        = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 16, 2, 14}
	OIDAdbeRevocationInfo    = asn1.ObjectIdentifier{1, 2, 840, 113583, 1, 1, 8}
	OIDRevocationOCSP        = asn1.ObjectIdentifier{1, 3, 6, 1, 5, 5, 7, 16, 2}
	OIDSignaturePolicy       = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 16, 2, 15}
	OIDCertificateValues     = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 16, 2, 23}
	OIDRevocationValues      = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 16, 2, 24}
	oidOCSPBasic             = asn1.ObjectIdentifier{1, 3, 6, 1, 5, 5, 7, 48, 1, 1}
	oidSHA256AlgorithmDefult = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 1}
)

// SignedData is a parsed CMS SignedData.
type SignedData struct {
	// ContentType is the encapsulated content's type (id-data for PDF
	// signatures, id-ct-TSTInfo for time-stamp tokens).
	ContentType asn1.ObjectIdentifier
	// Content is the encapsulated content, nil when detached.
	Content []byte
	// Certificates are those the SignedData carries (ones that do not
	// parse are left out and counted in BadCertificates).
	Certificates    []*x509.Certificate
	BadCertificates int
	// CRLs and OCSPs are revocation data the SignedData carries in its
	// crls field (CertificateList, or OCSP responses as RFC 5940 other
	// revocation info), in DER.
	CRLs, OCSPs [][]byte
	Signers     []*SignerInfo
}

// SignerInfo is one signer of a SignedData.
type SignerInfo struct {
	// The signer's identifier: issuer and serial number, or subject key
	// identifier.
	Issuer []byte // DER Name
	Serial *big.Int
	KeyID  []byte

	DigestAlgorithm    asn1.ObjectIdentifier
	SignatureAlgorithm asn1.ObjectIdentifier
	signatureParams    []byte
	Signature          []byte

	// SignedAttrs is the DER of the signed attributes as a SET (the bytes
	// the signature covers), nil when there are none.
	SignedAttrs []byte
	attrs       []attribute
	unsigned    []attribute
	// verifiedWith: see VerifiedWith.
	verifiedWith Hash
}

type attribute struct {
	oid    asn1.ObjectIdentifier
	values [][]byte // DER of each value
}

// Parse reads a ContentInfo holding a SignedData, in DER or BER, ignoring
// bytes after it (a PDF's /Contents is zero-padded).
func Parse(b []byte) (*SignedData, error) {
	der, err := toDER(b)
	if err != nil {
		return nil, err
	}
	in := cryptobyte.String(der)
	var ci, content cryptobyte.String
	var ct asn1.ObjectIdentifier
	if !in.ReadASN1(&ci, cbasn1.SEQUENCE) || !ci.ReadASN1ObjectIdentifier(&ct) {
		return nil, fmt.Errorf("%w: not a ContentInfo", ErrEncoding)
	}
	if !ct.Equal(OIDSignedData) {
		return nil, fmt.Errorf("%w: content type %s is not SignedData", ErrEncoding, ct)
	}
	if !ci.ReadASN1(&content, cbasn1.Tag(0).Constructed().ContextSpecific()) {
		return nil, fmt.Errorf("%w: no SignedData", ErrEncoding)
	}
	var sd cryptobyte.String
	var version int64
	var digestAlgs, encap cryptobyte.String
	if !content.ReadASN1(&sd, cbasn1.SEQUENCE) || !sd.ReadASN1Integer(&version) ||
		!sd.ReadASN1(&digestAlgs, cbasn1.SET) || !sd.ReadASN1(&encap, cbasn1.SEQUENCE) {
		return nil, fmt.Errorf("%w: SignedData", ErrEncoding)
	}
	out := &SignedData{}
	if !encap.ReadASN1ObjectIdentifier(&out.ContentType) {
		return nil, fmt.Errorf("%w: encapsulated content type", ErrEncoding)
	}
	if encap.PeekASN1Tag(cbasn1.Tag(0).Constructed().ContextSpecific()) {
		var ec, oct cryptobyte.String
		if !encap.ReadASN1(&ec, cbasn1.Tag(0).Constructed().ContextSpecific()) || !ec.ReadASN1(&oct, cbasn1.OCTET_STRING) {
			return nil, fmt.Errorf("%w: encapsulated content", ErrEncoding)
		}
		out.Content = append([]byte{}, oct...)
	}
	if sd.PeekASN1Tag(cbasn1.Tag(0).Constructed().ContextSpecific()) {
		var certs cryptobyte.String
		sd.ReadASN1(&certs, cbasn1.Tag(0).Constructed().ContextSpecific())
		for !certs.Empty() {
			var elem cryptobyte.String
			var tag cbasn1.Tag
			if !certs.ReadAnyASN1Element(&elem, &tag) {
				return nil, fmt.Errorf("%w: certificates", ErrEncoding)
			}
			if tag != cbasn1.SEQUENCE {
				continue // attribute or other certificates: not X.509
			}
			c, err := ParseCertificate(elem)
			if err != nil {
				out.BadCertificates++
				continue
			}
			out.Certificates = append(out.Certificates, c)
		}
	}
	if sd.PeekASN1Tag(cbasn1.Tag(1).Constructed().ContextSpecific()) {
		var crls cryptobyte.String
		sd.ReadASN1(&crls, cbasn1.Tag(1).Constructed().ContextSpecific())
		for !crls.Empty() {
			var elem cryptobyte.String
			var tag cbasn1.Tag
			if !crls.ReadAnyASN1Element(&elem, &tag) {
				return nil, fmt.Errorf("%w: revocation data", ErrEncoding)
			}
			switch tag {
			case cbasn1.SEQUENCE:
				out.CRLs = append(out.CRLs, elem)
			case cbasn1.Tag(1).Constructed().ContextSpecific():
				// OtherRevocationInfoFormat: OID, then the data.
				var body cryptobyte.String = elem
				var inner cryptobyte.String
				var oid asn1.ObjectIdentifier
				var data cryptobyte.String
				if body.ReadASN1(&inner, tag) && inner.ReadASN1ObjectIdentifier(&oid) && oid.Equal(OIDRevocationOCSP) &&
					inner.ReadASN1Element(&data, cbasn1.SEQUENCE) {
					out.OCSPs = append(out.OCSPs, data)
				}
			}
		}
	}
	var signers cryptobyte.String
	if !sd.ReadASN1(&signers, cbasn1.SET) {
		return nil, fmt.Errorf("%w: signer infos", ErrEncoding)
	}
	for !signers.Empty() {
		var s cryptobyte.String
		if !signers.ReadASN1(&s, cbasn1.SEQUENCE) {
			return nil, fmt.Errorf("%w: signer info", ErrEncoding)
		}
		si, err := parseSignerInfo(s)
		if err != nil {
			return nil, err
		}
		out.Signers = append(out.Signers, si)
	}
	if len(out.Signers) == 0 {
		return nil, fmt.Errorf("%w: no signer", ErrEncoding)
	}
	return out, nil
}

func parseSignerInfo(s cryptobyte.String) (*SignerInfo, error) {
	si := &SignerInfo{}
	var version int64
	if !s.ReadASN1Integer(&version) {
		return nil, fmt.Errorf("%w: signer version", ErrEncoding)
	}
	switch {
	case s.PeekASN1Tag(cbasn1.SEQUENCE):
		var ias, issuer cryptobyte.String
		si.Serial = new(big.Int)
		if !s.ReadASN1(&ias, cbasn1.SEQUENCE) || !ias.ReadASN1Element(&issuer, cbasn1.SEQUENCE) || !ias.ReadASN1Integer(si.Serial) {
			return nil, fmt.Errorf("%w: signer identifier", ErrEncoding)
		}
		si.Issuer = issuer
	case s.PeekASN1Tag(cbasn1.Tag(0).ContextSpecific()):
		var kid cryptobyte.String
		s.ReadASN1(&kid, cbasn1.Tag(0).ContextSpecific())
		si.KeyID = kid
	default:
		return nil, fmt.Errorf("%w: signer identifier", ErrEncoding)
	}
	var err error
	if si.DigestAlgorithm, _, err = readAlgorithm(&s); err != nil {
		return nil, err
	}
	if s.PeekASN1Tag(cbasn1.Tag(0).Constructed().ContextSpecific()) {
		var full cryptobyte.String
		s.ReadASN1Element(&full, cbasn1.Tag(0).Constructed().ContextSpecific())
		// The signature covers the attributes with the SET tag (RFC 5652
		// §5.4), not the [0] IMPLICIT tag they are written with.
		si.SignedAttrs = append([]byte{0x31}, full[1:]...)
		if si.attrs, err = parseAttributes(si.SignedAttrs); err != nil {
			return nil, err
		}
	}
	if si.SignatureAlgorithm, si.signatureParams, err = readAlgorithm(&s); err != nil {
		return nil, err
	}
	var sig cryptobyte.String
	if !s.ReadASN1(&sig, cbasn1.OCTET_STRING) {
		return nil, fmt.Errorf("%w: signature value", ErrEncoding)
	}
	si.Signature = sig
	if s.PeekASN1Tag(cbasn1.Tag(1).Constructed().ContextSpecific()) {
		var full cryptobyte.String
		s.ReadASN1Element(&full, cbasn1.Tag(1).Constructed().ContextSpecific())
		if si.unsigned, err = parseAttributes(append([]byte{0x31}, full[1:]...)); err != nil {
			return nil, err
		}
	}
	return si, nil
}

// readAlgorithm reads an AlgorithmIdentifier: its OID and the DER of its
// parameters (nil when absent).
func readAlgorithm(s *cryptobyte.String) (asn1.ObjectIdentifier, []byte, error) {
	var alg cryptobyte.String
	var oid asn1.ObjectIdentifier
	if !s.ReadASN1(&alg, cbasn1.SEQUENCE) || !alg.ReadASN1ObjectIdentifier(&oid) {
		return nil, nil, fmt.Errorf("%w: algorithm identifier", ErrEncoding)
	}
	if alg.Empty() {
		return oid, nil, nil
	}
	var params cryptobyte.String
	var tag cbasn1.Tag
	if !alg.ReadAnyASN1Element(&params, &tag) {
		return nil, nil, fmt.Errorf("%w: algorithm parameters", ErrEncoding)
	}
	return oid, params, nil
}

func parseAttributes(set []byte) ([]attribute, error) {
	in := cryptobyte.String(set)
	var body cryptobyte.String
	if !in.ReadASN1(&body, cbasn1.SET) {
		return nil, fmt.Errorf("%w: attributes", ErrEncoding)
	}
	var out []attribute
	for !body.Empty() {
		var a, values cryptobyte.String
		var at attribute
		if !body.ReadASN1(&a, cbasn1.SEQUENCE) || !a.ReadASN1ObjectIdentifier(&at.oid) || !a.ReadASN1(&values, cbasn1.SET) {
			return nil, fmt.Errorf("%w: attribute", ErrEncoding)
		}
		for !values.Empty() {
			var v cryptobyte.String
			var tag cbasn1.Tag
			if !values.ReadAnyASN1Element(&v, &tag) {
				return nil, fmt.Errorf("%w: attribute value", ErrEncoding)
			}
			at.values = append(at.values, v)
		}
		out = append(out, at)
	}
	return out, nil
}

func find(attrs []attribute, oid asn1.ObjectIdentifier) [][]byte {
	var out [][]byte
	for _, a := range attrs {
		if a.oid.Equal(oid) {
			out = append(out, a.values...)
		}
	}
	return out
}

// SignedAttr returns the values of a signed attribute.
func (si *SignerInfo) SignedAttr(oid asn1.ObjectIdentifier) [][]byte { return find(si.attrs, oid) }

// UnsignedAttr returns the values of an unsigned attribute.
func (si *SignerInfo) UnsignedAttr(oid asn1.ObjectIdentifier) [][]byte { return find(si.unsigned, oid) }

// MessageDigest returns the message-digest attribute (nil without one, or
// when it is not exactly one OCTET STRING).
func (si *SignerInfo) MessageDigest() []byte {
	v := si.SignedAttr(OIDMessageDigest)
	if len(v) != 1 {
		return nil
	}
	var d []byte
	if rest, err := asn1.Unmarshal(v[0], &d); err != nil || len(rest) > 0 {
		return nil
	}
	return d
}

// SigningTime returns the signing-time attribute, the signer's own claim.
func (si *SignerInfo) SigningTime() (time.Time, bool) {
	v := si.SignedAttr(OIDSigningTime)
	if len(v) != 1 {
		return time.Time{}, false
	}
	var t time.Time
	if _, err := asn1.Unmarshal(v[0], &t); err != nil {
		return time.Time{}, false
	}
	return t, true
}

// TimestampTokens returns the signature time-stamp tokens (unsigned
// attribute id-aa-timeStampToken), each a ContentInfo.
func (si *SignerInfo) TimestampTokens() [][]byte { return si.UnsignedAttr(OIDTimeStampToken) }

// RevocationInfo returns the CRLs and OCSP responses of Adobe's signed
// revocation attribute (adbe-revocationInfoArchival, 1.2.840.113583.1.1.8),
// which signers wrote before PAdES had a /DSS.
func (si *SignerInfo) RevocationInfo() (crls, ocsps [][]byte) {
	return revocationLists(si.SignedAttr(OIDAdbeRevocationInfo))
}

// RevocationValues returns the CRLs and OCSP responses (as OCSPResponse,
// which is what OCSP readers take) of the unsigned attribute
// revocation-values (RFC 5126 §6.3.4), where CAdES-X-L and -A signers put
// them.
func (si *SignerInfo) RevocationValues() (crls, ocsps [][]byte) {
	crls, basic := revocationLists(si.UnsignedAttr(OIDRevocationValues))
	for _, b := range basic {
		// OCSPResponse ::= SEQUENCE { responseStatus ENUMERATED
		// successful(0), responseBytes [0] EXPLICIT SEQUENCE {
		// id-pkix-ocsp-basic, OCTET STRING BasicOCSPResponse } }
		var rb cryptobyte.Builder
		rb.AddASN1(cbasn1.SEQUENCE, func(b1 *cryptobyte.Builder) {
			b1.AddASN1Enum(0)
			b1.AddASN1(cbasn1.Tag(0).Constructed().ContextSpecific(), func(b2 *cryptobyte.Builder) {
				b2.AddASN1(cbasn1.SEQUENCE, func(b3 *cryptobyte.Builder) {
					b3.AddASN1ObjectIdentifier(oidOCSPBasic)
					b3.AddASN1OctetString(b)
				})
			})
		})
		if der, err := rb.Bytes(); err == nil {
			ocsps = append(ocsps, der)
		}
	}
	return crls, ocsps
}

// CertificateValues returns the certificates of the unsigned attribute
// certificate-values (RFC 5126 §6.3.3), where CAdES-X-L and -A signers
// put the chain's.
func (si *SignerInfo) CertificateValues() []*x509.Certificate {
	var out []*x509.Certificate
	for _, v := range si.UnsignedAttr(OIDCertificateValues) {
		in := cryptobyte.String(v)
		var seq cryptobyte.String
		if !in.ReadASN1(&seq, cbasn1.SEQUENCE) {
			continue
		}
		for !seq.Empty() {
			var elem cryptobyte.String
			if !seq.ReadASN1Element(&elem, cbasn1.SEQUENCE) {
				break
			}
			if c, err := ParseCertificate(elem); err == nil {
				out = append(out, c)
			}
		}
	}
	return out
}

// revocationLists reads values shaped SEQUENCE { [0] EXPLICIT SEQUENCE OF
// CRLs, [1] EXPLICIT SEQUENCE OF OCSP responses, … }, as both Adobe's
// attribute and CAdES's revocation-values are.
func revocationLists(values [][]byte) (crls, ocsps [][]byte) {
	for _, v := range values {
		in := cryptobyte.String(v)
		var seq cryptobyte.String
		if !in.ReadASN1(&seq, cbasn1.SEQUENCE) {
			continue
		}
		for !seq.Empty() {
			var field cryptobyte.String
			var tag cbasn1.Tag
			if !seq.ReadAnyASN1(&field, &tag) {
				break
			}
			var list cryptobyte.String
			if !field.ReadASN1(&list, cbasn1.SEQUENCE) {
				continue
			}
			for !list.Empty() {
				var elem cryptobyte.String
				if !list.ReadASN1Element(&elem, cbasn1.SEQUENCE) {
					break
				}
				switch tag {
				case cbasn1.Tag(0).Constructed().ContextSpecific():
					crls = append(crls, elem)
				case cbasn1.Tag(1).Constructed().ContextSpecific():
					ocsps = append(ocsps, elem)
				}
			}
		}
	}
	return crls, ocsps
}

// CertRef is what a signing-certificate attribute says of the signer's
// certificate: a hash of it and, optionally, its issuer and serial.
type CertRef struct {
	Hash   Hash
	Digest []byte
	// Issuer is the DER of the issuer's Name, when the reference has one.
	Issuer []byte
	Serial *big.Int
}

// Matches reports whether c is the certificate the reference names.
func (r *CertRef) Matches(c *x509.Certificate) bool {
	h := r.Hash.New()
	h.Write(c.Raw)
	if !bytes.Equal(h.Sum(nil), r.Digest) {
		return false
	}
	if r.Serial != nil && r.Serial.Cmp(c.SerialNumber) != 0 {
		return false
	}
	if r.Issuer != nil && !bytes.Equal(r.Issuer, c.RawIssuer) {
		return false
	}
	return true
}

// SigningCertificate returns the first reference of the signing-certificate
// (v1, SHA-1) or signing-certificate-v2 (any hash, SHA-256 by default)
// attribute; ok is false when neither is there, err when one is malformed.
func (si *SignerInfo) SigningCertificate() (ref *CertRef, ok bool, err error) {
	if v := si.SignedAttr(OIDSigningCertificateV2); len(v) > 0 {
		r, err := parseCertRef(v[0], true)
		return r, true, err
	}
	if v := si.SignedAttr(OIDSigningCertificate); len(v) > 0 {
		r, err := parseCertRef(v[0], false)
		return r, true, err
	}
	return nil, false, nil
}

// parseCertRef reads SigningCertificate(V2) ::= SEQUENCE { certs SEQUENCE OF
// ESSCertID(v2), policies OPTIONAL } and returns its first ESSCertID:
// SEQUENCE { [hashAlgorithm (v2 only, default SHA-256)], certHash OCTET
// STRING, issuerSerial IssuerSerial OPTIONAL }.
func parseCertRef(v []byte, v2 bool) (*CertRef, error) {
	in := cryptobyte.String(v)
	var sc, certs, id cryptobyte.String
	if !in.ReadASN1(&sc, cbasn1.SEQUENCE) || !sc.ReadASN1(&certs, cbasn1.SEQUENCE) || !certs.ReadASN1(&id, cbasn1.SEQUENCE) {
		return nil, fmt.Errorf("%w: signing-certificate attribute", ErrEncoding)
	}
	r := &CertRef{Hash: SHA1}
	if v2 {
		r.Hash = SHA256
		if id.PeekASN1Tag(cbasn1.SEQUENCE) {
			oid, _, err := readAlgorithm(&id)
			if err != nil {
				return nil, err
			}
			h, ok := HashByOID(oid)
			if !ok {
				return nil, fmt.Errorf("%w: signing-certificate hash %s", ErrUnsupportedAlgorithm, oid)
			}
			r.Hash = h
		}
	}
	var digest cryptobyte.String
	if !id.ReadASN1(&digest, cbasn1.OCTET_STRING) {
		return nil, fmt.Errorf("%w: signing-certificate hash", ErrEncoding)
	}
	r.Digest = digest
	if id.PeekASN1Tag(cbasn1.SEQUENCE) {
		// IssuerSerial ::= SEQUENCE { issuer GeneralNames, serial INTEGER }
		var is, names, name cryptobyte.String
		serial := new(big.Int)
		if !id.ReadASN1(&is, cbasn1.SEQUENCE) || !is.ReadASN1(&names, cbasn1.SEQUENCE) || !is.ReadASN1Integer(serial) {
			return nil, fmt.Errorf("%w: signing-certificate issuer and serial", ErrEncoding)
		}
		r.Serial = serial
		// The directoryName [4] choice holds the issuer's Name.
		if names.ReadASN1(&name, cbasn1.Tag(4).Constructed().ContextSpecific()) {
			var n cryptobyte.String
			if name.ReadASN1Element(&n, cbasn1.SEQUENCE) {
				r.Issuer = n
			}
		}
	}
	return r, nil
}

// Signer returns the certificate si names among certs (by issuer and
// serial, or by subject key identifier), or nil.
func (si *SignerInfo) Signer(certs ...[]*x509.Certificate) *x509.Certificate {
	if all := si.Candidates(certs...); len(all) > 0 {
		return all[0]
	}
	return nil
}

// Candidates returns every certificate among certs that si names. The
// certificate set is not signed: someone may add one with the same issuer
// and serial but another key, which must not make the signature look
// broken, so a verifier tries each.
func (si *SignerInfo) Candidates(certs ...[]*x509.Certificate) []*x509.Certificate {
	var out []*x509.Certificate
	for _, list := range certs {
		for _, c := range list {
			if si.KeyID != nil {
				if bytes.Equal(c.SubjectKeyId, si.KeyID) || bytes.Equal(keyID(c), si.KeyID) {
					out = append(out, c)
				}
				continue
			}
			if c.SerialNumber.Cmp(si.Serial) == 0 && bytes.Equal(c.RawIssuer, si.Issuer) {
				out = append(out, c)
			}
		}
	}
	return out
}

// keyID is the SHA-1 of the certificate's public key bits (RFC 5280
// §4.2.1.2 method 1), for certificates without the extension.
func keyID(c *x509.Certificate) []byte {
	bits, ok := spkiPoint(c.RawSubjectPublicKeyInfo)
	if !ok {
		return nil
	}
	h := sha1.Sum(bits)
	return h[:]
}

// ParseCertsOnly reads the certificates of a certs-only SignedData (a .p7c
// or .p7b bundle, as caIssuers addresses serve them), which Parse refuses
// for having no signer.
func ParseCertsOnly(b []byte) ([]*x509.Certificate, error) {
	der, err := toDER(b)
	if err != nil {
		return nil, err
	}
	in := cryptobyte.String(der)
	var ci, content, sd, skip cryptobyte.String
	var ct asn1.ObjectIdentifier
	var version int64
	if !in.ReadASN1(&ci, cbasn1.SEQUENCE) || !ci.ReadASN1ObjectIdentifier(&ct) || !ct.Equal(OIDSignedData) ||
		!ci.ReadASN1(&content, cbasn1.Tag(0).Constructed().ContextSpecific()) || !content.ReadASN1(&sd, cbasn1.SEQUENCE) ||
		!sd.ReadASN1Integer(&version) || !sd.ReadASN1(&skip, cbasn1.SET) || !sd.ReadASN1(&skip, cbasn1.SEQUENCE) {
		return nil, fmt.Errorf("%w: not a certificate bundle", ErrEncoding)
	}
	var certs cryptobyte.String
	if !sd.ReadASN1(&certs, cbasn1.Tag(0).Constructed().ContextSpecific()) {
		return nil, fmt.Errorf("%w: no certificates", ErrEncoding)
	}
	var out []*x509.Certificate
	for !certs.Empty() {
		var elem cryptobyte.String
		var tag cbasn1.Tag
		if !certs.ReadAnyASN1Element(&elem, &tag) {
			return nil, fmt.Errorf("%w: certificates", ErrEncoding)
		}
		if c, err := ParseCertificate(elem); err == nil && tag == cbasn1.SEQUENCE {
			out = append(out, c)
		}
	}
	return out, nil
}
