package verdict

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/paraphe/paraphe/internal/i18n"
	"github.com/paraphe/paraphe/pdf"
)

func certWith(t *testing.T, subject pkix.Name) *x509.Certificate {
	t.Helper()
	k, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(7), Subject: subject,
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &k.PublicKey, k)
	if err != nil {
		t.Fatal(err)
	}
	c, _ := x509.ParseCertificate(der)
	return c
}

func TestWho(t *testing.T) {
	title := pkix.AttributeTypeAndValue{Type: asn1.ObjectIdentifier{2, 5, 4, 12}, Value: "Notaire"}
	for _, tc := range []struct {
		subject pkix.Name
		lang    string
		want    string
	}{
		{pkix.Name{CommonName: "Marie Dupont", SerialNumber: "75-1234", Organization: []string{"Chambre des notaires de Paris"},
			ExtraNames: []pkix.AttributeTypeAndValue{title}}, "en", "Marie Dupont, Notaire, member no. 75-1234, Chambre des notaires de Paris"},
		{pkix.Name{CommonName: "Marie Dupont", ExtraNames: []pkix.AttributeTypeAndValue{title}}, "fr", "Marie Dupont, Notaire"},
		// No professional attributes: no empty placeholders, the country in words.
		{pkix.Name{CommonName: "FERREIRA Ricardo", SerialNumber: "PNOPT-12345678", Country: []string{"PT"}}, "en", "FERREIRA Ricardo, Portugal"},
		{pkix.Name{CommonName: "FERREIRA Ricardo", Country: []string{"PT"}}, "it", "FERREIRA Ricardo, Portogallo"},
		{pkix.Name{Organization: []string{"Tribunal judiciaire de Lyon"}, Country: []string{"FR"}}, "fr", "Tribunal judiciaire de Lyon, France"},
		// Any subject names its holder somehow: a pseudonym, an address.
		{pkix.Name{ExtraNames: []pkix.AttributeTypeAndValue{{Type: asn1.ObjectIdentifier{2, 5, 4, 65}, Value: "Notaire 75"}}}, "en", "Notaire 75"},
		{pkix.Name{ExtraNames: []pkix.AttributeTypeAndValue{{Type: asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 1}, Value: "m.dupont@example.org"}},
			Country: []string{"FR"}}, "fr", "m.dupont@example.org, France"},
		{pkix.Name{}, "en", "a holder without a name"},
	} {
		if got := Who(i18n.New(tc.lang), certWith(t, tc.subject)); got != tc.want {
			t.Errorf("%v (%s): %q, want %q", tc.subject, tc.lang, got, tc.want)
		}
	}
}

// TestNoRawKeys renders every verdict the verifier can give, in every
// language, and fails on a catalogue key or an empty placeholder shown to
// the user.
func TestNoRawKeys(t *testing.T) {
	cert := certWith(t, pkix.Name{CommonName: "FERREIRA Ricardo", Country: []string{"PT"}})
	now := time.Now()
	var reports []pdf.SignatureReport
	base := pdf.SignatureReport{Field: "Signature1", Certificate: cert, Intact: true, ClaimedTime: &now, Revocation: pdf.RevocationNotChecked,
		Reason: "Acte de vente", Location: "Paris"}
	for _, kind := range []pdf.Kind{pdf.KindSignature, pdf.KindDocumentTimestamp} {
		for _, ind := range []pdf.Indication{pdf.TotalPassed, pdf.Indeterminate, pdf.TotalFailed} {
			for _, sub := range append([]pdf.SubIndication{""}, pdf.SubIndications...) {
				r := base
				r.Kind, r.Indication, r.SubIndication = kind, ind, sub
				r.Intact = sub != pdf.HashFailure && sub != pdf.SigCryptoFailure
				reports = append(reports, r)
			}
		}
	}
	for _, p := range pdf.Problems {
		r := base
		r.Indication, r.SubIndication, r.Problems, r.Intact = pdf.TotalFailed, pdf.FormatFailure, []pdf.Problem{p}, false
		reports = append(reports, r)
		r.Indication, r.Intact = pdf.TotalPassed, true
		reports = append(reports, r)
	}
	for _, tp := range pdf.TrustProblems {
		r := base
		r.Indication, r.SubIndication, r.TrustProblem = pdf.Indeterminate, pdf.NoCertificateChainFound, tp
		reports = append(reports, r)
	}
	for _, src := range append(pdf.AnchorSources, SourceDemo) {
		r := base
		r.Indication, r.Trusted, r.TrustSource, r.TrustAnchor = pdf.TotalPassed, true, src, "Root CA"
		reports = append(reports, r)
		r.Qualified = true
		reports = append(reports, r)
	}
	for _, rev := range pdf.Revocations {
		r := base
		r.Indication, r.Revocation = pdf.TotalPassed, rev
		reports = append(reports, r)
		r.RevokedAt = &now
		reports = append(reports, r)
	}
	r := base
	r.Indication, r.ExpiredSince, r.ProofTime, r.TimestampTime, r.Weak = pdf.TotalPassed, true, &now, &now, []string{"SHA-1"}
	r.Changes, r.Level = []string{pdf.ChangeSignature, pdf.ChangeFormField + ":Name", pdf.ChangeContent}, pdf.LevelLTA
	reports = append(reports, r)
	r.ModifiedAfter = true
	reports = append(reports, r)
	for _, lang := range []string{"en", "fr", "it"} {
		for _, variant := range []string{"", "gui"} {
			p := i18n.NewVariant(lang, variant)
			for _, rep := range reports {
				state, lines := Signature(p, rep)
				text := state + "\n" + strings.Join(lines, "\n")
				// A document of this one signature, and of two.
				for _, sigs := range [][]pdf.SignatureReport{{rep}, {rep, base}} {
					sum, _ := Summary(p, sigs)
					text += "\n" + sum
				}
				for _, bad := range []string{"verify.", "<no value>", ", ,", "()", ": .", "{{", "  "} {
					if strings.Contains(text, bad) {
						t.Errorf("%s %+v: %q in\n%s", lang, rep, bad, text)
					}
				}
			}
		}
	}
}

// The line for the whole document names the worst of its signatures, and
// the demo CA's as a demo's.
func TestSummary(t *testing.T) {
	p := i18n.New("en")
	valid := pdf.SignatureReport{Indication: pdf.TotalPassed, Trusted: true, TrustSource: pdf.SourcePolicy}
	demo := valid
	demo.TrustSource = SourceDemo
	untrusted := pdf.SignatureReport{Indication: pdf.Indeterminate, SubIndication: pdf.NoCertificateChainFound}
	broken := pdf.SignatureReport{Indication: pdf.TotalFailed, SubIndication: pdf.HashFailure}
	modified := pdf.SignatureReport{Indication: pdf.TotalFailed, ModifiedAfter: true, Problems: []pdf.Problem{pdf.ProblemModified}}
	for _, tc := range []struct {
		sigs     []pdf.SignatureReport
		want     string
		severity Severity
	}{
		{[]pdf.SignatureReport{valid}, "The signature is valid.", Passed},
		{[]pdf.SignatureReport{valid, valid}, "All 2 signatures are valid.", Passed},
		{[]pdf.SignatureReport{demo}, "The signature is valid, but made with a demo certificate", Passed},
		{[]pdf.SignatureReport{valid, untrusted, valid}, "Signatures not confirmed: 1 of 3.", Undecided},
		{[]pdf.SignatureReport{untrusted, broken}, "Signatures not valid: 1 of 2", Failed},
		{[]pdf.SignatureReport{valid, modified}, "The document was changed after it was signed", Failed},
	} {
		got, severity := Summary(p, tc.sigs)
		if !strings.HasPrefix(got, tc.want) || severity != tc.severity {
			t.Errorf("%d signatures: %q (%d), want %q (%d)", len(tc.sigs), got, severity, tc.want, tc.severity)
		}
	}
	_, lines := Signature(p, demo)
	if text := strings.Join(lines, "\n"); strings.Contains(text, "Trusted") || !strings.Contains(text, "Paraphe's demo certification authority") {
		t.Errorf("the demo CA's signature:\n%s", text)
	}
}
