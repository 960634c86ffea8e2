package ca

import (
	"crypto"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"fmt"
	"io"
	"log/slog"
	"math/big"
	"net/http"
	"path/filepath"
	"strings"
	"time"

	"github.com/digitorus/timestamp"
	"golang.org/x/crypto/ocsp"
)

// The services signatures need besides issuance: an RFC 3161 time-stamping
// authority, an OCSP responder for the issuing CA's certificates, and CRLs
// for both CAs. Issued certificates name them (AIA, CRL distribution
// points), and the service document lists them.

// Paths of the services, under the CA's URL.
const (
	pathTSA        = "/tsa"
	pathOCSP       = "/ocsp"
	pathIssuingCRL = "/crl/issuing.crl"
	pathRootCRL    = "/crl/root.crl"
	pathIssuingCer = "/ca/issuing.cer"
	pathRootCer    = "/ca/root.cer"
)

const (
	fileTSACert = "tsa.pem"
	fileTSAKey  = "tsa.key"
)

var (
	oidExtKeyUsage   = asn1.ObjectIdentifier{2, 5, 29, 37}
	oidTimeStamping  = asn1.ObjectIdentifier{1, 3, 6, 1, 5, 5, 7, 3, 8}
	oidTSAPolicy     = asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 99999, 1, 1} // Paraphe demo TSA policy
	revocationReason = map[string]int{
		"unspecified": ocsp.Unspecified, "keyCompromise": ocsp.KeyCompromise, "affiliationChanged": ocsp.AffiliationChanged,
		"superseded": ocsp.Superseded, "cessationOfOperation": ocsp.CessationOfOperation,
	}
)

func (a *Authority) url(path string) string { return strings.TrimRight(a.Config.URL, "/") + path }

func (a *Authority) validationURL(path string) string {
	return strings.TrimRight(a.Config.ValidationURL, "/") + path
}

// newTSA issues the time-stamping certificate (root-signed, extended key
// usage timeStamping only and critical, as RFC 3161 requires) for a new
// key made in keys.
func newTSA(cfg Config, root *Root, keys keyStore) (*x509.Certificate, crypto.Signer, error) {
	key, err := keys.generate(cfg.KeyType)
	if err != nil {
		return nil, nil, err
	}
	eku, _ := asn1.Marshal([]asn1.ObjectIdentifier{oidTimeStamping})
	now := time.Now()
	cert, err := sign(&x509.Certificate{
		Subject:               pkix.Name{CommonName: cfg.Name + " Time-Stamping Authority", Organization: []string{cfg.Name}},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.AddDate(10, 0, 0),
		KeyUsage:              x509.KeyUsageDigitalSignature,
		ExtraExtensions:       []pkix.Extension{{Id: oidExtKeyUsage, Critical: true, Value: eku}},
		BasicConstraintsValid: true,
		CRLDistributionPoints: []string{strings.TrimRight(cfg.ValidationURL, "/") + pathRootCRL},
		IssuingCertificateURL: []string{strings.TrimRight(cfg.ValidationURL, "/") + pathRootCer},
	}, root.Cert, key.Public(), root.key)
	if err != nil {
		keys.discard(key)
		return nil, nil, err
	}
	return cert, key, nil
}

// loadServices reads the TSA's certificate (its key is the key store's).
func (a *Authority) loadServices() (err error) {
	a.tsaCert, err = readCert(filepath.Join(a.Dir, fileTSACert))
	return err
}

func (a *server) handleTSA(w http.ResponseWriter, r *http.Request) {
	if ct := r.Header.Get("Content-Type"); ct != "application/timestamp-query" {
		http.Error(w, "expected application/timestamp-query", http.StatusUnsupportedMediaType)
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 16<<10))
	if err != nil {
		http.Error(w, "request too large", http.StatusRequestEntityTooLarge)
		return
	}
	reply, granted, err := a.timestamp(body, time.Now())
	if err != nil {
		a.log.Info("timestamp request refused", "err", err.Error())
		reply, _ = timestamp.CreateErrorResponse(timestamp.Rejection, timestamp.BadDataFormat)
	}
	status := "rejected"
	if granted {
		status = "granted"
	}
	a.metrics.tsa.WithLabelValues(status).Inc()
	w.Header().Set("Content-Type", "application/timestamp-reply")
	w.Write(reply)
}

// Timestamp answers an RFC 3161 request (DER) with a signed token, or
// with a rejection (RFC 3161 2.4.2) when the request uses a hash the TSA
// does not accept, carries an imprint whose length is not that hash's,
// asks for another policy, or carries any extension: the TSA supports
// none, and RFC 3161 has it refuse those it does not, critical or not.
func (a *Authority) Timestamp(req []byte, now time.Time) ([]byte, error) {
	reply, _, err := a.timestamp(req, now)
	return reply, err
}

// timestamp is Timestamp that also says whether the reply grants the
// time-stamp.
func (a *Authority) timestamp(req []byte, now time.Time) ([]byte, bool, error) {
	q, err := timestamp.ParseRequest(req)
	if err != nil {
		return nil, false, err
	}
	reject := func(why timestamp.FailureInfo) ([]byte, bool, error) {
		reply, err := timestamp.CreateErrorResponse(timestamp.Rejection, why)
		return reply, false, err
	}
	switch {
	case q.HashAlgorithm != crypto.SHA256 && q.HashAlgorithm != crypto.SHA384 && q.HashAlgorithm != crypto.SHA512:
		return reject(timestamp.BadAlgorithm)
	case len(q.HashedMessage) != q.HashAlgorithm.Size():
		return reject(timestamp.BadDataFormat)
	case q.TSAPolicyOID != nil && !q.TSAPolicyOID.Equal(oidTSAPolicy):
		return reject(timestamp.UnacceptedPolicy)
	case len(q.Extensions) > 0:
		return reject(timestamp.UnacceptedExtension)
	}
	reply, err := grantTimestamp(a.tsaCert, a.tsaKey, tstRequest{hash: q.HashAlgorithm, imprint: q.HashedMessage,
		nonce: q.Nonce, withCert: q.Certificates}, randomSerial(), now)
	return reply, err == nil, err
}

// CRL returns the current CRL of the issuing CA.
func (a *Authority) CRL(now time.Time) ([]byte, error) {
	tmpl := &x509.RevocationList{
		Number:     big.NewInt(now.Unix()),
		ThisUpdate: now.Add(-time.Minute),
		NextUpdate: now.Add(24 * time.Hour),
	}
	// A supersession may lie ahead, at the end of a renewal overlap.
	entries, err := revokedEntries(a.db, `SELECT serial, revoked, reason FROM certs WHERE revoked IS NOT NULL AND revoked <= ?`, now.Unix())
	if err != nil {
		return nil, err
	}
	tmpl.RevokedCertificateEntries = entries
	return x509.CreateRevocationList(nil, tmpl, a.Issuer, a.issuerKey)
}

// revokedEntries are the CRL entries of a query's rows (serial, revoked,
// reason).
func revokedEntries(q rowQuerier, query string, args ...any) ([]x509.RevocationListEntry, error) {
	rows, err := q.Query(query, args...)
	if err != nil {
		return nil, fmt.Errorf("ca: database: %w", err)
	}
	defer rows.Close()
	var out []x509.RevocationListEntry
	for rows.Next() {
		var serial, reason string
		var at int64
		if err := rows.Scan(&serial, &at, &reason); err != nil {
			return nil, fmt.Errorf("ca: database: %w", err)
		}
		n, _ := new(big.Int).SetString(serial, 16)
		out = append(out, x509.RevocationListEntry{SerialNumber: n, RevocationTime: time.Unix(at, 0), ReasonCode: revocationReason[reason]})
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("ca: database: %w", err)
	}
	return out, nil
}

func (a *server) handleCRL(w http.ResponseWriter, r *http.Request) {
	der, err := a.CRL(time.Now())
	if err != nil {
		a.writeError(w, err)
		return
	}
	w.Header().Set("Content-Type", "application/pkix-crl")
	w.Write(der)
}

// handleRootCRL serves the root's CRL from the file signed ahead: the
// server has no root key.
func (a *server) handleRootCRL(w http.ResponseWriter, r *http.Request) {
	der, err := a.RootCRL()
	if err != nil {
		a.log.Error("root CRL", "err", err.Error())
		http.Error(w, "the root CRL is not available", http.StatusServiceUnavailable)
		return
	}
	w.Header().Set("Content-Type", "application/pkix-crl")
	w.Write(der)
}

func (a *server) handleCert(c *x509.Certificate) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/pkix-cert")
		w.Write(c.Raw)
	}
}

// ValidationHandler serves what validators fetch over plain HTTP: OCSP,
// CRLs and the CA certificates (all signed, so TLS adds nothing, and some
// validators cannot fetch them over TLS).
func (ca *Authority) ValidationHandler(log *slog.Logger) http.Handler {
	a := &server{ca, log}
	mux := http.NewServeMux()
	a.validationRoutes(mux)
	return logRequests(log, a.metrics.observe(a.ocspGET(mux)))
}

func (a *server) validationRoutes(mux *http.ServeMux) {
	mux.HandleFunc("POST "+pathOCSP, a.handleOCSP) // GET: see ocspGET
	mux.HandleFunc("GET "+pathIssuingCRL, a.handleCRL)
	mux.HandleFunc("GET "+pathRootCRL, a.handleRootCRL)
	mux.HandleFunc("GET "+pathIssuingCer, a.handleCert(a.Issuer))
	mux.HandleFunc("GET "+pathRootCer, a.handleCert(a.Root))
}
