package pdf

import (
	"context"
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

// A token signed by the attacker's own key, carrying the real TSA's
// certificate in its certificate set, is accepted as trusted.
func TestAttackForeignTSACert(t *testing.T) {
	srv, key, chain, hc := caPKI(t)
	real := &tsaClient{url: srv.URL + "/tsa", http: hc}
	tok, _, err := real.stamp(context.Background(), []byte("x"))
	if err != nil {
		t.Fatal(err)
	}
	rts, _ := timestamp.Parse(tok)
	var tsaCert *x509.Certificate
	for _, c := range rts.Certificates {
		for _, u := range c.ExtKeyUsage {
			if u == x509.ExtKeyUsageTimeStamping {
				tsaCert = c
			}
		}
	}
	// the attacker's own self-signed "TSA"
	ak, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(7), Subject: pkix.Name{CommonName: "Mallory TSA"},
		NotBefore: time.Now().AddDate(-10, 0, 0), NotAfter: time.Now().AddDate(10, 0, 0),
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageTimeStamping}, KeyUsage: x509.KeyUsageDigitalSignature}
	der, _ := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &ak.PublicKey, ak)
	acert, _ := x509.ParseCertificate(der)
	forgedTime := tsaCert.NotBefore.Add(time.Second)
	fake := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		req, err := timestamp.ParseRequest(body)
		if err != nil {
			http.Error(w, err.Error(), 400)
			return
		}
		ts := &timestamp.Timestamp{HashAlgorithm: req.HashAlgorithm, HashedMessage: req.HashedMessage, Nonce: req.Nonce,
			Time: forgedTime, Policy: asn1.ObjectIdentifier{1, 2, 3}, AddTSACertificate: true}
		resp, err := ts.CreateResponseWithOpts(acert, ak, crypto.SHA256)
		if err != nil {
			http.Error(w, err.Error(), 500)
			return
		}
		resp = injectCert(t, resp, tsaCert.Raw)
		w.Header().Set("Content-Type", "application/timestamp-reply")
		w.Write(resp)
	}))
	defer fake.Close()
	s := &Signer{Key: key, Chain: chain, Opts: Options{Level: LevelT, TSA: fake.URL, HTTP: http.DefaultClient}}
	out := signWith(t, s, makePDF(1, false))
	rep, err := Verify(context.Background(), out, VerifyOptions{Anchors: anchorsOf(srv.Root.Raw)})
	if err != nil {
		t.Fatal(err)
	}
	r := rep.Signatures[0]
	t.Logf("ts=%v level=%s problems=%v valid=%v", r.TimestampTime, r.Level, r.Problems, r.Valid())
	if r.TimestampTime != nil {
		t.Errorf("forged time-stamp %v accepted (signed by a self-signed key)", r.TimestampTime)
	}
}

func injectCert(t *testing.T, resp, cert []byte) []byte {
	var tr struct {
		Status asn1.RawValue
		Token  asn1.RawValue
	}
	if _, err := asn1.Unmarshal(resp, &tr); err != nil {
		t.Fatal(err)
	}
	var tokSeq, oidV, wrapV, sd asn1.RawValue
	asn1.Unmarshal(tr.Token.FullBytes, &tokSeq)
	r2, _ := asn1.Unmarshal(tokSeq.Bytes, &oidV)
	asn1.Unmarshal(r2, &wrapV)
	asn1.Unmarshal(wrapV.Bytes, &sd)
	var parts []asn1.RawValue
	rest := sd.Bytes
	for len(rest) > 0 {
		var v asn1.RawValue
		rest, _ = asn1.Unmarshal(rest, &v)
		parts = append(parts, v)
	}
	var body []byte
	for _, p := range parts {
		if p.Class == asn1.ClassContextSpecific && p.Tag == 0 {
			nb := append(append([]byte{}, p.Bytes...), cert...)
			b, _ := asn1.Marshal(asn1.RawValue{Class: asn1.ClassContextSpecific, Tag: 0, IsCompound: true, Bytes: nb})
			body = append(body, b...)
			continue
		}
		body = append(body, p.FullBytes...)
	}
	sdb, _ := asn1.Marshal(asn1.RawValue{Class: asn1.ClassUniversal, Tag: asn1.TagSequence, IsCompound: true, Bytes: body})
	oid := oidV.FullBytes
	wrap, _ := asn1.Marshal(asn1.RawValue{Class: asn1.ClassContextSpecific, Tag: 0, IsCompound: true, Bytes: sdb})
	tok, _ := asn1.Marshal(asn1.RawValue{Class: asn1.ClassUniversal, Tag: asn1.TagSequence, IsCompound: true, Bytes: append(oid, wrap...)})
	out, _ := asn1.Marshal(asn1.RawValue{Class: asn1.ClassUniversal, Tag: asn1.TagSequence, IsCompound: true, Bytes: append(append([]byte{}, tr.Status.FullBytes...), tok...)})
	return out
}
