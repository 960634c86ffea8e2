package pdf

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"golang.org/x/crypto/ocsp"

	"github.com/paraphe/paraphe/pdf/internal/cos"
)

// fetch gets url (POSTing body when there is one) through hc.
func fetch(t *testing.T, hc *http.Client, url string, body []byte) []byte {
	t.Helper()
	var resp *http.Response
	var err error
	if body != nil {
		resp, err = hc.Post(url, "application/ocsp-request", bytes.NewReader(body))
	} else {
		resp, err = hc.Get(url)
	}
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("%s: %s %v", url, resp.Status, err)
	}
	return b
}

// withDSS appends an update giving the document a /DSS with these OCSP
// responses, CRLs and certificates.
func withDSS(t *testing.T, S []byte, ocsps, crls, certs [][]byte) []byte {
	t.Helper()
	f, err := cos.Open(bytes.NewReader(S), int64(len(S)))
	if err != nil {
		t.Fatal(err)
	}
	doc, _ := readDocument(f)
	n := f.MaxNum + 1
	objs := map[int]string{}
	next := n + 1
	list := func(items [][]byte) string {
		var refs []string
		for _, it := range items {
			objs[next] = fmt.Sprintf("<< /Length %d >>\nstream\n%s\nendstream", len(it), it)
			refs = append(refs, fmt.Sprintf("%d 0 R", next))
			next++
		}
		return fmt.Sprint(refs)
	}
	objs[n] = fmt.Sprintf("<< /Type /DSS /OCSPs %s /CRLs %s /Certs %s >>", list(ocsps), list(crls), list(certs))
	cat := copyDict(doc.catalog)
	cat["DSS"] = cos.Ref{Num: n}
	objs[doc.catalogRef.Num] = string(cos.Append(nil, cat))
	return appendUpdate(S, objs, fmt.Sprintf("<< /Size %d /Root %s /Prev %d >>", next, cos.Append(nil, f.Trailer["Root"]), lastStartXRef(S)))
}

// TestGoodOCSPDoesNotMaskRevokedCRL: the file holds two statements of the
// issuer about the signer's certificate, both recent: an OCSP "good" from
// before it was revoked, and a CRL that lists it as revoked
// (keyCompromise). The revocation is the news; which of the two comes
// first in the file must not decide.
func TestGoodOCSPDoesNotMaskRevokedCRL(t *testing.T) {
	srv, key, chain, hc := caPKI(t)
	leaf, issuer := chain[0], chain[1]
	out := signWith(t, &Signer{Key: key, Chain: chain, Opts: Options{Level: LevelB}}, makePDF(1, false))
	req, err := ocsp.CreateRequest(leaf, issuer, nil)
	if err != nil {
		t.Fatal(err)
	}
	good := fetch(t, hc, leaf.OCSPServer[0], req)
	if r, err := ocsp.ParseResponseForCert(good, leaf, issuer); err != nil || r.Status != ocsp.Good {
		t.Fatalf("OCSP before revocation: %v %v", r, err)
	}
	if err := srv.Revoke(context.Background(), fmt.Sprintf("%x", leaf.SerialNumber), "keyCompromise"); err != nil {
		t.Fatal(err)
	}
	crl := fetch(t, hc, leaf.CRLDistributionPoints[0], nil)
	data := withDSS(t, mustRead(t, out), [][]byte{good}, [][]byte{crl}, [][]byte{issuer.Raw})
	later := func() time.Time { return time.Now().Add(time.Minute) }
	for _, online := range []bool{false, true} {
		rep, err := VerifyReader(context.Background(), bytes.NewReader(data), int64(len(data)), "x.pdf",
			VerifyOptions{Trust: []Anchor{{Cert: srv.Root, Source: SourcePolicy}}, Now: later, Online: online, HTTP: hc})
		if err != nil {
			t.Fatal(err)
		}
		r := rep.Signatures[0]
		if r.Valid() || r.Revocation != RevocationRevoked || r.SubIndication != RevokedNoPOE {
			t.Errorf("online=%v: a revoked certificate (the CRL in the file says so) reported %s/%s, revocation %s",
				online, r.Indication, r.SubIndication, r.Revocation)
		}
	}
}

// idp is an IssuingDistributionPoint extension (RFC 5280 §5.2.5) naming
// the distribution point uri, critical as the RFC requires.
func idp(uri string) pkix.Extension {
	name, _ := asn1.Marshal(asn1.RawValue{Class: asn1.ClassContextSpecific, Tag: 6, Bytes: []byte(uri)})
	full, _ := asn1.Marshal(asn1.RawValue{Class: asn1.ClassContextSpecific, Tag: 0, IsCompound: true, Bytes: name})
	dp, _ := asn1.Marshal(asn1.RawValue{Class: asn1.ClassContextSpecific, Tag: 0, IsCompound: true, Bytes: full})
	v, _ := asn1.Marshal(asn1.RawValue{Class: asn1.ClassUniversal, Tag: asn1.TagSequence, IsCompound: true, Bytes: dp})
	return pkix.Extension{Id: asn1.ObjectIdentifier{2, 5, 29, 28}, Critical: true, Value: v}
}

// TestScopedCRLIsNotCompleteEvidence: a CRL that covers only part of what
// the issuer revoked — one partition of its certificates (an issuing
// distribution point other than the certificate's), or a delta CRL (only
// the changes since a base CRL) — does not say a certificate it leaves
// out is good. Embedded in the file, it must not stand for "not revoked",
// nor stop the verifier from asking the certificate's own CRL online.
func TestScopedCRLIsNotCompleteEvidence(t *testing.T) {
	rk, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	lk, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	mux := http.NewServeMux()
	srv := httptest.NewServer(mux)
	defer srv.Close()
	now := time.Now()
	root := issueCert(t, &x509.Certificate{Subject: pkix.Name{CommonName: "Partitioned Root"}, IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign, NotBefore: now.Add(-time.Hour), NotAfter: now.AddDate(1, 0, 0)}, nil, &rk.PublicKey, rk)
	leaf := issueCert(t, &x509.Certificate{Subject: pkix.Name{CommonName: "Revoked Signer"}, KeyUsage: x509.KeyUsageDigitalSignature,
		NotBefore: now.Add(-time.Hour), NotAfter: now.AddDate(1, 0, 0),
		CRLDistributionPoints: []string{srv.URL + "/part1.crl"}}, root, &lk.PublicKey, rk)
	crl := func(n int64, revoked []x509.RevocationListEntry, exts ...pkix.Extension) []byte {
		der, err := x509.CreateRevocationList(rand.Reader, &x509.RevocationList{Number: big.NewInt(n), ThisUpdate: now.Add(-time.Minute),
			NextUpdate: now.Add(24 * time.Hour), RevokedCertificateEntries: revoked, ExtraExtensions: exts}, root, rk)
		if err != nil {
			t.Fatal(err)
		}
		return der
	}
	// The certificate's own CRL, online, lists it.
	part1 := crl(1, []x509.RevocationListEntry{{SerialNumber: leaf.SerialNumber, RevocationTime: now.Add(-30 * time.Minute)}},
		idp(srv.URL+"/part1.crl"))
	mux.HandleFunc("/part1.crl", func(w http.ResponseWriter, _ *http.Request) { w.Write(part1) })
	out := signWith(t, &Signer{Key: lk, Chain: []*x509.Certificate{leaf, root}, Opts: Options{Level: LevelB}}, makePDF(1, false))
	S := mustRead(t, out)
	o := VerifyOptions{Trust: []Anchor{{Cert: root, Source: SourceUser}}, Online: true, HTTP: srv.Client()}
	if r := verifySingle(t, writeTemp(t, S), o); r.Revocation != RevocationRevoked || r.Valid() {
		t.Fatalf("the file without embedded data: %s/%s revocation %s", r.Indication, r.SubIndication, r.Revocation)
	}
	for name, embedded := range map[string][]byte{
		"another partition": crl(2, nil, idp(srv.URL+"/part2.crl")),
		"a delta CRL":       crl(3, nil, pkix.Extension{Id: asn1.ObjectIdentifier{2, 5, 29, 27}, Critical: true, Value: []byte{2, 1, 1}}),
	} {
		t.Run(name, func(t *testing.T) {
			file := writeTemp(t, withDSS(t, S, nil, [][]byte{embedded}, nil))
			if r := verifySingle(t, file, o); r.Valid() || r.Revocation != RevocationRevoked {
				t.Fatalf("revoked certificate, %s embedded, online: %s/%s revocation %s (%s)", name, r.Indication, r.SubIndication, r.Revocation, r.RevocationSrc)
			}
			offline := o
			offline.Online = false
			if r := verifySingle(t, file, offline); r.Revocation == RevocationGood {
				t.Fatalf("%s embedded, offline: revocation %s", name, r.Revocation)
			}
		})
	}
	// The certificate's own partition, embedded and not listing it, is
	// complete evidence (offline: online, the revocation is news).
	own := crl(4, nil, idp(srv.URL+"/part1.crl"))
	o.Online = false
	if r := verifySingle(t, writeTemp(t, withDSS(t, S, nil, [][]byte{own}, nil)), o); r.Revocation != RevocationGood || r.RevocationSrc != RevocationEmbedded {
		t.Fatalf("its own partition embedded: revocation %s from %s", r.Revocation, r.RevocationSrc)
	}
}

// TestOnlineSeesRevocationBeforeSigning: the holder's key is compromised
// and his certificate revoked; the thief signs afterwards, with a real
// time-stamp (which proves the signature came after the revocation), and
// embeds an OCSP "good" fetched before the revocation — OCSP answers
// anyone. Asked to check revocation online, the verifier must learn of the
// revocation rather than stop at the embedded answer.
func TestOnlineSeesRevocationBeforeSigning(t *testing.T) {
	srv, key, chain, hc := caPKI(t)
	leaf, issuer := chain[0], chain[1]
	req, err := ocsp.CreateRequest(leaf, issuer, nil)
	if err != nil {
		t.Fatal(err)
	}
	good := fetch(t, hc, leaf.OCSPServer[0], req)
	if err := srv.Revoke(context.Background(), fmt.Sprintf("%x", leaf.SerialNumber), "keyCompromise"); err != nil {
		t.Fatal(err)
	}
	// The time-stamp must fall in a later second than the revocation for
	// the order to be provable (the CA keeps whole seconds): a wait on the
	// clock, not on another task.
	time.Sleep(time.Until(time.Now().Truncate(time.Second).Add(time.Second)))
	out := signWith(t, &Signer{Key: key, Chain: chain, Opts: Options{Level: LevelT, TSA: srv.URL + "/tsa", HTTP: hc}}, makePDF(1, false))
	data := withDSS(t, mustRead(t, out), [][]byte{good}, nil, [][]byte{issuer.Raw})
	rep, err := VerifyReader(context.Background(), bytes.NewReader(data), int64(len(data)), "x.pdf",
		VerifyOptions{Trust: []Anchor{{Cert: srv.Root, Source: SourcePolicy}}, Online: true, HTTP: hc})
	if err != nil {
		t.Fatal(err)
	}
	r := rep.Signatures[0]
	if r.TimestampTime == nil {
		t.Fatalf("no trusted time-stamp: %v", r.Problems)
	}
	if r.Valid() || r.Revocation != RevocationRevoked || r.SubIndication != Revoked {
		t.Fatalf("signed after the revocation (time-stamp %v), checked online: %s/%s revocation %s (%s)",
			r.TimestampTime, r.Indication, r.SubIndication, r.Revocation, r.RevocationSrc)
	}
}
