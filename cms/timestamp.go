package cms

import (
	"bytes"
	"crypto/x509"
	"errors"
	"fmt"
	"math/big"
	"time"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

// Timestamp is an RFC 3161 time-stamp token: a SignedData over a TSTInfo.
type Timestamp struct {
	Raw        []byte // the token as it was found
	SignedData *SignedData
	// From the TSTInfo:
	Hash     Hash   // of the message imprint
	Imprint  []byte // the time-stamped data's digest
	Time     time.Time
	Accuracy time.Duration
	Serial   *big.Int
	Nonce    *big.Int
}

// ErrNoTSTInfo is returned for a SignedData that is not a time-stamp.
var ErrNoTSTInfo = errors.New("cms: not a time-stamp token")

// ParseTimestamp reads a time-stamp token (a ContentInfo).
func ParseTimestamp(token []byte) (*Timestamp, error) {
	sd, err := Parse(token)
	if err != nil {
		return nil, err
	}
	if !sd.ContentType.Equal(OIDTSTInfo) || sd.Content == nil {
		return nil, ErrNoTSTInfo
	}
	t := &Timestamp{Raw: token, SignedData: sd}
	in := cryptobyte.String(sd.Content)
	var info, mi cryptobyte.String
	var version int64
	var policy cryptobyte.String
	if !in.ReadASN1(&info, cbasn1.SEQUENCE) || !info.ReadASN1Integer(&version) ||
		!info.ReadASN1Element(&policy, cbasn1.OBJECT_IDENTIFIER) ||
		!info.ReadASN1(&mi, cbasn1.SEQUENCE) {
		return nil, fmt.Errorf("%w: TSTInfo", ErrEncoding)
	}
	oid, _, err := readAlgorithm(&mi)
	if err != nil {
		return nil, err
	}
	h, ok := HashByOID(oid)
	if !ok {
		return nil, fmt.Errorf("%w: time-stamp imprint hash %s", ErrUnsupportedAlgorithm, oid)
	}
	var imprint cryptobyte.String
	if !mi.ReadASN1(&imprint, cbasn1.OCTET_STRING) || len(imprint) != h.New().Size() {
		return nil, fmt.Errorf("%w: time-stamp imprint", ErrEncoding)
	}
	t.Hash, t.Imprint = h, imprint
	t.Serial = new(big.Int)
	var gt cryptobyte.String
	if !info.ReadASN1Integer(t.Serial) || !info.ReadASN1(&gt, cbasn1.GeneralizedTime) {
		return nil, fmt.Errorf("%w: time-stamp serial or time", ErrEncoding)
	}
	if t.Time, err = parseGeneralizedTime(string(gt)); err != nil {
		return nil, err
	}
	if info.PeekASN1Tag(cbasn1.SEQUENCE) {
		var acc cryptobyte.String
		info.ReadASN1(&acc, cbasn1.SEQUENCE)
		var secs int64
		if acc.PeekASN1Tag(cbasn1.INTEGER) {
			acc.ReadASN1Integer(&secs)
		}
		millis, micros := implicitInt(&acc, 0), implicitInt(&acc, 1)
		t.Accuracy = time.Duration(secs)*time.Second + time.Duration(millis)*time.Millisecond + time.Duration(micros)*time.Microsecond
	}
	if info.PeekASN1Tag(cbasn1.BOOLEAN) {
		var ordering bool
		info.ReadASN1Boolean(&ordering)
	}
	if info.PeekASN1Tag(cbasn1.INTEGER) {
		t.Nonce = new(big.Int)
		info.ReadASN1Integer(t.Nonce)
	}
	return t, nil
}

// parseGeneralizedTime reads YYYYMMDDHHMMSS[.fff]Z; TSAs write fractions
// with trailing zeros that strict DER readers refuse.
func parseGeneralizedTime(s string) (time.Time, error) {
	for _, layout := range []string{"20060102150405.999999999Z0700", "20060102150405Z0700", "200601021504Z0700"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, fmt.Errorf("%w: time %q", ErrEncoding, s)
}

// Covers reports whether the token's imprint is the digest of data.
func (t *Timestamp) Covers(data []byte) bool {
	h := t.Hash.New()
	h.Write(data)
	return bytes.Equal(h.Sum(nil), t.Imprint)
}

// Signer returns the time-stamping unit's certificate, found in the token
// or among extra certificates.
func (t *Timestamp) Signer(extra ...[]*x509.Certificate) *x509.Certificate {
	return t.SignedData.Signers[0].Signer(append([][]*x509.Certificate{t.SignedData.Certificates}, extra...)...)
}

// Verify checks the token's signature with its unit's certificate tsa and,
// when the token names its unit's certificate (ESS signing-certificate, as
// RFC 3161 and RFC 5816 require), that it is tsa.
func (t *Timestamp) Verify(tsa *x509.Certificate) error {
	si := t.SignedData.Signers[0]
	alg, err := si.Algorithms()
	if err != nil {
		return err
	}
	h := alg.Digest.New()
	h.Write(t.SignedData.Content)
	if err := si.Verify(tsa, h.Sum(nil)); err != nil {
		return err
	}
	if ref, ok, err := si.SigningCertificate(); err != nil {
		return err
	} else if ok && !ref.Matches(tsa) {
		return fmt.Errorf("%w: the token names another unit's certificate", ErrSignatureInvalid)
	}
	return nil
}

// implicitInt reads an optional [n] IMPLICIT INTEGER (small and positive,
// as Accuracy's millis and micros are).
func implicitInt(s *cryptobyte.String, n uint8) int64 {
	var v cryptobyte.String
	if !s.PeekASN1Tag(cbasn1.Tag(n).ContextSpecific()) || !s.ReadASN1(&v, cbasn1.Tag(n).ContextSpecific()) || len(v) > 4 {
		return 0
	}
	var x int64
	for _, b := range v {
		x = x<<8 | int64(b)
	}
	return x
}
