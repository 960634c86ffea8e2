package pdf

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"testing"

	"github.com/paraphe/paraphe/ca"
	"github.com/paraphe/paraphe/internal/testenv"
)

// A certificate presented now: trusted through the CA's root named by
// fingerprint or given as an anchor, good by the CA's OCSP responder
// until the CA revokes it; unknown to a verifier trusting another root.
func TestVerifyCertificate(t *testing.T) {
	srv, _, chain, hc := caPKI(t)
	fp := sha256.Sum256(srv.Root.Raw)
	ctx := context.Background()
	for name, o := range map[string]VerifyOptions{
		"fingerprint": {Anchors: [][]byte{fp[:]}, Online: true, HTTP: hc},
		"anchor":      {Trust: []Anchor{{Cert: srv.Root, Source: SourceBundle, Name: "portal CAs"}}, Online: true, HTTP: hc},
	} {
		rep := VerifyCertificate(ctx, chain[0], chain[1:], o)
		if !rep.Trusted || len(rep.Chain) != 3 || rep.Revocation != RevocationGood || rep.RevocationSrc != RevocationOnline {
			t.Fatalf("%s: %+v", name, rep)
		}
	}
	offline := VerifyCertificate(ctx, chain[0], chain[1:], VerifyOptions{Anchors: [][]byte{fp[:]}})
	if !offline.Trusted || offline.Revocation != RevocationNotChecked {
		t.Fatalf("offline: %+v", offline)
	}
	other := testenv.StartCA(t, ca.InitOptions{})
	ofp := sha256.Sum256(other.Root.Raw)
	if rep := VerifyCertificate(ctx, chain[0], chain[1:], VerifyOptions{Anchors: [][]byte{ofp[:]}, Online: true, HTTP: hc}); rep.Trusted || rep.TrustProblem != TrustUnknownAuthority || rep.Revocation != RevocationNotChecked {
		t.Fatalf("another CA's root: %+v", rep)
	}
	// Its own self-signed copy of the issuer does not make it trusted.
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	stranger := other.Issue(t, key)
	if rep := VerifyCertificate(ctx, stranger, []*x509.Certificate{srv.Issuer, srv.Root}, VerifyOptions{Anchors: [][]byte{fp[:]}}); rep.Trusted {
		t.Fatalf("another CA's holder: %+v", rep)
	}
	if err := srv.Revoke(ctx, ca.SerialOf(chain[0]), "keyCompromise"); err != nil {
		t.Fatal(err)
	}
	if rep := VerifyCertificate(ctx, chain[0], chain[1:], VerifyOptions{Anchors: [][]byte{fp[:]}, Online: true, HTTP: hc}); !rep.Trusted || rep.Revocation != RevocationRevoked || rep.RevokedAt == nil {
		t.Fatalf("revoked: %+v", rep)
	}
}
