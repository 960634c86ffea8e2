package bridge

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/asn1"
	"encoding/base64"
	"errors"
	"fmt"
	"math/big"
	"strings"
)

// The authentication token is Web eID's, format web-eid:1.0 (the Web eID
// authentication token format specification, Estonian Information System
// Authority), so that a portal may check it with Web eID's validators:
//
//	{"unverifiedCertificate": base64 DER of the holder's certificate,
//	 "algorithm": "ES256" | "ES384" | "ES512" | "RS256" | …  (JWA, RFC 7518),
//	 "signature": base64 signature over hash(origin) ‖ hash(challenge),
//	 "format": "web-eid:1.0",
//	 "appVersion": a URL naming the application and its version}
//
// hash is the algorithm's (SHA-256 for ES256 and RS256); origin is the
// page's origin as the browser sent it, challenge the portal's nonce as the
// page gave it. An ECDSA signature is JWA's r ‖ s, each the curve's size.
// Neither origin nor challenge travels in the token: the portal rebuilds
// the signed value from the challenge it issued to that browser session
// and from its own origin, so a signature that verifies has proven both;
// the time is bound by the challenge, which the portal issues, keeps for a
// few minutes and accepts once.

// TokenFormat is the authentication token's format.
const TokenFormat = "web-eid:1.0"

// AuthToken is a Web eID authentication token.
type AuthToken struct {
	UnverifiedCertificate string `json:"unverifiedCertificate"`
	Algorithm             string `json:"algorithm"`
	Signature             string `json:"signature"`
	Format                string `json:"format"`
	AppVersion            string `json:"appVersion"`
}

// Challenge nonces are base64 (or base64url) of at least 32 random bytes,
// as Web eID's are; longer than 128 characters is no nonce.
const (
	minChallenge = 44
	maxChallenge = 128
)

// ErrChallenge is returned for a challenge that is not a nonce.
var ErrChallenge = errors.New("bridge: the challenge is not a base64 nonce of 44 to 128 characters")

func checkChallenge(c string) error {
	if len(c) < minChallenge || len(c) > maxChallenge {
		return ErrChallenge
	}
	body := strings.TrimRight(c, "=")
	if len(c)-len(body) > 2 {
		return ErrChallenge
	}
	for _, r := range body {
		if !(r >= 'A' && r <= 'Z' || r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || strings.ContainsRune("+/-_", r)) {
			return ErrChallenge
		}
	}
	return nil
}

// jwa returns the JWA algorithm name and hash for a public key: ECDSA on
// its curve's hash, RSA with PKCS #1 v1.5 (which every token does) and
// SHA-256.
func jwa(pub crypto.PublicKey) (string, crypto.Hash, error) {
	switch k := pub.(type) {
	case *ecdsa.PublicKey:
		switch k.Curve {
		case elliptic.P256():
			return "ES256", crypto.SHA256, nil
		case elliptic.P384():
			return "ES384", crypto.SHA384, nil
		case elliptic.P521():
			return "ES512", crypto.SHA512, nil
		}
	case *rsa.PublicKey:
		return "RS256", crypto.SHA256, nil
	}
	return "", 0, fmt.Errorf("bridge: no Web eID algorithm for a %T key", pub)
}

// authToken signs hash(origin) ‖ hash(challenge) with key, whose
// certificate (DER) goes in the token.
func authToken(key crypto.Signer, certDER []byte, origin, challenge, appVersion string) (*AuthToken, error) {
	alg, h, err := jwa(key.Public())
	if err != nil {
		return nil, err
	}
	ho, hc := h.New(), h.New()
	ho.Write([]byte(origin))
	hc.Write([]byte(challenge))
	signed := append(ho.Sum(nil), hc.Sum(nil)...)
	d := h.New()
	d.Write(signed)
	sig, err := key.Sign(rand.Reader, d.Sum(nil), h)
	if err != nil {
		return nil, err
	}
	if k, ok := key.Public().(*ecdsa.PublicKey); ok {
		if sig, err = concatRS(sig, (k.Curve.Params().BitSize+7)/8); err != nil {
			return nil, err
		}
	}
	return &AuthToken{
		UnverifiedCertificate: base64.StdEncoding.EncodeToString(certDER),
		Algorithm:             alg,
		Signature:             base64.StdEncoding.EncodeToString(sig),
		Format:                TokenFormat,
		AppVersion:            appVersion,
	}, nil
}

// concatRS turns an ASN.1 ECDSA signature into JWA's r ‖ s, each n bytes.
func concatRS(der []byte, n int) ([]byte, error) {
	var v struct{ R, S *big.Int }
	if rest, err := asn1.Unmarshal(der, &v); err != nil || len(rest) > 0 || v.R.Sign() <= 0 || v.S.Sign() <= 0 || v.R.BitLen() > 8*n || v.S.BitLen() > 8*n {
		return nil, fmt.Errorf("bridge: the key returned an unreadable ECDSA signature")
	}
	out := make([]byte, 2*n)
	v.R.FillBytes(out[:n])
	v.S.FillBytes(out[n:])
	return out, nil
}
