package ca

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
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
	// ocspHashOIDs are ocspHashes by their OIDs' DER, as a CertID
	// carries them.
	ocspHashOIDs = func() map[string]crypto.Hash {
		m := map[string]crypto.Hash{}
		for dotted, h := range ocspHashes {
			var oid asn1.ObjectIdentifier
			for _, arc := range strings.Split(dotted, ".") {
				n, _ := strconv.Atoi(arc)
				oid = append(oid, n)
			}
			der, _ := asn1.Marshal(oid)
			m[string(der)] = h
		}
		return m
	}()
)

// Bounds of what one request may ask: RFC 9654 allows nonces of 1 to 128
// octets; a request asks for at most maxOCSPCerts certificates.
const (
	maxNonce     = 128
	maxOCSPCerts = 16
)

// errOCSPMalformed: the request is not one the responder can answer.
var errOCSPMalformed = errors.New("ca: malformed OCSP request")

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

// parseOCSPRequest returns the CertIDs asked about (DER, as the request
// carries them: the answer echoes them) and the nonce extension (nil
// without one). It reads with cryptobyte, strict DER as encoding/asn1
// reads it, without its reflection, which cost a tenth of a request.
//
//	OCSPRequest ::= SEQUENCE { tbsRequest, optionalSignature [0] EXPLICIT … OPTIONAL }
//	TBSRequest ::= SEQUENCE { version [0] EXPLICIT INTEGER DEFAULT v1,
//	    requestorName [1] EXPLICIT GeneralName OPTIONAL, requestList SEQUENCE OF Request,
//	    requestExtensions [2] EXPLICIT Extensions OPTIONAL }
//	Request ::= SEQUENCE { reqCert CertID, singleRequestExtensions [0] EXPLICIT Extensions OPTIONAL }
func parseOCSPRequest(der []byte) ([][]byte, *pkix.Extension, error) {
	in := cryptobyte.String(der)
	var req, tbs, list cryptobyte.String
	var version int64
	var exts cryptobyte.String
	var hasExts bool
	if !in.ReadASN1(&req, cbasn1.SEQUENCE) || !in.Empty() ||
		!req.ReadASN1(&tbs, cbasn1.SEQUENCE) ||
		!req.SkipOptionalASN1(cbasn1.Tag(0).Constructed().ContextSpecific()) || !req.Empty() ||
		!tbs.ReadOptionalASN1Integer(&version, cbasn1.Tag(0).Constructed().ContextSpecific(), int64(0)) ||
		!tbs.SkipOptionalASN1(cbasn1.Tag(1).Constructed().ContextSpecific()) ||
		!tbs.ReadASN1(&list, cbasn1.SEQUENCE) ||
		!tbs.ReadOptionalASN1(&exts, &hasExts, cbasn1.Tag(2).Constructed().ContextSpecific()) || !tbs.Empty() {
		return nil, nil, errOCSPMalformed
	}
	var ids [][]byte
	for !list.Empty() {
		var one cryptobyte.String
		var id cryptobyte.String
		if !list.ReadASN1(&one, cbasn1.SEQUENCE) || !one.ReadASN1Element(&id, cbasn1.SEQUENCE) ||
			!one.SkipOptionalASN1(cbasn1.Tag(0).Constructed().ContextSpecific()) || !one.Empty() || len(ids) == maxOCSPCerts {
			return nil, nil, errOCSPMalformed
		}
		ids = append(ids, id)
	}
	if len(ids) == 0 {
		return nil, nil, errOCSPMalformed
	}
	if !hasExts {
		return ids, nil, nil
	}
	nonce, err := readNonce(exts)
	return ids, nonce, err
}

// readNonce reads requestExtensions' content (Extensions ::= SEQUENCE
// OF Extension) and returns the nonce extension, if any.
func readNonce(exts cryptobyte.String) (*pkix.Extension, error) {
	var seq cryptobyte.String
	if !exts.ReadASN1(&seq, cbasn1.SEQUENCE) || !exts.Empty() {
		return nil, errOCSPMalformed
	}
	var nonce *pkix.Extension
	for !seq.Empty() {
		var e cryptobyte.String
		var e2 pkix.Extension
		if !seq.ReadASN1(&e, cbasn1.SEQUENCE) || !e.ReadASN1ObjectIdentifier(&e2.Id) ||
			!e.ReadOptionalASN1Boolean(&e2.Critical, cbasn1.BOOLEAN, false) ||
			!e.ReadASN1Bytes(&e2.Value, cbasn1.OCTET_STRING) || !e.Empty() {
			return nil, errOCSPMalformed
		}
		if !e2.Id.Equal(oidOCSPNonce) {
			continue
		}
		// RFC 9654: extnValue is the DER of an OCTET STRING holding the
		// nonce; some older clients put the bare nonce there.
		n := cryptobyte.String(e2.Value)
		var inner []byte
		if !n.ReadASN1Bytes(&inner, cbasn1.OCTET_STRING) || !n.Empty() {
			inner = e2.Value
		}
		if len(inner) == 0 || len(inner) > maxNonce {
			return nil, errOCSPMalformed
		}
		nonce = &e2
	}
	return nonce, nil
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
	for i, id := range reqs {
		if qs[i], err = a.ocspStatus(id, now); err != nil {
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

// certID is what a CertID says.
type certID struct {
	hash      crypto.Hash // its hash algorithm; zero: one this responder does not know
	name, key []byte      // the issuer's name and key hashed
	serial    *big.Int
}

// parseCertID reads a CertID:
//
//	CertID ::= SEQUENCE { hashAlgorithm AlgorithmIdentifier, issuerNameHash OCTET STRING,
//	    issuerKeyHash OCTET STRING, serialNumber CertificateSerialNumber }
func parseCertID(der []byte) (certID, error) {
	in := cryptobyte.String(der)
	var id, alg, oid, name, key cryptobyte.String
	c := certID{serial: new(big.Int)}
	if !in.ReadASN1(&id, cbasn1.SEQUENCE) || !in.Empty() ||
		!id.ReadASN1(&alg, cbasn1.SEQUENCE) || !alg.ReadASN1Element(&oid, cbasn1.OBJECT_IDENTIFIER) || !validOID(oid) ||
		!id.ReadASN1(&name, cbasn1.OCTET_STRING) || !id.ReadASN1(&key, cbasn1.OCTET_STRING) ||
		!id.ReadASN1Integer(c.serial) || !id.Empty() {
		return c, errOCSPMalformed
	}
	if !alg.Empty() { // the parameters, NULL or absent: any one element
		var params cryptobyte.String
		if !alg.ReadAnyASN1Element(&params, nil) || !alg.Empty() {
			return c, errOCSPMalformed
		}
	}
	c.hash, c.name, c.key = ocspHashOIDs[string(oid)], name, key
	return c, nil
}

// validOID reports whether der is an OBJECT IDENTIFIER whose arcs read
// (an unknown one is a hash the responder does not know; a broken one, a
// malformed request).
func validOID(der cryptobyte.String) bool {
	var oid asn1.ObjectIdentifier
	return der.ReadASN1ObjectIdentifier(&oid)
}

// ocspStatus reads one CertID and the status of its certificate.
func (a *Authority) ocspStatus(der []byte, now time.Time) (ocspQuery, error) {
	q := ocspQuery{certID: der}
	id, err := parseCertID(der)
	if err != nil {
		return q, err
	}
	want, ok := a.issuerIDs[id.hash]
	if !ok || !bytes.Equal(id.key, want.key) || !bytes.Equal(id.name, want.name) {
		return q, nil // not a certificate of this CA
	}
	q.serial = serialHex(id.serial)
	q.st, err = a.certStatus(q.serial, now)
	return q, err
}

// certStatus reads the status of the certificate serial at now
// (on SQLite, from the status cache while the database is unchanged).
func (a *Authority) certStatus(serial string, now time.Time) (certStatus, error) {
	row, err := a.db.statuses.status(serial, a.db.readStatus)
	if err != nil || !row.found {
		return certStatus{}, err
	}
	revoked, reason := row.revoked, row.reason
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
