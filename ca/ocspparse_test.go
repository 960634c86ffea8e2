package ca

import (
	"bytes"
	"crypto"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"math/big"
	"testing"

	"golang.org/x/crypto/ocsp"
)

// parsedRequest is what a reader makes of an OCSP request: the CertIDs
// (as sent), what each says, the nonce as the answer echoes it; or that
// it is malformed.
type parsedRequest struct {
	malformed bool
	ids       [][]byte
	hashes    []crypto.Hash
	names     [][]byte
	keys      [][]byte
	serials   []string
	nonce     []byte // the extension's extnValue; nil: none
}

// byCryptobyte is the responder's reading (parseOCSPRequest, parseCertID).
func byCryptobyte(der []byte) parsedRequest {
	ids, nonce, err := parseOCSPRequest(der)
	if err != nil {
		return parsedRequest{malformed: true}
	}
	p := parsedRequest{ids: ids}
	if nonce != nil {
		p.nonce = nonce.Value
	}
	for _, raw := range ids {
		id, err := parseCertID(raw)
		if err != nil {
			return parsedRequest{malformed: true}
		}
		p.hashes, p.names, p.keys = append(p.hashes, id.hash), append(p.names, id.name), append(p.keys, id.key)
		p.serials = append(p.serials, serialHex(id.serial))
	}
	return p
}

// byReflection is the same reading with encoding/asn1, as the responder
// read requests before: the reference the fuzzer checks it against.
func byReflection(der []byte) parsedRequest {
	var q ocspRequest
	rest, err := asn1.Unmarshal(der, &q)
	if err != nil || len(rest) > 0 || len(q.TBS.RequestList) == 0 || len(q.TBS.RequestList) > maxOCSPCerts {
		return parsedRequest{malformed: true}
	}
	var p parsedRequest
	for _, e := range q.TBS.Extensions {
		if !e.Id.Equal(oidOCSPNonce) {
			continue
		}
		n := e.Value
		var inner []byte
		if rest, err := asn1.Unmarshal(e.Value, &inner); err == nil && len(rest) == 0 {
			n = inner
		}
		if len(n) == 0 || len(n) > maxNonce {
			return parsedRequest{malformed: true}
		}
		p.nonce = e.Value
	}
	for _, r := range q.TBS.RequestList {
		var id ocspCertID
		if rest, err := asn1.Unmarshal(r.CertID.FullBytes, &id); err != nil || len(rest) > 0 || id.Serial == nil {
			return parsedRequest{malformed: true}
		}
		p.ids = append(p.ids, r.CertID.FullBytes)
		p.hashes = append(p.hashes, ocspHashes[id.HashAlgorithm.Algorithm.String()])
		p.names, p.keys = append(p.names, id.NameHash), append(p.keys, id.KeyHash)
		p.serials = append(p.serials, serialHex(id.Serial))
	}
	return p
}

func (p parsedRequest) equal(o parsedRequest) bool {
	eq := func(a, b [][]byte) bool {
		if len(a) != len(b) {
			return false
		}
		for i := range a {
			if !bytes.Equal(a[i], b[i]) {
				return false
			}
		}
		return true
	}
	if p.malformed || o.malformed {
		return p.malformed == o.malformed
	}
	if len(p.hashes) != len(o.hashes) || len(p.serials) != len(o.serials) || !bytes.Equal(p.nonce, o.nonce) || (p.nonce == nil) != (o.nonce == nil) {
		return false
	}
	for i := range p.hashes {
		if p.hashes[i] != o.hashes[i] || p.serials[i] != o.serials[i] {
			return false
		}
	}
	return eq(p.ids, o.ids) && eq(p.names, o.names) && eq(p.keys, o.keys)
}

// ocspSeeds are requests as x/crypto/ocsp writes them (SHA-1 and
// SHA-256 CertIDs), with nonces, several certificates, a requestor name,
// a version said, a signature, and broken ones.
func ocspSeeds(t testing.TB) [][]byte {
	issuer, leaf := seedCerts(t)
	var seeds [][]byte
	for _, h := range []crypto.Hash{crypto.SHA1, crypto.SHA256, crypto.SHA384, crypto.SHA512} {
		der, err := ocsp.CreateRequest(leaf, issuer, &ocsp.RequestOptions{Hash: h})
		if err != nil {
			t.Fatal(err)
		}
		seeds = append(seeds, der, withNonce(t, der, octets(t, []byte("0123456789abcdef"))), withNonce(t, der, []byte("bare")),
			withNonce(t, der, octets(t, nil)), der[:len(der)-1], append(der, 0))
	}
	var q ocspRequest
	if _, err := asn1.Unmarshal(seeds[0], &q); err != nil {
		t.Fatal(err)
	}
	q.TBS.Version = 1
	q.TBS.RequestorName = asn1.RawValue{Class: asn1.ClassContextSpecific, Tag: 2, Bytes: []byte("requestor")}
	q.TBS.RequestList = append(q.TBS.RequestList, q.TBS.RequestList[0], q.TBS.RequestList[0])
	q.TBS.RequestList[1].Extensions = []pkix.Extension{{Id: asn1.ObjectIdentifier{1, 2, 3}, Critical: true, Value: []byte{5, 0}}}
	q.Signature = asn1.RawValue{Class: asn1.ClassUniversal, Tag: asn1.TagSequence, IsCompound: true, Bytes: []byte{5, 0}}
	more, err := asn1.Marshal(q)
	if err != nil {
		t.Fatal(err)
	}
	return append(seeds, more)
}

// seedCerts are an issuer and a certificate of its, for x/crypto/ocsp to
// ask about (only their names, keys and serial matter).
func seedCerts(t testing.TB) (*x509.Certificate, *x509.Certificate) {
	t.Helper()
	a := newCA(t, InitOptions{})
	leaf, err := activate(t, a, mustEnroll(t, a), p256(t))
	if err != nil {
		t.Fatal(err)
	}
	leaf.SerialNumber = new(big.Int).Lsh(big.NewInt(1), 150) // a long one
	return a.Issuer, leaf
}

// The responder's reader reads a request as encoding/asn1 does — the
// same CertIDs, serials, hashes and nonce — whenever it accepts one, and
// accepts every request real clients send (the seeds'); it is stricter
// than encoding/asn1, which ignores what follows the fields it knows
// inside a SEQUENCE (DER allows nothing there).
func FuzzOCSPRequest(f *testing.F) {
	seeds := ocspSeeds(f)
	for _, s := range seeds {
		f.Add(s)
	}
	for _, s := range seeds {
		if want := byReflection(s); !want.malformed && byCryptobyte(s).malformed {
			f.Fatalf("a request encoding/asn1 reads (%+v) is malformed to the responder: % x", want, s)
		}
	}
	f.Fuzz(func(t *testing.T, der []byte) {
		got := byCryptobyte(der)
		if got.malformed {
			return
		}
		if want := byReflection(der); !got.equal(want) {
			t.Fatalf("cryptobyte read %+v, encoding/asn1 %+v", got, want)
		}
	})
}
