package trust

import (
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/paraphe/paraphe/trust/tltest"
)

// fuzzKey signs the fuzz seeds, so that saved inputs still verify in later
// runs. A test key, nothing else.
const fuzzKey = `-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgS4Lt96qgDZw/sE4m
45Xz/VSAiDfRL8PsLHmJOhqhjKmhRANCAARjHrxFu8Ra/gIQTjil/NqyBcIqQf8I
s2F1VV063X3WNt2xrQ/CO1uQYLQJ7leE0FukbW5FUELcyOgyEY+XZJQj
-----END PRIVATE KEY-----
`

// summary is what a verified list says, as the rest of the package reads
// it.
func summary(t testing.TB, v *verified) string {
	var b strings.Builder
	l, err := parseList(v.content(), func(tsp *trustServiceProvider) {
		anchors, errs := providerAnchors("FR", tsp)
		for _, a := range anchors {
			fmt.Fprintf(&b, "%s|%x|%d|%v\n", a.Name, a.Cert.Raw[:8], a.Usage, a.Periods)
		}
		fmt.Fprintf(&b, "%d errors\n", len(errs))
	})
	if err != nil {
		return "error " + err.Error()
	}
	fmt.Fprintf(&b, "%s %d %s %s %v", l.Territory, l.Sequence, l.Issued, l.NextUpdate, l.Pointers)
	return b.String()
}

// FuzzVerifyList: whatever the input, no panic; and an input that verifies
// under the key that signed the seeds reads exactly as they do (XML
// syntax may change, never what the list says). The seeds are small on
// purpose: the fuzzer minimizes every new input, which for a list of tens
// of KiB takes minutes.
func FuzzVerifyList(f *testing.F) {
	block, _ := pem.Decode([]byte(fuzzKey))
	k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		f.Fatal(err)
	}
	signer := &tltest.Signer{Key: k.(*ecdsa.PrivateKey), Cert: fuzzCert(f, k.(*ecdsa.PrivateKey))}
	// What the list says must not change from run to run: its service
	// certificate is a file of testdata.
	ca, err := ReadFile("testdata/example-ca.pem")
	if err != nil {
		f.Fatal(err)
	}
	l := frList(tltest.Service{Type: tltest.CAQC, Name: "Fuzz CA", Status: tltest.Withdrawn, Start: t2020,
		Certs: ca, History: []tltest.History{{Status: tltest.Granted, Start: t2016}}})
	l.Issued, l.NextUpdate = t2024, t2024.AddDate(0, 6, 0)
	seed := signer.Sign(f, l.XML())
	want, err := verifyList(seed, []*x509.Certificate{signer.Cert}, time.Now())
	if err != nil {
		f.Fatal(err)
	}
	wantSummary := summary(f, want)
	f.Add(seed)
	f.Add(signer.SignWith(f, l.XML(), tltest.SignOptions{C14N: tltest.C14N10}))
	f.Fuzz(func(t *testing.T, data []byte) {
		v, err := verifyList(data, []*x509.Certificate{signer.Cert}, time.Now())
		if err != nil {
			return
		}
		if got := summary(t, v); got != wantSummary {
			t.Fatalf("a list verifies and says something else:\n%s\nwant\n%s", got, wantSummary)
		}
	})
}

// fuzzCert is a certificate for the fuzz key (only its key matters).
func fuzzCert(t testing.TB, key *ecdsa.PrivateKey) *x509.Certificate {
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().AddDate(1, 0, 0)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		t.Fatal(err)
	}
	c, _ := x509.ParseCertificate(der)
	return c
}
