package trust

import (
	"bytes"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"os"
	"regexp"
	"slices"
	"testing"
	"time"

	"github.com/paraphe/paraphe/pdf"
)

// testdata/IS-2019-06-14.xml is a real trusted list: Iceland's, sequence
// number 13, issued 2019-06-14 by the Consumer Agency (Neytendastofa), as
// the European Commission's DSS keeps it among its test resources:
// repository esig/dss, path
// dss-tsl-validation/src/test/resources/lotlCache/IS.xml, commit
// e8f96a2a92e21f959c4d6048fb751fe407451f80. It is signed (XAdES, exclusive
// canonicalization, RSA SHA-256) by a certificate that expired in 2022.
const realList = "testdata/IS-2019-06-14.xml"

// realListSigner returns the certificate in the list's KeyInfo.
func realListSigner(t *testing.T, data []byte) *x509.Certificate {
	t.Helper()
	m := regexp.MustCompile(`<ds:X509Certificate>([^<]*)</ds:X509Certificate>`).FindSubmatch(data)
	der, err := base64.StdEncoding.DecodeString(string(m[1]))
	if err != nil {
		t.Fatal(err)
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

var realListTime = time.Date(2019, 6, 20, 0, 0, 0, 0, time.UTC)

func TestRealList(t *testing.T) {
	data, err := os.ReadFile(realList)
	if err != nil {
		t.Fatal(err)
	}
	signer := realListSigner(t, data)
	if signer.Subject.Organization[0] != "Neytendastofa" {
		t.Fatalf("signer %s", signer.Subject)
	}
	v, err := verifyList(data, []*x509.Certificate{signer}, realListTime)
	if err != nil {
		t.Fatal(err)
	}
	if !v.signer.Equal(signer) {
		t.Error("signer")
	}
	var anchors []pdf.Anchor
	l, err := parseList(v.content(), func(tsp *trustServiceProvider) {
		a, errs := providerAnchors("IS", tsp)
		if len(errs) > 0 {
			t.Error(errs)
		}
		anchors = append(anchors, a...)
	})
	if err != nil {
		t.Fatal(err)
	}
	if l.Territory != "IS" || l.Sequence != 13 || l.Operator != "The Consumer Agency" ||
		!l.Issued.Equal(time.Date(2019, 6, 14, 1, 0, 0, 0, time.UTC)) || !l.NextUpdate.Equal(time.Date(2019, 12, 14, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("scheme information %+v", l)
	}
	if len(l.Pointers) != 1 {
		t.Fatalf("%d pointers", len(l.Pointers))
	}
	p := l.Pointers[0]
	if p.Territory != "EU" || p.Type != tslTypeLOTL || p.MimeType != mimeTSLXML || len(p.Signers) != 8 ||
		p.Location != "https://ec.europa.eu/information_society/policy/esignature/trusted-list/tl-mp.xml" {
		t.Errorf("pointer %+v", p)
	}
	if n := nationalPointers(l); len(n) != 0 {
		t.Errorf("a national list points to %d national lists", len(n))
	}

	// One CA/QC service, with two certificates; under supervision since
	// 2009, granted since eIDAS: one qualified period. The OCSP services
	// are no anchors.
	if len(anchors) != 2 {
		t.Fatalf("%d anchors, want 2", len(anchors))
	}
	since := time.Date(2009, 5, 5, 12, 0, 0, 0, time.UTC)
	for _, a := range anchors {
		if a.Name != "Fulltgilt audkenni (Audkenni ehf.)" || a.Country != "IS" || a.Usage != pdf.UsageSignatures ||
			a.Cert.Subject.CommonName != "Fullgilt audkenni" || len(a.Periods) != 1 ||
			!a.Periods[0].From.Equal(since) || !a.Periods[0].To.IsZero() || !a.Periods[0].Qualified {
			t.Errorf("anchor %s %+v", a.Name, a.Periods)
		}
	}
	if anchors[0].Cert.Equal(anchors[1].Cert) {
		t.Error("the same certificate twice")
	}
}

func TestRealListRefused(t *testing.T) {
	data, err := os.ReadFile(realList)
	if err != nil {
		t.Fatal(err)
	}
	signer := realListSigner(t, data)

	// Its signer has expired since.
	_, err = verifyList(data, []*x509.Certificate{signer}, time.Date(2023, 1, 1, 0, 0, 0, 0, time.UTC))
	wantProblem(t, err, SigSignerExpired)

	// It is not signed by the certificates of the LOTL.
	_, err = verifyList(data, OfficialJournalPins(), realListTime)
	se := wantProblem(t, err, SigUntrustedSigner)
	if !se.Signer.Equal(signer) {
		t.Error("untrusted signer not named")
	}

	// One byte changed, anywhere in the list: in a certificate, in a
	// date, in the status of a service, in the XAdES signed properties.
	for _, from := range []string{"MIIFfDCCA2SgAwIBAgICAMww", "2016-06-30T22:00:00Z", "Svcstatus/withdrawn", "2019-06-18T09:24:48Z"} {
		i := bytes.Index(data, []byte(from))
		altered := bytes.Clone(data)
		altered[i+len(from)-2] ^= 1
		_, err := verifyList(altered, []*x509.Certificate{signer}, realListTime)
		wantProblem(t, err, SigAltered)
	}
	// The signature value itself.
	i := bytes.Index(data, []byte(`<ds:SignatureValue`))
	i = bytes.IndexByte(data[i:], '>') + i + 10
	altered := bytes.Clone(data)
	altered[i] ^= 1
	_, err = verifyList(altered, []*x509.Certificate{signer}, realListTime)
	wantProblem(t, err, SigInvalid)
}

// The embedded pins are the certificates of OJ C 276 of 2019: the same as
// the real list's pointer to the LOTL names, with the SHA-256 iText
// publishes for them (itext/itext-java,
// sign/src/main/java/com/itextpdf/signatures/validation/lotl/Certificates2019C27601.java,
// commit 648b47f9257e2ab3d70f7da191d06a3322aadd88).
func TestOfficialJournalPins(t *testing.T) {
	itext := []string{
		"VACrcSxBqvDEC1BeJk1UlNivQYD49ilV0WIjsykPl8M=", "nBo7ZG6vEyOY7zGeQcjn7XJbZNV3JYCuEl1ZwPaEVjA=",
		"WaG/KQuBixd61hrEs+bc3dRtptW+lXn4VkrepvLPBz4=", "jlCPA7EyUAw0A9tm6d05zXj0ZXyECVinfTTnvWIUaOc=",
		"waN9tIzV4Eebl/TeMuOnRwxSqvuUwWVu9W+XUDmSyKc=", "0gZP3XD2mC3MUWuG2dXFauqTlBfGJLLkeMCyneVPhHQ=",
		"Q1UEv9gC7fTbCMvXx3KaDUWyJ3l7cn5ObqHTFoQWY0I=", "zNh5s2u1U2hb7L0SkBx/Qfe9Pgf4mPy74e7EVrA9dYk=",
	}
	pins := OfficialJournalPins()
	if len(pins) != len(itext) {
		t.Fatalf("%d pins", len(pins))
	}
	for _, c := range pins {
		sum := sha256.Sum256(c.Raw)
		if !slices.Contains(itext, base64.StdEncoding.EncodeToString(sum[:])) {
			t.Errorf("%s is not in OJ C 276", c.Subject)
		}
	}
	data, err := os.ReadFile(realList)
	if err != nil {
		t.Fatal(err)
	}
	v, err := verifyList(data, []*x509.Certificate{realListSigner(t, data)}, realListTime)
	if err != nil {
		t.Fatal(err)
	}
	l, err := parseList(v.content(), nil)
	if err != nil {
		t.Fatal(err)
	}
	for i, c := range l.Pointers[0].Signers {
		if !c.Equal(pins[i]) {
			t.Errorf("pin %d differs from the LOTL pointer of the real list", i)
		}
	}
}
