package ca

import (
	"bytes"
	"context"
	"crypto"
	"crypto/x509"
	"fmt"
	"testing"
	"time"

	"golang.org/x/crypto/ocsp"
)

// ask asks a about c (a CertID hashed with h) at now, and returns the
// reply, the status it states and whether it came from the cache.
func ask(t *testing.T, a *Authority, c *x509.Certificate, h crypto.Hash, now time.Time) ([]byte, int, bool) {
	t.Helper()
	req, err := ocsp.CreateRequest(c, a.Issuer, &ocsp.RequestOptions{Hash: h})
	if err != nil {
		t.Fatal(err)
	}
	reply, how, err := a.answerOCSP(req, now)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := ocsp.ParseResponseForCert(reply, c, a.Issuer)
	if err != nil {
		t.Fatal(err)
	}
	return reply, resp.Status, how.cached
}

// An answer is signed once and served again while the database says the
// same; a revocation, here or by another process on the same database, is
// answered at once.
func TestOCSPCache(t *testing.T) {
	a := newCA(t, InitOptions{})
	leaf, err := activate(t, a, mustEnroll(t, a), p256(t))
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	// Issuance signed the SHA-1 answer ahead.
	first, st, cached := ask(t, a, leaf, crypto.SHA1, now)
	if st != ocsp.Good || !cached {
		t.Fatalf("first SHA-1 answer: status %d, cached %v", st, cached)
	}
	if _, _, cached := ask(t, a, leaf, crypto.SHA256, now); cached {
		t.Fatal("a SHA-256 CertID was answered from the cache before any was signed")
	}
	if _, _, cached := ask(t, a, leaf, crypto.SHA256, now); !cached {
		t.Fatal("the SHA-256 answer was not kept")
	}
	if again, _, _ := ask(t, a, leaf, crypto.SHA1, now.Add(time.Minute)); !bytes.Equal(again, first) {
		t.Fatal("the answer was signed again")
	}

	// Another process (paraphe-ca revoke beside the server) revokes it:
	// this one's cache does not hide it.
	other, err := Open(a.Dir)
	if err != nil {
		t.Fatal(err)
	}
	if err := other.Revoke(context.Background(), serialHex(leaf.SerialNumber), "keyCompromise"); err != nil {
		t.Fatal(err)
	}
	other.Close()
	if _, st, cached := ask(t, a, leaf, crypto.SHA1, time.Now()); st != ocsp.Revoked || cached {
		t.Fatalf("after a revocation elsewhere: status %d, cached %v", st, cached)
	}
	if _, st, cached := ask(t, a, leaf, crypto.SHA1, time.Now()); st != ocsp.Revoked || !cached {
		t.Fatalf("the revoked answer: status %d, cached %v", st, cached)
	}
}

// A revocation made here signs the answers kept again at once.
func TestOCSPCacheRevokedHere(t *testing.T) {
	a := newCA(t, InitOptions{})
	leaf, err := activate(t, a, mustEnroll(t, a), p256(t))
	if err != nil {
		t.Fatal(err)
	}
	ask(t, a, leaf, crypto.SHA256, time.Now())
	if err := a.Revoke(context.Background(), serialHex(leaf.SerialNumber), "cessationOfOperation"); err != nil {
		t.Fatal(err)
	}
	for _, h := range []crypto.Hash{crypto.SHA1, crypto.SHA256} {
		if _, st, cached := ask(t, a, leaf, h, time.Now()); st != ocsp.Revoked || !cached {
			t.Fatalf("%v after revoking here: status %d, cached %v", h, st, cached)
		}
	}
}

// The refresher signs again what was asked for since it was signed, once
// ocspRefresh old, and forgets the rest; nothing older than ocspServeFor
// is served.
func TestOCSPRefresh(t *testing.T) {
	a := newCA(t, InitOptions{})
	asked, err := activate(t, a, mustEnroll(t, a), p256(t))
	if err != nil {
		t.Fatal(err)
	}
	idle, err := activate(t, a, mustEnroll(t, a), p256(t))
	if err != nil {
		t.Fatal(err)
	}
	if n := a.ocspCache.len(); n != 2 {
		t.Fatalf("%d answers signed ahead, want 2", n)
	}
	// The refresher's clock from the answers' own signing times: under
	// load the two activations are seconds apart.
	var oldest, newest time.Time
	for _, e := range a.ocspCache.entries("") {
		if oldest.IsZero() || e.signed.Before(oldest) {
			oldest = e.signed
		}
		if e.signed.After(newest) {
			newest = e.signed
		}
	}
	now := newest
	first, _, _ := ask(t, a, asked, crypto.SHA1, now)
	if err := a.refreshOCSP(oldest.Add(ocspRefresh - time.Second)); err != nil {
		t.Fatal(err)
	}
	if again, _, cached := ask(t, a, asked, crypto.SHA1, now); !cached || !bytes.Equal(again, first) {
		t.Fatal("a young answer was signed again")
	}
	later := newest.Add(ocspRefresh)
	if err := a.refreshOCSP(later); err != nil {
		t.Fatal(err)
	}
	if n := a.ocspCache.len(); n != 1 {
		t.Fatalf("%d answers kept, want the one asked for", n)
	}
	fresh, _, cached := ask(t, a, asked, crypto.SHA1, later)
	if !cached || bytes.Equal(fresh, first) {
		t.Fatal("the answer asked for was not signed again")
	}
	resp, _ := ocsp.ParseResponseForCert(fresh, asked, a.Issuer)
	if resp.ThisUpdate.Before(later.Add(-ocspBackdate - time.Second)) {
		t.Fatalf("refreshed answer's thisUpdate %v", resp.ThisUpdate)
	}
	if _, _, cached := ask(t, a, idle, crypto.SHA1, later); cached {
		t.Fatal("an answer nobody asked for was kept")
	}
	// A refresher that fell behind: the answer is too old to serve.
	if _, _, cached := ask(t, a, asked, crypto.SHA1, later.Add(ocspServeFor)); cached {
		t.Fatal("an answer older than ocspServeFor was served")
	}
}

// Answers with a nonce are signed for the request; so are unknown
// certificates', which are not kept (anyone can ask about any serial).
func TestOCSPNotCached(t *testing.T) {
	a := newCA(t, InitOptions{})
	leaf, err := activate(t, a, mustEnroll(t, a), p256(t))
	if err != nil {
		t.Fatal(err)
	}
	req, _ := ocsp.CreateRequest(leaf, a.Issuer, nil)
	for range 2 {
		if _, how, err := a.answerOCSP(withNonce(t, req, octets(t, []byte("0123456789abcdef"))), time.Now()); err != nil || how.cached {
			t.Fatalf("with a nonce: cached %v, %v", how.cached, err)
		}
	}
	a.ocspCache.clear()
	stranger := *leaf
	stranger.SerialNumber = randomSerial()
	for range 2 {
		req, _ := ocsp.CreateRequest(&stranger, a.Issuer, nil)
		if _, how, err := a.answerOCSP(req, time.Now()); err != nil || how.cached || how.status != "unknown" {
			t.Fatalf("unknown serial: %+v, %v", how, err)
		}
	}
	if n := a.ocspCache.len(); n != 0 {
		t.Fatalf("%d answers kept", n)
	}
}

// The cache holds ocspCacheSize answers at most, and ocspVariants per
// certificate, however many are asked for.
func TestOCSPCacheBounds(t *testing.T) {
	c := newOCSPCache()
	now := time.Now()
	for i := range ocspCacheSize + 100 {
		serial := fmt.Sprintf("%x", i)
		c.put(ocspQuery{certID: []byte(serial), serial: serial, st: certStatus{known: true}}, []byte("reply"), now)
	}
	if n := c.len(); n != ocspCacheSize {
		t.Fatalf("%d answers kept, want %d", n, ocspCacheSize)
	}
	last := fmt.Sprintf("%x", ocspCacheSize+99)
	if c.get(ocspQuery{certID: []byte(last), serial: last, st: certStatus{known: true}}, now) == nil {
		t.Fatal("the last answer put was not kept")
	}
	c.clear()
	for i := range ocspVariants + 3 {
		c.put(ocspQuery{certID: []byte{byte(i)}, serial: "1", st: certStatus{known: true}}, []byte("reply"), now)
	}
	if n := c.len(); n != ocspVariants {
		t.Fatalf("%d answers kept for one certificate, want %d", n, ocspVariants)
	}
}
