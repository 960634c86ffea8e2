package pdf

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"testing"
	"time"
)

// TestOneCertificateSeveralAnchors: a trusted list may name one
// certificate for several services — a provider's root under its CA/QC
// service and under its TSA/QTST service, or under two CA/QC services with
// their own histories. Each anchor counts for its own usage and periods; the
// first one must not hide the others.
func TestOneCertificateSeveralAnchors(t *testing.T) {
	rk, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	lk, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tk, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	root := issueCert(t, &x509.Certificate{Subject: pkix.Name{CommonName: "QTSP Root"}, IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign}, nil, &rk.PublicKey, rk)
	leaf := issueCert(t, &x509.Certificate{Subject: pkix.Name{CommonName: "Anna Rossi"}, KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageEmailProtection}}, root, &lk.PublicKey, rk)
	tsu := issueCert(t, &x509.Certificate{Subject: pkix.Name{CommonName: "QTSP TSU"}, KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageTimeStamping}}, root, &tk.PublicKey, rk)
	tsa := tsaServer(t, tsu, tk, time.Time{})
	file := signWith(t, &Signer{Key: lk, Chain: []*x509.Certificate{leaf, root}, Opts: Options{Level: LevelT, TSA: tsa.URL, HTTP: tsa.Client()}},
		makePDF(1, false))
	long := time.Now().AddDate(-5, 0, 0)
	withdrawn := Period{From: long, To: long.AddDate(1, 0, 0), Qualified: true} // an older service, withdrawn since
	granted := Period{From: long.AddDate(2, 0, 0), Qualified: true}
	cases := map[string][]Anchor{
		"CA/QC then TSA/QTST": {
			{Cert: root, Source: SourceTrustedList, Name: "CA", Usage: UsageSignatures, Periods: []Period{granted}},
			{Cert: root, Source: SourceTrustedList, Name: "TSA", Usage: UsageTimestamps, Periods: []Period{{From: long}}}},
		"TSA/QTST then CA/QC": {
			{Cert: root, Source: SourceTrustedList, Name: "TSA", Usage: UsageTimestamps, Periods: []Period{{From: long}}},
			{Cert: root, Source: SourceTrustedList, Name: "CA", Usage: UsageSignatures, Periods: []Period{granted}}},
		"a withdrawn CA/QC, then a granted one": {
			{Cert: root, Source: SourceTrustedList, Name: "old CA", Usage: UsageSignatures, Periods: []Period{withdrawn}},
			{Cert: root, Source: SourceTrustedList, Name: "TSA", Usage: UsageTimestamps, Periods: []Period{{From: long}}},
			{Cert: root, Source: SourceTrustedList, Name: "CA", Usage: UsageSignatures, Periods: []Period{granted}}},
	}
	for name, trust := range cases {
		t.Run(name, func(t *testing.T) {
			r := verifySingle(t, file, VerifyOptions{Trust: trust})
			if !r.Valid() || r.TimestampTime == nil || !r.Trusted || r.TrustAnchor != "CA" {
				t.Fatalf("%s/%s trusted %v by %q, time-stamp %v, problems %v", r.Indication, r.SubIndication, r.Trusted, r.TrustAnchor,
					r.TimestampTime, r.Problems)
			}
		})
	}
}
