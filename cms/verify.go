package cms

import (
	"bytes"
	"crypto/dsa" //nolint:staticcheck // old signatures
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/x509"
	"errors"
	"fmt"
)

// ErrDigestMismatch is returned when the message-digest attribute is not
// the digest of the content: the signed bytes changed.
var ErrDigestMismatch = errors.New("cms: the content's digest does not match the signed one")

// Algorithms are the digest and signature algorithms a signer used.
type Algorithms struct {
	Digest Hash
	Scheme Scheme
}

// Algorithms returns the signer's digest and signature algorithms.
func (si *SignerInfo) Algorithms() (Algorithms, error) {
	h, ok := HashByOID(si.DigestAlgorithm)
	if !ok {
		return Algorithms{}, fmt.Errorf("%w: digest algorithm %s", ErrUnsupportedAlgorithm, si.DigestAlgorithm)
	}
	s, err := parseScheme(si.SignatureAlgorithm, si.signatureParams)
	if err != nil {
		return Algorithms{}, err
	}
	return Algorithms{Digest: h, Scheme: s}, nil
}

// Verify checks that the signer, holding cert's key, signed content whose
// digest is contentDigest (computed under Algorithms().Digest): through the
// message-digest attribute when there are signed attributes, directly
// otherwise. Errors: ErrDigestMismatch (the content changed),
// ErrSignatureInvalid (the signature value is wrong for this key),
// ErrUnsupportedAlgorithm, ErrEncoding.
func (si *SignerInfo) Verify(cert *x509.Certificate, contentDigest []byte) error {
	alg, err := si.Algorithms()
	if err != nil {
		return err
	}
	if si.SignedAttrs == nil {
		if err := alg.Scheme.verify(cert.PublicKey, alg.Digest, contentDigest, nil, si.Signature); err != nil {
			// Without signed attributes the digest is what is signed: a
			// changed content and a wrong signature look the same.
			return err
		}
		return nil
	}
	md := si.MessageDigest()
	if md == nil {
		return fmt.Errorf("%w: no message-digest attribute", ErrEncoding)
	}
	if !bytes.Equal(md, contentDigest) {
		return ErrDigestMismatch
	}
	return si.verifySignedAttrs(cert.PublicKey, alg)
}

// verifySignedAttrs checks the signature over the signed attributes, hashed
// with the digest algorithm (RFC 5652 §5.4) or, when the signature
// algorithm names another hash (sha256WithRSAEncryption with a SHA-1 digest
// algorithm, as some signers write), with that one.
func (si *SignerInfo) verifySignedAttrs(pub any, alg Algorithms) error {
	hashes := []Hash{alg.Digest}
	if alg.Scheme.Hash != nil && *alg.Scheme.Hash != alg.Digest {
		hashes = append(hashes, *alg.Scheme.Hash)
	}
	if alg.Scheme.pss != nil {
		hashes = []Hash{alg.Scheme.pss.hash}
	}
	var err error
	for _, h := range hashes {
		d := h.New()
		d.Write(si.SignedAttrs)
		if err = alg.Scheme.verify(pub, h, d.Sum(nil), si.SignedAttrs, si.Signature); err == nil {
			si.verifiedWith = h
			return nil
		}
	}
	return err
}

// VerifiedWith is the hash the signed attributes were verified under, after
// a successful Verify: the digest algorithm's, or the one the signature
// algorithm names when a signer used that one instead (it may be weaker).
func (si *SignerInfo) VerifiedWith() Hash { return si.verifiedWith }

// KeyBits returns the size of an RSA or DSA key, or of an elliptic curve,
// in bits (0 for other keys).
func KeyBits(pub any) int {
	switch k := pub.(type) {
	case *rsa.PublicKey:
		return k.N.BitLen()
	case *ecdsa.PublicKey:
		return k.Curve.Params().BitSize
	case *dsa.PublicKey:
		return k.P.BitLen()
	case ed25519.PublicKey:
		return 256
	}
	return 0
}

// VerifyPKCS1 checks an RSA PKCS#1 v1.5 signature of digest (under h), as
// adbe.x509.rsa_sha1 signatures are.
func VerifyPKCS1(pub any, h Hash, digest, sig []byte) error {
	k, ok := pub.(*rsa.PublicKey)
	if !ok {
		return fmt.Errorf("%w: not an RSA key", ErrUnsupportedAlgorithm)
	}
	if rsa.VerifyPKCS1v15(k, h.h, digest, sig) != nil {
		return ErrSignatureInvalid
	}
	return nil
}
