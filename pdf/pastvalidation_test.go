package pdf

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/paraphe/paraphe/ca"
	"github.com/paraphe/paraphe/config"
	"github.com/paraphe/paraphe/internal/testenv"
	"github.com/paraphe/paraphe/netclient"
)

// TestValidAtSigningTime: a certificate that has expired since is valid at
// the time a trusted time-stamp proves the signature was made, with the
// revocation data embedded then; without a time-stamp nothing proves when
// it was signed (ETSI EN 319 102-1 §5.6.2.1: OUT_OF_BOUNDS_NO_POE). The
// holder's certificate lives one day; verification runs three days later.
func TestValidAtSigningTime(t *testing.T) {
	srv := testenv.StartCA(t, ca.InitOptions{Validity: 1})
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	leaf := srv.Issue(t, key)
	chain := []*x509.Certificate{leaf, srv.Issuer, srv.Root}
	hc := caClient(t, srv)
	later := leaf.NotAfter.Add(48 * time.Hour)
	opts := VerifyOptions{Trust: []Anchor{{Cert: srv.Root, Source: SourcePolicy, Name: "root"}}, Now: func() time.Time { return later }}

	for _, tc := range []struct {
		level Level
		ind   Indication
		sub   SubIndication
	}{
		{LevelLT, TotalPassed, ""},
		// Valid when signed, but with no revocation data from then nothing
		// says it was not revoked, and its CA no longer answers for it.
		{LevelT, Indeterminate, TryLater},
		{LevelB, Indeterminate, OutOfBoundsNoPOE},
	} {
		t.Run(string(tc.level), func(t *testing.T) {
			s := &Signer{Key: key, Chain: chain, Opts: Options{Level: tc.level, TSA: srv.URL + "/tsa", HTTP: hc}}
			out := signWith(t, s, makePDF(1, false))
			// Today, the certificate is valid: all pass.
			now, err := Verify(context.Background(), out, VerifyOptions{Trust: opts.Trust})
			if err != nil {
				t.Fatal(err)
			}
			if r := now.Signatures[0]; r.Indication != TotalPassed || r.ExpiredSince {
				t.Fatalf("today: %s/%s %v", r.Indication, r.SubIndication, r.Problems)
			}
			rep, err := Verify(context.Background(), out, opts)
			if err != nil {
				t.Fatal(err)
			}
			r := rep.Signatures[0]
			if r.Indication != tc.ind || r.SubIndication != tc.sub {
				t.Fatalf("after expiry: %s/%s, want %s/%s (%v, trust %q)", r.Indication, r.SubIndication, tc.ind, tc.sub, r.Problems, r.TrustProblem)
			}
			if tc.level != LevelB && (!r.ExpiredSince || r.ProofTime == nil || !r.ValidationTime.Equal(*r.ProofTime)) {
				t.Fatalf("not judged at the proven time: %+v", r)
			}
			if tc.level == LevelLT && (r.Revocation != RevocationGood || r.RevocationSrc != RevocationEmbedded) {
				t.Fatalf("revocation %s from %s", r.Revocation, r.RevocationSrc)
			}
		})
	}
}

// TestRevokedBeforeOrAfter: a certificate revoked after a time-stamped
// signature leaves it valid; revoked, with no proof the signature came
// first, it cannot be confirmed.
func TestRevokedBeforeOrAfter(t *testing.T) {
	srv := testenv.StartCA(t, ca.InitOptions{})
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	leaf := srv.Issue(t, key)
	chain := []*x509.Certificate{leaf, srv.Issuer, srv.Root}
	hc := caClient(t, srv)
	trust := []Anchor{{Cert: srv.Root, Source: SourcePolicy, Name: "root"}}
	bt := signWith(t, &Signer{Key: key, Chain: chain, Opts: Options{Level: LevelT, TSA: srv.URL + "/tsa", HTTP: hc}}, makePDF(1, false))
	bb := signWith(t, &Signer{Key: key, Chain: chain, Opts: Options{Level: LevelB}}, makePDF(1, false))
	// The CA records revocation times in whole seconds: for the order to be
	// provable the revocation must fall in a later second than the
	// time-stamp (a wait on the clock, not on another task).
	time.Sleep(time.Until(time.Now().Truncate(time.Second).Add(time.Second)))
	if err := srv.Revoke(context.Background(), fmt.Sprintf("%x", leaf.SerialNumber), "keyCompromise"); err != nil {
		t.Fatal(err)
	}
	later := func() time.Time { return time.Now().Add(time.Minute) }
	for _, tc := range []struct {
		file string
		ind  Indication
		sub  SubIndication
	}{{bt, TotalPassed, ""}, {bb, Indeterminate, RevokedNoPOE}} {
		rep, err := Verify(context.Background(), tc.file, VerifyOptions{Trust: trust, Online: true, HTTP: hc, Now: later})
		if err != nil {
			t.Fatal(err)
		}
		r := rep.Signatures[0]
		if r.Indication != tc.ind || r.SubIndication != tc.sub || r.Revocation != RevocationRevoked || r.RevokedAt == nil {
			t.Errorf("%s: %s/%s revocation %s at %v", tc.file, r.Indication, r.SubIndication, r.Revocation, r.RevokedAt)
		}
	}
}

func caClient(t *testing.T, srv *testenv.CA) *http.Client {
	t.Helper()
	pol, err := config.ReadPolicy(srv.Policy)
	if err != nil {
		t.Fatal(err)
	}
	hc, err := netclient.NewHTTPClient(pol, netclient.ClientOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return hc
}
