package ca

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"database/sql"
	"encoding/asn1"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"net/url"
	"strings"
	"time"

	"golang.org/x/crypto/ocsp"
)

// The OCSP responder (RFC 6960) of the issuing CA, signed by the issuing
// CA itself. It reads and writes the messages with encoding/asn1:
// x/crypto/ocsp reads one certificate per request and writes no
// responseExtensions, where the nonce of RFC 8954 (updated by RFC 9654)
// goes.

var (
	oidOCSPNonce       = asn1.ObjectIdentifier{1, 3, 6, 1, 5, 5, 7, 48, 1, 2}
	oidOCSPBasic       = asn1.ObjectIdentifier{1, 3, 6, 1, 5, 5, 7, 48, 1, 1}
	oidECDSAWithSHA256 = asn1.ObjectIdentifier{1, 2, 840, 10045, 4, 3, 2}
	oidSHA256WithRSA   = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 11}
	ocspHashes         = map[string]crypto.Hash{
		"1.3.14.3.2.26":          crypto.SHA1,
		"2.16.840.1.101.3.4.2.1": crypto.SHA256,
		"2.16.840.1.101.3.4.2.2": crypto.SHA384,
		"2.16.840.1.101.3.4.2.3": crypto.SHA512,
	}
)

// Bounds of what one request may ask: RFC 9654 allows nonces of 1 to 128
// octets; a request asks for at most maxOCSPCerts certificates.
const (
	maxNonce     = 128
	maxOCSPCerts = 16
)

// errOCSPMalformed: the request is not one the responder can answer.
var errOCSPMalformed = errors.New("ca: malformed OCSP request")

type ocspRequest struct {
	TBS struct {
		Version       int           `asn1:"optional,explicit,tag:0,default:0"`
		RequestorName asn1.RawValue `asn1:"optional,explicit,tag:1"`
		RequestList   []ocspOneReq
		Extensions    []pkix.Extension `asn1:"optional,explicit,tag:2"`
	}
	Signature asn1.RawValue `asn1:"optional,explicit,tag:0"`
}

type ocspOneReq struct {
	CertID     asn1.RawValue
	Extensions []pkix.Extension `asn1:"optional,explicit,tag:0"`
}

type ocspCertID struct {
	HashAlgorithm pkix.AlgorithmIdentifier
	NameHash      []byte
	KeyHash       []byte
	Serial        *big.Int
}

type ocspResponse struct {
	Status asn1.Enumerated
	Bytes  struct {
		Type     asn1.ObjectIdentifier
		Response []byte
	} `asn1:"explicit,tag:0,optional"`
}

type ocspBasic struct {
	Data      asn1.RawValue
	Algorithm pkix.AlgorithmIdentifier
	Signature asn1.BitString
}

type ocspData struct {
	ResponderID asn1.RawValue
	ProducedAt  time.Time `asn1:"generalized"`
	Responses   []ocspSingle
	Extensions  []pkix.Extension `asn1:"optional,explicit,tag:1"`
}

type ocspSingle struct {
	CertID     asn1.RawValue
	Good       asn1.Flag   `asn1:"optional,tag:0"`
	Revoked    ocspRevoked `asn1:"optional,tag:1"`
	Unknown    asn1.Flag   `asn1:"optional,tag:2"`
	ThisUpdate time.Time   `asn1:"generalized"`
	NextUpdate time.Time   `asn1:"generalized,explicit,tag:0,optional"`
}

type ocspRevoked struct {
	Time   time.Time       `asn1:"generalized"`
	Reason asn1.Enumerated `asn1:"optional,explicit,tag:0"`
}

// parseOCSPRequest returns the certificates asked about and the nonce
// extension as the request carries it (nil without one).
func parseOCSPRequest(der []byte) ([]ocspOneReq, *pkix.Extension, error) {
	var q ocspRequest
	rest, err := asn1.Unmarshal(der, &q)
	if err != nil || len(rest) > 0 || len(q.TBS.RequestList) == 0 || len(q.TBS.RequestList) > maxOCSPCerts {
		return nil, nil, errOCSPMalformed
	}
	var nonce *pkix.Extension
	for i, e := range q.TBS.Extensions {
		if !e.Id.Equal(oidOCSPNonce) {
			continue
		}
		// RFC 9654: extnValue is the DER of an OCTET STRING holding the
		// nonce; some older clients put the bare nonce there.
		n := e.Value
		var inner []byte
		if rest, err := asn1.Unmarshal(e.Value, &inner); err == nil && len(rest) == 0 {
			n = inner
		}
		if len(n) == 0 || len(n) > maxNonce {
			return nil, nil, errOCSPMalformed
		}
		nonce = &q.TBS.Extensions[i]
	}
	return q.TBS.RequestList, nonce, nil
}

// OCSP answers an OCSP request (DER) for certificates of the issuing CA.
// A nonce in the request is echoed in the reply.
func (a *Authority) OCSP(der []byte, now time.Time) ([]byte, error) {
	reqs, nonce, err := parseOCSPRequest(der)
	if err != nil {
		return nil, err
	}
	data := ocspData{
		ResponderID: asn1.RawValue{Class: asn1.ClassContextSpecific, Tag: 1, IsCompound: true, Bytes: a.Issuer.RawSubject},
		ProducedAt:  now.UTC().Truncate(time.Second),
	}
	if nonce != nil {
		data.Extensions = []pkix.Extension{{Id: nonce.Id, Value: nonce.Value}}
	}
	for _, r := range reqs {
		s, err := a.ocspStatus(r.CertID, now)
		if err != nil {
			return nil, err
		}
		data.Responses = append(data.Responses, s)
	}
	return a.signOCSP(data)
}

// ocspStatus is the status of one certificate. The CertID is echoed as
// the client sent it, hash algorithm included.
func (a *Authority) ocspStatus(raw asn1.RawValue, now time.Time) (ocspSingle, error) {
	s := ocspSingle{
		CertID:     asn1.RawValue{FullBytes: raw.FullBytes},
		ThisUpdate: now.Add(-time.Minute).UTC().Truncate(time.Second),
		NextUpdate: now.Add(time.Hour).UTC().Truncate(time.Second),
		Unknown:    true,
	}
	var id ocspCertID
	if rest, err := asn1.Unmarshal(raw.FullBytes, &id); err != nil || len(rest) > 0 || id.Serial == nil {
		return s, errOCSPMalformed
	}
	h, ok := ocspHashes[id.HashAlgorithm.Algorithm.String()]
	if !ok || !bytes.Equal(id.KeyHash, keyHash(h, a.Issuer)) || !bytes.Equal(id.NameHash, hashOf(h, a.Issuer.RawSubject)) {
		return s, nil // not a certificate of this CA
	}
	var revoked sql.NullInt64
	var reason sql.NullString
	err := a.db.QueryRow(`SELECT revoked, reason FROM certs WHERE serial = ?`, serialHex(id.Serial)).Scan(&revoked, &reason)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return s, nil
	case err != nil:
		return s, fmt.Errorf("ca: database: %w", err)
	}
	s.Unknown = false
	if revoked.Valid && revoked.Int64 <= now.Unix() { // a supersession may lie ahead
		s.Revoked = ocspRevoked{Time: time.Unix(revoked.Int64, 0).UTC(), Reason: asn1.Enumerated(revocationReason[reason.String])}
	} else {
		s.Good = true
	}
	return s, nil
}

// signOCSP signs the response data with the issuing CA's key.
func (a *Authority) signOCSP(data ocspData) ([]byte, error) {
	tbs, err := asn1.Marshal(data)
	if err != nil {
		return nil, fmt.Errorf("ca: OCSP response: %w", err)
	}
	alg := pkix.AlgorithmIdentifier{Algorithm: oidECDSAWithSHA256}
	switch a.issuerKey.Public().(type) {
	case *ecdsa.PublicKey:
	case *rsa.PublicKey:
		alg = pkix.AlgorithmIdentifier{Algorithm: oidSHA256WithRSA, Parameters: asn1.NullRawValue}
	default:
		return nil, fmt.Errorf("ca: OCSP response: unsupported key %T", a.issuerKey.Public())
	}
	sig, err := a.issuerKey.Sign(rand.Reader, hashOf(crypto.SHA256, tbs), crypto.SHA256)
	if err != nil {
		return nil, fmt.Errorf("ca: OCSP response: %w", err)
	}
	basic, err := asn1.Marshal(ocspBasic{Data: asn1.RawValue{FullBytes: tbs}, Algorithm: alg,
		Signature: asn1.BitString{Bytes: sig, BitLength: 8 * len(sig)}})
	if err != nil {
		return nil, fmt.Errorf("ca: OCSP response: %w", err)
	}
	var resp ocspResponse
	resp.Status = asn1.Enumerated(ocsp.Success)
	resp.Bytes.Type, resp.Bytes.Response = oidOCSPBasic, basic
	return asn1.Marshal(resp)
}

func hashOf(h crypto.Hash, data []byte) []byte {
	if !h.Available() {
		return nil
	}
	hh := h.New()
	hh.Write(data)
	return hh.Sum(nil)
}

// keyHash is the hash of the issuer's public key as OCSP requests carry it.
func keyHash(h crypto.Hash, issuer *x509.Certificate) []byte {
	var spki struct {
		Algorithm pkix.AlgorithmIdentifier
		PublicKey asn1.BitString
	}
	if _, err := asn1.Unmarshal(issuer.RawSubjectPublicKeyInfo, &spki); err != nil {
		return nil
	}
	return hashOf(h, spki.PublicKey.RightAlign())
}

// handleOCSP answers POST /ocsp and GET /ocsp/{base64}. The GET request
// is read from the path as sent: base64 may hold "//", which a cleaned
// path would lose (RFC 6960 A.1 asks for it URL-encoded; many clients
// send it raw).
func (a *server) handleOCSP(w http.ResponseWriter, r *http.Request) {
	var der []byte
	var err error
	if r.Method == http.MethodGet {
		var b64 string
		b64, err = url.PathUnescape(strings.TrimPrefix(r.URL.EscapedPath(), pathOCSP+"/"))
		if err == nil {
			der, err = base64.StdEncoding.DecodeString(b64)
		}
	} else {
		der, err = io.ReadAll(http.MaxBytesReader(w, r.Body, 16<<10))
	}
	w.Header().Set("Content-Type", "application/ocsp-response")
	if err != nil {
		w.Write(ocsp.MalformedRequestErrorResponse)
		return
	}
	reply, err := a.OCSP(der, time.Now())
	switch {
	case errors.Is(err, errOCSPMalformed):
		w.Write(ocsp.MalformedRequestErrorResponse)
		return
	case err != nil:
		a.log.Error("ocsp", "err", err.Error())
		w.Write(ocsp.InternalErrorErrorResponse)
		return
	}
	w.Write(reply)
}

// ocspGET sends GET /ocsp/… to the responder before the mux sees it: the
// mux would answer a path holding "//" with a redirect to the cleaned
// path, another request.
func (a *server) ocspGET(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodGet && strings.HasPrefix(r.URL.Path, pathOCSP+"/") {
			a.handleOCSP(w, r)
			return
		}
		next.ServeHTTP(w, r)
	})
}
