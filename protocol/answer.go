package protocol

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"strings"
	"unicode"

	"golang.org/x/text/cases"
	"golang.org/x/text/runes"
	"golang.org/x/text/transform"
	"golang.org/x/text/unicode/norm"
)

// NormalizeAnswer is applied to a secret answer on both sides before it is
// hashed or compared, so that what a holder types today matches what they
// told the CA operator months ago: Unicode NFKC, case folded, accents
// dropped, punctuation-free spacing collapsed ("  Montréal " = "montreal").
//
// It is idempotent (the client normalises, the server again): case folding
// is not for a few scripts (Cherokee folds both ways), so it runs until
// nothing changes.
func NormalizeAnswer(s string) string {
	for range 4 {
		n := normalizeOnce(s)
		if n == s {
			break
		}
		s = n
	}
	return s
}

func normalizeOnce(s string) string {
	t := transform.Chain(norm.NFKD, runes.Remove(runes.In(unicode.Mn)), norm.NFKC)
	s, _, _ = transform.String(t, s)
	s = cases.Fold().String(s)
	return strings.Join(strings.Fields(s), " ")
}

// EnrollPassword is the HTTP Basic password of an EST simpleenroll request:
// HMAC-SHA256 keyed by the one-time authorization code over the DER
// SubjectPublicKeyInfo of the CSR's key, base64url without padding. A proxy
// that sees the request can neither replay it for another key nor swap the
// key in it.
func EnrollPassword(authCode string, spki []byte) string {
	m := hmac.New(sha256.New, []byte(authCode))
	m.Write(spki)
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// CheckEnrollPassword compares in constant time.
func CheckEnrollPassword(authCode string, spki []byte, password string) bool {
	return hmac.Equal([]byte(EnrollPassword(authCode, spki)), []byte(password))
}
