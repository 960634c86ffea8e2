package ca

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/asn1"
	"fmt"
	"math/big"
	"slices"
	"time"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

// The time-stamping authority's replies granting a time-stamp (RFC 3161
// §2.4.2), written with cryptobyte: the TSA's hot path, where
// encoding/asn1's reflection (through digitorus/timestamp and pkcs7) cost
// as much as the signature. The token is a CMS SignedData (RFC 5652)
// over the TSTInfo, signed by the TSA's key with SHA-256, its signed
// attributes those RFC 3161 and RFC 5816 ask for: content type, message
// digest, signing time and the ESS signing certificate v2 (the TSA's
// certificate hashed with SHA-256, the default, so not named).

var (
	oidSignedData      = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 7, 2}
	oidTSTInfo         = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 16, 1, 4}
	oidContentType     = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 3}
	oidMessageDigest   = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 4}
	oidSigningTime     = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 5}
	oidSigningCertV2   = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 16, 2, 47}
	oidSHA256          = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 1}
	tsaImprintHashOIDs = map[crypto.Hash]asn1.ObjectIdentifier{
		crypto.SHA256: oidSHA256,
		crypto.SHA384: {2, 16, 840, 1, 101, 3, 4, 2, 2},
		crypto.SHA512: {2, 16, 840, 1, 101, 3, 4, 2, 3},
	}
)

// tstRequest is what a granted time-stamp takes from its request.
type tstRequest struct {
	hash     crypto.Hash // of the imprint: SHA-256, -384 or -512
	imprint  []byte
	nonce    *big.Int // nil: none
	withCert bool     // certReq: the TSA's certificate in the token
}

// grantTimestamp writes the reply granting q at now, its token signed by
// key for cert, serial its serial number (TSTInfo.serialNumber).
func grantTimestamp(cert *x509.Certificate, key crypto.Signer, q tstRequest, serial *big.Int, now time.Time) ([]byte, error) {
	hashOID, ok := tsaImprintHashOIDs[q.hash]
	if !ok {
		return nil, fmt.Errorf("ca: time-stamp: unsupported imprint hash %v", q.hash)
	}
	sigAlg, err := tsaSignatureAlgorithm(key.Public())
	if err != nil {
		return nil, err
	}
	tst, err := tstInfo(cert, q, hashOID, serial, now)
	if err != nil {
		return nil, err
	}
	attrs, err := tsaSignedAttributes(cert, tst, now)
	if err != nil {
		return nil, err
	}
	set := cryptobyte.NewBuilder(nil)
	set.AddASN1(cbasn1.SET, func(b *cryptobyte.Builder) { b.AddBytes(attrs) })
	signed, err := set.Bytes()
	if err != nil {
		return nil, err
	}
	digest := sha256.Sum256(signed)
	sig, err := key.Sign(rand.Reader, digest[:], crypto.SHA256)
	if err != nil {
		return nil, fmt.Errorf("ca: time-stamp: %w", err)
	}
	b := cryptobyte.NewBuilder(nil)
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) { // TimeStampResp
		b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) { b.AddASN1Int64(0) }) // PKIStatusInfo: granted
		b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {                      // ContentInfo
			b.AddASN1ObjectIdentifier(oidSignedData)
			b.AddASN1(cbasn1.Tag(0).Constructed().ContextSpecific(), func(b *cryptobyte.Builder) {
				tsaSignedData(b, cert, q.withCert, tst, attrs, sigAlg, sig)
			})
		})
	})
	return b.Bytes()
}

// tstInfo writes the TSTInfo (RFC 3161 §2.4.2): version 1, the TSA's
// policy, the imprint, the serial, the time to the second with an
// accuracy of one second, not ordered, the nonce, and the TSA's name.
func tstInfo(cert *x509.Certificate, q tstRequest, hashOID asn1.ObjectIdentifier, serial *big.Int, now time.Time) ([]byte, error) {
	b := cryptobyte.NewBuilder(nil)
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddASN1Int64(1)
		b.AddASN1ObjectIdentifier(oidTSAPolicy)
		b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) { // MessageImprint
			b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
				b.AddASN1ObjectIdentifier(hashOID)
				b.AddASN1NULL()
			})
			b.AddASN1OctetString(q.imprint)
		})
		b.AddASN1BigInt(serial)
		b.AddASN1GeneralizedTime(now.UTC().Truncate(time.Second))
		b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) { b.AddASN1Int64(1) }) // Accuracy: seconds
		if q.nonce != nil {
			b.AddASN1BigInt(q.nonce)
		}
		b.AddASN1(cbasn1.Tag(0).Constructed().ContextSpecific(), func(b *cryptobyte.Builder) { // tsa [0] GeneralName
			b.AddASN1(cbasn1.Tag(4).Constructed().ContextSpecific(), func(b *cryptobyte.Builder) { // directoryName
				b.AddBytes(cert.RawSubject)
			})
		})
	})
	return b.Bytes()
}

// tsaSignedAttributes writes the signed attributes: the content of their
// SET OF, its elements in the order DER gives them (signed under the SET
// tag, written in the SignerInfo under [0] IMPLICIT).
func tsaSignedAttributes(cert *x509.Certificate, tst []byte, now time.Time) ([]byte, error) {
	tstDigest := sha256.Sum256(tst)
	certHash := sha256.Sum256(cert.Raw)
	var attrs [][]byte
	for _, a := range []struct {
		oid   asn1.ObjectIdentifier
		value func(*cryptobyte.Builder)
	}{
		{oidContentType, func(b *cryptobyte.Builder) { b.AddASN1ObjectIdentifier(oidTSTInfo) }},
		{oidMessageDigest, func(b *cryptobyte.Builder) { b.AddASN1OctetString(tstDigest[:]) }},
		{oidSigningTime, func(b *cryptobyte.Builder) { b.AddASN1UTCTime(now.UTC().Truncate(time.Second)) }},
		{oidSigningCertV2, func(b *cryptobyte.Builder) {
			b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) { // SigningCertificateV2
				b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) { // certs
					b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) { // ESSCertIDv2, SHA-256
						b.AddASN1OctetString(certHash[:])
						b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) { // IssuerSerial
							b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) { // GeneralNames
								b.AddASN1(cbasn1.Tag(4).Constructed().ContextSpecific(), func(b *cryptobyte.Builder) {
									b.AddBytes(cert.RawIssuer)
								})
							})
							b.AddASN1BigInt(cert.SerialNumber)
						})
					})
				})
			})
		}},
	} {
		b := cryptobyte.NewBuilder(nil)
		b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
			b.AddASN1ObjectIdentifier(a.oid)
			b.AddASN1(cbasn1.SET, a.value)
		})
		der, err := b.Bytes()
		if err != nil {
			return nil, err
		}
		attrs = append(attrs, der)
	}
	slices.SortFunc(attrs, bytes.Compare)
	return bytes.Join(attrs, nil), nil
}

// tsaSignedData writes the SignedData of the token: version 3 (an
// encapsulated content other than data), SHA-256, the TSTInfo, the TSA's
// certificate when asked for, one SignerInfo naming it by issuer and
// serial, its signed attributes attrs (their SET's content).
func tsaSignedData(b *cryptobyte.Builder, cert *x509.Certificate, withCert bool, tst, attrs, sigAlg, sig []byte) {
	sha256Alg := func(b *cryptobyte.Builder) {
		b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) { b.AddASN1ObjectIdentifier(oidSHA256) })
	}
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddASN1Int64(3)
		b.AddASN1(cbasn1.SET, sha256Alg)
		b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) { // EncapsulatedContentInfo
			b.AddASN1ObjectIdentifier(oidTSTInfo)
			b.AddASN1(cbasn1.Tag(0).Constructed().ContextSpecific(), func(b *cryptobyte.Builder) { b.AddASN1OctetString(tst) })
		})
		if withCert {
			b.AddASN1(cbasn1.Tag(0).Constructed().ContextSpecific(), func(b *cryptobyte.Builder) { b.AddBytes(cert.Raw) })
		}
		b.AddASN1(cbasn1.SET, func(b *cryptobyte.Builder) {
			b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) { // SignerInfo
				b.AddASN1Int64(1)
				b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) { // IssuerAndSerialNumber
					b.AddBytes(cert.RawIssuer)
					b.AddASN1BigInt(cert.SerialNumber)
				})
				sha256Alg(b)
				b.AddASN1(cbasn1.Tag(0).Constructed().ContextSpecific(), func(b *cryptobyte.Builder) {
					b.AddBytes(attrs)
				})
				b.AddBytes(sigAlg)
				b.AddASN1OctetString(sig)
			})
		})
	})
}

// tsaSignatureAlgorithm is the AlgorithmIdentifier of a signature with
// SHA-256 by a key with this public part.
func tsaSignatureAlgorithm(pub crypto.PublicKey) ([]byte, error) {
	b := cryptobyte.NewBuilder(nil)
	switch pub.(type) {
	case *ecdsa.PublicKey:
		b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) { b.AddASN1ObjectIdentifier(oidECDSAWithSHA256) })
	case *rsa.PublicKey:
		b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
			b.AddASN1ObjectIdentifier(oidSHA256WithRSA)
			b.AddASN1NULL()
		})
	default:
		return nil, fmt.Errorf("ca: time-stamp: unsupported key %T", pub)
	}
	return b.Bytes()
}
