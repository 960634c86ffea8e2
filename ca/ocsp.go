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

// The OCSP responder (RFC 6960) of the issuing CA, signed by its
// delegated responder (responder.go). It reads and writes the messages with encoding/asn1:
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
	Certs     []asn1.RawValue `asn1:"optional,explicit,tag:0"`
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

// OCSP answers an OCSP request (DER) for certificates of the issuing CA,
// signed by its delegated responder (see responder.go). A nonce in the
// request is echoed in the reply. An answer about one certificate of this
// CA, without a nonce, comes from the cache of signed answers while the
// database still says what it says (see ocspcache.go).
func (a *Authority) OCSP(der []byte, now time.Time) ([]byte, error) {
	reply, _, err := a.answerOCSP(der, now)
	return reply, err
}

// ocspAnswer says how a request was answered, for the metrics.
type ocspAnswer struct {
	status string // of the first certificate: good, revoked or unknown
	cached bool
}

func (a *Authority) answerOCSP(der []byte, now time.Time) ([]byte, ocspAnswer, error) {
	reqs, nonce, err := parseOCSPRequest(der)
	if err != nil {
		return nil, ocspAnswer{}, err
	}
	qs := make([]ocspQuery, len(reqs))
	for i, r := range reqs {
		if qs[i], err = a.ocspStatus(r.CertID, now); err != nil {
			return nil, ocspAnswer{}, err
		}
	}
	how := ocspAnswer{status: qs[0].st.name()}
	cacheable := nonce == nil && len(qs) == 1 && qs[0].st.known
	if cacheable {
		if reply := a.ocspCache.get(qs[0], now); reply != nil {
			how.cached = true
			return reply, how, nil
		}
	}
	reply, err := a.signOCSP(qs, nonce, now)
	if err != nil {
		return nil, ocspAnswer{}, err
	}
	if cacheable {
		a.ocspCache.put(qs[0], reply, now)
	}
	return reply, how, nil
}

// certStatus is what the database says of a certificate at a time.
type certStatus struct {
	known   bool      // a certificate of this CA's
	revoked time.Time // when it was revoked; zero: good
	reason  int       // of the revocation
	// until is when a revocation ahead takes effect (the end of a
	// renewal's overlap); zero: none.
	until time.Time
}

// same reports whether s and o state the same.
func (s certStatus) same(o certStatus) bool {
	return s.known == o.known && s.revoked.Equal(o.revoked) && s.reason == o.reason && s.until.Equal(o.until)
}

func (s certStatus) name() string {
	switch {
	case !s.known:
		return "unknown"
	case !s.revoked.IsZero():
		return "revoked"
	}
	return "good"
}

// ocspQuery is one certificate asked about: the CertID as the client sent
// it (echoed, hash algorithm included), its serial and its status.
type ocspQuery struct {
	certID []byte
	serial string
	st     certStatus
}

// ocspStatus reads one CertID and the status of its certificate.
func (a *Authority) ocspStatus(raw asn1.RawValue, now time.Time) (ocspQuery, error) {
	q := ocspQuery{certID: raw.FullBytes}
	var id ocspCertID
	if rest, err := asn1.Unmarshal(raw.FullBytes, &id); err != nil || len(rest) > 0 || id.Serial == nil {
		return q, errOCSPMalformed
	}
	h, ok := ocspHashes[id.HashAlgorithm.Algorithm.String()]
	want := a.issuerIDs[h]
	if !ok || !bytes.Equal(id.KeyHash, want.key) || !bytes.Equal(id.NameHash, want.name) {
		return q, nil // not a certificate of this CA
	}
	q.serial = serialHex(id.Serial)
	var err error
	q.st, err = a.certStatus(q.serial, now)
	return q, err
}

// certStatus reads the status of the certificate serial at now.
func (a *Authority) certStatus(serial string, now time.Time) (certStatus, error) {
	var revoked sql.NullInt64
	var reason sql.NullString
	err := a.db.QueryRow(`SELECT revoked, reason FROM certs WHERE serial = ?`, serial).Scan(&revoked, &reason)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return certStatus{}, nil
	case err != nil:
		return certStatus{}, fmt.Errorf("ca: database: %w", err)
	}
	st := certStatus{known: true}
	switch {
	case revoked.Valid && revoked.Int64 <= now.Unix():
		st.revoked, st.reason = time.Unix(revoked.Int64, 0).UTC(), revocationReason[reason.String]
	case revoked.Valid: // a supersession ahead
		st.until = time.Unix(revoked.Int64, 0).UTC()
	}
	return st, nil
}

// Validity of an OCSP answer: from a minute before it is signed (clocks
// differ) to an hour after, or to a revocation ahead.
const (
	ocspBackdate = time.Minute
	ocspValidity = time.Hour
)

// single is the SingleResponse for q, signed at now.
func (q ocspQuery) single(now time.Time) ocspSingle {
	s := ocspSingle{
		CertID:     asn1.RawValue{FullBytes: q.certID},
		ThisUpdate: now.Add(-ocspBackdate).UTC().Truncate(time.Second),
		NextUpdate: now.Add(ocspValidity).UTC().Truncate(time.Second),
	}
	if !q.st.until.IsZero() && q.st.until.Before(s.NextUpdate) {
		s.NextUpdate = q.st.until
	}
	switch q.st.name() {
	case "unknown":
		s.Unknown = true
	case "revoked":
		s.Revoked = ocspRevoked{Time: q.st.revoked, Reason: asn1.Enumerated(q.st.reason)}
	default:
		s.Good = true
	}
	return s
}

// signOCSP signs the answers about qs, with the nonce when there is one,
// by the delegated responder, or by the issuing CA in a folder made
// before responders until Serve gives it one.
func (a *Authority) signOCSP(qs []ocspQuery, nonce *pkix.Extension, now time.Time) ([]byte, error) {
	data := ocspData{ProducedAt: now.UTC().Truncate(time.Second)}
	if nonce != nil {
		data.Extensions = []pkix.Extension{{Id: nonce.Id, Value: nonce.Value}}
	}
	for _, q := range qs {
		data.Responses = append(data.Responses, q.single(now))
	}
	key := a.issuerKey
	var certs []asn1.RawValue
	if r := a.responder.Load(); r != nil {
		key = r.key
		id, _ := asn1.Marshal(r.keyHash)
		data.ResponderID = asn1.RawValue{Class: asn1.ClassContextSpecific, Tag: 2, IsCompound: true, Bytes: id}
		certs = []asn1.RawValue{{FullBytes: r.cert.Raw}}
	} else {
		data.ResponderID = asn1.RawValue{Class: asn1.ClassContextSpecific, Tag: 1, IsCompound: true, Bytes: a.Issuer.RawSubject}
	}
	tbs, err := asn1.Marshal(data)
	if err != nil {
		return nil, fmt.Errorf("ca: OCSP response: %w", err)
	}
	alg := pkix.AlgorithmIdentifier{Algorithm: oidECDSAWithSHA256}
	switch key.Public().(type) {
	case *ecdsa.PublicKey:
	case *rsa.PublicKey:
		alg = pkix.AlgorithmIdentifier{Algorithm: oidSHA256WithRSA, Parameters: asn1.NullRawValue}
	default:
		return nil, fmt.Errorf("ca: OCSP response: unsupported key %T", key.Public())
	}
	sig, err := key.Sign(rand.Reader, hashOf(crypto.SHA256, tbs), crypto.SHA256)
	if err != nil {
		return nil, fmt.Errorf("ca: OCSP response: %w", err)
	}
	basic, err := asn1.Marshal(ocspBasic{Data: asn1.RawValue{FullBytes: tbs}, Algorithm: alg,
		Signature: asn1.BitString{Bytes: sig, BitLength: 8 * len(sig)}, Certs: certs})
	if err != nil {
		return nil, fmt.Errorf("ca: OCSP response: %w", err)
	}
	var resp ocspResponse
	resp.Status = asn1.Enumerated(ocsp.Success)
	resp.Bytes.Type, resp.Bytes.Response = oidOCSPBasic, basic
	return asn1.Marshal(resp)
}

// issuerID is the issuing CA's name and key hashed as CertIDs carry
// them, with one hash algorithm.
type issuerID struct{ name, key []byte }

// issuerIDsOf hashes issuer with each hash algorithm a CertID may use.
func issuerIDsOf(issuer *x509.Certificate) map[crypto.Hash]issuerID {
	ids := map[crypto.Hash]issuerID{}
	for _, h := range ocspHashes {
		ids[h] = issuerID{name: hashOf(h, issuer.RawSubject), key: keyHash(h, issuer)}
	}
	return ids
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
		a.metrics.ocsp.WithLabelValues("malformed", "none").Inc()
		w.Write(ocsp.MalformedRequestErrorResponse)
		return
	}
	reply, how, err := a.answerOCSP(der, time.Now())
	switch {
	case errors.Is(err, errOCSPMalformed):
		a.metrics.ocsp.WithLabelValues("malformed", "none").Inc()
		w.Write(ocsp.MalformedRequestErrorResponse)
		return
	case err != nil:
		a.log.Error("ocsp", "err", err.Error())
		a.metrics.ocsp.WithLabelValues("internal_error", "none").Inc()
		w.Write(ocsp.InternalErrorErrorResponse)
		return
	}
	source := "signed"
	if how.cached {
		source = "cache"
	}
	a.metrics.ocsp.WithLabelValues(how.status, source).Inc()
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
