package pdf

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"errors"
	"fmt"
	"math/big"
)

// The CMS (RFC 5652) SignedData of a PAdES baseline signature (ETSI EN
// 319 142-1, CAdES detached): signed attributes content-type,
// message-digest and signing-certificate-v2 — no signing-time, the claimed
// time is the signature dictionary's /M — and, for B-T, a signature
// time-stamp token as an unsigned attribute.

var (
	oidData                 = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 7, 1}
	oidSignedData           = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 7, 2}
	oidContentType          = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 3}
	oidMessageDigest        = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 4}
	oidSigningCertificateV2 = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 16, 2, 47}
	oidTimeStampToken       = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 16, 2, 14}
	oidSHA256               = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 1}
	oidECDSAWithSHA256      = asn1.ObjectIdentifier{1, 2, 840, 10045, 4, 3, 2}
	oidRSAEncryption        = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 1}
)

type attribute struct {
	Type   asn1.ObjectIdentifier
	Values []asn1.RawValue `asn1:"set"`
}

type issuerAndSerial struct {
	Issuer asn1.RawValue
	Serial *big.Int
}

type signerInfo struct {
	Version            int
	SID                issuerAndSerial
	DigestAlgorithm    pkix.AlgorithmIdentifier
	SignedAttrs        asn1.RawValue `asn1:"optional,tag:0"`
	SignatureAlgorithm pkix.AlgorithmIdentifier
	Signature          []byte
	UnsignedAttrs      []attribute `asn1:"optional,set,tag:1"`
}

type encapContent struct {
	Type asn1.ObjectIdentifier
}

type signedData struct {
	Version          int
	DigestAlgorithms []pkix.AlgorithmIdentifier `asn1:"set"`
	EncapContentInfo encapContent
	Certificates     asn1.RawValue `asn1:"optional,tag:0"`
	SignerInfos      []signerInfo  `asn1:"set"`
}

type contentInfo struct {
	Type    asn1.ObjectIdentifier
	Content asn1.RawValue // [0] EXPLICIT, built by hand
}

// ESS signing-certificate-v2 (RFC 5035); SHA-256 is the default hash and
// so is left out of ESSCertIDv2.
type essCertIDv2 struct {
	Hash         []byte
	IssuerSerial struct {
		Issuer []asn1.RawValue // GeneralNames: [4] directoryName
		Serial *big.Int
	}
}

type signingCertificateV2 struct {
	Certs []essCertIDv2
}

var sha256Alg = pkix.AlgorithmIdentifier{Algorithm: oidSHA256, Parameters: asn1.NullRawValue}

func mustMarshal(v any) []byte {
	b, err := asn1.Marshal(v)
	if err != nil {
		panic(err) // only fixed structures reach here
	}
	return b
}

func attr(oid asn1.ObjectIdentifier, value any) attribute {
	return attribute{Type: oid, Values: []asn1.RawValue{{FullBytes: mustMarshal(value)}}}
}

// signedAttributes returns the DER of the SET OF signed attributes.
func signedAttributes(digest []byte, leaf *x509.Certificate) []byte {
	certHash := sha256.Sum256(leaf.Raw)
	var id essCertIDv2
	id.Hash = certHash[:]
	id.IssuerSerial.Issuer = []asn1.RawValue{{Class: asn1.ClassContextSpecific, Tag: 4, IsCompound: true, Bytes: leaf.RawIssuer}}
	id.IssuerSerial.Serial = leaf.SerialNumber
	attrs := []attribute{
		attr(oidContentType, oidData),
		attr(oidMessageDigest, digest),
		attr(oidSigningCertificateV2, signingCertificateV2{Certs: []essCertIDv2{id}}),
	}
	// DER sorts SET OF elements; marshalling as a set does that.
	b, _ := asn1.Marshal(struct {
		A []attribute `asn1:"set"`
	}{attrs})
	// Strip the outer SEQUENCE of the struct: keep the SET.
	var raw struct{ A asn1.RawValue }
	asn1.Unmarshal(b, &raw)
	return raw.A.FullBytes
}

func signatureAlgorithm(pub any) (pkix.AlgorithmIdentifier, error) {
	switch pub.(type) {
	case *ecdsa.PublicKey:
		return pkix.AlgorithmIdentifier{Algorithm: oidECDSAWithSHA256}, nil
	case *rsa.PublicKey:
		return pkix.AlgorithmIdentifier{Algorithm: oidRSAEncryption, Parameters: asn1.NullRawValue}, nil
	}
	return pkix.AlgorithmIdentifier{}, fmt.Errorf("pdf: unsupported key type %T", pub)
}

// maxSignatureLen is the longest signature key can make.
func maxSignatureLen(pub any) int {
	switch k := pub.(type) {
	case *ecdsa.PublicKey:
		n := (k.Curve.Params().BitSize + 7) / 8
		return 2*(n+3) + 3 // SEQUENCE of two INTEGERs, each possibly with a 0x00 pad
	case *rsa.PublicKey:
		return k.Size()
	}
	return 512
}

// cmsBuilder builds the SignedData of one signature.
type cmsBuilder struct {
	signer crypto.Signer
	chain  []*x509.Certificate // leaf first; embedded as is
}

// build signs digest (the SHA-256 of the ByteRange bytes) and returns the
// DER ContentInfo and the signature value (which a time-stamp covers).
// timestamp, when not nil, gets the signature value and returns the token.
func (c *cmsBuilder) build(digest []byte, timestamp func(sig []byte) ([]byte, error)) ([]byte, error) {
	leaf := c.chain[0]
	algo, err := signatureAlgorithm(leaf.PublicKey)
	if err != nil {
		return nil, err
	}
	signed := signedAttributes(digest, leaf)
	h := sha256.Sum256(signed)
	sig, err := c.signer.Sign(rand.Reader, h[:], crypto.SHA256)
	if err != nil {
		return nil, fmt.Errorf("pdf: signing: %w", err)
	}
	var unsigned []attribute
	if timestamp != nil {
		token, err := timestamp(sig)
		if err != nil {
			return nil, err
		}
		unsigned = append(unsigned, attribute{Type: oidTimeStampToken, Values: []asn1.RawValue{{FullBytes: token}}})
	}
	return c.assemble(signed, algo, sig, unsigned)
}

func (c *cmsBuilder) assemble(signed []byte, algo pkix.AlgorithmIdentifier, sig []byte, unsigned []attribute) ([]byte, error) {
	leaf := c.chain[0]
	// [0] IMPLICIT SET OF: same content as the SET, context tag 0.
	var set asn1.RawValue
	if _, err := asn1.Unmarshal(signed, &set); err != nil {
		return nil, err
	}
	var certs []byte
	for _, cert := range c.chain {
		certs = append(certs, cert.Raw...)
	}
	sd := signedData{
		Version:          1,
		DigestAlgorithms: []pkix.AlgorithmIdentifier{sha256Alg},
		EncapContentInfo: encapContent{Type: oidData},
		Certificates:     asn1.RawValue{Class: asn1.ClassContextSpecific, Tag: 0, IsCompound: true, Bytes: certs},
		SignerInfos: []signerInfo{{
			Version:            1,
			SID:                issuerAndSerial{Issuer: asn1.RawValue{FullBytes: leaf.RawIssuer}, Serial: leaf.SerialNumber},
			DigestAlgorithm:    sha256Alg,
			SignedAttrs:        asn1.RawValue{Class: asn1.ClassContextSpecific, Tag: 0, IsCompound: true, Bytes: set.Bytes},
			SignatureAlgorithm: algo,
			Signature:          sig,
			UnsignedAttrs:      unsigned,
		}},
	}
	inner, err := asn1.Marshal(sd)
	if err != nil {
		return nil, fmt.Errorf("pdf: CMS: %w", err)
	}
	return asn1.Marshal(contentInfo{Type: oidSignedData, Content: asn1.RawValue{Class: asn1.ClassContextSpecific, Tag: 0, IsCompound: true, Bytes: inner}})
}

// size is the longest SignedData build can produce with a time-stamp token
// like sample (nil without one): what the /Contents placeholder must hold.
func (c *cmsBuilder) size(sample []byte) (int, error) {
	leaf := c.chain[0]
	algo, err := signatureAlgorithm(leaf.PublicKey)
	if err != nil {
		return 0, err
	}
	signed := signedAttributes(make([]byte, sha256.Size), leaf)
	sig := make([]byte, maxSignatureLen(leaf.PublicKey))
	var unsigned []attribute
	if sample != nil {
		unsigned = append(unsigned, attribute{Type: oidTimeStampToken, Values: []asn1.RawValue{{FullBytes: sample}}})
	}
	der, err := c.assemble(signed, algo, sig, unsigned)
	if err != nil {
		return 0, err
	}
	return len(der), nil
}

var errChain = errors.New("pdf: the signer has no certificate")
