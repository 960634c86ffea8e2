package cms

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
	"time"
)

// Building: the SignedData of one signer as ETSI's baseline signatures want
// it (EN 319 122-1 for CAdES, EN 319 142-1 for PAdES): SHA-256, signed
// attributes content-type, message-digest, signing-certificate-v2 and,
// for CAdES, signing-time; a signature time-stamp as an unsigned
// attribute (B-T); certificates and revocation data in the SignedData's
// own fields (B-LT). The SignedData is written detached, in DER, or with
// its content streamed in (AttachedWriter), in BER.

var (
	oidSHA256          = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 1}
	oidECDSAWithSHA256 = asn1.ObjectIdentifier{1, 2, 840, 10045, 4, 3, 2}
	oidRSAEncryption   = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 1}
	sha256Alg          = pkix.AlgorithmIdentifier{Algorithm: oidSHA256, Parameters: asn1.NullRawValue}
)

// ErrNoCertificate is returned by a Builder without a chain.
var ErrNoCertificate = errors.New("cms: the signer has no certificate")

// Builder makes the SignedData of one signer.
type Builder struct {
	Key   crypto.Signer
	Chain []*x509.Certificate // leaf first; embedded as is
	// SigningTime, when not zero, is written as the signing-time
	// attribute: CAdES wants it; PAdES does not (its claimed time is the
	// signature dictionary's /M).
	SigningTime time.Time
}

// Signature is a signer's part of a SignedData: the signed attributes, the
// signature value over them and the unsigned attributes.
type Signature struct {
	signed   []byte // DER of the SET OF signed attributes
	algo     pkix.AlgorithmIdentifier
	Value    []byte // what a signature time-stamp covers
	unsigned []rawAttribute
}

// Validation is what a SignedData carries for validating it later without
// the network (CAdES B-LT): certificates besides the signer's chain,
// CRLs and OCSP responses (DER OCSPResponse), written in the certificates
// and crls fields.
type Validation struct {
	Certs       []*x509.Certificate
	CRLs, OCSPs [][]byte
}

type rawAttribute struct {
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
	UnsignedAttrs      []rawAttribute `asn1:"optional,set,tag:1"`
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

func mustMarshal(v any) []byte {
	b, err := asn1.Marshal(v)
	if err != nil {
		panic(err) // only fixed structures reach here
	}
	return b
}

func attr(oid asn1.ObjectIdentifier, value any) rawAttribute {
	return rawAttribute{Type: oid, Values: []asn1.RawValue{{FullBytes: mustMarshal(value)}}}
}

// signedAttributes returns the DER of the SET OF signed attributes.
func (b *Builder) signedAttributes(digest []byte) []byte {
	leaf := b.Chain[0]
	certHash := sha256.Sum256(leaf.Raw)
	var id essCertIDv2
	id.Hash = certHash[:]
	id.IssuerSerial.Issuer = []asn1.RawValue{{Class: asn1.ClassContextSpecific, Tag: 4, IsCompound: true, Bytes: leaf.RawIssuer}}
	id.IssuerSerial.Serial = leaf.SerialNumber
	attrs := []rawAttribute{
		attr(OIDContentType, OIDData),
		attr(OIDMessageDigest, digest),
		attr(OIDSigningCertificateV2, signingCertificateV2{Certs: []essCertIDv2{id}}),
	}
	if !b.SigningTime.IsZero() {
		// UTCTime until 2049, GeneralizedTime after (RFC 5652 §11.3), in
		// UTC and whole seconds as DER wants.
		attrs = append(attrs, attr(OIDSigningTime, b.SigningTime.UTC().Truncate(time.Second)))
	}
	// DER sorts SET OF elements; marshalling as a set does that.
	der := mustMarshal(struct {
		A []rawAttribute `asn1:"set"`
	}{attrs})
	// Strip the outer SEQUENCE of the struct: keep the SET.
	var raw struct{ A asn1.RawValue }
	asn1.Unmarshal(der, &raw)
	return raw.A.FullBytes
}

func signatureAlgorithm(pub any) (pkix.AlgorithmIdentifier, error) {
	switch pub.(type) {
	case *ecdsa.PublicKey:
		return pkix.AlgorithmIdentifier{Algorithm: oidECDSAWithSHA256}, nil
	case *rsa.PublicKey:
		return pkix.AlgorithmIdentifier{Algorithm: oidRSAEncryption, Parameters: asn1.NullRawValue}, nil
	}
	return pkix.AlgorithmIdentifier{}, fmt.Errorf("%w: key type %T", ErrUnsupportedAlgorithm, pub)
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

// Sign signs content whose SHA-256 is digest.
func (b *Builder) Sign(digest []byte) (*Signature, error) {
	if len(b.Chain) == 0 {
		return nil, ErrNoCertificate
	}
	algo, err := signatureAlgorithm(b.Chain[0].PublicKey)
	if err != nil {
		return nil, err
	}
	signed := b.signedAttributes(digest)
	h := sha256.Sum256(signed)
	sig, err := b.Key.Sign(rand.Reader, h[:], crypto.SHA256)
	if err != nil {
		return nil, fmt.Errorf("cms: signing: %w", err)
	}
	return &Signature{signed: signed, algo: algo, Value: sig}, nil
}

// AddTimestamp adds a signature time-stamp token (a ContentInfo over the
// signature value) as the unsigned attribute id-aa-timeStampToken.
func (s *Signature) AddTimestamp(token []byte) {
	s.unsigned = append(s.unsigned, rawAttribute{Type: OIDTimeStampToken, Values: []asn1.RawValue{{FullBytes: token}}})
}

// signerInfo returns the DER of s's SignerInfo.
func (b *Builder) signerInfo(s *Signature) ([]byte, error) {
	leaf := b.Chain[0]
	// [0] IMPLICIT SET OF: the SET's content under context tag 0.
	var set asn1.RawValue
	if _, err := asn1.Unmarshal(s.signed, &set); err != nil {
		return nil, err
	}
	der, err := asn1.Marshal(signerInfo{
		Version:            1,
		SID:                issuerAndSerial{Issuer: asn1.RawValue{FullBytes: leaf.RawIssuer}, Serial: leaf.SerialNumber},
		DigestAlgorithm:    sha256Alg,
		SignedAttrs:        asn1.RawValue{Class: asn1.ClassContextSpecific, Tag: 0, IsCompound: true, Bytes: set.Bytes},
		SignatureAlgorithm: s.algo,
		Signature:          s.Value,
		UnsignedAttrs:      s.unsigned,
	})
	if err != nil {
		return nil, fmt.Errorf("cms: %w", err)
	}
	return der, nil
}

// fields returns, for s and v, the SignedData's version and the DER of
// what follows its encapsulated content: certificates [0], crls [1] and
// the SET OF one SignerInfo.
func (b *Builder) fields(s *Signature, v *Validation) (int, []byte, error) {
	si, err := b.signerInfo(s)
	if err != nil {
		return 0, nil, err
	}
	var certs []byte
	seen := map[string]bool{}
	add := func(c *x509.Certificate) {
		if !seen[string(c.Raw)] {
			seen[string(c.Raw)] = true
			certs = append(certs, c.Raw...)
		}
	}
	for _, c := range b.Chain {
		add(c)
	}
	var crls []byte
	if v != nil {
		for _, c := range v.Certs {
			add(c)
		}
		for _, c := range v.CRLs {
			crls = append(crls, c...)
		}
		for _, o := range v.OCSPs {
			// OtherRevocationInfoFormat (RFC 5940): id-ri-ocsp-response
			// and the OCSPResponse, under [1] IMPLICIT.
			body := append(mustMarshal(OIDRevocationOCSP), o...)
			crls = appendElement(crls, []byte{0xa1}, body)
		}
	}
	out := appendElement(nil, []byte{0xa0}, certs)
	if len(crls) > 0 {
		out = appendElement(out, []byte{0xa1}, crls)
	}
	out = appendElement(out, []byte{0x31}, si)
	return versionFor(v), out, nil
}

// digestAlgorithms is the DER of the SignedData's digestAlgorithms SET.
var digestAlgorithms = appendElement(nil, []byte{0x31}, mustMarshal(sha256Alg))

// Detached returns the DER ContentInfo of a SignedData with s's signer,
// the chain and v, and no content (a .p7s, a PDF's /Contents).
func (b *Builder) Detached(s *Signature, v *Validation) ([]byte, error) {
	version, fields, err := b.fields(s, v)
	if err != nil {
		return nil, err
	}
	sd := mustMarshal(version)
	sd = append(sd, digestAlgorithms...)
	sd = appendElement(sd, []byte{0x30}, mustMarshal(OIDData))
	sd = append(sd, fields...)
	inner := appendElement(nil, []byte{0x30}, sd)
	ci := append(mustMarshal(OIDSignedData), appendElement(nil, []byte{0xa0}, inner)...)
	return appendElement(nil, []byte{0x30}, ci), nil
}

// MaxDetachedSize is the longest Detached can be for this signer, with no
// validation data and a time-stamp token like sample (nil for none): what
// a PDF's /Contents placeholder must hold.
func (b *Builder) MaxDetachedSize(sample []byte) (int, error) {
	if len(b.Chain) == 0 {
		return 0, ErrNoCertificate
	}
	algo, err := signatureAlgorithm(b.Chain[0].PublicKey)
	if err != nil {
		return 0, err
	}
	s := &Signature{signed: b.signedAttributes(make([]byte, sha256.Size)), algo: algo, Value: make([]byte, maxSignatureLen(b.Chain[0].PublicKey))}
	if sample != nil {
		s.AddTimestamp(sample)
	}
	der, err := b.Detached(s, nil)
	if err != nil {
		return 0, err
	}
	return len(der), nil
}
