package cms

import (
	"bytes"
	"crypto"
	"crypto/dsa" //nolint:staticcheck // DSA signatures exist in old PDFs: verified, reported as weak
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha3"
	"crypto/sha512"
	"encoding/asn1"
	"errors"
	"fmt"
	"hash"
	"math/big"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

// Hash identifies a digest algorithm by what it is, whatever OID named it.
type Hash struct {
	Name string // "SHA-256"
	h    crypto.Hash
}

// New returns a fresh hash.Hash.
func (h Hash) New() hash.Hash {
	switch h.h {
	case crypto.SHA1:
		return sha1.New()
	case crypto.SHA224:
		return sha256.New224()
	case crypto.SHA384:
		return sha512.New384()
	case crypto.SHA512:
		return sha512.New()
	case crypto.SHA3_256:
		return sha3.New256()
	case crypto.SHA3_384:
		return sha3.New384()
	case crypto.SHA3_512:
		return sha3.New512()
	}
	return sha256.New()
}

// Crypto returns the standard library's identifier.
func (h Hash) Crypto() crypto.Hash { return h.h }

// Weak reports whether the hash no longer resists collisions (SHA-1).
func (h Hash) Weak() bool { return h.h == crypto.SHA1 }

func (h Hash) String() string { return h.Name }

var (
	SHA1     = Hash{"SHA-1", crypto.SHA1}
	SHA224   = Hash{"SHA-224", crypto.SHA224}
	SHA256   = Hash{"SHA-256", crypto.SHA256}
	SHA384   = Hash{"SHA-384", crypto.SHA384}
	SHA512   = Hash{"SHA-512", crypto.SHA512}
	SHA3_256 = Hash{"SHA3-256", crypto.SHA3_256}
	SHA3_384 = Hash{"SHA3-384", crypto.SHA3_384}
	SHA3_512 = Hash{"SHA3-512", crypto.SHA3_512}
)

// Hashes are every digest a signature may use, in a stable order.
var Hashes = []Hash{SHA1, SHA224, SHA256, SHA384, SHA512, SHA3_256, SHA3_384, SHA3_512}

var hashOIDs = map[string]Hash{
	"1.3.14.3.2.26":           SHA1,
	"2.16.840.1.101.3.4.2.4":  SHA224,
	"2.16.840.1.101.3.4.2.1":  SHA256,
	"2.16.840.1.101.3.4.2.2":  SHA384,
	"2.16.840.1.101.3.4.2.3":  SHA512,
	"2.16.840.1.101.3.4.2.8":  SHA3_256,
	"2.16.840.1.101.3.4.2.9":  SHA3_384,
	"2.16.840.1.101.3.4.2.10": SHA3_512,
	// Some producers name the signature algorithm where the digest belongs.
	"1.2.840.113549.1.1.5":  SHA1,
	"1.2.840.113549.1.1.14": SHA224,
	"1.2.840.113549.1.1.11": SHA256,
	"1.2.840.113549.1.1.12": SHA384,
	"1.2.840.113549.1.1.13": SHA512,
}

// HashByOID returns the digest algorithm an OID names.
func HashByOID(oid asn1.ObjectIdentifier) (Hash, bool) {
	h, ok := hashOIDs[oid.String()]
	return h, ok
}

// ErrUnsupportedAlgorithm is returned for a digest or signature algorithm
// this verifier does not know: the signature can be neither confirmed nor
// refuted.
var ErrUnsupportedAlgorithm = errors.New("cms: unsupported algorithm")

// ErrSignatureInvalid is returned when a signature value does not verify.
var ErrSignatureInvalid = errors.New("cms: the signature does not verify")

// Scheme is a signature algorithm as read from a SignerInfo.
type Scheme struct {
	Name string // "RSA", "RSA-PSS", "ECDSA", "Ed25519", "DSA"
	// Hash is the digest the algorithm identifier names, when it names one
	// (sha256WithRSAEncryption does, rsaEncryption does not).
	Hash  *Hash
	plain bool // ECDSA with r‖s (BSI TR-03111) rather than DER
	pss   *pssParams
}

type pssParams struct {
	hash, mgfHash Hash
	salt          int
}

var (
	oidRSA       = "1.2.840.113549.1.1.1"
	oidRSAPSS    = "1.2.840.113549.1.1.10"
	oidECPublic  = "1.2.840.10045.2.1"
	oidEd25519   = "1.3.101.112"
	oidDSA       = "1.2.840.10040.4.1"
	oidMGF1      = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 8}
	schemeByOIDs = map[string]struct {
		name  string
		hash  *Hash
		plain bool
	}{
		oidRSA:                    {"RSA", nil, false},
		"1.2.840.113549.1.1.5":    {"RSA", &SHA1, false},
		"1.2.840.113549.1.1.14":   {"RSA", &SHA224, false},
		"1.2.840.113549.1.1.11":   {"RSA", &SHA256, false},
		"1.2.840.113549.1.1.12":   {"RSA", &SHA384, false},
		"1.2.840.113549.1.1.13":   {"RSA", &SHA512, false},
		"2.16.840.1.101.3.4.3.13": {"RSA", &SHA3_256, false},
		"2.16.840.1.101.3.4.3.14": {"RSA", &SHA3_384, false},
		"2.16.840.1.101.3.4.3.15": {"RSA", &SHA3_512, false},
		oidECPublic:               {"ECDSA", nil, false},
		"1.2.840.10045.4.1":       {"ECDSA", &SHA1, false},
		"1.2.840.10045.4.3.1":     {"ECDSA", &SHA224, false},
		"1.2.840.10045.4.3.2":     {"ECDSA", &SHA256, false},
		"1.2.840.10045.4.3.3":     {"ECDSA", &SHA384, false},
		"1.2.840.10045.4.3.4":     {"ECDSA", &SHA512, false},
		"2.16.840.1.101.3.4.3.10": {"ECDSA", &SHA3_256, false},
		"2.16.840.1.101.3.4.3.11": {"ECDSA", &SHA3_384, false},
		"2.16.840.1.101.3.4.3.12": {"ECDSA", &SHA3_512, false},
		// BSI TR-03111 plain ECDSA (r‖s), used by German eID cards.
		"0.4.0.127.0.7.1.1.4.1.1": {"ECDSA", &SHA1, true},
		"0.4.0.127.0.7.1.1.4.1.2": {"ECDSA", &SHA224, true},
		"0.4.0.127.0.7.1.1.4.1.3": {"ECDSA", &SHA256, true},
		"0.4.0.127.0.7.1.1.4.1.4": {"ECDSA", &SHA384, true},
		"0.4.0.127.0.7.1.1.4.1.5": {"ECDSA", &SHA512, true},
		oidEd25519:                {"Ed25519", nil, false},
		oidDSA:                    {"DSA", nil, false},
		"1.2.840.10040.4.3":       {"DSA", &SHA1, false},
		"2.16.840.1.101.3.4.3.1":  {"DSA", &SHA224, false},
		"2.16.840.1.101.3.4.3.2":  {"DSA", &SHA256, false},
	}
)

// parseScheme reads a signature AlgorithmIdentifier (OID and parameters).
func parseScheme(oid asn1.ObjectIdentifier, params []byte) (Scheme, error) {
	if oid.String() == oidRSAPSS {
		p, err := parsePSS(params)
		if err != nil {
			return Scheme{}, err
		}
		return Scheme{Name: "RSA-PSS", Hash: &p.hash, pss: p}, nil
	}
	s, ok := schemeByOIDs[oid.String()]
	if !ok {
		return Scheme{}, fmt.Errorf("%w: signature algorithm %s", ErrUnsupportedAlgorithm, oid)
	}
	return Scheme{Name: s.name, Hash: s.hash, plain: s.plain}, nil
}

// parsePSS reads RSASSA-PSS-params (RFC 4055): every field has a default
// (SHA-1, MGF1 with SHA-1, salt 20, trailer 1).
func parsePSS(params []byte) (*pssParams, error) {
	p := &pssParams{hash: SHA1, mgfHash: SHA1, salt: 20}
	in := cryptobyte.String(params)
	var seq cryptobyte.String
	if len(params) == 0 || (len(params) == 2 && params[0] == 0x05) {
		return p, nil
	}
	if !in.ReadASN1(&seq, cbasn1.SEQUENCE) {
		return nil, fmt.Errorf("%w: RSA-PSS parameters", ErrEncoding)
	}
	readAlg := func(s cryptobyte.String) (asn1.ObjectIdentifier, cryptobyte.String, bool) {
		var alg cryptobyte.String
		var oid asn1.ObjectIdentifier
		if !s.ReadASN1(&alg, cbasn1.SEQUENCE) || !alg.ReadASN1ObjectIdentifier(&oid) {
			return nil, nil, false
		}
		return oid, alg, true
	}
	var f cryptobyte.String
	var present bool
	if !seq.ReadOptionalASN1(&f, &present, cbasn1.Tag(0).Constructed().ContextSpecific()) {
		return nil, fmt.Errorf("%w: RSA-PSS hash", ErrEncoding)
	}
	if present {
		oid, _, ok := readAlg(f)
		h, known := HashByOID(oid)
		if !ok || !known {
			return nil, fmt.Errorf("%w: RSA-PSS hash %s", ErrUnsupportedAlgorithm, oid)
		}
		p.hash = h
	}
	if !seq.ReadOptionalASN1(&f, &present, cbasn1.Tag(1).Constructed().ContextSpecific()) {
		return nil, fmt.Errorf("%w: RSA-PSS mask", ErrEncoding)
	}
	if present {
		oid, rest, ok := readAlg(f)
		if !ok || !oid.Equal(oidMGF1) {
			return nil, fmt.Errorf("%w: RSA-PSS mask generation %s", ErrUnsupportedAlgorithm, oid)
		}
		hoid, _, ok := readAlg(rest)
		h, known := HashByOID(hoid)
		if !ok || !known {
			return nil, fmt.Errorf("%w: RSA-PSS MGF1 hash %s", ErrUnsupportedAlgorithm, hoid)
		}
		p.mgfHash = h
	}
	if !seq.ReadOptionalASN1(&f, &present, cbasn1.Tag(2).Constructed().ContextSpecific()) {
		return nil, fmt.Errorf("%w: RSA-PSS salt", ErrEncoding)
	}
	if present {
		var salt int64
		if !f.ReadASN1Int64WithTag(&salt, cbasn1.INTEGER) || salt < 0 || salt > 1024 {
			return nil, fmt.Errorf("%w: RSA-PSS salt", ErrEncoding)
		}
		p.salt = int(salt)
	}
	return p, nil
}

// verify checks sig over digest (the hash h of the signed message), or
// over msg itself for Ed25519, with pub.
func (s Scheme) verify(pub any, h Hash, digest, msg, sig []byte) error {
	switch k := pub.(type) {
	case *rsa.PublicKey:
		switch s.Name {
		case "RSA":
			if rsa.VerifyPKCS1v15(k, h.h, digest, sig) != nil {
				return ErrSignatureInvalid
			}
			return nil
		case "RSA-PSS":
			if s.pss.mgfHash != s.pss.hash {
				// crypto/rsa ties MGF1 to the message hash.
				return verifyPSS(k, s.pss, digest, sig)
			}
			if rsa.VerifyPSS(k, s.pss.hash.h, digest, sig, &rsa.PSSOptions{SaltLength: s.pss.salt}) != nil {
				return ErrSignatureInvalid
			}
			return nil
		}
	case *ecdsa.PublicKey:
		if s.Name != "ECDSA" {
			break
		}
		if s.plain {
			n := (k.Curve.Params().BitSize + 7) / 8
			if len(sig) != 2*n {
				return ErrSignatureInvalid
			}
			r, ss := new(big.Int).SetBytes(sig[:n]), new(big.Int).SetBytes(sig[n:])
			if !ecdsa.Verify(k, digest, r, ss) {
				return ErrSignatureInvalid
			}
			return nil
		}
		if !ecdsa.VerifyASN1(k, digest, sig) {
			return ErrSignatureInvalid
		}
		return nil
	case ed25519.PublicKey:
		if s.Name != "Ed25519" {
			break
		}
		if msg == nil {
			return fmt.Errorf("%w: Ed25519 over content without signed attributes", ErrUnsupportedAlgorithm)
		}
		if !ed25519.Verify(k, msg, sig) {
			return ErrSignatureInvalid
		}
		return nil
	case *dsa.PublicKey:
		if s.Name != "DSA" {
			break
		}
		var rs struct{ R, S *big.Int }
		if rest, err := asn1.Unmarshal(sig, &rs); err != nil || len(rest) > 0 {
			return ErrSignatureInvalid
		}
		q := (k.Q.BitLen() + 7) / 8
		if len(digest) > q {
			digest = digest[:q]
		}
		if !dsa.Verify(k, digest, rs.R, rs.S) {
			return ErrSignatureInvalid
		}
		return nil
	case nil:
		return fmt.Errorf("%w: the certificate's key type", ErrUnsupportedAlgorithm)
	}
	return fmt.Errorf("%w: a %s signature with a %T key", ErrSignatureInvalid, s.Name, pub)
}

// verifyPSS is EMSA-PSS-VERIFY (RFC 8017 §9.1.2) for parameters crypto/rsa
// cannot express: an MGF1 hash other than the message hash.
func verifyPSS(k *rsa.PublicKey, p *pssParams, mHash, sig []byte) error {
	sInt := new(big.Int).SetBytes(sig)
	if sInt.Cmp(k.N) >= 0 || len(sig) != (k.N.BitLen()+7)/8 {
		return ErrSignatureInvalid
	}
	m := new(big.Int).Exp(sInt, big.NewInt(int64(k.E)), k.N)
	emBits := k.N.BitLen() - 1
	emLen := (emBits + 7) / 8
	if (m.BitLen()+7)/8 > emLen {
		return ErrSignatureInvalid
	}
	em := m.FillBytes(make([]byte, emLen))
	hLen, sLen := p.hash.New().Size(), p.salt
	if len(mHash) != hLen || emLen < hLen+sLen+2 || em[emLen-1] != 0xbc {
		return ErrSignatureInvalid
	}
	maskedDB, h := em[:emLen-hLen-1], em[emLen-hLen-1:emLen-1]
	topBits := uint(8*emLen - emBits)
	if maskedDB[0]>>(8-topBits) != 0 && topBits > 0 {
		return ErrSignatureInvalid
	}
	db := mgf1(p.mgfHash, h, len(maskedDB))
	for i := range db {
		db[i] ^= maskedDB[i]
	}
	db[0] &= 0xff >> topBits
	ps := emLen - hLen - sLen - 2
	for _, b := range db[:ps] {
		if b != 0 {
			return ErrSignatureInvalid
		}
	}
	if db[ps] != 0x01 {
		return ErrSignatureInvalid
	}
	hh := p.hash.New()
	hh.Write(make([]byte, 8))
	hh.Write(mHash)
	hh.Write(db[len(db)-sLen:])
	if !bytes.Equal(hh.Sum(nil), h) {
		return ErrSignatureInvalid
	}
	return nil
}

// mgf1 is the mask generation function of RFC 8017 §B.2.1.
func mgf1(h Hash, seed []byte, n int) []byte {
	out := make([]byte, 0, n+64)
	for c := uint32(0); len(out) < n; c++ {
		d := h.New()
		d.Write(seed)
		d.Write([]byte{byte(c >> 24), byte(c >> 16), byte(c >> 8), byte(c)})
		out = d.Sum(out)
	}
	return out[:n]
}
