package testenv

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/sha1"
	"encoding/asn1"
	"fmt"
	"slices"
	"testing"
	"time"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

// A SignedData assembled here for what openssl cms -sign (OpenSSL 3.0)
// cannot write: an ESS signing-certificate (v1, SHA-1 ESSCertID) beside a
// SHA-2 message digest, and Ed25519 signers (RFC 8419; OpenSSL CMS learnt
// EdDSA in 3.2). The structure is RFC 5652's; the signature value over the
// signed attributes comes from openssl (dgst -sign, or pkeyutl -rawin for
// Ed25519), so a wrong assembly shows as a signature no validator accepts.

// AssembledSpec says what the assembled SignedData carries.
type AssembledSpec struct {
	Digest crypto.Hash // message digest: crypto.SHA256, SHA384, SHA512
	// SigningCertV1 adds an ESS signing-certificate attribute (RFC 2634,
	// 5.4) with the SHA-1 of the signer's certificate; IssuerSerial adds
	// the optional issuerSerial to its ESSCertID.
	SigningCertV1, IssuerSerial bool
	SigningTime                 bool // a signing-time attribute (not for PAdES)
}

var (
	oidData          = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 7, 1}
	oidSignedData    = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 7, 2}
	oidContentType   = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 3}
	oidMessageDigest = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 4}
	oidSigningTime   = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 5}
	oidSigningCertV1 = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 16, 2, 12}
	oidRSA           = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 1}
	oidEd25519       = asn1.ObjectIdentifier{1, 3, 101, 112}
	oidDigests       = map[crypto.Hash]asn1.ObjectIdentifier{
		crypto.SHA256: {2, 16, 840, 1, 101, 3, 4, 2, 1},
		crypto.SHA384: {2, 16, 840, 1, 101, 3, 4, 2, 2},
		crypto.SHA512: {2, 16, 840, 1, 101, 3, 4, 2, 3},
	}
	oidECDSAWith = map[crypto.Hash]asn1.ObjectIdentifier{
		crypto.SHA256: {1, 2, 840, 10045, 4, 3, 2},
		crypto.SHA384: {1, 2, 840, 10045, 4, 3, 3},
		crypto.SHA512: {1, 2, 840, 10045, 4, 3, 4},
	}
	opensslDigest = map[crypto.Hash]string{crypto.SHA256: "sha256", crypto.SHA384: "sha384", crypto.SHA512: "sha512"}
)

// AssembleCMS returns a detached SignedData over content, signed by the
// PKI's signer, with the signer's and the issuing CA's certificates.
func AssembleCMS(t testing.TB, p *SignerPKI, content []byte, s AssembledSpec) ([]byte, error) {
	t.Helper()
	Require(t, "openssl")
	digestOID, sigAlg, md, err := assembledAlgorithms(p, s)
	if err != nil {
		return nil, err
	}
	h := s.Digest.New()
	h.Write(content)
	signedAttrs := assembledSignedAttrs(p, s, h.Sum(nil))
	sig, err := opensslSign(t, p, md, signedAttrs) // over the SET OF, tag 0x31 (RFC 5652, 5.4)
	if err != nil {
		return nil, err
	}
	return assembledSignedData(p, digestOID, sigAlg, signedAttrs, sig)
}

// assembledAlgorithms are the digest and signature algorithms of spec s
// for the PKI's key, and openssl's name of the digest ("" for Ed25519,
// which hashes itself).
func assembledAlgorithms(p *SignerPKI, s AssembledSpec) (digestOID, sigAlg asn1.ObjectIdentifier, md string, err error) {
	digestOID, ok := oidDigests[s.Digest]
	if !ok {
		return nil, nil, "", fmt.Errorf("testenv: no assembled CMS with digest %v", s.Digest)
	}
	md = opensslDigest[s.Digest]
	switch p.Key.(type) {
	case *rsa.PrivateKey:
		sigAlg = oidRSA
	case *ecdsa.PrivateKey:
		sigAlg = oidECDSAWith[s.Digest]
	case ed25519.PrivateKey:
		if s.Digest != crypto.SHA512 {
			return nil, nil, "", fmt.Errorf("testenv: Ed25519 in CMS digests with SHA-512 (RFC 8419, 3.1)")
		}
		sigAlg, md = oidEd25519, ""
	default:
		return nil, nil, "", fmt.Errorf("testenv: no assembled CMS for a %T", p.Key)
	}
	return digestOID, sigAlg, md, nil
}

// assembledSignedAttrs is the DER SET OF the signed attributes: content
// type, message digest, and the signing time and ESS signing-certificate
// when s asks.
func assembledSignedAttrs(p *SignerPKI, s AssembledSpec, digest []byte) []byte {
	var attrs [][]byte
	attr := func(oid asn1.ObjectIdentifier, value func(*cryptobyte.Builder)) {
		var b cryptobyte.Builder
		b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
			b.AddASN1ObjectIdentifier(oid)
			b.AddASN1(cbasn1.SET, value)
		})
		attrs = append(attrs, b.BytesOrPanic())
	}
	attr(oidContentType, func(b *cryptobyte.Builder) { b.AddASN1ObjectIdentifier(oidData) })
	if s.SigningTime {
		attr(oidSigningTime, func(b *cryptobyte.Builder) { b.AddASN1UTCTime(time.Now().UTC().Truncate(time.Second)) })
	}
	attr(oidMessageDigest, func(b *cryptobyte.Builder) { b.AddASN1OctetString(digest) })
	if s.SigningCertV1 {
		attr(oidSigningCertV1, func(b *cryptobyte.Builder) { signingCertificateV1(b, p, s.IssuerSerial) })
	}
	// DER orders a SET OF by the encodings of its elements (X.690, 11.6).
	slices.SortFunc(attrs, bytes.Compare)
	var set cryptobyte.Builder
	set.AddASN1(cbasn1.SET, func(b *cryptobyte.Builder) {
		for _, a := range attrs {
			b.AddBytes(a)
		}
	})
	return set.BytesOrPanic()
}

// signingCertificateV1 adds an ESS SigningCertificate (RFC 2634, 5.4) for
// the PKI's signer: the SHA-1 of its certificate, and its issuer and
// serial number when issuerSerial.
func signingCertificateV1(b *cryptobyte.Builder, p *SignerPKI, issuerSerial bool) {
	certHash := sha1.Sum(p.Leaf.Raw)
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) { // SigningCertificate
		b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) { // certs
			b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) { // ESSCertID
				b.AddASN1OctetString(certHash[:])
				if !issuerSerial {
					return
				}
				b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) { // IssuerSerial
					b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) { // GeneralNames
						b.AddASN1(cbasn1.Tag(4).ContextSpecific().Constructed(), func(b *cryptobyte.Builder) {
							b.AddBytes(p.Leaf.RawIssuer) // directoryName
						})
					})
					b.AddASN1BigInt(p.Leaf.SerialNumber)
				})
			})
		})
	})
}

// assembledSignedData is the ContentInfo of a detached SignedData with
// the signer's and the issuing CA's certificates and one SignerInfo.
func assembledSignedData(p *SignerPKI, digestOID, sigAlg asn1.ObjectIdentifier, signedAttrs, sig []byte) ([]byte, error) {
	algID := func(b *cryptobyte.Builder, oid asn1.ObjectIdentifier, null bool) {
		b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
			b.AddASN1ObjectIdentifier(oid)
			if null {
				b.AddASN1NULL()
			}
		})
	}
	var ci cryptobyte.Builder
	ci.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) { // ContentInfo
		b.AddASN1ObjectIdentifier(oidSignedData)
		b.AddASN1(cbasn1.Tag(0).ContextSpecific().Constructed(), func(b *cryptobyte.Builder) {
			b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) { // SignedData
				b.AddASN1Int64(1)
				b.AddASN1(cbasn1.SET, func(b *cryptobyte.Builder) { algID(b, digestOID, false) })
				b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) { b.AddASN1ObjectIdentifier(oidData) })
				b.AddASN1(cbasn1.Tag(0).ContextSpecific().Constructed(), func(b *cryptobyte.Builder) {
					b.AddBytes(p.Leaf.Raw)
					b.AddBytes(p.Issuing.Raw)
				})
				b.AddASN1(cbasn1.SET, func(b *cryptobyte.Builder) {
					b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) { // SignerInfo
						b.AddASN1Int64(1)
						b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) { // IssuerAndSerialNumber
							b.AddBytes(p.Leaf.RawIssuer)
							b.AddASN1BigInt(p.Leaf.SerialNumber)
						})
						algID(b, digestOID, false)
						b.AddASN1(cbasn1.Tag(0).ContextSpecific().Constructed(), func(b *cryptobyte.Builder) {
							b.AddBytes(signedAttrs[len(signedAttrs)-setBodyLen(signedAttrs):])
						})
						algID(b, sigAlg, sigAlg.Equal(oidRSA))
						b.AddASN1OctetString(sig)
					})
				})
			})
		})
	})
	return ci.Bytes()
}

// setBodyLen is the length of a DER element's contents.
func setBodyLen(der []byte) int {
	e, err := readBER(der, 0, 0)
	if err != nil {
		return 0
	}
	return e.bodyEnd - e.body
}

// SignAssembled signs OnePagePDF with subFilter and an AssembleCMS
// SignedData over the signed bytes.
func SignAssembled(t testing.TB, p *SignerPKI, subFilter string, s AssembledSpec) ([]byte, error) {
	t.Helper()
	d := SigDict{SubFilter: subFilter, Reason: "assembled CMS, openssl signature", Time: time.Now()}
	return SignOnePage(d, func(signed []byte) ([]byte, error) { return AssembleCMS(t, p, signed, s) })
}
