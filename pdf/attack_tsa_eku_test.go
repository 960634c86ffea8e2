package pdf

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"io"
	"math/big"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/digitorus/timestamp"
)

// TestAttackSignerStampsHimself: many signers' certificates carry no
// extended key usage (qualified signature certificates often do not), and
// crypto/x509 reads "no extended key usage" as "any". A holder whose key
// was compromised and revoked — or the thief — then signs and time-stamps
// the signature himself, with his own certificate as the "time-stamping
// unit" and a time before the revocation: the forged time must prove
// nothing (RFC 3161 §2.3: a time-stamping unit's certificate is meant for
// time-stamping, id-kp-timeStamping).
func TestAttackSignerStampsHimself(t *testing.T) {
	rk, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	lk, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	now := time.Now()
	root := issueCert(t, &x509.Certificate{Subject: pkix.Name{CommonName: "National eID Root"}, IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign}, nil, &rk.PublicKey, rk)
	leaf := issueCert(t, &x509.Certificate{Subject: pkix.Name{CommonName: "Jan Novak"},
		KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageContentCommitment}, root, &lk.PublicKey, rk)
	revokedAt := now.Add(-10 * time.Minute).Truncate(time.Second)
	crl, err := x509.CreateRevocationList(rand.Reader, &x509.RevocationList{Number: big.NewInt(1), ThisUpdate: now.Add(-time.Minute),
		NextUpdate: now.Add(24 * time.Hour), RevokedCertificateEntries: []x509.RevocationListEntry{
			{SerialNumber: leaf.SerialNumber, RevocationTime: revokedAt, ReasonCode: 1}}}, root, rk)
	if err != nil {
		t.Fatal(err)
	}
	self := tsaServer(t, leaf, lk, revokedAt.Add(-20*time.Minute))
	out := signWith(t, &Signer{Key: lk, Chain: []*x509.Certificate{leaf, root}, Opts: Options{Level: LevelT, TSA: self.URL, HTTP: self.Client()}},
		makePDF(1, false))
	data := withDSS(t, mustRead(t, out), nil, [][]byte{crl}, nil)
	for _, usage := range []Usage{0, UsageSignatures | UsageTimestamps} {
		r := verifySingle(t, writeTemp(t, data), VerifyOptions{Trust: []Anchor{{Cert: root, Source: SourceUser, Usage: usage}}})
		if r.Valid() || r.TimestampTime != nil || r.Revocation != RevocationRevoked {
			t.Fatalf("signed after revocation, stamped by the signer himself: %s/%s time-stamp %v revocation %s",
				r.Indication, r.SubIndication, r.TimestampTime, r.Revocation)
		}
	}
}

// tsaServer is a time-stamping unit on loopback signing with cert and key,
// at the time at (now when zero).
func tsaServer(t *testing.T, cert *x509.Certificate, key crypto.Signer, at time.Time) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		req, err := timestamp.ParseRequest(body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		when := at
		if when.IsZero() {
			when = time.Now()
		}
		ts := &timestamp.Timestamp{HashAlgorithm: req.HashAlgorithm, HashedMessage: req.HashedMessage, Nonce: req.Nonce,
			Time: when, Policy: asn1.ObjectIdentifier{1, 2, 3}, AddTSACertificate: true}
		resp, err := ts.CreateResponseWithOpts(cert, key, crypto.SHA256)
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "application/timestamp-reply")
		w.Write(resp)
	}))
	t.Cleanup(srv.Close)
	return srv
}
