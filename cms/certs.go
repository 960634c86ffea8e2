package cms

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/x509"
	"fmt"
	"math/big"

	"github.com/ProtonMail/go-crypto/brainpool"
)

// The Brainpool curves of RFC 5639, which German and Austrian eID cards
// and their CAs use and crypto/x509 does not parse.
var brainpoolCurves = []struct {
	oid   []byte // DER of the curve's OBJECT IDENTIFIER
	curve func() elliptic.Curve
}{
	{[]byte{0x06, 0x09, 0x2b, 0x24, 0x03, 0x03, 0x02, 0x08, 0x01, 0x01, 0x07}, brainpool.P256r1},
	{[]byte{0x06, 0x09, 0x2b, 0x24, 0x03, 0x03, 0x02, 0x08, 0x01, 0x01, 0x0b}, brainpool.P384r1},
	{[]byte{0x06, 0x09, 0x2b, 0x24, 0x03, 0x03, 0x02, 0x08, 0x01, 0x01, 0x0d}, brainpool.P512r1},
}

// id-ecPublicKey, as it opens a SubjectPublicKeyInfo's AlgorithmIdentifier.
var ecPublicKeyOID = []byte{0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01}

// ParseCertificate parses a DER certificate as crypto/x509 does, and also
// one whose key is on a Brainpool curve: x509 refuses those outright, so
// the key's algorithm is hidden from it for parsing (one byte of a copy),
// then the original bytes and the real key are put back. Every check that
// uses the certificate's bytes (its issuer's signature over it, pools,
// equality) sees the original.
func ParseCertificate(der []byte) (*x509.Certificate, error) {
	c, err := x509.ParseCertificate(der)
	if err == nil {
		return c, nil
	}
	for _, bp := range brainpoolCurves {
		alg := append(append([]byte{}, ecPublicKeyOID...), bp.oid...)
		i := bytes.Index(der, alg)
		if i < 0 {
			continue
		}
		patched := append([]byte{}, der...)
		patched[i+len(ecPublicKeyOID)-1] = 0x7f // 1.2.840.10045.2.127: unknown to x509
		c, err2 := x509.ParseCertificate(patched)
		if err2 != nil {
			return nil, err
		}
		spki := c.RawSubjectPublicKeyInfo
		j := bytes.Index(patched, spki)
		if j < 0 {
			return nil, err
		}
		// The key: the BIT STRING after the AlgorithmIdentifier.
		point, ok := spkiPoint(der[j : j+len(spki)])
		if !ok {
			return nil, fmt.Errorf("cms: bad Brainpool public key")
		}
		curve := bp.curve()
		x, y := elliptic.Unmarshal(curve, point) //nolint:staticcheck // custom curves have no crypto/ecdh form
		if x == nil {
			return nil, fmt.Errorf("cms: Brainpool public key not on its curve")
		}
		c.Raw = der
		c.RawTBSCertificate = reslice(der, patched, c.RawTBSCertificate)
		c.RawSubjectPublicKeyInfo = der[j : j+len(spki)]
		c.RawSubject = reslice(der, patched, c.RawSubject)
		c.RawIssuer = reslice(der, patched, c.RawIssuer)
		c.PublicKeyAlgorithm = x509.ECDSA
		c.PublicKey = &ecdsa.PublicKey{Curve: curve, X: x, Y: new(big.Int).Set(y)}
		return c, nil
	}
	return nil, err
}

// reslice returns the part of orig at the place sub sits in patched (both
// the same length).
func reslice(orig, patched, sub []byte) []byte {
	i := bytes.Index(patched, sub)
	if i < 0 {
		return sub
	}
	return orig[i : i+len(sub)]
}

// spkiPoint returns the public key bits of a SubjectPublicKeyInfo.
func spkiPoint(spki []byte) ([]byte, bool) {
	body, ok := primitiveContentAny(spki, 0x30)
	if !ok {
		return nil, false
	}
	alg, rest, ok := splitElement(body)
	if !ok || len(alg) == 0 {
		return nil, false
	}
	bits, ok := primitiveContentAny(rest, 0x03)
	if !ok || len(bits) < 2 || bits[0] != 0 {
		return nil, false
	}
	return bits[1:], true
}

// splitElement returns the first DER element of b and what follows it.
func splitElement(b []byte) (elem, rest []byte, ok bool) {
	if len(b) < 2 {
		return nil, nil, false
	}
	l, p := int(b[1]), 2
	if l > 0x80 {
		n := l & 0x7f
		if n > 4 || len(b) < 2+n {
			return nil, nil, false
		}
		l = 0
		for _, d := range b[2 : 2+n] {
			l = l<<8 | int(d)
		}
		p += n
	} else if l == 0x80 {
		return nil, nil, false
	}
	if l > len(b)-p {
		return nil, nil, false
	}
	return b[:p+l], b[p+l:], true
}

// primitiveContentAny returns the content of the DER element opening b, if
// its tag is tag.
func primitiveContentAny(b []byte, tag byte) ([]byte, bool) {
	elem, _, ok := splitElement(b)
	if !ok || elem[0] != tag {
		return nil, false
	}
	_, p := int(elem[1]), 2
	if elem[1] > 0x80 {
		p += int(elem[1] & 0x7f)
	}
	return elem[p:], true
}
