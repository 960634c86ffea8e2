package ca

import (
	"bytes"
	"crypto"
	"crypto/sha1"
	"crypto/x509"
	"encoding/asn1"
	"os"
	"path/filepath"
	"testing"
	"time"

	"golang.org/x/crypto/ocsp"
)

// ocspDataOf reads the ResponseData of an OCSP reply.
func ocspDataOf(t testing.TB, reply []byte) ocspData {
	t.Helper()
	var r ocspResponse
	var basic ocspBasic
	var data ocspData
	if _, err := asn1.Unmarshal(reply, &r); err != nil {
		t.Fatal(err)
	}
	if _, err := asn1.Unmarshal(r.Bytes.Response, &basic); err != nil {
		t.Fatal(err)
	}
	if _, err := asn1.Unmarshal(basic.Data.FullBytes, &data); err != nil {
		t.Fatal(err)
	}
	return data
}

// The answers are signed by a delegated responder the issuing CA
// certified (RFC 6960 §4.2.2.2), named by its key, its certificate in the
// answer: one that validators do not check for revocation.
func TestOCSPDelegatedResponder(t *testing.T) {
	a := newCA(t, InitOptions{})
	leaf, err := activate(t, a, mustEnroll(t, a), p256(t))
	if err != nil {
		t.Fatal(err)
	}
	req, _ := ocsp.CreateRequest(leaf, a.Issuer, nil)
	reply, err := a.OCSP(req, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	resp, err := ocsp.ParseResponseForCert(reply, leaf, a.Issuer)
	if err != nil || resp.Status != ocsp.Good {
		t.Fatalf("%+v %v", resp, err)
	}
	rc := resp.Certificate
	if rc == nil {
		t.Fatal("the answer carries no responder certificate: signed by the issuing CA itself")
	}
	if !rc.Equal(a.ResponderCert()) || rc.CheckSignatureFrom(a.Issuer) != nil {
		t.Fatal("the responder certificate is not the CA's, issued by the issuing CA")
	}
	if len(rc.ExtKeyUsage) != 1 || rc.ExtKeyUsage[0] != x509.ExtKeyUsageOCSPSigning || rc.KeyUsage != x509.KeyUsageDigitalSignature || rc.IsCA {
		t.Errorf("responder usages: EKU %v, KU %v, CA %v", rc.ExtKeyUsage, rc.KeyUsage, rc.IsCA)
	}
	nocheck := false
	for _, e := range rc.Extensions {
		nocheck = nocheck || e.Id.Equal(oidOCSPNoCheck)
	}
	if !nocheck {
		t.Error("the responder certificate has no id-pkix-ocsp-nocheck")
	}
	if life := rc.NotAfter.Sub(rc.NotBefore); life > responderValidity+time.Hour {
		t.Errorf("the responder certificate lives %v", life)
	}
	if publicKeysEqual(rc.PublicKey, a.Issuer.PublicKey) {
		t.Error("the responder signs with the issuing CA's key")
	}
	data := ocspDataOf(t, reply)
	var spki struct {
		Algorithm asn1.RawValue
		Key       asn1.BitString
	}
	asn1.Unmarshal(rc.RawSubjectPublicKeyInfo, &spki)
	want := sha1.Sum(spki.Key.RightAlign())
	var got []byte
	if data.ResponderID.Tag != 2 || mustUnmarshal(t, data.ResponderID.Bytes, &got) != nil || !bytes.Equal(got, want[:]) {
		t.Errorf("ResponderID tag %d %x: want byKey %x", data.ResponderID.Tag, data.ResponderID.Bytes, want)
	}
}

func mustUnmarshal(t *testing.T, der []byte, v any) error {
	t.Helper()
	rest, err := asn1.Unmarshal(der, v)
	if err == nil && len(rest) > 0 {
		t.Fatalf("%d bytes after the value", len(rest))
	}
	return err
}

// The server certifies the responder's key again once less than
// responderRenewal is left, and the next Open finds the new certificate.
func TestResponderRenewal(t *testing.T) {
	a := newCA(t, InitOptions{})
	first := a.ResponderCert()
	if renewed, err := a.renewResponder(time.Now()); err != nil || renewed {
		t.Fatalf("a new responder renewed: %v %v", renewed, err)
	}
	later := first.NotAfter.Add(-responderRenewal + time.Minute)
	renewed, err := a.renewResponder(later)
	if err != nil || !renewed {
		t.Fatalf("renewed %v, %v", renewed, err)
	}
	second := a.ResponderCert()
	if second.Equal(first) || !second.NotAfter.After(first.NotAfter) || !publicKeysEqual(second.PublicKey, first.PublicKey) {
		t.Fatalf("renewal: %v → %v", first.NotAfter, second.NotAfter)
	}
	b, err := Open(a.Dir)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if !b.ResponderCert().Equal(second) {
		t.Fatal("Open did not take the renewed responder certificate")
	}
}

// A CA folder made before responders: its issuing CA signs the answers
// until the server gives it a responder (at start).
func TestResponderForOlderFolder(t *testing.T) {
	a := newCA(t, InitOptions{})
	leaf, err := activate(t, a, mustEnroll(t, a), p256(t))
	if err != nil {
		t.Fatal(err)
	}
	a.Close()
	for _, f := range []string{fileOCSPCert, fileOCSPKey} {
		if err := os.Remove(filepath.Join(a.Dir, f)); err != nil {
			t.Fatal(err)
		}
	}
	b, err := Open(a.Dir)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	req, _ := ocsp.CreateRequest(leaf, b.Issuer, &ocsp.RequestOptions{Hash: crypto.SHA256})
	reply, err := b.OCSP(req, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if resp, err := ocsp.ParseResponseForCert(reply, leaf, b.Issuer); err != nil || resp.Certificate != nil || resp.Status != ocsp.Good {
		t.Fatalf("before a responder: %+v %v", resp, err)
	}
	if renewed, err := b.renewResponder(time.Now()); err != nil || !renewed {
		t.Fatalf("responder for an older folder: %v %v", renewed, err)
	}
	reply, err = b.OCSP(req, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if resp, err := ocsp.ParseResponseForCert(reply, leaf, b.Issuer); err != nil || resp.Certificate == nil {
		t.Fatalf("after: %+v %v", resp, err)
	}
	for _, f := range []string{fileOCSPCert, fileOCSPKey} {
		if fi, err := os.Stat(filepath.Join(a.Dir, f)); err != nil || (f == fileOCSPKey && fi.Mode().Perm() != 0o600) {
			t.Fatalf("%s: %v %v", f, fi, err)
		}
	}
}
