package ca

import (
	"context"
	"crypto/x509"
	"errors"
	"slices"
	"testing"
	"time"

	"golang.org/x/crypto/ocsp"

	"github.com/paraphe/paraphe/protocol"
)

// ocspStatusOf asks the responder about c at now.
func ocspStatusOf(t *testing.T, a *Authority, c *x509.Certificate, now time.Time) *ocsp.Response {
	t.Helper()
	req, err := ocsp.CreateRequest(c, a.Issuer, nil)
	if err != nil {
		t.Fatal(err)
	}
	der, err := a.OCSP(req, now)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := ocsp.ParseResponseForCert(der, c, a.Issuer)
	if err != nil {
		t.Fatal(err)
	}
	return resp
}

func wantStatus(t *testing.T, a *Authority, c *x509.Certificate, now time.Time, status, reason int) {
	t.Helper()
	r := ocspStatusOf(t, a, c, now)
	if r.Status != status || (status == ocsp.Revoked && r.RevocationReason != reason) {
		t.Fatalf("%x: OCSP status %d reason %d, want %d reason %d", c.SerialNumber, r.Status, r.RevocationReason, status, reason)
	}
}

// A renewed certificate is superseded when its successor is issued; a key
// compromise revokes the certificates renewed from it too, since whoever
// held the key could have renewed.
func TestRevocationFollowsRenewals(t *testing.T) {
	a := newCA(t, InitOptions{})
	ctx := context.Background()
	first, err := activate(t, a, mustEnroll(t, a), p256(t))
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	wantStatus(t, a, first, now, ocsp.Good, 0)
	second, err := a.Reenroll(ctx, first, csrFor(t, p256(t)), "")
	if err != nil {
		t.Fatal(err)
	}
	wantStatus(t, a, first, time.Now(), ocsp.Revoked, ocsp.Superseded)
	third, err := a.Reenroll(ctx, second, csrFor(t, p256(t)), "")
	if err != nil {
		t.Fatal(err)
	}
	wantStatus(t, a, second, time.Now(), ocsp.Revoked, ocsp.Superseded)
	wantStatus(t, a, third, time.Now(), ocsp.Good, 0)

	// The original's key was compromised: the whole line goes.
	revoked, err := a.RevokeChain(ctx, serialHex(first.SerialNumber), "keyCompromise")
	if err != nil {
		t.Fatal(err)
	}
	want := []string{serialHex(first.SerialNumber), serialHex(second.SerialNumber), serialHex(third.SerialNumber)}
	if !slices.Equal(revoked, want) {
		t.Fatalf("revoked %v, want %v", revoked, want)
	}
	for _, c := range []*x509.Certificate{first, second, third} {
		wantStatus(t, a, c, time.Now(), ocsp.Revoked, ocsp.KeyCompromise)
	}
	if _, err := a.Reenroll(ctx, third, csrFor(t, p256(t)), ""); apiCode(err) != protocol.CodeRevoked {
		t.Fatalf("renewal of a certificate revoked with its predecessor: %v", err)
	}
	crl, err := a.CRL(time.Now())
	if err != nil {
		t.Fatal(err)
	}
	rl, err := x509.ParseRevocationList(crl)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range rl.RevokedCertificateEntries {
		if e.ReasonCode != ocsp.KeyCompromise {
			t.Errorf("CRL entry %x: reason %d", e.SerialNumber, e.ReasonCode)
		}
	}
	if len(rl.RevokedCertificateEntries) != 3 {
		t.Fatalf("CRL lists %d certificates, want 3", len(rl.RevokedCertificateEntries))
	}
	if err := a.Revoke(ctx, serialHex(second.SerialNumber), "keyCompromise"); !errors.Is(err, ErrAlreadyRevoked) {
		t.Fatalf("revoke again: %v", err)
	}
}

// With an overlap in the CA's policy, the predecessor stays good that long
// after its successor is issued, then is superseded; revoked meanwhile for
// another reason, its successor can no longer renew.
func TestRenewalOverlap(t *testing.T) {
	a := newCA(t, InitOptions{RenewalOverlap: 7})
	if a.Config.RenewalOverlapDays != 7 {
		t.Fatalf("overlap %d days", a.Config.RenewalOverlapDays)
	}
	ctx := context.Background()
	first, err := activate(t, a, mustEnroll(t, a), p256(t))
	if err != nil {
		t.Fatal(err)
	}
	second, err := a.Reenroll(ctx, first, csrFor(t, p256(t)), "")
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	end := now.AddDate(0, 0, 7)
	wantStatus(t, a, first, now, ocsp.Good, 0)
	wantStatus(t, a, first, end.Add(-time.Minute), ocsp.Good, 0)
	wantStatus(t, a, first, end.Add(time.Minute), ocsp.Revoked, ocsp.Superseded)
	rl := func(at time.Time) int {
		der, err := a.CRL(at)
		if err != nil {
			t.Fatal(err)
		}
		l, err := x509.ParseRevocationList(der)
		if err != nil {
			t.Fatal(err)
		}
		return len(l.RevokedCertificateEntries)
	}
	if rl(now) != 0 || rl(end.Add(time.Minute)) != 1 {
		t.Fatalf("CRL entries now %d, after the overlap %d", rl(now), rl(end.Add(time.Minute)))
	}
	hs, err := a.List(ctx, false)
	if err != nil {
		t.Fatal(err)
	}
	if c := hs[0].Certificates[0]; c.Revoked != nil || c.SupersededFrom == nil || c.SupersededFrom.Before(end.Add(-time.Minute)) {
		t.Fatalf("list during the overlap: %+v", c)
	}
	// The holder left the order during the overlap.
	if err := a.Revoke(ctx, serialHex(first.SerialNumber), "affiliationChanged"); err != nil {
		t.Fatal(err)
	}
	wantStatus(t, a, first, time.Now(), ocsp.Revoked, ocsp.AffiliationChanged)
	wantStatus(t, a, second, time.Now(), ocsp.Good, 0)
	if _, err := a.Reenroll(ctx, second, csrFor(t, p256(t)), ""); apiCode(err) != protocol.CodePredecessorRevoked {
		t.Fatalf("renewal after a predecessor was revoked: %v", err)
	}
}

// A client whose renewal reply was lost asks again with the same key: it
// gets the certificate already issued, nothing new.
func TestReenrollRetry(t *testing.T) {
	a := newCA(t, InitOptions{})
	ctx := context.Background()
	first, err := activate(t, a, mustEnroll(t, a), p256(t))
	if err != nil {
		t.Fatal(err)
	}
	csr := csrFor(t, p256(t))
	second, err := a.Reenroll(ctx, first, csr, "")
	if err != nil {
		t.Fatal(err)
	}
	again, err := a.Reenroll(ctx, first, csr, "")
	if err != nil || !again.Equal(second) {
		t.Fatalf("retry: %v", err)
	}
	if _, err := a.Reenroll(ctx, first, csrFor(t, p256(t)), ""); apiCode(err) != protocol.CodeAlreadyRenewed {
		t.Fatalf("another key: %v", err)
	}
}

func TestRenewalOverlapValidated(t *testing.T) {
	for _, days := range []int{-1, 91} {
		if err := Init(t.TempDir()+"/ca", InitOptions{RenewalOverlap: days}); err == nil {
			t.Errorf("overlap of %d days accepted", days)
		}
	}
}
