package ca

import (
	"crypto"
	"crypto/x509/pkix"
	"encoding/asn1"
	"errors"
	"math/big"
	"testing"
	"time"

	"golang.org/x/crypto/ocsp"
)

// ocspRequest is the OCSP request as encoding/asn1 reads it: the tests
// build requests with it, and check the responder's own reader against
// it (FuzzOCSPRequest).
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

// withNonce returns the OCSP request der with a nonce extension holding
// value (as extnValue, already encoded).
func withNonce(t testing.TB, der, value []byte) []byte {
	t.Helper()
	var q ocspRequest
	if _, err := asn1.Unmarshal(der, &q); err != nil {
		t.Fatal(err)
	}
	q.TBS.Extensions = []pkix.Extension{{Id: oidOCSPNonce, Value: value}}
	out, err := asn1.Marshal(q)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func octets(t testing.TB, b []byte) []byte {
	der, err := asn1.Marshal(b)
	if err != nil {
		t.Fatal(err)
	}
	return der
}

func TestOCSPRequests(t *testing.T) {
	a := newCA(t, InitOptions{})
	leaf, err := activate(t, a, mustEnroll(t, a), p256(t))
	if err != nil {
		t.Fatal(err)
	}
	plain, err := ocsp.CreateRequest(leaf, a.Issuer, &ocsp.RequestOptions{Hash: crypto.SHA256})
	if err != nil {
		t.Fatal(err)
	}
	big := make([]byte, 129)
	for _, tt := range []struct {
		name      string
		req       []byte
		malformed bool
		nonce     []byte // extnValue the reply must carry
	}{
		{"no nonce", plain, false, nil},
		{"32-octet nonce", withNonce(t, plain, octets(t, make([]byte, 32))), false, octets(t, make([]byte, 32))},
		{"128-octet nonce", withNonce(t, plain, octets(t, big[:128])), false, octets(t, big[:128])},
		{"bare nonce of an older client", withNonce(t, plain, []byte("0123456789abcdef")), false, []byte("0123456789abcdef")},
		{"empty nonce", withNonce(t, plain, octets(t, nil)), true, nil},
		{"129-octet nonce", withNonce(t, plain, octets(t, big)), true, nil},
		{"garbage", []byte("not DER"), true, nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			reply, err := a.OCSP(tt.req, time.Now())
			if tt.malformed {
				if !errors.Is(err, errOCSPMalformed) {
					t.Fatalf("got %v, want a malformed request", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			resp, err := ocsp.ParseResponseForCert(reply, leaf, a.Issuer)
			if err != nil || resp.Status != ocsp.Good {
				t.Fatalf("reply %+v %v", resp, err)
			}
			// x/crypto/ocsp keeps no responseExtensions: read them here.
			data := ocspDataOf(t, reply)
			var got []byte
			for _, e := range data.Extensions {
				if e.Id.Equal(oidOCSPNonce) {
					got = e.Value
				}
			}
			if string(got) != string(tt.nonce) {
				t.Fatalf("nonce %x, want %x", got, tt.nonce)
			}
		})
	}
	// Another CA's certificate (here: the issuing CA asked about under
	// the root) is unknown.
	other, _ := ocsp.CreateRequest(a.Issuer, a.Root, nil)
	reply, err := a.OCSP(other, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if resp, err := ocsp.ParseResponse(reply, a.Issuer); err != nil || resp.Status != ocsp.Unknown {
		t.Fatalf("another CA's certificate: %+v %v", resp, err)
	}
}

func mustEnroll(t testing.TB, a *Authority) string {
	t.Helper()
	ref, err := a.Enroll(t.Context(), holder())
	if err != nil {
		t.Fatal(err)
	}
	return ref
}
